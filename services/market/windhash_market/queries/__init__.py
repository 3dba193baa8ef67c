"""Named SQL of the market service, one module per subject."""
