"""Settlement-period facts: the rows a snapshot becomes (`rows`), whether a message can be stored at all
(`event_checks`), the write path that applies snapshots (`write_path`) and its SQL (`store`); shared by the
calculator and reconciliation's replay."""
