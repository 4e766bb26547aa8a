"""Polyglot interop: the Go client in tests/interop/go/ (the committed generated/go code,
Debian's grpc-go and genproto, GOPATH mode) against a real gateway and sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sofer_sandbox import SandboxConfig

from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers import REPO
from tests.helpers.golang import go_build, go_run

# One worker builds these programs, so that a cold GOCACHE compiles grpc-go once, not once per
# worker at the same time (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("go")

CLIENT = REPO / "tests" / "interop" / "go" / "main.go"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items a second apart: the watch sees completed_count rise, and ends within seconds."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0)


async def test_generated_go_client_creates_reads_and_watches_a_batch(
    gateway: Gateway, tmp_path: Path
) -> None:
    """A Go program using the generated Go client (protoc-gen-go messages, protoc-gen-go-grpc
    stub) over grpc-go with the README's retry service config creates an express batch with a
    request_id (a retry answers the same batch), reads its status, watches it to COMPLETED
    (first message the full current status, completed_count never down, the stream ends OK),
    and reads an invalid request's ErrorInfo (REQUEST_INVALID, sofer-gateway) and BadRequest
    field paths with grpc's status package: it exits 0, one ok line a step, never prints the
    token it was given, and leaves no watch open in the gateway."""
    binary = await go_build(CLIENT, tmp_path)

    env = {"SOFER_GATEWAY_TOKEN": TOKEN, "GRPC_GO_RETRY": "on"}
    code, text = await go_run(binary, gateway.address, env=env)

    assert code == 0, f"go client exited {code}:\n{text}"
    assert "PASS go interop" in text, text
    steps = [line.split(":", 1)[0] for line in text.splitlines() if line.startswith("ok ")]
    assert steps == [
        "ok   CreateBatch",
        "ok   CreateBatch(retry)",
        "ok   GetBatchStatus",
        "ok   WatchBatchStatus",
        "ok   CreateBatch(invalid)",
        "ok   BadRequest",
    ], text
    assert "reason=REQUEST_INVALID, domain=sofer-gateway" in text, text
    assert TOKEN not in text
    hub = gateway.hub
    assert hub is not None
    async with asyncio.timeout(10):
        while hub.open_watches or hub.active_pollers:  # noqa: ASYNC110 - state of the gateway's tasks
            await asyncio.sleep(0.01)
