"""windhash_ingestor."""
