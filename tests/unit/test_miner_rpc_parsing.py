"""The cgminer RPC client reading replies: what the protocol says, and a named reason for anything else."""

import json

import pytest
from windhash_common.miner_rpc.client import RpcError, parse_reply, split_multi_reply


def _ok(section: str) -> dict[str, object]:
    return {"STATUS": [{"STATUS": "S", "Code": 11, "Msg": "ok"}], section: [{"x": 1}], "id": 1}


def test_a_reply_with_or_without_its_nul_byte_parses() -> None:
    raw = json.dumps(_ok("SUMMARY")).encode()
    assert parse_reply(raw + b"\0") == parse_reply(raw) == _ok("SUMMARY")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe{}", "not_utf8"),
        (b'{"STATUS": [', "not_json"),
        (b'{"SUMMARY": [{"GHS 5s": NaN}]}', "not_finite"),
        (b'{"SUMMARY": [{"GHS 5s": -Infinity}]}', "not_finite"),
        (b"[1, 2]", "bad_shape"),
    ],
)
def test_what_is_not_a_reply_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(RpcError) as refused:
        parse_reply(raw)
    assert refused.value.reason == reason


def test_a_joined_reply_is_split_per_command_with_each_status_checked() -> None:
    joined = {"summary": [_ok("SUMMARY")], "stats": [_ok("STATS")], "id": 1}
    parts = split_multi_reply(joined, ("summary", "stats"))
    assert parts == {"summary": _ok("SUMMARY"), "stats": _ok("STATS")}

    joined["stats"] = [{"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}], "id": 1}]
    with pytest.raises(RpcError, match="Invalid command") as refused:
        split_multi_reply(joined, ("summary", "stats"))
    assert refused.value.reason == "error_status"


@pytest.mark.parametrize(
    "reply",
    [
        {"SUMMARY": []},  # no STATUS
        {"STATUS": "S"},  # STATUS not a list
        {"summary": [_ok("SUMMARY")], "id": 1},  # the joined reply lacks a command's section
    ],
)
def test_a_reply_without_the_protocols_shape_is_bad_shape(reply: dict[str, object]) -> None:
    with pytest.raises(RpcError) as refused:
        split_multi_reply(reply, ("summary", "stats") if "summary" in reply else ("summary",))
    assert refused.value.reason == "bad_shape"


def test_a_miner_refusing_a_joined_command_answers_with_its_error_status() -> None:
    refused_whole = {
        "STATUS": [{"STATUS": "E", "Code": 45, "Msg": "Access denied to 'summary+stats' command"}]
    }
    with pytest.raises(RpcError, match="Access denied") as refused:
        split_multi_reply(refused_whole, ("summary", "stats"))
    assert refused.value.reason == "error_status"
