"""A hostile upstream, through the real gateway: whatever it sends, the call ends with a
documented status within its deadline, the gateway's memory stays bounded, and a bystander's
call made meanwhile is answered.

The upstream is a raw asyncio server on loopback (port 0): requests for the bystander's batch
get a well-formed answer; every other request (the hostile batch's status, a create) gets the
misbehaviour under test. Answers past `--upstream-max-response-bytes`, or past the transport's
header limits, end UNAVAILABLE `UPSTREAM_BAD_RESPONSE` (`OUTCOME_UNKNOWN` for a create that was
sent); an answer that trickles ends DEADLINE_EXCEEDED `UPSTREAM_TIMEOUT` by the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers.calls import assert_error, express, rpc_error, source

MIB = 1024 * 1024
HOSTILE = str(uuid.UUID(int=0xBAD))
GOOD = str(uuid.UUID(int=0x600D))
DEADLINE = 8.0
"""Seconds each hostile call is given: every one must end well before it."""
TRICKLE_DEADLINE = 4.0
"""The trickling calls' deadline (the gateway answers up to 0.4 s before it, its margin)."""
RSS_BUDGET = 64 * MIB
"""What the gateway's process may grow by while it is attacked."""
SENT_AT_MOST = 1024 * MIB
"""A cap on what any misbehaviour sends, so that a test cannot run away."""
GOOD_BODY = json.dumps(
    {
        "batch_id": GOOD,
        "status": "PROCESSING",
        "total_count": 0,
        "completed_count": 0,
        "failed_count": 0,
        "pending_count": 0,
        "transcriptions": [],
    }
).encode()

Behaviour = Callable[[asyncio.StreamWriter], Awaitable[None]]


def rss(*, collect: bool = True) -> int:
    """This process's resident set (VmRSS), in bytes, after a collection unless told not to
    (a full collection stalls the loop: sampled during a call, it is skipped)."""
    if collect:
        gc.collect()
    text = Path("/proc/self/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    assert found is not None
    return int(found.group(1)) * 1024


class Upstream:
    """The hostile upstream: the bystander's batch answered well, the rest by `behave`."""

    def __init__(self, behave: Behaviour) -> None:
        self.behave = behave
        self.misbehaving = asyncio.Event()
        self.connections: set[asyncio.Task[None]] = set()
        self.url = ""

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                if GOOD.encode() in head.split(b"\r\n", 1)[0]:
                    writer.write(answer(GOOD_BODY))
                    await writer.drain()
                    continue
                self.misbehaving.set()
                await self.behave(writer)
                break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the gateway let go: what it should do
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def answer(body: bytes) -> bytes:
    """A well-formed 200 with `body`."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % len(body) + body


@contextlib.asynccontextmanager
async def hostile(behave: Behaviour) -> AsyncIterator[Upstream]:
    """The hostile upstream on 127.0.0.1, port 0; its connections end within the test (each
    once the gateway has let it go)."""
    upstream = Upstream(behave)
    server = await asyncio.start_server(upstream.connection, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with server:
            yield upstream
    finally:
        pending = [task for task in upstream.connections if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=DEADLINE)


@dataclass
class Outcome:
    """What the hostile call got, how long it took, and what the gateway's memory did."""

    error: grpc.aio.AioRpcError
    seconds: float
    growth: int
    """The most the process's RSS grew by, during the call and after it."""


async def attack(
    behave: Behaviour, *, create: bool = False, deadline: float = DEADLINE, **settings: Any
) -> Outcome:
    """One hostile call (GetBatchStatus, or CreateBatch) with `deadline`, through a real
    gateway in front of `behave`, with a bystander's GetBatchStatus and a health check made
    while it misbehaves; both of those must be answered."""
    async with hostile(behave) as upstream:
        config = GatewayConfig(
            listen="127.0.0.1:0",
            upstream_url=upstream.url,
            backoff_base=0.01,
            backoff_cap=0.1,
            shutdown_grace=0.5,
            **settings,
        )
        async with (
            Gateway(config) as gateway,
            grpc.aio.insecure_channel(gateway.address) as channel,
        ):
            stub = pb_grpc.BatchTranscriptionServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            await stub.GetBatchStatus(  # the connection and the code paths warm
                pb.GetBatchStatusRequest(batch_id=GOOD), metadata=bearer(), timeout=DEADLINE
            )
            before = peak = rss()
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, rss(collect=False))
                    await asyncio.sleep(0.02)

            sampler = asyncio.create_task(sample())
            loop = asyncio.get_running_loop()
            started = loop.time()
            if create:
                hostile_call = stub.CreateBatch(
                    express(source(1), request_id=str(uuid.uuid4())),
                    metadata=bearer(),
                    timeout=deadline,
                )
            else:
                hostile_call = stub.GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id=HOSTILE), metadata=bearer(), timeout=deadline
                )
            ended = 0.0

            async def hostile_error() -> grpc.aio.AioRpcError:
                nonlocal ended
                try:
                    return await rpc_error(hostile_call)
                finally:
                    ended = loop.time()

            failed = asyncio.create_task(hostile_error())
            async with asyncio.timeout(DEADLINE):
                await upstream.misbehaving.wait()
            bystander = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=GOOD), metadata=bearer(), timeout=DEADLINE
            )
            assert bystander.batch_status.batch_id == GOOD
            checked = await health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE)
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            error = await failed
            seconds = ended - started
            sampling = False
            await sampler
            peak = max(peak, rss())
    return Outcome(error, seconds, peak - before)


def bad_response(outcome: Outcome, *, create: bool, mentions: str) -> None:
    """UNAVAILABLE UPSTREAM_BAD_RESPONSE (OUTCOME_UNKNOWN for a create), naming the limit,
    well within the deadline, the memory within its budget."""
    reason = "OUTCOME_UNKNOWN" if create else "UPSTREAM_BAD_RESPONSE"
    assert_error(outcome.error, grpc.StatusCode.UNAVAILABLE, reason)
    assert mentions in (outcome.error.details() or "")
    assert outcome.seconds < DEADLINE / 2
    assert outcome.growth <= RSS_BUDGET, f"RSS grew {outcome.growth / MIB:.0f} MiB"


async def send(writer: asyncio.StreamWriter, chunk: bytes, total: int) -> None:
    """`chunk` again and again, `total` bytes at most, as fast as the gateway reads."""
    for _ in range(total // len(chunk)):
        writer.write(chunk)
        await writer.drain()


# -- the misbehaviours ------------------------------------------------------------------------


async def many_header_lines(writer: asyncio.StreamWriter) -> None:
    """20,000 header lines of 1 KiB (20 MB of head), then a well-formed body."""
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for n in range(20_000):
        writer.write(b"X-Filler-%05d: %s\r\n" % (n, b"a" * 1000))
        if n % 64 == 0:
            await writer.drain()
    writer.write(answer(GOOD_BODY).split(b"\r\n", 1)[1])
    await writer.drain()


async def one_long_header_line(writer: asyncio.StreamWriter) -> None:
    """One header line of 1 MiB."""
    writer.write(b"HTTP/1.1 200 OK\r\nX-Filler: ")
    await send(writer, b"a" * 64 * 1024, MIB)
    writer.write(b"\r\n" + answer(GOOD_BODY).split(b"\r\n", 1)[1])
    await writer.drain()


def body_of_400_mb(declared: bool) -> Behaviour:
    """400 MB of body, its length declared (Content-Length) or not (ended by the close)."""

    async def behave(writer: asyncio.StreamWriter) -> None:
        length = b"Content-Length: 400000000\r\n" if declared else b"Connection: close\r\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + length + b"\r\n")
        await send(writer, b'{"x":"' + b"x" * (MIB - 6), 400 * MIB)

    return behave


@cache
def gzip_bomb() -> bytes:
    """One gzip stream of about 1 MB that inflates to 1 GiB of zeros. Each MiB of zeros is
    compressed from a fresh window (a full flush), so one block repeated is the whole stream,
    made without ever holding the GiB. Its trailer's check sum is left zero: no reader that
    stops at a bound gets there, and one that does not has inflated the GiB first."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(b"\0" * MIB) + packer.flush(zlib.Z_FULL_FLUSH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = bytes(4) + (1024 * MIB % 2**32).to_bytes(4, "little")
    return header + block * 1024 + packer.flush() + trailer


async def a_gzip_bomb(writer: asyncio.StreamWriter) -> None:
    """A 1 MB gzip body that inflates to 1 GiB."""
    bomb = gzip_bomb()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(bomb)
    )
    for start in range(0, len(bomb), 64 * 1024):
        writer.write(bomb[start : start + 64 * 1024])
        await writer.drain()


async def an_endless_chunked_body(writer: asyncio.StreamWriter) -> None:
    """Chunks of 64 KiB that never end (until SENT_AT_MOST)."""
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    await send(writer, b"10000\r\n" + b"x" * 0x10000 + b"\r\n", SENT_AT_MOST)


def a_trickle(in_head: bool) -> Behaviour:
    """One byte every 50 ms, in the head or in the body, never finishing within the deadline."""

    async def behave(writer: asyncio.StreamWriter) -> None:
        whole = answer(b"[" + b"7," * 1000 + b"7]")
        start = 0 if in_head else whole.index(b"\r\n\r\n") + 4
        writer.write(whole[:start])
        for byte in whole[start : start + int(DEADLINE / 0.05) * 2]:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)  # the misbehaviour's own pace, not a wait in the test

    return behave


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("create", [False, True], ids=["get", "create"])
@pytest.mark.parametrize("behave", [many_header_lines, one_long_header_line])
async def test_a_head_past_the_header_limits_is_a_bad_response(
    behave: Behaviour, create: bool
) -> None:
    """20,000 header lines of 1 KiB, or one header line of 1 MiB: refused at the transport's
    header limits (128 fields, 8190 bytes a line), UNAVAILABLE UPSTREAM_BAD_RESPONSE (a create:
    OUTCOME_UNKNOWN), the message naming the limits; memory bounded, bystanders answered."""
    outcome = await attack(behave, create=create)
    bad_response(outcome, create=create, mentions="128 header fields")


@pytest.mark.parametrize("create", [False, True], ids=["get", "create"])
@pytest.mark.parametrize("declared", [False, True], ids=["until-close", "content-length"])
async def test_a_400_mb_body_is_a_bad_response(declared: bool, create: bool) -> None:
    """A 400 MB body is read no further than --upstream-max-response-bytes (32 MiB): refused
    UNAVAILABLE UPSTREAM_BAD_RESPONSE (a create: OUTCOME_UNKNOWN) naming the flag, at once when
    its length says so; memory bounded, bystanders answered."""
    outcome = await attack(body_of_400_mb(declared), create=create)
    bad_response(outcome, create=create, mentions="--upstream-max-response-bytes")


@pytest.mark.parametrize("create", [False, True], ids=["get", "create"])
@pytest.mark.parametrize("limit", [None, 2 * MIB], ids=["default-limit", "2-MiB-limit"])
async def test_a_gzip_bomb_is_inflated_no_further_than_the_limit(
    limit: int | None, create: bool
) -> None:
    """A 1 MB gzip answer inflating to 1 GiB is inflated only up to the limit (32 MiB by
    default, or the --upstream-max-response-bytes given): UNAVAILABLE UPSTREAM_BAD_RESPONSE (a
    create: OUTCOME_UNKNOWN) naming the flag; memory bounded, the loop free for bystanders."""
    settings = {} if limit is None else {"upstream_max_response_bytes": limit}
    outcome = await attack(a_gzip_bomb, create=create, **settings)
    bad_response(outcome, create=create, mentions="gzip body inflates to more than")


@pytest.mark.parametrize("create", [False, True], ids=["get", "create"])
async def test_an_endless_chunked_body_is_a_bad_response(create: bool) -> None:
    """A chunked body that never ends is read no further than the limit: UNAVAILABLE
    UPSTREAM_BAD_RESPONSE (a create: OUTCOME_UNKNOWN); memory bounded, bystanders answered."""
    outcome = await attack(an_endless_chunked_body, create=create, upstream_max_response_bytes=MIB)
    bad_response(outcome, create=create, mentions="--upstream-max-response-bytes")


@pytest.mark.parametrize("create", [False, True], ids=["get", "create"])
@pytest.mark.parametrize("in_head", [True, False], ids=["head", "body"])
async def test_a_trickle_ends_by_the_deadline(in_head: bool, create: bool) -> None:
    """An answer that comes one byte every 50 ms (in its head, or its body) never holds a call
    past its deadline: DEADLINE_EXCEEDED UPSTREAM_TIMEOUT (a create: OUTCOME_UNKNOWN) by then,
    from the gateway (with its ErrorInfo), not grpc's bare one; bystanders answered."""
    outcome = await attack(a_trickle(in_head), create=create, deadline=TRICKLE_DEADLINE)
    reason = "OUTCOME_UNKNOWN" if create else "UPSTREAM_TIMEOUT"
    assert_error(outcome.error, grpc.StatusCode.DEADLINE_EXCEEDED, reason)
    assert TRICKLE_DEADLINE / 2 < outcome.seconds <= TRICKLE_DEADLINE
    assert outcome.growth <= RSS_BUDGET
