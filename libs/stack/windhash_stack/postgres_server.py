"""PostgreSQL 15+ from the machine's server binaries, run as an unprivileged account when we are root.

Every connection authenticates with a password (SCRAM-SHA-256, never `trust`, loopback or not): the cluster
is initialised with the superuser's password, `pg_hba.conf` is ours, and after every start `configure`
creates the windhash roles (windhash_common.db_roles) with the passwords of the state dir's password file
(postgres_credentials) and the `windhash` database owned by `windhash_owner`. A cluster made before passwords
were required (pg_hba `trust`) is brought to the same state in place on its next `up`.
"""

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import asyncpg
from windhash_common.db_roles import DatabaseRole, provision_roles, set_superuser_password

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.postgres_credentials import PostgresCredentials, ensure_credentials
from windhash_stack.prerequisites import find_postgres_bin
from windhash_stack.processes import RunAs
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings


def postgres_options(settings: StackSettings) -> dict[str, str]:
    """Server settings passed as `-c name=value`, so changed ports apply without editing postgresql.conf."""
    preload = {"shared_preload_libraries": settings.postgres_preload} if settings.postgres_preload else {}
    return {
        **preload,
        "listen_addresses": settings.host,
        "port": str(settings.postgres_port),
        # TCP only: no socket in /var/run/postgresql, which the unprivileged account may not be able to write.
        "unix_socket_directories": "",
        # Every test gets its own database and each service its own pool.
        "max_connections": "300",
        # fsync stays on: chaos tests kill the server and must find every committed row afterwards.
        "fsync": "on",
        # A year's backfill writes a few GB of WAL: with the 1 GB default it checkpoints every few seconds,
        # and each checkpoint makes the next change to every page log a full-page image again (more WAL,
        # more walwriter and checkpointer CPU). Checkpoints by time instead; recovery after a kill replays
        # at most that much WAL (seconds here).
        "max_wal_size": "8GB",
        "checkpoint_timeout": "15min",
        # The default 128 MB is smaller than a year's calculation index; reads of recently written pages
        # should not go back to the kernel's cache.
        "shared_buffers": "512MB",
        "logging_collector": "off",
        "log_min_messages": "warning",
        "log_timezone": "UTC",
        "timezone": "UTC",
        "password_encryption": "scram-sha-256",
    }


# Written on every start: a password for every connection, from wherever it comes (listen_addresses decides
# where the server can be reached at all).
PG_HBA = """# Written by `windhash stack`: every connection authenticates with a password (SCRAM-SHA-256).
host all all all scram-sha-256
"""


def ensure_os_user(name: str) -> RunAs:
    """The account PostgreSQL runs under when we are root; created as a system user on first use."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            entry = pwd.getpwnam("nobody")
        else:
            subprocess.run(
                [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                capture_output=True,
                check=False,
            )
            entry = pwd.getpwnam(name)
    return RunAs(uid=entry.pw_uid, gid=entry.pw_gid)


def check_reachable(folder: Path, run_as: RunAs, account: str) -> None:
    """PostgreSQL's account must be able to walk down to its data dir; say so plainly when it cannot."""
    for directory in [folder, *folder.parents]:
        info = directory.stat()
        searchable = info.st_mode & 0o001 or (info.st_uid == run_as.uid and info.st_mode & 0o100)
        if not searchable:
            raise StackError(
                f"PostgreSQL runs as the unprivileged account {account}, which cannot enter {directory}: "
                f"run `chmod o+x {directory}` or set WINDHASH_STACK_STATE_DIR to a folder it can reach."
            )


class PostgresServer(ManagedServer):
    server = Server.POSTGRES
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for every pooled client to leave.
    graceful_signal = signal.SIGINT

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def marker(self) -> str:
        return str(self.data_dir)

    @property
    def port(self) -> int:
        return self.settings.postgres_port

    @property
    def endpoint(self) -> str:
        return self.dsn(self.settings.postgres_database)

    def dsn(self, database: str) -> str:
        """The superuser's DSN (for the stack and the tests' set-up); services get `role_dsn`."""
        return self.role_dsn(self.settings.postgres_user, database)

    def role_dsn(self, role: str, database: str | None = None) -> str:
        return self.credentials.dsn(
            role, self.settings.host, self.settings.postgres_port, database or self.settings.postgres_database
        )

    @property
    def credentials(self) -> PostgresCredentials:
        roles = [self.settings.postgres_user, *(role.value for role in DatabaseRole)]
        return ensure_credentials(self.settings.postgres_passfile, roles)

    @property
    def hba_file(self) -> Path:
        return self.data_dir / "pg_hba.conf"

    @property
    def cwd(self) -> Path:
        return self.data_dir

    def run_as(self) -> RunAs | None:
        if os.geteuid() != 0:
            return None
        return ensure_os_user(self.settings.postgres_os_user)

    def check_prerequisites(self) -> None:
        find_postgres_bin()

    def prepare(self) -> list[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        if (self.data_dir / "PG_VERSION").is_file():
            return []
        self._initdb()
        return ["initialised the PostgreSQL cluster"]

    def _initdb(self) -> None:
        run_as = self.run_as()
        if run_as:
            check_reachable(self.home, run_as, self.settings.postgres_os_user)
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a half-made cluster from an interrupted initdb
        self.data_dir.mkdir(mode=0o700)
        if run_as:
            os.chown(self.data_dir, run_as.uid, run_as.gid)
        password_file = self.home / ".initdb-password"
        password_file.write_text(self.credentials.passwords[self.settings.postgres_user].get_secret_value())
        password_file.chmod(0o600)
        if run_as:
            os.chown(password_file, run_as.uid, run_as.gid)
        try:
            self._run_initdb(password_file, run_as)
        finally:
            password_file.unlink(missing_ok=True)
        self._write_hba()

    def _run_initdb(self, password_file: Path, run_as: RunAs | None) -> None:
        command = [
            str(find_postgres_bin() / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            self.settings.postgres_user,  # the bootstrap superuser, so no separate CREATE ROLE is needed
            "--auth",
            "scram-sha-256",
            "--pwfile",
            str(password_file),
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.data_dir,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed for {self.data_dir}:\n{result.stdout}{result.stderr}")

    def command(self) -> list[str]:
        options = [
            arg
            for name, value in postgres_options(self.settings).items()
            for arg in ("-c", f"{name}={value}")
        ]
        return [str(find_postgres_bin() / "postgres"), "-D", str(self.data_dir), *options]

    async def probe(self, timeout_s: float) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"), timeout=timeout_s)
        try:
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout_s)
        finally:
            await connection.close()

    async def configure(self, timeout_s: float) -> list[str]:
        """Roles, passwords, the windhash database and password-only authentication (idempotent)."""
        credentials = self.credentials
        superuser = self.settings.postgres_user
        connection = await asyncpg.connect(self.dsn("postgres"), timeout=timeout_s)
        try:
            await set_superuser_password(connection, superuser, credentials.passwords[superuser])
            roles = {role.value: credentials.passwords[role.value] for role in DatabaseRole}
            steps = [f"created the database role {role}" for role in await provision_roles(connection, roles)]
            steps += await self._ensure_database(connection)
            if self._write_hba():
                await connection.execute("SELECT pg_reload_conf()")
                steps.append("required passwords (SCRAM) for every connection")
        finally:
            await connection.close()
        return steps

    async def _ensure_database(self, connection: asyncpg.Connection) -> list[str]:
        name, owner = self.settings.postgres_database, DatabaseRole.OWNER.value
        current = await connection.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name
        )
        if current is None:
            await connection.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
            return [f"created the database {name}"]
        if current != owner:
            await connection.execute(f'ALTER DATABASE "{name}" OWNER TO {owner}')
        return []

    def _write_hba(self) -> bool:
        """Our pg_hba.conf in place of whatever is there; True when it changed."""
        if self.hba_file.is_file() and self.hba_file.read_text() == PG_HBA:
            return False
        self.hba_file.write_text(PG_HBA)
        run_as = self.run_as()
        if run_as:
            os.chown(self.hba_file, run_as.uid, run_as.gid)
        return True
