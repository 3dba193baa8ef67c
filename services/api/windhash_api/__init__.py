"""windhash_api."""
