"""`windhash fleet-api`: the fleet's HTTP app on `WINDHASH_FLEET_API_HOST:WINDHASH_FLEET_API_PORT` (8086),
behind the API (which forwards /api/v1/fleet/... to it: WINDHASH_API_UPSTREAMS), as the fleet's HTTP role."""

from windhash_common.access.service_server import service_server_config
from windhash_common.http_server import serve
from windhash_common.logging_setup import configure_logging

from windhash_fleet.http.app import create_fleet_app
from windhash_fleet.settings import FleetSettings


def run() -> None:
    settings = FleetSettings()
    configure_logging(settings.log_level, settings.log_json)
    # The API's guards (header deadline and size, connection cap), no banner, and X-Forwarded-For believed
    # only from WINDHASH_API_TRUSTED_PROXIES (the API).
    app = create_fleet_app(settings)
    serve(service_server_config(app, settings, settings.fleet_api_host, settings.fleet_api_port))
