"""Single transcriptions through a real `serve` process: a create retried after the gateway
was killed (SIGKILL) mid-create, and the gateway's memory while a 50 MB file streams in."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from gateway.state.redis_client import KEY_SECRET_ENV
from tests.conftest import bearer
from tests.helpers.calls import eventually, fault, metadata_value, stats
from tests.helpers.processes import start_serve
from tests.helpers.redis_server import SECRET
from tests.server.test_singles import chunks, create_request

MB = 1_000_000


async def created(sandbox: SandboxServer) -> int:
    """Transcriptions the sandbox made."""
    return int((await stats(sandbox)).get("created", {}).get("transcriptions", 0))


@pytest.mark.parametrize("with_redis", [False, True], ids=["memory", "redis"])
async def test_kill_9_in_the_middle_of_a_create_makes_one_transcription(
    sandbox: SandboxServer, request: pytest.FixtureRequest, with_redis: bool
) -> None:
    """A `serve` process killed (SIGKILL) after the upstream made the transcription but before
    its answer came; a new process (on the same Redis, or without any); the retry with the same
    request_id answers that transcription, marked replayed: one transcription, not two."""
    flags: tuple[str, ...] = ("--upstream-url", sandbox.url)
    env: dict[str, str] = {}
    if with_redis:
        redis_server = request.getfixturevalue("redis_server")
        flags += ("--redis-url", redis_server.url)
        env[KEY_SECRET_ENV] = SECRET
    await fault(sandbox, after=True, delay=5, method="POST", path_prefix="/v1/transcriptions/")
    request_id = str(uuid.uuid4())
    doomed, address = await start_serve(*flags, env=env)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            first = asyncio.ensure_future(
                pb_grpc.BatchTranscriptionServiceStub(channel).CreateTranscription(
                    create_request(request_id), metadata=bearer(), timeout=30
                )
            )
            await eventually(lambda: created(sandbox), lambda n: n == 1)
            doomed.kill()
            await doomed.wait()
            with pytest.raises(grpc.aio.AioRpcError):
                await first
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()
    successor, address = await start_serve(*flags, env=env)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            ids = set()
            for _ in range(2):  # the retry, and the retry of the retry: the same answer
                call = stub.CreateTranscription(
                    create_request(request_id), metadata=bearer(), timeout=30
                )
                ids.add((await call).transcription_id)
                assert metadata_value(await call.trailing_metadata(), "idempotent-replayed")
    finally:
        successor.kill()
        await successor.wait()
    assert len(ids) == 1
    assert await created(sandbox) == 1


def _peak_rss(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


async def test_a_50_mb_upload_streams_with_bounded_gateway_memory(
    sandbox: SandboxServer,
) -> None:
    """A 50 MB file sent in 1 MiB chunks to a `serve` process: the gateway's peak memory grows
    by about the file's base64 form (4/3 of it) and a constant, not by several copies of it,
    and the transcription completes."""
    size = 50 * MB
    process, address = await start_serve("--upstream-url", sandbox.url)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            await stub.UploadTranscription(chunks(os.urandom(MB)), metadata=bearer())  # warm
            before = _peak_rss(process.pid)
            data = os.urandom(size)
            answer = await stub.UploadTranscription(
                chunks(data, request_id=str(uuid.uuid4())), metadata=bearer(), timeout=60
            )
            growth = _peak_rss(process.pid) - before
            print(f"gateway peak RSS growth for a {size} byte upload: {growth} bytes")
            assert answer.size_bytes == size
            assert growth < size * 4 // 3 + 40 * MB, growth
            watch = stub.WatchTranscription(
                pb.WatchTranscriptionRequest(transcription_id=answer.transcription_id),
                metadata=bearer(),
                timeout=30,
            )
            states = [m.transcription_info.state async for m in watch]
            assert states[-1] == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    finally:
        process.kill()
        await process.wait()
