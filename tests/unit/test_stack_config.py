"""Pure parts of the local stack: rendered configs, settings, status JSON, leases."""

import hashlib
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from windhash_stack import Server, ServerStatus, StackEndpoints, StackSettings, StackStatus
from windhash_stack.dynamodb_server import DynamoDbServer, sqlite_native_name
from windhash_stack.errors import StackError
from windhash_stack.jars import jars_current
from windhash_stack.kafka_server import KafkaServer, new_cluster_id, render_server_properties
from windhash_stack.leases import Leases
from windhash_stack.postgres_credentials import ensure_credentials
from windhash_stack.postgres_server import PG_HBA, PostgresServer, check_reachable, postgres_options
from windhash_stack.processes import RunAs, tail
from windhash_stack.settings import find_repo_root


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_kafka_properties_single_node_kraft_on_configured_ports(tmp_path: Path) -> None:
    settings = StackSettings(state_dir=tmp_path, kafka_port=29092, kafka_controller_port=29093)
    properties = _properties(render_server_properties(settings, tmp_path / "data"))
    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert properties["log.dirs"] == str(tmp_path / "data")
    assert properties["offsets.topic.replication.factor"] == "1"


def test_cluster_id_is_22_url_safe_characters() -> None:
    cluster_id = new_cluster_id()
    assert len(cluster_id) == 22
    assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cluster_id_never_starts_with_a_dash_the_storage_tool_would_read_as_an_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=bytes(16))])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    assert new_cluster_id() == "AAAAAAAAAAAAAAAAAAAAAA"


def test_every_node_of_a_cluster_reads_one_cluster_id_even_when_all_find_none_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = StackSettings(state_dir=tmp_path)
    nodes = [KafkaServer(settings, node, 3) for node in (1, 2, 3)]
    monkeypatch.setattr(Path, "is_file", lambda self: False)  # each looks before any has written: a race
    assert len({node._cluster_id() for node in nodes}) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kafka-3.cluster-id"]


def test_callers_preparing_at_once_read_one_password_file_and_the_same_passwords(tmp_path: Path) -> None:
    # The three nodes of a test cluster format their storage at once; each must read the one SCRAM password.
    passfile = tmp_path / "kafka-credentials"
    with ThreadPoolExecutor(max_workers=12) as pool:
        found = list(pool.map(lambda _: ensure_credentials(passfile, ["windhash"]), range(48)))
    assert len({credentials.passwords["windhash"].get_secret_value() for credentials in found}) == 1
    assert passfile.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_postgres_listens_on_loopback_port_and_keeps_fsync(tmp_path: Path) -> None:
    options = postgres_options(StackSettings(state_dir=tmp_path, postgres_port=25432))
    assert options["listen_addresses"] == "127.0.0.1"
    assert options["port"] == "25432"
    assert options["fsync"] == "on"


def test_postgres_dsn_names_user_port_database_and_password_file_never_the_password(tmp_path: Path) -> None:
    server = PostgresServer(StackSettings(state_dir=tmp_path, postgres_port=25432))
    passfile = tmp_path / "postgres" / "pgpass"
    assert server.endpoint == f"postgresql://windhash@127.0.0.1:25432/windhash?passfile={passfile}"
    assert server.dsn("postgres").startswith("postgresql://windhash@127.0.0.1:25432/postgres?")
    assert server.role_dsn("windhash_api").startswith("postgresql://windhash_api@127.0.0.1:25432/windhash?")
    passwords = server.credentials.passwords
    assert set(passwords) >= {"windhash", "windhash_owner", "windhash_api", "windhash_operator"}
    assert len({secret.get_secret_value() for secret in passwords.values()}) == len(passwords)
    assert not any(secret.get_secret_value() in server.endpoint for secret in passwords.values())
    assert passfile.stat().st_mode & 0o077 == 0, "libpq ignores a password file others can read"
    assert PostgresServer(StackSettings(state_dir=tmp_path)).credentials.passwords == passwords


def test_postgres_requires_scram_passwords_for_every_connection(tmp_path: Path) -> None:
    assert postgres_options(StackSettings(state_dir=tmp_path))["password_encryption"] == "scram-sha-256"
    rules = [line.split() for line in PG_HBA.splitlines() if line and not line.startswith("#")]
    assert rules == [["host", "all", "all", "all", "scram-sha-256"]]


def test_dynamodb_command_is_persistent_on_its_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WINDHASH_STACK_JARS_DIR", raising=False)  # a second stack may share another's jars
    monkeypatch.setattr("windhash_stack.dynamodb_server.find_java", lambda: Path("/usr/bin/java"))
    monkeypatch.delenv("WINDHASH_STACK_JARS_DIR", raising=False)  # a developer's own stack may share jars
    server = DynamoDbServer(StackSettings(state_dir=tmp_path, dynamodb_port=28000))
    command = server.command()
    assert command[command.index("-port") + 1] == "28000"
    assert command[command.index("-host") + 1] == "127.0.0.1"  # the launcher binds it (not all interfaces)
    assert command[command.index("-dbPath") + 1] == str(tmp_path / "dynamodb" / "data")
    assert "-inMemory" not in command
    assert f"-Djava.library.path={tmp_path / 'jars' / 'dynamodb-native'}" in command


def test_sqlite_native_library_per_cpu() -> None:
    assert sqlite_native_name("x86_64") == "libsqlite4java-linux-amd64"
    with pytest.raises(StackError):
        sqlite_native_name("riscv64")


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WINDHASH_STACK_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("WINDHASH_STACK_JARS_DIR", raising=False)
    monkeypatch.setenv("WINDHASH_STACK_KAFKA_PORT", "29092")
    monkeypatch.delenv("WINDHASH_STACK_JARS_DIR", raising=False)
    settings = StackSettings()
    assert settings.state_dir == tmp_path
    assert settings.kafka_port == 29092
    assert settings.jars_root == tmp_path / "jars"


def test_default_state_dir_is_the_checkout_not_the_cwd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WINDHASH_STACK_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    root = find_repo_root(Path(__file__).resolve().parent)
    assert root is not None
    assert StackSettings().state_dir == root / ".windhash"
    assert (StackSettings().deploy_dir / "kafka" / "pom.xml").is_file()


def test_port_offset_moves_every_port_and_shares_jars(tmp_path: Path) -> None:
    base = StackSettings(state_dir=tmp_path)
    other = base.with_port_offset(100, tmp_path / "other")
    assert (other.kafka_port, other.kafka_controller_port) == (
        base.kafka_port + 100,
        base.kafka_controller_port + 100,
    )
    assert other.postgres_port == base.postgres_port + 100
    assert other.dynamodb_port == base.dynamodb_port + 100
    assert other.jars_root == base.jars_root


def test_status_json_has_endpoints_and_health_per_server() -> None:
    endpoints = StackEndpoints(
        "127.0.0.1:1", "postgresql://windhash@127.0.0.1:2/windhash", "http://127.0.0.1:3"
    )
    servers = tuple(
        ServerStatus(server, 1, True, server != Server.DYNAMODB, endpoints.for_server(server), "log")
        for server in Server
    )
    document = StackStatus(endpoints, servers).to_json()
    assert document["kafka_bootstrap"] == "127.0.0.1:1"
    assert document["postgres_dsn"].endswith("/windhash")
    assert document["dynamodb_endpoint"] == "http://127.0.0.1:3"
    assert document["healthy"] is False
    assert document["servers"]["kafka"]["healthy"] is True
    assert document["servers"]["dynamodb"]["healthy"] is False


def test_jars_are_current_only_for_the_same_pom(tmp_path: Path) -> None:
    pom = tmp_path / "pom.xml"
    pom.write_text("<project>1</project>")
    target = tmp_path / "jars"
    assert not jars_current(pom, target)
    target.mkdir()
    (target / ".pom-sha256").write_text(hashlib.sha256(pom.read_bytes()).hexdigest())
    assert jars_current(pom, target)
    pom.write_text("<project>2</project>")
    assert not jars_current(pom, target)


def test_last_lease_out_learns_what_tests_started(tmp_path: Path) -> None:
    leases = Leases(tmp_path)
    leases.take()
    leases.record_started((Server.KAFKA,))
    leases.record_started((Server.POSTGRES,))
    assert leases.started() == {Server.KAFKA, Server.POSTGRES}
    dead = tmp_path / "leases" / "999999999"  # no such pid: a session that crashed
    dead.write_text("")
    assert not leases.others_alive()
    assert not dead.exists()
    (tmp_path / "leases" / str(os.getppid())).write_text("")  # a live process: another session
    assert leases.others_alive()


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {number}\n" for number in range(100)))
    assert tail(log, 2) == "line 98\nline 99"
    assert tail(tmp_path / "missing.log", 5) == ""


def test_postgres_account_must_reach_its_data_dir(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    inner = closed / "state"
    inner.mkdir(parents=True)
    closed.chmod(0o700)
    stranger = RunAs(uid=65534, gid=65534)
    with pytest.raises(StackError, match=re.escape(f"cannot enter {closed}: run `chmod o+x {closed}`")):
        check_reachable(inner, stranger, "windhash-pg")
    closed.chmod(0o755)  # so pytest can clean it up
