"""windhash_cli."""
