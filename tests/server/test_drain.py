"""Draining on shutdown (`--drain-delay`) and the plaintext health port (`--health-listen`),
through the real gateway: probes see NOT_SERVING first while calls are still served."""

from __future__ import annotations

import asyncio
import dataclasses
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc

from gateway.config import GatewayConfig
from gateway.server.process import SERVICE_NAME, Gateway
from tests.conftest import bearer
from tests.helpers.calls import create_express, source
from tests.helpers.processes import start_serve

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def health_of(address: str, service: str = "") -> int:
    """The status grpc.health.v1 Check reports for `service` at `address`."""
    async with grpc.aio.insecure_channel(address) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return int(answer.status)


async def test_drain_turns_health_not_serving_and_keeps_serving_calls(
    gateway_config: GatewayConfig,
) -> None:
    """During the drain delay, health says NOT_SERVING (load balancers stop sending) while
    calls are still answered; after it, the gateway stops taking calls."""
    gateway = Gateway(dataclasses.replace(gateway_config, shutdown_grace=0.5))
    await gateway.start()
    address = gateway.address
    async with grpc.aio.insecure_channel(address) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        batch = await create_express(stub, source(1))
        stopping = asyncio.ensure_future(gateway.stop(drain=1.5))
        await asyncio.sleep(0.3)
        assert await health_of(address) == NOT_SERVING
        assert await health_of(address, SERVICE_NAME) == NOT_SERVING
        answer = await stub.GetBatchStatus(
            batch_service_pb2.GetBatchStatusRequest(batch_id=batch.batch_id),
            metadata=bearer(),
            timeout=5,
        )
        assert answer.batch_status.batch_id == batch.batch_id
        assert not stopping.done()
        await stopping


async def test_health_listen_serves_health_alone_and_sees_the_drain(
    gateway_config: GatewayConfig,
) -> None:
    """--health-listen serves grpc.health.v1 on a plaintext port of its own: SERVING while the
    gateway serves, NOT_SERVING from the first moment of a drain; the batch service is not
    there (UNIMPLEMENTED)."""
    gateway = Gateway(dataclasses.replace(gateway_config, health_listen="127.0.0.1:0"))
    await gateway.start()
    try:
        assert gateway.health_port > 0
        probe = f"127.0.0.1:{gateway.health_port}"
        assert await health_of(probe) == SERVING
        assert await health_of(probe, SERVICE_NAME) == SERVING
        async with grpc.aio.insecure_channel(probe) as channel:
            stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
            request = batch_service_pb2.GetBatchStatusRequest(batch_id="x")
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.GetBatchStatus(request, timeout=5)
            assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED
        stopping = asyncio.ensure_future(gateway.stop(drain=1.0))
        await asyncio.sleep(0.3)
        assert await health_of(probe) == NOT_SERVING
        await stopping
    finally:
        await gateway.stop(0)


async def test_sigterm_drains_then_exits_0() -> None:
    """`serve --drain-delay 1`: after SIGTERM health answers NOT_SERVING for the drain, then the
    process exits 0."""
    process, address = await start_serve("--drain-delay", "1.5", "--shutdown-grace", "0.5")
    try:
        assert await health_of(address) == SERVING
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert await health_of(address) == NOT_SERVING
        async with asyncio.timeout(20):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
