"""`windhash reconcile range` over years repairs a year at a time, so what it holds is one year's; every
day of the range is covered once, in order, and the exit code says whether all of it is complete."""

import itertools
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner
from windhash_cli.main import build_app
from windhash_reconciler.repair import RepairScope


def test_a_long_range_is_repaired_a_year_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    scopes: list[RepairScope] = []

    async def fake_repair(settings: object, scope: RepairScope, refetcher: object, progress: object) -> None:
        scopes.append(scope)

    monkeypatch.setattr("windhash_cli.reconcile_commands.repair", fake_repair)
    result = CliRunner().invoke(build_app(), ["reconcile", "range", "2019-02-01", "2024-12-31"])
    assert result.exit_code == 0, result.output
    assert len(scopes) == 6
    assert all(scope.first is not None and scope.last is not None for scope in scopes)
    assert scopes[0].first == date(2019, 2, 1) and scopes[-1].last == date(2024, 12, 31)
    for before, after in itertools.pairwise(scopes):
        assert before.last is not None and after.first == before.last + timedelta(days=1)
    for scope in scopes:
        assert scope.first is not None and scope.last is not None
        assert (scope.last - scope.first).days < 366
