"""The summary tables' definition (`summary_tables`: one SQL query per table, from the facts) and the write
paths over it that the aggregator, reconciliation, the CLI and the test data all share: a day's recompute and
its roll-up to months and years (`recompute`), the check against the facts (`verify`) and the repair
(`rebuild`)."""
