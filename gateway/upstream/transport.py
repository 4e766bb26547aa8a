"""The upstream transport: httpx's API over aiohttp's HTTP/1.1 client (httpx-aiohttp).

`httpx.AsyncClient` keeps the policy (URLs, headers, timeouts per request, redirects off) and
this transport does the I/O: a third less gateway CPU per call than httpcore's transport
(docs/benchmarks.md). It is httpx-aiohttp's `AiohttpTransport` (its TLS context from httpx's
own `verify`/`cert`/`trust_env` rules) with the request path owned here, because the
library's does not keep what the retry table needs (see `_TRANSLATED`, `handle_async_request`):

- every `aiohttp.ClientConnectionError` becomes `httpx.ConnectTimeout` there, a connection the
  upstream dropped after reading the request included: "not sent", so a create would be sent
  again. Here the failures before sending are the only "not sent" ones, as with httpcore;
- aiohttp has no pool timeout of its own (its `connect` timeout covers the wait for a pooled
  connection and the connect together): here a semaphore of `max_connections` is the pool
  bound, and a wait past the request's `pool` timeout raises `httpx.PoolTimeout`;
- aiohttp retries an idempotent request once by itself when its connection drops, unseen by
  the retry policy and its budget; rounds timeouts of 5 s and more up to a whole second; and
  keeps a cookie jar. All three are off here.
"""

from __future__ import annotations

import asyncio
import math
from typing import Final, NoReturn

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from yarl import URL

KEEPALIVE_EXPIRY: Final = 5.0
"""Seconds an idle pooled connection is kept (httpx's own default)."""

# aiohttp's failures, most specific first, as the httpx exceptions the retry table knows
# (gateway.upstream.errors: ConnectError, ConnectTimeout and PoolTimeout mean "not sent").
_TRANSLATED: Final[tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # connect (and TLS) too slow
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),  # sent: no answer in time
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS: nothing sent
    (aiohttp.ServerFingerprintMismatch, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # sent, then dropped
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # the body ended short
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # not a valid HTTP answer
    (aiohttp.ClientConnectionError, httpx.ReadError),  # reset or closed once connected
    (aiohttp.ClientError, httpx.TransportError),
)


def translated_error(exc: BaseException) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp failure (None for anything else)."""
    for source, target in _TRANSLATED:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__)
    return None


def _raise_translated(exc: aiohttp.ClientError) -> NoReturn:
    error = translated_error(exc)
    assert error is not None  # the table ends with ClientError
    raise error from exc


class UpstreamTransport(AiohttpTransport):
    """An `httpx.AsyncBaseTransport` over one aiohttp session of at most `max_connections`
    connections; created in the running loop, closed by the `httpx.AsyncClient` over it."""

    def __init__(self, *, max_connections: int) -> None:
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY,
        )
        super().__init__(limits=limits, client=self._session)
        self._slots = asyncio.Semaphore(max_connections)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=0,  # the semaphore is the bound: aiohttp's own wait would have no PoolTimeout
            keepalive_timeout=KEEPALIVE_EXPIRY,
            ssl=self.ssl_context,
        )
        session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
        )
        # aiohttp would send an idempotent request again when its connection drops; retries
        # are the retry policy's alone (budget, backoff, attempts counted). No public switch.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on a pooled connection and read the whole response.

        Read here, not streamed through httpx: the upstream client reads every body whole
        anyway (`send` without `stream`), and one `read()` frees the connection and its slot at
        once, without the chunk iterator and close handshake a stream costs on every call."""
        timeout = request.extensions.get("timeout", {})
        await self._acquire(timeout.get("pool"))
        try:
            response = await self._send(request, phases=timeout)
            body = await response.read()  # the connection goes back to aiohttp's pool
        except aiohttp.ClientError as exc:
            _raise_translated(exc)
        finally:
            self._slots.release()
        version = response.version
        extensions: dict[str, object] = {
            "http_version": f"HTTP/{version.major}.{version.minor}".encode()
            if version
            else b"HTTP/1.1"
        }
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=httpx.ByteStream(body),  # as received: httpx decodes any Content-Encoding
            request=request,
            extensions=extensions,
        )

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

    async def _send(
        self, request: httpx.Request, *, phases: dict[str, float | None]
    ) -> aiohttp.ClientResponse:
        """One aiohttp request; `phases` are httpx's per-phase timeouts (connect, read)."""
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        try:
            body: bytes | httpx.AsyncByteStream | None = request.content or None
        except httpx.RequestNotRead:
            body = request.stream  # type: ignore[assignment]  # aiohttp reads async iterables
        connect = phases.get("connect")
        try:
            return await self.client.request(
                request.method,
                URL(str(request.url), encoded=True),  # as httpx encoded it, byte for byte
                headers=request.headers.multi_items(),
                data=body,
                allow_redirects=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,  # the attempt's own bound is the caller's (asyncio.timeout)
                    connect=connect,  # connect and TLS; the pool wait is the semaphore's
                    sock_connect=connect,
                    sock_read=phases.get("read"),
                    ceil_threshold=math.inf,  # never rounded up: the deadline is exact
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except aiohttp.ClientError as exc:
            _raise_translated(exc)
