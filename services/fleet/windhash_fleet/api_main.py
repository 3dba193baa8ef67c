"""`windhash fleet-api`: the fleet's HTTP app on `WINDHASH_FLEET_API_HOST:WINDHASH_FLEET_API_PORT` (8086),
behind the API (which forwards /api/v1/fleet/... to it: WINDHASH_API_UPSTREAMS), as the fleet's HTTP role."""

import uvicorn
from windhash_common.logging_setup import configure_logging

from windhash_fleet.http.app import create_fleet_app
from windhash_fleet.settings import FleetSettings


def run() -> None:
    settings = FleetSettings()
    configure_logging(settings.log_level, settings.log_json)
    # proxy_headers off: WINDHASH_API_TRUSTED_PROXIES (the API) decides whose X-Forwarded-For counts.
    uvicorn.run(
        create_fleet_app(settings),
        host=settings.fleet_api_host,
        port=settings.fleet_api_port,
        log_level="warning",
        proxy_headers=False,
        access_log=False,
    )
