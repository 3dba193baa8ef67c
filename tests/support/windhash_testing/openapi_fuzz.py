"""Schemathesis over an app's own OpenAPI document on a live server: every operation, with data that fits the
schema and data that does not; what it finds that is a 5xx or not as documented comes back as failures.
Shared by the API's and each context service's fuzz tests."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 25
# Not "positive data accepted": a schema-valid month such as 2024-13 is still refused, with a hint.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fuzz(base_url: str, headers: dict[str, str] | None = None) -> list[str]:
    """Every operation of `{base_url}/openapi.json`; returns the failures (blocking: run it in a thread)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"the OpenAPI document has an invalid operation: {result.err()}")
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=base_url, timeout=30, headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {response.request.url} -> {response.status_code}")
                return
            case.validate_response(response, checks=CHECKS)

        check()
    return failures
