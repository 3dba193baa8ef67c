"""`windhash ingestor|calculator|aggregator|api`: run one service in this process until stopped."""


def ingestor() -> None:
    """Run the ingestor service (follow mode): poll Elexon and publish settlement-period events."""
    from windhash_ingestor.main import run

    run()


def calculator() -> None:
    """Run the calculator service: settlement-period events → curtailment records and bitcoin calculations."""
    from windhash_calculator.main import run

    run()


def aggregator() -> None:
    """Run the aggregator service: period-calculated events → daily, monthly and yearly summaries."""
    from windhash_aggregator.main import run

    run()


def api() -> None:
    """Run the HTTP API and dashboard."""
    from windhash_api.main import run

    run()
