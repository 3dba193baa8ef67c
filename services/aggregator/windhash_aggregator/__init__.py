"""windhash_aggregator."""
