"""Prices, what each transcription costs, and a tenant's balance (all in cents).

Prices per hour of audio, as the spec documents them: a single transcription and an express
batch item $1.20 with model v1 ($1.00 with v0), a standard batch item $0.90 (the spec gives no
other standard price), plus $0.30 with speaker detection or more than one speaker. A
transcription costs its audio's duration at its price, rounded up to a whole cent. Its cost is
reserved when it is created (pending) and spent when it completes; an audio that fails has no
duration and so costs nothing. Work created when the available balance cannot pay for it is
INSUFFICIENT_FUNDS instead, and costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sofer_sandbox.timeline import COMPLETED, PROCESSING, RECEIVED, Schedule, item_status

SINGLE = "single"
EXPRESS = "express"
STANDARD = "standard"
# Cents per hour of audio, by kind of work and model; a model not listed pays v1's price.
_CENTS_PER_HOUR = {
    (SINGLE, "v1"): 120,
    (SINGLE, "v0"): 100,
    (EXPRESS, "v1"): 120,
    (EXPRESS, "v0"): 100,
    (STANDARD, "v1"): 90,
    (STANDARD, "v0"): 90,
}
SPEAKERS_CENTS_PER_HOUR = 30


def cents_per_hour(kind: str, model: str, speaker_labels: bool) -> int:
    """The hourly price of one transcription: `kind` is SINGLE, EXPRESS or STANDARD;
    `speaker_labels` is auto-detection or more than one speaker."""
    base = _CENTS_PER_HOUR.get((kind, model), _CENTS_PER_HOUR[(kind, "v1")])
    return base + (SPEAKERS_CENTS_PER_HOUR if speaker_labels else 0)


def cost_cents(seconds: int, rate: int) -> int:
    """`seconds` of audio at `rate` cents per hour, rounded up to a whole cent."""
    return math.ceil(seconds * rate / 3600)


@dataclass
class Funds:
    """The money a creation may still reserve: the available balance, None without an account."""

    available: int | None

    def reserve(self, cents: int) -> bool:
        """Take `cents` when they are there (free work always is); False: insufficient funds."""
        if cents == 0:
            return True
        if self.available is None or self.available < cents:
            return False
        self.available -= cents
        return True


def balance(deposits: int, charges: Iterable[tuple[int, Schedule]], now: float) -> dict[str, Any]:
    """The spec's Balance from the deposits and each transcription's (cost, schedule): spent is
    completed work, pending is work not finished yet."""
    spent = pending = 0
    for cents, plan in charges:
        status = item_status(plan, now)
        if status == COMPLETED:
            spent += cents
        elif status in (RECEIVED, PROCESSING):
            pending += cents
    total = deposits - spent
    return {
        "total_balance": total,
        "available_balance": total - pending,
        "pending_balance": pending,
        "all_time_deposits": deposits,
        "all_time_spend": spent,
    }
