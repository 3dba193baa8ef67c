"""`windhash ingestor|calculator|aggregator|reconciler|api`: run one service in this process until stopped."""


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


def reconciler() -> None:
    """Run the reconciler service: the daily self-check (revisions re-fetched, gaps repaired by replay)."""
    from windhash_common import event_loop
    from windhash_common.logging_setup import configure_logging
    from windhash_reconciler.main import serve_until_signalled
    from windhash_reconciler.settings import ReconcilerSettings

    from windhash_cli.reconciler_wiring import IngestorRefetcher

    settings = ReconcilerSettings()
    configure_logging(settings.log_level, settings.log_json)
    event_loop.run(serve_until_signalled(settings, IngestorRefetcher()))


def api() -> None:
    """Run the HTTP API and dashboard."""
    from windhash_api.main import run

    run()
