"""`windhash elexon-sim`: the local Elexon Insights API server that serves deterministic synthetic data."""

from datetime import datetime

import typer


def elexon_sim(
    port: int = typer.Option(18080, help="Port to listen on (127.0.0.1)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    seed: int = typer.Option(2024, help="Seed of the synthetic data: the same seed serves the same data."),
    latency_ms: float = typer.Option(
        0.0, help="Delay added to every stack response, like a remote server's."
    ),
    prerender_from: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Render the bid stacks from this day on before listening."
    ),
    prerender_to: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Last day rendered ahead (with --prerender-from)."
    ),
) -> None:
    """Serve SYNTHETIC Elexon settlement-stack and BM unit data in the real API's JSON shape."""
    from windhash_elexon_sim.server import serve

    prerender = None
    if prerender_from is not None or prerender_to is not None:
        if prerender_from is None or prerender_to is None:
            raise typer.BadParameter("--prerender-from and --prerender-to go together")
        if prerender_from > prerender_to:
            raise typer.BadParameter("--prerender-from is after --prerender-to")
        prerender = (prerender_from.date(), prerender_to.date())
    typer.echo(
        f"synthetic Elexon API on http://{host}:{port}/bmrs/api/v1 (WINDHASH_ELEXON_BASE_URL)", err=True
    )
    serve(host=host, port=port, seed=seed, latency_s=latency_ms / 1000, prerender=prerender)
