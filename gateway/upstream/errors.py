"""The upstream client's exceptions, and the one place HTTP and transport failures become them.

Exception hierarchy::

    UpstreamError                 .message .status .method .path .outcome_unknown
    |                             .retry_after .retries_throttled .request_sent
    +-- InvalidArgument           400, 422, 413 (the request itself is wrong)
    +-- Unauthenticated           401
    +-- PermissionDenied          403
    +-- NotFound                  404 (also: another tenant's id)
    +-- Conflict                  409
    +-- FailedPrecondition        any other 4xx (405, 410, 412, 415, ...)
    +-- RateLimited               429; .retry_after is the delay the upstream asked for
    +-- Unavailable               5xx, 408, connection failures (refused, reset, dropped)
    |   +-- ProtocolError         a response we cannot read: not JSON, missing or mistyped
    |                             fields, an unexpected 1xx/3xx status, a head past the
    |                             transport's limits, a body past --upstream-max-response-bytes
    +-- DeadlineExceeded          an httpx timeout, or the caller's deadline spent before sending
    +-- PoolExhausted             no pooled connection free within pool_timeout (nothing sent)
    +-- QuotaExhausted            no token from the rate budget before the deadline (nothing
                                  sent); .retry_after is when the bucket has one again

`outcome_unknown` is True only for a request that is not idempotent (a POST) which may have
reached the upstream and whose result we did not get: a 5xx, a timeout or broken connection
after sending, an unreadable 2xx. The caller must not assume it did nothing, nor that it worked.

`STATUS_ERRORS` is the whole HTTP -> error table; `error_for_status`, `error_for_answer` and
`error_for_transport` are the only functions that build errors from lower layers, and the first
and last the only places the upstream's text enters the gateway: there, and only there, it
passes `sanitize` (gateway.upstream.sanitize), the allow-list that keeps ordinary words and
withholds anything that looks like a credential.
`.message` is those sanitised words (`detail`, `message` or `error` from a JSON body, else the
text); `.public_message` is what a caller sees: the status as the gateway names it, then them
("HTTP 404 Not Found: Batch ... not found").
"""

from __future__ import annotations

import http
from typing import Final

import aiohttp
import httpx

from gateway.upstream.messages import Answer
from gateway.upstream.messages import upstream_message as upstream_message  # re-exported
from gateway.upstream.sanitize import MESSAGE_LIMIT as MESSAGE_LIMIT  # re-exported
from gateway.upstream.sanitize import sanitize
from gateway.upstream.transport import HEAD_LIMITS


class UpstreamError(Exception):
    """Base of every error the upstream client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        outcome_unknown: bool = False,
        retry_after: float | None = None,
        request_sent: bool = True,
    ) -> None:
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        self.request_sent = request_sent
        self.retries_throttled = False
        super().__init__(self._describe())

    @property
    def public_message(self) -> str:
        """The message a caller sees: the HTTP status as the gateway names it, then `message`
        (already sanitised where it came from the upstream)."""
        if self.status is None:
            return self.message or type(self).__name__
        phrase = status_phrase(self.status)
        head = f"HTTP {self.status} {phrase}".rstrip()
        if not self.message or self.message == phrase:
            return head
        return f"{head}: {self.message}"

    def _describe(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        return f"{where}{self.public_message}"

    def __str__(self) -> str:
        text = self._describe()
        if self.outcome_unknown:
            text += " (outcome unknown: the upstream may have acted)"
        if self.retries_throttled:
            text += " (retries throttled by the retry budget)"
        return text


class InvalidArgument(UpstreamError):
    """The upstream rejected the request's content (400, 413, 422)."""


class Unauthenticated(UpstreamError):
    """The credential is missing or not accepted (401)."""


class PermissionDenied(UpstreamError):
    """The credential is valid but may not do this (403)."""


class NotFound(UpstreamError):
    """No such resource for this credential (404)."""


class Conflict(UpstreamError):
    """The request conflicts with the resource's current state (409)."""


class FailedPrecondition(UpstreamError):
    """Any other 4xx: the upstream refused the request in a way the table does not name."""


class RateLimited(UpstreamError):
    """The upstream asked us to slow down (429); `retry_after` is its requested delay, if any."""


class Unavailable(UpstreamError):
    """The upstream failed or could not be reached (5xx, 408, connection failures)."""


class ProtocolError(Unavailable):
    """The upstream answered something we cannot read; never retried (it would answer the same)."""


class DeadlineExceeded(UpstreamError):
    """A timeout, or the caller's deadline spent (then nothing was sent)."""


class PoolExhausted(UpstreamError):
    """No pooled connection came free in time (`pool_timeout`): the gateway itself is at its
    limit, nothing was sent, and the call is shed rather than retried."""


class QuotaExhausted(UpstreamError):
    """The gateway's own upstream rate budget (`--upstream-rate-limit`) had no token for the
    request before its deadline: nothing was sent. `.retry_after` is the seconds until the
    bucket has a token again for this request's priority; `.upstream_wait`, while an upstream
    429 pauses the bucket, the seconds the upstream asked to wait (None otherwise): such a
    refusal is the 429's doing, and a watch treats it as the 429 itself."""

    upstream_wait: float | None = None


STATUS_ERRORS: Final[dict[int, type[UpstreamError]]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    408: Unavailable,
    409: Conflict,
    413: InvalidArgument,
    422: InvalidArgument,
    429: RateLimited,
}
"""HTTP status -> error class. Not listed: other 4xx -> FailedPrecondition, 5xx -> Unavailable,
anything else that is not 2xx -> ProtocolError."""


def error_class_for_status(status: int) -> type[UpstreamError]:
    """The error class for a non-2xx HTTP status (the table plus its ranges)."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    if 400 <= status < 500:
        return FailedPrecondition
    if 500 <= status < 600:
        return Unavailable
    return ProtocolError


def error_for_status(
    response: Answer,
    *,
    method: str,
    path: str,
    idempotent: bool,
    token: str,
    retry_after: float | None = None,
) -> UpstreamError:
    """The error for a non-2xx response, carrying the upstream's sanitised words."""
    status = response.status_code
    cls = error_class_for_status(status)
    return cls(
        upstream_message(response, token=token) or status_phrase(status),
        status=status,
        method=method,
        path=path,
        outcome_unknown=not idempotent and status >= 500,
        retry_after=retry_after,
    )


def error_for_answer(
    message: str, *, status: int, method: str, path: str, idempotent: bool
) -> ProtocolError:
    """The error for an answer that arrived but cannot be taken (past the size bound, or
    undecodable): `message` is the gateway's own, naming the limit, never the body. A create
    that got one may have been acted on."""
    return ProtocolError(
        message, status=status, method=method, path=path, outcome_unknown=not idempotent
    )


TRANSPORT_ERRORS: Final = (httpx.RequestError, aiohttp.ClientError, TimeoutError)
"""What a send may raise besides an answer: httpx's errors, aiohttp's (httpx-aiohttp lets an
unreadable answer head through as one) and the attempt's own timeout."""

# Failures httpx raises before a single byte of the request left: the upstream cannot have acted.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,  # a request the transport refused to put on the wire
    httpx.UnsupportedProtocol,
)

_AIOHTTP: Final[tuple[tuple[type[aiohttp.ClientError], type[UpstreamError], bool], ...]] = (
    (aiohttp.ClientResponseError, ProtocolError, True),  # the answer's head could not be read
    (aiohttp.ConnectionTimeoutError, DeadlineExceeded, False),
    (aiohttp.ClientConnectorError, Unavailable, False),  # refused, DNS, TLS
    (aiohttp.ServerTimeoutError, DeadlineExceeded, True),  # no byte for the read timeout
    (aiohttp.ClientError, Unavailable, True),  # dropped, reset, cut short
)
"""aiohttp's failures, first match: the error class and whether the request was sent.

httpx-aiohttp re-raises them as httpx errors (`raise ... from` the aiohttp one), but names
some for the wrong phase: a connection dropped after the request was sent becomes
`httpx.ConnectTimeout`, which would read as "nothing sent" and let a create be sent twice. So
the aiohttp error, where there is one, is what the table reads."""


def error_for_transport(
    exc: Exception, *, method: str, path: str, idempotent: bool, token: str
) -> UpstreamError:
    """The error for a transport failure: an httpx or aiohttp exception, or our own attempt
    timeout.

    Timeouts become DeadlineExceeded, an answer head that cannot be read (malformed, or past
    the transport's limits) ProtocolError, everything else Unavailable. `request_sent` is False
    only for the failures that happen before sending (connect errors and timeouts, pool
    timeouts, a request the transport refused to send).
    The exception's text (which may quote the peer or the request) passes the allow-list too;
    an unreadable head's is not shown at all (it quotes the answer).
    """
    cls, sent, cause = _classify(exc)
    what = type(cause).__name__
    if cls is ProtocolError:
        detail = f"the upstream's answer head is not HTTP/1.1, or past {HEAD_LIMITS}"
    else:
        detail = sanitize(str(cause), token=token, limit=MESSAGE_LIMIT - len(what) - 2)
    return cls(
        f"{what}: {detail}" if detail else what,
        method=method,
        path=path,
        outcome_unknown=sent and not idempotent,
        request_sent=sent,
    )


def _classify(exc: Exception) -> tuple[type[UpstreamError], bool, BaseException]:
    """The error class for `exc`, whether the request was sent, and the exception that says
    so (aiohttp's own, where httpx-aiohttp wrapped one)."""
    cause = exc if isinstance(exc, aiohttp.ClientError) else exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        for kind, cls, sent in _AIOHTTP:
            if isinstance(cause, kind):
                return cls, sent, cause
    sent = not isinstance(exc, _NOT_SENT)
    timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError)
    return (DeadlineExceeded if timed_out else Unavailable), sent, exc


def status_phrase(status: int) -> str:
    """The standard phrase for an HTTP status (the gateway's own: the wire's is not trusted)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
