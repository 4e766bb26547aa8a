"""What a scenario reports: rows of figures, each with its target beside it.

Targets are shown, never asserted: a run on a noisy machine reports what it measured, and the
row says whether that met the issue's target.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """A bound on a figure: `value <= bound` (at most) or `value >= bound` (at least)."""

    bound: float
    at_most: bool

    def met(self, value: float | None) -> bool | None:
        """Whether `value` meets it (None: nothing measured)."""
        if value is None:
            return None
        return value <= self.bound if self.at_most else value >= self.bound

    def text(self, unit: str = "") -> str:
        """ "<= 600 µs", ">= 2"."""
        suffix = f" {unit}" if unit else ""
        return f"{'<=' if self.at_most else '>='} {self.bound:g}{suffix}"


def at_most(bound: float) -> Target:
    """The figure must not exceed `bound`."""
    return Target(bound, at_most=True)


def at_least(bound: float) -> Target:
    """The figure must reach `bound`."""
    return Target(bound, at_most=False)


@dataclass(frozen=True)
class Row:
    """One figure of a scenario."""

    metric: str
    unit: str
    value: float | None
    target: str | None = None
    met: bool | None = None
    note: str = ""


def row(
    metric: str, unit: str, value: float | None, target: Target | None = None, note: str = ""
) -> Row:
    """A row, with its target's verdict when it has one."""
    if target is None:
        return Row(metric, unit, value, note=note)
    return Row(metric, unit, value, target.text(unit), target.met(value), note)


@dataclass
class ScenarioResult:
    """A scenario's figures, the settings it ran with, and raw details for the JSON."""

    key: str
    title: str
    what: str
    rows: list[Row] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON form (bench/results/latest.json)."""
        data = asdict(self)
        data["rows"] = [asdict(r) for r in self.rows]
        return data


def median(values: Sequence[float]) -> float:
    """The median (the middle repetition of an odd count)."""
    return float(statistics.median(values))


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples` (fraction in (0, 1])."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return float(ordered[rank - 1])
