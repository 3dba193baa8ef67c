"""THE permission table: every resource and action × anonymous and every role, and the routes that perform
each action. The enforcement dependency (enforcement.py) reads only this; docs/ACCESS.md is generated from it
(`python -m windhash_common.access.access_doc --write`) and a test fails when the two differ. A route missing
here is refused (403) and fails the authorization-matrix test.

The API forwards `/api/v1/<context>/...` to the bounded-context service configured for `<context>`
(`WINDHASH_API_UPSTREAMS`); that one route of the API is delegated (`Grant.DELEGATED`): the API judges
nothing there and the service judges each of its routes by its own row below, so every route is judged in
exactly one place.

Rules without routes yet are the defaults the coming bounded contexts (fleet, plans, CRM) map their routes to:
the table is the contract, written before the code.
"""

from windhash_common.access.permissions import (
    ADMINS,
    EVERYONE,
    OWN,
    PUBLIC_READ,
    SIGNED_IN,
    STAFF,
    STAFF_AND_OWN_CLIENT,
    TO_ITS_SERVICE,
    YES,
    PermissionTable,
    Rule,
    grants,
)

V1 = "/api/v1"
FLEET = f"{V1}/fleet"
FORWARDING_ROUTE = f"{V1}/{{context}}/{{path:path}}"
"""The API's one route that forwards to a context service (windhash_api.forwarding)."""
FORWARDED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

_SERVICE = (
    Rule(
        "probes",
        "read",
        "Liveness and readiness probes",
        EVERYONE,
        False,
        routes=("GET /health", "GET /ready"),
    ),
    Rule(
        "dashboard",
        "read",
        "The dashboard's page (its data comes from the API)",
        EVERYONE,
        False,
        routes=("GET /",),
    ),
    Rule(
        "metrics",
        "read",
        "Prometheus metrics of the process (the API, a context service)",
        EVERYONE,
        False,
        routes=("GET /metrics",),
    ),
    Rule(
        "api-docs",
        "read",
        "The OpenAPI documentation page (Swagger UI, served offline; the document is /openapi.json)",
        EVERYONE,
        False,
        routes=("GET /docs",),
    ),
)

_ANALYTICS = (
    Rule(
        "analytics",
        "read",
        "Curtailment, mining and comparison figures, series, rankings, the BM unit registry and miner models",
        PUBLIC_READ,
        routes=tuple(
            f"GET {V1}{path}"
            for path in (
                "/summaries/{timeframe}/{value}",
                "/curtailment/{settlement_date}/periods",
                "/curtailment/{settlement_date}/hours",
                "/mining/{timeframe}/{value}",
                "/comparison/{timeframe}/{value}",
                "/series/{timeframe}/{value}",
                "/top/bm-units/{timeframe}/{value}",
                "/top/lead-parties/{timeframe}/{value}",
                "/bm-units",
                "/bm-units/{elexon_bm_unit}",
                "/lead-parties",
                "/miner-models",
                "/standing/bm-units/{timeframe}/{value}",
                "/standing/lead-parties/{timeframe}/{value}",
                "/series/{timeframe}/{value}/models",
                "/difficulty-price/{timeframe}/{value}",
                "/farm-locations",
            )
        ),
    ),
    Rule(
        "pipeline-status",
        "read",
        "What data is held, what failed, and the reconciliation of the data with Elexon",
        PUBLIC_READ,
        routes=(f"GET {V1}/status", f"GET {V1}/reconciliation"),
    ),
    Rule(
        "context-figures",
        "read",
        "The curtailed share of wind output and the CO2 curtailed wind could have avoided (an estimate)",
        PUBLIC_READ,
        routes=(
            f"GET {V1}/wind-share/{{timeframe}}/{{value}}",
            f"GET {V1}/co2-avoided/{{timeframe}}/{{value}}",
        ),
    ),
    Rule(
        "legacy-analytics",
        "read",
        "The predecessor's routes, deprecated: daily/monthly/yearly summaries and mining potential in its"
        " camelCase shapes (each names its /api/v1 successor in a Link header)",
        PUBLIC_READ,
        routes=(
            "GET /api/summary/daily/{settlement_date}",
            "GET /api/summary/monthly/{year_month}",
            "GET /api/summary/yearly/{year}",
            "GET /api/curtailment/mining-potential",
            "GET /api/curtailment/monthly-mining-potential/{year_month}",
        ),
    ),
)

# The market service (services/market): public analytics like the curtailment figures.
MARKET = f"{V1}/market"
_MARKET = (
    Rule(
        "market",
        "read",
        "Market snapshots (BTC price, volume, hashrate, difficulty, block), their series, technical"
        " indicators and hashprice per miner model",
        PUBLIC_READ,
        routes=tuple(
            f"GET {MARKET}{path}"
            for path in ("/snapshots/latest", "/snapshots", "/indicators", "/hashprice", "/hashprice/series")
        ),
    ),
    Rule(
        "market-status",
        "read",
        "Whether the market data is current, and every refused or missed slot with its reason",
        PUBLIC_READ,
        routes=(f"GET {MARKET}/status",),
    ),
)

_OWN_ACCOUNT = (
    Rule(
        "session", "create", "Log in (email and password)", EVERYONE, False, routes=(f"POST {V1}/auth/login",)
    ),
    Rule(
        "own-account",
        "read",
        "Who am I; my sessions",
        SIGNED_IN,
        during_password_change=True,
        routes=(f"GET {V1}/auth/me", f"GET {V1}/auth/sessions"),
    ),
    Rule(
        "own-account",
        "change-password",
        "Choose a new password (the current one is asked again)",
        SIGNED_IN,
        during_password_change=True,
        routes=(f"POST {V1}/auth/password",),
    ),
    Rule(
        "own-sessions",
        "revoke",
        "Log out; log out everywhere (revoke all my sessions)",
        SIGNED_IN,
        during_password_change=True,
        routes=(f"POST {V1}/auth/logout", f"POST {V1}/auth/sessions/revoke-all"),
    ),
)

_ACCOUNTS_ADMIN = (
    Rule(
        "users",
        "read",
        "List and read accounts",
        ADMINS,
        routes=(f"GET {V1}/users", f"GET {V1}/users/{{user_id}}"),
    ),
    Rule(
        "users",
        "create",
        "Create an account (of a role the actor may manage)",
        ADMINS,
        routes=(f"POST {V1}/users",),
    ),
    Rule(
        "users",
        "update",
        "Change an account's name, role, organisation or status (suspend, reactivate)",
        ADMINS,
        routes=(f"PATCH {V1}/users/{{user_id}}",),
    ),
    Rule(
        "users",
        "reset-password",
        "Set a one-time password the account must change at its next login",
        ADMINS,
        routes=(f"POST {V1}/users/{{user_id}}/password",),
    ),
    Rule(
        "access",
        "read",
        "An account's access windows",
        ADMINS,
        routes=(f"GET {V1}/users/{{user_id}}/access",),
    ),
    Rule(
        "access",
        "grant",
        "Open an access window (start, end)",
        ADMINS,
        routes=(f"POST {V1}/users/{{user_id}}/access",),
    ),
    Rule(
        "access",
        "revoke",
        "End every open access window now (its sessions stop working at once)",
        ADMINS,
        routes=(f"DELETE {V1}/users/{{user_id}}/access",),
    ),
    Rule("sessions", "read", "Anyone's sessions", ADMINS, routes=(f"GET {V1}/users/{{user_id}}/sessions",)),
    Rule(
        "sessions",
        "revoke",
        "Revoke all of an account's sessions",
        ADMINS,
        routes=(f"DELETE {V1}/users/{{user_id}}/sessions",),
    ),
    Rule(
        "api-keys",
        "read",
        "List API keys (never the keys themselves)",
        ADMINS,
        routes=(f"GET {V1}/api-keys",),
    ),
    Rule(
        "api-keys",
        "create",
        "Create an API key for an account, with that account's role or a lesser one",
        ADMINS,
        routes=(f"POST {V1}/api-keys",),
    ),
    Rule("api-keys", "revoke", "Revoke an API key", ADMINS, routes=(f"DELETE {V1}/api-keys/{{key_id}}",)),
    Rule(
        "clients",
        "read",
        "Client organisations (a client: its own)",
        STAFF_AND_OWN_CLIENT,
        routes=(f"GET {V1}/clients",),
    ),
    Rule("clients", "create", "Create a client organisation", ADMINS, routes=(f"POST {V1}/clients",)),
    Rule(
        "audit",
        "read",
        "The audit trail: who changed what, when, before and after",
        ADMINS,
        routes=(f"GET {V1}/audit",),
    ),
    Rule(
        "login-records",
        "read",
        "Every login attempt, with IP and location",
        ADMINS,
        routes=(f"GET {V1}/login-records",),
    ),
    Rule(
        "jobs",
        "read",
        "Who holds each background job: holder, host, since, last heartbeat",
        ADMINS,
        routes=(f"GET {V1}/jobs",),
    ),
    Rule(
        "exports",
        "read",
        "Records, calculations or daily summaries of a range as a CSV or Parquet download",
        ADMINS,
        routes=(f"GET {V1}/exports/{{what}}",),
    ),
)

_FORWARDING = (
    Rule(
        "context-services",
        "forward",
        "Any route of a bounded-context service (fleet, market, plans, CRM…), passed on by the API to that"
        " service, which judges it by its own row",
        TO_ITS_SERVICE,
        False,
        routes=tuple(f"{method} {FORWARDING_ROUTE}" for method in FORWARDED_METHODS if method != "HEAD"),
    ),
)

# Curtailment plans (services/plans, behind /api/v1/plans/...). Which plan types each action applies to, and
# who may cancel what, is windhash_plans.domain.plan_permissions (the rule the table cannot hold).
_PLANS_PREFIX = f"{V1}/plans"
_PLANS = (
    Rule(
        "plans",
        "read",
        "Curtailment plans, their timeline, miners and measured power (a client: those affecting its miners)",
        STAFF_AND_OWN_CLIENT,
        routes=(f"GET {_PLANS_PREFIX}/", f"GET {_PLANS_PREFIX}/{{plan_id}}"),
    ),
    Rule(
        "plans",
        "propose",
        "Create a manual or scheduled curtailment plan (automatic ones come from a site's policy)",
        STAFF,
        routes=(f"POST {_PLANS_PREFIX}/",),
    ),
    Rule(
        "plans",
        "approve",
        "Approve a curtailment plan, which then runs at its time",
        ADMINS,
        routes=(f"POST {_PLANS_PREFIX}/{{plan_id}}/approve",),
    ),
    Rule(
        "plans",
        "cancel",
        "Cancel a plan, or end a running one early (staff: only their own proposal while it is pending)",
        STAFF,
        routes=(f"POST {_PLANS_PREFIX}/{{plan_id}}/cancel",),
    ),
    Rule(
        "plans-economics",
        "read",
        "Backtests of curtailment policies, the automatic policy's decisions, half-hourly power prices",
        STAFF,
        routes=tuple(
            f"GET {_PLANS_PREFIX}/{path}"
            for path in ("backtest", "decisions", "power-prices", "policies/{site_id}")
        ),
    ),
    Rule(
        "plans-policy",
        "manage",
        "Set a site's automatic policy (its approval stands for the automatic plans) and client minimums",
        ADMINS,
        routes=(f"PUT {_PLANS_PREFIX}/policies/{{site_id}}",),
    ),
)

# Defaults for the bounded contexts to come (issue #17, item 1): their services map their routes here.
_HOSTING = (
    Rule(
        "miners",
        "read",
        "Miners, their telemetry, rollups and operation log, the fleet overview (a client: its own miners)",
        STAFF_AND_OWN_CLIENT,
        routes=(
            f"GET {FLEET}/overview",
            f"GET {FLEET}/miners",
            f"GET {FLEET}/miners/{{serial}}",
            f"GET {FLEET}/miners/{{serial}}/telemetry",
            f"GET {FLEET}/miners/{{serial}}/rollups",
            f"GET {FLEET}/miners/{{serial}}/operations",
        ),
    ),
    Rule(
        "miners",
        "operate",
        "Start, stop, curtail a miner; create, edit, move, retire and import miners",
        STAFF,
        routes=(
            f"POST {FLEET}/miners",
            f"POST {FLEET}/miners/import",
            f"PATCH {FLEET}/miners/{{serial}}",
            f"POST {FLEET}/miners/{{serial}}/move",
            f"POST {FLEET}/miners/{{serial}}/retire",
        ),
    ),
    Rule(
        "sites",
        "read",
        "Hosting sites: power now against capacity, miners by status (a client: its miners' sites and share)",
        STAFF_AND_OWN_CLIENT,
        routes=(f"GET {FLEET}/sites", f"GET {FLEET}/sites/{{site_id}}"),
    ),
    Rule(
        "sites",
        "manage",
        "Create and change hosting sites",
        ADMINS,
        routes=(f"POST {FLEET}/sites", f"PATCH {FLEET}/sites/{{site_id}}"),
    ),
    Rule(
        "site-rollups",
        "read",
        "A site's hourly and daily rollups (every client's miners there added up)",
        STAFF,
        routes=(f"GET {FLEET}/sites/{{site_id}}/rollups",),
    ),
    Rule(
        "miner-models",
        "read",
        "The miner model registry, with what is calculated (reference data, as the analytics' model list)",
        SIGNED_IN,
        routes=(f"GET {FLEET}/models",),
    ),
    Rule(
        "miner-models",
        "manage",
        "Add miner models (recorded, not calculated) and change what no calculation depends on",
        ADMINS,
        routes=(f"POST {FLEET}/models", f"PATCH {FLEET}/models/{{name}}"),
    ),
    Rule("difficulty", "correct", "Correct a stored difficulty or price (recalculates by replay)", ADMINS),
    *_PLANS,
)

CRM = f"{V1}/crm"
# The CRM (services/crm): sales staff act on the records they own, admins and owners on all (row-level
# security, migration 1400); a client reads its organisation's sent invoices.
STAFF_OWN = grants(user=OWN, admin=YES, owner=YES)
_CRM = (
    Rule(
        "crm",
        "read",
        "Leads (and their duplicates), deals and their stage history, activities, my reminders, the pipeline",
        STAFF_OWN,
        routes=tuple(
            f"GET {CRM}{path}"
            for path in (
                "/leads",
                "/leads/{lead_id}",
                "/leads/{lead_id}/duplicates",
                "/deals",
                "/deals/{deal_id}",
                "/deals/{deal_id}/stages",
                "/pipeline",
                "/activities",
                "/activities/{activity_id}",
                "/reminders",
            )
        ),
    ),
    Rule(
        "crm",
        "write",
        "Create and change leads, convert one into a deal, change deals and move their stage, activities",
        STAFF_OWN,
        routes=(
            f"POST {CRM}/leads",
            f"PATCH {CRM}/leads/{{lead_id}}",
            f"POST {CRM}/leads/{{lead_id}}/convert",
            f"PATCH {CRM}/deals/{{deal_id}}",
            f"POST {CRM}/deals/{{deal_id}}/stage",
            f"POST {CRM}/activities",
            f"PATCH {CRM}/activities/{{activity_id}}",
        ),
    ),
    Rule(
        "crm-accounts",
        "create",
        "Make a won deal's client: its organisation and first account, its miners linked by serial",
        ADMINS,
        routes=(f"POST {CRM}/deals/{{deal_id}}/client-account",),
    ),
    Rule(
        "invoices",
        "read",
        "Invoices and their PDFs (a client: its organisation's sent ones)",
        grants(client=OWN, user=OWN, admin=YES, owner=YES),
        routes=(
            f"GET {CRM}/invoices",
            f"GET {CRM}/invoices/{{invoice_id}}",
            f"GET {CRM}/invoices/{{invoice_id}}/pdf",
        ),
    ),
    Rule(
        "invoices",
        "write",
        "Create invoices (gapless numbers), change drafts, send, record payments, cancel drafts",
        STAFF_OWN,
        routes=(
            f"POST {CRM}/invoices",
            f"PATCH {CRM}/invoices/{{invoice_id}}",
            f"POST {CRM}/invoices/{{invoice_id}}/send",
            f"POST {CRM}/invoices/{{invoice_id}}/pay",
            f"POST {CRM}/invoices/{{invoice_id}}/cancel",
        ),
    ),
)

PERMISSIONS = PermissionTable(
    (*_SERVICE, *_ANALYTICS, *_MARKET, *_OWN_ACCOUNT, *_ACCOUNTS_ADMIN, *_FORWARDING, *_HOSTING, *_CRM)
)
