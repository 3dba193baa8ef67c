"""What a bench run reads from the services' own Prometheus metrics: the calculator's write path and the
aggregator's summary freshness (the same figures an operator's Grafana shows)."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

FRESHNESS = "windhash_aggregator_summary_freshness_seconds"


def metric_samples(metrics_url: str) -> list[tuple[str, dict[str, str], float]]:
    text = httpx.get(metrics_url, timeout=10).text
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def calculator_write_seconds(metrics_url: str) -> tuple[float, float]:
    """(calculation rows written, seconds spent writing them inside the batch transactions) from the
    calculator's own metrics."""
    values: dict[str, float] = {}
    for name, _, value in metric_samples(metrics_url):
        values[name] = values.get(name, 0.0) + value
    return values["windhash_calculator_calculations_written_total"], values[
        "windhash_calculator_write_seconds_sum"
    ]


@dataclass(frozen=True)
class Freshness:
    """The aggregator's freshness histogram over a run: seconds from each period's calculation to its day's
    summaries being committed. A histogram keeps buckets, not values: a percentile is known to lie within a
    bucket, so it is reported as that bucket's upper bound (never flattering) and as Prometheus's
    `histogram_quantile` estimates it (linear within the bucket: what the Grafana panel shows)."""

    periods: int
    p50_at_most_s: float
    p95_at_most_s: float
    p95_estimate_s: float
    mean_s: float


def quantile_bound(buckets: list[tuple[float, float]], share: float) -> float:
    """The upper bound of the bucket holding the `share` quantile of cumulative `(le, count)` buckets."""
    total = buckets[-1][1] if buckets else 0.0
    for bound, count in buckets:
        if total and count >= share * total:
            return bound
    return float("inf")


def quantile_estimate(buckets: list[tuple[float, float]], share: float) -> float:
    """Prometheus's histogram_quantile: linear interpolation inside the bucket holding the quantile."""
    total = buckets[-1][1] if buckets else 0.0
    lower_bound = lower_count = 0.0
    for bound, count in buckets:
        if total and count >= share * total:
            if bound == float("inf"):
                return lower_bound
            inside = count - lower_count
            return lower_bound + (bound - lower_bound) * (
                (share * total - lower_count) / inside if inside else 1
            )
        lower_bound, lower_count = bound, count
    return float("inf")


def freshness(metrics_url: str) -> Freshness:
    buckets: list[tuple[float, float]] = []
    count = total = 0.0
    for name, labels, value in metric_samples(metrics_url):
        if name == f"{FRESHNESS}_bucket":
            buckets.append((float(labels["le"]), value))
        elif name == f"{FRESHNESS}_count":
            count = value
        elif name == f"{FRESHNESS}_sum":
            total = value
    buckets.sort()
    return Freshness(
        periods=int(count),
        p50_at_most_s=quantile_bound(buckets, 0.5),
        p95_at_most_s=quantile_bound(buckets, 0.95),
        p95_estimate_s=quantile_estimate(buckets, 0.95),
        mean_s=total / count if count else 0.0,
    )
