"""The frame of every RPC: request id, credential, validation, deadline, errors, one log line.

Servicer methods are written as `async def Method(self, request, call: Call) -> Response` and
wrapped by `unary_rpc` (streaming ones, async generators, by `stream_rpc`) into
`Method(self, request, context: CallContext)`; a client-streaming one (an upload) is
`Method(self, first, rest, call)`, wrapped by `client_stream_rpc`, its first message standing
for the request in every step below. The frame knows the call's transport only as a
`CallContext` (gateway.server.call_context: metadata, deadline, verified client certificate,
initial and trailing metadata, abort), so any protocol that provides one serves the same
methods; grpc.aio's is gateway.server.grpc_adapter. The wrappers own everything that is the
same for every RPC, in this order:

1. `x-request-id` metadata is taken from the caller (or made up), sent back in the initial
   metadata with the first response message (an error goes out trailers-only, so clients may
   retry it, with the id in its trailers), sent upstream, and bound into every log line;
2. the credential is resolved (caller's bearer token, else the configured key, for callers
   the servicer's `caller_auth` authenticated: gateway.access.credentials), so a call without one
   never reaches the upstream;
3. the request is validated (gateway.validation: every violation at once, INVALID_ARGUMENT),
   before any upstream call or concurrency slot; then the call takes a unit of its caller's
   share (gateway.access.caller_quota: calls, or watches for a `watch` stream), held until it ends,
   or is refused RESOURCE_EXHAUSTED (CALLER_QUOTA_EXCEEDED) holding nothing;
4. the caller's deadline, less a margin kept for the answer (gateway.server.inflight), capped by the
   configured default, becomes the upstream deadline; a unary call runs inside an answer scope
   that ends it with the gateway's own status at that time or at shutdown, and holds a slot of
   the servicer's `limiter` (gateway.server.limiter) while its handler runs, or is shed
   RESOURCE_EXHAUSTED when none comes free in time (streams don't);
5. errors are translated once: GatewayError and upstream errors to their gRPC status with
   details (gateway.contract.errors), anything unexpected to INTERNAL with a logged traceback;
6. every answer is encoded by the frame itself (`CallContext.encode`), so that one larger than
   the servicer's `max_response_bytes` (--max-send-message-bytes) ends the call RESOURCE_EXHAUSTED
   (RESPONSE_TOO_LARGE, with ErrorInfo, the line and the count saying so) instead of leaving the
   protocol to refuse it bare after the call was counted OK;
7. one summary line per RPC: method, protocol, code, duration, request id, batch id, upstream
   attempts.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from gateway.access.caller_quota import CallerQuota, Kind, Lease
from gateway.access.credentials import CallerAuth, Credential, resolve_credential
from gateway.contract.errors import GatewayError, Reason, from_upstream, invalid_argument
from gateway.observability import tracing
from gateway.observability.metrics import GatewayMetrics
from gateway.server.call_context import CallContext, Metadata
from gateway.server.decoding import UndecodableRequest
from gateway.server.inflight import Cut, InFlight, answer_margin, cut_short
from gateway.server.limiter import ConcurrencyLimiter, Slot
from gateway.upstream import CallOptions, UpstreamError

REQUEST_ID_KEY = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

log = structlog.get_logger("gateway.server.frame")

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

    @property
    def in_flight(self) -> InFlight: ...

    @property
    def metrics(self) -> GatewayMetrics | None: ...

    @property
    def caller_quota(self) -> CallerQuota: ...

    @property
    def max_response_bytes(self) -> int: ...


@dataclass
class Call:
    """One RPC in flight, as the handler sees it."""

    credential: Credential
    options: CallOptions
    context: CallContext
    request_id: str
    log_fields: dict[str, str] = field(default_factory=dict)
    not_found: Reason = Reason.NOT_FOUND
    """The ErrorInfo reason for an upstream 404: names what the call looked up."""
    slot: Slot | None = None
    """The limiter slot the call holds (a create that outlives its caller takes it over)."""
    in_doubt: Callable[[], bool] = field(default=lambda: False)
    """Whether the upstream may have acted if the call is cut short now (a create was sent)."""
    tracked: list[CallOptions] = field(default_factory=list)
    """Upstream work done for the call with options of its own (a shielded create)."""

    @property
    def attempts(self) -> int:
        """Upstream attempts the call made, its own and those of work done for it."""
        return self.options.attempts + sum(o.attempts for o in self.tracked)

    def tracked_options(self) -> CallOptions:
        """Options of their own for one upstream request done for the call (a shared read, a
        link, a price): its credential and deadline, its attempts counted in `attempts` but
        not in the call's own (so a read done for a create never makes its outcome doubtful)."""
        options = self.options.fresh()
        self.tracked.append(options)
        return options

    def note(self, **fields: str) -> None:
        """Add fields (batch id, ...) to the call's summary line and error metadata."""
        given = {k: v for k, v in fields.items() if v}
        self.log_fields.update(given)
        structlog.contextvars.bind_contextvars(**given)

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        """Metadata for the call's trailers when it ends without an error."""
        self.context.set_trailing_metadata(metadata)


def request_id_of(context: CallContext) -> str:
    """The caller's `x-request-id` when it is a sane token, else a new UUID."""
    for key, value in context.metadata():
        if key.lower() == REQUEST_ID_KEY:
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            if _REQUEST_ID.match(text):
                return text
            break
    return str(uuid.uuid4())


def upstream_deadline(context: CallContext, default_timeout: float) -> tuple[float, float | None]:
    """(upstream deadline, answer-by), absolute monotonic times. The call must answer by the
    caller's deadline less a margin (None without a caller deadline); upstream work must end by
    then too, and within the configured default."""
    now = time.monotonic()
    remaining = context.time_remaining()
    if remaining is None:
        return now + default_timeout, None
    answer_by = now + max(remaining - answer_margin(remaining), 0.0)
    return min(answer_by, now + default_timeout), answer_by


class _Frame:
    """What is the same for every RPC, unary or streaming: one instance per call."""

    def __init__(self, owner: Settings, name: str, context: CallContext):
        self.owner = owner
        self.name = name
        self.context = context
        self.started = time.perf_counter()
        self.request_id = request_id_of(context)
        self.call: Call | None = None
        self.error: GatewayError | None = None
        self.answer_by: float | None = None
        self.cancelled = False
        self.messages: int | None = None
        self.lease: Lease | None = None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            rpc=name, protocol=context.protocol, request_id=self.request_id
        )
        tracing.annotate_rpc(self.request_id, context.protocol)

    async def __aenter__(self) -> _Frame:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: object,
    ) -> bool:
        """Translate an error once and log the call's line; a cancellation propagates."""
        if self.lease is not None:
            self.lease.release()  # however the call ended: its caller's share is free again
        if isinstance(exc, asyncio.CancelledError):
            self.cancelled = True
        elif isinstance(exc, Exception):
            self.fail(exc)
        self.summary()
        return isinstance(exc, Exception)  # swallowed: the wrapper aborts with self.error

    async def open(self, request: object, *, bounded: bool, share: Kind | None = None) -> Call:
        """Resolve the credential and set the upstream deadline: the caller's deadline, capped
        by the default timeout when `bounded` (unary calls); then, for a valid request, take a
        unit of the caller's `share` (gateway.access.caller_quota), held until the call ends."""
        context = self.context
        credential = resolve_credential(
            context.metadata(),
            self.owner.api_key,
            self.owner.caller_auth,
            context.peer_certificate_subject(),
        )
        if bounded:
            deadline: float | None
            deadline, self.answer_by = upstream_deadline(context, self.owner.default_timeout)
        else:
            remaining = context.time_remaining()
            deadline = None if remaining is None else time.monotonic() + max(remaining, 0.0)
        options = CallOptions(token=credential.token, deadline=deadline, request_id=self.request_id)
        self.call = Call(credential, options, context, self.request_id)
        self.call.note(caller=credential.caller)  # who spends the configured key, if anyone
        if isinstance(request, UndecodableRequest):  # bytes the deserializer could not parse
            raise request.to_error()
        assert isinstance(request, Message)  # what the service's deserializers produce
        violations = validation.validate(request)
        if violations:  # all at once, before any upstream call or concurrency slot
            raise invalid_argument(violations)
        if share is not None:  # before any slot or watch: a refused call holds nothing
            self.lease = self.owner.caller_quota.acquire(share, credential)
        return self.call

    async def answering(self) -> None:
        """Send the request id in the initial metadata, right before the first response
        message. Not earlier: headers sent commit the call, and gRPC clients never retry a
        committed call, so an error (UNAVAILABLE, ...) must go out trailers-only, with the
        request id in its trailers (`abort`)."""
        await self.context.send_initial_metadata(((REQUEST_ID_KEY, self.request_id),))

    def encode(self, message: Message | bytes) -> bytes:
        """`message` as the call's protocol sends it; RESPONSE_TOO_LARGE when it is larger
        than the servicer's `max_response_bytes`."""
        data = self.context.encode(message)
        limit = self.owner.max_response_bytes
        if len(data) > limit:
            metadata = self.call.log_fields if self.call is not None else {}
            raise response_too_large(self.name, len(data), limit, metadata)
        return data

    def timed_out(self, cut: Cut) -> GatewayError:
        """The status of this call when its answer scope ends it (deadline or shutdown)."""
        call = self.call
        assert call is not None  # the scope opens after the call does
        return cut_short(cut, in_doubt=call.in_doubt(), what=self.name, metadata=call.log_fields)

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
        """The one log line of the call, and its count in the metrics (if any)."""
        seconds = time.perf_counter() - self.started
        call, error = self.call, self.error
        fields: dict[str, object] = dict(call.log_fields) if call else {}
        code = "CANCELLED" if self.cancelled else (error.code.name if error else "OK")
        if error is not None:
            fields["reason"] = error.reason.value
        if self.messages is not None:
            fields["messages"] = self.messages
        metrics = self.owner.metrics
        if metrics is not None:
            metrics.rpc_ended(self.name, code, seconds, self.messages, self.context.protocol)
        log.info(
            "rpc",
            code=code,
            duration_ms=round(seconds * 1000, 2),
            upstream_attempts=call.attempts if call else 0,
            **fields,
        )

    async def abort(self) -> NoReturn:
        """End the call with the translated error and the request id in its trailers (the
        context's abort raises)."""
        assert self.error is not None
        # A copy: the error may be shared (one poller's error ends every watch of a batch), and
        # each call's ErrorInfo carries its own request id.
        error = dataclasses.replace(
            self.error, metadata={"request_id": self.request_id, **self.error.metadata}
        )
        await self.context.abort(error, ((REQUEST_ID_KEY, self.request_id),))


def response_too_large(
    method: str, size: int, limit: int, metadata: dict[str, str]
) -> GatewayError:
    """The error of an answer larger than the gateway sends in one message; `metadata` names
    what it answered (the transcription id a stream's caller can skip)."""
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        Reason.RESPONSE_TOO_LARGE,
        f"the answer to {method} is {size} bytes, more than the gateway sends in one message "
        f"({limit} bytes, --max-send-message-bytes): export the transcript as a file "
        "(ExportTranscription, or sofer-gateway fetch), or raise the limit",
        metadata=dict(metadata),
        quota_subject="response size",
        quota_description=f"--max-send-message-bytes {limit}",
    )


Handler = Callable[[Any, Req, Call], Awaitable[Resp]]
Wrapped = Callable[[Any, Req, CallContext], Awaitable[bytes]]
StreamHandler = Callable[[Any, Req, Call], AsyncIterator[Resp]]
StreamWrapped = Callable[[Any, Req, CallContext], AsyncIterator[bytes]]


def unary_rpc(name: str) -> Callable[[Handler[Req, Resp]], Wrapped[Req]]:
    """Wrap a servicer method `handler(self, request, call)` into the unary method
    `method(self, request, context: CallContext)`."""

    def decorate(handler: Handler[Req, Resp]) -> Wrapped[Req]:
        @functools.wraps(handler)
        async def method(self: Settings, request: Req, context: CallContext) -> bytes:
            async with _Frame(self, name, context) as frame:
                call = await frame.open(request, bounded=True, share=Kind.CALLS)
                async with self.in_flight.scope(frame.answer_by, frame.timed_out):
                    limiter = self.limiter
                    if limiter is None:
                        response = await handler(self, request, call)
                    else:
                        # may shed: RESOURCE_EXHAUSTED
                        async with limiter.slot(call.options.deadline) as slot:
                            call.slot = slot
                            response = await handler(self, request, call)
                    assert isinstance(response, Message | bytes)  # what handlers answer
                    data = frame.encode(response)
                    await frame.answering()
                    return data
            return await frame.abort()

        return method

    return decorate


ClientStreamHandler = Callable[[Any, Req, AsyncIterator[Req], Call], Awaitable[Resp]]
ClientStreamWrapped = Callable[[Any, AsyncIterator[Any], CallContext], Awaitable[bytes]]


def client_stream_rpc(name: str) -> Callable[[ClientStreamHandler[Req, Resp]], ClientStreamWrapped]:
    """Wrap a servicer method `handler(self, first, rest, call)` into the client-streaming
    method `method(self, requests, context: CallContext)`.

    The first message stands for the request: it is validated, and the call takes its caller's
    share, answer scope and limiter slot, exactly as a unary call does, before the handler runs;
    `rest` gives the later messages (each one that does not decode ends the call
    INVALID_ARGUMENT). The whole stream is read within the answer scope (the caller's deadline);
    the pause before each message is bounded by gateway.server.request_message.
    """

    def decorate(handler: ClientStreamHandler[Req, Resp]) -> ClientStreamWrapped:
        @functools.wraps(handler)
        async def method(
            self: Settings, requests: AsyncIterator[Any], context: CallContext
        ) -> bytes:
            async with _Frame(self, name, context) as frame:
                first = await anext(requests, None)
                if first is None:
                    raise GatewayError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        Reason.REQUEST_INVALID,
                        f"the call ended without a request message: {name} takes a stream "
                        "that starts with its header",
                    )
                call = await frame.open(first, bounded=True, share=Kind.CALLS)
                async with self.in_flight.scope(frame.answer_by, frame.timed_out):
                    limiter = self.limiter
                    rest = _decoded(requests)
                    if limiter is None:
                        response = await handler(self, first, rest, call)
                    else:
                        async with limiter.slot(call.options.deadline) as slot:
                            call.slot = slot
                            response = await handler(self, first, rest, call)
                    assert isinstance(response, Message | bytes)  # what handlers answer
                    data = frame.encode(response)
                    await frame.answering()
                    return data
            return await frame.abort()

        return method

    return decorate


async def _decoded(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """A request stream's later messages, refused at the first that did not decode."""
    async for request in requests:
        if isinstance(request, UndecodableRequest):
            raise request.to_error()
        yield request


def stream_rpc(
    name: str, *, watch: bool = False
) -> Callable[[StreamHandler[Req, Resp]], StreamWrapped[Req]]:
    """Wrap an async-generator servicer method `handler(self, request, call)` into the
    server-streaming method `method(self, request, context: CallContext)`; a `watch` counts
    against its caller's watches (`--max-watches-per-caller`).

    A client's cancel, deadline or disconnect cancels the handler's task: the CancelledError
    passes through the frame (which logs the call CANCELLED) and on, never swallowed (returning
    normally from a cancelled call leaks in grpc.aio, grpc/grpc#43360); the handler never raises
    one of its own (a stray CancelledError leaves the client hanging, grpc/grpc#29248).
    """

    def decorate(handler: StreamHandler[Req, Resp]) -> StreamWrapped[Req]:
        @functools.wraps(handler)
        async def method(
            self: Settings, request: Req, context: CallContext
        ) -> AsyncIterator[bytes]:
            async with _Frame(self, name, context) as frame:
                frame.messages = 0
                call = await frame.open(
                    request, bounded=False, share=Kind.WATCHES if watch else None
                )
                async for item in handler(self, request, call):
                    assert isinstance(item, Message | bytes)  # what handlers yield
                    data = frame.encode(item)
                    if frame.messages == 0:
                        await frame.answering()
                    frame.messages += 1
                    yield data
            if frame.error is not None:
                await frame.abort()

        return method

    return decorate
