"""The simulator's control surface over HTTP (loopback only, not part of any miner's API).

GET  /_sim/health                     liveness
GET  /_sim/stats                      miners, listening sockets, requests answered (and how many malformed)
GET  /_sim/miners[?limit=&offset=]    every miner: serial, model, address, faults, asleep
GET  /_sim/miners.csv                 the same as CSV (serial_number, miner_model, api_host, api_port)
GET  /_sim/miners/{serial}            one miner, with the readings it last served and the curtail commands
                                      it accepted (newest last)
PUT  /_sim/miners/{serial}/faults     replace its faults (JSON `MinerFaults`); DELETE clears them
"""

import csv
import io
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from windhash_fleet_sim.fleet import Fleet
from windhash_fleet_sim.sim_miner import CurtailCommand, MinerFaults, Reading, SimMiner


class ServedReading(BaseModel):
    at: float
    hashrate_ths: float
    power_w: float
    temperature_c: float
    fan_rpms: list[int]
    sleeping: bool
    uptime_s: int

    @classmethod
    def of(cls, reading: Reading) -> "ServedReading":
        return cls(
            at=reading.at,
            hashrate_ths=reading.hashrate_ths,
            power_w=reading.power_w,
            temperature_c=reading.temperature_c,
            fan_rpms=list(reading.fan_rpms),
            sleeping=reading.sleeping,
            uptime_s=reading.uptime_s,
        )


class AcceptedCommand(BaseModel):
    at: float
    mode: str
    changed: bool

    @classmethod
    def of(cls, command: CurtailCommand) -> "AcceptedCommand":
        return cls(at=command.at, mode=command.mode, changed=command.changed)


class MinerView(BaseModel):
    serial: str
    index: int
    model: str
    host: str
    port: int
    faults: MinerFaults
    sleeping: bool
    requests: int
    synthetic: bool = True
    served: list[ServedReading] | None = None
    commands: list[AcceptedCommand] | None = None

    @classmethod
    def of(cls, miner: SimMiner, with_served: bool = False) -> "MinerView":
        return cls(
            serial=miner.serial,
            index=miner.index,
            model=miner.model.name,
            host=miner.host,
            port=miner.port,
            faults=miner.faults,
            sleeping=miner.sleeping,
            requests=miner.requests,
            served=[ServedReading.of(reading) for reading in miner.served] if with_served else None,
            commands=[AcceptedCommand.of(command) for command in miner.commands] if with_served else None,
        )


def build_control_app(fleet: Fleet) -> FastAPI:
    app = FastAPI(title="windhash fleet simulator control (SYNTHETIC)", docs_url=None, redoc_url=None)

    def find(serial: str) -> SimMiner:
        try:
            return fleet.miner(serial)
        except KeyError as error:
            raise HTTPException(404, str(error)) from None

    @app.get("/_sim/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "synthetic": True}

    @app.get("/_sim/stats")
    async def stats() -> dict[str, Any]:
        return {
            "synthetic": True,
            "miners": len(fleet.miners),
            "listening": len(fleet.listening_addresses()),
            "answered": fleet.answers.answered,
            "malformed": fleet.answers.malformed,
            "asleep": sum(miner.sleeping for miner in fleet.miners),
        }

    @app.get("/_sim/miners")
    async def miners(
        limit: int = Query(1000, ge=1, le=100_000), offset: int = Query(0, ge=0)
    ) -> list[MinerView]:
        return [MinerView.of(miner) for miner in fleet.miners[offset : offset + limit]]

    @app.get("/_sim/miners.csv", response_class=PlainTextResponse)
    async def miners_csv() -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("serial_number", "miner_model", "api_host", "api_port"))
        writer.writerows((miner.serial, miner.model.name, miner.host, miner.port) for miner in fleet.miners)
        return out.getvalue()

    @app.get("/_sim/miners/{serial}")
    async def miner(serial: str) -> MinerView:
        return MinerView.of(find(serial), with_served=True)

    @app.put("/_sim/miners/{serial}/faults")
    async def set_faults(serial: str, faults: MinerFaults) -> MinerView:
        find(serial)
        return MinerView.of(await fleet.set_faults(serial, faults))

    @app.delete("/_sim/miners/{serial}/faults")
    async def clear_faults(serial: str) -> MinerView:
        find(serial)
        return MinerView.of(await fleet.set_faults(serial, MinerFaults()))

    return app
