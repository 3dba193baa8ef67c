"""windhash_stack."""
