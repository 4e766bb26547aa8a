"""The upstream transport (gateway.upstream.http1: HTTP/1.1 over asyncio under httpx's API):
what the retry table relies on, and HTTP/1.1 as upstreams speak it.

Each test runs a tiny HTTP server on loopback, port 0, that behaves (or misbehaves) in one way,
and sends through the transport under a real `httpx.AsyncClient` (or the whole
`UpstreamClient`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sofer_sandbox import SandboxServer

from gateway.upstream import CallOptions, Unavailable, UpstreamClient, UpstreamConfig
from gateway.upstream.errors import error_for_transport
from gateway.upstream.http1 import Http1Transport as UpstreamTransport
from tests.helpers.pki import make_pki
from tests.upstream.test_against_sandbox import add_fault, counts, express

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


_HANDLERS: set[asyncio.Task[None]] = set()
"""The servers' connection handlers still running (awaited when each test ends)."""


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> asyncio.Server:
    """`handler` for each connection, on 127.0.0.1, port 0; its writer closed when it ends."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        _HANDLERS.add(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    return await asyncio.start_server(connection, "127.0.0.1", 0, ssl=tls)


@pytest.fixture(autouse=True)
async def _handlers_finish() -> AsyncIterator[None]:
    """Each test's server handlers end within it (once its clients have closed), so that no
    server-side socket outlives the test's event loop."""
    yield
    pending = [task for task in _HANDLERS if not task.done()]
    _HANDLERS.clear()
    if pending:
        await asyncio.wait(pending, timeout=5)


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
            # localhost, not 127.0.0.1: cookie jars ignore cookies of IP addresses
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


# -- HTTP/1.1 as upstreams speak it -----------------------------------------------------------


class Recorder:
    """A server's view: each connection it accepted, and each request head and body per one."""

    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []

    async def read(self, reader: asyncio.StreamReader) -> bytes:
        """One request: its head, and its body by Content-Length."""
        head = await read_request(reader)
        self.heads.append(head)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length) if length else b""
        self.bodies.append(body)
        return head


def answering(recorder: Recorder, *answers: bytes, close: bool = False) -> Handler:
    """Answer each request on a connection with the next of `answers` (the last repeats)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        index = 0
        try:
            while True:
                await recorder.read(reader)
                writer.write(answers[min(index, len(answers) - 1)])
                await writer.drain()
                index += 1
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    return handle


@contextlib.asynccontextmanager
async def through(
    handler: Handler, *, max_connections: int = 1, keepalive_expiry: float = 5.0
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """A server running `handler`, and a client over the transport: the URL of `/v1/x`."""
    transport = UpstreamTransport(
        max_connections=max_connections, keepalive_expiry=keepalive_expiry
    )
    async with await serve(handler) as server, httpx.AsyncClient(transport=transport) as http:
        yield url_of(server) + "/v1/x", http


async def test_one_connection_serves_request_after_request() -> None:
    """Keep-alive: sequential requests to one upstream reuse one connection."""
    recorder = Recorder()
    async with through(answering(recorder, OK), max_connections=4) as (url, http):
        for _ in range(5):
            assert (await http.get(url)).json() == {}
    assert (recorder.connections, len(recorder.heads)) == (1, 5)


async def test_chunked_and_connection_delimited_bodies_are_read_whole() -> None:
    """A chunked answer, and one without a length that ends with the connection, reach the
    caller whole; the second connection is not reused after it ended."""
    recorder = Recorder()
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"a"\r\n3\r\n:[1\r\n2\r\n]}\r\n0\r\n\r\n'
    )
    until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"[" + b"7," * 50_000 + b"7]"
    async with (
        await serve(answering(recorder, chunked)) as first,
        await serve(answering(recorder, until_close, close=True)) as second,
        httpx.AsyncClient(transport=UpstreamTransport(max_connections=2)) as http,
    ):
        assert (await http.get(url_of(first) + "/v1/x")).json() == {"a": [1]}
        for _ in range(2):
            answer = await http.get(url_of(second) + "/v1/x")
            assert answer.json() == [7] * 50_001
    assert recorder.connections == 3  # one for the chunked, one per "Connection: close" answer


async def test_a_large_request_body_and_answer_cross_intact() -> None:
    """A 1 MB JSON body arrives byte for byte, and a 2 MB answer is read whole."""
    recorder = Recorder()
    big = b"x" * 2_000_000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big) + 2, b'"' + big + b'"')
    payload = {"urls": ["https://audio.test/" + "a" * 1_000_000]}
    async with through(answering(recorder, answer)) as (url, http):
        response = await http.post(url, json=payload)
    assert len(response.json()) == 2_000_000
    assert recorder.bodies == [httpx.Request("POST", "http://x", json=payload).read()]


async def test_a_compressed_answer_is_decoded() -> None:
    """A gzip Content-Encoding is decoded by httpx, as with any transport."""
    import gzip

    body = gzip.compress(b'{"status": "ok"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with through(answering(Recorder(), answer + body)) as (url, http):
        assert (await http.get(url)).json() == {"status": "ok"}


@pytest.mark.parametrize("encoding", [None, b"identity", b"gzip", b"gzip, gzip"])
async def test_an_answer_comes_back_whole_and_decoded(encoding: bytes | None) -> None:
    """The transport's response is already read: an unencoded (or identity) body is its
    content as it came, with no decoding step left to run; an encoded one (gzip, twice over
    too) is left to httpx's decoders, as with any transport. Either way the body is whole."""
    import gzip

    text = '{"status": "שלום"}'.encode()
    body = text
    header = b""
    if encoding is not None:
        header = b"Content-Encoding: " + encoding + b"\r\n"
        for _ in range(encoding.count(b"gzip")):
            body = gzip.compress(body)
    answer = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (header, len(body))
    async with through(answering(Recorder(), answer + body)) as (url, http):
        transport = UpstreamTransport(max_connections=1)
        response = await transport.handle_async_request(httpx.Request("GET", url))
        plain = encoding is None or encoding == b"identity"
        if plain:  # nothing left to do: no read() needed before .content
            assert (response.content, response.is_closed) == (text, True)
        response.read()
        assert response.content == text
        assert response.json() == {"status": "שלום"}
        await transport.aclose()
        assert (await http.get(url)).json() == {"status": "שלום"}


async def test_an_interim_100_continue_is_skipped() -> None:
    """A `100 Continue` before the answer is not the answer."""
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    async with through(answering(Recorder(), answer)) as (url, http):
        response = await http.get(url)
    assert (response.status_code, response.json()) == (200, {})


async def test_a_connection_the_upstream_closed_while_idle_is_not_used() -> None:
    """An upstream that closes its idle keep-alive connections (its own idle timeout): the next
    request opens a new connection and succeeds, instead of failing on the dead one."""
    recorder = Recorder()
    async with through(answering(recorder, OK, close=True)) as (
        url,
        http,
    ):  # closes after each answer
        for _ in range(3):
            assert (await http.get(url)).status_code == 200
            await asyncio.sleep(0.05)  # the close reaches the client while the connection idles
    assert recorder.connections == 3


async def test_an_idle_connection_is_let_go_after_the_keepalive_expiry() -> None:
    """A pooled connection idle longer than the keep-alive expiry is closed, not reused."""
    recorder = Recorder()
    async with through(answering(recorder, OK), keepalive_expiry=0.2) as (url, http):
        await http.get(url)
        await http.get(url)
        await asyncio.sleep(0.4)
        await http.get(url)
    assert recorder.connections == 2


async def test_a_header_that_could_split_the_request_is_never_sent() -> None:
    """A header value holding CR/LF is refused before anything is written: LocalProtocolError,
    which the retry table reads as not sent, and the upstream sees no request."""
    recorder = Recorder()
    async with through(answering(recorder, OK)) as (url, http):
        request = http.build_request("GET", url)
        request.headers["x-note"] = "a"
        request.headers._list[-1] = (b"x-note", b"x-note", b"a\r\nX-Evil: 1")  # what httpx allows
        with pytest.raises(httpx.LocalProtocolError) as info:
            await http.send(request)
        assert is_not_sent(info.value)
        assert (await http.get(url)).status_code == 200
    assert len(recorder.heads) == 1
    assert b"evil" not in recorder.heads[0].lower()


async def test_bytes_that_keep_coming_are_not_a_read_timeout() -> None:
    """The read timeout bounds each wait for a byte, not the whole answer: an answer that
    trickles in over longer than the read timeout is read whole."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        for _ in range(10):
            await asyncio.sleep(0.08)
            writer.write(b"7")
            await writer.drain()
        writer.close()

    async with through(trickle) as (url, http):
        response = await http.get(url, timeout=httpx.Timeout(5.0, read=0.3))
    assert response.content == b"7" * 10


async def test_a_request_cut_short_never_leaves_its_connection_for_the_next() -> None:
    """A request abandoned mid-answer (the caller's deadline) closes its connection: the next
    request gets a fresh one and its own answer, never the rest of the first."""
    recorder = Recorder()
    release = asyncio.Event()

    async def half_then_whole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        await recorder.read(reader)
        if recorder.connections == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n[1,")
            await writer.drain()
            await release.wait()
            with contextlib.suppress(ConnectionError):
                writer.write(b"2,3]")
                await writer.drain()
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n[9]")
            await writer.drain()
        writer.close()

    async with through(half_then_whole) as (url, http):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await http.get(url)
        release.set()
        assert (await http.get(url)).json() == [9]
    assert recorder.connections == 2


async def test_bytes_past_the_answer_are_never_read_as_the_next_one() -> None:
    """An upstream that sends more than its answer (a second response nobody asked for, in the
    same write): the caller gets the first answer as it was, and the connection is not reused,
    so the extra bytes can never become the answer to the next request."""
    recorder = Recorder()
    stray = b'HTTP/1.1 200 OK\r\nX-Stray: 1\r\nContent-Length: 7\r\n\r\n["bad"]'
    async with through(answering(recorder, OK + stray)) as (url, http):
        for _ in range(2):
            answer = await http.get(url)
            assert (answer.json(), "x-stray" in answer.headers) == ({}, False)
    assert recorder.connections == 2


async def test_a_streamed_request_body_is_sent_as_httpx_announced_it() -> None:
    """A body given as an async stream (no length known, so httpx announces it chunked)
    reaches the upstream as valid chunked encoding, whole."""
    received: list[bytes] = []

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        assert b"transfer-encoding: chunked" in head.lower()
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readexactly(2)
        received.append(body)
        writer.write(OK)
        await writer.drain()
        writer.close()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"a":', b" [1, 2]", b"}"):
            yield part

    async with through(chunked) as (url, http):
        assert (await http.post(url, content=parts())).status_code == 200
    assert received == [b'{"a": [1, 2]}']


def test_the_transport_runs_under_uvloop() -> None:
    """Under uvloop (whose transports do not subclass asyncio.Transport) a request is answered
    like under asyncio's own loop, instead of failing inside the transport."""
    import uvloop

    async def main() -> int:
        async with through(answering(Recorder(), OK)) as (url, http):
            return (await http.get(url)).status_code

    assert uvloop.run(main()) == 200
