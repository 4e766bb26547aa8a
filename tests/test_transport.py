"""The upstream transport (aiohttp under httpx's API): what the retry table relies on.

Each test runs a tiny HTTP server on loopback, port 0, that misbehaves in one way, and sends
through `UpstreamTransport` under a real `httpx.AsyncClient` (or the whole `UpstreamClient`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from gateway.sandbox import SandboxServer
from gateway.upstream import CallOptions, Unavailable, UpstreamClient, UpstreamConfig
from gateway.upstream.errors import error_for_transport
from gateway.upstream.transport import UpstreamTransport
from tests.pki import make_pki
from tests.test_upstream_sandbox import add_fault, counts, express

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request's head (these tests send no bodies)."""
    return await reader.readuntil(b"\r\n\r\n")


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection with 200 `{}`."""
    try:
        while True:
            await read_request(reader)
            writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> asyncio.Server:
    """`handler` for each connection, on 127.0.0.1, port 0."""
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)


def url_of(server: asyncio.Server, scheme: str = "http") -> str:
    """The server's base URL."""
    port = server.sockets[0].getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client over the transport, one connection at most."""
    async with httpx.AsyncClient(transport=UpstreamTransport(max_connections=1)) as client:
        yield client


def is_not_sent(exc: Exception) -> bool:
    """Whether the retry table reads `exc` as "nothing reached the upstream"."""
    error = error_for_transport(exc, method="POST", path="/x", idempotent=False, token="")
    return not error.request_sent


async def test_a_connection_dropped_after_the_request_was_read_counts_as_sent(
    http: httpx.AsyncClient,
) -> None:
    """An upstream that reads the request and then closes the connection may have acted: the
    failure is a protocol error the retry table counts as sent (a create is then
    OUTCOME_UNKNOWN, never sent again), not a connect timeout."""

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with await serve(drop) as server:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await http.post(url_of(server) + "/v1/x", json={})
    assert not is_not_sent(info.value)


async def test_a_refused_connection_counts_as_not_sent(http: httpx.AsyncClient) -> None:
    """Nothing listening: a connect error, which the retry table counts as not sent."""
    server = await serve(answer_ok)
    url = url_of(server)
    server.close()
    await server.wait_closed()
    with pytest.raises(httpx.ConnectError) as info:
        await http.get(url + "/v1/x")
    assert is_not_sent(info.value)


async def test_a_body_cut_short_is_a_protocol_error(http: httpx.AsyncClient) -> None:
    """An answer whose body ends before its Content-Length is a protocol error (sent)."""

    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async with await serve(short) as server:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await http.get(url_of(server) + "/v1/x")
    assert not is_not_sent(info.value)


async def test_a_silent_upstream_is_a_read_timeout(http: httpx.AsyncClient) -> None:
    """An upstream that never answers ends the request with httpx's read timeout."""

    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await done.wait()
        writer.close()

    async with await serve(silent) as server:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(url_of(server) + "/v1/x", timeout=httpx.Timeout(5.0, read=0.2))
        done.set()


async def test_a_request_that_gets_no_connection_is_a_pool_timeout(
    http: httpx.AsyncClient,
) -> None:
    """With the one connection busy, a second request waits at most its pool timeout and fails
    PoolTimeout (not sent); once the first ends, its connection serves the next request."""
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()
        writer.write(OK)
        await writer.drain()
        await answer_ok(reader, writer)

    async with await serve(slow) as server:
        url = url_of(server) + "/v1/x"
        first = asyncio.create_task(http.get(url))
        await asyncio.sleep(0.2)  # the first holds the connection
        with pytest.raises(httpx.PoolTimeout) as info:
            await http.get(url, timeout=httpx.Timeout(5.0, pool=0.1))
        assert is_not_sent(info.value)
        release.set()
        assert (await first).status_code == 200
        second = await http.get(url, timeout=httpx.Timeout(5.0, pool=1.0))
        assert second.status_code == 200


async def test_the_path_is_sent_as_httpx_encoded_it(http: httpx.AsyncClient) -> None:
    """An id escaped into one path segment (`a%2Fb`) reaches the upstream byte for byte."""
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await read_request(reader)).split(b"\r\n", 1)[0])
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with await serve(record) as server:
        await http.get(url_of(server) + "/v1/batch/a%2Fb%41/status")
    assert seen == [b"GET /v1/batch/a%2Fb%41/status HTTP/1.1"]


async def test_cookies_are_not_kept_between_requests(http: httpx.AsyncClient) -> None:
    """A Set-Cookie from one answer is never sent back by the transport's own jar (requests
    of different tenants share the connection pool)."""
    heads: list[bytes] = []

    async def cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_request(reader))
        writer.write(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: tenant=a\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()

    async with await serve(cookie) as server:
        transport = UpstreamTransport(max_connections=1)
        async with httpx.AsyncClient(transport=transport) as bare:  # no httpx jar either
            # localhost, not 127.0.0.1: aiohttp's jar ignores cookies of IP addresses anyway
            port = server.sockets[0].getsockname()[1]
            request = bare.build_request("GET", f"http://localhost:{port}/v1/x")
            for _ in range(2):
                response = await transport.handle_async_request(request)
                await response.aread()
                await response.aclose()
    assert all(b"cookie" not in head.lower() for head in heads)


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 from a test CA that the process trusts
    (SSL_CERT_FILE, as httpx reads it)."""
    pki = make_pki(tmp_path / "pki")
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca.cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server.cert_file, pki.server.key_file)
    return context


async def test_an_https_upstream_is_verified_against_the_trusted_cas(
    tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An https upstream whose certificate a trusted CA signed answers; when that CA is not
    trusted the request fails a connect error (not sent), never unverified."""
    async with await serve(answer_ok, tls) as server:
        url = url_of(server, "https") + "/v1/x"
        async with httpx.AsyncClient(transport=UpstreamTransport(max_connections=1)) as http:
            assert (await http.get(url)).status_code == 200
        monkeypatch.delenv("SSL_CERT_FILE")
        async with httpx.AsyncClient(transport=UpstreamTransport(max_connections=1)) as http:
            with pytest.raises(httpx.ConnectError) as info:
                await http.get(url)
        assert is_not_sent(info.value)


async def test_a_dropped_read_reaches_the_upstream_once_per_attempt(
    sandbox: SandboxServer,
) -> None:
    """A GET whose connection drops is retried by the client's policy alone (attempts counted,
    budget spent): the transport never sends it again by itself."""
    config = UpstreamConfig(base_url=sandbox.url, backoff_base=0.01, backoff_cap=0.05)
    async with (
        UpstreamClient(config) as client,
        httpx.AsyncClient(base_url=sandbox.url) as admin,
    ):
        batch = await client.create_batch(
            express("https://audio.test/a.mp3"), opts=CallOptions("t")
        )
        await add_fault(admin, drop=True, count=2, method="GET")
        call = CallOptions("t")
        await client.get_batch_status(batch.batch_id, opts=call)
        assert call.attempts == 3
        assert (await counts(admin))["GET /v1/transcriptions/batch/{batch_id}/status"] == 3

        await add_fault(admin, drop=True, count=1, method="POST")
        with pytest.raises(Unavailable) as info:
            await client.create_batch(express("https://audio.test/b.mp3"), opts=CallOptions("t"))
        assert info.value.outcome_unknown
