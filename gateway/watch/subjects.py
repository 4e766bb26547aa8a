"""What the status hub's topics poll (gateway.watch.hub): a batch's status, a single
transcription's status, or a manifest's validation, each with how to read it, when it is final,
how its errors name it, and whether replicas share its poller over Redis.

A single transcription (WatchTranscription) is polled through GET /v1/transcriptions/{id}/status
and given a batch's shape (`batch_of_one`): a batch whose one item is the transcription,
terminal when the transcription is. So it shares every part of the batches' machinery, the
exchange between replicas included (its Redis keys prefixed, never meeting a batch's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.contract.errors import Reason
from gateway.upstream import (
    BatchFileDetail,
    BatchStatusResponse,
    CallOptions,
    TranscriptionInfo,
    UpstreamClient,
)
from gateway.upstream.enums import BatchStatus

TERMINAL_STATES = frozenset({"COMPLETED", "FAILED"})
MANIFEST_TERMINAL_STATES = frozenset({"VALID", "INVALID"})
# A transcription's states as a batch's: any of these ends it (the batch stream's terminal item
# states), COMPLETED alone with success.
_ENDED_BADLY = frozenset({"FAILED", "CANCELLED", "INSUFFICIENT_FUNDS"})
S = TypeVar("S")


@dataclass(frozen=True)
class Subject(Generic[S]):
    """What a topic polls: how to read it, when it is final, and how its errors name it."""

    kind: str
    """"batch", "manifest": keeps topics of different subjects apart, and names the poller."""
    id_key: str
    """The ErrorInfo metadata key of the watched id (`batch_id`, `batch_file_id`)."""
    not_found: Reason
    """The ErrorInfo reason when the upstream answers 404."""
    read: Callable[[UpstreamClient, str, CallOptions], Awaitable[S]]
    """One poll of the upstream."""
    final: Callable[[S], bool]
    """Whether a status will not change any more (the watches end after it)."""
    exchange_prefix: str | None = None
    """Shared by replicas over Redis (gateway.watch.exchange, which carries batch statuses)
    under keys with this prefix; None: each replica polls its own (manifests)."""


async def _batch_status(
    client: UpstreamClient, batch_id: str, opts: CallOptions
) -> BatchStatusResponse:
    return await client.get_batch_status(batch_id, opts=opts)


async def _manifest(
    client: UpstreamClient, batch_file_id: str, opts: CallOptions
) -> BatchFileDetail:
    return await client.get_batch_file(batch_file_id, opts=opts)


async def _transcription(
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


def _batch_final(status: BatchStatusResponse) -> bool:
    return str(status.status) in TERMINAL_STATES


BATCHES: Subject[BatchStatusResponse] = Subject(
    "batch", "batch_id", Reason.BATCH_NOT_FOUND, _batch_status, _batch_final, exchange_prefix=""
)
TRANSCRIPTIONS: Subject[BatchStatusResponse] = Subject(
    "transcription",
    "transcription_id",
    Reason.TRANSCRIPTION_NOT_FOUND,
    _transcription,
    _batch_final,
    exchange_prefix="transcription:",
)
MANIFESTS: Subject[BatchFileDetail] = Subject(
    "manifest",
    "batch_file_id",
    Reason.MANIFEST_NOT_FOUND,
    _manifest,
    lambda manifest: str(manifest.status) in MANIFEST_TERMINAL_STATES,
)


__all__ = [
    "BATCHES",
    "MANIFESTS",
    "MANIFEST_TERMINAL_STATES",
    "TERMINAL_STATES",
    "TRANSCRIPTIONS",
    "Subject",
    "batch_of_one",
]
