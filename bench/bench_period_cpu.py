"""Benchmark: the CPU a settlement period costs the ingestor and the calculator outside HTTP, Kafka and SQL.

    .venv/bin/python bench/bench_period_cpu.py [--from 2024-01-08] [--days 14] [--repeat 3] [--profile FILE]

The synthetic simulator's stacks for `--days` days from `--from` are rendered as the server sends them
(bytes), then each stage runs over all of them in this process and its CPU (time.process_time) is printed
per 1,000 periods: the ingestor's parse of the stack, its curtailment rule (records), the event built and
serialised as it is published, and the calculator's decode of those bytes (the schema and content-hash
check). Every stage runs `--repeat` times and the lowest figure is printed (the machine's load only adds).

To compare two versions in one sitting, run this file under each (e.g. `PYTHONPATH=<other tree's source
dirs> python bench/bench_period_cpu.py`), interleaved; a digest of every event's JSON is printed, and equal
digests mean the versions published the same bytes.
"""

import argparse
import cProfile
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic_core import to_json
from windhash_common.curtailment_facts.event_checks import decode_settlement_period
from windhash_common.events import SettlementPeriodEvent
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim.generator import DEFAULT_SEED, shared_stack
from windhash_elexon_sim.units import wind_unit_ids
from windhash_ingestor.curtailment_rule import curtailment_records, parse_stack_payload, period_energy_mwh

FIRST_DAY = date(2024, 1, 8)
FETCHED_AT = datetime(2024, 12, 31, 12, tzinfo=UTC)
Period = tuple[date, int]


def stack_bodies(days: int, first: date = FIRST_DAY) -> list[tuple[Period, bytes]]:
    bodies = []
    for day in dates_between(first, first + timedelta(days=days - 1)):
        for period in settlement_periods(day):
            rows = shared_stack(day, period, "bid", 0, DEFAULT_SEED)
            body = to_json({"data": rows, "metadata": {"datasets": ["ISPSTACK"], "synthetic": True}})
            bodies.append(((day, period), body))
    return bodies


def ingest(bodies: list[tuple[Period, bytes]]) -> list[bytes]:
    """What the ingestor does with a fetched body before it hands the event to Kafka."""
    units = wind_unit_ids()
    values = []
    for (day, period), body in bodies:
        payload = parse_stack_payload(body)
        records = curtailment_records(payload.rows, units, day, period)
        event = SettlementPeriodEvent.build(day, period, records, FETCHED_AT, payload.synthetic)
        period_energy_mwh(records)
        values.append(SettlementPeriodEvent.__pydantic_serializer__.to_json(event))
    return values


def decode(values: list[bytes]) -> None:
    for value in values:
        if not isinstance(decode_settlement_period(value), SettlementPeriodEvent):
            raise SystemExit("the calculator refused an event the ingestor built")


def lowest_cpu_s(work: Callable[[], Any], repeat: int) -> float:
    spent = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        spent.append(time.process_time() - start)
    return min(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=FIRST_DAY)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of one ingest and one decode pass here")
    args = parser.parse_args()
    bodies = stack_bodies(args.days, args.first)
    values = ingest(bodies)  # warm: regexes, caches, imports
    decode(values)
    if args.profile:
        cProfile.runctx("decode(ingest(bodies))", globals(), {"bodies": bodies}, args.profile)
    per_1000 = 1000 / len(bodies)
    stages: dict[str, Callable[[], Any]] = {
        "ingest: parse + rule + event + JSON": lambda: ingest(bodies),
        "calculator: decode the event": lambda: decode(values),
    }
    records = sum(value.count(b'"bm_unit"') for value in values)
    megabytes = sum(len(body) for _, body in bodies) / 1e6
    print(f"{len(bodies)} periods, {records} records, {megabytes:.1f} MB of stacks")
    for name, work in stages.items():
        print(f"{name}: {lowest_cpu_s(work, args.repeat) * per_1000:.3f} CPU-s per 1,000 periods")
    print("digest of the events' JSON:", hashlib.sha256(b"\n".join(values)).hexdigest()[:16])


if __name__ == "__main__":
    main()
