"""The time model: where an item or a manifest stands, computed lazily from the clock.

Item i of n (0-based) in a batch created at t0, with T = item_seconds, is RECEIVED until
t0 + T*i/n + T/5, PROCESSING until t0 + T*i/n + T, then COMPLETED (or FAILED when its
audio_url contains "fail"). Each item so takes T, items finish one after another (a watcher
sees n steps), and the whole batch ends before t0 + 2T.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RECEIVED = "RECEIVED"
PROCESSING = "PROCESSING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
TERMINAL = frozenset({COMPLETED, FAILED})

# Part of item_seconds an item spends RECEIVED before it starts processing.
_QUEUED_FRACTION = 0.2


@dataclass(frozen=True)
class Schedule:
    """When one item starts and ends processing, on the sandbox clock."""

    start: float
    end: float
    fails: bool


def schedule(t0: float, index: int, count: int, item_seconds: float, audio_url: str) -> Schedule:
    """The schedule of item `index` of `count` in a batch created at `t0`."""
    offset = item_seconds * index / max(count, 1)
    return Schedule(
        start=t0 + offset + item_seconds * _QUEUED_FRACTION,
        end=t0 + offset + item_seconds,
        fails="fail" in audio_url,
    )


def item_status(plan: Schedule, now: float) -> str:
    """RECEIVED, PROCESSING, then COMPLETED or FAILED."""
    if now >= plan.end:
        return FAILED if plan.fails else COMPLETED
    if now >= plan.start:
        return PROCESSING
    return RECEIVED


@dataclass(frozen=True)
class BatchProgress:
    """A batch's state and counts; completed + failed + pending == total always."""

    status: str
    total: int
    completed: int
    failed: int
    pending: int


def batch_progress(statuses: Sequence[str]) -> BatchProgress:
    """RECEIVED before any item started, PROCESSING while any is pending, then COMPLETED
    (at least one completed) or FAILED (all failed)."""
    completed = sum(1 for s in statuses if s == COMPLETED)
    failed = sum(1 for s in statuses if s == FAILED)
    pending = len(statuses) - completed - failed
    if all(s == RECEIVED for s in statuses):
        status = RECEIVED
    elif pending:
        status = PROCESSING
    elif completed:
        status = COMPLETED
    else:
        status = FAILED
    return BatchProgress(status, len(statuses), completed, failed, pending)


def manifest_status(valid_at: float, has_errors: bool, now: float) -> str:
    """PENDING_VALIDATION until `valid_at`, then VALID or INVALID."""
    if now < valid_at:
        return "PENDING_VALIDATION"
    return "INVALID" if has_errors else "VALID"
