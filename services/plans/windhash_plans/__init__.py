"""windhash_plans: curtailment plans; decide, approve, execute on the miners, confirm, backtest."""
