"""The fleet HTTP app's Prometheus metrics (on its own port's /metrics, `fleet_api_port`, 8086)."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "windhash_fleet_api_requests_total", "Requests to the fleet HTTP app", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "windhash_fleet_api_request_seconds",
    "Time to answer a request of the fleet HTTP app, by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
