"""/api/v1/users: account management for administrators (the permission table admits admins and owners).

Beyond the table, `roles.may_manage` decides which accounts an actor may act on: an admin every account below
owner, an owner every account; and nobody changes their own role or status (another administrator must), so
no one locks out or promotes themselves. Every change is audited (windhash_common.accounts.users).
"""

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.identity import Identity
from windhash_common.access.request_actor import actor_of
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role, may_manage
from windhash_common.accounts import passwords
from windhash_common.accounts import users as accounts
from windhash_common.accounts.sessions import user_sessions

from windhash_api.database import Pool, Settings
from windhash_api.errors import ERROR_RESPONSES, ApiError, NotFound, error_shape_responses
from windhash_api.models.accounts import (
    AccessGrant,
    AccessWindow,
    PasswordReset,
    Revoked,
    SessionOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from windhash_api.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    **error_shape_responses(
        {
            400: "The body is not JSON",
            401: "Not signed in",
            403: "The role may not manage this account",
            409: "The change conflicts with the accounts as they are",
        }
    ),
}


def _require_manage(identity: Identity, target_role: str, verb: str = "manage") -> None:
    assert identity.role is not None
    if not may_manage(identity.role, Role(target_role)):
        raise ApiError(403, "forbidden", f"a {identity.role} may not {verb} a {target_role} account")


def _checked_password(password: str, *known: str) -> None:
    try:
        passwords.check_password_rules(password, *known)
    except passwords.PasswordRejected as rejected:
        raise ApiError(
            422, "weak_password", str(rejected), "a long passphrase of several words works"
        ) from None


async def _target(pool: Pool, identity: Identity, user_id: UUID) -> UserOut:
    async with identity_transaction(pool, identity) as connection:
        row = await accounts.find_user(connection, user_id)
    if row is None:
        raise NotFound(f"no account has the id {user_id}", "GET /api/v1/users lists them")
    return UserOut.model_validate(dict(row))


async def _managed_target(pool: Pool, identity: Identity, user_id: UUID, verb: str = "manage") -> UserOut:
    """The account `user_id`, if the identity's role may `verb` its role (403 otherwise; 404 if unknown)."""
    target = await _target(pool, identity, user_id)
    _require_manage(identity, target.role, verb)
    return target


@router.get("", response_model=list[UserOut], responses=RESPONSES, summary="Every account")
async def list_users(identity: CurrentIdentity, pool: Pool) -> list[UserOut]:
    async with identity_transaction(pool, identity) as connection:
        rows = await accounts.list_users(connection)
    return [UserOut.model_validate(dict(row)) for row in rows]


@router.post("", response_model=UserOut, status_code=201, responses=RESPONSES, summary="Create an account")
async def create_user(
    body: UserCreate, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> UserOut:
    _require_manage(identity, body.role, "create")
    _checked_password(body.password, body.email, body.name)
    password_hash = await asyncio.to_thread(passwords.hash_password, body.password)
    try:
        async with identity_transaction(pool, identity) as connection:
            row = await accounts.create_user(
                connection,
                settings.topics,
                actor_of(request, identity, settings),
                email=body.email,
                name=body.name,
                role=body.role,
                client_id=body.client_id,
                password_hash=password_hash,
                must_change_password=True,
                access_until=body.access_until,
            )
    except accounts.AccountError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return UserOut.model_validate(dict(row))


@router.get("/{user_id}", response_model=UserOut, responses=RESPONSES, summary="One account")
async def get_user(user_id: UUID, identity: CurrentIdentity, pool: Pool) -> UserOut:
    return await _target(pool, identity, user_id)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=RESPONSES,
    summary="Change name, role, organisation or status (suspend: refused at once, sessions revoked)",
)
async def update_user(
    user_id: UUID,
    body: UserUpdate,
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    settings: Settings,
) -> UserOut:
    await _managed_target(pool, identity, user_id)
    changes = body.model_dump(exclude_unset=True)
    if body.role is not None:
        _require_manage(identity, body.role, "give the role of")
    if user_id == identity.user_id and ({"role", "status"} & set(changes)):
        raise ApiError(
            409, "own_account", "nobody changes their own role or status", "ask another administrator"
        )
    if changes.get("name") is None:
        changes.pop("name", None)
    try:
        async with identity_transaction(pool, identity) as connection:
            row = await accounts.update_user(
                connection, settings.topics, actor_of(request, identity, settings), user_id, changes
            )
    except accounts.AccountError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return UserOut.model_validate(dict(row))


@router.post(
    "/{user_id}/password",
    status_code=204,
    responses=RESPONSES,
    summary="Set a one-time password; the account must change it at its next login; its sessions end",
)
async def reset_password(
    user_id: UUID,
    body: PasswordReset,
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    settings: Settings,
) -> Response:
    target = await _managed_target(pool, identity, user_id, "reset the password of")
    _checked_password(body.one_time_password, target.email, target.name)
    password_hash = await asyncio.to_thread(passwords.hash_password, body.one_time_password)
    async with identity_transaction(pool, identity) as connection:
        await accounts.set_password(
            connection, settings.topics, actor_of(request, identity, settings), user_id, password_hash, True
        )
    return Response(status_code=204)


@router.get(
    "/{user_id}/access", response_model=list[AccessWindow], responses=RESPONSES, summary="Access windows"
)
async def get_access(user_id: UUID, identity: CurrentIdentity, pool: Pool) -> list[AccessWindow]:
    await _target(pool, identity, user_id)
    async with identity_transaction(pool, identity) as connection:
        rows = await accounts.access_windows(connection, user_id)
    return [AccessWindow.model_validate(dict(row)) for row in rows]


@router.post(
    "/{user_id}/access",
    response_model=AccessWindow,
    status_code=201,
    responses=RESPONSES,
    summary="Grant access",
)
async def grant_access(
    user_id: UUID,
    body: AccessGrant,
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    settings: Settings,
) -> AccessWindow:
    await _managed_target(pool, identity, user_id, "grant access to")
    if body.starts_at and body.ends_at and body.ends_at < body.starts_at:
        raise ApiError(422, "invalid_parameter", "the window ends before it starts")
    async with identity_transaction(pool, identity) as connection:
        await accounts.grant_access(
            connection,
            settings.topics,
            actor_of(request, identity, settings),
            user_id,
            body.starts_at,
            body.ends_at,
        )
        rows = await accounts.access_windows(connection, user_id)
    return AccessWindow.model_validate(dict(max(rows, key=lambda row: row["id"])))


@router.delete(
    "/{user_id}/access",
    response_model=Revoked,
    responses=RESPONSES,
    summary="End every open access window now (the account is refused at once; its sessions end)",
)
async def revoke_access(
    user_id: UUID, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> Revoked:
    await _managed_target(pool, identity, user_id, "revoke access of")
    if user_id == identity.user_id:
        raise ApiError(409, "own_account", "nobody revokes their own access", "ask another administrator")
    async with identity_transaction(pool, identity) as connection:
        count = await accounts.revoke_access(
            connection, settings.topics, actor_of(request, identity, settings), user_id
        )
    return Revoked(revoked=count)


@router.get(
    "/{user_id}/sessions", response_model=list[SessionOut], responses=RESPONSES, summary="Its sessions"
)
async def get_sessions(user_id: UUID, identity: CurrentIdentity, pool: Pool) -> list[SessionOut]:
    await _target(pool, identity, user_id)
    async with identity_transaction(pool, identity) as connection:
        rows = await user_sessions(connection, user_id, open_only=False)
    return [SessionOut.model_validate(dict(row)) for row in rows]


@router.delete(
    "/{user_id}/sessions", response_model=Revoked, responses=RESPONSES, summary="Revoke all its sessions"
)
async def revoke_user_sessions(
    user_id: UUID, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> Revoked:
    await _managed_target(pool, identity, user_id, "revoke the sessions of")
    async with identity_transaction(pool, identity) as connection:
        count = await accounts.revoke_sessions(
            connection,
            settings.topics,
            actor_of(request, identity, settings),
            user_id,
            "revoked by an administrator",
        )
    return Revoked(revoked=count)
