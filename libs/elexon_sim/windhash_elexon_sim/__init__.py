"""windhash_elexon_sim."""
