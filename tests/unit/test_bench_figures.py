"""The arithmetic `windhash bench` reports with: CPU during the run, per 1,000 periods and against the goal;
percentiles from a Prometheus histogram; py-spy's collapsed stacks; the API's distinct query mix."""

from datetime import date
from pathlib import Path

from bench.bench_api_compare import distinct_api_paths, route_of
from bench.bench_cpu import CpuLedger, cpu_rows
from bench.bench_metrics import quantile_bound, quantile_estimate
from bench.bench_profile import profile_markdown, summarise_collapsed


def test_cpu_during_the_run_subtracts_what_each_process_had_spent_when_the_clock_started() -> None:
    ledger = CpuLedger()
    ledger.start({"calculator": 2.0, "postgres": 100.0})
    ledger.read({"calculator": 5.5, "postgres": 130.0, "ingest": 40.0})
    ledger.read({"calculator": 5.0})  # an older reading never lowers the figure
    assert ledger.during_run() == {"calculator": 3.5, "postgres": 30.0, "ingest": 40.0}


def test_cpu_rows_scale_to_1000_periods_and_judge_windhash_own_cpu_against_the_goal() -> None:
    during = {"ingest": 20.0, "calculator": 10.0, "aggregator": 1.0, "postgres": 15.0, "kafka": 4.0}
    rows = dict(cpu_rows({**during, "elexon-sim": 3.0}, 17_568, goal_cpu_s=50.0))
    assert rows["CPU during the run: ingest"] == "20.0 s (1.14 s / 1,000 periods)"
    assert rows["CPU during the run: elexon-sim"] == "3.0 s (0.17 s / 1,000 periods)"
    own = rows["CPU, windhash's own (ingest + calculator + aggregator + postgres + kafka)"]
    assert own.startswith("50.0 s (2.85 s / 1,000 periods") and own.endswith(": met)")  # the simulator apart
    over = dict(cpu_rows({**during, "ingest": 21.0}, 17_568, goal_cpu_s=50.0))
    assert over["CPU, windhash's own (ingest + calculator + aggregator + postgres + kafka)"].endswith(
        "NOT met)"
    )
    # A shorter span is judged by the same CPU per 1,000 periods.
    month = dict(cpu_rows({"ingest": 5.0}, 1_486, goal_cpu_s=50.0))
    assert (
        "(3.36 s / 1,000 periods; goal ≤ 2.85"
        in month["CPU, windhash's own (ingest + calculator + aggregator + postgres + kafka)"]
    )


def test_a_histogram_quantile_is_the_upper_bound_of_its_bucket() -> None:
    buckets = [(0.25, 50.0), (0.5, 90.0), (1.0, 96.0), (float("inf"), 100.0)]
    assert quantile_bound(buckets, 0.5) == 0.25
    assert quantile_bound(buckets, 0.9) == 0.5
    assert quantile_bound(buckets, 0.95) == 1.0
    assert quantile_bound(buckets, 0.99) == float("inf")
    assert quantile_bound([], 0.95) == float("inf")


def test_a_histogram_quantile_is_estimated_as_prometheus_does_linearly_within_its_bucket() -> None:
    buckets = [(0.25, 50.0), (0.5, 90.0), (1.0, 96.0), (float("inf"), 100.0)]
    assert quantile_estimate(buckets, 0.5) == 0.25
    assert quantile_estimate(buckets, 0.7) == 0.375  # half way through the (0.25, 0.5] bucket
    assert quantile_estimate(buckets, 0.95) == 0.5 + 0.5 * (5 / 6)
    assert quantile_estimate(buckets, 0.99) == 1.0  # in the +Inf bucket: its lower bound, as Prometheus
    assert quantile_estimate([(1.0, 0.0), (float("inf"), 0.0)], 0.95) == float("inf")


def test_collapsed_stacks_count_each_function_once_per_sample_by_self_and_inclusive(tmp_path: Path) -> None:
    raw = tmp_path / "ingest.txt"
    raw.write_text(
        "main (/x/run.py:3);parse (/x/rule.py:10);loads (/x/json.py:5) 6\n"
        "main (/x/run.py:3);parse (/x/rule.py:12) 2\n"
        "main (/x/run.py:3);recurse (/x/r.py:1);recurse (/x/r.py:2) 2\n"
        "not a stack line\n"
    )
    summary = summarise_collapsed(raw)
    assert summary.samples == 10
    assert summary.self_samples["loads (json.py)"] == 6
    assert summary.inclusive_samples["parse (rule.py)"] == 8  # two lines of one function
    assert summary.inclusive_samples["recurse (r.py)"] == 2  # recursion counted once per sample
    assert summary.inclusive_samples["main (run.py)"] == 10
    table = profile_markdown({"ingest": summary})
    assert table[0] == "#### ingest: 10 samples"
    assert table[4] == "| `loads (json.py)` | 60.0% | 60.0% |"


def test_the_uncached_mix_asks_distinct_questions_about_every_day_and_never_a_heavy_one() -> None:
    paths = distinct_api_paths(date(2024, 2, 1), date(2024, 3, 31))
    assert len(paths) == len(set(paths))
    assert {path for path in paths if "/summaries/daily/" in path} == {
        f"/api/v1/summaries/daily/{day}" for day in _days(date(2024, 2, 1), date(2024, 3, 31))
    }
    assert not [path for path in paths if "yearly" in path]
    assert paths == distinct_api_paths(date(2024, 2, 1), date(2024, 3, 31))  # shuffled, reproducibly
    assert paths[:5] != sorted(paths)[:5]


def test_routes_group_distinct_queries() -> None:
    assert (
        route_of("/api/v1/mining/daily/2024-03-02?miner_model=S21")
        == "/api/v1/mining/daily/{date}?miner_model=…"
    )
    assert (
        route_of("/api/v1/summaries/range/2024-03-01..2024-03-07") == "/api/v1/summaries/range/{date}..{date}"
    )
    assert route_of("/api/v1/summaries/monthly/2024-03") == "/api/v1/summaries/monthly/{date}"


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(ordinal) for ordinal in range(first.toordinal(), last.toordinal() + 1)]
