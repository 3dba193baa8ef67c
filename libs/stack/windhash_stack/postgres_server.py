"""PostgreSQL 15+ from the machine's server binaries, run as an unprivileged account when we are root."""

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import asyncpg

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.prerequisites import find_postgres_bin
from windhash_stack.processes import RunAs
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings


def postgres_options(settings: StackSettings) -> dict[str, str]:
    """Server settings passed as `-c name=value`, so changed ports apply without editing postgresql.conf."""
    return {
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
    }


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
        return f"postgresql://{self.settings.postgres_user}@{self.settings.host}:{self.settings.postgres_port}/{database}"

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
        command = [
            str(find_postgres_bin() / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            self.settings.postgres_user,  # the bootstrap superuser, so no separate CREATE ROLE is needed
            "--auth",
            "trust",  # only ever listens on loopback
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
        try:
            connection = await asyncpg.connect(self.endpoint, timeout=timeout_s)
        except asyncpg.InvalidCatalogNameError:
            await self._create_database(timeout_s)
            connection = await asyncpg.connect(self.endpoint, timeout=timeout_s)
        try:
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout_s)
        finally:
            await connection.close()

    async def _create_database(self, timeout_s: float) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"), timeout=timeout_s)
        try:
            name = self.settings.postgres_database
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
