"""Which attempt of a call is on the wire, and how long the policy waited before sending it.

`RetryPolicy.run` sets `current` before each attempt; `send_attempt` puts it, with the route's
template and the request id, into the httpx request's `extensions`, where observers read it
(gateway.observability.tracing's request hook copies it onto the attempt's span). A context
variable, not a parameter: between the two sits each client method's own attempt closure, and these
values are for observers only, never part of the request that goes upstream.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final, NamedTuple


class AttemptInfo(NamedTuple):
    """One attempt of one upstream call (a tuple: made per attempt, it should cost little)."""

    number: int
    """1 for the first attempt, 2 for the first retry, ..."""
    waited: float
    """Seconds the policy waited before this attempt (Retry-After or backoff); 0 for the first."""


current: ContextVar[AttemptInfo | None] = ContextVar("upstream_attempt", default=None)
"""The attempt the running call is sending (set by the policy; stale between calls, which is
harmless: it is set again before every attempt, and only `send_attempt` reads it)."""

ATTEMPT: Final = "sofer.attempt"
"""httpx request extension: the AttemptInfo (absent when the call does not run under a policy)."""
URL_TEMPLATE: Final = "sofer.url_template"
"""httpx request extension: the route's path template (/v1/transcriptions/{transcription_id})."""
REQUEST_ID: Final = "sofer.request_id"
"""httpx request extension: the gateway's request id for the call (absent when it has none)."""


def extensions(url_template: str, request_id: str | None) -> dict[str, object]:
    """The httpx request extensions that describe this attempt to observers."""
    described: dict[str, object] = {URL_TEMPLATE: url_template}
    info = current.get()
    if info is not None:
        described[ATTEMPT] = info
    if request_id:
        described[REQUEST_ID] = request_id
    return described
