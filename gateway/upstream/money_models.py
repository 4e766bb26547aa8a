"""Parsed answers of the upstream's money operations (the balance and audio durations), one
frozen struct per spec schema, like gateway.upstream.models."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.upstream.decode import Int64
from gateway.upstream.models import Model

Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=1e9)]
"""A duration: never negative, and bounded so that arithmetic on it stays exact and small."""


class Balance(Model, frozen=True):
    """An account's balance, every field in US cents (spec: Balance)."""

    total_balance: Int64
    available_balance: Int64
    pending_balance: Int64
    all_time_deposits: Int64
    all_time_spend: Int64


class DurationResponse(Model, frozen=True):
    """An audio's duration (spec: DurationResponse); 0 when it cannot be determined."""

    duration_seconds: Seconds
