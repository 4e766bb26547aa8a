"""The frame of every unary RPC: request id, credential, deadline, error translation, one log line.

Servicer methods are written as `async def Method(self, request, call: Call) -> Response` and
wrapped by `unary_rpc`, which owns everything that is the same for every RPC:

1. `x-request-id` metadata is taken from the caller (or made up), sent back as initial and
   trailing metadata, sent upstream, and bound into every log line of the call;
2. the credential is resolved (caller's bearer token, else the configured key) before the
   handler runs, so a call without one never reaches the upstream;
3. the caller's deadline (capped by the configured default) becomes the upstream deadline;
4. errors are translated once: GatewayError and upstream errors to their gRPC status with
   details (gateway.rpc_errors), anything unexpected to INTERNAL with a logged traceback;
5. one summary line per RPC: method, code, duration, request id, batch id, upstream attempts.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import grpc
import structlog

from gateway.credentials import Credential, resolve_credential
from gateway.rpc_errors import GatewayError, Reason, from_upstream
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
    def default_timeout(self) -> float: ...


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
        self.log_fields.update({k: v for k, v in fields.items() if v})
        structlog.contextvars.bind_contextvars(**fields)


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


Handler = Callable[[Any, Req, Call], Awaitable[Resp]]
Wrapped = Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]


def unary_rpc(name: str) -> Callable[[Handler[Req, Resp]], Wrapped[Req, Resp]]:
    """Wrap a servicer method `handler(self, request, call)` into a grpc.aio unary method."""

    def decorate(handler: Handler[Req, Resp]) -> Wrapped[Req, Resp]:
        @functools.wraps(handler)
        async def method(
            self: Settings, request: Req, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Resp:
            started = time.perf_counter()
            request_id = request_id_of(context)
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(rpc=name, request_id=request_id)
            await context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
            call: Call | None = None
            error: GatewayError | None = None
            try:
                credential = resolve_credential(context.invocation_metadata(), self.api_key)
                options = CallOptions(
                    token=credential.token,
                    deadline=upstream_deadline(context, self.default_timeout),
                    request_id=request_id,
                )
                call = Call(credential, options, context, request_id)
                return await handler(self, request, call)
            except GatewayError as exc:
                error = exc
            except UpstreamError as exc:
                error = from_upstream(
                    exc,
                    secrets=[call.credential.token] if call else [],
                    metadata=call.log_fields if call else {},
                    not_found=call.not_found if call else Reason.NOT_FOUND,
                )
            except Exception:
                log.exception("unexpected error")
                error = GatewayError(
                    grpc.StatusCode.INTERNAL,
                    Reason.INTERNAL_ERROR,
                    f"internal error (request id {request_id})",
                )
            finally:
                code = error.code.name if error else "OK"
                fields = dict(call.log_fields) if call else {}
                if error is not None:
                    fields["reason"] = error.reason.value
                log.info(
                    "rpc",
                    code=code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    upstream_attempts=call.options.attempts if call else 0,
                    **fields,
                )
            # Only reached with an error: abort() raises and ends the RPC with the status.
            error.metadata.setdefault("request_id", request_id)
            await context.abort(
                error.code,
                error.message,
                trailing_metadata=(*error.trailing_metadata(), (REQUEST_ID_KEY, request_id)),
            )
            raise AssertionError("unreachable: context.abort raises")  # pragma: no cover

        return method

    return decorate
