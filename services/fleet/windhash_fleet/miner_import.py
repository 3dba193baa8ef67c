"""Importing miners from CSV: each row creates a miner or brings an existing one (by serial) to what the row
says, through the same registry functions as single changes (audited, logged, announced one by one).

Idempotent by serial: importing the same file twice changes nothing the second time (every row
`unchanged`). A row that cannot be applied (a value the schema refuses, an unknown site, model or client, an
address already taken, a retired miner) is reported with its line and reason and changes nothing; the other
rows are applied. The file's size and row count are bounded (`fleet_import_max_bytes`, `..._max_rows`).

Columns: serial_number, miner_model, site (its name), api_host (required); api_port (4028),
telemetry_enabled (true), client (an organisation's name; empty: the operator's own), purchase_date,
warranty_expires (YYYY-MM-DD) optional.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ValidationError
from windhash_common.audit import Actor
from windhash_common.topics import Topics

from windhash_fleet.constraint_reasons import reason as constraint_reason
from windhash_fleet.http_models import ImportReport, ImportRow
from windhash_fleet.miner_inputs import MinerCreate, MinerMove, MinerUpdate
from windhash_fleet.miner_registry import MinerRetired, create_miner, move_miner, update_miner

REQUIRED = ("serial_number", "miner_model", "site", "api_host")
OPTIONAL = ("api_port", "telemetry_enabled", "client", "purchase_date", "warranty_expires")
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}


class ImportRefused(ValueError):
    """The file as a whole cannot be read (encoding, header, size): nothing is applied."""


@dataclass(frozen=True)
class ParsedRow:
    line: int
    serial: str | None
    values: dict[str, str]


def parse_csv(body: bytes, max_rows: int) -> list[ParsedRow]:
    """The rows of a CSV file (UTF-8, a header line naming the columns above)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(f"the file is not UTF-8 ({error.reason} at byte {error.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in (*REQUIRED, *OPTIONAL)]
    if missing or unknown:
        raise ImportRefused(
            f"the header must name {', '.join(REQUIRED)} (and may name {', '.join(OPTIONAL)});"
            f" missing: {', '.join(missing) or '-'}, unknown: {', '.join(unknown) or '-'}"
        )
    rows: list[ParsedRow] = []
    for raw in reader:
        if len(rows) >= max_rows:
            raise ImportRefused(f"the file has more than {max_rows} rows: split it")
        values = {key.strip(): (value or "").strip() for key, value in raw.items() if key is not None}
        rows.append(ParsedRow(reader.line_num, values.get("serial_number") or None, values))
    return rows


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"telemetry_enabled must be true or false, not {text[:20]!r}")


@dataclass(frozen=True)
class Lookups:
    sites: dict[str, int]
    clients: dict[str, Any]


async def lookups(connection: asyncpg.Connection) -> Lookups:
    sites = {
        row["name"]: row["site_id"]
        for row in await connection.fetch("SELECT site_id, name FROM hosting_sites")
    }
    clients = {
        row["name"].lower(): row["id"] for row in await connection.fetch("SELECT id, name FROM clients")
    }
    return Lookups(sites, clients)


def wanted(row: ParsedRow, known: Lookups) -> MinerCreate:
    """The miner a row describes, or ValueError / ValidationError saying why not."""
    values = row.values
    site = known.sites.get(values["site"])
    if site is None:
        raise ValueError(f"no site named {values['site'][:100]!r}")
    client = None
    if values.get("client"):
        client = known.clients.get(values["client"].lower())
        if client is None:
            raise ValueError(f"no client organisation named {values['client'][:100]!r}")
    fields: dict[str, Any] = {
        "serial_number": values["serial_number"],
        "miner_model": values["miner_model"],
        "site_id": site,
        "api_host": values["api_host"],
        "client_id": client,
    }
    if values.get("api_port"):
        fields["api_port"] = values["api_port"]
    if values.get("telemetry_enabled"):
        fields["telemetry_enabled"] = _boolean(values["telemetry_enabled"])
    for name in ("purchase_date", "warranty_expires"):
        if values.get(name):
            fields[name] = values[name]
    return MinerCreate.model_validate(fields)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    if isinstance(error, asyncpg.PostgresError):
        return constraint_reason(error)
    return str(error)


async def apply_row(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, row: ParsedRow, known: Lookups
) -> ImportRow:
    """One row in its own savepoint: applied whole, or not at all and reported."""
    try:
        miner = wanted(row, known)
        async with connection.transaction():
            exists = await connection.fetchval(
                "SELECT status FROM hosting_miners WHERE serial_number = $1", miner.serial_number
            )
            if exists is None:
                await create_miner(connection, topics, actor, miner)
                return ImportRow(line=row.line, serial_number=row.serial, outcome="created")
            update = MinerUpdate.model_validate(miner.model_dump(exclude={"serial_number", "site_id"}))
            changed = await update_miner(connection, topics, actor, miner.serial_number, update)
            moved = await move_miner(
                connection, topics, actor, miner.serial_number, MinerMove(site_id=miner.site_id)
            )
    except (ValueError, ValidationError, MinerRetired, asyncpg.IntegrityConstraintViolationError) as error:
        return ImportRow(line=row.line, serial_number=row.serial, outcome="error", error=_reason(error)[:500])
    outcome = "moved" if moved.changed else "updated" if changed.changed else "unchanged"
    return ImportRow(line=row.line, serial_number=row.serial, outcome=outcome)


async def import_miners(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, rows: Sequence[ParsedRow]
) -> ImportReport:
    """Every row, in the caller's transaction (each in a savepoint of its own)."""
    known = await lookups(connection)
    results = [await apply_row(connection, topics, actor, row, known) for row in rows]
    count = {outcome: sum(result.outcome == outcome for result in results) for outcome in
             ("created", "updated", "moved", "unchanged", "error")}  # fmt: skip
    return ImportReport(
        rows=len(results),
        created=count["created"],
        updated=count["updated"],
        moved=count["moved"],
        unchanged=count["unchanged"],
        errors=count["error"],
        results=results,
    )
