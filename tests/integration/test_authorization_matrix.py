"""The authorization matrix: every route of the API, and of each context service behind it, × anonymous, each
role, an API key, an expired access window, a suspended account, a revoked session and an account that must
change its password, against the real database, asserting exactly what docs/ACCESS.md promises.

A context service (windhash_testing.context_services.CONTEXT_SERVICES) runs on its own uvicorn behind the
API: its `/api/v1/<context>/...` routes are walked through the API (which delegates them) and judged by the
service's own table; its other routes (probes, metrics) are walked on the service directly.

Allowed means the answer is not a refusal (401/403); refused means 401 for anonymous and for credentials that
no longer count, 403 for a signed-in role the table does not admit. Each request gets a fresh session, so one
route's logout cannot change another's outcome. A route missing from the permission table fails here, and a
path parameter without a sample value below fails too (give the new route one).
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from test_accounts_support import (  # type: ignore[import-not-found]
    PASSWORD,
    TOPICS,
    Accounts,
    accounts_fixture,  # noqa: F401
    open_api,
)
from windhash_common.access.identity import Subject
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import Grant, PermissionTable, Rule, route_key
from windhash_common.access.roles import Role
from windhash_common.accounts.sessions import create_api_key
from windhash_common.audit import cli_actor
from windhash_testing.app_routes import filled, path_parameters, routes_of
from windhash_testing.context_services import CONTEXT_SERVICES, ContextServiceApp, FreshValue
from windhash_testing.live_server import serving

pytestmark = pytest.mark.integration

SAMPLE_PATH_VALUES = {
    "timeframe": "daily",
    "value": "2024-03-30",
    "settlement_date": "2024-03-30",
    "year_month": "2024-03",
    "year": "2024",
    "what": "summaries",
    "elexon_bm_unit": "T_NOSUCH-1",
    # The API's forwarding route, with no context service configured: a 404, never a refusal of the API's.
    "context": "nosuch",
    "path": "anything",
}
REFUSALS = {401, 403}


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Caller:
    name: str
    subject: Subject
    credentials: Callable[[], Awaitable[dict[str, str]]]
    counts: bool = True
    """False: its credentials must be refused (401) wherever they are read."""
    must_change_password: bool = False


def judged_as(rule: Rule, caller: Caller) -> Subject:
    """A rule that does not read credentials judges every request as anonymous."""
    return caller.subject if rule.identity else Subject.ANONYMOUS


def expected_allowed(rule: Rule, caller: Caller, public_analytics: bool) -> bool:
    if rule.identity and not caller.counts:
        return False
    if rule.grant(judged_as(rule, caller), public_analytics) is Grant.NO:
        return False
    return not (caller.must_change_password and rule.identity and not rule.during_password_change)


def expected_refusal(rule: Rule, caller: Caller) -> int:
    if judged_as(rule, caller) is Subject.ANONYMOUS or (rule.identity and not caller.counts):
        return 401
    return 403


class World:
    """The accounts every caller acts on, and the body each write route is sent; a context service adds its
    own sample path values and bodies."""

    def __init__(
        self,
        accounts: Accounts,
        path_values: Mapping[str, str] | None = None,
        bodies: Mapping[str, Any] | None = None,
        fresh_values: Mapping[str, FreshValue] | None = None,
    ) -> None:
        self.accounts = accounts
        self.path_values = {**SAMPLE_PATH_VALUES, **(path_values or {})}
        self.fresh_values = dict(fresh_values or {})
        self.bodies = dict(bodies or {})

    async def setup(self) -> None:
        add = self.accounts.add
        for role in Role:
            await add(f"{role}@example.com", role, client="Acme" if role is Role.CLIENT else None)
        await add("target@example.com", Role.GUEST)
        await add("login@example.com", Role.GUEST)
        await add("expired@example.com", Role.ADMIN)
        await add("suspended@example.com", Role.ADMIN)
        await add("revoked@example.com", Role.ADMIN)
        await add("changing@example.com", Role.ADMIN, must_change_password=True)
        await add("keyholder@example.com", Role.ADMIN)
        ids = self.accounts.ids
        superuser = self.accounts.superuser
        # An access window that ended yesterday is the only one the expired account has.
        await superuser.execute(
            "UPDATE user_access SET starts_at = now() - interval '2 days', ends_at = now() - interval '1 day'"
            " WHERE user_id = $1",
            ids["expired@example.com"],
        )
        # Suspended straight in the table, leaving its sessions open: the per-request check must refuse them.
        await superuser.execute(
            "UPDATE users SET status = 'suspended' WHERE id = $1", ids["suspended@example.com"]
        )

    async def revoked_session(self) -> dict[str, str]:
        token = await self.accounts.session("revoked@example.com")
        await self.accounts.superuser.execute(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = $1",
            self.accounts.ids["revoked@example.com"],
        )
        return auth_header(token)

    async def changing_session(self) -> dict[str, str]:
        # Set again before each request: the password route, when allowed, clears it.
        await self.accounts.superuser.execute(
            "UPDATE users SET must_change_password = true WHERE email = 'changing@example.com'"
        )
        return auth_header(await self.accounts.session("changing@example.com"))

    async def admin_key(self) -> dict[str, str]:
        async with self.accounts.operator.transaction():
            key, _ = await create_api_key(
                self.accounts.operator,
                TOPICS,
                cli_actor(),
                self.accounts.ids["keyholder@example.com"],
                f"matrix {uuid.uuid4().hex[:8]}",
                Role.ADMIN,
                None,
            )
        return auth_header(key)

    def callers(self) -> list[Caller]:
        def session(email: str) -> Callable[[], Awaitable[dict[str, str]]]:
            async def make() -> dict[str, str]:
                return auth_header(await self.accounts.session(email))

            return make

        async def nothing() -> dict[str, str]:
            return {}

        callers = [Caller("anonymous", Subject.ANONYMOUS, nothing)]
        callers += [Caller(role.value, Subject(role.value), session(f"{role}@example.com")) for role in Role]
        callers += [
            Caller("api key (admin)", Subject.ADMIN, self.admin_key),
            Caller("expired access window", Subject.ADMIN, session("expired@example.com"), counts=False),
            Caller("suspended account", Subject.ADMIN, session("suspended@example.com"), counts=False),
            Caller("revoked session", Subject.ADMIN, self.revoked_session, counts=False),
            Caller("must change password", Subject.ADMIN, self.changing_session, must_change_password=True),
        ]
        return callers

    async def path_value(self, name: str) -> str:
        if name in self.path_values:
            return self.path_values[name]
        if name in self.fresh_values:
            return await self.fresh_values[name](self.accounts.superuser, self.accounts.ids)
        if name == "user_id":
            return str(self.accounts.ids["target@example.com"])
        if name == "key_id":
            async with self.accounts.operator.transaction():
                _, row = await create_api_key(
                    self.accounts.operator,
                    TOPICS,
                    cli_actor(),
                    self.accounts.ids["target@example.com"],
                    f"doomed {uuid.uuid4().hex[:8]}",
                    Role.GUEST,
                    None,
                )
            return str(row["id"])
        raise AssertionError(f"no sample value for the path parameter {{{name}}}: add one to this test")

    def body(self, key: str) -> Any:
        if key in self.bodies:
            return self.bodies[key]
        unique = uuid.uuid4().hex[:10]
        return {
            f"POST {V1}/auth/login": {"email": "login@example.com", "password": PASSWORD},
            f"POST {V1}/auth/password": {"current_password": PASSWORD, "new_password": PASSWORD},
            f"POST {V1}/users": {"email": f"new-{unique}@example.com", "role": "guest", "password": PASSWORD},
            f"PATCH {V1}/users/{{user_id}}": {"name": f"renamed {unique}"},
            f"POST {V1}/users/{{user_id}}/password": {"one_time_password": PASSWORD},
            f"POST {V1}/users/{{user_id}}/access": {},
            f"POST {V1}/api-keys": {"name": f"key {unique}", "role": "guest"},
            f"POST {V1}/clients": {"name": f"Org {unique}"},
        }.get(key)


V1 = "/api/v1"


@dataclass(frozen=True)
class Target:
    """Where the walk sends each route's requests, and the table that judges them there."""

    http: httpx.AsyncClient
    table: PermissionTable = PERMISSIONS
    via: Mapping[str, httpx.AsyncClient] = field(default_factory=dict)
    """Path prefix → the client that reaches it some other way (a context service's probes, directly)."""

    def client_for(self, path: str) -> httpx.AsyncClient:
        for prefix, http in self.via.items():
            if path.startswith(prefix):
                return http
        return self.http


async def walk(
    target: Target, routes: list[tuple[str, str]], world: World, callers: list[Caller], public: bool
) -> list[str]:
    """Every route × every caller; what differs from the table's cell for the caller, as failures."""
    failures = []
    for method, path in routes:
        rule = target.table.for_route(method, path)
        if rule is None:
            failures.append(f"{method} {path} has no row in the permission table (docs/ACCESS.md)")
            continue
        for caller in callers:
            failure = await check(target.client_for(path), world, rule, caller, method, path, public)
            if failure:
                failures.append(failure)
    return failures


async def check(
    http: httpx.AsyncClient, world: World, rule: Rule, caller: Caller, method: str, path: str, public: bool
) -> str | None:
    values = {name: await world.path_value(name) for name in path_parameters(path)}
    response = await http.request(
        method,
        filled(path, values),
        headers=await caller.credentials(),
        json=world.body(route_key(method, path)),
    )
    allowed = expected_allowed(rule, caller, public)
    where = f"{method} {path} as {caller.name} (public analytics {public})"
    if allowed and response.status_code in REFUSALS:
        return f"{where}: refused with {response.status_code} {response.text[:160]}, ACCESS.md allows it"
    if not allowed and response.status_code != expected_refusal(rule, caller):
        return f"{where}: {response.status_code}, ACCESS.md says {expected_refusal(rule, caller)}"
    if allowed and response.status_code >= 500:
        return f"{where}: {response.status_code}"
    return None


@pytest.mark.parametrize("public_analytics", [True, False], ids=["public analytics", "private analytics"])
async def test_every_route_answers_every_caller_as_the_permission_table_says(
    pg_dsn: str, accounts: Accounts, public_analytics: bool
) -> None:
    world = World(accounts)
    await world.setup()
    client, app = await open_api(pg_dsn, api_public_analytics=public_analytics)
    try:
        failures = await walk(Target(client.http), routes_of(app), world, world.callers(), public_analytics)
    finally:
        await client.http.aclose()
        await client.pool.close()
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("service", CONTEXT_SERVICES, ids=lambda service: service.context)
@pytest.mark.parametrize("public_analytics", [True, False], ids=["public analytics", "private analytics"])
async def test_every_route_of_a_context_service_answers_through_the_api_as_its_table_says(
    pg_dsn: str, accounts: Accounts, public_analytics: bool, service: ContextServiceApp
) -> None:
    world = World(accounts, service.path_values, service.bodies, service.fresh_values)
    await world.setup()
    app = service.create_app(pg_dsn, {"api_public_analytics": public_analytics})
    async with serving(app) as service_url, httpx.AsyncClient(base_url=service_url) as direct:
        client, _ = await open_api(
            pg_dsn, api_public_analytics=public_analytics, api_upstreams={service.context: service_url}
        )
        forwarded = f"/api/v1/{service.context}/"
        routes = routes_of(app)
        assert any(path.startswith(forwarded) for _, path in routes), f"no route under {forwarded}"
        # Everything outside /api/v1/<context>/ is the service's own (probes, metrics): walked directly.
        outside = {path: direct for _, path in routes if not path.startswith(forwarded)}
        try:
            target = Target(client.http, service.table, outside)
            failures = await walk(target, routes, world, world.callers(), public_analytics)
        finally:
            await client.http.aclose()
            await client.pool.close()
    assert failures == [], "\n".join(failures)


async def test_a_route_without_a_row_in_the_table_is_refused(pg_dsn: str) -> None:
    client, app = await open_api(pg_dsn)

    async def unlisted() -> dict[str, str]:
        return {"leak": "yes"}

    app.add_api_route("/api/v1/unlisted", unlisted, methods=["GET"])

    try:
        response = await client.http.get("/api/v1/unlisted")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "no_permission_entry"
        assert PERMISSIONS.for_route("GET", "/api/v1/unlisted") is None
    finally:
        await client.http.aclose()
        await client.pool.close()


async def test_a_change_sent_with_the_session_cookie_needs_the_csrf_header(
    pg_dsn: str, accounts: Accounts
) -> None:
    await accounts.add("admin@example.com", Role.ADMIN)
    client, _ = await open_api(pg_dsn)
    try:
        cookie = {"Cookie": f"windhash_session={await accounts.session('admin@example.com')}"}
        body = {"name": "Cookie Org"}
        refused = await client.http.post("/api/v1/clients", headers=cookie, json=body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_header_missing")
        read = await client.http.get("/api/v1/clients", headers=cookie)
        assert read.status_code == 200
        made = await client.http.post(
            "/api/v1/clients", headers={**cookie, "X-Windhash-CSRF": "1"}, json=body
        )
        assert made.status_code == 201
    finally:
        await client.http.aclose()
        await client.pool.close()


async def test_a_stale_cookie_is_cleared_and_never_blocks_a_new_login(
    pg_dsn: str, accounts: Accounts
) -> None:
    await accounts.add("guest@example.com", Role.GUEST)
    client, _ = await open_api(pg_dsn, auth_cookie_secure=False)
    try:
        stale = {"Cookie": "windhash_session=whs_not-a-real-session"}
        refused = await client.http.get("/api/v1/auth/me", headers=stale)
        assert refused.status_code == 401
        assert "windhash_session=;" in refused.headers["set-cookie"]
        login = await client.http.post(
            "/api/v1/auth/login", headers=stale, json={"email": "guest@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200
        assert login.headers["set-cookie"].startswith("windhash_session=whs_")
        assert "HttpOnly" in login.headers["set-cookie"] and "SameSite=Strict" in login.headers["set-cookie"]
    finally:
        await client.http.aclose()
        await client.pool.close()


async def test_sessions_end_after_their_idle_time(pg_dsn: str, accounts: Accounts) -> None:
    await accounts.add("user@example.com", Role.USER)
    token = await accounts.session("user@example.com")
    client, _ = await open_api(pg_dsn)
    try:
        assert (await client.http.get("/api/v1/auth/me", headers=auth_header(token))).status_code == 200
        idle = client.settings.auth_session_idle_minutes
        await accounts.superuser.execute(
            "UPDATE sessions SET last_seen_at = now() - $1::interval", timedelta(minutes=idle + 1)
        )
        assert (await client.http.get("/api/v1/auth/me", headers=auth_header(token))).status_code == 401
    finally:
        await client.http.aclose()
        await client.pool.close()
