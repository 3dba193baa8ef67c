"""SQL of a site's automatic policy and its client minimums (migration 1300), as the HTTP app sets them."""

UPSERT_POLICY = """
INSERT INTO plan_site_policies (site_id, automatic_enabled, price_source, tariff_gbp_per_mwh,
                                hysteresis_fraction, min_on_minutes, min_off_minutes, max_hold_minutes,
                                updated_by, updated_by_actor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (site_id) DO UPDATE
   SET automatic_enabled = excluded.automatic_enabled, price_source = excluded.price_source,
       tariff_gbp_per_mwh = excluded.tariff_gbp_per_mwh, hysteresis_fraction = excluded.hysteresis_fraction,
       min_on_minutes = excluded.min_on_minutes, min_off_minutes = excluded.min_off_minutes,
       max_hold_minutes = excluded.max_hold_minutes, updated_by = excluded.updated_by,
       updated_by_actor = excluded.updated_by_actor, updated_at = now()
"""

MINIMUMS = (
    "SELECT client_id, min_running_miners FROM plan_client_minimums WHERE site_id = $1 ORDER BY client_id"
)

CLEAR_MINIMUMS = "DELETE FROM plan_client_minimums WHERE site_id = $1 AND NOT client_id = ANY($2::uuid[])"

UPSERT_MINIMUM = """
INSERT INTO plan_client_minimums (site_id, client_id, min_running_miners) VALUES ($1, $2, $3)
ON CONFLICT (site_id, client_id) DO UPDATE
   SET min_running_miners = excluded.min_running_miners, updated_at = now()
"""

CLIENTS = "SELECT id FROM clients WHERE id = ANY($1::uuid[])"
