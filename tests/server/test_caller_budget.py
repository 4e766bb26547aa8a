"""The per-caller daily budget of audio hours (--caller-daily-audio-hours), end to end: real
gateways in front of the real sandbox, and a real redis-server for replicas sharing a budget."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from sofer_sandbox import SandboxServer

from gateway.config import GatewayConfig
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import detail, error_info, express, fault, retry_delay, source, stats
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways, Running
from tests.helpers.redis_server import RedisServer
from tests.helpers.sandbox_http import audio_seconds

CREATE = "POST /v1/transcriptions/batch"
# 2026-12-08 23:00:00 UTC: an hour before the day rolls over.
LATE = 1_796_770_800.0


def _upstream(config: GatewayConfig) -> str:
    """The sandbox URL the gateways of `config` call."""
    assert config.upstream_url is not None
    return config.upstream_url


async def _start(
    gateways: Gateways, config: GatewayConfig, hours: float, clock: FakeTime, **more: Any
) -> Running:
    """A gateway with a daily budget of `hours`, its days told by `clock`."""
    running = await gateways.start(config, caller_daily_audio_hours=hours, **more)
    assert running.gateway.spend_guard is not None
    running.gateway.spend_guard.wall_clock = clock.wall_clock
    return running


async def _creates(sandbox: SandboxServer) -> int:
    count: int = (await stats(sandbox))["requests"].get(CREATE, 0)
    return count


async def test_a_create_past_the_budget_is_refused_until_midnight(
    gateway_config: GatewayConfig, gateways: Gateways, sandbox: SandboxServer
) -> None:
    """Two creates fit a budget of 2.5 times one audio's length, the third is refused
    RESOURCE_EXHAUSTED (CALLER_BUDGET_EXCEEDED) with a QuotaFailure and a RetryInfo until
    midnight UTC, nothing sent; after midnight the caller may create again."""
    url = source("budget").audio_url
    seconds = await audio_seconds(_upstream(gateway_config), url)
    clock = FakeTime(wall=LATE)
    running = await _start(gateways, gateway_config, 2.5 * seconds / 3600, clock)
    stub = running.stub
    for _ in range(2):
        await stub.CreateBatch(express(source("budget")), metadata=bearer())
    error = await _refused(stub)
    assert error_info(error).reason == "CALLER_BUDGET_EXCEEDED"
    quota = detail(error, error_details_pb2.QuotaFailure)
    assert "audio hours per UTC day" in quota.violations[0].subject
    assert retry_delay(error) == pytest.approx(3600.0)
    assert await _creates(sandbox) == 2
    clock.advance(3600)  # midnight UTC: a new day's budget
    await stub.CreateBatch(express(source("budget")), metadata=bearer())
    assert await _creates(sandbox) == 3


async def _refused(stub: Any, **fields: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateBatch(express(source("budget"), **fields), metadata=bearer())
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, caught.value.details()
    return caught.value


async def test_a_create_that_failed_gives_its_hours_back_and_an_unknown_one_keeps_them(
    gateway_config: GatewayConfig, gateways: Gateways, sandbox: SandboxServer
) -> None:
    """A create the upstream refused (400) costs the caller nothing; one whose outcome is
    unknown (a 500 after sending) stays counted: the next create no longer fits."""
    seconds = await audio_seconds(_upstream(gateway_config), source("budget").audio_url)
    running = await _start(gateways, gateway_config, 1.5 * seconds / 3600, FakeTime(wall=LATE))
    stub = running.stub
    await fault(sandbox, status=400, count=1, path_prefix="/v1/transcriptions/batch")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateBatch(express(source("budget")), metadata=bearer())
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await fault(sandbox, status=500, count=1, path_prefix="/v1/transcriptions/batch")
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.CreateBatch(express(source("budget")), metadata=bearer())
    assert error_info(unknown.value).reason == "OUTCOME_UNKNOWN"
    error = await _refused(stub)
    assert error_info(error).reason == "CALLER_BUDGET_EXCEEDED"


async def test_a_retry_with_the_same_request_id_is_not_counted_twice(
    gateway_config: GatewayConfig, gateways: Gateways, sandbox: SandboxServer
) -> None:
    """A create retried with its request_id is the same create: a budget of one audio's length
    lets it through as often as it is retried, and refuses another."""
    seconds = await audio_seconds(_upstream(gateway_config), source("budget").audio_url)
    running = await _start(gateways, gateway_config, 1.2 * seconds / 3600, FakeTime(wall=LATE))
    request = express(source("budget"), request_id=str(uuid.uuid4()))
    first = await running.stub.CreateBatch(request, metadata=bearer())
    again = await running.stub.CreateBatch(request, metadata=bearer())
    assert again.batch_id == first.batch_id
    await _refused(running.stub, request_id=str(uuid.uuid4()))


async def test_replicas_on_one_redis_never_let_a_caller_past_its_budget(
    gateway_config: GatewayConfig,
    gateways: Gateways,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    key_secret: str,
) -> None:
    """Two gateways on one Redis share a caller's budget: of twelve concurrent creates through
    both, exactly as many as fit (three) are sent upstream, the others refused
    CALLER_BUDGET_EXCEEDED; Redis holds no token."""
    seconds = await audio_seconds(_upstream(gateway_config), source("budget").audio_url)
    hours, clock = 3.5 * seconds / 3600, FakeTime(wall=LATE)
    replicas = [
        await _start(gateways, gateway_config, hours, clock, redis_url=redis_server.url)
        for _ in range(2)
    ]

    async def create(running: Running) -> str:
        try:
            await running.stub.CreateBatch(express(source("budget")), metadata=bearer())
        except grpc.aio.AioRpcError as error:
            return str(error_info(error).reason)
        return "OK"

    outcomes = await asyncio.gather(*(create(replicas[i % 2]) for i in range(12)))
    assert sorted(outcomes) == ["CALLER_BUDGET_EXCEEDED"] * 9 + ["OK"] * 3
    assert await _creates(sandbox) == 3
    redis = replicas[0].gateway.redis
    assert redis is not None
    keys = [k.decode() async for k in redis.client.scan_iter(match="sgw:audio:*")]
    assert len(keys) == 1
    assert TOKEN not in keys[0]
    stored = await redis.client.hgetall(keys[0])
    assert all(TOKEN not in f"{key!r}{value!r}" for key, value in stored.items())
    assert 0 < await redis.client.ttl(keys[0]) <= 2 * 86400
