"""The fleet's HTTP app as the authorization matrix and the API's forwarding reach it: connected as its own
database role, trusting the API on this machine as its proxy (as a deployment would)."""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_fleet.http.app import create_fleet_app
from windhash_fleet.settings import FleetSettings

CONTEXT = "fleet"
PREFIX = f"/api/v1/{CONTEXT}"
TOPIC_PREFIX = "fleet-http-test"


def fleet_settings(pg_dsn: str, overrides: Mapping[str, Any]) -> FleetSettings:
    defaults: dict[str, Any] = {
        "database_url": dsn_as(pg_dsn, DatabaseRole.FLEET_API),
        "api_trusted_proxies": ["127.0.0.1"],
        "topic_prefix": TOPIC_PREFIX,
    }
    return FleetSettings(**(defaults | dict(overrides)))


def create_fleet_test_app(pg_dsn: str, overrides: Mapping[str, Any]) -> FastAPI:
    return create_fleet_app(fleet_settings(pg_dsn, overrides))


# A value for each path parameter, and a body for each write route (the matrix cares about refusals only:
# a 404 or a 409 for a miner or site that is not there is an allowed answer).
PATH_VALUES = {"site_id": "1", "serial": "MATRIX-1", "name": "S21"}
BODIES: dict[str, Any] = {
    f"POST {PREFIX}/sites": {"name": "Matrix site", "location": "SYNTHETIC", "power_capacity_mw": "5"},
    f"PATCH {PREFIX}/sites/{{site_id}}": {"location": "SYNTHETIC, moved"},
    f"POST {PREFIX}/miners": {
        "serial_number": "MATRIX-1",
        "miner_model": "S21",
        "site_id": 1,
        "api_host": "127.9.9.9",
    },
    f"PATCH {PREFIX}/miners/{{serial}}": {"telemetry_enabled": False},
    f"POST {PREFIX}/miners/{{serial}}/move": {"site_id": 1},
    f"POST {PREFIX}/models": {
        "name": "MATRIX-M1",
        "manufacturer": "Synthetic",
        "hashrate_ths": "100",
        "power_w": "3000",
    },
    f"PATCH {PREFIX}/models/{{name}}": {"msrp_usd": "1999.00"},
}
