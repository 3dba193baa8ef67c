"""`windhash plans-api`: the plans' HTTP app with uvicorn on WINDHASH_PLANS_API_HOST:PORT (8087), /metrics,
/health and /ready on the same port."""

import uvicorn
from windhash_common.logging_setup import configure_logging

from windhash_plans.http.app import create_plans_app
from windhash_plans.settings import PlansSettings


def run(settings: PlansSettings | None = None) -> None:
    settings = settings or PlansSettings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_plans_app(settings),
        host=settings.plans_api_host,
        port=settings.plans_api_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Whose X-Forwarded-For is believed is WINDHASH_API_TRUSTED_PROXIES's call (the API, in front).
        proxy_headers=False,
    )
