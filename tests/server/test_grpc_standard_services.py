"""The standard services beside the API: grpc.health.v1 and server reflection."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.config import GatewayConfig
from gateway.server.process import Gateway

SERVICE = "sofer.batch.v1.BatchTranscriptionService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("service", ["", SERVICE])
async def test_health_check_is_serving(channel: grpc.aio.Channel, service: str) -> None:
    """Health Check answers SERVING for the whole server and for the batch service."""
    health = health_pb2_grpc.HealthStub(channel)
    response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert response.status == SERVING


async def test_health_check_of_unknown_service_is_not_found(channel: grpc.aio.Channel) -> None:
    """Health Check of a service the gateway does not serve is NOT_FOUND."""
    health = health_pb2_grpc.HealthStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def _reflect(
    channel: grpc.aio.Channel, *requests: reflection_pb2.ServerReflectionRequest
) -> list[reflection_pb2.ServerReflectionResponse]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def outgoing() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        for request in requests:
            yield request

    return [response async for response in stub.ServerReflectionInfo(outgoing(), timeout=5)]


async def test_reflection_lists_the_services(channel: grpc.aio.Channel) -> None:
    """Server reflection lists the batch service, health and reflection itself."""
    (response,) = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in response.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_reflection_describes_the_service(channel: grpc.aio.Channel) -> None:
    """Reflection serves the proto of the batch service, so tools like buf curl and grpcurl can
    call it without local .proto files."""
    (response,) = await _reflect(
        channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE)
    )
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    by_name = {f.name: f for f in files}
    service_file = by_name["sofer/batch/v1/batch_service.proto"]
    methods = {m.name for m in service_file.service[0].method}
    assert {"CreateBatch", "GetBatchStatus", "WatchBatchStatus", "GetBatchItem"} <= methods


async def test_health_goes_not_serving_when_stop_begins(gateway_config: GatewayConfig) -> None:
    """A health watcher sees NOT_SERVING as soon as the gateway starts shutting down, before
    the server goes away (so load balancers drain it first)."""
    gateway = Gateway(dataclasses.replace(gateway_config, shutdown_grace=5.0))
    await gateway.start()
    try:
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
            first = await watch.read()
            assert first.status == SERVING
            stopping = asyncio.create_task(gateway.stop())
            second = await watch.read()
            assert second.status == NOT_SERVING
            watch.cancel()  # lets the server's grace period end now
            await stopping
    finally:
        await gateway.stop()
