"""Every input error of the `windhash` command is refused before anything is touched: one clear sentence,
exit code 2, never a traceback. Hypothesis draws members of each class (bad figures, bad names, bad JSON
files, impossible dates, periods a day does not have, ranges outside the settlement window), so the class is
what is checked, not one example.

The servers the commands would reach are pointed at closed ports: a command that let bad input through would
fail there (exit 1, a traceback), never touch a real stack."""

import string
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result
from windhash_cli.main import build_app
from windhash_common.settlement_calendar import settlement_date_of, settlement_periods_in_day

CLOSED = "127.0.0.1:9"
# The settlement window, stated here rather than imported, so that the test holds the rule, not the code:
# NETA's first settlement day, and tomorrow (the last date that can hold data).
FIRST_SETTLEMENT_DATE = date(2001, 3, 27)
TOMORROW = settlement_date_of(datetime.now(UTC)) + timedelta(days=1)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def unreachable_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WINDHASH_DATABASE_URL", f"postgresql://nobody@{CLOSED}/nothing")
    monkeypatch.setenv("WINDHASH_KAFKA_BOOTSTRAP", CLOSED)
    monkeypatch.setenv("WINDHASH_DYNAMODB_ENDPOINT", f"http://{CLOSED}")
    monkeypatch.setenv("WINDHASH_ELEXON_BASE_URL", f"http://{CLOSED}/bmrs/api/v1")
    monkeypatch.setenv("WINDHASH_EXPLORER_URL", f"http://{CLOSED}/api")
    monkeypatch.setenv("WINDHASH_PRICE_API_URL", f"http://{CLOSED}/api")
    yield


def run(*args: str) -> Result:
    return CliRunner().invoke(build_app(), list(args))


def assert_refused(result: Result, *words: str) -> None:
    """Exit 2 with a message and no traceback; `words` must appear in it."""
    shown = result.output
    assert result.exit_code == 2, f"exit {result.exit_code}, {result.exception!r}:\n{shown}"
    assert "Traceback" not in shown
    assert shown.strip(), "a refusal says why"
    flat = " ".join(shown.replace("│", " ").split())
    for word in words:
        assert word in flat, f"{word!r} not in {flat!r}"


# --- miners add: figures and names ---

BAD_FIGURES = st.one_of(
    st.sampled_from(
        ["0", "-0", "0.0", "NaN", "nan", "sNaN", "-nan", "inf", "Infinity", "-Infinity", "1e999999"]
    ),
    st.decimals(max_value=0, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(min_value=10**7, allow_nan=False, allow_infinity=False).map(str),
    st.text(alphabet=string.ascii_letters + " ,;", min_size=1, max_size=8),
)
CONTROL = st.sampled_from([chr(code) for code in [*range(0x20), 0x7F, 0x85, 0x2028]] + ["\x1b[31m"])
BAD_NAMES = st.one_of(
    st.tuples(st.text(string.ascii_letters, min_size=1, max_size=6), CONTROL).map("".join),
    st.text(string.ascii_letters, min_size=1, max_size=6).map(lambda name: f" {name}"),
    st.text(string.ascii_letters, min_size=1, max_size=6).map(lambda name: f"{name}\t"),
    st.just(""),
    st.just("x" * 201),
)


def miners_add(
    name: str = "S21", manufacturer: str = "Bitmain", hashrate: str = "200", power: str = "3500"
) -> Result:
    return run(
        "miners", "add", name, "--manufacturer", manufacturer, "--hashrate-ths", hashrate, "--power-w", power
    )


@SETTINGS
@given(figure=BAD_FIGURES, which=st.sampled_from(["hashrate", "power"]))
def test_miners_add_refuses_every_impossible_figure(figure: str, which: str) -> None:
    result = miners_add(**{which: figure})
    assert_refused(result)


@SETTINGS
@given(name=BAD_NAMES, which=st.sampled_from(["name", "manufacturer"]))
def test_miners_add_refuses_names_with_control_characters_or_surrounding_spaces(
    name: str, which: str
) -> None:
    assert_refused(miners_add(**{which: name}))


@SETTINGS
@given(price=st.one_of(BAD_FIGURES, st.just("1999.999")))
def test_miners_add_refuses_every_impossible_launch_price(price: str) -> None:
    name, spec = ("S21", "Bitmain"), ("--hashrate-ths", "200", "--power-w", "3500")
    assert_refused(run("miners", "add", name[0], "--manufacturer", name[1], *spec, "--msrp-usd", price))


def test_miners_add_refuses_an_absurd_efficiency() -> None:
    assert_refused(miners_add(hashrate="9000", power="1"), "J/TH")


def test_miners_add_refuses_an_impossible_release_date() -> None:
    assert_refused(
        run(
            "miners",
            "add",
            "S21",
            "--manufacturer",
            "B",
            "--hashrate-ths",
            "200",
            "--power-w",
            "3500",
            "--release-date",
            "2024-02-30",
        ),
        "2024-02-30",
    )


# --- difficulty load / prices load: JSON files ---


def _nested(depth: int) -> bytes:
    return b'{"2024-01-01": ' + b"[" * depth + b"]" * depth + b"}"


BAD_JSON_FILES = st.one_of(
    st.binary(min_size=1, max_size=64).filter(lambda data: not data.strip().startswith(b"{")),
    st.sampled_from(
        [
            b"\x00\x01\x02\xff\xfe",
            b"\x89PNG\r\n\x1a\n\x00\x00",
            b"{",
            b'{"2024-01-01": 1,}',
            b"[1, 2, 3]",
            b'"text"',
            b"",
            b"\xef\xbb\xbf{\x00}",
        ]
    ),
    st.integers(min_value=200, max_value=100_000).map(_nested),
)


@pytest.mark.parametrize("command", ["difficulty", "prices"])
@SETTINGS
@given(content=BAD_JSON_FILES)
def test_load_refuses_malformed_binary_and_deeply_nested_files(
    command: str, content: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("files") / "input.json"
    path.write_bytes(content)
    assert_refused(run(command, "load", str(path)), "input.json")


DUPLICATED = {
    "difficulty": '{"2024-01-01": "103919634711492.2", "2024-01-01": "1"}',
    "prices": '{"prices": {"2024-01-01": {"gbp": "1", "usd": "2"}, "2024-01-01": {"gbp": "3", "usd": "4"}}}',
}
BAD_VALUES = {
    "difficulty": [
        '{"2024-02-30": "103919634711492.2"}',
        '{"yesterday": "103919634711492.2"}',
        '{"2024-01-01": "NaN"}',
        '{"2024-01-01": "-5"}',
        '{"2024-01-01": {"value": 1}}',
        '{"2024-01-01": "many"}',
        '{"2024-01-01": Infinity}',
    ],
    "prices": [
        '{"prices": {"2024-02-30": {"gbp": "1", "usd": "2"}}}',
        '{"prices": {"2024-01-01": {"gbp": "NaN", "usd": "2"}}}',
        '{"prices": {"2024-01-01": {"gbp": "-1", "usd": "2"}}}',
        '{"prices": {"2024-01-01": "40000"}}',
        '{"prices": {"2024-01-01": {"gbp": [1], "usd": "2"}}}',
        '{"prices": {"2024-01-01": {"gbp": "1e999999999", "usd": "2"}}}',
    ],
}


@pytest.mark.parametrize("command", ["difficulty", "prices"])
def test_load_refuses_a_file_with_a_duplicated_key(command: str, tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text(DUPLICATED[command])
    assert_refused(run(command, "load", str(path)), "2024-01-01")


@pytest.mark.parametrize(
    ("command", "content"), [(command, text) for command, texts in BAD_VALUES.items() for text in texts]
)
def test_load_refuses_impossible_dates_and_values(command: str, content: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert_refused(run(command, "load", str(path)))


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    assert_refused(run("prices", "load", str(tmp_path / "absent.json")))


# --- dates, periods and ranges ---

IMPOSSIBLE_DATES = st.one_of(
    st.sampled_from(
        [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024/01/01",
            "yesterday",
            "",
            "2024-01-01x",
            "2024-W01-1",
            "+2024-01-01",
        ]
    ),
    st.text(alphabet=string.digits + "-", min_size=1, max_size=12).filter(lambda text: not _is_date(text)),
)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


DATE_COMMANDS = [
    ("ingest", "date", "{d}"),
    ("ingest", "range", "{d}", "2024-01-02"),
    ("reconcile", "date", "{d}"),
    ("reconcile", "range", "2024-01-01", "{d}"),
    ("reconcile", "period", "{d}", "3"),
    ("reconcile", "status", "--from", "{d}"),
    ("reconcile", "analyze", "--to", "{d}"),
    ("summaries", "verify", "--from", "{d}"),
    ("summaries", "rebuild", "--to", "{d}"),
    ("prices", "sync", "--start", "{d}", "--end", "2024-01-02"),
    ("prices", "show", "--start", "2024-01-01", "--end", "{d}"),
    ("difficulty", "show", "{d}"),
    ("difficulty", "sync", "--until", "{d}"),
]


@pytest.mark.parametrize("command", DATE_COMMANDS, ids=lambda command: " ".join(command[:2]))
@SETTINGS
@given(text=IMPOSSIBLE_DATES)
def test_every_date_argument_refuses_impossible_dates(command: tuple[str, ...], text: str) -> None:
    assert_refused(run(*(part.format(d=text) for part in command)))


OUTSIDE = st.one_of(
    st.dates(max_value=FIRST_SETTLEMENT_DATE - timedelta(days=1)),
    st.dates(min_value=TOMORROW + timedelta(days=1)),
)
RANGE_COMMANDS = [command for command in DATE_COMMANDS if command[:2] != ("difficulty", "show")]


@pytest.mark.parametrize("command", RANGE_COMMANDS, ids=lambda command: " ".join(command[:2]))
@SETTINGS
@given(day=OUTSIDE)
def test_every_range_refuses_dates_before_the_first_settlement_date_or_after_tomorrow(
    command: tuple[str, ...], day: date
) -> None:
    result = run(*(part.format(d=day.isoformat()) for part in command))
    assert_refused(result, day.isoformat())


@pytest.mark.parametrize(
    "command",
    [("ingest", "range"), ("reconcile", "range")],
    ids=lambda command: " ".join(command),
)
def test_a_range_that_ends_before_it_starts_is_refused(command: tuple[str, ...]) -> None:
    assert_refused(run(*command, "2024-03-02", "2024-03-01"), "2024-03-02")


@SETTINGS
@given(day=st.dates(min_value=date(2002, 1, 1), max_value=date(2026, 1, 1)), extra=st.integers(1, 60))
def test_reconcile_period_refuses_a_period_the_day_does_not_have(day: date, extra: int) -> None:
    period = settlement_periods_in_day(day) + extra
    assert_refused(run("reconcile", "period", day.isoformat(), str(period)), str(period))


@pytest.mark.parametrize("period", ["0", "-1", "x"])
def test_reconcile_period_refuses_a_period_below_one(period: str) -> None:
    assert_refused(run("reconcile", "period", "2024-03-31", period))


def test_the_spring_clock_change_day_has_no_period_47() -> None:
    assert_refused(run("reconcile", "period", "2024-03-31", "47"), "46")


def test_a_valid_argument_is_not_refused_here() -> None:
    """The refusals above are the input's fault: a valid command gets past them to the (closed) database."""
    result = run("reconcile", "period", "2024-10-27", "50")
    assert result.exit_code != 2, result.output
