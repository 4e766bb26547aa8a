"""bench/run.py works end to end (never a speed check: the numbers are only reported)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
METRICS = {
    "status_latency_p50_ms",
    "status_latency_p90_ms",
    "status_latency_p99_ms",
    "status_client_cpu_ms_per_call",
    "status_throughput_rps",
    "create_latency_p50_ms",
    "create_latency_p99_ms",
    "fanout_upstream_status_requests",
    "fanout_follow_seconds",
}


@pytest.mark.timeout(110)
def test_quick_bench_reports_every_metric_for_both_sides(tmp_path: Path) -> None:
    """`python -m bench.run --quick --json FILE` exits 0 and writes every metric with a
    positive, finite value for the SDK side, the gateway side and their ratio; it asserts
    nothing about which side is faster."""
    out = tmp_path / "bench.json"
    result = subprocess.run(  # noqa: S603 (this interpreter, our own module, no shell)
        [sys.executable, "-m", "bench.run", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    assert set(report["metrics"]) == METRICS
    for name, metric in report["metrics"].items():
        for side in ("sdk", "gateway", "ratio"):
            value = metric[side]
            assert isinstance(value, int | float), (name, side, value)
            assert math.isfinite(value), (name, side, value)
            assert value > 0, (name, side, value)
    assert "gw/SDK" in result.stdout
