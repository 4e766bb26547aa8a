"""The run's outputs: bench/results/latest.json, the console tables, docs/benchmarks.md.

docs/benchmarks.md is written whole by every full run. Its last section, "What each
optimisation bought", is kept across runs in bench/results/history.json: each full run adds
(or replaces) one row under its `--label`, so a change's row is measured before and after.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.model import Row, ScenarioResult

# The headline figures of the history table: (scenario key, row metric, column title).
HEADLINES = (
    ("unary_instructions", "gateway distinct read", "M instr/read (≤ 1.83)"),
    ("unary_instructions", "gateway ÷ contract floor", "instr ÷ floor (≤ 1.05)"),
    ("unary_instructions", "hot read ÷ bare server", "hot instr ÷ bare (≤ 1.6)"),
    ("unary_cpu", "gateway CPU per call", "CPU µs/call"),
    ("unary_cpu", "CPU gateway ÷ naive hop", "CPU ÷ naive"),
    ("hot_batch", "upstream requests per RPC", "hot upstream/RPC (≤ 0.1)"),
    ("sdk", "distinct: throughput gateway ÷ SDK", "distinct x SDK (≥ 2)"),
    ("sdk", "distinct: p99 gateway ÷ SDK", "p99 ÷SDK (≤ 0.33)"),
    ("sdk", "hot: throughput gateway ÷ SDK", "hot x SDK (≥ 5)"),
    ("watch_burst", "streams refused (ended before a first message)", "burst refused (0)"),
    ("watch_burst", "streams with a first message within 5 s", "burst first msg ≤ 5 s % (100)"),
    ("watch_burst", "gateway peak RSS", "burst RSS MB (< 500)"),
    ("fanout", "1000 watchers over 1 batch: delivery p99", "fan-out 1k p99 ms (≤ 50)"),
    ("fanout", "10000 watchers over 100 batches: delivery p99", "fan-out 10k p99 ms (≤ 100)"),
    ("churn", "RSS growth", "churn RSS % (≤ 10)"),
)


def fmt(value: float | None) -> str:
    """A figure with sensible precision; "n/a" for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def verdict(r: Row) -> str:
    """ "yes", "**no**", or "" (no target)."""
    if r.met is None:
        return "" if r.target is None else "n/a"
    return "yes" if r.met else "**no**"


def console(results: Sequence[ScenarioResult]) -> str:
    """Every scenario as a fixed-width table, for stdout."""
    lines: list[str] = []
    for result in results:
        lines.append(f"== {result.title} ==")
        if result.skipped:
            lines.append(f"   skipped: {result.skipped}")
            lines.append("")
            continue
        for r in result.rows:
            target = f"  target {r.target}: {verdict(r).strip('*')}" if r.target else ""
            unit = f" {r.unit}" if r.unit else ""
            lines.append(f"   {r.metric:<62} {fmt(r.value):>10}{unit}{target}")
        lines.append("")
    return "\n".join(lines)


def write_json(path: Path, results: Sequence[ScenarioResult], run: dict[str, Any]) -> None:
    """latest.json: the run (settings, machine) and every scenario's figures."""
    data = dict(run)
    data["scenarios"] = {r.key: r.as_json() for r in results}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def headline_figures(results: Sequence[ScenarioResult]) -> dict[str, float | None]:
    """The history table's figures from this run (None where a scenario did not run)."""
    by_key = {r.key: r for r in results}
    figures: dict[str, float | None] = {}
    for key, metric, column in HEADLINES:
        scenario = by_key.get(key)
        found = [r.value for r in scenario.rows if r.metric == metric] if scenario else []
        figures[column] = found[0] if found else None
    return figures


def update_history(
    path: Path, label: str, run: dict[str, Any], results: Sequence[ScenarioResult]
) -> list[dict[str, Any]]:
    """Add or replace the row `label` in history.json; the whole history."""
    history: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    entry = {
        "label": label,
        "date": run["date"],
        "commit": run["machine"].get("commit"),
        "load_average": run["machine"].get("load_average"),
        "figures": headline_figures(results),
    }
    history = [h for h in history if h["label"] != label] + [entry]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history, indent=2, ensure_ascii=False) + "\n")
    return history


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


HAND_WRITTEN = (
    "<!-- Hand-written from here on: bench/run.py keeps it when it rewrites this page. -->"
)
"""The line after which docs/benchmarks.md holds notes written by hand (what each lever bought,
measured one at a time), which a run keeps as they are."""


def kept_notes(page: str) -> str:
    """The hand-written part of an existing page (from the HAND_WRITTEN line on), or ""."""
    at = page.find(HAND_WRITTEN)
    return "" if at < 0 else "\n" + page[at:]


def markdown(
    results: Sequence[ScenarioResult], run: dict[str, Any], history: Sequence[dict[str, Any]]
) -> str:
    """docs/benchmarks.md."""
    machine = run["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    load = " / ".join(f"{x:.2f}" for x in machine["load_average"])
    load_end = " / ".join(f"{x:.2f}" for x in run.get("load_average_end", []))
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`; how it measures:",
        "[bench/README.md](../bench/README.md)). Do not edit by hand above the hand-written",
        "notes at the end: the next run rewrites the rest of this page (and keeps those notes).",
        "Figures are medians of interleaved repetitions; targets are the Performance",
        "issue's, shown beside the figures and never asserted in tests.",
        "",
        f"Run of {run['date']} (commit {machine.get('commit') or '?'}, {run['seconds']:.0f} s): "
        f"{machine['cores']} cores, {machine['platform']}, Python {machine['python']}, {packages}; "
        f"{machine.get('nginx') or 'no nginx'}; {machine.get('h2load') or 'no h2load'}; "
        f"{machine.get('valgrind') or 'no valgrind'}. "
        f"Load average (1/5/15 min) {load} at the start, {load_end} at the end.",
    ]
    if run.get("note"):
        out += ["", f"**Note.** {run['note']}"]
    out += ["", "## The targets", ""]
    target_rows = []
    for result in results:
        for r in result.rows:
            if r.target is not None:
                target_rows.append(
                    [
                        result.title,
                        r.metric,
                        f"{fmt(r.value)} {r.unit}".strip(),
                        r.target,
                        verdict(r),
                    ]
                )
    out += _table(["scenario", "figure", "measured", "target", "met"], target_rows)
    for result in results:
        out += ["", f"## {result.title}", ""]
        if result.skipped:
            out.append(f"Skipped: {result.skipped}")
            continue
        out += [result.what, ""]
        out += _table(
            ["figure", "measured", "target", "met", "note"],
            [
                [r.metric, f"{fmt(r.value)} {r.unit}".strip(), r.target or "", verdict(r), r.note]
                for r in result.rows
            ],
        )
    out += [
        "",
        "## What each optimisation bought",
        "",
        'One row per change, measured by a full `make bench LABEL="..."` after it (the row',
        'before it is the "before"); kept in `bench/results/history.json`. The load average',
        "is the 1-minute figure at the run's start: rows measured on a busier machine read worse.",
        "",
    ]
    columns = [column for _, _, column in HEADLINES]
    out += _table(
        ["change", "date", "load", *columns],
        [
            [
                h["label"],
                h["date"][:10],
                fmt((h.get("load_average") or [None])[0]),
                *(fmt(h["figures"].get(c)) for c in columns),
            ]
            for h in history
        ],
    )
    return "\n".join(out) + "\n"


def now() -> str:
    """This moment, ISO 8601 UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
