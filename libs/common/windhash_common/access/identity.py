"""Who is asking: the identity every request carries once the enforcement dependency has resolved it."""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from windhash_common.access.roles import Role


class Subject(StrEnum):
    """A column of the permission table: nobody signed in, or a role."""

    ANONYMOUS = "anonymous"
    GUEST = "guest"
    CLIENT = "client"
    USER = "user"
    ADMIN = "admin"
    OWNER = "owner"


class CredentialKind(StrEnum):
    NONE = "none"
    SESSION = "session"
    API_KEY = "api_key"


@dataclass(frozen=True)
class Identity:
    kind: CredentialKind
    user_id: UUID | None = None
    email: str | None = None
    role: Role | None = None
    client_id: UUID | None = None
    session_id: UUID | None = None
    api_key_id: UUID | None = None
    must_change_password: bool = False
    via_cookie: bool = False

    @property
    def subject(self) -> Subject:
        return Subject.ANONYMOUS if self.role is None else Subject(self.role.value)

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def actor(self) -> str:
        """How the audit trail names it."""
        if self.email is None:
            return "anonymous"
        return f"user:{self.email}" + (f" (key {self.api_key_id})" if self.api_key_id else "")


ANONYMOUS = Identity(kind=CredentialKind.NONE)
