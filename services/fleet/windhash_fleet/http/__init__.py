"""The fleet's HTTP app (`windhash fleet-api`), behind the API's /api/v1/fleet/...: routes by resource."""
