"""`windhash elexon-sim`: the local Elexon Insights API server that serves deterministic synthetic data."""

import typer


def elexon_sim(
    port: int = typer.Option(18080, help="Port to listen on (127.0.0.1)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
) -> None:
    """Serve synthetic Elexon settlement-stack and BM unit data in the real API's JSON shape."""
    from windhash_elexon_sim.server import serve

    serve(host=host, port=port)
