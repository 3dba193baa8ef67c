"""windhash reconciliation: what each settlement day should hold, why it does not, and repair by replay."""
