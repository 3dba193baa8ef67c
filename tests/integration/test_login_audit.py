"""Logins against the real database: every attempt recorded (with the address behind trusted proxies and the
location their headers give), lockouts per account and per address that are themselves audited, the same
answer in the same time for an unknown email, and no password ever in a response, a log or a table."""

import asyncio
import logging
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from test_accounts_support import (  # type: ignore[import-not-found]
    PASSWORD,
    Accounts,
    accounts_fixture,  # noqa: F401
    open_api,
)
from windhash_common.access.roles import Role
from windhash_common.accounts import passwords

pytestmark = pytest.mark.integration


@pytest.fixture
async def strict_api(pg_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    """Small lockout limits and a trusted proxy at the test client's own address (127.0.0.1)."""
    client, _ = await open_api(
        pg_dsn,
        auth_lockout_account_failures=3,
        auth_lockout_address_failures=6,
        auth_lockout_base_seconds=1.0,
        api_trusted_proxies=["127.0.0.1"],
    )
    try:
        yield client.http
    finally:
        await client.http.aclose()
        await client.pool.close()


async def attempt(
    http: httpx.AsyncClient, email: str, password: str, address: str = "198.51.100.7"
) -> httpx.Response:
    headers = {
        "X-Forwarded-For": f"203.0.113.250, {address}",
        "X-Client-City": "Leeds",
        "X-Client-Country": "GB",
    }
    return await http.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)


def comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length", "set-cookie")}
    return response.status_code, response.json(), headers


async def test_every_attempt_is_recorded_with_the_address_behind_trusted_proxies_and_its_location(
    strict_api: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.add("ann@example.com", Role.USER)
    assert (await attempt(strict_api, "ann@example.com", "not her password at all")).status_code == 401
    assert (await attempt(strict_api, "ANN@example.com ", PASSWORD)).status_code == 200
    assert (await attempt(strict_api, "nobody@example.com", PASSWORD)).status_code == 401
    rows = await accounts.superuser.fetch(
        "SELECT email, user_id, success, outcome, host(ip) AS ip, city, country FROM login_records"
        " ORDER BY id"
    )
    ann = accounts.ids["ann@example.com"]
    assert [tuple(row) for row in rows] == [
        ("ann@example.com", ann, False, "bad_credentials", "198.51.100.7", "Leeds", "GB"),
        ("ann@example.com", ann, True, "ok", "198.51.100.7", "Leeds", "GB"),
        ("nobody@example.com", None, False, "bad_credentials", "198.51.100.7", "Leeds", "GB"),
    ]


async def test_repeated_failures_lock_the_account_known_or_not_and_the_lock_is_audited(
    strict_api: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.add("bob@example.com", Role.USER)
    answers: dict[str, list[httpx.Response]] = {"bob@example.com": [], "ghost@example.com": []}
    for (email, responses), address in zip(answers.items(), ("198.51.100.20", "198.51.100.22"), strict=True):
        for _ in range(3):  # under the address limit (6): only the email locks
            responses.append(await attempt(strict_api, email, "wrong wrong wrong", address=address))
        responses.append(await attempt(strict_api, email, PASSWORD, address="198.51.100.21"))
    known, unknown = answers["bob@example.com"], answers["ghost@example.com"]
    assert [r.status_code for r in known] == [401, 401, 401, 429], "locked even with the right password"
    assert [comparable(r)[:2] for r in known] == [comparable(r)[:2] for r in unknown], "no enumeration"
    assert int(known[-1].headers["retry-after"]) >= 1
    locks = await accounts.superuser.fetch(
        "SELECT target_type, target_id, actor FROM audit_log WHERE action = 'login.lockout' ORDER BY id"
    )
    assert [(row["target_type"], row["target_id"]) for row in locks] == [
        ("login-email", "bob@example.com"),
        ("login-email", "ghost@example.com"),
    ]
    assert (
        await accounts.superuser.fetchval("SELECT count(*) FROM login_records WHERE outcome = 'locked'")
    ) == 2
    # The lock lasts base × 2^0 = 1 s: afterwards the right password works again.
    deadline = time.monotonic() + 30
    while (response := await attempt(strict_api, "bob@example.com", PASSWORD)).status_code == 429:
        assert time.monotonic() < deadline, "the lock never ended"
        await asyncio.sleep(0.2)
    assert response.status_code == 200


async def test_repeated_failures_from_one_address_lock_that_address_only(
    strict_api: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.add("cat@example.com", Role.USER)
    for number in range(6):  # different emails: no account reaches its own limit
        assert (
            await attempt(strict_api, f"spray{number}@example.com", "guess guess guess")
        ).status_code == 401
    assert (await attempt(strict_api, "cat@example.com", PASSWORD)).status_code == 429
    assert (
        await attempt(strict_api, "cat@example.com", PASSWORD, address="198.51.100.99")
    ).status_code == 200
    assert (
        await accounts.superuser.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'login.lockout' AND target_type = 'login-address'"
            " AND target_id = '198.51.100.7'"
        )
        == 1
    )


async def test_an_unknown_email_gets_the_same_answer_in_the_same_time_with_the_same_work(
    pg_dsn: str, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accounts.add("dan@example.com", Role.USER)
    client, _ = await open_api(pg_dsn, auth_lockout_account_failures=1000, auth_lockout_address_failures=1000)
    verifications: list[str] = []
    real_verify = passwords.verify_password

    def counting_verify(stored: str, password: str) -> bool:
        verifications.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    answers: dict[str, set[Any]] = {"known": set(), "unknown": set()}
    try:
        for round_number in range(8):  # interleaved, so load on the machine hits both alike
            for kind, email in (
                ("known", "dan@example.com"),
                ("unknown", f"nobody{round_number}@example.com"),
            ):
                verifications.clear()
                began = time.perf_counter()
                response = await client.http.post(
                    "/api/v1/auth/login", json={"email": email, "password": "not the password!"}
                )
                timings[kind].append(time.perf_counter() - began)
                assert len(verifications) == 1, f"{kind}: one argon2 verification per attempt"
                status, body, headers = comparable(response)
                answers[kind].add((status, str(body), str(sorted(headers.items()))))
    finally:
        await client.http.aclose()
        await client.pool.close()
    assert answers["known"] == answers["unknown"] and len(answers["known"]) == 1
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    # An argon2 verification is most of an attempt: skipping it for unknown emails would make them several
    # times faster. The bound leaves room for a busy machine's noise, not for a missing verification.
    assert 0.6 < unknown / known < 1.6, f"medians: known {known:.3f} s, unknown {unknown:.3f} s"


async def test_passwords_never_appear_in_a_response_a_log_or_a_table(
    pg_dsn: str, accounts: Accounts, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    await accounts.add("owner@example.com", Role.OWNER)
    secrets_sent = {
        "wrong": "Wrong-Secret-Attempt-0001",
        "first": "First-Secret-Passphrase-7731 kite",
        "changed": "Changed-Secret-Passphrase-5512 oak",
        "reset": "Reset-Secret-Passphrase-9904 elm",
        "weak": "Password1234",
        "owner's": PASSWORD,
    }
    client, _ = await open_api(pg_dsn)
    responses: list[httpx.Response] = []
    http = client.http
    try:
        responses.append(
            await http.post(
                "/api/v1/auth/login", json={"email": "owner@example.com", "password": secrets_sent["wrong"]}
            )
        )
        login = await http.post(
            "/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
        )
        responses.append(login)
        owner = {"Authorization": f"Bearer {login.json()['token']}"}
        new_user = {"email": "eve@example.com", "role": "user", "password": secrets_sent["first"]}
        responses.append(created := await http.post("/api/v1/users", headers=owner, json=new_user))
        responses.append(
            await http.post(
                "/api/v1/users", headers=owner, json={**new_user, "password": secrets_sent["weak"]}
            )
        )
        eve_login = await http.post(
            "/api/v1/auth/login", json={"email": "eve@example.com", "password": secrets_sent["first"]}
        )
        responses.append(eve_login)
        eve = {"Authorization": f"Bearer {eve_login.json()['token']}"}
        change = {"current_password": secrets_sent["first"], "new_password": secrets_sent["changed"]}
        responses.append(await http.post("/api/v1/auth/password", headers=eve, json=change))
        reset = {"one_time_password": secrets_sent["reset"]}
        responses.append(
            await http.post(f"/api/v1/users/{created.json()['id']}/password", headers=owner, json=reset)
        )
        responses.append(
            await http.post("/api/v1/auth/login", json={"email": "eve@example.com", "password": "x" * 2000})
        )
        responses.append(await http.get("/api/v1/audit", headers=owner))
        responses.append(await http.get("/api/v1/users", headers=owner))
    finally:
        await http.aclose()
        await client.pool.close()
    assert [r.status_code for r in responses] == [401, 200, 201, 422, 200, 204, 204, 422, 200, 200]
    captured = capsys.readouterr()
    tables = await accounts.superuser.fetchval(
        "SELECT string_agg(t::text, ' ') FROM ("
        " SELECT row_to_json(u)::text AS t FROM users AS u"
        " UNION ALL SELECT row_to_json(a)::text FROM audit_log AS a"
        " UNION ALL SELECT row_to_json(l)::text FROM login_records AS l"
        " UNION ALL SELECT payload::text FROM outbox) AS everything"
    )
    places = {
        "responses": " ".join(r.text + str(r.headers) for r in responses),
        "logs": caplog.text + captured.out + captured.err,
        "tables": tables,
    }
    for where, text in places.items():
        for name, secret in secrets_sent.items():
            assert secret not in text, f"the {name} password appears in the {where}"
    assert "$argon2id$" not in places["responses"], "not even a hash leaves the server"


async def test_a_suspended_account_or_one_without_access_is_told_so_only_after_the_right_password(
    strict_api: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.add("sue@example.com", Role.USER)
    await accounts.add("nat@example.com", Role.USER)
    await accounts.superuser.execute("UPDATE users SET status = 'suspended' WHERE email = 'sue@example.com'")
    await accounts.superuser.execute(
        "UPDATE user_access SET ends_at = now()"
        " WHERE user_id = (SELECT id FROM users WHERE email = 'nat@example.com')"
    )
    wrong = await attempt(strict_api, "sue@example.com", "not her password either")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")
    suspended = await attempt(strict_api, "sue@example.com", PASSWORD)
    assert (suspended.status_code, suspended.json()["error"]["code"]) == (403, "account_suspended")
    no_access = await attempt(strict_api, "nat@example.com", PASSWORD)
    assert (no_access.status_code, no_access.json()["error"]["code"]) == (403, "no_access")
    outcomes = await accounts.superuser.fetch("SELECT email, success, outcome FROM login_records ORDER BY id")
    assert [tuple(row) for row in outcomes] == [
        ("sue@example.com", False, "bad_credentials"),
        ("sue@example.com", False, "suspended"),
        ("nat@example.com", False, "no_access"),
    ]
    assert await accounts.superuser.fetchval("SELECT count(*) FROM sessions") == 0
