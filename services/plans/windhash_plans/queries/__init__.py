"""The plans service's SQL, one module per subject."""
