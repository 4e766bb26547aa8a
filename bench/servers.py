"""The servers a scenario measures, each its own process: sandbox, gateway, naive hop, bare.

Each is an async context manager yielding the running child and where it serves; it stops the
child (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.naive_hop import READY_EVENT
from bench.procs import STARTUP_TIMEOUT, Child, clean_environment

EXTRA_FLAGS_ENV = "BENCH_GATEWAY_FLAGS"
"""Extra `serve` flags for every gateway a scenario starts (e.g. "--metrics-listen
127.0.0.1:0"), to measure a setting's cost with the scenarios as they are."""
API_KEY = "bench-upstream-key"
"""The configured key of the servers in front of nginx (which accepts any key)."""
# Any non-empty bearer token is a tenant of the sandbox; nginx ignores it.
TOKEN = "bench-tenant-token"  # noqa: S105 (a sandbox tenant's name, not a secret)
METADATA = (("authorization", f"Bearer {TOKEN}"),)


@dataclass(frozen=True)
class Running:
    """A server process and its address (host:port) or URL."""

    child: Child
    address: str

    @property
    def pid(self) -> int:
        """The server's process id (for CPU and memory accounting)."""
        return self.child.pid


@dataclass(frozen=True)
class Launch:
    """How a server's process is started: by default this interpreter, from this tree."""

    wrapper: tuple[str, ...] = ()
    """An argv prefix, e.g. valgrind's (bench/callgrind.py)."""
    python: str = sys.executable
    cwd: Path | None = None
    """Where it starts: a source tree holding `gateway/` (its package is the one imported)."""
    patience: float = STARTUP_TIMEOUT
    """Seconds it may take to say where it serves (much longer under valgrind)."""


HERE = Launch()
"""This interpreter, from this tree."""


@contextlib.asynccontextmanager
async def _started(
    name: str,
    args: Sequence[str],
    log_dir: Path,
    event: str,
    field: str,
    env: dict[str, str] | None = None,
    launch: Launch = HERE,
) -> AsyncIterator[Running]:
    child, address = await Child.start_python(
        name,
        args,
        log_dir,
        event,
        field,
        env,
        wrapper=launch.wrapper,
        python=launch.python,
        cwd=launch.cwd,
        patience=launch.patience,
    )
    try:
        yield Running(child, address)
    finally:
        await child.stop()


def sandbox(log_dir: Path, item_seconds: float) -> contextlib.AbstractAsyncContextManager[Running]:
    """`sofer-gateway sandbox` on a free port; `address` is its URL."""
    args = [
        "gateway.main",
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--item-seconds",
        f"{item_seconds:g}",
        "--manifest-validation-seconds",
        "0",
    ]
    return _started("sandbox", args, log_dir, "sandbox listening", "url")


def gateway(
    log_dir: Path,
    upstream_url: str,
    *,
    api_key: str | None = None,
    flags: Sequence[str] = (),
    name: str = "gateway",
    launch: Launch = HERE,
) -> contextlib.AbstractAsyncContextManager[Running]:
    """`sofer-gateway serve` with its default flags (plus `flags`) on a free port.

    With `api_key` the upstream and key come from SOFER_API_URL and SOFER_API_KEY, as in a
    deployment, and callers on loopback need no token; without, `--upstream-url` and the
    callers' own tokens. $BENCH_GATEWAY_FLAGS adds flags of its own (shell words)."""
    extra = shlex.split(os.environ.get(EXTRA_FLAGS_ENV, ""))
    args = [_command_module(launch), "serve", "--listen", "127.0.0.1:0", *flags, *extra]
    if api_key is None:
        args += ["--upstream-url", upstream_url]
        env = clean_environment()
    else:
        env = clean_environment({"SOFER_API_URL": upstream_url, "SOFER_API_KEY": api_key})
    return _started(name, args, log_dir, "gateway serving", "address", env, launch)


def _command_module(launch: Launch) -> str:
    """The module of the `sofer-gateway` command in the tree `launch` starts from: gateway.main,
    or gateway.cli in trees from before the package move (the start of issue 19)."""
    root = launch.cwd or Path.cwd()
    return "gateway.main" if (root / "gateway" / "main.py").exists() else "gateway.cli"


def naive_hop(
    log_dir: Path, upstream_url: str, api_key: str, launch: Launch = HERE
) -> contextlib.AbstractAsyncContextManager[Running]:
    """bench/naive_hop.py in front of `upstream_url`."""
    args = ["bench.naive_hop", "--upstream-url", upstream_url, "--api-key", api_key]
    return _started("naive", args, log_dir, READY_EVENT, "address", launch=launch)


def floor(
    log_dir: Path, upstream_url: str, api_key: str, launch: Launch = HERE
) -> contextlib.AbstractAsyncContextManager[Running]:
    """bench/floor_server.py (the contract floor) in front of `upstream_url`."""
    args = ["bench.floor_server", "--upstream-url", upstream_url, "--api-key", api_key]
    return _started("floor", args, log_dir, READY_EVENT, "address", launch=launch)


def bare(log_dir: Path, launch: Launch = HERE) -> contextlib.AbstractAsyncContextManager[Running]:
    """bench/bare_server.py (a prebuilt response)."""
    return _started("bare", ["bench.bare_server"], log_dir, READY_EVENT, "address", launch=launch)
