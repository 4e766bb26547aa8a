"""What a status hub's topic polls (gateway.watch.hub): a batch's status, or one
transcription's status seen as a batch of one.

The hub, its exchange between replicas (Redis) and the fan-out know one shape, the upstream's
BatchStatusResponse. A single transcription (WatchTranscription) is polled through
GET /v1/transcriptions/{id}/status and given the same shape (`batch_of_one`): a batch whose one
item is the transcription, terminal when the transcription is. So it shares every part of the
machinery: one poller per (credential, id) for any number of watchers, the cadence, 429
handling, --max-watches, and the lease shared by replicas (its Redis keys prefixed by the
source's `prefix`, never meeting a batch's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.contract.errors import Reason
from gateway.upstream import BatchStatusResponse, CallOptions, TranscriptionInfo, UpstreamClient
from gateway.upstream.enums import BatchStatus

Read = Callable[[UpstreamClient, str, CallOptions], Awaitable[BatchStatusResponse]]

# A transcription's states as a batch's: any of these ends it (the batch stream's terminal
# item states), COMPLETED alone with success.
_ENDED_BADLY = frozenset({"FAILED", "CANCELLED", "INSUFFICIENT_FUNDS"})


@dataclass(frozen=True)
class Source:
    """One kind of thing a topic polls."""

    prefix: str
    """Put before the id in the topic's key (and its Redis keys): "" for batches."""
    read: Read
    id_key: str
    """How errors' ErrorInfo names the id polled."""
    not_found: Reason
    """The ErrorInfo reason of a 404."""


async def _read_batch(
    client: UpstreamClient, batch_id: str, opts: CallOptions
) -> BatchStatusResponse:
    return await client.get_batch_status(batch_id, opts=opts)


async def _read_transcription(
    client: UpstreamClient, transcription_id: str, opts: CallOptions
) -> BatchStatusResponse:
    return batch_of_one(await client.get_transcription_status(transcription_id, opts=opts))


def batch_of_one(info: TranscriptionInfo) -> BatchStatusResponse:
    """A transcription's status as a batch holding only it (its id the batch's id)."""
    state = str(info.status)
    completed = state == "COMPLETED"
    failed = state in _ENDED_BADLY
    return BatchStatusResponse(
        batch_id=info.id,
        status=(
            BatchStatus.COMPLETED
            if completed
            else BatchStatus.FAILED
            if failed
            else BatchStatus.PROCESSING
        ),
        total_count=1,
        completed_count=int(completed),
        failed_count=int(failed),
        pending_count=int(not (completed or failed)),
        transcriptions=(info,),
    )


BATCHES = Source("", _read_batch, "batch_id", Reason.BATCH_NOT_FOUND)
TRANSCRIPTIONS = Source(
    "transcription:", _read_transcription, "transcription_id", Reason.TRANSCRIPTION_NOT_FOUND
)
