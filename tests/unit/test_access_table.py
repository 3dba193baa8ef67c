"""The permission table: docs/ACCESS.md is what it renders, every API route has its row, and the rules the
table cannot hold (who manages whom, which roles a key may carry) say what ACCESS.md says."""

import pytest
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.access_doc import access_doc_path, render
from windhash_common.access.identity import Subject
from windhash_common.access.permission_table import FORWARDING_ROUTE, PERMISSIONS
from windhash_common.access.permissions import Grant
from windhash_common.access.roles import Role, key_roles_for, may_manage, sees_every_client
from windhash_testing.app_routes import routes_of
from windhash_testing.context_services import CONTEXT_SERVICES

DSN = "postgresql://x@127.0.0.1/y"


def api_routes() -> set[str]:
    """Every route of the API and of each context service that the one permission table judges."""
    apps = [create_app(ApiSettings(database_url=DSN))]
    apps += [service.create_app(DSN, {}) for service in CONTEXT_SERVICES if service.table is PERMISSIONS]
    return {f"{method} {path}" for app in apps for method, path in routes_of(app)}


def test_access_md_is_generated_from_the_table() -> None:
    assert access_doc_path().read_text() == render(), (
        "docs/ACCESS.md differs from the permission table: run "
        "`python -m windhash_common.access.access_doc --write`"
    )


def test_every_api_route_has_a_row_and_every_row_names_a_route_that_exists() -> None:
    routes = api_routes()
    assert routes - PERMISSIONS.routes == set(), "routes without a permission row"
    assert PERMISSIONS.routes - routes == set(), "permission rows naming routes the API does not have"


def test_the_owner_may_do_everything_and_anonymous_changes_nothing() -> None:
    for rule in PERMISSIONS.rules:
        if rule.key == ("context-services", "forward"):
            continue  # judged by the context service's own rows
        assert rule.grant(Subject.OWNER, public_analytics=False) is Grant.YES, rule.key
        writes = [route for route in rule.routes if not route.startswith("GET ")]
        if writes and rule.identity:
            assert rule.grant(Subject.ANONYMOUS, public_analytics=True) is Grant.NO, rule.key


def test_only_the_forwarding_route_is_delegated_and_wholly() -> None:
    delegated = [rule for rule in PERMISSIONS.rules if Grant.DELEGATED in rule.grants.values()]
    assert [rule.key for rule in delegated] == [("context-services", "forward")]
    (rule,) = delegated
    assert set(rule.grants.values()) == {Grant.DELEGATED} and len(rule.grants) == len(Subject)
    assert not rule.identity, "the API must not judge credentials it only passes on"
    assert {route.split(" ", 1)[1] for route in rule.routes} == {FORWARDING_ROUTE}


def test_public_cells_close_when_the_analytics_are_private() -> None:
    analytics = PERMISSIONS.rule("analytics", "read")
    assert analytics.grant(Subject.ANONYMOUS, public_analytics=True) is Grant.YES
    assert analytics.grant(Subject.ANONYMOUS, public_analytics=False) is Grant.NO
    assert analytics.grant(Subject.GUEST, public_analytics=False) is Grant.YES


def test_clients_see_their_own_rows_only_where_a_client_owns_rows() -> None:
    own = {rule.key for rule in PERMISSIONS.rules if rule.grants.get(Subject.CLIENT) is Grant.OWN}
    assert own == {("clients", "read"), ("miners", "read"), ("plans", "read"), ("invoices", "read")}


def test_sales_staff_act_on_their_own_records_only_in_the_crm() -> None:
    own = {rule.key for rule in PERMISSIONS.rules if rule.grants.get(Subject.USER) is Grant.OWN}
    assert own == {("crm", "read"), ("crm", "write"), ("invoices", "read"), ("invoices", "write")}
    assert all(PERMISSIONS.rule(*key).grants[Subject.ADMIN] is Grant.YES for key in own)


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.ADMIN, True),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.CLIENT, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.USER, Role.GUEST, False),
        (Role.CLIENT, Role.CLIENT, False),
    ],
)
def test_admins_manage_accounts_below_owner_and_owners_everyone(
    actor: Role, target: Role, allowed: bool
) -> None:
    assert may_manage(actor, target) is allowed


def test_a_key_never_carries_more_than_its_account_nor_a_client_role_without_an_organisation() -> None:
    assert key_roles_for(Role.ADMIN) == {Role.ADMIN, Role.USER, Role.GUEST}
    assert key_roles_for(Role.CLIENT) == {Role.CLIENT, Role.GUEST}
    assert key_roles_for(Role.GUEST) == {Role.GUEST}
    assert Role.OWNER not in key_roles_for(Role.ADMIN)


def test_staff_see_every_client_and_nobody_else_does() -> None:
    assert {role for role in Role if sees_every_client(role)} == {Role.OWNER, Role.ADMIN, Role.USER}
