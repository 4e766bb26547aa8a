"""The time model: where an item or a manifest stands, computed lazily from the clock.

Item i of n (0-based) in a batch created at t0, with T = item_seconds, is RECEIVED until
t0 + T*i/n + T/5, PROCESSING until t0 + T*i/n + T, then COMPLETED (or FAILED when its audio
fails). Each item so takes T, items finish one after another (a watcher sees n steps), and the
whole batch ends before t0 + 2T. A single transcription is an item 0 of 1. An item created
without the funds to pay for it is INSUFFICIENT_FUNDS from the start and stays so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RECEIVED = "RECEIVED"
PROCESSING = "PROCESSING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
TERMINAL = frozenset({COMPLETED, FAILED, INSUFFICIENT_FUNDS})

# Part of item_seconds an item spends RECEIVED before it starts processing.
_QUEUED_FRACTION = 0.2


@dataclass(frozen=True)
class Schedule:
    """When one item starts and ends processing, on the sandbox clock, and how it ends."""

    start: float
    end: float
    fails: bool
    unfunded: bool = False


def schedule(
    t0: float, index: int, count: int, item_seconds: float, *, fails: bool, unfunded: bool
) -> Schedule:
    """The schedule of item `index` of `count` in a batch (or a single: 0 of 1) made at `t0`."""
    offset = item_seconds * index / max(count, 1)
    return Schedule(
        start=t0 + offset + item_seconds * _QUEUED_FRACTION,
        end=t0 + offset + item_seconds,
        fails=fails,
        unfunded=unfunded,
    )


def item_status(plan: Schedule, now: float) -> str:
    """RECEIVED, PROCESSING, then COMPLETED or FAILED; INSUFFICIENT_FUNDS throughout when the
    item was created without funds."""
    if plan.unfunded:
        return INSUFFICIENT_FUNDS
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
    (at least one completed) or FAILED (none did). An INSUFFICIENT_FUNDS item counts as failed
    (BatchStatus has no such state, and the item never runs)."""
    completed = sum(1 for s in statuses if s == COMPLETED)
    failed = sum(1 for s in statuses if s in (FAILED, INSUFFICIENT_FUNDS))
    pending = len(statuses) - completed - failed
    funded = [s for s in statuses if s != INSUFFICIENT_FUNDS]
    if funded and all(s == RECEIVED for s in funded):
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
