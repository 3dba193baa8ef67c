"""/api/v1/auth: log in, log out, who am I, my sessions, my password.

A login answers the same for an unknown email and a wrong password (401 `invalid_credentials`), and 429 with
Retry-After while the email or the address is locked out (windhash_common.accounts.login). The session token
comes back once, in the body (for scripts) and as an HttpOnly, SameSite=Strict cookie (for the dashboard).
"""

import asyncio
import math
from typing import Any

from fastapi import APIRouter, Request, Response
from windhash_common.access.enforcement import AccessPolicy, CurrentIdentity
from windhash_common.access.identity import CredentialKind, Identity
from windhash_common.access.request_actor import actor_of, request_client
from windhash_common.access.request_identity import identity_transaction
from windhash_common.accounts import passwords
from windhash_common.accounts.login import LoginOutcome, log_in
from windhash_common.accounts.sessions import close_session, user_sessions
from windhash_common.accounts.users import find_credentials, find_user, revoke_sessions, set_password

from windhash_api.database import Pool, Settings
from windhash_api.errors import ERROR_RESPONSES, ApiError, error_shape_responses
from windhash_api.models.accounts import (
    LoginRequest,
    LoginResponse,
    Me,
    PasswordChange,
    Revoked,
    SessionOut,
    UserOut,
)
from windhash_api.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    **error_shape_responses(
        {
            400: "The body is not JSON",
            401: "Not signed in, or the credentials are not valid",
            403: "The account may not do this",
            409: "Not for this kind of credential (an API key is not logged out)",
        }
    ),
}


def _policy(request: Request) -> AccessPolicy:
    policy: AccessPolicy = request.app.state.access_policy
    return policy


async def _user(pool: Pool, identity: Identity) -> UserOut:
    async with identity_transaction(pool, identity) as connection:
        row = await find_user(connection, identity.user_id) if identity.user_id else None
    if row is None:
        raise ApiError(401, "invalid_credentials", "the account no longer exists")
    return UserOut.model_validate(dict(row))


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={**AUTH_RESPONSES, **error_shape_responses({429: "Too many failed logins"})},
    summary="Log in with email and password: a session token (body and HttpOnly cookie)",
)
async def login(
    body: LoginRequest, request: Request, response: Response, pool: Pool, settings: Settings
) -> LoginResponse:
    client = request_client(request, settings)
    result = await log_in(pool, settings.topics, settings, body.email, body.password, client)
    if result.outcome is LoginOutcome.LOCKED:
        wait = math.ceil(result.retry_after.total_seconds()) if result.retry_after else 1
        raise ApiError(
            429,
            "too_many_attempts",
            "too many failed logins for this account or from this address",
            f"try again in {wait} s",
            {"Retry-After": str(wait)},
        )
    if result.outcome is LoginOutcome.BAD_CREDENTIALS:
        raise ApiError(401, "invalid_credentials", "the email or the password is wrong")
    if result.outcome is LoginOutcome.SUSPENDED:
        raise ApiError(403, "account_suspended", "this account is suspended", "ask an administrator")
    if result.outcome is LoginOutcome.NO_ACCESS:
        raise ApiError(403, "no_access", "this account has no access now", "ask an administrator for access")
    assert result.token is not None and result.user_id is not None
    response.headers["Set-Cookie"] = _policy(request).session_cookie(result.token)
    response.headers["Cache-Control"] = "no-store"
    identity = Identity(
        kind=CredentialKind.SESSION, user_id=result.user_id, role=result.role, client_id=result.client_id
    )
    user = await _user(pool, identity)
    return LoginResponse(
        token=result.token,
        expires_in_s=int(settings.auth_session_hours * 3600),
        must_change_password=result.must_change_password,
        user=user,
    )


@router.post("/logout", status_code=204, responses=AUTH_RESPONSES, summary="End this session")
async def logout(request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings) -> Response:
    if identity.session_id is None:
        raise ApiError(
            409, "not_a_session", "an API key is revoked, not logged out", "DELETE /api/v1/api-keys/{id}"
        )
    async with identity_transaction(pool, identity) as connection:
        await close_session(
            connection, settings.topics, actor_of(request, identity, settings), identity.session_id, "logout"
        )
    return Response(status_code=204, headers={"Set-Cookie": _policy(request).clear_cookie()})


@router.get("/me", response_model=Me, responses=AUTH_RESPONSES, summary="The signed-in account and its role")
async def me(identity: CurrentIdentity, pool: Pool, response: Response) -> Me:
    response.headers["Cache-Control"] = "no-store"
    assert identity.role is not None
    return Me(user=await _user(pool, identity), credential=identity.kind.value, role=identity.role)


@router.get(
    "/sessions", response_model=list[SessionOut], responses=AUTH_RESPONSES, summary="My open sessions"
)
async def my_sessions(identity: CurrentIdentity, pool: Pool) -> list[SessionOut]:
    assert identity.user_id is not None
    async with identity_transaction(pool, identity) as connection:
        rows = await user_sessions(connection, identity.user_id, open_only=True)
    return [
        SessionOut.model_validate(dict(row) | {"current": row["id"] == identity.session_id}) for row in rows
    ]


@router.post(
    "/sessions/revoke-all", response_model=Revoked, responses=AUTH_RESPONSES, summary="Log out everywhere"
)
async def revoke_all(
    request: Request, response: Response, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> Revoked:
    assert identity.user_id is not None
    async with identity_transaction(pool, identity) as connection:
        count = await revoke_sessions(
            connection, settings.topics, actor_of(request, identity, settings), identity.user_id, "revoke all"
        )
    response.headers["Set-Cookie"] = _policy(request).clear_cookie()
    return Revoked(revoked=count)


@router.post(
    "/password",
    status_code=204,
    responses=AUTH_RESPONSES,
    summary="Choose a new password (ASVS level 2 rules); the other sessions are revoked",
)
async def change_password(
    body: PasswordChange, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> Response:
    assert identity.user_id is not None and identity.email is not None
    async with pool.acquire() as connection:
        credentials = await find_credentials(connection, identity.email)
    if credentials is None or not await asyncio.to_thread(
        passwords.verify_password, credentials["password_hash"], body.current_password
    ):
        raise ApiError(403, "invalid_credentials", "the current password is wrong")
    try:
        passwords.check_password_rules(body.new_password, identity.email)
    except passwords.PasswordRejected as rejected:
        raise ApiError(
            422, "weak_password", str(rejected), "a long passphrase of several words works"
        ) from None
    new_hash = await asyncio.to_thread(passwords.hash_password, body.new_password)
    async with identity_transaction(pool, identity) as connection:
        await set_password(
            connection,
            settings.topics,
            actor_of(request, identity, settings),
            identity.user_id,
            new_hash,
            must_change_password=False,
            keep_session=identity.session_id,
        )
    return Response(status_code=204)
