"""Named SQL of the CRM, one module per table family; every function runs in its caller's transaction."""
