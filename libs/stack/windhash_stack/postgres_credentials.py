"""The local stack's PostgreSQL passwords: generated once per state dir, kept in a libpq password file.

`<state_dir>/postgres/pgpass` (mode 0600) holds one line per role (`*:*:*:<role>:<password>`): the bootstrap
superuser, the owner and every service role. Clients find it through their DSN (`?passfile=...`, which asyncpg
and libpq both read), so no password appears in a DSN, an environment variable, a log or a command line.
A role missing from the file gets a fresh random password the next time the stack starts.
"""

import fcntl
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pydantic import SecretStr

_PASSWORD_BYTES = 32


@dataclass(frozen=True)
class PostgresCredentials:
    passfile: Path
    passwords: dict[str, SecretStr]

    def dsn(self, role: str, host: str, port: int, database: str) -> str:
        return f"postgresql://{role}@{host}:{port}/{database}?passfile={quote(str(self.passfile), safe='/')}"


def read_passfile(passfile: Path) -> dict[str, SecretStr]:
    """The windhash lines of a password file (`*:*:*:role:password`)."""
    if not passfile.is_file():
        return {}
    found = {}
    for line in passfile.read_text().splitlines():
        fields = line.split(":")
        if len(fields) == 5 and fields[:3] == ["*", "*", "*"]:
            found[fields[3]] = SecretStr(fields[4])
    return found


def ensure_credentials(passfile: Path, roles: Iterable[str]) -> PostgresCredentials:
    """The passwords of `roles`, generating (and saving) those the file does not have yet.

    Nodes of one cluster prepare at once and share the file: a lock beside it makes read-generate-write one
    step, so every caller reads the same passwords and none renames away another's file."""
    passfile.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(passfile.with_name(f".{passfile.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        passwords = read_passfile(passfile)
        missing = [role for role in roles if role not in passwords]
        for role in missing:
            # URL-safe base64: no ':' or '\\', which a password file would need escaped.
            passwords[role] = SecretStr(secrets.token_urlsafe(_PASSWORD_BYTES))
        if missing or not passfile.is_file():
            _write_private(
                passfile, "".join(f"*:*:*:{role}:{pw.get_secret_value()}\n" for role, pw in passwords.items())
            )
    finally:
        os.close(lock)
    return PostgresCredentials(passfile, passwords)


def _write_private(path: Path, text: str) -> None:
    """Written to a 0600 file beside it and renamed over: never readable by others, never half-written
    (libpq and asyncpg ignore a password file that group or others can read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    partial.chmod(0o600)
    partial.replace(path)
