"""Which failed attempts are retried, by method: the retry table in one place.

| failure                                        | GET (read) | POST (create)              |
| ---------------------------------------------- | ---------- | -------------------------- |
| 429                                            | retry      | retry (upstream did not act) |
| 408, 5xx                                       | retry      | never; 5xx: outcome_unknown |
| ConnectError, ConnectTimeout                   | retry      | retry (nothing was sent)   |
| PoolTimeout (no free pooled connection)        | never: shed GATEWAY_OVERLOADED (nothing sent) |
| read/write timeout, broken connection, drop    | retry      | never; outcome_unknown     |
| other 4xx, unreadable body (ProtocolError)     | never      | never                      |

A second batch created by a silent retry is the worst outcome this gateway can produce, so a
POST is retried only where the upstream cannot have acted.
"""

from __future__ import annotations

from typing import Final

from gateway.upstream.errors import PoolExhausted, ProtocolError, UpstreamError

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

_READ_RETRY_STATUSES: Final = frozenset({408, 429, *range(500, 600)})
_CREATE_RETRY_STATUSES: Final = frozenset({429})


def is_idempotent(method: str) -> bool:
    """True for methods the upstream may safely see twice."""
    return method.upper() in IDEMPOTENT_METHODS


def is_transient(error: UpstreamError) -> bool:
    """A failure that says the upstream is struggling; it costs a retry-budget token.

    Independent of the method: a POST answered 503 is not retried, but it still counts. A full
    connection pool is the gateway's own limit, not the upstream's trouble: it costs nothing.
    """
    if isinstance(error, ProtocolError | PoolExhausted):
        return False
    if error.status is None:
        return True  # a transport failure
    return error.status in _READ_RETRY_STATUSES


def should_retry(error: UpstreamError, *, idempotent: bool) -> bool:
    """Whether a failed attempt may be repeated (the table in this module's docstring)."""
    if isinstance(error, ProtocolError | PoolExhausted):
        return False
    if error.status is not None:
        statuses = _READ_RETRY_STATUSES if idempotent else _CREATE_RETRY_STATUSES
        return error.status in statuses
    return idempotent or not error.request_sent
