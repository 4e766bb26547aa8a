"""Helpers that run `sofer-gateway serve`, or any program a test needs, as a real process (no
tests here)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

WITHOUT_SANDBOX = (
    "import sys\n"
    "for name in ('sofer_sandbox', 'starlette', 'uvicorn'):\n"
    "    sys.modules[name] = None\n"
    "from gateway.main import main\n"
    "sys.exit(main())\n"
)
"""`python -c WITHOUT_SANDBOX ARGS` runs `sofer-gateway ARGS` as a production install would
(`pip install sofer-gateway`, no `sandbox` extra): the sandbox, starlette and uvicorn cannot be
imported (a None entry in sys.modules makes `import` raise ImportError, as for a missing one)."""


def clean_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without its SOFER_* variables, plus `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
    environment.update(env or {})
    return environment


async def run_program(
    *argv: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, guard: float = 60.0
) -> tuple[int, str, str]:
    """Run `argv` to its end in `clean_environment(env)`: its exit status, stdout and stderr.
    A program still running after `guard` seconds is killed, with its whole session (what it
    started in the background too), and the test fails."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=clean_environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), guard)
    except TimeoutError:
        raise AssertionError(f"{argv[0]} did not end within {guard} s") from None
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def gateway_argv(*args: str, without_sandbox: bool = False) -> list[str]:
    """`sofer-gateway ARGS` as argv, run by this interpreter (optionally WITHOUT_SANDBOX)."""
    entry = ["-c", WITHOUT_SANDBOX] if without_sandbox else ["-m", "gateway.main"]
    return [sys.executable, *entry, *args]


async def spawn_serve(
    *flags: str,
    env: dict[str, str] | None = None,
    merge_stderr: bool = False,
    without_sandbox: bool = False,
) -> asyncio.subprocess.Process:
    """`sofer-gateway serve --listen 127.0.0.1:0 FLAGS`, with no SOFER_* variable inherited
    from the test's environment beyond `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOFER_")}
    environment.update(env or {})
    return await asyncio.create_subprocess_exec(
        *gateway_argv("serve", without_sandbox=without_sandbox),
        "--listen",
        "127.0.0.1:0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
        env=environment,
    )


async def start_serve(
    *flags: str, env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, str]:
    """Start `serve` and return it with the address its "gateway serving" log line names."""
    process, event = await start_serving(*flags, env=env)
    return process, str(event["address"])


async def start_serving(
    *flags: str, env: dict[str, str] | None = None, without_sandbox: bool = False
) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    """Start `serve` and return it with its "gateway serving" log line (address, ports)."""
    process = await spawn_serve(*flags, env=env, merge_stderr=True, without_sandbox=without_sandbox)
    assert process.stdout is not None
    async with asyncio.timeout(30):
        while True:
            line = await process.stdout.readline()
            assert line, "serve exited before serving"
            event: dict[str, Any] = json.loads(line)
            if event.get("event") == "gateway serving":
                return process, event


async def run_serve(
    *flags: str, env: dict[str, str] | None = None, without_sandbox: bool = False
) -> tuple[int, str, str]:
    """Run `serve` until it exits by itself: its exit status, stdout and stderr. A gateway that
    starts serving instead is killed and the test fails."""
    process = await spawn_serve(*flags, env=env, without_sandbox=without_sandbox)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("serve did not exit: it started instead of refusing") from None
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
