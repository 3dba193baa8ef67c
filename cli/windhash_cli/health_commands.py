"""`windhash health`, the Docker HEALTHCHECK of the one image: does its service answer /health?"""

import httpx
import typer
from windhash_common.settings import CommonSettings


def health(
    url: str | None = typer.Option(
        None, "--url", help="Ask this URL instead (the simulators: their own page)."
    ),
) -> None:
    """Exit 0 when the service answers 200 on /health: a worker on WINDHASH_METRICS_PORT, the API (no metrics
    port of its own) on WINDHASH_API_PORT; exit 1 otherwise."""
    if url is None:
        port = CommonSettings().metrics_port
        if not port:
            from windhash_api.settings import ApiSettings

            port = ApiSettings().api_port
        url = f"http://127.0.0.1:{port}/health"
    try:
        answered = httpx.get(url, timeout=4.0).status_code == 200
    except httpx.HTTPError as error:
        typer.echo(f"{url}: {error!r}", err=True)
        raise typer.Exit(1) from None
    if not answered:
        typer.echo(f"{url} did not answer 200", err=True)
        raise typer.Exit(1)
