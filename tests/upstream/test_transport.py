"""The upstream HTTP client (gateway.upstream.transport: httpx over httpx-aiohttp) as one
attempt uses it (`send_attempt`): what the retry table relies on, and HTTP/1.1 as upstreams
speak it.

Each test runs a tiny HTTP server on loopback, port 0, that behaves (or misbehaves) in one way,
and sends through the gateway's own client (or the whole `UpstreamClient`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from gateway.upstream import (
    BatchFileCreateFromRssRequest,
    CallOptions,
    DeadlineExceeded,
    PoolExhausted,
    ProtocolError,
    Unavailable,
    UpstreamClient,
    UpstreamConfig,
    UpstreamError,
)
from gateway.upstream.attempt import Request, Route, send_attempt
from gateway.upstream.reply import Reply
from gateway.upstream.transport import new_http_client, new_transport
from tests.helpers.pki import make_pki

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
GET = Route("GET", "/v1/x")
POST = Route("POST", "/v1/x")


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request's head."""
    return await reader.readuntil(b"\r\n\r\n")


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection with 200 `{}`."""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            await Recorder().read(reader)
            writer.write(OK)
            await writer.drain()


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


def url_of(server: asyncio.Server, scheme: str = "http", host: str = "127.0.0.1") -> str:
    """The server's base URL."""
    port = server.sockets[0].getsockname()[1]
    return f"{scheme}://{host}:{port}"


class Gateway:
    """The gateway's HTTP client to one upstream, sending as an attempt does."""

    def __init__(
        self, url: str, *, max_connections: int = 1, keepalive_expiry: float = 5.0
    ) -> None:
        self.http = new_http_client(
            url,
            user_agent="test",
            timeout=5.0,
            transport=new_transport(max_connections, keepalive_expiry=keepalive_expiry),
        )
        self.slots = asyncio.Semaphore(max_connections)

    async def send(
        self,
        route: Route = GET,
        path: str = "/v1/x",
        *,
        json: Any = None,
        token: str = "t",
        seconds: float = 5.0,
        pool_timeout: float | None = None,
        max_bytes: int = 32 * 1024 * 1024,
    ) -> Reply:
        """One attempt: the 2xx answer read whole, or the attempt's UpstreamError."""
        return await send_attempt(
            self.http,
            self.slots,
            Request(route, path, token, json=json),
            seconds=seconds,
            connect_timeout=5.0,
            wall_clock=0.0,
            max_response_bytes=max_bytes,
            pool_timeout=pool_timeout,
        )


@contextlib.asynccontextmanager
async def through(
    handler: Handler, *, max_connections: int = 1, keepalive_expiry: float = 5.0
) -> AsyncIterator[Gateway]:
    """A server running `handler`, and the gateway's client to it."""
    async with await serve(handler) as server:
        gateway = Gateway(
            url_of(server), max_connections=max_connections, keepalive_expiry=keepalive_expiry
        )
        async with gateway.http:
            yield gateway


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
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await recorder.read(reader)
                writer.write(answers[min(index, len(answers) - 1)])
                await writer.drain()
                index += 1
                if close:
                    break

    return handle


# -- what the retry table relies on -----------------------------------------------------------


async def test_a_connection_dropped_after_a_create_was_read_counts_as_sent() -> None:
    """An upstream that reads a POST and then closes the connection may have acted: the
    attempt fails Unavailable, sent, its outcome unknown (the policy never sends it again),
    and the transport did not send it a second time either."""
    recorder = Recorder()

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await recorder.read(reader)

    async with through(drop) as gateway:
        with pytest.raises(Unavailable) as info:
            await gateway.send(POST, json={"a": 1})
    assert (info.value.request_sent, info.value.outcome_unknown) == (True, True)
    assert len(recorder.heads) == 1


async def test_a_refused_connection_counts_as_not_sent() -> None:
    """Nothing listening: Unavailable, known not to have reached the upstream (a create may
    be sent again)."""
    server = await serve(answer_ok)
    url = url_of(server)
    server.close()
    await server.wait_closed()
    gateway = Gateway(url)
    async with gateway.http:
        with pytest.raises(Unavailable) as info:
            await gateway.send(POST, json={})
    assert (info.value.request_sent, info.value.outcome_unknown) == (False, False)


@pytest.mark.parametrize("route", [GET, POST])
async def test_a_body_cut_short_is_a_transport_error_not_a_short_success(route: Route) -> None:
    """An answer whose body ends before its Content-Length (the connection reset mid-answer)
    is Unavailable, sent (a create's outcome unknown), never the part that came as a 200."""

    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Recorder().read(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
        await writer.drain()

    async with through(short) as gateway:
        with pytest.raises(Unavailable) as info:
            await gateway.send(route, json={} if route is POST else None)
    assert not isinstance(info.value, ProtocolError)
    assert info.value.request_sent
    assert info.value.outcome_unknown is (route is POST)


async def test_a_silent_upstream_ends_the_attempt_by_its_deadline() -> None:
    """An upstream that never answers ends the attempt DeadlineExceeded by its time."""
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await done.wait()

    async with through(silent) as gateway:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(DeadlineExceeded):
            await gateway.send(seconds=0.3)
        assert loop.time() - started < 2.0
        done.set()


async def test_a_request_that_gets_no_connection_is_shed_not_sent() -> None:
    """With the one connection busy, a second attempt waits at most its pool timeout and fails
    PoolExhausted (not sent); once the first ends, its connection serves the next request."""
    release = asyncio.Event()
    recorder = Recorder()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        await recorder.read(reader)
        await release.wait()
        writer.write(OK)
        await writer.drain()
        await answer_ok(reader, writer)

    async with through(slow) as gateway:
        first = asyncio.create_task(gateway.send())
        async with asyncio.timeout(5):
            while not recorder.heads:  # noqa: ASYNC110 (the first request is in)
                await asyncio.sleep(0.01)
        with pytest.raises(PoolExhausted) as info:
            await gateway.send(pool_timeout=0.1)
        assert not info.value.request_sent
        release.set()
        assert (await first).content == b"{}"
        assert (await gateway.send(pool_timeout=1.0)).content == b"{}"
    assert recorder.connections == 1


@pytest.mark.parametrize("value", ["a/b", "100%", "%41", "x?y#z", "שיעור", "a b", "a;b=c,d"])
async def test_an_id_reaches_the_upstream_as_one_segment(value: str) -> None:
    """An id escaped into one path segment (as the client escapes ids) reaches the upstream
    as that one segment, which decodes back to the id: never another route."""
    recorder = Recorder()
    async with through(answering(recorder, OK)) as gateway:
        await gateway.send(path=f"/v1/batch/{quote(value, safe='')}/status")
    target = recorder.heads[0].split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii")
    prefix, segment, suffix = target.split("/")[1:3], target.split("/")[3], target.split("/")[4:]
    assert (prefix, suffix) == (["v1", "batch"], ["status"])
    assert unquote(segment) == value


async def test_cookies_are_not_kept_between_requests() -> None:
    """A Set-Cookie from one answer is never sent back (requests of different tenants share
    the client), by httpx's jar nor by aiohttp's."""
    recorder = Recorder()
    cookie = b"HTTP/1.1 200 OK\r\nSet-Cookie: tenant=a\r\nContent-Length: 2\r\n\r\n{}"
    async with await serve(answering(recorder, cookie)) as server:
        # localhost, not 127.0.0.1: cookie jars ignore cookies of IP addresses
        gateway = Gateway(url_of(server, host="localhost"))
        async with gateway.http:
            for token in ("tenant-a", "tenant-b"):
                await gateway.send(token=token)
    assert len(recorder.heads) == 2
    assert all(b"cookie" not in head.lower() for head in recorder.heads)


async def test_a_header_that_could_split_the_request_is_never_sent() -> None:
    """A credential holding CR/LF is refused before anything is written: Unavailable, not sent,
    and the upstream sees no request."""
    recorder = Recorder()
    async with through(answering(recorder, OK)) as gateway:
        with pytest.raises(Unavailable) as info:
            await gateway.send(token="a\r\nX-Evil: 1")
        assert not info.value.request_sent
        assert (await gateway.send()).content == b"{}"
    assert len(recorder.heads) == 1
    assert b"evil" not in recorder.heads[0].lower()


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
    trusted the attempt fails Unavailable, not sent, never unverified."""
    async with await serve(answer_ok, tls) as server:
        gateway = Gateway(url_of(server, "https"))
        async with gateway.http:
            assert (await gateway.send()).content == b"{}"
        monkeypatch.delenv("SSL_CERT_FILE")
        gateway = Gateway(url_of(server, "https"))
        async with gateway.http:
            with pytest.raises(Unavailable) as info:
                await gateway.send()
        assert not info.value.request_sent


# -- HTTP/1.1 as upstreams speak it -----------------------------------------------------------


async def test_one_connection_serves_request_after_request() -> None:
    """Keep-alive: sequential requests to one upstream reuse one connection."""
    recorder = Recorder()
    async with through(answering(recorder, OK), max_connections=4) as gateway:
        for _ in range(5):
            assert (await gateway.send()).content == b"{}"
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
    ):
        chunks, whole = Gateway(url_of(first)), Gateway(url_of(second))
        async with chunks.http, whole.http:
            assert (await chunks.send()).content == b'{"a":[1]}'
            for _ in range(2):
                assert (await whole.send()).content == b"[" + b"7," * 50_000 + b"7]"
    assert recorder.connections == 3  # one for the chunked, one per "Connection: close" answer


async def test_a_large_request_body_and_answer_cross_intact() -> None:
    """A 1 MB JSON body arrives byte for byte, and a 2 MB answer is read whole."""
    recorder = Recorder()
    big = b"x" * 2_000_000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big) + 2, b'"' + big + b'"')
    payload = {"urls": ["https://audio.test/" + "a" * 1_000_000]}
    async with through(answering(recorder, answer)) as gateway:
        reply = await gateway.send(POST, json=payload)
    assert reply.content == b'"' + big + b'"'
    assert recorder.bodies == [gateway.http.build_request("POST", "/", json=payload).read()]


def _deflated(body: bytes, *, raw: bool) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


@pytest.mark.parametrize("encoding", ["", "identity", "gzip", "deflate", "raw deflate"])
async def test_an_answer_comes_back_whole_and_decoded(encoding: str) -> None:
    """gzip and deflate answers (the zlib form, and the raw form some servers send) are
    decoded; an unencoded or identity one is the body as it came. The gateway asks for exactly
    these: `Accept-Encoding: gzip, deflate`."""
    text = '{"status": "שלום"}'.encode()
    body = {
        "gzip": gzip.compress(text),
        "deflate": _deflated(text, raw=False),
        "raw deflate": _deflated(text, raw=True),
    }.get(encoding, text)
    name = encoding.replace("raw ", "").encode()
    header = b"Content-Encoding: " + name + b"\r\n" if encoding else b""
    answer = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (header, len(body))
    recorder = Recorder()
    async with through(answering(recorder, answer + body)) as gateway:
        assert (await gateway.send()).content == text
    assert b"accept-encoding: gzip, deflate\r\n" in recorder.heads[0].lower()


@pytest.mark.parametrize("encoding", [b"br", b"zstd", b"gzip, gzip", b"compress"])
async def test_an_encoding_the_gateway_did_not_ask_for_is_a_bad_answer(encoding: bytes) -> None:
    """An answer in a Content-Encoding the gateway did not ask for is ProtocolError (a bad
    answer), never passed on undecoded."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: 2\r\n\r\n{}" % encoding
    async with through(answering(Recorder(), answer)) as gateway:
        with pytest.raises(ProtocolError, match="Content-Encoding"):
            await gateway.send()


async def test_an_interim_100_continue_is_skipped() -> None:
    """A `100 Continue` before the answer is not the answer."""
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    async with through(answering(Recorder(), answer)) as gateway:
        reply = await gateway.send()
    assert (reply.status_code, reply.content) == (200, b"{}")


async def test_a_connection_the_upstream_closed_while_idle_is_not_used() -> None:
    """An upstream that closes its idle keep-alive connections (its own idle timeout): the next
    request opens a new connection and succeeds, instead of failing on the dead one."""
    recorder = Recorder()
    closed = asyncio.Event()
    handler = answering(recorder, OK, close=True)  # closes after each answer

    async def then_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handler(reader, writer)
        writer.close()
        await writer.wait_closed()
        closed.set()

    async with through(then_closed) as gateway:
        for _ in range(3):
            closed.clear()
            assert (await gateway.send()).content == b"{}"
            async with asyncio.timeout(5):
                await closed.wait()  # the close happens while the connection idles
    assert recorder.connections == 3


async def test_an_idle_connection_is_let_go_after_the_keepalive_expiry() -> None:
    """A pooled connection idle longer than the keep-alive expiry is closed by the client, and
    the next request opens a new one."""
    recorder = Recorder()
    let_go = asyncio.Event()
    handler = answering(recorder, OK)

    async def until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handler(reader, writer)
        let_go.set()  # the client closed its side

    async with through(until_closed, keepalive_expiry=0.2) as gateway:
        await gateway.send()
        await gateway.send()
        async with asyncio.timeout(5):
            await let_go.wait()
        await gateway.send()
    assert recorder.connections == 2


async def test_bytes_that_keep_coming_within_the_deadline_are_read_whole() -> None:
    """The read timeout bounds each wait for a byte, not the answer: an answer that trickles
    in over longer than a read's pause, within the attempt's time, is read whole."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        for _ in range(10):
            await asyncio.sleep(0.02)
            writer.write(b"7")
            await writer.drain()

    async with through(trickle) as gateway:
        assert (await gateway.send(seconds=5.0)).content == b"7" * 10


async def test_a_request_cut_short_never_leaves_its_connection_for_the_next() -> None:
    """An attempt abandoned mid-answer (its deadline) closes its connection: the next request
    gets a fresh one and its own answer, never the rest of the first."""
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

    async with through(half_then_whole) as gateway:
        with pytest.raises(DeadlineExceeded):
            await gateway.send(seconds=0.3)
        release.set()
        assert (await gateway.send()).content == b"[9]"
    assert recorder.connections == 2


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
async def test_an_answer_past_the_limit_closes_its_connection(declared: bool) -> None:
    """An answer larger than the bound ends the attempt ProtocolError, and its connection is
    closed, not reused with the rest of that answer on it: the upstream sees the close, and the
    next request gets a connection of its own and its own answer."""
    recorder = Recorder()
    let_go = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        await recorder.read(reader)
        if recorder.connections > 1:
            writer.write(OK)
            await writer.drain()
            return
        length = b"Content-Length: 10000000\r\n" if declared else b"Connection: close\r\n"
        writer.write(b"HTTP/1.1 200 OK\r\n" + length + b"\r\n")
        try:
            for _ in range(100):
                writer.write(b"x" * 100_000)
                await writer.drain()
        except ConnectionError:
            let_go.set()

    async with through(endless, max_connections=2) as gateway:
        with pytest.raises(ProtocolError, match="--upstream-max-response-bytes"):
            await gateway.send(max_bytes=1_000_000)
        async with asyncio.timeout(5):
            await let_go.wait()
        assert (await gateway.send()).content == b"{}"
    assert recorder.connections == 2


async def test_bytes_past_the_answer_are_never_read_as_the_next_one() -> None:
    """An upstream that sends more than its answer (a second response nobody asked for, in the
    same write): the caller gets the first answer as it was, and the extra bytes never become
    the answer to the next request."""
    recorder = Recorder()
    stray = b'HTTP/1.1 200 OK\r\nX-Stray: 1\r\nContent-Length: 7\r\n\r\n["bad"]'
    async with through(answering(recorder, OK + stray)) as gateway:
        for _ in range(2):
            try:
                reply = await gateway.send()
            except UpstreamError:
                continue  # refused outright is as good: never the stray answer
            assert (reply.content, "x-stray" in reply.headers) == (b"{}", False)


async def test_a_dropped_read_is_sent_again_by_the_policy_and_counted() -> None:
    """A GET whose connections keep dropping before any answer: the transport sends it again
    once at once (RFC 9112's retry of an idempotent request), the policy's attempts on top, and
    the call ends Unavailable after max_attempts, never a POST sent twice."""
    recorder = Recorder()

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recorder.connections += 1
        await recorder.read(reader)

    async def no_sleep(_seconds: float) -> None:
        return None

    async with await serve(drop) as server:
        config = UpstreamConfig(base_url=url_of(server), max_attempts=2)
        async with UpstreamClient(config, sleep=no_sleep) as client:
            call = CallOptions("t")
            with pytest.raises(Unavailable):
                await client.get_batch_status("b", opts=call)
            assert (call.attempts, len(recorder.heads)) == (2, 4)
            with pytest.raises(Unavailable) as info:
                await client.create_batch_file_from_rss(
                    BatchFileCreateFromRssRequest(rss_url="https://feed.test/rss"),
                    opts=CallOptions("t"),
                )
            assert info.value.outcome_unknown
    assert len(recorder.heads) == 5


def test_the_client_runs_under_uvloop() -> None:
    """Under uvloop a request is answered like under asyncio's own loop."""
    import uvloop

    async def main() -> bytes:
        async with through(answering(Recorder(), OK)) as gateway:
            return (await gateway.send()).content

    assert uvloop.run(main()) == b"{}"
