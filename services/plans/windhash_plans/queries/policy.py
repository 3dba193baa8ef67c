"""SQL of the automatic policy: the sites that run it, what it needs to decide (migration 1300, and the
market service's snapshots of migration 1100), and its decisions."""

ENABLED_SITES = """
SELECT site_id, price_source, tariff_gbp_per_mwh, hysteresis_fraction, min_on_minutes, min_off_minutes,
       max_hold_minutes, updated_by, updated_by_actor
  FROM plan_site_policies WHERE automatic_enabled ORDER BY site_id
"""

SITE_POLICY = """
SELECT site_id, automatic_enabled, price_source, tariff_gbp_per_mwh, hysteresis_fraction, min_on_minutes,
       min_off_minutes, max_hold_minutes, updated_by, updated_by_actor, updated_at
  FROM plan_site_policies WHERE site_id = $1
"""

# The newest market snapshot not older than $1 (the market service writes one every 15 minutes).
MARKET_MOMENT = """
SELECT slot_at, difficulty, block_reward_btc, price_gbp FROM market_analytics
 WHERE slot_at >= $1 ORDER BY slot_at DESC LIMIT 1
"""

SITE_MODELS = """
SELECT DISTINCT model.name, model.hashrate_ths, model.power_w
  FROM hosting_miners AS miner JOIN miner_models AS model ON model.name = miner.miner_model
 WHERE miner.site_id = $1 AND miner.status <> 'retired'
 ORDER BY model.name
"""

# The automatic plan still holding (or about to hold) a model's miners at a site.
OPEN_AUTOMATIC_PLAN = """
SELECT plan_id, status, phase, scheduled_at, recovery_at FROM curtailment_plans
 WHERE plan_type = 'automatic' AND site_id = $1 AND miner_model = $2
   AND status IN ('approved', 'executing', 'executed') AND phase IN ('idle', 'shutting_down', 'holding')
 ORDER BY scheduled_at DESC LIMIT 1
"""

# When a model's miners last came back from an automatic plan.
LAST_RECOVERY = """
SELECT max(coalesce(recovery_started_at, recovered_at)) FROM curtailment_plans
 WHERE plan_type = 'automatic' AND site_id = $1 AND miner_model = $2
"""

LAST_DECISION = """
SELECT action, period_start FROM automatic_decisions
 WHERE site_id = $1 AND miner_model = $2 ORDER BY decision_id DESC LIMIT 1
"""

INSERT_DECISION = """
INSERT INTO automatic_decisions (site_id, miner_model, decided_at, period_start, action, reason, price_source,
                                 power_price_gbp_per_mwh, hashprice_gbp_per_mwh, difficulty, block_reward_btc,
                                 btc_price_gbp, market_observed_at, plan_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
"""

DECISIONS = """
SELECT decision_id, site_id, miner_model, decided_at, period_start, action, reason, price_source,
       power_price_gbp_per_mwh, hashprice_gbp_per_mwh, difficulty, block_reward_btc, btc_price_gbp,
       market_observed_at, plan_id
  FROM automatic_decisions
 WHERE ($1::bigint IS NULL OR site_id = $1)
 ORDER BY decision_id DESC LIMIT $2 OFFSET $3
"""
