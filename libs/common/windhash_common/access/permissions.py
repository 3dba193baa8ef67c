"""The shape of the permission table (permission_table.py holds the data) and how a cell is read."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from windhash_common.access.identity import Subject


class Grant(StrEnum):
    YES = "yes"
    OWN = "own"
    """Allowed, on the rows the subject's organisation owns only (row-level security)."""
    PUBLIC = "public"
    """Allowed while the analytics are public (WINDHASH_API_PUBLIC_ANALYTICS, true by default)."""
    DELEGATED = "delegated"
    """Judged by another app: the API passes the request on to the context service owning the path, whose
    own row for its route decides (authorization stays in one place, that service's `authorize`)."""
    NO = "no"


@dataclass(frozen=True)
class Rule:
    resource: str
    action: str
    description: str
    grants: Mapping[Subject, Grant]
    identity: bool = True
    """False: credentials are not looked at (logging in, probes, the dashboard's page): a stale cookie must
    not stop anyone from logging in again."""
    during_password_change: bool = False
    """Allowed while the account must change its password (after an administrator's reset)."""
    routes: tuple[str, ...] = field(default=())
    """`METHOD /path/{template}` of every route that performs this action (HEAD counts as GET)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource, self.action)

    def grant(self, subject: Subject, public_analytics: bool) -> Grant:
        granted = self.grants.get(subject, Grant.NO)
        if granted is Grant.PUBLIC:
            return Grant.YES if public_analytics else Grant.NO
        return granted


def grants(
    anonymous: Grant = Grant.NO,
    guest: Grant = Grant.NO,
    client: Grant = Grant.NO,
    user: Grant = Grant.NO,
    admin: Grant = Grant.NO,
    owner: Grant = Grant.NO,
) -> dict[Subject, Grant]:
    return {
        Subject.ANONYMOUS: anonymous,
        Subject.GUEST: guest,
        Subject.CLIENT: client,
        Subject.USER: user,
        Subject.ADMIN: admin,
        Subject.OWNER: owner,
    }


YES, OWN, PUBLIC, DELEGATED, NO = Grant.YES, Grant.OWN, Grant.PUBLIC, Grant.DELEGATED, Grant.NO
EVERYONE = grants(YES, YES, YES, YES, YES, YES)
PUBLIC_READ = grants(PUBLIC, YES, YES, YES, YES, YES)
SIGNED_IN = grants(NO, YES, YES, YES, YES, YES)
STAFF = grants(user=YES, admin=YES, owner=YES)
ADMINS = grants(admin=YES, owner=YES)
OWNERS = grants(owner=YES)
STAFF_AND_OWN_CLIENT = grants(client=OWN, user=YES, admin=YES, owner=YES)
TO_ITS_SERVICE = grants(DELEGATED, DELEGATED, DELEGATED, DELEGATED, DELEGATED, DELEGATED)


class PermissionTable:
    """The rules, indexed by action and by route."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._by_route: dict[str, Rule] = {}
        for rule in rules:
            for route in rule.routes:
                if route in self._by_route:
                    raise ValueError(f"{route} is mapped twice in the permission table")
                self._by_route[route] = rule
        keys = [rule.key for rule in rules]
        if len(keys) != len(set(keys)):
            raise ValueError("a (resource, action) appears twice in the permission table")

    def for_route(self, method: str, path: str) -> Rule | None:
        return self._by_route.get(route_key(method, path))

    def rule(self, resource: str, action: str) -> Rule:
        for rule in self.rules:
            if rule.key == (resource, action):
                return rule
        raise KeyError((resource, action))

    @property
    def routes(self) -> frozenset[str]:
        return frozenset(self._by_route)


def route_key(method: str, path: str) -> str:
    return f"{'GET' if method == 'HEAD' else method} {path}"
