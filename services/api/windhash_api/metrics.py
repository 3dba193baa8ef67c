"""Prometheus metrics of the API: `windhash_api_requests_total` and `windhash_api_request_duration_seconds`
per route template (the middleware is windhash_common.http_metrics, shared with the context services)."""

from prometheus_client import CollectorRegistry
from windhash_common.http_metrics import LATENCY_BUCKETS, MetricsMiddleware
from windhash_common.http_metrics import RequestMetrics as HttpRequestMetrics

__all__ = ["LATENCY_BUCKETS", "MetricsMiddleware", "RequestMetrics"]


class RequestMetrics(HttpRequestMetrics):
    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry, "windhash_api")
