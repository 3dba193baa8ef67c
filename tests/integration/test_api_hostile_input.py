"""What a hostile or careless client, or a bad stored value, can do to the API over the real database: no date
it can type yields a 5xx (dates outside the settlement window are a 422 that says which dates exist), HEAD
answers wherever GET does, a stored value the API cannot represent is never a 500, and CSV cells that a
spreadsheet would run as a formula are neutralised. Hypothesis draws the members of each class."""

import csv
import io
import string
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool
from windhash_common.settlement_calendar import dates_between, settlement_date_of
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

SAMPLE_DAYS = list(dates_between(date(2024, 3, 30), date(2024, 4, 1)))
# The settlement window, stated here as the rule (NETA's first settlement day; tomorrow), not imported.
FIRST_SETTLEMENT_DATE = date(2001, 3, 27)
TOMORROW = settlement_date_of(datetime.now(UTC)) + timedelta(days=1)
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
async def database(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    await load_sample(connection, SAMPLE_DAYS)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def client(pg_dsn: str, database: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    pool = await create_pool(pg_dsn, min_size=1, max_size=4)
    app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False), pool=pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as http:
            yield http
    finally:
        await pool.close()


# --- dates ---

DAY_TEXTS = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(
        [
            "0000-01-01",
            "9999-12-31",
            "10000-01-01",
            "2024-02-30",
            "2024-1-1",
            "-001-01-01",
            "2024-01-01T00:00",
            "0001-01-01",
            "1970-01-01",
            "2001-03-26",
            "2001-03-27",
        ]
    ),
    st.text(alphabet=string.digits + "-.", max_size=12),
)
MONTH_TEXTS = st.one_of(
    st.dates().map(lambda day: day.isoformat()[:7]), st.sampled_from(["0000-01", "9999-12", "2024-00"])
)
YEAR_TEXTS = st.one_of(st.integers(0, 9999).map(lambda year: f"{year:04d}"), st.sampled_from(["99999", "-1"]))
TIMEFRAMES = st.one_of(
    st.tuples(st.just("daily"), DAY_TEXTS),
    st.tuples(st.just("monthly"), MONTH_TEXTS),
    st.tuples(st.just("yearly"), YEAR_TEXTS),
    st.tuples(st.just("range"), st.tuples(DAY_TEXTS, DAY_TEXTS).map("..".join)),
)
TIMEFRAME_ROUTES = [
    "/api/v1/summaries/{t}/{v}",
    "/api/v1/mining/{t}/{v}",
    "/api/v1/comparison/{t}/{v}",
    "/api/v1/series/{t}/{v}",
    "/api/v1/top/bm-units/{t}/{v}",
    "/api/v1/top/lead-parties/{t}/{v}",
]


@HYPOTHESIS
@given(route=st.sampled_from(TIMEFRAME_ROUTES), timeframe=TIMEFRAMES)
async def test_no_timeframe_yields_a_server_error(
    client: httpx.AsyncClient, route: str, timeframe: tuple[str, str]
) -> None:
    kind, value = timeframe
    response = await client.get(route.format(t=kind, v=value))
    assert response.status_code < 500, (route, timeframe, response.text)


@HYPOTHESIS
@given(route=st.sampled_from(["periods", "hours"]), day=DAY_TEXTS)
async def test_no_curtailment_date_yields_a_server_error(
    client: httpx.AsyncClient, route: str, day: str
) -> None:
    response = await client.get(f"/api/v1/curtailment/{day}/{route}")
    assert response.status_code < 500, (day, response.text)


@HYPOTHESIS
@given(first=st.none() | DAY_TEXTS, last=st.none() | DAY_TEXTS)
async def test_no_reconciliation_dates_yield_a_server_error(
    client: httpx.AsyncClient, first: str | None, last: str | None
) -> None:
    params = {name: value for name, value in (("from", first), ("to", last)) if value is not None}
    response = await client.get("/api/v1/reconciliation", params=params)
    assert response.status_code < 500, (params, response.text)


OUTSIDE = st.one_of(
    st.dates(max_value=FIRST_SETTLEMENT_DATE - timedelta(days=1)),
    st.dates(min_value=TOMORROW + timedelta(days=1)),
)


@HYPOTHESIS
@given(day=OUTSIDE)
async def test_dates_outside_the_settlement_window_are_refused_with_a_hint(
    client: httpx.AsyncClient, day: date
) -> None:
    for path in (
        f"/api/v1/summaries/daily/{day}",
        f"/api/v1/curtailment/{day}/periods",
        f"/api/v1/reconciliation?from={day}&to={day}",
        f"/api/v1/summaries/range/{day}..{day}",
    ):
        response = await client.get(path)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert FIRST_SETTLEMENT_DATE.isoformat() in error["message"] + (error["hint"] or ""), error


async def test_the_reconciliation_of_the_last_day_of_9999_is_refused_not_failed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/reconciliation?from=9999-12-31&to=9999-12-31")
    assert response.status_code == 422


async def test_the_current_month_and_year_are_still_answered(client: httpx.AsyncClient) -> None:
    today = settlement_date_of(datetime.now(UTC))
    for path in (
        f"/api/v1/summaries/monthly/{today:%Y-%m}",
        f"/api/v1/summaries/yearly/{today.year}",
        "/api/v1/summaries/yearly/2001",
        f"/api/v1/summaries/daily/{TOMORROW}",
    ):
        assert (await client.get(path)).status_code == 200, path


# --- HEAD ---


async def _get_paths(client: httpx.AsyncClient) -> list[str]:
    """A concrete path for every GET operation of the OpenAPI document, the documents and the dashboard."""
    document = (await client.get("/openapi.json")).json()
    examples = {
        "timeframe": "daily",
        "value": "2024-03-31",
        "settlement_date": "2024-03-31",
        "elexon_bm_unit": "T_NOSUCH-1",
    }
    paths = ["/", "/docs", "/openapi.json", "/health", "/ready", "/metrics", "/static/dashboard.js"]
    for template, operations in document["paths"].items():
        if "get" not in operations:
            continue
        path = template
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] == "path":
                path = path.replace(
                    "{" + parameter["name"] + "}", examples.get(parameter["name"], "2024-03-31")
                )
        paths.append(path)
    return paths


async def test_head_answers_wherever_get_does_with_the_same_status_and_no_body(
    client: httpx.AsyncClient,
) -> None:
    paths = await _get_paths(client)
    assert len(paths) > 15
    for path in paths:
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == get.status_code, (path, get.status_code, head.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path


# --- stored values ---

STORED_NUMBERS = st.sampled_from(["NaN", "9999999.999", "-9999999.999", "0.001", "0"])
STORED_TEXTS = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(capacity=STORED_NUMBERS, name=STORED_TEXTS, party=STORED_TEXTS)
async def test_no_stored_registry_value_makes_the_api_fail(
    client: httpx.AsyncClient, database: asyncpg.Connection, capacity: str, name: str, party: str
) -> None:
    """Values written by hand or by an older version, past today's sync checks: still never a 500."""
    await database.execute("DELETE FROM wind_bm_units WHERE elexon_bm_unit LIKE 'T_HOSTILE%'")
    try:
        await database.execute(
            "INSERT INTO wind_bm_units (elexon_bm_unit, bm_unit_name, lead_party_name,"
            " generation_capacity_mw, first_seen, last_seen)"
            " VALUES ('T_HOSTILE-1', $1, $2, $3::numeric, now(), now())",
            name,
            party or None,
            capacity,
        )
    except asyncpg.CheckViolationError:
        return  # the database itself refuses it: nothing stored, nothing to serve
    for path in (
        "/api/v1/bm-units?limit=500",
        "/api/v1/bm-units/T_HOSTILE-1",
        "/api/v1/lead-parties?limit=500",
        "/api/v1/bm-units?format=csv&limit=500",
        "/api/v1/lead-parties?format=csv&limit=500",
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)


async def test_a_stored_nan_figure_is_served_as_null_not_a_failure(
    client: httpx.AsyncClient, database: asyncpg.Connection
) -> None:
    await database.execute(
        "UPDATE curtailment_daily SET energy_mwh = 'NaN' WHERE settlement_date = '2024-03-31'"
    )
    await database.execute("UPDATE btc_prices SET gbp = 'NaN' WHERE price_date = '2024-03-31'")
    for path in (
        "/api/v1/summaries/daily/2024-03-31",
        "/api/v1/summaries/monthly/2024-03",
        "/api/v1/mining/daily/2024-03-31",
        "/api/v1/comparison/daily/2024-03-31",
        "/api/v1/series/monthly/2024-03?by=day",
        "/api/v1/series/monthly/2024-03?by=day&format=csv",
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)


# --- CSV ---

FORMULA_STARTS = st.sampled_from(["=", "+", "-", "@", "\t", "\r"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=FORMULA_STARTS, rest=st.text(alphabet=string.ascii_letters + "()|!+-=", max_size=20))
async def test_csv_cells_that_would_run_as_formulas_are_neutralised(
    client: httpx.AsyncClient, database: asyncpg.Connection, start: str, rest: str
) -> None:
    hostile = start + rest
    await database.execute(
        "UPDATE wind_bm_units SET lead_party_name = $1, bm_unit_name = $1 WHERE elexon_bm_unit IN"
        " (SELECT elexon_bm_unit FROM wind_bm_units ORDER BY elexon_bm_unit LIMIT 1)",
        hostile,
    )
    for path in ("/api/v1/bm-units?format=csv&limit=5", "/api/v1/lead-parties?format=csv&limit=500"):
        response = await client.get(path)
        assert response.status_code == 200
        for row in csv.reader(io.StringIO(response.text, newline="")):
            for cell in row:
                assert not _runs_as_formula(cell), (path, cell)
        cells = [cell for row in csv.reader(io.StringIO(response.text, newline="")) for cell in row]
        assert any(hostile in cell for cell in cells), "the name is still there, as data"


def _runs_as_formula(cell: str) -> bool:
    """What OWASP's CSV injection page lists: a cell starting with = + - @ tab or CR, unless it is a plain
    number (a negative figure is data)."""
    if not cell or cell[0] not in "=+-@\t\r":
        return False
    return not _is_number(cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell
