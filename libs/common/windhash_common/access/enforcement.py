"""THE enforcement point: one FastAPI dependency every route of every windhash HTTP app runs first.

`install_access(app, settings)` makes it an app-wide dependency; for each request it
  1. finds the matched route's rule in the permission table (a route with none is refused, 403);
  2. resolves the credentials, if the rule looks at them, against PostgreSQL (identity_queries): a token
     that is unknown, revoked, expired, idle, of a suspended user or outside every access window is refused
     (401), whatever the route;
  3. refuses what the rule's cell for the subject (anonymous or the role) does not allow: 401 for anonymous,
     403 for a signed-in subject; `own` is allowed, the rows being limited by row-level security;
  4. refuses, while the account must change its password, every rule not marked for that (403), and a
     state change carried by the cookie without the CSRF header (403);
and leaves the identity on `request.state.identity` for the route (`CurrentIdentity`).
"""

from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import Route

from windhash_common.access.credentials import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, presented_token
from windhash_common.access.identity import ANONYMOUS, Identity
from windhash_common.access.identity_queries import identity_of
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import Grant, PermissionTable, Rule
from windhash_common.access.settings import AccessSettings
from windhash_common.http_errors import ApiError

log = structlog.get_logger(__name__)


class AccessPolicy:
    def __init__(self, settings: AccessSettings, table: PermissionTable = PERMISSIONS) -> None:
        self.settings = settings
        self.table = table
        self.session_idle = timedelta(minutes=settings.auth_session_idle_minutes)

    def clear_cookie(self) -> str:
        secure = "; Secure" if self.settings.auth_cookie_secure else ""
        return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{secure}"

    def session_cookie(self, token: str) -> str:
        secure = "; Secure" if self.settings.auth_cookie_secure else ""
        max_age = int(self.settings.auth_session_hours * 3600)
        return f"{SESSION_COOKIE}={token}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}"


def install_access(app: FastAPI, settings: AccessSettings, table: PermissionTable = PERMISSIONS) -> None:
    """Every route added to `app` from now on runs `authorize` first (call it before adding any); the app's
    pool must be on `app.state.pool` by the time requests arrive."""
    # FastAPI copies an app's dependencies into each route as the route is added: earlier ones would escape.
    if any(isinstance(route, APIRoute) or not isinstance(route, Route) for route in app.routes):
        raise RuntimeError("install_access must run before any route is added to the app")
    app.state.access_policy = AccessPolicy(settings, table)
    app.router.dependencies.append(Depends(authorize))


def rule_of(request: Request) -> Rule | None:
    policy: AccessPolicy = request.app.state.access_policy
    route: Any = request.scope.get("route")
    path = getattr(route, "path", None)
    return None if path is None else policy.table.for_route(request.method, path)


async def authorize(request: Request) -> Identity:
    policy: AccessPolicy = request.app.state.access_policy
    rule = rule_of(request)
    if rule is None:
        route: Any = request.scope.get("route")
        log.error("route without a permission entry refused", route=getattr(route, "path", None))
        raise ApiError(
            403,
            "no_permission_entry",
            "this route has no entry in the permission table",
            "see docs/ACCESS.md",
        )
    identity = await _identity(request, policy) if rule.identity else ANONYMOUS
    grant = rule.grant(identity.subject, policy.settings.api_public_analytics)
    if grant is Grant.NO:
        if not identity.signed_in:
            raise ApiError(
                401,
                "authentication_required",
                "this needs a signed-in account",
                "log in at /api/v1/auth/login, or send an API key as `Authorization: Bearer <key>`",
                {"WWW-Authenticate": "Bearer"},
            )
        raise ApiError(
            403,
            "forbidden",
            f"the role {identity.subject} may not {rule.action} {rule.resource}",
            "see docs/ACCESS.md",
        )
    if identity.must_change_password and not rule.during_password_change:
        raise ApiError(
            403, "password_change_required", "choose a new password first", "POST /api/v1/auth/password"
        )
    if identity.via_cookie and request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
        raise ApiError(
            403,
            "csrf_header_missing",
            f"a change sent with the session cookie needs the {CSRF_HEADER} header",
        )
    request.state.identity = identity
    return identity


async def _identity(request: Request, policy: AccessPolicy) -> Identity:
    token = presented_token(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))
    if token is None:
        return ANONYMOUS
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        identity = await identity_of(connection, token, policy.session_idle)
    if identity is None:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if token.via_cookie:
            headers["Set-Cookie"] = policy.clear_cookie()  # so the browser goes on as anonymous
        raise ApiError(
            401,
            "invalid_credentials",
            "the session or API key is not valid (unknown, expired, revoked, or the account may not act now)",
            "log in again",
            headers,
        )
    return identity


def current_identity(request: Request) -> Identity:
    """The identity `authorize` resolved for this request."""
    identity: Identity = request.state.identity
    return identity


CurrentIdentity = Annotated[Identity, Depends(authorize)]
"""A route parameter: the request's identity (FastAPI runs `authorize` once per request)."""
