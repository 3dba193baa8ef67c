"""The staff the demo acts as, through the API as any operator does: a SYNTHETIC operator (staff: proposes
plans, sells) and a SYNTHETIC administrator (approves plans). Each run gives them a new random password
(`demo_owner.ensure_demo_account`, audited) and logs in with it at the API's /api/v1/auth/login, so every
change the demo makes is the session's, audited with its account like anyone's."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from windhash_common import event_loop
from windhash_common.access.roles import Role

from windhash_cli.demo_owner import ensure_demo_account

OPERATOR_EMAIL = "demo-operator@windhash.example"
ADMIN_EMAIL = "demo-admin@windhash.example"
_STAFF = {
    OPERATOR_EMAIL: ("Demo operator (SYNTHETIC)", Role.USER),
    ADMIN_EMAIL: ("Demo administrator (SYNTHETIC)", Role.ADMIN),
}
HTTP_TIMEOUT_S = 30.0


class DemoStepFailed(RuntimeError):
    """The API refused a step of the demo: the method, path, status and the API's answer."""


class StaffCalls(Protocol):
    """What the demo's steps need of the API: a call as one of its staff (a fake in unit tests)."""

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any: ...


@dataclass
class StaffSessions:
    """The API's origin, as each demo staff account calls it (its session's bearer token)."""

    http: httpx.Client
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        """`method /api/v1{path}` as `who`: its JSON (or bytes of any other type); a refusal raises."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        if response.status_code >= 300:
            raise DemoStepFailed(f"{method} /api/v1{path} as {who}: {response.status_code} {response.text}")
        return response.json() if "json" in response.headers.get("content-type", "") else response.content


@contextmanager
def staff_sessions(api_url: str, operator_dsn: str) -> Iterator[StaffSessions]:
    """Both staff accounts ready and logged in at the API; their sessions closed (logout) on the way out."""
    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT_S) as http:
        sessions = StaffSessions(http, {})
        for email, (name, role) in _STAFF.items():
            password = event_loop.run(ensure_demo_account(operator_dsn, email, name, role, False))
            login = http.post("/api/v1/auth/login", json={"email": email, "password": password})
            if login.status_code != 200:
                raise DemoStepFailed(f"login as {email}: {login.status_code} {login.text}")
            sessions.tokens[email] = login.json()["token"]
        try:
            yield sessions
        finally:
            for token in sessions.tokens.values():
                http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
