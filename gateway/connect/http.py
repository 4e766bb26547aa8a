"""What the HTTP port does before and around connectrpc: bounds on the request body, CORS, and
the call's codec for its CallContext.

`Guard` is an ASGI middleware in front of connectrpc's `ConnectASGIApplication`:

- a request body is bounded in size and in time. One that announces more than its limit
  (`content-length`) is refused at once, unread; one that sends more without announcing it is
  refused at the first byte past the limit. The limit is --max-receive-message-bytes for a
  call that takes one message (plus its envelope); for UploadTranscription, whose messages
  together carry a file, --max-upload-bytes more. The body of a one-message call must be in
  within --request-message-timeout of its headers; each of an upload's messages within that of
  the previous one. Both refusals are Connect errors with ErrorInfo (REQUEST_TOO_LARGE,
  REQUEST_MESSAGE_TIMEOUT), raised inside connectrpc's read of the body, so they go out in the
  call's protocol; each body is read by its own request's task, so a slow one holds nobody else.
- CORS: a preflight (OPTIONS with Origin and Access-Control-Request-Method) from an origin of
  --http-cors-origin is answered 204 with the methods, headers and max age Connect and gRPC-Web
  need; from any other origin 403, with no CORS header. Answers to allowed origins expose the
  headers Connect, gRPC-Web and the gateway send (`grpc-status`, `x-request-id`, ...).
- the call's scope is kept in a context variable for `call_context` (the codec a GET names in its
  query string is not in connectrpc's RequestContext).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import grpc
from connectrpc.request import RequestContext

from gateway.connect.adapter import (
    ConnectCallContext,
    codec_of,
    protocol_of,
    to_connect_error,
)
from gateway.contract.errors import GatewayError, Reason
from gateway.server.call_context import CallContext

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

ENVELOPE_ALLOWANCE = 64
"""Bytes beside a message a body may carry: Connect's and gRPC's 5-byte envelope, and a
Connect stream's end message."""
ALLOWED_HEADERS = (
    "authorization, content-type, connect-protocol-version, connect-timeout-ms, "
    "connect-accept-encoding, connect-content-encoding, content-encoding, accept-encoding, "
    "grpc-timeout, x-grpc-web, x-user-agent, x-request-id"
)
EXPOSED_HEADERS = (
    "x-request-id, grpc-status, grpc-message, grpc-status-details-bin, "
    "connect-content-encoding, connect-accept-encoding, content-encoding, trailer-x-request-id"
)
PREFLIGHT_MAX_AGE = "7200"

_scope: contextvars.ContextVar[Scope] = contextvars.ContextVar("connect_scope")


def call_context(ctx: RequestContext[Any, Any]) -> CallContext:
    """The CallContext of the call whose request `ctx` is (run inside `Guard`)."""
    scope = _scope.get()
    content_type = ctx.request_headers.get("content-type", "") or ""
    encoding = ""
    if ctx.http_method == "GET":
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        encoding = query.get("encoding", [""])[0]
    return ConnectCallContext(
        ctx, codec_of(content_type, encoding), protocol_of(content_type), subject=None
    )


@dataclass(frozen=True)
class Limits:
    """The bounds of the HTTP port (the gRPC port's flags)."""

    max_message_bytes: int
    """--max-receive-message-bytes."""
    max_upload_bytes: int
    """--max-upload-bytes: what an upload's messages carry together."""
    body_timeout: float
    """--request-message-timeout."""


class Guard:
    """The ASGI middleware of the HTTP port (the module's docstring)."""

    def __init__(
        self,
        app: App,
        limits: Limits,
        *,
        streaming_uploads: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._limits = limits
        self._uploads = frozenset(streaming_uploads)
        self._origins = frozenset(cors_origins)
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = _headers(scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in self._origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(send, origin if allowed else None)
            return
        if allowed:
            assert origin is not None
            send = _exposing(send, origin)
        body = _Body(receive, self._limits, self._clock, upload=scope["path"] in self._uploads)
        announced = headers.get("content-length", "")
        if announced.isdigit() and int(announced) > body.limit:
            body.refuse_now(int(announced))
        token = _scope.set(scope)
        try:
            await self._app(scope, body.receive, send)
        finally:
            _scope.reset(token)


class _Body:
    """A request's receive(), bounded in size and time while the body comes in."""

    def __init__(
        self, receive: Receive, limits: Limits, clock: Callable[[], float], *, upload: bool
    ) -> None:
        self._receive = receive
        self._limits = limits
        self._clock = clock
        self._upload = upload
        self.limit = limits.max_message_bytes + ENVELOPE_ALLOWANCE
        if upload:
            self.limit += limits.max_upload_bytes
        self._started = clock()
        self._read = 0
        self._done = False
        self._refusal: GatewayError | None = None

    def refuse_now(self, announced: int) -> None:
        """Refuse the body its content-length announces, at the first read, unread."""
        self._refusal = self._too_large(announced)

    async def receive(self) -> Message:
        if self._refusal is not None:
            raise to_connect_error(self._refusal)
        if self._done:  # the body is in: what follows is a disconnect, which may take long
            return await self._receive()
        timeout = self._limits.body_timeout
        if not self._upload:  # one message: the whole body within the timeout
            timeout -= self._clock() - self._started
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                message = await self._receive()
        except TimeoutError:
            raise to_connect_error(self._late()) from None
        if message["type"] == "http.request":
            self._read += len(message.get("body", b""))
            if self._read > self.limit:
                raise to_connect_error(self._too_large(self._read))
            self._done = not message.get("more_body", False)
        return message

    def _too_large(self, size: int) -> GatewayError:
        what = "--max-upload-bytes plus " if self._upload else ""
        return GatewayError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            Reason.REQUEST_TOO_LARGE,
            f"the request body is more than {self.limit} bytes ({size} bytes sent or announced): "
            f"the gateway takes at most {what}--max-receive-message-bytes "
            f"({self._limits.max_message_bytes} bytes) per message",
            quota_subject="request size",
            quota_description=f"--max-receive-message-bytes {self._limits.max_message_bytes}",
        )

    def _late(self) -> GatewayError:
        what = "the next part of the request body" if self._upload else "the request body"
        since = "of the previous part" if self._upload else "of the request's headers"
        return GatewayError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            Reason.REQUEST_MESSAGE_TIMEOUT,
            f"{what} did not come within {self._limits.body_timeout:g} s {since} "
            "(the gateway's --request-message-timeout)",
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {
        bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
        for k, v in scope.get("headers", ())
    }


async def _preflight(send: Send, origin: str | None) -> None:
    """204 with the CORS headers for an allowed origin; 403 without any for the others."""
    if origin is None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"vary", b"Origin")]
        body = b"CORS: this origin is not allowed (the gateway's --http-cors-origin)\n"
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    headers = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-methods", b"POST, GET"),
        (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
        (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        (b"vary", b"Origin"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _exposing(send: Send, origin: str) -> Send:
    """`send` that adds the CORS headers of an allowed origin to the response's start."""

    async def exposed(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [
                *message.get("headers", ()),
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                (b"vary", b"Origin"),
            ]
        await send(message)

    return exposed
