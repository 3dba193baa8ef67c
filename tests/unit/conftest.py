"""Unit tests run with stamina's testing mode: retries through outages wait nothing and stop after the
attempts a test allows (at most 20), so a test of retrying takes milliseconds."""

from collections.abc import Iterator

import pytest
import stamina


@pytest.fixture(autouse=True)
def retries_without_waiting() -> Iterator[None]:
    with stamina.set_testing(True, attempts=20, cap=True):
        yield
