"""Entry point: `python -m windhash_api.main` or `windhash_api.main.run()` serves the API with uvicorn.

With WINDHASH_API_WORKERS > 1, uvicorn starts that many worker processes on the one port, each building
its app with `worker_app` (uvicorn needs an import string to start workers). The migrations run once, here,
before the workers start; each worker has its own pool, response cache and /metrics.
"""

import asyncio
import json
import os

import uvicorn
from fastapi import FastAPI
from windhash_common.db import migrate_database
from windhash_common.logging_setup import configure_logging

from windhash_api.app import create_app
from windhash_api.settings import ApiSettings

WORKER_APP = "windhash_api.main:worker_app"


def settings_environment(settings: ApiSettings) -> dict[str, str]:
    """The WINDHASH_* variables that make a fresh `ApiSettings()` equal `settings`: how worker processes
    (started by uvicorn, not by us) get the settings `run` was given."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    environment = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            environment[f"{prefix}{name}".upper()] = text
    return environment


def worker_app() -> FastAPI:
    """The app of one worker process; its settings come from the environment `run` prepared."""
    settings = ApiSettings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def run(settings: ApiSettings | None = None) -> None:
    settings = settings or ApiSettings()
    configure_logging(settings.log_level, settings.log_json)
    workers = max(1, settings.api_workers)
    app: FastAPI | str
    if workers > 1:
        if settings.migrate_on_start:
            asyncio.run(migrate_database(settings.database_url))
        os.environ.update(settings_environment(settings.model_copy(update={"migrate_on_start": False})))
        app = WORKER_APP
    else:
        app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        # Our logging as configured above (JSON lines with WINDHASH_LOG_JSON), not uvicorn's own handlers.
        log_config=None,
        access_log=False,
        # Whose X-Forwarded-For is believed is WINDHASH_API_TRUSTED_PROXIES's call (client_address.py), not
        # uvicorn's: left on, uvicorn would rewrite the peer from any local process's header first.
        proxy_headers=False,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
    )


if __name__ == "__main__":
    run()
