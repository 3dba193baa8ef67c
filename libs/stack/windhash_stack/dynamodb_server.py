"""DynamoDB Local (from Maven Central) with its sqlite4java native library, persisted on disk."""

import platform
import shutil
from pathlib import Path

import aioboto3
from botocore.config import Config

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.jars import ensure_jars, jars_current
from windhash_stack.prerequisites import find_java, find_maven
from windhash_stack.server_base import ManagedServer

_SQLITE_PLATFORMS = {
    "x86_64": "linux-amd64",
    "amd64": "linux-amd64",
    "i386": "linux-i386",
    "i686": "linux-i386",
}
_MAIN_CLASS = "com.amazonaws.services.dynamodbv2.local.main.ServerRunner"


def sqlite_native_name(machine: str) -> str:
    """The sqlite4java library name for this CPU ('x86_64' → 'libsqlite4java-linux-amd64')."""
    try:
        return f"libsqlite4java-{_SQLITE_PLATFORMS[machine.lower()]}"
    except KeyError:
        raise StackError(
            f"DynamoDB Local's sqlite4java has no native library for Linux on {machine}."
        ) from None


class DynamoDbServer(ManagedServer):
    server = Server.DYNAMODB

    @property
    def jars(self) -> Path:
        return self.settings.jars_root / "dynamodb"

    @property
    def native_dir(self) -> Path:
        return self.settings.jars_root / "dynamodb-native"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def marker(self) -> str:
        return str(self.data_dir)

    @property
    def port(self) -> int:
        return self.settings.dynamodb_port

    @property
    def endpoint(self) -> str:
        return f"http://{self.settings.host}:{self.settings.dynamodb_port}"

    def check_prerequisites(self) -> None:
        find_java()
        if not jars_current(self.settings.deploy_dir / "dynamodb" / "pom.xml", self.jars):
            find_maven()

    def prepare(self) -> list[str]:
        steps = []
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if ensure_jars(self.settings.deploy_dir / "dynamodb" / "pom.xml", self.jars):
            steps.append("fetched DynamoDB Local jars")
        self._install_native_library()
        return steps

    def _install_native_library(self) -> None:
        name = sqlite_native_name(platform.machine())
        target = self.native_dir / f"{name}.so"
        if target.is_file():
            return
        # Maven names it with its version (…-linux-amd64-1.0.392.so); sqlite4java wants it without.
        found = sorted(self.jars.glob(f"{name}-*.so"))
        if not found:
            raise StackError(
                f"{name}.so is missing from {self.jars}; delete that folder to fetch the jars again."
            )
        self.native_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found[-1], target)

    def command(self) -> list[str]:
        return [
            str(find_java()),
            f"-Xmx{self.settings.dynamodb_heap}",
            "-XX:+UseSerialGC",
            *self.settings.jvm_options.split(),
            f"-Djava.library.path={self.native_dir}",
            f"-Dsqlite4java.library.path={self.native_dir}",
            "-cp",
            f"{self.jars}/*",
            _MAIN_CLASS,
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
            "-dbPath",
            str(self.data_dir),
        ]

    async def probe(self, timeout_s: float) -> None:
        config = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 1})
        session = aioboto3.Session()
        async with session.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="eu-west-2",
            aws_access_key_id="windhash",
            aws_secret_access_key="windhash",
            config=config,
        ) as client:
            await client.list_tables(Limit=1)
