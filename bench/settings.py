"""The sizes of every scenario: the full run (`make bench`) and the smoke run (`--quick`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Every knob of one run."""

    quick: bool
    repetitions: int
    """Each compared pair or trio runs interleaved (A B C A B C ...) this many times; medians."""
    # unary CPU (h2load against gateway, naive hop, bare server in front of nginx)
    unary_seconds: float
    """Each h2load run is sized (from the warm-up's rate) to last about this long."""
    unary_warmup_calls: int
    streams: int
    """Concurrent streams (callers) of the unary and hot-batch scenarios and the SDK's."""
    # unary instructions (each server under callgrind in front of nginx)
    instructions_warmup_calls: int
    instructions_calls: int
    """Calls counted per side, after the warm-up."""
    instructions_idle_seconds: float
    """How long each side's idle instructions are counted (a rate, scaled to its calls' time)."""
    # hot batch (h2load, one batch id, against the gateway in front of nginx)
    hot_seconds: float
    # the SDK comparison (sandbox)
    sdk_round_seconds: float
    sdk_batches: int
    """Distinct batches the distinct-batches workload spreads its reads over."""
    sdk_sequential_calls: int
    sdk_creates: int
    sdk_followers: int
    sdk_item_seconds: float
    # watch bursts (sandbox)
    burst_streams: int
    burst_batches: int
    burst_item_seconds: float
    burst_timeout: float
    # fan-out (sandbox): (watchers, batches) cases
    fanout_cases: tuple[tuple[int, int], ...]
    fanout_item_seconds: float
    fanout_open_concurrency: int
    # churn (nginx)
    churn_watch_cycles: int
    churn_unary_calls: int
    churn_warmup_cycles: int
    churn_warmup_calls: int
    churn_settle_seconds: float
    """Rest before each RSS snapshot, for clean-up to finish."""
    # client processes for the watch scenarios
    client_processes: int


FULL = Settings(
    quick=False,
    repetitions=3,
    unary_seconds=4.0,
    unary_warmup_calls=300,
    streams=16,
    instructions_warmup_calls=300,
    instructions_calls=1_000,
    instructions_idle_seconds=5.0,
    hot_seconds=5.0,
    sdk_round_seconds=4.0,
    sdk_batches=64,
    sdk_sequential_calls=300,
    sdk_creates=100,
    sdk_followers=100,
    sdk_item_seconds=3.0,
    burst_streams=10_000,
    burst_batches=100,
    burst_item_seconds=120.0,
    burst_timeout=60.0,
    fanout_cases=((1_000, 1), (10_000, 100)),
    fanout_item_seconds=20.0,
    fanout_open_concurrency=50,
    churn_watch_cycles=5_000,
    churn_unary_calls=50_000,
    churn_warmup_cycles=500,
    churn_warmup_calls=2_000,
    churn_settle_seconds=3.0,
    client_processes=4,
)

QUICK = Settings(
    quick=True,
    repetitions=1,
    unary_seconds=0.5,
    unary_warmup_calls=50,
    streams=16,
    instructions_warmup_calls=20,
    instructions_calls=40,
    instructions_idle_seconds=0.5,
    hot_seconds=1.0,
    sdk_round_seconds=0.5,
    sdk_batches=4,
    sdk_sequential_calls=10,
    sdk_creates=3,
    sdk_followers=3,
    sdk_item_seconds=1.0,
    burst_streams=200,
    burst_batches=4,
    burst_item_seconds=30.0,
    burst_timeout=20.0,
    fanout_cases=((40, 1), (100, 4)),
    fanout_item_seconds=1.0,
    fanout_open_concurrency=50,
    churn_watch_cycles=50,
    churn_unary_calls=500,
    churn_warmup_cycles=10,
    churn_warmup_calls=100,
    churn_settle_seconds=0.5,
    client_processes=2,
)
