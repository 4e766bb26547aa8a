"""Helpers that run the Node interop clients (tests/interop/*/client.mjs) as processes (no tests
here): the packages they need must be in node_modules, else the test fails, not skips."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.helpers import REPO

NODE = shutil.which("node")
TIMEOUT_SECONDS = 90.0

# Without node there is no Node client to run: the module is skipped, not failed. Missing npm
# packages, by contrast, are a broken set-up (`make node-deps` was not run): the test fails.
requires_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


def require_packages(names: Sequence[str]) -> None:
    """Fail the test, naming them, when any of these npm packages is not in node_modules."""
    missing = [
        name for name in names if not (REPO / "node_modules" / name / "package.json").is_file()
    ]
    if missing:
        pytest.fail(f"node_modules lacks {', '.join(missing)}: run make node-deps")


async def run_client(client: Path, *args: str) -> tuple[int, str]:
    """Run `node CLIENT ARGS` from the repository root; return its exit status and its output
    (stdout and stderr together). One that outlives a generous timeout is killed and fails."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(client),
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", "replace")
