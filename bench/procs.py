"""Child processes of the benchmark: started with their output in a log file, stopped cleanly.

A file rather than a pipe: nothing in the benchmark has to drain it while measuring. A child
that serves says where, in a JSON log line (`{"event": "...", "address": ...}`); `start` waits
for that line, so no port is guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

STARTUP_TIMEOUT = 60.0


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without SOFER_* (so no caller setting leaks into a child),
    plus `extra`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
    environment.update(extra or {})
    return environment


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for nginx, which cannot listen on port 0 and say)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Child:
    """One child process and its log file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    @classmethod
    async def spawn(
        cls,
        name: str,
        argv: Sequence[str],
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        """Start `argv` (in `cwd`) with stdout and stderr going to `log_dir/NAME.log`."""
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=dict(env) if env is not None else clean_environment(),
                cwd=cwd,
            )
        return cls(name, process, log_path)

    @classmethod
    async def start_python(
        cls,
        name: str,
        module_args: Sequence[str],
        log_dir: Path,
        event: str,
        field: str = "address",
        env: Mapping[str, str] | None = None,
        *,
        wrapper: Sequence[str] = (),
        python: str = sys.executable,
        cwd: Path | None = None,
        patience: float = STARTUP_TIMEOUT,
    ) -> tuple[Child, str]:
        """`python -m MODULE_ARGS...` (after `wrapper`, e.g. valgrind's argv, in `cwd`); return
        it with `field` of its first JSON log line whose event is `event` (the address or URL it
        serves on), logged within `patience` seconds."""
        argv = [*wrapper, python, "-m", *module_args]
        child = await cls.spawn(name, argv, log_dir, env, cwd)
        try:
            value = await child.wait_for_event(event, field, patience)
        except BaseException:
            await child.stop()
            raise
        return child, value

    async def wait_for_event(
        self, event: str, field: str, patience: float = STARTUP_TIMEOUT
    ) -> str:
        """`field` of the first JSON line of the log whose `event` is `event`."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get("event") == event:
                        return str(record[field])
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start ({event!r} not logged):\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        """The last lines of the child's log, for error messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self, patience: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `patience` seconds."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), patience)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()


async def wait_port(host: str, port: int, child: Child) -> None:
    """Until `host:port` accepts a TCP connection (or `child` exits: then raise)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if child.process.returncode is not None:
            break
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise RuntimeError(f"{child.name} is not listening on {host}:{port}:\n{child.tail()}")
