"""Topic configuration as data, and how Kafka clients connect (no server here:
tests/integration/test_topic_retention.py proves the policies on a real broker)."""

import dataclasses

import pytest
from pydantic import SecretStr
from windhash_common.kafka_connection import KafkaConnection, as_connection
from windhash_common.settings import CommonSettings
from windhash_common.topics import FOREVER, TOPIC_POLICIES, TopicLayout, Topics


def test_every_topic_has_an_explicit_cleanup_and_retention_policy() -> None:
    topics = Topics("x")
    named = {name for name in dir(topics) if isinstance(getattr(type(topics), name, None), property)}
    assert named == set(TOPIC_POLICIES)
    for name, policy in topics.policies().items():
        configs = policy.configs(2)
        assert configs["cleanup.policy"] in ("compact", "delete"), name
        assert configs["retention.ms"], name
        assert configs["min.insync.replicas"] == "2"
        assert len(policy.why) > 40, f"{name}: say why it is kept this way"
    assert len(topics.all()) == len(TOPIC_POLICIES)


def test_the_settlement_period_topic_keeps_the_latest_snapshot_of_every_period_for_ever() -> None:
    policy = TOPIC_POLICIES["settlement_periods"]
    assert policy.cleanup_policy == "compact"
    assert policy.retention_ms == FOREVER


def test_topic_layout_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDHASH_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("WINDHASH_TOPIC_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("WINDHASH_TOPIC_MIN_INSYNC_REPLICAS", "2")
    assert CommonSettings().topic_layout == TopicLayout(12, 3, 2)


def test_a_plain_bootstrap_string_connects_anonymously_in_plaintext() -> None:
    options = as_connection("h:1").client_options()
    assert options == {"bootstrap_servers": ["h:1"], "security_protocol": "PLAINTEXT"}
    assert as_connection("h:1, h:2").servers == ["h:1", "h:2"]
    assert as_connection("h:1").faststream_security() is None


def test_sasl_settings_make_every_client_authenticate_with_scram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDHASH_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("WINDHASH_KAFKA_SASL_PASSWORD", "s3cret")
    kafka = CommonSettings().kafka
    assert isinstance(kafka.sasl_password, SecretStr) and "s3cret" not in repr(kafka)
    options = kafka.client_options()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc", "s3cret")
    security = kafka.faststream_security()
    assert security is not None and type(security).__name__ == "SASLScram512"


def test_half_a_sasl_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        KafkaConnection("h:1", sasl_username="svc")
    assert dataclasses.replace(KafkaConnection("h:1"), ssl_cafile=None).security_protocol == "PLAINTEXT"
