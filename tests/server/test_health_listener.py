"""`--health-listen`: a plaintext port that answers grpc.health.v1 with the gateway's own
HealthServicer (so probes see what the gateway says, drain included) and serves nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc

from gateway.config import ConfigError
from gateway.server.health import HealthServicer, start_health_listener
from gateway.server.process import SERVICE_NAME, Gateway

Status = health_pb2.HealthCheckResponse


@pytest.fixture
async def health() -> HealthServicer:
    """A HealthServicer as the gateway keeps one: overall and the batch service SERVING."""
    servicer = HealthServicer()
    await servicer.set("", Status.SERVING)
    await servicer.set(SERVICE_NAME, Status.SERVING)
    return servicer


@pytest.fixture
async def listener(health: HealthServicer) -> AsyncIterator[grpc.aio.Channel]:
    """The health listener on 127.0.0.1, port 0, and a plaintext channel to it."""
    server, port = await start_health_listener(health, "127.0.0.1:0")
    try:
        assert port > 0
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(0)


async def check(channel: grpc.aio.Channel, service: str = "") -> int:
    """The status a Check of `service` answers."""
    answer = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=10
    )
    return int(answer.status)


async def test_probes_see_serving(listener: grpc.aio.Channel) -> None:
    """A probe of the health port gets SERVING for the overall health and the batch service."""
    assert await check(listener) == Status.SERVING
    assert await check(listener, SERVICE_NAME) == Status.SERVING


async def test_probes_see_the_drain(listener: grpc.aio.Channel, health: HealthServicer) -> None:
    """When the gateway enters its shutdown (the drain), the health port says NOT_SERVING at
    once: it shares the gateway's HealthServicer rather than keeping a copy."""
    await health.enter_graceful_shutdown()
    assert await check(listener) == Status.NOT_SERVING
    assert await check(listener, SERVICE_NAME) == Status.NOT_SERVING


async def test_an_unknown_service_is_not_found(listener: grpc.aio.Channel) -> None:
    """A probe naming a service the gateway does not have fails NOT_FOUND, as on the main port."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await check(listener, "no.such.Service")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_batch_service_is_not_on_the_health_port(listener: grpc.aio.Channel) -> None:
    """The plaintext health port carries no batch service: a call to it is UNIMPLEMENTED, so
    nobody can spend the gateway's key through the port that skips client certificates."""
    stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(listener)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetBatchStatus(batch_service_pb2.GetBatchStatusRequest(batch_id="b"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_taken_port_stops_the_start(gateway: Gateway, health: HealthServicer) -> None:
    """--health-listen on a port another gRPC server holds (here the gateway's own) fails with
    a ConfigError naming the flag, instead of silently sharing the port (gRPC's SO_REUSEPORT)
    and answering only some of the probes."""
    with pytest.raises(ConfigError, match=f"--health-listen {gateway.address}: cannot listen"):
        await start_health_listener(health, gateway.address)


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.0.1:x", "127.0.0.1:99999", ":8081"])
async def test_a_malformed_address_stops_the_start(health: HealthServicer, listen: str) -> None:
    """--health-listen with something that is not HOST:PORT (no port, a port that is not a
    number or past 65535, no host) fails with a ConfigError naming the flag and the value,
    rather than binding 443 or a wrapped-around port where no probe looks."""
    with pytest.raises(ConfigError, match=f"--health-listen {listen}: expected HOST:PORT"):
        await start_health_listener(health, listen)


async def test_the_health_port_answers_garbage_invalid_argument() -> None:
    """The --health-listen port has the main port's defences: bytes that are not a
    HealthCheckRequest are answered INVALID_ARGUMENT with ErrorInfo, not UNKNOWN."""
    servicer = HealthServicer()
    server, port = await start_health_listener(servicer, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=lambda raw: raw,
                response_deserializer=lambda raw: raw,
            )
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await check(b"\xff\xff\xff\xff", timeout=5)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        trailers: Any = info.value.trailing_metadata() or ()
        assert any(key == "grpc-status-details-bin" for key, _ in trailers)
    finally:
        await server.stop(0)
