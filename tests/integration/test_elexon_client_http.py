"""The Elexon client's real HTTP transport (aiohttp under httpx) against real local servers: timeouts, refused
and dropped connections and broken responses all reach the retry logic as httpx errors and are retried; the
aiohttp session lives inside the event loop and is closed with the client. No stack needed."""

import asyncio
import gc
import gzip
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date

import aiohttp
import httpx
import pytest
from prometheus_client import REGISTRY
from windhash_elexon_sim import ElexonSimServer, FaultRule, settlement_stack
from windhash_ingestor.elexon_client import (
    ElexonClient,
    ElexonFetchError,
    ReplyLimits,
    _AiohttpTransport,
    _httpx_error,
)
from windhash_ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration

DAY = date(2024, 1, 5)
Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


@pytest.fixture(autouse=True)
def no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").clear_faults()


def settings(base_url: str, **changes: object) -> IngestorSettings:
    quick: dict[str, object] = {
        "elexon_base_url": base_url,
        "elexon_max_retries": 3,
        "elexon_backoff_initial_seconds": 0.01,
        "elexon_backoff_max_seconds": 0.02,
        "elexon_read_timeout_seconds": 2.0,
        "elexon_connect_timeout_seconds": 2.0,
    }
    quick.update(changes)
    return IngestorSettings.model_validate(quick)


def retries(reason: str) -> float:
    labels = {"endpoint": "settlement_stack", "reason": reason}
    return REGISTRY.get_sample_value("windhash_ingestor_elexon_retries_total", labels) or 0.0


async def test_the_real_transport_fetches_the_stack_with_url_headers_and_body(sim: ElexonSimServer) -> None:
    async with ElexonClient(settings(sim.base_url)) as client:
        assert isinstance(client._transport, _AiohttpTransport)
        response = await client.settlement_stack("bid", DAY, 3)
        units = await client.bm_units()
    assert response.url == sim.base_url + "/balancing/settlement/stack/all/bid/2024-01-05/3"
    assert response.synthetic and response.attempts == 1
    assert httpx.Response(200, content=response.body).json()["data"] == settlement_stack(DAY, 3, "bid")
    assert units.synthetic and units.body.startswith(b"[")


async def test_a_response_slower_than_the_read_timeout_is_retried(sim: ElexonSimServer) -> None:
    sim.add_fault(FaultRule(kind="slow", delay_s=1.0, date=DAY, period=4, times=2))
    before = retries("timeout")
    async with ElexonClient(settings(sim.base_url, elexon_read_timeout_seconds=0.2)) as client:
        response = await client.settlement_stack("bid", DAY, 4)
    assert response.attempts == 3 and response.synthetic
    assert retries("timeout") == before + 2


async def test_a_server_that_stays_slow_fails_as_a_timeout(sim: ElexonSimServer) -> None:
    sim.add_fault(FaultRule(kind="slow", delay_s=1.0, date=DAY, period=5, times=None))
    async with ElexonClient(
        settings(sim.base_url, elexon_read_timeout_seconds=0.1, elexon_max_retries=1)
    ) as client:
        with pytest.raises(ElexonFetchError) as raised:
            await client.settlement_stack("bid", DAY, 5)
    assert raised.value.outcome.startswith("timeout") and raised.value.attempts == 2


async def test_a_refused_connection_is_retried_then_fails_as_a_transport_error() -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    before = retries("transport_error")
    async with ElexonClient(settings(f"http://127.0.0.1:{port}/bmrs/api/v1")) as client:
        with pytest.raises(ElexonFetchError) as raised:
            await client.settlement_stack("bid", DAY, 3)
    assert raised.value.outcome == "transport error (ConnectError)" and raised.value.attempts == 4
    assert retries("transport_error") == before + 3


@pytest.fixture
async def scripted_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """A raw HTTP server answering its connections in turn with the given behaviours (the last repeats)."""
    servers: list[asyncio.Server] = []

    async def start(*answers: Answer) -> str:
        served = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal served
            answer = answers[min(served, len(answers) - 1)]
            served += 1
            await reader.readuntil(b"\r\n\r\n")
            try:
                await answer(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/bmrs/api/v1"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    pass  # the connection is closed without a response


async def truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()


async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
    await writer.drain()


async def fine(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = b'{"data":[]}'
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Windhash-Synthetic: true\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()


async def gzipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = gzip.compress(b'{"data":[1]}')
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()


async def test_a_compressed_body_is_decoded(scripted_server: Callable[..., Awaitable[str]]) -> None:
    async with ElexonClient(settings(await scripted_server(gzipped))) as client:
        response = await client.settlement_stack("bid", DAY, 3)
    assert response.body == b'{"data":[1]}' and not response.synthetic


@pytest.mark.parametrize("failure", [hang_up, truncated, not_http])
async def test_a_dropped_connection_or_a_broken_response_is_retried(
    scripted_server: Callable[..., Awaitable[str]], failure: Answer
) -> None:
    base_url = await scripted_server(failure, failure, fine)
    before = retries("transport_error")
    async with ElexonClient(settings(base_url)) as client:
        response = await client.settlement_stack("bid", DAY, 3)
    assert response.body == b'{"data":[]}' and response.synthetic
    # aiohttp itself resends a GET once when the server hangs up (a keep-alive connection the server has just
    # closed is the usual cause), so a hang-up may cost one attempt of ours rather than two.
    assert response.attempts == (2 if failure is hang_up else 3)
    assert retries("transport_error") == before + response.attempts - 1


async def test_a_server_that_keeps_hanging_up_fails_as_a_transport_error(
    scripted_server: Callable[..., Awaitable[str]],
) -> None:
    base_url = await scripted_server(hang_up)
    async with ElexonClient(settings(base_url, elexon_max_retries=1)) as client:
        with pytest.raises(ElexonFetchError) as raised:
            await client.settlement_stack("bid", DAY, 3)
    assert raised.value.outcome == "transport error (RemoteProtocolError)"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("short body"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (ConnectionResetError(), httpx.ReadError),
        (ValueError("a bug"), type(None)),
    ],
)
def test_aiohttp_errors_map_to_the_httpx_errors_the_retry_logic_catches(
    error: BaseException, expected: type
) -> None:
    assert type(_httpx_error(error)) is expected


def test_timeouts_reach_aiohttp_as_httpx_names_them() -> None:
    request = httpx.Request("GET", "http://elexon.test/")
    request.extensions["timeout"] = httpx.Timeout(30.0, connect=10.0).as_dict()
    limits = ReplyLimits(deadline_s=60.0, max_body_bytes=1 << 20, max_decoded_bytes=1 << 22)
    timeout = _AiohttpTransport(4, limits)._timeout(request)
    assert (timeout.total, timeout.sock_connect, timeout.sock_read, timeout.connect) == (
        60.0,  # the whole request's deadline
        10.0,
        30.0,
        30.0,
    )


async def test_the_session_is_made_in_the_loop_and_closed_with_the_client(sim: ElexonSimServer) -> None:
    client = ElexonClient(settings(sim.base_url))
    transport = client._transport
    assert isinstance(transport, _AiohttpTransport)
    assert transport._session is None  # not before the first request
    await client.settlement_stack("bid", DAY, 3)
    session = transport._session
    assert isinstance(session, aiohttp.ClientSession) and not session.closed
    assert session.connector is not None and session.connector.limit == 8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        await client.aclose()
        del client, transport, session  # an unclosed session or connector would warn when collected
        gc.collect()
    assert not [warning for warning in caught if issubclass(warning.category, ResourceWarning)]
