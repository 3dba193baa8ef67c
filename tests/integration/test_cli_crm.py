"""`windhash crm status|rescore` as an operator runs them (subprocesses, as the operator's database role,
which sees every owner's CRM records): a changed scoring rule applied to the stored leads, each change
audited."""

import csv
import io
import json
import os
import subprocess

import pytest
from test_accounts_support import accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from test_crm_support import CrmClient, crm_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_cli.service_processes import WINDHASH
from windhash_common.db_roles import DatabaseRole, dsn_as

pytestmark = pytest.mark.integration


def windhash(pg_dsn: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WINDHASH_DATABASE_URL": dsn_as(pg_dsn, DatabaseRole.OPERATOR), **env}
    return subprocess.run([*WINDHASH, *args], env=environment, capture_output=True, text=True, timeout=300)


async def test_a_changed_scoring_rule_rescored_from_the_shell_and_the_records_counted(
    pg_dsn: str, crm: CrmClient
) -> None:
    phoned = await crm.lead("sales@example.com", phone="01224 000000")
    plain = await crm.lead("sales2@example.com", email="bo@northwind-two.example", company="Two")
    await crm.won_deal("admin@example.com", email="c@three.example", company="Three")
    assert (phoned["score"], plain["score"]) == (60, 65)
    rule = json.dumps({"phone_points": 40})
    rescored = windhash(pg_dsn, "crm", "rescore", WINDHASH_CRM_SCORING_RULE=rule)
    assert rescored.returncode == 0, rescored.stderr
    assert "1 lead(s) rescored" in rescored.stdout  # only the lead with a phone changes; converted stay 100
    assert (await crm.ok("sales@example.com", "GET", f"/leads/{phoned['lead_id']}"))["score"] == 90
    trail = await crm.accounts.superuser.fetch(
        "SELECT actor, before, after FROM audit_log WHERE action = 'crm.lead.rescore'"
    )
    assert [(json.loads(row["before"]), json.loads(row["after"])) for row in trail] == [
        ({"score": 60}, {"score": 90})
    ]
    assert trail[0]["actor"].startswith("cli:")
    status = windhash(pg_dsn, "crm", "status", "--csv")
    assert status.returncode == 0, status.stderr
    counts = {
        (row["records"], row["status"]): int(row["count"])
        for row in csv.DictReader(io.StringIO(status.stdout))
    }
    assert counts == {("deals", "closed_won"): 1, ("leads", "converted"): 1, ("leads", "new"): 2}
