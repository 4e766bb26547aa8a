"""The upstream transport: HTTP/1.1 keep-alive over asyncio, parsed by llhttp, under httpx's API.

`httpx.AsyncClient` keeps the policy (base URL, default headers, timeouts per request, no
redirects, no cookies) and the request and response objects that tracing and the tests see;
this `httpx.AsyncBaseTransport` does the I/O. It replaced httpcore's transport and then
httpx-aiohttp's because the gateway's cost per call was mostly theirs: each upstream GET cost
about 190 us of CPU through aiohttp and more through httpcore, against about 30 us for the
same request and response over an `asyncio.Protocol` (docs/benchmarks.md, "Unary CPU levers").
What is left to write here is small, because the gateway asks little of HTTP: one origin,
HTTP/1.1, bodies read whole, no proxies, no redirects, no HEAD, no upgrades. The parsing
itself is llhttp's (the `httptools` binding, as uvicorn uses it), never hand-written.

What the retry table relies on (gateway.upstream.errors), as httpcore does it:
- nothing was sent: `ConnectError` (refused, DNS, TLS), `ConnectTimeout`, `PoolTimeout`, and
  `LocalProtocolError` for a header that cannot be sent (a CR, LF or NUL in it);
- sent, outcome unknown: `RemoteProtocolError` (dropped before the answer ended, or not HTTP),
  `ReadError` (reset), `ReadTimeout` (no byte for `read` seconds), `WriteTimeout`.
The transport never sends a request twice by itself: retries are the policy's alone.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Final, cast

import httptools
import httpx

KEEPALIVE_EXPIRY: Final = 5.0
"""Seconds an idle pooled connection is kept (httpx's own default)."""

_DEFAULT_PORTS: Final = {b"http": 80, b"https": 443}
_FORBIDDEN: Final = (b"\r", b"\n", b"\0")

Origin = tuple[bytes, str, int]
Answer = tuple[int, bytes, list[tuple[bytes, bytes]], bytes]


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, its answer read whole."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reason: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._last_read = 0.0
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self.lost: asyncio.Future[None] = loop.create_future()
        """Done once the socket is closed (`aclose` waits for it)."""

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's does not subclass asyncio.Transport)
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._last_read = self._loop.time()
        if self._waiter is None or self._waiter.done():  # bytes nobody asked for
            self._fail(httpx.RemoteProtocolError("the upstream sent data without a request"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"the upstream's answer is not HTTP/1.1: {exc}"))

    def eof_received(self) -> bool:
        return False  # the transport closes itself: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(None)
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None and self._headers_done and not _delimited(self._headers):
            self.reusable = False  # a body that ends with the connection: a clean close ends it
            waiter.set_result(self._answer())
        elif exc is None:
            self._settle(httpx.RemoteProtocolError("the upstream closed the connection mid-answer"))
        else:
            self._settle(httpx.ReadError(f"the connection to the upstream broke: {exc}"))

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # httptools callbacks

    def on_message_begin(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():  # bytes past the answer: never read as the next
            raise httpx.RemoteProtocolError("the upstream sent more than its answer")

    def on_status(self, status: bytes) -> None:
        self._reason.append(status)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self._reason.clear()
            self._headers.clear()
            self._body.clear()
            self._headers_done = False
            return
        self.reusable = self._parser.should_keep_alive()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(self._answer())  # taken now: nothing parsed later can change it

    def _answer(self) -> Answer:
        return (
            self._parser.get_status_code(),
            b"".join(self._reason),
            self._headers,
            b"".join(self._body),
        )

    # the transport's side

    @property
    def usable(self) -> bool:
        """Open, and not told by the upstream to close."""
        transport = self._transport
        return not self.closed and transport is not None and not transport.is_closing()

    async def exchange(
        self, head: bytes, body: bytes, *, read: float | None, write: float | None
    ) -> Answer:
        """Send one request and return its answer: status, reason, headers, body."""
        transport = self._transport
        assert transport is not None
        self._reason, self._headers, self._body = [], [], []
        self._headers_done = self.reusable = False
        waiter = self._waiter = self._loop.create_future()
        finished = False
        answer: Answer
        try:
            if len(body) < 65536:
                transport.write(head + body)  # one copy is cheaper than two writes
            else:
                transport.writelines((head, body))
            writable = self._writable
            if writable is not None:  # the socket is full: wait until it drains
                await self._drain(writable, write)
            self._last_read = self._loop.time()
            if read is None:
                answer = await waiter
            else:
                timer = self._loop.call_later(read, self._check_read, read)
                try:
                    answer = await waiter
                finally:
                    timer.cancel()
            finished = True
        finally:
            self._waiter = None
            if not finished or not self.reusable:
                self.close()  # cut short, failed or told to: never reused half-read
        return answer

    async def _drain(self, writable: asyncio.Future[None], seconds: float | None) -> None:
        try:
            async with asyncio.timeout(seconds):
                await asyncio.shield(writable)
        except TimeoutError as exc:
            raise httpx.WriteTimeout("the upstream did not take the request in time") from exc

    def _check_read(self, seconds: float) -> None:
        """The read timeout's timer: fires once; re-armed while bytes keep coming."""
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        quiet = self._loop.time() - self._last_read
        if quiet >= seconds:
            self._settle(httpx.ReadTimeout(f"no byte from the upstream in {seconds:g} s"))
        else:
            self._loop.call_later(seconds - quiet, self._check_read, seconds)

    def _fail(self, error: httpx.TransportError) -> None:
        self._settle(error)
        self.close()

    def _settle(self, error: httpx.TransportError) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        """Close the connection (it is never used again)."""
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()


class Http1Transport(httpx.AsyncBaseTransport):
    """At most `max_connections` pooled HTTP/1.1 connections; created in the running loop,
    closed by the `httpx.AsyncClient` over it."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float = KEEPALIVE_EXPIRY) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._expiry = keepalive_expiry
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on a pooled connection and read the whole answer."""
        url = request.url
        scheme = url.raw_scheme
        port = url.port or _DEFAULT_PORTS.get(scheme)
        if port is None:
            raise httpx.UnsupportedProtocol(f"the upstream URL must be http or https: {url}")
        if request.method == "HEAD":  # its answer's length would mislead the parser
            raise httpx.LocalProtocolError("HEAD is not supported by the upstream transport")
        head = _head(request)
        try:
            body = request.content
        except httpx.RequestNotRead:  # a streamed body: read whole, then framed as httpx said
            body = await request.aread()
            if "content-length" not in request.headers:  # httpx announced it chunked
                body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        timeout = request.extensions.get("timeout", {})
        origin = (scheme, url.raw_host.decode("ascii"), port)
        await self._acquire(timeout.get("pool"))
        try:
            connection = self._pooled(origin) or await self._connect(
                origin, timeout.get("connect"), request.extensions.get("sni_hostname")
            )
            status, reason, headers, content = await connection.exchange(
                head, body, read=timeout.get("read"), write=timeout.get("write")
            )
            if connection.reusable and connection.usable and not self._closed:
                connection.idle_since = asyncio.get_running_loop().time()
                self._idle.setdefault(origin, deque()).append(connection)
        finally:
            self._slots.release()
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason
        response = httpx.Response(
            status_code=status,
            headers=headers,
            stream=httpx.ByteStream(content),  # as received: httpx decodes any Content-Encoding
            request=request,
            extensions=extensions,
        )
        if not _encoded(headers):
            # Already whole and not encoded: the body is what `read()` would make of it through
            # httpx's decoder and chunker generators (a fifth of the cost, per answer).
            response._content = content
            response.is_stream_consumed = response.is_closed = True
        return response

    async def aclose(self) -> None:
        """Close every pooled connection; the transport sends nothing more."""
        self._closed = True
        closing = [connection for connections in self._idle.values() for connection in connections]
        self._idle.clear()
        for connection in closing:
            connection.close()
        if closing:  # as httpcore does: the sockets are closed when aclose returns
            await asyncio.wait([connection.lost for connection in closing], timeout=1.0)

    def _pooled(self, origin: Origin) -> _Connection | None:
        """The most recently used open idle connection to `origin`; stale ones are closed."""
        connections = self._idle.get(origin)
        if not connections:
            return None
        now = asyncio.get_running_loop().time()
        while connections:
            connection = connections.pop()
            if connection.usable and now - connection.idle_since < self._expiry:
                while connections and now - connections[0].idle_since >= self._expiry:
                    connections.popleft().close()  # the oldest ones expired: let go
                return connection
            connection.close()
        return None

    async def _acquire(self, pool_timeout: float | None) -> None:
        """Wait for a connection slot, at most `pool_timeout` seconds (None: no bound)."""
        if not self._slots.locked():  # one free: taken at once, no timer to arm and cancel
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(pool_timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no pooled connection came free in time") from exc

    async def _connect(self, origin: Origin, seconds: float | None, sni: object) -> _Connection:
        """A new connection to `origin` (TLS for https, verified as httpx verifies)."""
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if scheme == b"https" else None
        server_hostname = (sni if isinstance(sni, str) else host) if tls is not None else None
        try:
            async with asyncio.timeout(seconds):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), host, port, ssl=tls, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connecting to the upstream took over {seconds:g} s"
            ) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError)
            raise httpx.ConnectError(f"could not connect to the upstream: {exc}") from exc
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        """httpx's own context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), made once."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls


def _encoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer's body has a Content-Encoding for httpx to decode (gzip, ...)."""
    return any(
        name.lower() == b"content-encoding" and value.strip().lower() not in (b"", b"identity")
        for name, value in headers
    )


def _delimited(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer says where its body ends (Content-Length or chunked), rather than
    ending it with the connection."""
    return any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers)


def _head(request: httpx.Request) -> bytes:
    """The request line and headers; refused (not sent) when a header could split the head."""
    raw = request.headers.raw
    lines = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in raw:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    head = b"".join(lines)
    # Exactly one CR and one LF per line, and no NUL: checked on the whole head at once (the
    # request line cannot hold either: httpx percent-encodes the URL).
    breaks = len(raw) + 2
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks or b"\0" in head:
        for name, value in raw:
            if any(bad in name or bad in value for bad in _FORBIDDEN):
                raise httpx.LocalProtocolError(
                    f"the header {name.decode('ascii', 'replace')} holds a line break or NUL"
                )
        raise httpx.LocalProtocolError("the request line holds a line break or NUL")
    return head
