"""The gRPC error model: one table from domain and upstream errors to gRPC statuses.

Every error the gateway returns is a `google.rpc.Status` in the `grpc-status-details-bin`
trailer (the richer error model of AIP-193), carrying:

- `google.rpc.ErrorInfo` always: an UPPER_SNAKE `reason` from `Reason`, the domain
  `sofer-gateway`, and metadata useful to the caller (batch id, upstream status, ...);
- `google.rpc.BadRequest` on INVALID_ARGUMENT raised by validation: one field violation per rule
  broken, with the field path;
- `google.rpc.RetryInfo` and `google.rpc.QuotaFailure` on RESOURCE_EXHAUSTED: the delay the
  upstream (or the gateway) asked for.

Upstream errors (gateway.upstream.errors) become gRPC statuses in `from_upstream`, and nowhere
else. Messages keep the upstream's words where they help the caller, and never contain a token.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.upstream import errors
from gateway.upstream.errors import UpstreamError
from gateway.validation import Violation, summarize, to_bad_request

DOMAIN = "sofer-gateway"  # as the proto's service comment documents
STATUS_DETAILS_KEY = "grpc-status-details-bin"

ERROR_METADATA_KEYS = frozenset(
    {
        "batch_id",
        "batch_file_id",
        "transcription_id",
        "client_item_id",
        "request_id",
        "upstream_status",
    }
)
"""The only ErrorInfo metadata keys a caller ever sees (the README's error table lists them).
Whatever else a call notes (who the caller is, limits, quota names) is for the logs only."""


class Reason(enum.StrEnum):
    """ErrorInfo reasons (AIP-193): stable, UPPER_SNAKE, documented in the README."""

    REQUEST_INVALID = "REQUEST_INVALID"
    REQUEST_MESSAGE_TIMEOUT = "REQUEST_MESSAGE_TIMEOUT"
    CREDENTIALS_MISSING = "CREDENTIALS_MISSING"
    CREDENTIALS_MALFORMED = "CREDENTIALS_MALFORMED"
    CALLER_UNAUTHENTICATED = "CALLER_UNAUTHENTICATED"
    UPSTREAM_REJECTED_REQUEST = "UPSTREAM_REJECTED_REQUEST"
    UPSTREAM_UNAUTHENTICATED = "UPSTREAM_UNAUTHENTICATED"
    UPSTREAM_PERMISSION_DENIED = "UPSTREAM_PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    BATCH_NOT_FOUND = "BATCH_NOT_FOUND"
    BATCH_ITEM_NOT_FOUND = "BATCH_ITEM_NOT_FOUND"
    MANIFEST_NOT_FOUND = "MANIFEST_NOT_FOUND"
    TRANSCRIPTION_NOT_FOUND = "TRANSCRIPTION_NOT_FOUND"
    UPSTREAM_CONFLICT = "UPSTREAM_CONFLICT"
    UPSTREAM_FAILED_PRECONDITION = "UPSTREAM_FAILED_PRECONDITION"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
    IDEMPOTENCY_STORE_UNAVAILABLE = "IDEMPOTENCY_STORE_UNAVAILABLE"
    WATCH_LIMIT_REACHED = "WATCH_LIMIT_REACHED"
    UPSTREAM_QUOTA_EXHAUSTED = "UPSTREAM_QUOTA_EXHAUSTED"
    CALLER_QUOTA_EXCEEDED = "CALLER_QUOTA_EXCEEDED"
    TRANSCRIPT_NOT_TIMED = "TRANSCRIPT_NOT_TIMED"
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"
    GATEWAY_OVERLOADED = "GATEWAY_OVERLOADED"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # --- money ---
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    CALLER_BUDGET_EXCEEDED = "CALLER_BUDGET_EXCEEDED"
    COST_UNKNOWN = "COST_UNKNOWN"
    BUDGET_STORE_UNAVAILABLE = "BUDGET_STORE_UNAVAILABLE"
    # listing and links (gateway.contract.link_errors)
    LINK_NOT_SUPPORTED = "LINK_NOT_SUPPORTED"
    LINK_NOT_FOUND = "LINK_NOT_FOUND"
    LINK_EXTRACTION_FAILED = "LINK_EXTRACTION_FAILED"
    PAGE_URL_NOT_RESOLVED = "PAGE_URL_NOT_RESOLVED"
    # ListTranscriptions' creation-time filters met an upstream list out of order
    # (gateway.server.created)
    LIST_NOT_ORDERED = "LIST_NOT_ORDERED"
    # --- issue 23: events ---
    # A stream's resume_token whose events the log no longer holds (gateway.watch.resume)
    RESUME_TOKEN_EXPIRED = "RESUME_TOKEN_EXPIRED"  # noqa: S105 (a reason, not a secret)
    # --- connect ---
    # A request body on the HTTP port larger than its limit (gateway.connect.http)
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    # --- webhooks ---
    WEBHOOK_URL_NOT_ALLOWED = "WEBHOOK_URL_NOT_ALLOWED"
    WEBHOOK_NOT_FOUND = "WEBHOOK_NOT_FOUND"
    WEBHOOK_LIMIT_REACHED = "WEBHOOK_LIMIT_REACHED"
    WEBHOOK_STORE_UNAVAILABLE = "WEBHOOK_STORE_UNAVAILABLE"


@dataclass(frozen=True)
class Precondition:
    """One google.rpc.PreconditionFailure violation: `type` (UPPER_SNAKE, e.g. "BALANCE"),
    `subject` (what was checked) and `description` (how it failed, with the figures)."""

    type: str
    subject: str
    description: str


@dataclass
class GatewayError(Exception):
    """An error the gateway answers with: a gRPC code, an ErrorInfo reason and a message."""

    code: grpc.StatusCode
    reason: Reason
    message: str
    metadata: dict[str, str] = field(default_factory=dict)
    violations: Sequence[Violation] = ()
    retry_after: float | None = None
    quota_subject: str = "upstream rate limit"
    """The QuotaFailure subject of a RESOURCE_EXHAUSTED: which limit was hit."""
    quota_description: str = ""
    """The QuotaFailure description: what the limit is (the flag and its value); empty: the
    message."""
    preconditions: Sequence[Precondition] = ()
    """google.rpc.PreconditionFailure violations: which precondition failed, and why."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def to_status(self) -> status_pb2.Status:
        """The google.rpc.Status this error travels as."""
        details: list[any_pb2.Any] = []
        shown = {k: v for k, v in self.metadata.items() if k in ERROR_METADATA_KEYS}
        info = error_details_pb2.ErrorInfo(reason=self.reason.value, domain=DOMAIN, metadata=shown)
        details.append(_pack(info))
        if self.violations:
            details.append(_pack(to_bad_request(self.violations)))
        if self.retry_after is not None:
            details.append(
                _pack(error_details_pb2.RetryInfo(retry_delay=_duration(self.retry_after)))
            )
        if self.preconditions:
            failure = error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=p.type, subject=p.subject, description=p.description
                    )
                    for p in self.preconditions
                ]
            )
            details.append(_pack(failure))
        if self.code is grpc.StatusCode.RESOURCE_EXHAUSTED:
            quota = error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(
                        subject=self.quota_subject,
                        description=self.quota_description or self.message,
                    )
                ]
            )
            details.append(_pack(quota))
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """The trailer that carries the rich status to the client (grpcio-status builds it:
        the `grpc-status-details-bin` pair of the google.rpc.Status)."""
        pairs: tuple[tuple[str, str | bytes], ...] = rpc_status.to_status(
            self.to_status()
        ).trailing_metadata
        return pairs


async def abort(
    context: grpc.aio.ServicerContext[Any, Any],
    error: GatewayError,
    extra: tuple[tuple[str, str], ...] = (),
) -> NoReturn:
    """End the call with `error`: its code, message and google.rpc.Status trailer, plus `extra`
    trailing metadata (context.abort raises)."""
    await context.abort(
        error.code, error.message, trailing_metadata=(*error.trailing_metadata(), *extra)
    )
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def invalid_argument(violations: Sequence[Violation]) -> GatewayError:
    """INVALID_ARGUMENT listing every violation (BadRequest); the message names the first few."""
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.REQUEST_INVALID,
        summarize(violations),
        violations=tuple(violations),
    )


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = math.floor(max(seconds, 0.0))
    return duration_pb2.Duration(seconds=whole, nanos=int((max(seconds, 0.0) - whole) * 1e9))


def metadata_of(pairs: Mapping[str, str | None]) -> dict[str, str]:
    """ErrorInfo metadata without the empty entries."""
    return {k: v for k, v in pairs.items() if v}


def from_upstream(
    exc: UpstreamError,
    *,
    token: str = "",
    metadata: Mapping[str, str] | None = None,
    not_found: Reason = Reason.NOT_FOUND,
) -> GatewayError:
    """The one table from upstream errors to gRPC statuses (see the README's error table).

    `not_found` names the resource the call looked up, for a specific ErrorInfo reason.
    """
    info = metadata_of(
        {
            **(metadata or {}),
            "upstream_status": str(exc.status) if exc.status is not None else None,
        }
    )
    message = exc.public_message  # the upstream's words were sanitised where they entered
    code, reason = _TABLE.get(type(exc), _fallback(exc))
    if reason is Reason.NOT_FOUND:
        reason = not_found
    if getattr(exc, "outcome_unknown", False):
        reason = Reason.OUTCOME_UNKNOWN
        message = (
            f"{message} (the upstream may or may not have acted on the request: "
            "check before creating again)"
        )
    retry_after = getattr(exc, "retry_after", None)
    for kind, subject in _QUOTA_SUBJECTS.items():
        if isinstance(exc, kind):
            return GatewayError(
                code, reason, message, info, retry_after=retry_after, quota_subject=subject
            )
    return GatewayError(code, reason, message, info, retry_after=retry_after)


_QUOTA_SUBJECTS: dict[type[UpstreamError], str] = {
    errors.PoolExhausted: "gateway upstream connection pool",
    errors.QuotaExhausted: "upstream rate budget (--upstream-rate-limit)",
}
"""The QuotaFailure subject of the gateway's own limits (others: the upstream's rate limit)."""


def _fallback(exc: UpstreamError) -> tuple[grpc.StatusCode, Reason]:
    for cls in type(exc).__mro__:
        if cls in _TABLE:
            return _TABLE[cls]
    return grpc.StatusCode.UNAVAILABLE, Reason.UPSTREAM_UNAVAILABLE


_TABLE: dict[type[UpstreamError], tuple[grpc.StatusCode, Reason]] = {
    errors.InvalidArgument: (grpc.StatusCode.INVALID_ARGUMENT, Reason.UPSTREAM_REJECTED_REQUEST),
    errors.Unauthenticated: (grpc.StatusCode.UNAUTHENTICATED, Reason.UPSTREAM_UNAUTHENTICATED),
    errors.PermissionDenied: (
        grpc.StatusCode.PERMISSION_DENIED,
        Reason.UPSTREAM_PERMISSION_DENIED,
    ),
    errors.NotFound: (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND),
    errors.Conflict: (grpc.StatusCode.ABORTED, Reason.UPSTREAM_CONFLICT),
    errors.FailedPrecondition: (
        grpc.StatusCode.FAILED_PRECONDITION,
        Reason.UPSTREAM_FAILED_PRECONDITION,
    ),
    errors.RateLimited: (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.RATE_LIMITED),
    errors.QuotaExhausted: (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.UPSTREAM_QUOTA_EXHAUSTED),
    errors.ProtocolError: (grpc.StatusCode.UNAVAILABLE, Reason.UPSTREAM_BAD_RESPONSE),
    errors.Unavailable: (grpc.StatusCode.UNAVAILABLE, Reason.UPSTREAM_UNAVAILABLE),
    errors.DeadlineExceeded: (grpc.StatusCode.DEADLINE_EXCEEDED, Reason.UPSTREAM_TIMEOUT),
    errors.PoolExhausted: (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.GATEWAY_OVERLOADED),
}
