"""Resumable streams on replicas sharing a real redis-server (the event log a Redis Stream per
batch, written once by the lease holder), end to end with the sandbox on the test's clock."""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from tests.events.resumed import CADENCE, ITEM, Watch, completed, create, described, finish
from tests.helpers.calls import assert_error, rpc_error
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways
from tests.helpers.redis_server import RedisServer

pytestmark = pytest.mark.usefixtures("key_secret")


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that move only when the test advances the sandbox clock."""
    return SandboxConfig(item_seconds=ITEM, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
def shared(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """Replicas on the test's Redis, polling fast and steadily, with a 1 s lease."""
    return dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        watch_fast_interval=CADENCE,
        watch_slow_interval=CADENCE,
        watch_backoff_factor=1.0,
        poll_lease=1.0,
    )


async def test_a_subscriber_resumes_on_another_replica_after_a_restart(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways, sandbox_clock: FakeTime
) -> None:
    """A subscriber on replica A reads the batch's first completion and goes away; A is
    restarted (a new process on the same Redis) while two more items finish; the subscriber
    resumes on the new replica with its last token: what it got before and after equals,
    event for event and id for id, what a subscriber on replica B that never left got after
    the same point (none twice, none missing, in order)."""
    a, b = await gateways.start(shared), await gateways.start(shared)
    created = sandbox_clock.now
    batch_id = await create(b.stub, items=4)
    steady = Watch(b.stub, batch_id)
    await steady.next()
    leaving = Watch(a.stub, batch_id)
    first = await leaving.next()
    assert first.resume_token
    finish(sandbox_clock, created, 1, 4)
    last = await leaving.until(completed(1))
    await steady.until(completed(1))
    leaving.cancel()
    await a.gateway.stop(0)
    finish(sandbox_clock, created, 3, 4)
    await steady.until(completed(3))
    again = await gateways.start(shared)
    back = Watch(again.stub, batch_id, last.resume_token)
    resumed = await back.next()
    assert resumed.events, "the events missed while away"
    finish(sandbox_clock, created, 4, 4)
    await back.to_the_end()
    await steady.to_the_end()
    # The leaving stream opened at the state the steady one had seen: its events from then.
    start = [m.resume_token for m in steady.messages].index(first.resume_token)
    reference = [e for m in steady.messages[start + 1 :] for e in m.events]
    got = leaving.events() + back.events()
    assert described(got) == described(reference)
    assert [e.event_id for e in got] == [e.event_id for e in reference]
    assert len({e.event_id for e in got}) == len(got)


async def test_a_token_of_a_flushed_log_is_expired(
    shared: GatewayConfig,
    redis_server: RedisServer,
    gateways: Gateways,
    sandbox_clock: FakeTime,
) -> None:
    """Redis restarted empty (its events gone): a token from before fails OUT_OF_RANGE
    RESUME_TOKEN_EXPIRED on any replica, never a stream with a silent gap."""
    a = await gateways.start(shared)
    created = sandbox_clock.now
    batch_id = await create(a.stub, items=2)
    watch = Watch(a.stub, batch_id)
    token = (await watch.next()).resume_token
    watch.cancel()
    redis_server.stop()
    redis_server.start()
    finish(sandbox_clock, created, 1, 2)
    b = await gateways.start(shared)
    error = await rpc_error(Watch(b.stub, batch_id, token).until(completed(1)))
    assert_error(error, grpc.StatusCode.OUT_OF_RANGE, "RESUME_TOKEN_EXPIRED")
