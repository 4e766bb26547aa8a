"""Instructions a server process executes per call, counted by valgrind's callgrind.

CPU time per call moves with the machine's load (the gateway / naive-hop ratio went from 0.29
to 0.55 with the load alone); the instructions a process executes for the same work repeat
within a few per cent. So a server is started under callgrind with instrumentation off
(`--instr-atstart=no`: start-up runs at a fraction of callgrind's cost and is never counted),
and `callgrind_control` switches it on, zeroes the counters and reads them:

1. instrumentation on; `warmup` calls (caches filled, code paths translated);
2. counters zeroed; `calls` calls, over one connection that stays open (bench/unary_client.py);
3. counters read: every thread's instructions (Ir) since the zero;
4. counters zeroed; the server left idle for a while on the same connection, counters read:
   the idle rate (timers, grpc's pollers) times the busy window's length is subtracted.

Per call = (busy - idle rate x busy seconds) / calls. valgrind is Debian's `valgrind` package
(bench/install-tools.sh installs it).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_THREAD_TOTAL = re.compile(r"^\s*Th\s+\d+\s+([\d,]+)\s*$", re.MULTILINE)


def valgrind_binary() -> str | None:
    """The valgrind executable (it brings callgrind_control with it), or None."""
    if shutil.which("callgrind_control") is None:
        return None
    return shutil.which("valgrind")


def wrapper(out_dir: Path, name: str) -> list[str]:
    """The argv prefix that starts a program under callgrind, uninstrumented; its profile (not
    read: the counters are) goes to `out_dir`."""
    binary = valgrind_binary()
    if binary is None:
        raise RuntimeError("valgrind not found: run bench/install-tools.sh")
    return [
        binary,
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_dir / f'callgrind.{name}.out'}",
        "--quiet",
    ]


async def _control(pid: int, *args: str) -> str:
    """`callgrind_control ARGS PID`'s output; raise if it failed."""
    process = await asyncio.create_subprocess_exec(
        "callgrind_control",
        *args,
        str(pid),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"callgrind_control {' '.join(args)} {pid}: {text[-1000:]}")
    return text


async def instrument(pid: int) -> None:
    """Switch instrumentation on (it stays on)."""
    await _control(pid, "--instr=on")


async def zero(pid: int) -> None:
    """Zero the counters of every thread."""
    await _control(pid, "--zero")


def parse_totals(text: str) -> int:
    """The instructions of every thread in `callgrind_control -e` output."""
    counts = _THREAD_TOTAL.findall(text)
    if not counts:
        raise ValueError(f"no per-thread totals in callgrind_control's output:\n{text[-1000:]}")
    return sum(int(count.replace(",", "")) for count in counts)


async def instructions(pid: int) -> int:
    """Instructions executed by every thread since the last zero."""
    return parse_totals(await _control(pid, "-e"))


@dataclass(frozen=True)
class Count:
    """One side's count: busy instructions over `calls`, and the idle rate subtracted."""

    calls: int
    busy: int
    busy_seconds: float
    idle_per_second: float
    upstream_requests: int
    """Upstream requests the counted calls made (0 when not counted)."""

    @property
    def per_call(self) -> float:
        """Instructions per call, idle subtracted."""
        return (self.busy - self.idle_per_second * self.busy_seconds) / self.calls


async def count(
    pid: int,
    address: str,
    *,
    warmup: int,
    calls: int,
    concurrency: int,
    idle_seconds: float,
    tag: str,
    batch_id: str | None = None,
    upstream_requests: Callable[[], int] = lambda: 0,
) -> Count:
    """Count the instructions per GetBatchStatus of the server `pid` at `address` (started
    under `wrapper`), driven by bench/unary_client.py: distinct batch ids tagged `tag`, or
    `batch_id` for every call (a hot read). `upstream_requests` says how many requests the
    upstream has answered so far (bench/nginx.py)."""
    argv = [
        sys.executable,
        "-m",
        "bench.unary_client",
        address,
        "--warmup",
        str(warmup),
        "--calls",
        str(calls),
        "--concurrency",
        str(concurrency),
        "--tag",
        tag,
    ]
    if batch_id is not None:
        argv += ["--batch-id", batch_id]
    await instrument(pid)
    client = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert client.stdin is not None
    assert client.stdout is not None
    try:
        await _expect(client, "warmed")
        await zero(pid)
        started, requests = time.monotonic(), upstream_requests()
        client.stdin.write(b"go\n")
        await client.stdin.drain()
        await _expect(client, "calls")
        busy_seconds = time.monotonic() - started
        busy = await instructions(pid)
        requests = upstream_requests() - requests
        await zero(pid)
        idle_started = time.monotonic()
        await asyncio.sleep(idle_seconds)
        idle = await instructions(pid)
        idle_per_second = idle / (time.monotonic() - idle_started)
        client.stdin.write(b"done\n")
        await client.stdin.drain()
    finally:
        if client.returncode is None:
            client.stdin.close()
            await client.wait()
    if client.returncode != 0:
        raise RuntimeError(f"bench.unary_client exited {client.returncode}")
    return Count(calls, busy, busy_seconds, idle_per_second, requests)


async def _expect(client: asyncio.subprocess.Process, key: str) -> dict[str, object]:
    """The client's next JSON line, which must hold `key` (else it failed: raise)."""
    assert client.stdout is not None
    line = await client.stdout.readline()
    try:
        message = json.loads(line)
    except ValueError:
        message = None
    if not isinstance(message, dict) or (key not in message and message.get("event") != key):
        await client.wait()
        raise RuntimeError(f"bench.unary_client failed (exit {client.returncode}): {line!r}")
    return message
