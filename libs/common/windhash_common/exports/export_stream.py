"""An export as a stream of bytes, in bounded memory: what `windhash export` writes to a file and the API
streams to an admin.

The whole export reads one snapshot (a read-only REPEATABLE READ transaction), a few days at a time
(`CHUNK_DAYS`), so progress can be told and no statement runs long:

- CSV is PostgreSQL's own `COPY (SELECT ...) TO STDOUT` (CSV, header once), passed on in the pieces the
  server sends through a small bounded queue: nothing holds more than `COPY_QUEUE_PIECES` pieces. Text cells
  that would start a spreadsheet formula get a leading `'` in SQL (`tabular.safe_text_sql`, the rule every
  windhash CSV follows); numbers are exact, booleans `t`/`f`, NULL an empty cell.
- Parquet is pyarrow's `ParquetWriter` (zstd), fed from a server-side cursor a row group at a time
  (`ROW_GROUP_ROWS`): one row group's values are all it holds, and each group's bytes are handed on as soon
  as it is written. Decimals keep their column's precision and scale (`decimal128`), dates are dates.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import suppress
from datetime import date

import asyncpg
import pyarrow as pa
import pyarrow.parquet as pq

from windhash_common.exports.export_tables import ColumnType, ExportFormat, ExportTable
from windhash_common.settlement_range import date_chunks
from windhash_common.tabular import safe_text_sql

CHUNK_DAYS = 7
COPY_QUEUE_PIECES = 16
ROW_GROUP_ROWS = 50_000
CURSOR_PREFETCH = 5_000
MEDIA_TYPES = {ExportFormat.csv: "text/csv", ExportFormat.parquet: "application/vnd.apache.parquet"}

DaysDone = Callable[[int], None]
"""Told how many more days of the range have been exported."""


def _ignore(days: int) -> None:
    pass


def arrow_type(column_type: ColumnType) -> pa.DataType:
    kind = column_type.data_type
    if kind == "numeric" and column_type.precision is not None:
        return pa.decimal128(column_type.precision, column_type.scale or 0)
    simple = {
        "date": pa.date32(),
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "text": pa.string(),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    }
    if kind not in simple:
        raise ValueError(f"no Parquet type for the PostgreSQL type {kind!r}")
    return simple[kind]


async def export_bytes(
    connection: asyncpg.Connection,
    table: ExportTable,
    first: date,
    last: date,
    output_format: ExportFormat,
    progress: DaysDone = _ignore,
) -> AsyncIterator[bytes]:
    """The export of `table` for `first..last` in `output_format`, piece by piece."""
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        pieces = _csv if output_format is ExportFormat.csv else _parquet
        async for piece in pieces(connection, table, first, last, progress):
            yield piece


async def _csv(
    connection: asyncpg.Connection, table: ExportTable, first: date, last: date, progress: DaysDone
) -> AsyncIterator[bytes]:
    sql = table.select(
        [safe_text_sql(column.sql) if column.is_text else column.sql for column in table.columns]
    )
    header = True
    for chunk in date_chunks(first, last, CHUNK_DAYS):
        async for piece in _copy(connection, sql, (chunk.first, chunk.last, *table.arguments), header):
            yield piece
        header = False
        progress(chunk.days)


async def _copy(
    connection: asyncpg.Connection, sql: str, arguments: Sequence[object], header: bool
) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=COPY_QUEUE_PIECES)

    async def put(piece: bytes) -> None:
        await queue.put(bytes(piece))

    async def copy() -> None:
        try:
            await connection.copy_from_query(sql, *arguments, output=put, format="csv", header=header)
        finally:
            await queue.put(None)

    task = asyncio.create_task(copy())
    try:
        while (piece := await queue.get()) is not None:
            yield piece
        await task  # the copy's error, if it failed
    finally:
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


class _Pieces:
    """The file-like sink ParquetWriter writes into; `take` hands on what it holds so far."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        taken, self._pieces = b"".join(self._pieces), []
        return taken


def _write_group(writer: pq.ParquetWriter, schema: pa.Schema, columns: list[list[object]]) -> None:
    arrays = [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)]
    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


async def _parquet(
    connection: asyncpg.Connection, table: ExportTable, first: date, last: date, progress: DaysDone
) -> AsyncIterator[bytes]:
    schema = pa.schema([pa.field(column.name, arrow_type(column.column_type)) for column in table.columns])
    sink = _Pieces()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    sql = table.select([column.sql for column in table.columns])
    columns: list[list[object]] = [[] for _ in table.columns]
    held = 0
    for chunk in date_chunks(first, last, CHUNK_DAYS):
        arguments = (chunk.first, chunk.last, *table.arguments)
        async for record in connection.cursor(sql, *arguments, prefetch=CURSOR_PREFETCH):
            for values, value in zip(columns, record, strict=True):
                values.append(value)
            held += 1
            if held == ROW_GROUP_ROWS:
                # Converting and compressing a group is CPU work: off the event loop (an API serves others).
                await asyncio.to_thread(_write_group, writer, schema, columns)
                columns, held = [[] for _ in table.columns], 0
                yield sink.take()
        progress(chunk.days)
    if held:
        await asyncio.to_thread(_write_group, writer, schema, columns)
    writer.close()
    yield sink.take()
