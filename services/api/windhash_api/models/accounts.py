"""Requests and responses of the accounts routes. No response model has a field for a password or a hash:
a password is never returned; a session token or an API key is returned once, to whoever it was issued to."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from windhash_common.access.roles import Role, UserStatus

# Text that reaches the database: no control characters (PostgreSQL refuses NUL; the rest are never meant).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Email = Field(min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
PasswordField = Field(
    min_length=1, max_length=1024, description="sent only in a request body, never returned"
)


def text(max_length: int, min_length: int = 1) -> Any:
    """Printable text, surrounding whitespace removed before the length is checked."""
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=PRINTABLE
    )


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320, pattern=PRINTABLE)
    password: str = PasswordField


class LoginResponse(BaseModel):
    token: str = Field(description="the session token (also set as an HttpOnly cookie); shown only here")
    expires_in_s: int
    must_change_password: bool
    user: "UserOut"


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = PasswordField
    new_password: str = PasswordField


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    one_time_password: str = Field(
        min_length=1, max_length=1024, description="the account must change it at its next login"
    )


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: Role
    status: UserStatus
    client_id: UUID | None
    client_name: str | None
    must_change_password: bool
    may_act_now: bool = Field(description="active, and an access window covers now")
    created_at: datetime
    updated_at: datetime


class Me(BaseModel):
    user: UserOut
    credential: str = Field(description="`session` or `api_key`")
    role: Role = Field(description="the role this request acts with (an API key's may be lesser)")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Email
    name: Annotated[str, text(200, min_length=0)] = ""
    role: Role
    client_id: UUID | None = Field(default=None, description="the organisation of a client account")
    password: str = Field(
        min_length=1,
        max_length=1024,
        description="a one-time password the account must change at first login",
    )
    access_until: AwareDatetime | None = Field(default=None, description="end of the first access window")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, text(200, min_length=0)] | None = None
    role: Role | None = None
    status: UserStatus | None = None
    client_id: UUID | None = None


class AccessGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime | None = Field(default=None, description="default: until revoked")


class AccessWindow(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime | None
    granted_via: str
    created_at: datetime
    current: bool


class Revoked(BaseModel):
    revoked: int = Field(description="how many were revoked or ended")


class SessionOut(BaseModel):
    id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    ip: str | None
    user_agent: str | None
    current: bool = False


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, text(100)]
    role: Role
    user_id: UUID | None = Field(default=None, description="whose key (default: the caller's)")
    expires_at: AwareDatetime | None = None


class ApiKeyOut(BaseModel):
    id: UUID
    user_id: UUID
    email: str
    name: str
    role: Role
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    key: str = Field(description="send as `Authorization: Bearer <key>`; shown only here, never again")
    api_key: ApiKeyOut


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, text(200)]


class ClientOut(BaseModel):
    id: UUID
    name: str
    created_at: datetime


class AuditEntry(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    actor_user_id: UUID | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None


class LoginRecordOut(BaseModel):
    id: int
    attempted_at: datetime
    email: str
    user_id: UUID | None
    success: bool
    outcome: str
    ip: str | None
    city: str | None
    country: str | None
    user_agent: str | None
