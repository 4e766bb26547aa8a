"""Polyglot interop: the Node client in tests/interop/node/ against a real gateway and sandbox."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from gateway.server import Gateway
from tests.conftest import TOKEN

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "tests" / "interop" / "node" / "client.mjs"
NODE_PACKAGES = ("@grpc/grpc-js", "@grpc/proto-loader", "google-proto-files")
TIMEOUT_SECONDS = 90.0

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


async def test_node_client_drives_the_contract_end_to_end(gateway: Gateway) -> None:
    """A Node (@grpc/grpc-js + @grpc/proto-loader) client that loads protos/ at run time can
    create an express batch, read its status, wait for COMPLETED, resolve a client_item_id,
    fetch a transcript, and decode a validation error's google.rpc.Status details (ErrorInfo,
    BadRequest field paths) from the grpc-status-details-bin trailer: it exits 0.
    """
    assert NODE is not None
    missing = [name for name in NODE_PACKAGES if not (REPO / "node_modules" / name).is_dir()]
    if missing:
        pytest.fail(f"node_modules lacks {', '.join(missing)}: run make node-deps")
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(CLIENT),
        gateway.address,
        TOKEN,
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
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, f"node client exited {process.returncode}:\n{text}"
    assert "PASS node interop" in text, text
