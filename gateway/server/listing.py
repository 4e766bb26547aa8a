"""ListTranscriptions: AIP-158 pages cut from the upstream's unpaged list.

The upstream answers GET /v1/transcriptions/ with every transcription of the caller, newest
first, and nothing else (no paging, no filters, no creation time). The gateway holds that list
for a short while per tenant (`ListCache`: `LIST_REUSE_SECONDS`, at most `MAX_CACHED_LISTS`
tenants, the oldest dropped first) and cuts pages from it, so a caller walking every page costs
one list GET per window, not one per page; identical reads in flight share one GET on top of
that (the servicer's `_read`).

A page token (`PageToken`) is base64url of a small versioned JSON object: the tenant's and the
filters' digests (a token is good only for the credential and the filters it was made for), and
the last transcription it returned with its position then. The next page starts after that
transcription wherever it is now, so transcriptions created between pages (they come first, in
a newest-first list) neither repeat nor hide an item; when it is gone, the page starts at its
former position.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import validation
from gateway.contract.errors import GatewayError, invalid_argument
from gateway.contract.listing import transcription_summary
from gateway.contract.mapping import transcription_state
from gateway.server.created import CreatedTimes
from gateway.upstream.models import TranscriptionList, TranscriptionSummary

LIST_REUSE_SECONDS = 10.0
"""How long one upstream list answers a tenant's pages (the proto comment says 10 seconds)."""
MAX_CACHED_LISTS = 64
"""Tenants whose list is held at once: memory stays under this many upstream answers, each
bounded by --upstream-max-response-bytes."""
TOKEN_VERSION = 1


class ListCache:
    """Each tenant's last list, for `LIST_REUSE_SECONDS`; the least recently stored go first.
    Beside them, the creation times read for the creation-time filters (`created`), which
    outlive the lists: a creation time never changes."""

    def __init__(
        self,
        *,
        seconds: float = LIST_REUSE_SECONDS,
        max_lists: int = MAX_CACHED_LISTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_lists = max_lists
        self._clock = clock
        self._lists: OrderedDict[str, tuple[float, TranscriptionList]] = OrderedDict()
        self.created = CreatedTimes()

    def get(self, tenant: str) -> TranscriptionList | None:
        """The tenant's list if it is younger than `seconds`, else None."""
        kept = self._lists.get(tenant)
        if kept is None:
            return None
        if kept[0] <= self._clock():
            del self._lists[tenant]
            return None
        return kept[1]

    def put(self, tenant: str, listed: TranscriptionList) -> None:
        """Keep `listed` as the tenant's list from now on."""
        self._lists.pop(tenant, None)
        self._lists[tenant] = (self._clock() + self.seconds, listed)
        while len(self._lists) > self.max_lists:
            self._lists.popitem(last=False)


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts, and for whom and which filters."""

    tenant: str
    filters: str
    last_id: str
    position: int

    def encode(self) -> str:
        """The opaque token: base64url (unpadded) of a compact versioned JSON object."""
        data = {
            "v": TOKEN_VERSION,
            "t": self.tenant,
            "f": self.filters,
            "id": self.last_id,
            "p": self.position,
        }
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> PageToken | None:
        """The token `encode` made, or None for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError):
            return None
        if not isinstance(data, dict) or data.get("v") != TOKEN_VERSION:
            return None
        tenant, filters, last_id, position = (data.get(k) for k in ("t", "f", "id", "p"))
        if not (isinstance(tenant, str) and isinstance(filters, str) and isinstance(last_id, str)):
            return None
        if type(position) is not int or position < 0:
            return None
        return cls(tenant, filters, last_id, position)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def tenant_digest(tenant: str) -> str:
    """The tenant as a page token names it (a digest: a token says nothing of its credential)."""
    return _digest("ListTranscriptions tenant", tenant)


def _time(request: pb.ListTranscriptionsRequest, name: str) -> str:
    return str(getattr(request, name).ToNanoseconds()) if request.HasField(name) else "-"


def filters_digest(request: pb.ListTranscriptionsRequest) -> str:
    """The filters as a page token names them: the same for the same set of states, text and
    creation-time bounds."""
    states = ",".join(str(s) for s in sorted(set(request.states)))
    return _digest(
        "ListTranscriptions filters",
        states,
        request.title_contains.casefold(),
        _time(request, "created_after"),
        _time(request, "created_before"),
    )


def bad_token(rule: str) -> GatewayError:
    """INVALID_ARGUMENT on `page_token`, saying which rule it broke."""
    violation = validation.Violation("page_token", validation.Reason.INVALID_PAGE_TOKEN, rule)
    return invalid_argument([violation])


def start_token(request: pb.ListTranscriptionsRequest, tenant: str) -> PageToken | None:
    """The request's page token, checked (before any upstream call): None for the first page;
    INVALID_ARGUMENT for a malformed one, another credential's, or other filters'."""
    if not request.page_token:
        return None
    token = PageToken.decode(request.page_token)
    if token is None:
        raise bad_token("is not a page token of ListTranscriptions: pass next_page_token as is")
    if token.tenant != tenant_digest(tenant):
        raise bad_token("was made for another credential")
    if token.filters != filters_digest(request):
        raise bad_token(
            "was made for other filters (states, title_contains, created_after, created_before):"
            " send the same filters with every page, or start again without a token"
        )
    return token


def _resume_at(items: Sequence[TranscriptionSummary], token: PageToken) -> int:
    """The index after the token's last transcription, where it is now (the list grows at its
    head); the token's own position when it is gone."""
    position = token.position
    if position < len(items) and items[position].id == token.last_id:
        return position + 1
    for index, item in enumerate(items):
        if item.id == token.last_id:
            return index + 1
    return min(position, len(items))


def page(
    listed: TranscriptionList,
    request: pb.ListTranscriptionsRequest,
    tenant: str,
    token: PageToken | None,
    window: tuple[int, int] | None = None,
) -> pb.ListTranscriptionsResponse:
    """The page of `listed` that `request` asks for, and the token of the next one (empty when
    no matching transcription follows); only positions in `window` [start, end) when given (the
    creation-time filters: gateway.server.created)."""
    items = listed.items
    size = request.page_size or validation.DEFAULT_LIST_PAGE_SIZE
    states = set(request.states)
    text = request.title_contains.casefold()

    def matches(item: TranscriptionSummary) -> bool:
        if states and transcription_state(item.status) not in states:
            return False
        return not text or text in item.title.casefold()

    response = pb.ListTranscriptionsResponse()
    low, high = (0, len(items)) if window is None else window
    start = max(low, 0 if token is None else _resume_at(items, token))
    last = -1
    for index in range(start, high):
        if not matches(items[index]):
            continue
        if len(response.transcriptions) == size:  # one more matches: there is a next page
            previous = items[last]
            response.next_page_token = PageToken(
                tenant_digest(tenant), filters_digest(request), previous.id, last
            ).encode()
            break
        response.transcriptions.append(transcription_summary(items[index]))
        last = index
    return response
