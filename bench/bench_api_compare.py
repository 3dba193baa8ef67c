"""`windhash bench --api`: the API over the run's own data, cached and uncached, side by side.

- cached: the API as deployed (its response cache on), the usual mix of read requests over the span
  (`bench_api_load.api_paths`);
- uncached: the API with its response cache off (`WINDHASH_API_CACHE=false`), so every request reaches
  FastAPI and PostgreSQL, over distinct queries spread across every day, month and miner model of the span
  (`distinct_api_paths`) in a shuffled order: what a crawler or a hostile client asking for ever-new answers
  costs. (Unknown query parameters do not bypass the cache, response_cache.request_key; turning it off is
  the honest way to measure the uncached path.) Yearly figures are left out of the uncached mix: a year is a
  heavy request (request_limits), of which one client address gets a few at once and then 429, and every
  load client here shares one address.

Each load has the same clients and duration; the API's own CPU over each load is read from /proc, so the
figure per request holds whatever else shares the machine.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from windhash_common.settlement_calendar import dates_between

from bench.bench_api_load import MINER_MODELS, LoadOutcome, api_paths, run_load, running_api
from bench.bench_cpu import peak_rss_kib

TOP_LIMITS = (5, 10, 20)
_DATES = re.compile(r"[0-9]{4}(-[0-9]{2}){0,2}")
_VALUES = re.compile(r"([a-z_]+)=[^&]*")


@dataclass(frozen=True)
class ApiRun:
    outcome: LoadOutcome
    api_cpu_s: float
    distinct_paths: int
    peak_kib: int
    database_cpu_s: float
    """PostgreSQL's CPU over the same load (all of the server's: on a shared server, others' work too)."""

    @property
    def cpu_ms_per_request(self) -> float:
        return self.api_cpu_s * 1000 / self.outcome.requests if self.outcome.requests else 0.0

    @property
    def database_ms_per_request(self) -> float:
        return self.database_cpu_s * 1000 / self.outcome.requests if self.outcome.requests else 0.0


@dataclass(frozen=True)
class ApiComparison:
    cached: ApiRun
    uncached: ApiRun


def distinct_api_paths(first: date, last: date, seed: int = 24) -> list[str]:
    """Every day's and month's read requests of the span, each miner model, shuffled."""
    days = list(dates_between(first, last))
    paths: list[str] = []
    for index, day in enumerate(days):
        limit = TOP_LIMITS[index % len(TOP_LIMITS)]
        paths += [
            f"/api/v1/summaries/daily/{day}",
            f"/api/v1/curtailment/{day}/periods",
            f"/api/v1/curtailment/{day}/hours",
            f"/api/v1/top/bm-units/daily/{day}?limit={limit}",
            f"/api/v1/summaries/range/{max(first, day - timedelta(days=6))}..{day}",
        ]
        paths += [f"/api/v1/mining/daily/{day}?miner_model={model}" for model in MINER_MODELS]
    for month in sorted({day.isoformat()[:7] for day in days}):
        paths += [f"/api/v1/summaries/monthly/{month}", f"/api/v1/comparison/monthly/{month}"]
        paths += [f"/api/v1/top/lead-parties/monthly/{month}?limit={limit}" for limit in TOP_LIMITS]
        for model in MINER_MODELS:
            paths += [
                f"/api/v1/mining/monthly/{month}?miner_model={model}",
                f"/api/v1/series/monthly/{month}?miner_model={model}",
            ]
    random.Random(seed).shuffle(paths)
    return paths


async def one_load(
    dsn: str, paths: list[str], cache: bool, clients: int, seconds: float, database_cpu: Callable[[], float]
) -> ApiRun:
    async with running_api(dsn, cache=cache) as (base_url, server):
        # The warm-up (each path once) is outside the CPU reading and the clock, as in run_load.
        database_before = database_cpu()
        outcome = await run_load(base_url, paths, clients, seconds, cpu_of=server.pid)
        database_s = database_cpu() - database_before
        return ApiRun(outcome, outcome.server_cpu_s, len(set(paths)), peak_rss_kib(server.pid), database_s)


async def compare_api(
    dsn: str, first: date, last: date, clients: int, seconds: float, database_cpu: Callable[[], float]
) -> ApiComparison:
    """`database_cpu`: PostgreSQL's CPU-seconds so far (read before and after each load)."""
    cached = await one_load(dsn, api_paths(first, last), True, clients, seconds, database_cpu)
    uncached = await one_load(dsn, distinct_api_paths(first, last), False, clients, seconds, database_cpu)
    return ApiComparison(cached, uncached)


def route_of(path: str) -> str:
    """A path with its dates and parameter values replaced: one row per route, not per distinct query."""
    path = _DATES.sub("{date}", path)
    return _VALUES.sub(r"\1=…", path)


def slowest_routes(load: LoadOutcome, count: int) -> list[tuple[str, float, float]]:
    """(route, p50 ms, p99 ms) of the routes with the highest p99."""
    by_route: dict[str, list[float]] = {}
    for path, latencies in load.by_path.items():
        by_route.setdefault(route_of(path), []).extend(latencies)
    figures = []
    for route, latencies in by_route.items():
        ordered = sorted(latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        figures.append((route, p50, p99))
    return sorted(figures, key=lambda figure: -figure[2])[:count]


def api_rows(comparison: ApiComparison) -> list[tuple[str, str]]:
    rows = []
    for name, run in (("cached", comparison.cached), ("uncached", comparison.uncached)):
        load = run.outcome
        rows.append(
            (
                f"API {name}, {load.clients} clients, {load.seconds:.0f} s,"
                f" {run.distinct_paths:,} distinct paths",
                f"{load.rate:,.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms,"
                f" {load.error_count} errors, CPU per request: API {run.cpu_ms_per_request:.2f} ms,"
                f" PostgreSQL {run.database_ms_per_request:.2f} ms;"
                f" peak memory {run.peak_kib / 1024:,.0f} MiB",
            )
        )
        rows += [(f"  error: {kind}", f"x{count}") for kind, count in load.errors.most_common(5)]
        rows += [
            (f"  slow ({name}): {route}", f"p50 {p50:.0f} ms, p99 {p99:.0f} ms")
            for route, p50, p99 in slowest_routes(load, 3)
        ]
    uncached = comparison.uncached.outcome
    verdict = "met" if uncached.rate >= 1000 and uncached.p99_ms < 100 else "NOT met"
    rows.append(("goal: uncached ≥ 1,000 req/s and p99 < 100 ms at 50 clients", verdict))
    return rows
