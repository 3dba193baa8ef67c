"""Entry point: `python -m windhash_api.main` or `windhash_api.main.run()` serves the API with uvicorn."""

import uvicorn
from windhash_common.logging_setup import configure_logging

from windhash_api.app import create_app
from windhash_api.settings import ApiSettings


def run(settings: ApiSettings | None = None) -> None:
    settings = settings or ApiSettings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    run()
