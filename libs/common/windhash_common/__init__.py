"""windhash_common."""
