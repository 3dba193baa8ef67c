"""Curtailment over the RPC API as LuxOS (Luxor's firmware) exposes it: `curtail` with `sleep` or `wakeup`.

Why LuxOS's command set: it is the one firmware command made for curtailment (the hashboards stop and their
power drops to the control board's, the RPC API keeps answering, and `wakeup` resumes mining with the same
configuration), it goes over the same port-4028 API as the telemetry, and pyasic and asic-rs implement it the
same way, so a real LuxOS fleet behaves as the simulator does. Stock cgminer's `ascdisable`/`ascenable`
work one hashboard at a time; BOSminer's `pause`/`resume` are comparable, but BOSminer is mostly driven
over gRPC.

`curtail` is privileged: a session id comes first,
`{"command": "curtail", "parameter": "<session>,sleep"}`.
A session comes from `session` (the one already open, if any: LuxOS allows one at a time) or `logon`.
Putting a sleeping miner to sleep, or waking an awake one, succeeds and changes nothing: both are idempotent,
so an executor may repeat a command after a crash.
"""

from typing import Any, Literal

from windhash_common.miner_rpc.client import CgminerRpc, MinerEndpoint, RpcError

CurtailMode = Literal["sleep", "wakeup"]


def _session_id(reply: dict[str, Any]) -> str:
    session = reply.get("SESSION")
    if not isinstance(session, list) or not session or not isinstance(session[0], dict):
        raise RpcError("bad_shape", "no SESSION section")
    value = session[0].get("SessionID", "")
    if not isinstance(value, str) or "," in value or len(value) > 200:
        raise RpcError("bad_shape", "SessionID is not a session id")
    return value


async def session_id(rpc: CgminerRpc, endpoint: MinerEndpoint) -> str:
    """The open session's id, or a new one from `logon`."""
    current = _session_id(await rpc.command(endpoint, "session"))
    if current:
        return current
    opened = _session_id(await rpc.command(endpoint, "logon"))
    if not opened:
        raise RpcError("bad_shape", "logon returned an empty SessionID")
    return opened


async def curtail(rpc: CgminerRpc, endpoint: MinerEndpoint, mode: CurtailMode) -> dict[str, Any]:
    """Put the miner to sleep or wake it up; the reply of `curtail` (RpcError if it was refused)."""
    if mode not in ("sleep", "wakeup"):
        raise ValueError(f"curtail mode must be sleep or wakeup, got {mode!r}")
    return await rpc.command(endpoint, "curtail", f"{await session_id(rpc, endpoint)},{mode}")
