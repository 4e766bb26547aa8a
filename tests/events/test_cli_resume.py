"""`sofer-gateway fetch` resumes its StreamBatchTranscripts with the last resume_token: a gateway
on Redis restarted mid-fetch, the fetch goes on from the token (not from its files), every item
written once. Real gateways on a real redis-server, the sandbox on the test's clock."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import grpc
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.cli.errors import ExitCode
from gateway.cli.fetch_folder import MANIFEST_NAME
from gateway.config import GatewayConfig
from tests.cli.test_client import to
from tests.cli.test_reconnect import Running
from tests.events.resumed import CADENCE, ITEM, create, finish
from tests.helpers.calls import upstream_count
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways
from tests.helpers.redis_server import RedisServer

pytestmark = pytest.mark.usefixtures("key_secret")
FETCH = "GET /v1/transcriptions/{transcription_id}"


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that move only when the test advances the sandbox clock."""
    return SandboxConfig(item_seconds=ITEM, manifest_validation_seconds=0.0, clock=sandbox_clock)


def remove_files(folder: Path) -> None:
    """Every file of the fetch's folder but its manifest."""
    for written in folder.iterdir():
        if written.name != MANIFEST_NAME:
            written.unlink()


async def test_fetch_resumes_from_its_token_across_a_restart_on_redis(
    gateway_config: GatewayConfig,
    redis_server: RedisServer,
    sandbox: SandboxServer,
    sandbox_clock: FakeTime,
    gateways: Gateways,
    tmp_path: Path,
    logs: io.StringIO,
) -> None:
    """Two of four items fetched, the gateway stops, the other two finish, a new gateway on the
    same port and Redis: the fetch reopens the stream with its last token (accepted: no
    RESUME_TOKEN_EXPIRED), gets exactly the other two (not the two it had, even with their
    files gone), and ends OK with each item written once."""
    shared = dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        watch_fast_interval=CADENCE,
        watch_slow_interval=CADENCE,
        watch_backoff_factor=1.0,
        poll_lease=1.0,
    )
    first = await gateways.start(shared)
    address = first.gateway.address
    created = sandbox_clock.now
    batch_id = await create(first.stub, items=4)
    running = Running("fetch", batch_id, "--out", str(tmp_path), *to(first.gateway))
    finish(sandbox_clock, created, 2, 4)
    await running.until(lambda: running.out.getvalue().count("COMPLETED  ") >= 2)
    await first.gateway.stop(0)
    await running.until(lambda: "StreamBatchTranscripts UNAVAILABLE" in running.err.getvalue())
    # The files written so far go: a fetch resuming from what is on disk would fetch and write
    # those two again; one resuming from its token does not.
    remove_files(tmp_path)
    finish(sandbox_clock, created, 4, 4)
    await gateways.start(shared, listen=address)
    result = await running.result()
    assert result.code == ExitCode.OK, result.err
    written = [line for line in result.lines if line.startswith("COMPLETED  ")]
    assert len(written) == 4
    assert len(set(written)) == 4
    streams = [
        line
        for line in (json.loads(text) for text in logs.getvalue().splitlines() if text[:1] == "{")
        if line.get("rpc") == "StreamBatchTranscripts" and line.get("event") == "rpc"
    ]
    assert streams, "the gateways logged their streams"
    assert all(line.get("reason") != "RESUME_TOKEN_EXPIRED" for line in streams)
    assert await upstream_count(sandbox, FETCH) == 4
    assert grpc.StatusCode.OK.name in {line.get("code") for line in streams}
