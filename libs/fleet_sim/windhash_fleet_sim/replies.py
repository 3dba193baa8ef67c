"""The replies a simulated miner gives, in LuxOS's shapes (the fields windhash and common tools read).

Every reply's STATUS Description names the simulator and says SYNTHETIC, and `config` says
`"Synthetic": true`, so a simulated reading can never pass for a real miner's.
Commands: version, summary, stats, devs, pools, power, fans, temps, config, session, logon, logoff and
curtail (`<session>,sleep|wakeup`); several joined with `+` answer one section each.
"""

import json
import time
from typing import Any

from windhash_fleet_sim.sim_miner import Reading, SimMiner

DESCRIPTION = "LUXminer 2025.4.8.220305-windhash-fleet-sim SYNTHETIC"
SYNTHETIC_MARK = "windhash-fleet-sim"
READING_COMMANDS = frozenset({"summary", "stats", "devs", "power", "fans", "temps", "config"})


def status(code: int, message: str, kind: str = "S") -> list[dict[str, Any]]:
    return [
        {"Code": code, "Description": DESCRIPTION, "Msg": message, "STATUS": kind, "When": int(time.time())}
    ]


def error_reply(code: int, message: str) -> dict[str, Any]:
    return {"STATUS": status(code, message, "E"), "id": 1}


def _summary(miner: SimMiner, reading: Reading) -> dict[str, Any]:
    ghs = round(reading.hashrate_ths * 1000, 2)
    return {
        "STATUS": status(11, "Summary"),
        "SUMMARY": [
            {
                "Elapsed": reading.uptime_s,
                "GHS 5s": ghs,
                "GHS av": ghs,
                "Accepted": miner.requests,
                "Rejected": 0,
                "Hardware Errors": 0,
                "Device Hardware%": 0.0,
            }
        ],
        "id": 1,
    }


def _stats(miner: SimMiner, reading: Reading) -> dict[str, Any]:
    boards = miner.model.hashboards
    detail: dict[str, Any] = {
        "Elapsed": reading.uptime_s,
        "GHS 5s": round(reading.hashrate_ths * 1000, 2),
        "ID": "BTM_SOC0",
        "fan_num": len(reading.fan_rpms),
        "temp_max": reading.temperature_c,
        "miner_count": boards,
        "rate_unit": "GH",
        "total_rateideal": round(miner.model.hashrate_ths * 1000, 2),
    }
    for number, rpm in enumerate(reading.fan_rpms, start=1):
        detail[f"fan{number}"] = rpm
    for board in range(1, boards + 1):
        detail[f"chain_rate{board}"] = f"{reading.hashrate_ths * 1000 / boards:.2f}"
        detail[f"temp_chip{board}"] = f"{reading.temperature_c:g}"
    version = {"Miner": "2025.4.8.220305", "Type": f"Antminer {miner.model.name}", "CompileTime": "SYNTHETIC"}
    return {"STATUS": status(70, "CGMiner stats"), "STATS": [version, detail], "id": 1}


def _devs(miner: SimMiner, reading: Reading) -> dict[str, Any]:
    boards = miner.model.hashboards
    return {
        "STATUS": status(9, f"{boards} ASC(s)"),
        "DEVS": [
            {
                "ASC": board,
                "ID": board,
                "Enabled": "Y",
                "Status": "Alive",
                "Temperature": reading.temperature_c,
                "MHS 5s": round(reading.hashrate_ths * 1e6 / boards, 2),
                "IsUserShutdown": reading.sleeping,
            }
            for board in range(boards)
        ],
        "id": 1,
    }


def _pools(miner: SimMiner) -> dict[str, Any]:
    pool = {
        "POOL": 0,
        "URL": "stratum+tcp://pool.invalid:3333",
        "Status": "Alive",
        "Stratum Active": True,
        "User": f"windhash.{miner.serial}",
        "Accepted": miner.requests,
        "Rejected": 0,
    }
    return {"STATUS": status(7, "1 Pool(s)"), "POOLS": [pool], "id": 1}


def _config(miner: SimMiner, reading: Reading) -> dict[str, Any]:
    config = {
        "Model": f"Antminer {miner.model.name}",
        "SerialNumber": miner.serial,
        "NameplateTHS": miner.model.hashrate_ths,
        "CurtailMode": "Sleep" if reading.sleeping else "None",
        "OS": "LuxOS",
        "Synthetic": True,
    }
    return {"STATUS": status(33, "LUXminer config"), "CONFIG": [config], "id": 1}


def _session(session_id: str, code: int, message: str) -> dict[str, Any]:
    return {"STATUS": status(code, message), "SESSION": [{"SessionID": session_id}], "id": 1}


def command_reply(miner: SimMiner, command: str, parameter: str, reading: Reading | None) -> dict[str, Any]:
    """The reply object of one command (`reading` is set when the command reports one)."""
    if reading is not None:
        if command == "summary":
            return _summary(miner, reading)
        if command == "stats":
            return _stats(miner, reading)
        if command == "devs":
            return _devs(miner, reading)
        if command == "config":
            return _config(miner, reading)
        if command == "power":
            return {
                "STATUS": status(311, "Power usage"),
                "POWER": [{"PSU": False, "Watts": reading.power_w}],
                "id": 1,
            }
        if command == "fans":
            fans = [
                {"ID": i, "RPM": rpm, "Speed": 20 if reading.sleeping else 70}
                for i, rpm in enumerate(reading.fan_rpms)
            ]
            return {"STATUS": status(202, f"{len(fans)} Fan(s)"), "FANS": fans, "id": 1}
        if command == "temps":
            temps = [
                {"ID": board, "TopLeft": reading.temperature_c} for board in range(miner.model.hashboards)
            ]
            return {"STATUS": status(201, f"{len(temps)} Temp(s)"), "TEMPS": temps, "id": 1}
    if command == "version":
        version = {
            "API": "3.7",
            "LUXminer": DESCRIPTION,
            "Miner": "2025.4.8.220305",
            "Type": f"Antminer {miner.model.name}",
        }
        return {"STATUS": status(22, "LUXminer versions"), "VERSION": [version], "id": 1}
    if command == "pools":
        return _pools(miner)
    if command == "session":
        return _session(miner.session_id, 124, "Session")
    if command == "logon":
        return _session(miner.logon(), 124, "Logon")
    if command == "logoff":
        if parameter != miner.session_id or not parameter:
            return error_reply(314, "Invalid session id")
        miner.session_id = ""
        return {"STATUS": status(126, "Logoff"), "id": 1}
    if command == "curtail":
        session, _, mode = parameter.partition(",")
        refused = miner.curtail(session, mode)
        if refused:
            return error_reply(314, refused)
        return {"STATUS": status(316, f"Curtail {mode}"), "id": 1}
    return error_reply(14, "Invalid command")


def request_reply(miner: SimMiner, request: dict[str, Any]) -> dict[str, Any]:
    """The reply to a parsed request: one command, or several joined with `+`."""
    command = request.get("command")
    parameter = request.get("parameter", "")
    if not isinstance(command, str) or not command or not isinstance(parameter, (str, int)):
        return error_reply(23, "Invalid JSON request")
    names = command.split("+")
    miner.requests += 1
    reading = miner.read() if READING_COMMANDS.intersection(names) else None
    if len(names) == 1:
        return command_reply(miner, names[0], str(parameter), reading)
    joined: dict[str, Any] = {name: [command_reply(miner, name, str(parameter), reading)] for name in names}
    joined["id"] = 1
    return joined


def encode(reply: dict[str, Any]) -> bytes:
    """JSON followed by the NUL byte that cgminer writes after every reply."""
    return json.dumps(reply, separators=(",", ":")).encode() + b"\0"
