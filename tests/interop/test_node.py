"""Polyglot interop: the Node client in tests/interop/node/ against a real gateway and sandbox."""

from __future__ import annotations

import asyncio

import pytest
from sofer_sandbox import SandboxConfig

from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers import REPO
from tests.helpers.node import require_packages, requires_node, run_client

CLIENT = REPO / "tests" / "interop" / "node" / "client.mjs"
NODE_PACKAGES = ("@grpc/grpc-js", "@grpc/proto-loader", "google-proto-files")

pytestmark = requires_node


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items that take a second: the cancelled watch's batch is still running when its first
    message arrives, even on a loaded machine."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0)


async def test_node_client_drives_the_contract_end_to_end(gateway: Gateway) -> None:
    """A Node (@grpc/grpc-js + @grpc/proto-loader) client that loads protos/ at run time can
    create an express batch, read its status, wait for COMPLETED, resolve a client_item_id,
    fetch a transcript, export it as WebVTT captions (one cue per timing line, speakers as
    voices, every word in it), stream the completed batch's transcripts (each item once, with
    its text, words and info, counts up to the total, then OK), decode a validation error's
    google.rpc.Status details (ErrorInfo, BadRequest field paths) from the
    grpc-status-details-bin trailer, watch a batch to COMPLETED (first message the current
    status, completed_count never down, OK at the end), and cancel a watch after its first
    message (CANCELLED, and the next GetBatchStatus works): it exits 0, and the gateway is left
    with no open watch and no poller.
    """
    require_packages(NODE_PACKAGES)

    code, text = await run_client(CLIENT, gateway.address, TOKEN)

    assert code == 0, f"node client exited {code}:\n{text}"
    assert "PASS node interop" in text, text
    for name in (
        "ExportTranscription",
        "StreamBatchTranscripts",
        "WatchBatchStatus",
        "WatchBatchStatus(ended batch)",
        "WatchBatchStatus(cancel)",
    ):
        assert f"ok   {name}: " in text, text
    hub = gateway.hub
    assert hub is not None
    async with asyncio.timeout(10):
        while hub.open_watches or hub.active_pollers:  # noqa: ASYNC110 - state of the gateway's tasks
            await asyncio.sleep(0.01)
