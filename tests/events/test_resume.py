"""Resumable streams on one gateway without Redis (the in-memory event log), end to end: the
real gateway, the real sandbox on the test's clock (a batch moves only when the test says).

A subscriber that goes away and comes back with its last `resume_token` gets exactly the events
it missed, then live ones; a token the log no longer holds (trimmed, a restarted gateway) fails
OUT_OF_RANGE RESUME_TOKEN_EXPIRED with the way back; a token of another batch, or not a token,
fails INVALID_ARGUMENT on `resume_token`.
"""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from tests.conftest import bearer
from tests.events.resumed import (
    CADENCE,
    ITEM,
    Stub,
    Watch,
    completed,
    create,
    described,
    finish,
)
from tests.helpers.calls import assert_error, field_violations, rpc_error
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that move only when the test advances the sandbox clock."""
    return SandboxConfig(item_seconds=ITEM, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """A steady, fast poll: every step of the batch is seen soon after the clock moves."""
    return dataclasses.replace(
        gateway_config,
        watch_fast_interval=CADENCE,
        watch_slow_interval=CADENCE,
        watch_backoff_factor=1.0,
    )


async def test_a_resumed_watch_gets_exactly_the_events_it_missed(
    stub: Stub, sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """A subscriber reads the first item's completion, goes away, two more items finish, and
    it comes back with its last token: the events it gets, then the live ones to the end, are
    exactly those a subscriber that never left got after the same point: none twice, none
    missing, in order."""
    created = sandbox_clock.now
    batch_id = await create(stub, items=4)
    steady = Watch(stub, batch_id)
    await steady.next()
    leaving = Watch(stub, batch_id)
    first = await leaving.next()
    assert first.resume_token
    assert list(first.events) == []  # a stream opened without a token starts from the state
    finish(sandbox_clock, created, 1, 4)
    last = await leaving.until(completed(1))
    await steady.until(completed(1))
    leaving.cancel()
    finish(sandbox_clock, created, 3, 4)
    await steady.until(completed(3))
    back = Watch(stub, batch_id, last.resume_token)
    resumed = await back.next()
    assert resumed.batch_status.completed_count == 3
    assert resumed.events, "the events missed while away"
    finish(sandbox_clock, created, 4, 4)
    await back.to_the_end()
    await steady.to_the_end()
    # The steady stream opened before the leaving one, at the same state: same events from then.
    assert steady.messages[0].resume_token == first.resume_token
    got = leaving.events() + back.events()
    assert described(got) == described(steady.events())
    ids = [e.event_id for e in got]
    assert len(set(ids)) == len(ids)
    assert [e.event_id for e in steady.events()] == ids
    kinds = {e.transcription_id for e in back.events() if e.transcription_id}
    assert len(kinds) == 3  # items 2, 3 and 4 finished after the token


async def test_a_token_of_a_restarted_gateway_without_redis_is_expired(
    gateway_config: GatewayConfig, gateways: Gateways
) -> None:
    """The in-memory log is lost with the process: a token of the gateway before its restart
    fails OUT_OF_RANGE RESUME_TOKEN_EXPIRED, whose message says to open without a token; the
    stream opened so works."""
    before = await gateways.start(gateway_config)
    batch_id = await create(before.stub, items=2)
    watch = Watch(before.stub, batch_id)
    token = (await watch.next()).resume_token
    watch.cancel()
    await before.gateway.stop(0)
    after = await gateways.start(gateway_config)
    error = await rpc_error(Watch(after.stub, batch_id, token).next())
    info = assert_error(error, grpc.StatusCode.OUT_OF_RANGE, "RESUME_TOKEN_EXPIRED")
    assert info.metadata["batch_id"] == batch_id
    assert "without a resume_token" in (error.details() or "")
    assert (await Watch(after.stub, batch_id).next()).resume_token


async def test_a_trimmed_log_expires_older_tokens(
    gateway_config: GatewayConfig,
    gateways: Gateways,
    sandbox_clock: FakeTime,
) -> None:
    """With --event-log-max-events 2, a token from before more than two later changes (each
    of several events) is expired (RESUME_TOKEN_EXPIRED); the newest token still resumes."""
    running = await gateways.start(gateway_config, event_log_max_events=2)
    created = sandbox_clock.now
    batch_id = await create(running.stub, items=4)
    watch = Watch(running.stub, batch_id)
    old = (await watch.next()).resume_token
    finish(sandbox_clock, created, 2, 4)
    await watch.until(completed(2))
    finish(sandbox_clock, created, 3, 4)
    newest = (await watch.until(completed(3))).resume_token
    error = await rpc_error(Watch(running.stub, batch_id, old).next())
    assert_error(error, grpc.StatusCode.OUT_OF_RANGE, "RESUME_TOKEN_EXPIRED")
    resumed = await Watch(running.stub, batch_id, newest).next()
    assert list(resumed.events) == []


async def test_a_token_of_another_batch_or_no_token_at_all_is_refused(stub: Stub) -> None:
    """A token given out for another batch, or a string that is no token, fails
    INVALID_ARGUMENT on `resume_token` for either stream."""
    batch_id = await create(stub, items=1)
    other = await create(stub, items=1)
    token = (await Watch(stub, other).next()).resume_token
    for bad in (token, "not-a-token", "x" * 600):
        error = await rpc_error(Watch(stub, batch_id, bad).next())
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
        assert field_violations(error) == {"resume_token": "INVALID_RESUME_TOKEN"}
        call = stub.StreamBatchTranscripts(
            pb.StreamBatchTranscriptsRequest(batch_id=batch_id, resume_token=bad),
            metadata=bearer(),
            timeout=10,
        )
        error = await rpc_error(call.read())
        assert field_violations(error) == {"resume_token": "INVALID_RESUME_TOKEN"}


async def test_resumed_transcripts_are_not_sent_again(
    stub: Stub, sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """StreamBatchTranscripts: a subscriber that got two items and comes back with the last
    message's token gets the other two, not those two again."""
    created = sandbox_clock.now
    batch_id = await create(stub, items=4)
    call = stub.StreamBatchTranscripts(
        pb.StreamBatchTranscriptsRequest(batch_id=batch_id), metadata=bearer(), timeout=30
    )
    finish(sandbox_clock, created, 2, 4)
    first = [await call.read() for _ in range(2)]
    call.cancel()
    token = first[-1].resume_token
    assert token
    finish(sandbox_clock, created, 4, 4)
    again = stub.StreamBatchTranscripts(
        pb.StreamBatchTranscriptsRequest(batch_id=batch_id, resume_token=token),
        metadata=bearer(),
        timeout=30,
    )
    rest = [message async for message in again]
    sent = [m.info.id for m in first] + [m.info.id for m in rest]
    assert len(rest) == 2
    assert len(set(sent)) == 4
