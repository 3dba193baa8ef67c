"""/api/v1/api-keys: keys for scripts and Grafana, scoped to a role, stored hashed, shown once."""

from uuid import UUID

from fastapi import APIRouter, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.request_actor import actor_of
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role, may_manage
from windhash_common.accounts import sessions
from windhash_common.accounts.users import find_user

from windhash_api.database import Pool, Settings
from windhash_api.errors import ApiError, NotFound
from windhash_api.models.accounts import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Revoked
from windhash_api.routes import API_PREFIX
from windhash_api.routes.users import RESPONSES

router = APIRouter(prefix=f"{API_PREFIX}/api-keys", tags=["api keys"])


@router.get("", response_model=list[ApiKeyOut], responses=RESPONSES, summary="Every API key (never the key)")
async def list_keys(identity: CurrentIdentity, pool: Pool) -> list[ApiKeyOut]:
    async with identity_transaction(pool, identity) as connection:
        rows = await sessions.list_api_keys(connection)
    return [ApiKeyOut.model_validate(dict(row)) for row in rows]


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=201,
    responses=RESPONSES,
    summary="A key for an account (default: the caller's), with its role or a lesser one; shown once",
)
async def create_key(
    body: ApiKeyCreate, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> ApiKeyCreated:
    assert identity.role is not None and identity.user_id is not None
    user_id = body.user_id or identity.user_id
    async with identity_transaction(pool, identity) as connection:
        owner = await find_user(connection, user_id)
        if owner is None:
            raise NotFound(f"no account has the id {user_id}")
        if user_id != identity.user_id and not may_manage(identity.role, Role(owner["role"])):
            raise ApiError(403, "forbidden", f"a {identity.role} may not make keys for a {owner['role']}")
        try:
            key, row = await sessions.create_api_key(
                connection,
                settings.topics,
                actor_of(request, identity, settings),
                user_id,
                body.name,
                body.role,
                body.expires_at,
            )
        except sessions.KeyRefused as refused:
            raise ApiError(409, "conflict", str(refused)) from None
    return ApiKeyCreated(key=key, api_key=ApiKeyOut.model_validate(dict(row)))


@router.delete("/{key_id}", response_model=Revoked, responses=RESPONSES, summary="Revoke an API key")
async def revoke_key(
    key_id: UUID, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> Revoked:
    assert identity.role is not None
    async with identity_transaction(pool, identity) as connection:
        owner_role = await sessions.api_key_owner_role(connection, key_id)
        if owner_role is None:
            raise NotFound(f"no API key has the id {key_id}", "GET /api/v1/api-keys lists them")
        if not may_manage(identity.role, Role(owner_role)):
            raise ApiError(403, "forbidden", f"a {identity.role} may not revoke a {owner_role}'s key")
        revoked = await sessions.revoke_api_key(
            connection, settings.topics, actor_of(request, identity, settings), key_id
        )
    return Revoked(revoked=int(revoked))
