"""Bitcoin network difficulty by UTC date, kept in DynamoDB (one item per date, partition key `date`).

Reads go by key only (BatchGetItem), never Scan, and found values are cached in the process for
`difficulty_cache_seconds` (a past day's difficulty changes only when an operator corrects it). A date with no
item is *unknown*: callers hold the work that needs it (`pending_difficulty`) and never substitute a default.
Writes only add dates that are missing; an item that already holds a different value is reported as a
conflict and left alone, unless the writer asks to `overwrite` (`windhash difficulty set`, `difficulty load
--overwrite`, which audit the change and recalculate the affected periods by replay). A value outside
`reference_bounds` (absolute, or against the neighbouring days offered or stored) is refused with its reason
and not written, whoever offers it.

A day's difficulty is the one in effect at 00:00 UTC of that day (see `daily_difficulties`), stored with at
most 4 decimal places (rounded half-even), the precision of the PostgreSQL columns that record it.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from importlib import resources
from pathlib import Path
from time import monotonic
from typing import Any, Protocol

from botocore.exceptions import ClientError

from windhash_common.aws_clients import dynamodb_client_options, dynamodb_session
from windhash_common.dependency_retries import DYNAMODB, DynamoDbUnprocessed, retrying
from windhash_common.input_values import InputRefused, bounded_decimal
from windhash_common.json_input import parse_json_text, read_json_file
from windhash_common.reference_bounds import NEIGHBOUR_DAYS, daily_difficulty_refusals
from windhash_common.settings import CommonSettings
from windhash_common.settlement_range import parse_iso_date

DIFFICULTY_PRECISION = Decimal("0.0001")
_WIDE = Context(prec=80)  # an absurd difficulty is kept whole, for reference_bounds to refuse
# What a stored difficulty can hold at 4 decimal places (DynamoDB numbers keep 38 digits; the PostgreSQL
# columns numeric(30, ...)): a file's figure beyond it is not a difficulty at all. Whether a figure within it
# is a plausible difficulty is for `reference_bounds` to say when it is stored.
DIFFICULTY_MAX = Decimal("1e25")
_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25
_UNPROCESSED_RETRIES = 8


class DifficultyLookup(Protocol):
    async def difficulties(self, dates: Iterable[date]) -> dict[date, Decimal]:
        """The known difficulty of each date; unknown dates are absent from the result."""
        ...


@dataclass(frozen=True)
class DifficultyAdjustment:
    at: datetime
    height: int
    difficulty: Decimal


@dataclass
class DifficultyWrite:
    written: list[date] = field(default_factory=list)
    unchanged: list[date] = field(default_factory=list)
    conflicts: dict[date, tuple[Decimal, Decimal]] = field(default_factory=dict)  # date → (stored, offered)
    replaced: dict[date, tuple[Decimal, Decimal]] = field(default_factory=dict)  # date → (old, new)
    refused: dict[date, str] = field(default_factory=dict)  # date → why the value is implausible


def stored_difficulty(value: Decimal) -> Decimal:
    """Rounded as stored; whether it is a plausible difficulty is for `reference_bounds` to say."""
    if not value.is_finite():
        raise ValueError(f"difficulty must be a finite number, got {value}")
    return value.quantize(DIFFICULTY_PRECISION, rounding=ROUND_HALF_EVEN, context=_WIDE)


def parse_difficulty_file(text: str, source: str = "the difficulty file") -> dict[date, Decimal]:
    """`{"YYYY-MM-DD": "difficulty"}` → {date: difficulty}; InputRefused (one sentence) for anything else."""
    return difficulties_of(parse_json_text(text.encode(), source), source)


def difficulties_of(raw: object, source: str) -> dict[date, Decimal]:
    """The difficulties of a parsed difficulty file (strict JSON: windhash_common.json_input)."""
    if not isinstance(raw, dict):
        raise InputRefused(f"{source} is not a JSON object of date → difficulty")
    values = {}
    for day, value in raw.items():
        try:
            values[parse_iso_date(day)] = stored_difficulty(
                bounded_decimal(value, f"the difficulty of {day}", above=Decimal(0), at_most=DIFFICULTY_MAX)
            )
        except ValueError as error:
            raise InputRefused(f"{source}: {error}") from None
    return values


def packaged_difficulty_2024() -> dict[date, Decimal]:
    text = resources.files("windhash_common.data").joinpath("bitcoin_difficulty_2024.json").read_text()
    return parse_difficulty_file(text)


def read_difficulty_file(path: Path | None) -> dict[date, Decimal]:
    return packaged_difficulty_2024() if path is None else difficulties_of(read_json_file(path), path.name)


def daily_difficulties(adjustments: Sequence[DifficultyAdjustment], until: date) -> dict[date, Decimal]:
    """Each UTC date from the first one fully covered by `adjustments` to `until`, with the difficulty in
    effect at its 00:00 UTC. Dates before the first adjustment are unknown and left out."""
    ordered = sorted(adjustments, key=lambda adjustment: adjustment.at)
    if not ordered:
        return {}
    first = ordered[0].at.astimezone(UTC)
    day = first.date() if first.time() == time(0) else first.date() + timedelta(days=1)
    result: dict[date, Decimal] = {}
    index = 0
    while day <= until:
        midnight = datetime.combine(day, time(0), tzinfo=UTC)
        while index + 1 < len(ordered) and ordered[index + 1].at <= midnight:
            index += 1
        result[day] = stored_difficulty(ordered[index].difficulty)
        day += timedelta(days=1)
    return result


class DifficultyStore:
    """DynamoDB access for difficulty items. Use `open_difficulty_store(settings)`."""

    def __init__(self, client: Any, table: str, cache_seconds: float = 30.0) -> None:
        self._client = client
        self._table = table
        self._cache_seconds = cache_seconds
        self._cache: dict[date, Decimal] = {}
        self._cached_at = monotonic()

    async def ensure_table(self) -> None:
        try:
            await self._client.describe_table(TableName=self._table)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        try:
            await self._client.create_table(
                TableName=self._table,
                AttributeDefinitions=[{"AttributeName": "date", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "date", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise  # anything but "another process created it first"
        waiter = self._client.get_waiter("table_exists")
        await waiter.wait(TableName=self._table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    async def difficulties(self, dates: Iterable[date]) -> dict[date, Decimal]:
        if monotonic() - self._cached_at >= self._cache_seconds:
            self._cache.clear()  # a value may have been corrected since it was read
            self._cached_at = monotonic()
        wanted = set(dates)
        missing = sorted(wanted - self._cache.keys())
        for start in range(0, len(missing), _BATCH_GET_LIMIT):
            self._cache.update(await self._fetch(missing[start : start + _BATCH_GET_LIMIT]))
        return {day: self._cache[day] for day in wanted if day in self._cache}

    async def difficulty(self, day: date) -> Decimal | None:
        return (await self.difficulties([day])).get(day)

    async def _fetch(self, dates: Sequence[date]) -> dict[date, Decimal]:
        request: dict[str, Any] = {
            self._table: {"Keys": [{"date": {"S": day.isoformat()}} for day in dates], "ConsistentRead": True}
        }
        found: dict[date, Decimal] = {}
        async for attempt in retrying(DYNAMODB, _UNPROCESSED_RETRIES):
            with attempt:
                response = await self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found[date.fromisoformat(item["date"]["S"])] = Decimal(item["difficulty"]["N"])
                request = response.get("UnprocessedKeys") or {}
                if request:  # throttled: back off as DynamoDB asks, then ask for the rest
                    raise DynamoDbUnprocessed(f"DynamoDB left keys of {self._table} unprocessed")
        return found

    async def add_difficulties(
        self, values: Mapping[date, Decimal], source: str, overwrite: bool = False
    ) -> DifficultyWrite:
        """Write the dates that have no item yet; report the ones that already hold this or another value
        (replaced, and reported as such, when `overwrite`), and refuse (unwritten, with the reason) the ones
        outside `reference_bounds`."""
        offered = {day: stored_difficulty(value) for day, value in values.items()}
        days = sorted(offered)
        around = sorted(
            {
                day + timedelta(days=offset)
                for day in days
                for offset in range(-NEIGHBOUR_DAYS, NEIGHBOUR_DAYS + 1)
            }
        )
        stored = {}
        for start in range(0, len(around), _BATCH_GET_LIMIT):
            stored.update(await self._fetch(around[start : start + _BATCH_GET_LIMIT]))
        outcome = DifficultyWrite(refused=daily_difficulty_refusals(offered, stored))
        to_write = []
        for day in days:
            if day in outcome.refused:
                continue
            if day not in stored:
                to_write.append(day)
            elif stored[day] == offered[day]:
                outcome.unchanged.append(day)
            elif overwrite:
                to_write.append(day)
                outcome.replaced[day] = (stored[day], offered[day])
            else:
                outcome.conflicts[day] = (stored[day], offered[day])
        written_at = datetime.now(UTC).isoformat()
        for start in range(0, len(to_write), _BATCH_WRITE_LIMIT):
            chunk = to_write[start : start + _BATCH_WRITE_LIMIT]
            await self._write([self._item(day, offered[day], source, written_at) for day in chunk])
            outcome.written.extend(day for day in chunk if day not in outcome.replaced)
            for day in chunk:
                self._cache.pop(day, None)
        return outcome

    @staticmethod
    def _item(day: date, difficulty: Decimal, source: str, written_at: str) -> dict[str, Any]:
        return {
            "PutRequest": {
                "Item": {
                    "date": {"S": day.isoformat()},
                    "difficulty": {"N": str(difficulty)},
                    "source": {"S": source},
                    "written_at": {"S": written_at},
                }
            }
        }

    async def _write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self._table: requests}
        async for attempt in retrying(DYNAMODB, _UNPROCESSED_RETRIES):
            with attempt:
                response = await self._client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if pending:
                    raise DynamoDbUnprocessed(f"DynamoDB left writes to {self._table} unprocessed")


@asynccontextmanager
async def open_difficulty_store(settings: CommonSettings) -> AsyncIterator[DifficultyStore]:
    session = dynamodb_session(settings.aws_region, settings.dynamodb_endpoint)
    async with session.client("dynamodb", **dynamodb_client_options(settings.dynamodb_endpoint)) as client:
        yield DifficultyStore(client, settings.difficulty_table, settings.difficulty_cache_seconds)
