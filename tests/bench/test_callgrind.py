"""Instruction counting (bench/callgrind.py): what is read from callgrind_control, and the
idle server's share taken out."""

from __future__ import annotations

import pytest

from bench.callgrind import Count, parse_totals

# callgrind_control -e PID, as valgrind 3.19 prints it for a server with grpc's threads.
OUTPUT = "\n".join(
    [
        "PID 8725: .venv/bin/python -m bench.bare_server",
        "sending command status internal to pid 8725",
        "",
        "  Totals:         Ir ",
        "   Th 1  399,698,161 ",
        "   Th 2       46,824 ",
        "   Th 3   28,867,677 ",
        "   Th 9    4,202,838 ",
    ]
)


def test_every_threads_instructions_are_summed() -> None:
    """The count is the sum of every thread's instructions, thousands separators and all."""
    assert parse_totals(OUTPUT) == 399_698_161 + 46_824 + 28_867_677 + 4_202_838


def test_output_without_totals_is_an_error() -> None:
    """A server whose instrumentation is off (or a failed control command) has no totals: an
    error that shows the output, never a count of zero."""
    text = "PID 1: python\n  No information available as instrumentation is switched off.\n"
    with pytest.raises(ValueError, match="switched off"):
        parse_totals(text)


def test_idle_instructions_over_the_busy_time_are_subtracted() -> None:
    """Per call = (busy instructions - the idle rate x the busy window's seconds) / calls."""
    count = Count(
        calls=1_000, busy=1_900_000_000, busy_seconds=80.0, idle_per_second=1_250_000.0,
        upstream_requests=1_000,
    )  # fmt: skip
    assert count.per_call == pytest.approx(1_800_000)
