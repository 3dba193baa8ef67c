"""The five roles and the rules about them that are not a cell of the permission table."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    """Everything, including managing admins and other owners."""
    ADMIN = "admin"
    """Manages users below owner, access windows, API keys, clients; reads the audit trail."""
    USER = "user"
    """Staff: operates the fleet and the CRM; sees every client's rows."""
    CLIENT = "client"
    """A hosting client: sees only the rows its organisation owns."""
    GUEST = "guest"
    """An account for the public analytics (readable without one too, unless they are made private)."""


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


STAFF = frozenset({Role.OWNER, Role.ADMIN, Role.USER})


def sees_every_client(role: Role) -> bool:
    """Staff see every client's rows; a client only its own; a guest none (row-level security)."""
    return role in STAFF


def may_manage(actor: Role, target: Role) -> bool:
    """Whether `actor` may create, change, suspend, reset or grant access to an account of role `target`
    (or give an account that role): owners anyone; admins anyone below owner; nobody else anyone."""
    if actor is Role.OWNER:
        return True
    return actor is Role.ADMIN and target is not Role.OWNER


def key_roles_for(role: Role) -> frozenset[Role]:
    """The roles an API key of a user of `role` may carry: its own or a lesser one of the same kind (a
    client's keys stay a client's; staff keys never become a client's, which needs an organisation)."""
    if role is Role.CLIENT:
        return frozenset({Role.CLIENT, Role.GUEST})
    order = [Role.OWNER, Role.ADMIN, Role.USER, Role.GUEST]
    return frozenset(order[order.index(role) :])
