"""Passwords (ASVS level 2), the client's address behind proxies, lockout lengths and audit redaction."""

from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest
from windhash_common.accounts.client_address import client_address, client_info
from windhash_common.accounts.lockout import LockoutPolicy, locked_until
from windhash_common.accounts.passwords import (
    PasswordRejected,
    check_password_rules,
    hash_password,
    one_time_password,
    verify_for_unknown_user,
    verify_password,
)
from windhash_common.audit import REDACTED, redacted

PROXIES = [ip_network("10.0.0.0/8"), ip_network("::1/128")]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "at least 12"),
        ("x" * 129, "at most 128"),
        ("LeaveMeAlone", "common"),
        ("aaaaaaaaaaaaaaaa", "too easy"),
        ("alice.smith@example.com1", "too easy"),
        ("tab\tinside a long passphrase", "control"),
    ],
)
def test_passwords_breaking_a_rule_are_refused_with_the_rule_not_the_password(
    password: str, reason: str
) -> None:
    with pytest.raises(PasswordRejected) as refused:
        check_password_rules(password, "alice.smith@example.com", "Alice Smith")
    assert reason in str(refused.value)
    assert password not in str(refused.value)


def test_a_long_passphrase_with_spaces_and_any_unicode_is_accepted() -> None:
    check_password_rules("crimson tide öpens the sluice 🌬", "alice@example.com")
    check_password_rules(one_time_password())


def test_hashes_are_argon2id_verify_the_same_characters_typed_differently_and_nothing_else() -> None:
    stored = hash_password("Ｗide wind turbines hum")  # full-width W, NFKC-normalised to W
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Wide wind turbines hum")
    assert not verify_password(stored, "wide wind turbines hum")
    assert not verify_password("not a hash", "anything")
    assert verify_for_unknown_user("anything at all") is False


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer's header is ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.7", "198.51.100.1"),  # forged leftmost entry skipped
        ("10.0.0.2", "10.0.0.9, 10.0.0.7", "10.0.0.9"),  # only proxies: the farthest one
        ("10.0.0.2", "garbage, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("10.0.0.2", None, "10.0.0.2"),
        (None, "198.51.100.1", None),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str | None, forwarded: str | None, expected: str | None
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_location_comes_only_from_a_trusted_proxy_and_only_as_short_printable_text() -> None:
    headers = {"x-client-city": " Leeds ", "x-client-country": "GB\x00", "user-agent": "ua"}
    from_proxy = client_info("10.0.0.2", headers, PROXIES, "X-Client-City", "X-Client-Country")
    assert (from_proxy.city, from_proxy.country, from_proxy.user_agent) == ("Leeds", None, "ua")
    direct = client_info("203.0.113.9", headers, PROXIES, "X-Client-City", "X-Client-Country")
    assert (direct.address, direct.city, direct.country) == ("203.0.113.9", None, None)


def test_each_failure_past_the_limit_doubles_the_lock_up_to_the_longest() -> None:
    policy = LockoutPolicy(5, timedelta(seconds=30), timedelta(minutes=10))
    last = datetime(2026, 1, 1, tzinfo=UTC)
    assert locked_until(4, last, policy) is None
    assert locked_until(5, last, policy) == last + timedelta(seconds=30)
    assert locked_until(6, last, policy) == last + timedelta(seconds=60)
    assert locked_until(9, last, policy) == last + timedelta(seconds=480)
    assert locked_until(10_000, last, policy) == last + timedelta(minutes=10)
    assert locked_until(7, None, policy) is None


def test_audit_states_never_hold_a_secret_but_keep_flags() -> None:
    state = {
        "email": "a@b.c",
        "password": "hunter2 hunter2",
        "password_hash": "$argon2id$...",
        "must_change_password": True,
        "nested": {"token": "whs_x", "api_key": "whk_y", "role": "admin"},
        "when": datetime(2026, 1, 1, tzinfo=UTC),
    }
    clean = redacted(state)
    assert clean == {
        "email": "a@b.c",
        "password": REDACTED,
        "password_hash": REDACTED,
        "must_change_password": True,
        "nested": {"token": REDACTED, "api_key": REDACTED, "role": "admin"},
        "when": "2026-01-01T00:00:00+00:00",
    }
