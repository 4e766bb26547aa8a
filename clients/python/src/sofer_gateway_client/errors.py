"""Typed errors: a failed call as an exception that says what the caller can do about it, with
the gateway's rich error model (the `google.rpc.Status` in the `grpc-status-details-bin`
trailer) decoded.

    GatewayError                 every failure: code, message, ErrorInfo, details
    ├── InvalidArgument          INVALID_ARGUMENT, OUT_OF_RANGE: fix the request (field_violations)
    ├── NotFound                 NOT_FOUND: the batch/item does not exist for this credential
    ├── Conflict                 ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION: the request
    │                            collides with what exists (REQUEST_ID_REUSED, ...)
    ├── Unauthenticated          UNAUTHENTICATED: fix the credentials
    ├── PermissionDenied         PERMISSION_DENIED
    ├── RateLimited              RESOURCE_EXHAUSTED: retry after `retry_after` (RetryInfo)
    ├── OutcomeUnknown           reason OUTCOME_UNKNOWN (UNAVAILABLE or DEADLINE_EXCEEDED): a
    │                            create may have happened: retry with the same request_id
    ├── Unavailable              UNAVAILABLE: retry (reads, creates with a request_id)
    ├── DeadlineExceeded         DEADLINE_EXCEEDED
    ├── Cancelled                CANCELLED
    └── ServerError              INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED: report it

`from_rpc_error` translates a `grpc.RpcError` or `grpc.aio.AioRpcError`; the interceptors
(installed by `channel` and `aio_channel`) raise these from unary calls themselves. The trailer
is decoded with googleapis-common-protos alone (no grpcio-status); a trailer that cannot be read
(an error from a proxy, or from gRPC itself) leaves the details empty, never a second error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
MAX_DETAILS_BYTES = 64 * 1024
"""A trailer larger than this is not decoded: gRPC caps the whole header block (8 KiB by
default) well below it, so this only bounds what a misbehaving peer could make us parse."""


@dataclass(frozen=True)
class FieldViolation:
    """One rule a request broke (`google.rpc.BadRequest.FieldViolation`)."""

    field: str
    """The field path, e.g. `audio_sources[0].audio_url`."""
    reason: str
    """The rule, UPPER_SNAKE, e.g. `INVALID_URL`."""
    description: str


@dataclass(frozen=True)
class QuotaViolation:
    """Which limit a RESOURCE_EXHAUSTED hit (`google.rpc.QuotaFailure.Violation`)."""

    subject: str
    description: str


class GatewayError(Exception):
    """A call that failed: its gRPC `code` and `message`, and what the trailer's
    `google.rpc.Status` says: the ErrorInfo `reason`, `domain` and `metadata` (empty strings and
    mapping without one), the BadRequest `field_violations`, the RetryInfo delay `retry_after`
    in seconds (None without one) and the QuotaFailure `quota_violations`."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        retry_after: float | None = None,
        quota_violations: tuple[QuotaViolation, ...] = (),
    ) -> None:
        super().__init__(f"{code.name}: {message}" + (f" ({reason})" if reason else ""))
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: Mapping[str, str] = dict(metadata or {})
        self.field_violations = field_violations
        self.retry_after = retry_after
        self.quota_violations = quota_violations


class InvalidArgument(GatewayError):
    """The request is wrong (`field_violations` says where): fix it, do not retry it."""


class NotFound(GatewayError):
    """The batch, item, manifest or transcription does not exist (for this credential)."""


class Conflict(GatewayError):
    """The request collides with what exists: a `request_id` reused with a different request
    (REQUEST_ID_REUSED), or the upstream's conflict or precondition."""


class Unauthenticated(GatewayError):
    """The credentials are missing, malformed or refused: fix them."""


class PermissionDenied(GatewayError):
    """The credential may not do this."""


class RateLimited(GatewayError):
    """A limit was hit (`quota_violations` says which): retry after `retry_after` seconds when
    it is set."""


class OutcomeUnknown(GatewayError):
    """A create was sent and its answer lost: the batch may exist. Retry with the same
    `request_id` (the gateway answers it with the first outcome), or check before creating."""


class Unavailable(GatewayError):
    """The gateway or its upstream cannot serve now (SHUTTING_DOWN, UPSTREAM_UNAVAILABLE, ...):
    retry a read, or a create with the same `request_id`, after `retry_after` when set."""


class DeadlineExceeded(GatewayError):
    """The call ran out of time (UPSTREAM_TIMEOUT, or gRPC's own deadline)."""


class Cancelled(GatewayError):
    """The call was cancelled."""


class ServerError(GatewayError):
    """The gateway failed (INTERNAL_ERROR) or does not know the method: report it."""


_BY_CODE: Mapping[grpc.StatusCode, type[GatewayError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.FAILED_PRECONDITION: Conflict,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
}


def error_class(code: grpc.StatusCode, reason: str = "") -> type[GatewayError]:
    """The class of an error with `code` and ErrorInfo `reason`."""
    if reason == "OUTCOME_UNKNOWN":
        return OutcomeUnknown
    return _BY_CODE.get(code, ServerError)


def from_rpc_error(error: grpc.RpcError | GatewayError) -> GatewayError:
    """The typed error of a failed call (a `grpc.RpcError`, `grpc.aio.AioRpcError` included),
    with its trailer decoded; a `GatewayError` is returned as it is. Raise it `from error`."""
    if isinstance(error, GatewayError):
        return error
    # Both the sync Call and AioRpcError have code(), details() and trailing_metadata();
    # grpc.RpcError itself declares none of them.
    call: Any = error
    code: grpc.StatusCode = call.code() or grpc.StatusCode.UNKNOWN
    message: str = call.details() or ""
    status = decode_status(call.trailing_metadata(), code)
    if status is None:
        return error_class(code)(code, message)
    fields: dict[str, Any] = {}
    violations: list[FieldViolation] = []
    quota: list[QuotaViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            fields.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [
                FieldViolation(v.field, v.reason, v.description) for v in bad.field_violations
            ]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            fields["retry_after"] = max(0.0, retry.retry_delay.ToTimedelta().total_seconds())
        elif detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            failure = error_details_pb2.QuotaFailure()
            detail.Unpack(failure)
            quota += [QuotaViolation(v.subject, v.description) for v in failure.violations]
    cls = error_class(code, fields.get("reason", ""))
    return cls(
        code,
        message,
        field_violations=tuple(violations),
        quota_violations=tuple(quota),
        **fields,
    )


def decode_status(metadata: Any, code: grpc.StatusCode) -> status_pb2.Status | None:
    """The `google.rpc.Status` of a trailer (a sequence of key/value pairs, or None); None when
    there is none, it is too large or unreadable, or its code is not the call's."""
    for key, value in metadata or ():
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        if len(value) > MAX_DETAILS_BYTES:
            return None
        status = status_pb2.Status()
        try:
            status.ParseFromString(value)
        except DecodeError:
            return None
        return status if status.code == code.value[0] else None
    return None


class _TypedOutcome:
    """A sync call's outcome whose `result()` and `exception()` give the typed error; anything
    else is the call's own (code(), trailing_metadata(), ...)."""

    def __init__(self, outcome: Any) -> None:
        self._outcome = outcome

    def result(self, timeout: float | None = None) -> Any:
        try:
            return self._outcome.result(timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    def exception(self, timeout: float | None = None) -> BaseException | None:
        error = self._outcome.exception(timeout)
        return from_rpc_error(error) if isinstance(error, grpc.RpcError) else error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outcome, name)


# grpc-stubs makes the interceptor classes generic; grpc's own are not subscriptable.
class ErrorInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Sync unary calls raise `GatewayError` subclasses (from `stub.Method(...)`, and from
    `.result()` of `stub.Method.future(...)`), chained `from` the `grpc.RpcError`."""

    def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], client_call_details: Any, request: Any
    ) -> Any:
        return _TypedOutcome(continuation(client_call_details, request))


class AioErrorInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """`grpc.aio` unary calls raise `GatewayError` subclasses when awaited, chained `from` the
    `AioRpcError`."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[Any, Any], Awaitable[Any]],
        client_call_details: Any,
        request: Any,
    ) -> Any:
        call = await continuation(client_call_details, request)
        try:
            await call
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        return call
