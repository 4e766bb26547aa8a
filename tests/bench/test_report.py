"""docs/benchmarks.md: a benchmark run rewrites its tables and keeps the notes written by hand."""

from __future__ import annotations

from bench import report
from tests.helpers import REPO


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
