"""DynamoDB Local (from Maven Central) with its sqlite4java native library, persisted on disk, listening
only on the stack's host.

DynamoDB Local has no option for the address it listens on (its ServerRunner listens on every interface).
The stack runs it through `deploy/local/dynamodb/LoopbackDynamoDbLocal.java`, a launcher that builds the
server with DynamoDB Local's own embedded-server API and binds its Jetty connector to `WINDHASH_STACK_HOST`
before starting it; it is compiled with javac once per stack (and again when its source changes).
"""

import hashlib
import platform
import shutil
import subprocess
from pathlib import Path

import aioboto3
from botocore.config import Config

from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.jars import ensure_jars, jars_current
from windhash_stack.prerequisites import find_java, find_javac, find_maven
from windhash_stack.server_base import ManagedServer

_SQLITE_PLATFORMS = {
    "x86_64": "linux-amd64",
    "amd64": "linux-amd64",
    "i386": "linux-i386",
    "i686": "linux-i386",
}
_MAIN_CLASS = "dev.windhash.local.LoopbackDynamoDbLocal"
_LAUNCHER_SOURCE = "LoopbackDynamoDbLocal.java"


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

    @property
    def launcher_source(self) -> Path:
        return self.settings.deploy_dir / "dynamodb" / _LAUNCHER_SOURCE

    @property
    def launcher_classes(self) -> Path:
        """Where the compiled launcher lives: named by its source's hash, so an edited source is rebuilt."""
        digest = hashlib.sha256(self.launcher_source.read_bytes()).hexdigest()[:16]
        return self.home / "launcher" / digest

    def check_prerequisites(self) -> None:
        find_java()
        if not jars_current(self.settings.deploy_dir / "dynamodb" / "pom.xml", self.jars):
            find_maven()
        if not self.launcher_classes.is_dir():
            find_javac()

    def prepare(self) -> list[str]:
        steps = []
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if ensure_jars(self.settings.deploy_dir / "dynamodb" / "pom.xml", self.jars):
            steps.append("fetched DynamoDB Local jars")
        self._install_native_library()
        if self._build_launcher():
            steps.append("built the DynamoDB Local launcher")
        return steps

    def _build_launcher(self) -> bool:
        target = self.launcher_classes
        if target.is_dir():
            return False
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        command = [str(find_javac()), "-cp", f"{self.jars}/*", "-d", str(building), str(self.launcher_source)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"Building the DynamoDB Local launcher failed:\n{result.stdout}{result.stderr}")
        building.rename(target)  # whole or not at all
        return True

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
            f"{self.launcher_classes}:{self.jars}/*",
            _MAIN_CLASS,
            "-host",
            self.settings.host,
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
