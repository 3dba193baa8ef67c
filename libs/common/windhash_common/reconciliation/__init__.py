"""What every settlement day should hold at each stage and what it holds (`day_status`, `status_queries`):
the one definition of "complete" that the reconciler, `windhash reconcile status` and the API all report."""
