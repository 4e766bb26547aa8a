"""What Sofer.ai work costs: the price table and the rounding, in one place.

Source: the Sofer.ai API's documented prices (spec/sofer-openapi.json and the product's pricing,
as docs/sandbox.md "Money" restates them): per hour of audio, a single transcription and an
express batch item $1.20 with model v1 ($1.00 with v0), a standard batch item $0.90 (no other
standard price is documented), $0.30 more with speaker labels (auto-detection, or more than one
speaker); a model not listed pays v1's price. Each transcription is charged its duration at its
price rounded up to a whole cent on its own: `ceil(seconds x cents_per_hour / 3600)`, the
sandbox's formula (sandbox/sofer_sandbox/billing.py), computed here exactly (fractions, no float
rounding), so an estimate equals the charge.

Pure: no I/O, nothing of the gateway's.
"""

from __future__ import annotations

import enum
import math
from fractions import Fraction
from typing import Final


class Kind(enum.StrEnum):
    """The kinds of work with a price of their own."""

    SINGLE = "single"
    EXPRESS = "express"
    STANDARD = "standard"


DEFAULT_MODEL: Final = "v1"
CENTS_PER_HOUR: Final[dict[tuple[Kind, str], int]] = {
    (Kind.SINGLE, "v1"): 120,
    (Kind.SINGLE, "v0"): 100,
    (Kind.EXPRESS, "v1"): 120,
    (Kind.EXPRESS, "v0"): 100,
    (Kind.STANDARD, "v1"): 90,
    (Kind.STANDARD, "v0"): 90,
}
"""US cents per hour of audio, by kind of work and model."""
SPEAKER_LABELS_CENTS_PER_HOUR: Final = 30
"""What speaker labels add per hour."""


def cents_per_hour(kind: Kind, model: str, speaker_labels: bool) -> int:
    """The hourly price of one transcription (`model` empty: the upstream default, v1)."""
    base = CENTS_PER_HOUR.get((kind, model or DEFAULT_MODEL), CENTS_PER_HOUR[(kind, DEFAULT_MODEL)])
    return base + (SPEAKER_LABELS_CENTS_PER_HOUR if speaker_labels else 0)


def cost_cents(seconds: float, rate: int) -> int:
    """`seconds` of audio at `rate` cents per hour, rounded up to a whole cent (0 for no audio)."""
    if seconds <= 0:
        return 0
    return math.ceil(Fraction(seconds) * rate / 3600)


def speaker_labels(num_speakers: int | None, auto_detect: bool) -> bool:
    """Whether a speaker setting pays for labels: auto-detection or more than one speaker."""
    return auto_detect or (num_speakers is not None and num_speakers > 1)
