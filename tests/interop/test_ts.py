"""Polyglot interop: the generated TypeScript client (generated/ts/, protoc-gen-es) driven by
tests/interop/ts/client.mjs over @connectrpc/connect-node's gRPC transport, against a real
gateway and sandbox."""

from __future__ import annotations

import asyncio

import pytest

from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers import REPO
from tests.helpers.node import require_packages, requires_node, run_client

CLIENT = REPO / "tests" / "interop" / "ts" / "client.mjs"
GENERATED = REPO / "generated" / "ts" / "sofer" / "batch" / "v1"
NODE_PACKAGES = ("@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-node")

pytestmark = requires_node


async def test_generated_ts_client_creates_reads_and_watches_a_batch(gateway: Gateway) -> None:
    """A Node program using the generated TypeScript client (protobuf-es messages and service
    descriptor, connect-node's gRPC transport) creates an express batch with a request_id (a
    retry answers the same batch), reads its status, watches it to COMPLETED (first message the
    full current status, completed_count never down, the stream ends OK), and gets
    INVALID_ARGUMENT with ErrorInfo and BadRequest for a bad request: it exits 0, one ok line a
    step, and leaves no watch open in the gateway."""
    require_packages(NODE_PACKAGES)
    for name in ("batch_pb.js", "batch_service_pb.js", "batch_pb.d.ts", "batch_service_pb.d.ts"):
        if not (GENERATED / name).is_file():
            pytest.fail(f"generated/ts lacks {name}: run make generate")

    code, text = await run_client(CLIENT, gateway.address, TOKEN)

    assert code == 0, f"ts client exited {code}:\n{text}"
    assert "PASS ts interop" in text, text
    steps = [line.split(":", 1)[0] for line in text.splitlines() if line.startswith("ok ")]
    assert steps == [
        "ok   CreateBatch",
        "ok   CreateBatch(retry)",
        "ok   GetBatchStatus",
        "ok   WatchBatchStatus",
        "ok   CreateBatch(invalid)",
    ], text
    hub = gateway.hub
    assert hub is not None
    async with asyncio.timeout(10):
        while hub.open_watches or hub.active_pollers:  # noqa: ASYNC110 - state of the gateway's tasks
            await asyncio.sleep(0.01)
