"""`make bench-quick` works end to end (never a speed check: the figures are only reported)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SCENARIOS = (
    "unary_instructions",
    "unary_cpu",
    "hot_batch",
    "sdk",
    "watch_burst",
    "fanout",
    "churn",
    "webhook_fanout",
)


@pytest.mark.timeout(300)
def test_quick_bench_writes_well_formed_results_for_every_scenario(tmp_path: Path) -> None:
    """`python -m bench.run --quick` exits 0, prints a table per scenario, and writes a JSON
    report with the machine's description and every scenario: either skipped with a reason
    that says how to install what it needs, or with rows whose figures are finite numbers
    (n/a only where the row's note says why) and whose targets carry a verdict. It also writes
    the markdown page with the targets table and the history section. Nothing is asserted
    about speed or about which target is met."""
    out, docs = tmp_path / "quick.json", tmp_path / "benchmarks.md"
    result = subprocess.run(  # noqa: S603 (this interpreter, our own module, no shell)
        [sys.executable, "-m", "bench.run", "--quick", "--json", str(out), "--docs", str(docs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=290,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["quick"] is True
    machine = report["machine"]
    assert machine["cores"] >= 1
    assert machine["python"].count(".") == 2
    assert set(machine["packages"]) >= {"grpcio", "httpx"}
    assert set(report["scenarios"]) == set(SCENARIOS)
    for key, scenario in report["scenarios"].items():
        assert f"== {scenario['title']} ==" in result.stdout
        if scenario["skipped"]:
            assert "install-tools" in scenario["skipped"], (key, scenario["skipped"])
            continue
        assert scenario["rows"], key
        for row in scenario["rows"]:
            value = row["value"]
            if value is None:
                assert row["note"], (key, row)
                continue
            assert isinstance(value, int | float), (key, row)
            assert math.isfinite(value), (key, row)
            if row["target"] is not None:
                assert isinstance(row["met"], bool), (key, row)
    page = docs.read_text()
    assert page.startswith("# Benchmarks")
    assert "## The targets" in page
    assert "## What each optimisation bought" in page
