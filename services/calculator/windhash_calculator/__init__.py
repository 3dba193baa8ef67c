"""windhash_calculator."""
