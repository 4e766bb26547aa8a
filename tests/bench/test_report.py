"""docs/benchmarks.md: a benchmark run rewrites its tables and keeps the notes written by hand."""

from __future__ import annotations

from bench import report
from bench.model import ScenarioResult, at_most, row
from tests.helpers import REPO

MACHINE = {
    "cores": 2,
    "load_average": [1.0, 1.0, 1.0],
    "platform": "Linux",
    "python": "3.11.7",
    "packages": {"grpcio": "1.85.3"},
    "commit": "abc1234",
}


def test_hand_written_notes_survive_a_rewrite() -> None:
    """Everything from the hand-written marker on (what each lever bought, measured one at a
    time) is kept as it is when a run rewrites the page; a page without the marker keeps
    nothing."""
    notes = f"{report.HAND_WRITTEN}\n\n### Levers\n\n| change | before | after |\n"
    page = f"# Benchmarks\n\nold tables\n\n{notes}"
    assert report.kept_notes(page) == "\n" + notes
    assert report.kept_notes("# Benchmarks\n\nold tables\n") == ""


def test_the_benchmarks_page_carries_the_marker() -> None:
    """The committed page has the marker, so its hand-written notes outlive the next run."""
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert report.kept_notes(page).count("Unary CPU levers") >= 2


def test_the_instruction_ratios_are_the_unary_headline() -> None:
    """The unary instruction figures (distinct read, ÷ contract floor, hot ÷ bare) appear with
    their targets in the targets table and in the history's columns; the CPU-time figures stay,
    without targets, as information."""
    instructions = ScenarioResult("unary_instructions", "Unary instructions", "how")
    instructions.rows += [
        row("gateway distinct read", "M", 1.17, at_most(1.828)),
        row("gateway ÷ contract floor", "", 1.09, at_most(1.05)),
        row("hot read ÷ bare server", "", 2.4, at_most(1.6)),
    ]
    cpu_time = ScenarioResult("unary_cpu", "Unary CPU", "how")
    cpu_time.rows += [
        row("gateway CPU per call", "µs", 700.0),
        row("CPU gateway ÷ naive hop", "", 0.5),
    ]
    results = [instructions, cpu_time]
    figures = report.headline_figures(results)
    assert figures["M instr/read (≤ 1.83)"] == 1.17
    assert figures["instr ÷ floor (≤ 1.05)"] == 1.09
    assert figures["hot instr ÷ bare (≤ 1.6)"] == 2.4
    assert figures["CPU µs/call"] == 700.0
    assert figures["CPU ÷ naive"] == 0.5
    run = {"date": "2026-12-07T00:00:00+00:00", "seconds": 1.0, "machine": MACHINE}
    history = [{"label": "after", "date": run["date"], "load_average": [1.0], "figures": figures}]
    page = report.markdown(results, run, history)
    assert "| Unary instructions | gateway ÷ contract floor | 1.09 | <= 1.05 | **no** |" in page
    assert "| Unary instructions | gateway distinct read | 1.17 M | <= 1.828 M | yes |" in page
    assert "| gateway CPU per call | 700 µs |  |  |  |" in page
    assert "| Unary CPU |" not in page.split("## The targets")[1].split("##")[0]
    assert "instr ÷ floor (≤ 1.05) | hot instr ÷ bare (≤ 1.6) | CPU µs/call | CPU ÷ naive" in page
