"""AWS clients (DynamoDB): the standard credential chain, except against DynamoDB Local.

Against AWS, boto's own chain finds the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
the shared files, web identity, ECS and EC2 instance roles): windhash names no key, so nothing overrides it.
DynamoDB Local (an `http://` endpoint: the local stack's, a test's or compose's `dynamodb` container) accepts
any key but still wants one: it gets fixed dummy keys, and only it.
"""

from typing import Any
from urllib.parse import urlsplit

import aioboto3

# DynamoDB Local only: it checks that a signature is present, not whose it is.
# DynamoDB Local 2.x accepts key ids of letters and digits only.
LOCAL_DUMMY_KEYS = {"aws_access_key_id": "windhash", "aws_secret_access_key": "windhash"}


def is_dynamodb_local(endpoint: str | None) -> bool:
    """An explicit plain-HTTP endpoint: DynamoDB Local. AWS's endpoints are HTTPS (and the default)."""
    return bool(endpoint) and urlsplit(endpoint or "").scheme == "http"


def dynamodb_session(region: str, endpoint: str | None) -> aioboto3.Session:
    if is_dynamodb_local(endpoint):
        return aioboto3.Session(region_name=region, **LOCAL_DUMMY_KEYS)
    return aioboto3.Session(region_name=region)


def dynamodb_client_options(endpoint: str | None) -> dict[str, Any]:
    """`session.client("dynamodb", **options)`: the endpoint when one is set, else AWS's own."""
    return {"endpoint_url": endpoint} if endpoint else {}
