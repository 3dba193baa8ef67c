"""/api/v1/clients: client organisations. A client's request sees its own only: the query has no filter,
PostgreSQL's row-level security does it (windhash_common.access.request_identity)."""

from fastapi import APIRouter, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.request_actor import actor_of
from windhash_common.access.request_identity import identity_transaction
from windhash_common.accounts import users as accounts

from windhash_api.database import Pool, Settings
from windhash_api.errors import ApiError
from windhash_api.models.accounts import ClientCreate, ClientOut
from windhash_api.routes import API_PREFIX
from windhash_api.routes.users import RESPONSES

router = APIRouter(prefix=f"{API_PREFIX}/clients", tags=["clients"])


@router.get(
    "", response_model=list[ClientOut], responses=RESPONSES, summary="Client organisations it may see"
)
async def list_clients(identity: CurrentIdentity, pool: Pool) -> list[ClientOut]:
    async with identity_transaction(pool, identity) as connection:
        rows = await accounts.list_clients(connection)
    return [ClientOut.model_validate(dict(row)) for row in rows]


@router.post("", response_model=ClientOut, status_code=201, responses=RESPONSES, summary="A new organisation")
async def create_client(
    body: ClientCreate, request: Request, identity: CurrentIdentity, pool: Pool, settings: Settings
) -> ClientOut:
    try:
        async with identity_transaction(pool, identity) as connection:
            row = await accounts.create_client(
                connection, settings.topics, actor_of(request, identity, settings), body.name
            )
    except accounts.AccountError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return ClientOut.model_validate(dict(row))
