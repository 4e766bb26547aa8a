"""The frame of every RPC: request id, credential, validation, deadline, errors, one log line.

Servicer methods are written as `async def Method(self, request, call: Call) -> Response` and
wrapped by `unary_rpc` (streaming ones, async generators, by `stream_rpc`), which own everything
that is the same for every RPC, in this order:

1. `x-request-id` metadata is taken from the caller (or made up), sent back as initial and
   trailing metadata, sent upstream, and bound into every log line of the call;
2. the credential is resolved (caller's bearer token, else the configured key, for callers
   the servicer's `caller_auth` authenticated: gateway.credentials), so a call without one
   never reaches the upstream;
3. the request is validated (gateway.validation: every violation at once, INVALID_ARGUMENT),
   before any upstream call or concurrency slot;
4. the caller's deadline (capped by the configured default) becomes the upstream deadline;
   a unary call then holds a slot of the servicer's `limiter` (gateway.limiter) while its
   handler runs, or is shed RESOURCE_EXHAUSTED when none comes free in time (streams don't);
5. errors are translated once: GatewayError and upstream errors to their gRPC status with
   details (gateway.rpc_errors), anything unexpected to INTERNAL with a logged traceback;
6. one summary line per RPC: method, code, duration, request id, batch id, upstream attempts.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol, TypeVar

import grpc
import structlog
from google.protobuf.message import Message

from gateway import validation
from gateway.credentials import CallerAuth, Credential, resolve_credential
from gateway.decoding import UndecodableRequest
from gateway.limiter import ConcurrencyLimiter
from gateway.rpc_errors import GatewayError, Reason, from_upstream, invalid_argument
from gateway.upstream import CallOptions, UpstreamError

REQUEST_ID_KEY = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

log = structlog.get_logger("gateway.rpc")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class Settings(Protocol):
    """What the frame needs from the servicer that owns it."""

    @property
    def api_key(self) -> str | None: ...

    @property
    def caller_auth(self) -> CallerAuth | None: ...

    @property
    def default_timeout(self) -> float: ...

    @property
    def limiter(self) -> ConcurrencyLimiter | None: ...


@dataclass
class Call:
    """One RPC in flight, as the handler sees it."""

    credential: Credential
    options: CallOptions
    context: grpc.aio.ServicerContext[Any, Any]
    request_id: str
    log_fields: dict[str, str] = field(default_factory=dict)
    not_found: Reason = Reason.NOT_FOUND
    """The ErrorInfo reason for an upstream 404: names what the call looked up."""

    def note(self, **fields: str) -> None:
        """Add fields (batch id, ...) to the call's summary line and error metadata."""
        given = {k: v for k, v in fields.items() if v}
        self.log_fields.update(given)
        structlog.contextvars.bind_contextvars(**given)


def request_id_of(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's `x-request-id` when it is a sane token, else a new UUID."""
    for key, value in context.invocation_metadata() or ():
        if key.lower() == REQUEST_ID_KEY:
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            if _REQUEST_ID.match(text):
                return text
            break
    return str(uuid.uuid4())


def upstream_deadline(context: grpc.aio.ServicerContext[Any, Any], default_timeout: float) -> float:
    """The absolute monotonic time by which upstream work must end: the caller's deadline,
    capped by the configured default."""
    remaining = context.time_remaining()
    budget = default_timeout if remaining is None else min(remaining, default_timeout)
    return time.monotonic() + max(budget, 0.0)


class _Frame:
    """What is the same for every RPC, unary or streaming: one instance per call."""

    def __init__(self, owner: Settings, name: str, context: grpc.aio.ServicerContext[Any, Any]):
        self.owner = owner
        self.context = context
        self.started = time.perf_counter()
        self.request_id = request_id_of(context)
        self.call: Call | None = None
        self.error: GatewayError | None = None
        self.cancelled = False
        self.messages: int | None = None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(rpc=name, request_id=self.request_id)

    async def __aenter__(self) -> _Frame:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: object,
    ) -> bool:
        """Translate an error once and log the call's line; a cancellation propagates."""
        if isinstance(exc, asyncio.CancelledError):
            self.cancelled = True
        elif isinstance(exc, Exception):
            self.fail(exc)
        self.summary()
        return isinstance(exc, Exception)  # swallowed: the wrapper aborts with self.error

    async def open(self, request: object, *, bounded: bool) -> Call:
        """Send the request id back, resolve the credential, and set the upstream deadline:
        the caller's deadline, capped by the default timeout when `bounded` (unary calls)."""
        context = self.context
        await context.send_initial_metadata(((REQUEST_ID_KEY, self.request_id),))
        credential = resolve_credential(
            context.invocation_metadata(),
            self.owner.api_key,
            self.owner.caller_auth,
            context.auth_context(),
        )
        if bounded:
            deadline: float | None = upstream_deadline(context, self.owner.default_timeout)
        else:
            remaining = context.time_remaining()
            deadline = None if remaining is None else time.monotonic() + max(remaining, 0.0)
        options = CallOptions(token=credential.token, deadline=deadline, request_id=self.request_id)
        self.call = Call(credential, options, context, self.request_id)
        self.call.note(caller=credential.caller)  # who spends the configured key, if anyone
        _decoded(request)
        assert isinstance(request, Message)  # what the service's deserializers produce
        violations = validation.validate(request)
        if violations:  # all at once, before any upstream call or concurrency slot
            raise invalid_argument(violations)
        return self.call

    def fail(self, exc: Exception) -> None:
        """Translate `exc` once, into the status the call will end with."""
        call = self.call
        if isinstance(exc, GatewayError):
            self.error = exc
        elif isinstance(exc, UpstreamError):
            self.error = from_upstream(
                exc,
                token=call.credential.token if call else "",
                metadata=call.log_fields if call else {},
                not_found=call.not_found if call else Reason.NOT_FOUND,
            )
        else:
            log.exception("unexpected error")
            self.error = GatewayError(
                grpc.StatusCode.INTERNAL,
                Reason.INTERNAL_ERROR,
                f"internal error (request id {self.request_id})",
            )

    def summary(self) -> None:
        """The one log line of the call."""
        call, error = self.call, self.error
        fields: dict[str, object] = dict(call.log_fields) if call else {}
        code = "CANCELLED" if self.cancelled else (error.code.name if error else "OK")
        if error is not None:
            fields["reason"] = error.reason.value
        if self.messages is not None:
            fields["messages"] = self.messages
        log.info(
            "rpc",
            code=code,
            duration_ms=round((time.perf_counter() - self.started) * 1000, 2),
            upstream_attempts=call.options.attempts if call else 0,
            **fields,
        )

    async def abort(self) -> NoReturn:
        """End the call with the translated error (context.abort raises)."""
        error = self.error
        assert error is not None
        error.metadata.setdefault("request_id", self.request_id)
        await self.context.abort(
            error.code,
            error.message,
            trailing_metadata=(*error.trailing_metadata(), (REQUEST_ID_KEY, self.request_id)),
        )
        raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def _decoded(request: object) -> None:
    """Refuse a request the tolerant deserializer could not parse."""
    if isinstance(request, UndecodableRequest):
        raise GatewayError(
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.REQUEST_INVALID,
            f"the request is not a valid {request.message_type} message "
            f"(protobuf decoding failed: {request.error})",
        )


Handler = Callable[[Any, Req, Call], Awaitable[Resp]]
Wrapped = Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]
StreamHandler = Callable[[Any, Req, Call], AsyncIterator[Resp]]
StreamWrapped = Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Resp]]


def unary_rpc(name: str) -> Callable[[Handler[Req, Resp]], Wrapped[Req, Resp]]:
    """Wrap a servicer method `handler(self, request, call)` into a grpc.aio unary method."""

    def decorate(handler: Handler[Req, Resp]) -> Wrapped[Req, Resp]:
        @functools.wraps(handler)
        async def method(
            self: Settings, request: Req, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Resp:
            async with _Frame(self, name, context) as frame:
                call = await frame.open(request, bounded=True)
                limiter = self.limiter
                if limiter is None:
                    return await handler(self, request, call)
                async with limiter.slot(call.options.deadline):  # may shed: RESOURCE_EXHAUSTED
                    return await handler(self, request, call)
            return await frame.abort()

        return method

    return decorate


def stream_rpc(name: str) -> Callable[[StreamHandler[Req, Resp]], StreamWrapped[Req, Resp]]:
    """Wrap an async-generator servicer method `handler(self, request, call)` into a grpc.aio
    server-streaming method.

    A client's cancel, deadline or disconnect cancels the handler's task: the CancelledError
    passes through the frame (which logs the call CANCELLED) and on, never swallowed (returning
    normally from a cancelled call leaks in grpc.aio, grpc/grpc#43360); the handler never raises
    one of its own (a stray CancelledError leaves the client hanging, grpc/grpc#29248).
    """

    def decorate(handler: StreamHandler[Req, Resp]) -> StreamWrapped[Req, Resp]:
        @functools.wraps(handler)
        async def method(
            self: Settings, request: Req, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Resp]:
            async with _Frame(self, name, context) as frame:
                frame.messages = 0
                call = await frame.open(request, bounded=False)
                async for item in handler(self, request, call):
                    frame.messages += 1
                    yield item
            if frame.error is not None:
                await frame.abort()

        return method

    return decorate
