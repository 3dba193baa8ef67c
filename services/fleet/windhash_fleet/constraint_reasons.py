"""What a refused change means in words, by the constraint PostgreSQL named. The database does not say which
values collided on a table with row-level security (that could leak another client's row), so the constraint
is all there is to go on."""

import asyncpg

REASONS = {
    "hosting_miners_serial_number_key": "a miner with this serial number is already registered",
    "hosting_miners_address": "another miner in the fleet has this address (api_host, api_port)",
    "hosting_miners_miner_model_fkey": "no such miner model (see /api/v1/fleet/models)",
    "hosting_miners_site_id_fkey": "no such site",
    "hosting_miners_client_fk": "no such client organisation",
    "hosting_miner_placements_site_id_fkey": "no such site",
    "hosting_sites_name_key": "a site with this name exists",
    "miner_models_pkey": "a model with this name exists",
    "hosting_miners_warranty_expires_check": "warranty_expires is before purchase_date",
}


def reason(error: asyncpg.PostgresError) -> str:
    constraint = getattr(error, "constraint_name", None)
    if constraint in REASONS:
        return REASONS[constraint]
    detail = getattr(error, "detail", None)
    return f"{error}" + (f" ({detail})" if detail else "")
