"""Response models: what every endpoint returns, with units in the field names."""
