"""The package's watch iterators follow a batch to its end: across a gateway restart (the stream
ends UNAVAILABLE SHUTTING_DOWN, the port is closed, a new gateway takes it) they reopen the
stream and go on without a duplicate or an older status; a final error is raised typed at once;
a RESOURCE_EXHAUSTED with RetryInfo waits at least its delay; they give up after the policy's
timeout. Real gateway and sandbox for the restart; fake calls and an injected clock for the
policy."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
import pytest
from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2, batch_service_pb2_grpc
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_gateway_client import (
    GaveUp,
    NotFound,
    Reconnect,
    ReconnectPolicy,
    aio_channel,
    channel,
    request_id_for,
    watch_batch,
    watch_batch_async,
)
from sofer_sandbox import SandboxConfig

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.cli.test_reconnect import (
    UNAVAILABLE,
    Calls,
    Clock,
    FailingCall,
    ListCall,
    rpc_error,
    status,
)
from tests.conftest import bearer
from tests.helpers.calls import express, source

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
GUARD = 60.0


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items that take long enough (about 1.5 s, staggered) for a restart to fall mid-batch."""
    return SandboxConfig(item_seconds=1.5, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The shared settings, polling the sandbox often so that progress shows between restarts."""
    return dataclasses.replace(gateway_config, watch_fast_interval=0.2, watch_slow_interval=0.5)


@pytest.fixture
async def started() -> AsyncIterator[list[Gateway]]:
    """The gateways a test starts itself; any still running is stopped at teardown."""
    gateways: list[Gateway] = []
    yield gateways
    for gateway in reversed(gateways):
        await gateway.stop(0)


def _content(item: batch_pb2.BatchStatus) -> dict[str, Any]:
    shown = json_format.MessageToDict(item)
    return {k: v for k, v in shown.items() if k not in ("observedAt", "changedTranscriptionIds")}


def assert_forward_only(statuses: list[batch_pb2.BatchStatus]) -> None:
    """Each status differs from the one before (but for its time stamp), items done never go
    down, and the last is the only COMPLETED one."""
    assert all(_content(a) != _content(b) for a, b in itertools.pairwise(statuses))
    done = [s.completed_count + s.failed_count for s in statuses]
    assert done == sorted(done)
    states = [s.state for s in statuses]
    assert states[-1] == batch_pb2.BATCH_STATE_COMPLETED
    assert states.count(batch_pb2.BATCH_STATE_COMPLETED) == 1


async def test_the_async_watch_goes_on_across_a_gateway_restart(
    gateway_config: GatewayConfig, started: list[Gateway]
) -> None:
    """The gateway stops mid-watch and a new one starts on the same port while the watch waits
    (its injected sleep): the iterator reopens the stream, yields every new status once, never
    one older or equal to the last, and ends after COMPLETED; the first reconnect names
    UNAVAILABLE SHUTTING_DOWN."""
    first = Gateway(gateway_config)
    await first.start()
    started.append(first)
    address = first.address
    steps: list[Reconnect] = []

    async def sleep(wait: float) -> None:
        # Instead of waiting: the first time, the gateway comes back on the same port; every
        # time, wait until the channel is connected again.
        if len(started) == 1:
            await first.stop(0)
            again = Gateway(dataclasses.replace(gateway_config, listen=address))
            await again.start()
            started.append(again)
        await asyncio.wait_for(ch.channel_ready(), GUARD)

    statuses: list[batch_pb2.BatchStatus] = []
    async with aio_channel(address) as ch:
        stub = Stub(ch)
        request = express(source(1), source(2), source(3), request_id=request_id_for("call-1"))
        created = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
        watch = watch_batch_async(
            stub, created.batch_id, metadata=bearer(), on_reconnect=steps.append, sleep=sleep
        )
        async with asyncio.timeout(GUARD):
            async for update in watch:
                statuses.append(update)
                if len(statuses) == 1:
                    stopping = asyncio.create_task(first.stop(1.0))
        await stopping
    assert len(started) == 2
    assert steps
    assert steps[0].error.code is grpc.StatusCode.UNAVAILABLE
    assert steps[0].error.reason == "SHUTTING_DOWN"
    assert steps[0].attempt == 2
    assert_forward_only(statuses)


async def test_the_sync_watch_follows_a_batch_to_completed(gateway: Gateway) -> None:
    """`watch_batch` on the sync channel yields the batch's statuses, forward only, and ends
    after COMPLETED."""

    def follow() -> list[batch_pb2.BatchStatus]:
        with channel(gateway.address) as ch:
            stub = Stub(ch)
            created = stub.CreateBatch(
                express(source(1), request_id=str(uuid.uuid4())), metadata=bearer(), timeout=10
            )
            return list(watch_batch(stub, created.batch_id, metadata=bearer()))

    statuses = await asyncio.to_thread(follow)
    assert_forward_only(statuses)


async def test_an_unknown_batch_raises_not_found_without_reconnecting(gateway: Gateway) -> None:
    """A watch of a batch that does not exist raises NotFound (BATCH_NOT_FOUND) from the first
    stream: it is final, so no reconnect is attempted and nothing is yielded."""
    steps: list[Reconnect] = []
    async with aio_channel(gateway.address) as ch:
        watch = watch_batch_async(
            Stub(ch), str(uuid.uuid4()), metadata=bearer(), on_reconnect=steps.append
        )
        with pytest.raises(NotFound) as raised:
            await anext(watch)
    assert raised.value.reason == "BATCH_NOT_FOUND"
    assert steps == []


async def test_retry_info_is_waited_out_and_repeats_are_skipped() -> None:
    """A stream ended RESOURCE_EXHAUSTED with RetryInfo 4 s is reopened after exactly 4 s (the
    jitter drew 0); the new stream's first status equals the last one yielded (but for its time
    stamp) and the next is behind it: neither is yielded."""
    processing = status(batch_pb2.BATCH_STATE_PROCESSING, 1)
    again = status(batch_pb2.BATCH_STATE_PROCESSING, 1, changed_transcription_ids=["x"])
    again.observed_at.GetCurrentTime()
    behind = status(batch_pb2.BATCH_STATE_RECEIVED, 0)
    limited = rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "rate limited", reason="RATE_LIMITED", retry_delay=4
    )
    done = status(batch_pb2.BATCH_STATE_COMPLETED, 2)
    stub = Calls(ListCall([processing], limited), ListCall([again, behind, done]))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    watch = watch_batch_async(cast(Any, stub), "b", sleep=sleep, rng=lambda: 0.0)
    assert [s async for s in watch] == [processing, done]
    assert slept == [4.0]


async def test_it_gives_up_once_the_timeout_is_spent() -> None:
    """A gateway that stays away: the watch reconnects with growing waits until the policy's
    timeout (measured on the injected clock) is spent, then raises GaveUp naming the last error
    and why; a wait never passes what is left of the timeout."""
    clock = Clock()
    stub = Calls(*[FailingCall(UNAVAILABLE) for _ in range(20)])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    policy = ReconnectPolicy(timeout=5, base=1, cap=4)
    watch = watch_batch_async(cast(Any, stub), "b", policy=policy, sleep=sleep, clock=clock)
    with pytest.raises(GaveUp, match=r"no stream for 5\.0 s") as raised:
        await anext(watch)
    assert raised.value.last.reason == "SHUTTING_DOWN"
    assert raised.value.code is grpc.StatusCode.UNAVAILABLE
    assert sum(slept) == pytest.approx(5.0)
    assert stub.opened == len(slept) + 1


class MessageCall:
    """A WatchBatchStatus call answering `messages` in turn, then `error` (or EOF)."""

    def __init__(self, messages: list[Any], error: grpc.aio.AioRpcError | None = None) -> None:
        self.messages = messages
        self.error = error

    async def read(self) -> Any:
        if self.messages:
            return self.messages.pop(0)
        if self.error is not None:
            raise self.error
        return grpc.aio.EOF  # type: ignore[attr-defined]

    def cancel(self) -> bool:
        return True


class Opened:
    """A stub whose WatchBatchStatus answers the given calls in turn, noting each request's
    resume token."""

    def __init__(self, *calls: Any) -> None:
        self.calls = list(calls)
        self.tokens: list[str] = []

    def WatchBatchStatus(self, request: Any, **_: Any) -> Any:
        self.tokens.append(request.resume_token)
        return self.calls.pop(0)


async def test_a_reopened_watch_resumes_with_its_last_token_and_falls_back_when_expired() -> None:
    """The stream breaks: it is reopened with the last message's resume_token; that token
    expired (RESUME_TOKEN_EXPIRED): it is opened again at once without one (no wait, no
    reconnect counted), and the watch goes on to COMPLETED."""

    def message(state: int, done: int, token: str) -> pb.WatchBatchStatusResponse:
        return pb.WatchBatchStatusResponse(batch_status=status(state, done), resume_token=token)

    expired = rpc_error(grpc.StatusCode.OUT_OF_RANGE, "expired", reason="RESUME_TOKEN_EXPIRED")
    stub = Opened(
        MessageCall([message(batch_pb2.BATCH_STATE_PROCESSING, 0, "t1")], UNAVAILABLE),
        MessageCall([message(batch_pb2.BATCH_STATE_PROCESSING, 1, "t2")], UNAVAILABLE),
        MessageCall([], expired),
        MessageCall([message(batch_pb2.BATCH_STATE_COMPLETED, 2, "t3")]),
    )
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    watch = watch_batch_async(cast(Any, stub), "b", sleep=sleep, rng=lambda: 0.0)
    statuses = [s async for s in watch]
    assert [s.completed_count for s in statuses] == [0, 1, 2]
    assert stub.tokens == ["", "t1", "t2", ""]
    assert len(slept) == 2  # the two breaks; the expired token cost no wait
