"""Who is acting and from where, for the audit records (and the API's login records) of every HTTP app."""

from fastapi import Request

from windhash_common.access.identity import Identity
from windhash_common.access.settings import AccessSettings
from windhash_common.accounts.client_address import ClientInfo, client_info
from windhash_common.audit import Actor


def request_client(request: Request, settings: AccessSettings) -> ClientInfo:
    return client_info(
        request.client.host if request.client else None,
        {name: value for name, value in request.headers.items()},
        settings.trusted_proxy_networks,
        settings.api_client_city_header,
        settings.api_client_country_header,
    )


def actor_of(request: Request, identity: Identity, settings: AccessSettings) -> Actor:
    return Actor(identity.actor, identity.user_id, request_client(request, settings).address)
