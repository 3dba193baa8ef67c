"""Every query windhash's monitoring as code runs: the PromQL of the alert rules and the Grafana dashboards,
and the SQL of the business dashboard's PostgreSQL panels.

The tests check them all: that each names only metrics the services export (unit), and that each is valid
and answers with data against a live pipeline scraped by a real Prometheus (integration).
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# Grafana fills these in before a panel's query reaches Prometheus; outside Grafana they need concrete values.
GRAFANA_MACROS: Mapping[str, str] = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}
# faststream_*: FastStream's Kafka Prometheus middleware on the services' publishers.
_METRIC_NAME = re.compile(
    r"\b(windhash:[a-z0-9_:]+|windhash_[a-z0-9_]+|faststream_[a-z0-9_]+|up|ALERTS|process_[a-z0-9_]+)\b"
)
_NAME_REGEX = re.compile(r'__name__=~"([^"]+)"')
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class PromQuery:
    kind: Literal["alert", "record", "panel"]
    source: str  # the file
    name: str  # the alert, the recorded series, or the panel's title and refId
    expr: str

    def concrete(self, macros: Mapping[str, str] = GRAFANA_MACROS) -> str:
        """The expression as Prometheus itself can run it."""
        expr = self.expr
        for macro, value in macros.items():
            expr = expr.replace(macro, value)
        return expr


@dataclass(frozen=True)
class SqlQuery:
    source: str
    name: str
    sql: str


def alert_queries(alerts_file: Path) -> list[PromQuery]:
    import yaml  # a dev dependency: only the tests read rule files

    document = yaml.safe_load(alerts_file.read_text())
    return [
        PromQuery(
            "alert" if "alert" in rule else "record",
            alerts_file.name,
            rule.get("alert") or rule["record"],
            str(rule["expr"]).strip(),
        )
        for group in document["groups"]
        for rule in group["rules"]
    ]


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(dashboard_file: Path) -> tuple[list[PromQuery], list[SqlQuery]]:
    board = json.loads(dashboard_file.read_text())
    promql: list[PromQuery] = []
    sql: list[SqlQuery] = []
    for panel in _panels(board["panels"]):
        for target in panel.get("targets", []):
            name = f"{panel['title']} [{target['refId']}]"
            if "expr" in target:
                promql.append(PromQuery("panel", dashboard_file.name, name, target["expr"]))
            if "rawSql" in target:
                sql.append(SqlQuery(dashboard_file.name, name, target["rawSql"]))
    return promql, sql


def all_queries(prometheus_dir: Path, dashboards_dir: Path) -> tuple[list[PromQuery], list[SqlQuery]]:
    promql = alert_queries(prometheus_dir / "alerts.yml")
    sql: list[SqlQuery] = []
    for dashboard in sorted(dashboards_dir.glob("*.json")):
        panel_promql, panel_sql = dashboard_queries(dashboard)
        promql += panel_promql
        sql += panel_sql
    return promql, sql


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects, histogram suffixes removed (label values are not names)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    names = set(_METRIC_NAME.findall(without_strings))
    for name in list(names):
        for suffix in _HISTOGRAM_SUFFIXES:
            if name.endswith(suffix):
                names.discard(name)
                names.add(name.removesuffix(suffix))
    return names


def name_patterns(expr: str) -> list[str]:
    """`{__name__=~"..."}` selectors: regexes over metric names."""
    return _NAME_REGEX.findall(expr)
