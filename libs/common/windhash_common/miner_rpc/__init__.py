"""The miners' cgminer RPC API (JSON over TCP, port 4028): a bounded client, LuxOS curtailment commands.

`docs/FLEET.md` says why this is our own small client rather than pyasic or pyasic-rs.
"""

from windhash_common.miner_rpc.client import (
    DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_TIMEOUT_S,
    CgminerRpc,
    MinerEndpoint,
    RpcError,
    RpcFailure,
)

__all__ = [
    "DEFAULT_MAX_REPLY_BYTES",
    "DEFAULT_TIMEOUT_S",
    "CgminerRpc",
    "MinerEndpoint",
    "RpcError",
    "RpcFailure",
]
