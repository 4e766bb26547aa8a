"""`sofer-gateway serve` as a process: embedded sandbox, serving, and SIGTERM with open watches."""

from __future__ import annotations

import asyncio
import signal
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from tests.helpers.processes import run_serve, start_serve, start_serving
from tests.helpers.streams import drain

SECRET = "process-test-secret-key"


async def create_one(
    stub: pb_grpc.BatchTranscriptionServiceStub, url: str
) -> pb.CreateBatchResponse:
    """An express batch of `url`, created with no token of the caller's own."""
    response: pb.CreateBatchResponse = await stub.CreateBatch(
        pb.CreateBatchRequest(
            info=batch_pb2.BatchInfo(), audio_sources=[batch_pb2.AudioSource(audio_url=url)]
        ),
        timeout=10,
    )
    return response


async def test_embedded_default_serves_a_client_without_credentials() -> None:
    """With no SOFER_API_URL and no SOFER_API_KEY, serve starts the sandbox in-process and a
    client with no token of its own can create a batch and read it back."""
    process, address = await start_serve("--sandbox-item-seconds", "0.2")
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            created = await create_one(stub, "https://e.com/a.mp3")
            status = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), timeout=10
            )
            assert status.batch_status.total_count == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_serve_runs_on_uvloop() -> None:
    """`serve` runs its server on uvloop (installed with the gateway), and its start line says
    which event loop it runs on."""
    process, event = await start_serving()
    try:
        assert event["event_loop"] == "uvloop"
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_sigterm_ends_open_watches_and_exits_zero() -> None:
    """SIGTERM with an open watch: health goes NOT_SERVING, the watch ends UNAVAILABLE within
    the grace period, and the process exits 0."""
    process, address = await start_serve(
        "--sandbox-item-seconds",
        "600",
        "--shutdown-grace",
        "2",
    )
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            created = await create_one(stub, "https://e.com/long.mp3")
            call = stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=created.batch_id))
            first = await call.read()
            assert isinstance(first, pb.WatchBatchStatusResponse)
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            process.send_signal(signal.SIGTERM)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await asyncio.wait_for(drain(call), 15)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "shutting down" in (raised.value.details() or "")
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_configured_key_never_reaches_the_output() -> None:
    """A gateway started with SOFER_API_KEY never prints the key, even when calls fail."""
    process, address = await start_serve(
        "--upstream-url",
        "http://127.0.0.1:9",
        "--max-attempts",
        "1",
        env={"SOFER_API_KEY": SECRET},
    )
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890"),
                    timeout=10,
                )
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            assert SECRET not in str(raised.value)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert process.stdout is not None
    rest = await process.stdout.read()
    assert SECRET.encode() not in rest


async def test_a_second_serve_on_a_taken_port_exits_2() -> None:
    """A second `serve` on the port another gateway holds does not start beside it (gRPC's
    SO_REUSEPORT would split the calls between the two): it exits 2 saying the address is in
    use, and the first gateway goes on answering."""
    first, address = await start_serve()
    try:
        status, out, err = await run_serve("--listen", address)
        assert status == 2
        assert f"--listen {address}: cannot listen there (address already in use)" in err
        assert "Traceback" not in out + err
        async with grpc.aio.insecure_channel(address) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check
            answer = await check(health_pb2.HealthCheckRequest(), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 30)


async def test_a_port_another_program_holds_exits_2() -> None:
    """A port some other program listens on stops the start the same way: exit 2 and
    "address already in use", never a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        status, out, err = await run_serve("--listen", address)
    assert status == 2
    assert f"--listen {address}: cannot listen there (address already in use)" in err
    assert "Traceback" not in out + err
