"""What the status hub's topics poll (gateway.watch.hub): a batch's status or a manifest's
validation, each with how to read it, when it is final and how its errors name it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.contract.errors import Reason
from gateway.upstream import BatchFileDetail, BatchStatusResponse, CallOptions, UpstreamClient

TERMINAL_STATES = frozenset({"COMPLETED", "FAILED"})
MANIFEST_TERMINAL_STATES = frozenset({"VALID", "INVALID"})
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


async def _batch_status(
    client: UpstreamClient, batch_id: str, opts: CallOptions
) -> BatchStatusResponse:
    return await client.get_batch_status(batch_id, opts=opts)


async def _manifest(
    client: UpstreamClient, batch_file_id: str, opts: CallOptions
) -> BatchFileDetail:
    return await client.get_batch_file(batch_file_id, opts=opts)


BATCHES: Subject[BatchStatusResponse] = Subject(
    "batch",
    "batch_id",
    Reason.BATCH_NOT_FOUND,
    _batch_status,
    lambda status: str(status.status) in TERMINAL_STATES,
)
MANIFESTS: Subject[BatchFileDetail] = Subject(
    "manifest",
    "batch_file_id",
    Reason.MANIFEST_NOT_FOUND,
    _manifest,
    lambda manifest: str(manifest.status) in MANIFEST_TERMINAL_STATES,
)


__all__ = ["BATCHES", "MANIFESTS", "MANIFEST_TERMINAL_STATES", "TERMINAL_STATES", "Subject"]
