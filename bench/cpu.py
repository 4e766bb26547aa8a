"""CPU, memory and thread accounting of a server process, read from /proc (Linux).

CPU per call is the process's utime+stime (every thread; its reaped children's too, and those
of its live descendants) over a measured window, divided by the calls in that window. The
clock tick is 10 ms on most kernels, so a window needs a few seconds of work to be precise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # a thread that just ended
    return children


def cpu_seconds(pid: int) -> float:
    """utime+stime+cutime+cstime of `pid` and of its live descendants, in seconds."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = _stat_fields(current)
        except OSError:
            continue  # it ended between the listing and the read
        # Fields 14-17 of stat (utime, stime, cutime, cstime); index 0 here is field 3.
        total += sum(int(value) for value in fields[11:15])
        pending += _children(current)
    return total / CLOCK_TICKS


@dataclass(frozen=True)
class Memory:
    """A process's resident set now and at its peak, and its thread count."""

    rss_mb: float
    peak_rss_mb: float
    threads: int


def memory(pid: int) -> Memory:
    """VmRSS, VmHWM (the peak RSS since the process started) and Threads of `pid`."""
    values: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        values[key] = value.strip()

    def mb(key: str) -> float:
        return int(values[key].split()[0]) / 1024  # "123456 kB"

    return Memory(rss_mb=mb("VmRSS"), peak_rss_mb=mb("VmHWM"), threads=int(values["Threads"]))


class CpuWindow:
    """CPU seconds a process spends between `start()` and `stop()`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._started = 0.0
        self.seconds = 0.0

    def start(self) -> None:
        """Open the window."""
        self._started = cpu_seconds(self.pid)

    def stop(self) -> float:
        """Close the window; the CPU seconds spent in it."""
        self.seconds = cpu_seconds(self.pid) - self._started
        return self.seconds
