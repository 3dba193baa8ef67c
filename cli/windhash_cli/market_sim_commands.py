"""`windhash market-sim`: the local explorer + price API server that serves deterministic synthetic data."""

import typer


def market_sim(
    port: int = typer.Option(18090, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    seed: int = typer.Option(2019, help="Seed of the synthetic data: the same seed serves the same data."),
) -> None:
    """Serve SYNTHETIC difficulty, hashrate, blocks, BTC prices and volume in the JSON of a mempool.space
    explorer and a CoinGecko price API, from 2019 to now."""
    from windhash_market_sim.server import serve

    typer.echo(
        f"synthetic market data on http://{host}:{port} (WINDHASH_EXPLORER_URL and WINDHASH_PRICE_API_URL)",
        err=True,
    )
    serve(host=host, port=port, seed=seed)
