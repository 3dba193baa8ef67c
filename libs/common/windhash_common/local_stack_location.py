"""Where the local stack keeps its state (its settings extend this), known without importing the stack.

The `windhash` command reads it at start to find the local stack's PostgreSQL password file, which costs no
import of the stack's servers (`windhash ingest` starts without them).
"""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

STATE_DIR_NAME = ".windhash"
PASSFILE_NAME = "pgpass"


def find_repo_root(start: Path) -> Path | None:
    """The checkout this package was loaded from (nearest ancestor holding pyproject.toml and libs/)."""
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "libs").is_dir():
            return candidate
    return None


def checkout_root() -> Path:
    # Anchored to the checkout rather than the CWD, so `windhash stack` finds the same stack from any
    # directory; an installed (non-editable) copy has no checkout around it and falls back to the CWD.
    return find_repo_root(Path(__file__).resolve().parent) or Path.cwd()


def default_state_dir() -> Path:
    return checkout_root() / STATE_DIR_NAME


class LocalStackLocation(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WINDHASH_STACK_", extra="ignore")

    state_dir: Path = Field(default_factory=default_state_dir)

    @property
    def postgres_passfile(self) -> Path:
        """The libpq password file holding every database role's generated password (mode 0600)."""
        return self.state_dir / "postgres" / PASSFILE_NAME


def use_local_stack_passwords() -> None:
    """Point libpq's PGPASSFILE at the local stack's password file when nothing else was chosen, so
    `windhash ...` by hand connects with the default DSN (a DSN's own `passfile` still wins)."""
    passfile = LocalStackLocation().postgres_passfile
    if "PGPASSFILE" not in os.environ and passfile.is_file():
        os.environ["PGPASSFILE"] = str(passfile)
