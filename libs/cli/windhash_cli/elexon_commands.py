"""`windhash elexon-sim`: the local Elexon Insights API server that serves deterministic synthetic data."""

import typer


def elexon_sim(
    port: int = typer.Option(18080, help="Port to listen on (127.0.0.1)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    seed: int = typer.Option(2024, help="Seed of the synthetic data: the same seed serves the same data."),
    latency_ms: float = typer.Option(
        0.0, help="Delay added to every stack response, like a remote server's."
    ),
) -> None:
    """Serve SYNTHETIC Elexon settlement-stack and BM unit data in the real API's JSON shape."""
    from windhash_elexon_sim.server import serve

    typer.echo(
        f"synthetic Elexon API on http://{host}:{port}/bmrs/api/v1 (WINDHASH_ELEXON_BASE_URL)", err=True
    )
    serve(host=host, port=port, seed=seed, latency_s=latency_ms / 1000)
