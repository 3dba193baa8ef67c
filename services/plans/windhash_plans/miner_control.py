"""The executor's hands on a miner: read whether it sleeps, and tell it to sleep or wake up, over the fleet's
control path (the cgminer RPC API with LuxOS's `curtail`, `windhash_common.miner_rpc`; docs/FLEET.md says
why that client).

`bring_to` reads the miner's state first and sends the command only when the miner is not already so: after
a crash, a timeout or a retry, a command that may already have reached the miner is never sent again.
"""

from dataclasses import dataclass
from typing import Literal, Protocol

from windhash_common.miner_rpc import CgminerRpc, MinerEndpoint, RpcError
from windhash_common.miner_rpc.luxos_control import CurtailMode, curtail

Outcome = Literal["sent", "already"]


class MinerControl(Protocol):
    async def asleep(self, endpoint: MinerEndpoint) -> bool: ...

    async def command(self, endpoint: MinerEndpoint, mode: CurtailMode) -> None: ...


@dataclass(frozen=True)
class RpcMinerControl:
    rpc: CgminerRpc

    async def asleep(self, endpoint: MinerEndpoint) -> bool:
        """LuxOS `config`: `CurtailMode` is `Sleep` while the miner is curtailed."""
        reply = await self.rpc.command(endpoint, "config")
        config = reply.get("CONFIG")
        if not isinstance(config, list) or not config or not isinstance(config[0], dict):
            raise RpcError("bad_shape", "config: no CONFIG section")
        mode = config[0].get("CurtailMode")
        if not isinstance(mode, str):
            raise RpcError("bad_shape", "config: no CurtailMode")
        return mode.lower() == "sleep"

    async def command(self, endpoint: MinerEndpoint, mode: CurtailMode) -> None:
        await curtail(self.rpc, endpoint, mode)


async def bring_to(control: MinerControl, endpoint: MinerEndpoint, mode: CurtailMode) -> Outcome:
    """Make the miner sleep (`sleep`) or mine (`wakeup`); RpcError when it could not be read or told."""
    if await control.asleep(endpoint) == (mode == "sleep"):
        return "already"
    await control.command(endpoint, mode)
    return "sent"
