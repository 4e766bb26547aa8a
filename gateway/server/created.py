"""ListTranscriptions' creation-time filters (`created_after`, `created_before`).

The upstream's list (GET /v1/transcriptions/) says nothing of when a transcription was made,
but it is ordered newest first, so along it creation times never increase: the transcriptions
created after T are a prefix of the list and those created before T a suffix. The gateway finds
where each bound falls by binary search over the held list's positions, reading `created_at`
only at the positions it probes (the transcription's status, upstream GET
/v1/transcriptions/{transcription_id}/status): about log2(N) + 1 reads per bound, not one per
transcription. A creation time never changes, so each one read is kept per (tenant,
transcription) in a bounded LRU (`CreatedTimes`): the next pages of a walk, and later walks with
the same bounds, probe the same positions and cost no read.

The order is an assumption about the upstream, so it is checked where it is read: every probe
is compared with the probes of the same request before and after it in the list, and a pair out
of order fails the call FAILED_PRECONDITION (LIST_NOT_ORDERED) rather than answering a
silently wrong page.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract import mapping
from gateway.contract.errors import GatewayError, Precondition, Reason
from gateway.upstream import CallOptions, UpstreamClient
from gateway.upstream.models import TranscriptionSummary

MAX_KNOWN_TIMES = 10_000
"""Creation times held at once, across tenants (the proto comment says 10,000); the least
recently used go first. Each is a few dozen bytes."""

ReadCreated = Callable[[str], Awaitable[int]]
"""A transcription's creation time (epoch nanoseconds) by its id, read upstream."""


class CreatedTimes:
    """Creation times (epoch nanoseconds) by (tenant, transcription id); a bounded LRU."""

    def __init__(self, max_times: int = MAX_KNOWN_TIMES) -> None:
        self.max_times = max_times
        self._times: OrderedDict[tuple[str, str], int] = OrderedDict()

    def get(self, tenant: str, transcription_id: str) -> int | None:
        """The kept time, or None; a hit becomes the most recently used."""
        key = (tenant, transcription_id)
        when = self._times.get(key)
        if when is not None:
            self._times.move_to_end(key)
        return when

    def put(self, tenant: str, transcription_id: str, when: int) -> None:
        """Keep `when`; the least recently used go past `max_times`."""
        key = (tenant, transcription_id)
        self._times[key] = when
        self._times.move_to_end(key)
        while len(self._times) > self.max_times:
            self._times.popitem(last=False)

    def __len__(self) -> int:
        return len(self._times)


@dataclass(frozen=True)
class Bounds:
    """The request's creation-time bounds in epoch nanoseconds, both exclusive; None: unbounded."""

    after: int | None
    before: int | None

    @classmethod
    def of(cls, request: pb.ListTranscriptionsRequest) -> Bounds | None:
        """The request's bounds, or None when it sets neither (no read at all)."""
        after = request.created_after if request.HasField("created_after") else None
        before = request.created_before if request.HasField("created_before") else None
        if after is None and before is None:
            return None
        return cls(
            None if after is None else after.ToNanoseconds(),
            None if before is None else before.ToNanoseconds(),
        )


def status_fetch(
    client: UpstreamClient, transcription_id: str
) -> Callable[[CallOptions], Awaitable[pb.GetTranscriptionStatusResponse]]:
    """The read GetTranscriptionStatus makes (the same answer, so the servicer can share it
    with GetTranscriptionStatus calls in flight under the same single-flight key)."""

    async def fetch(options: CallOptions) -> pb.GetTranscriptionStatusResponse:
        answer = await client.get_transcription_status(transcription_id, opts=options)
        return pb.GetTranscriptionStatusResponse(
            transcription_info=mapping.transcription_info(answer)
        )

    return fetch


def not_ordered(earlier: int, later: int) -> GatewayError:
    """FAILED_PRECONDITION: list position `earlier` was created before position `later`."""
    return GatewayError(
        grpc.StatusCode.FAILED_PRECONDITION,
        Reason.LIST_NOT_ORDERED,
        "the upstream's list of transcriptions is not newest first, so created_after and"
        " created_before cannot be applied; list without them and filter by the creation time"
        " GetTranscriptionStatus reports",
        preconditions=(
            Precondition(
                "LIST_ORDER",
                "GET /v1/transcriptions/",
                f"position {earlier} was created before position {later}, which follows it",
            ),
        ),
    )


async def window(
    items: Sequence[TranscriptionSummary],
    bounds: Bounds,
    tenant: str,
    known: CreatedTimes,
    read: ReadCreated,
) -> tuple[int, int]:
    """The positions [start, end) of `items` (newest first) created within `bounds`, found by
    binary search; `read` is called only for probed transcriptions whose time is not `known`.
    LIST_NOT_ORDERED when two probes contradict the order."""
    probes: dict[int, int] = {}

    async def created(index: int) -> int:
        item = items[index]
        when = known.get(tenant, item.id)
        if when is None:
            when = await read(item.id)
            known.put(tenant, item.id, when)
        for other, at in probes.items():
            if (other < index and at < when) or (other > index and at > when):
                raise not_ordered(min(other, index), max(other, index))
        probes[index] = when
        return when

    async def first(low: int, high: int, reached: Callable[[int], bool]) -> int:
        # The first position in [low, high) whose time is `reached` (false, ..., false, true,
        # ...: times never increase along the list); `high` when none is.
        while low < high:
            middle = (low + high) // 2
            if reached(await created(middle)):
                high = middle
            else:
                low = middle + 1
        return low

    after, before = bounds.after, bounds.before
    end = len(items) if after is None else await first(0, len(items), lambda t: t <= after)
    start = 0 if before is None else await first(0, end, lambda t: t < before)
    return start, end
