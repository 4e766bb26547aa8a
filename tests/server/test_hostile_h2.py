"""Hostile HTTP/2 (issue 9, item 9): streams that never finish their request message are answered
and let go, and one connection cannot open streams without end.

A raw HTTP/2 client (the `h2` package) speaks to the real gateway on loopback and sends what a
generated stub never does: HEADERS with END_STREAM and no message, a gRPC length prefix that
announces more bytes than follow, and more streams than the server's SETTINGS allow.
"""

from __future__ import annotations

import asyncio
import dataclasses
import struct
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import grpc
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.config import GatewayConfig
from gateway.server.process import SERVICE_NAME, Gateway
from tests.helpers.calls import eventually
from tests.helpers.raw_h2 import ANSWER_WITHIN, RawConnection

TIMEOUT = 1.0  # the gateway's request_message_timeout in this module
CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
UNARY = f"/{SERVICE_NAME}/GetBatchStatus"
SERVER_STREAMING = f"/{SERVICE_NAME}/WatchBatchStatus"
# A length-prefixed gRPC message announcing 16 bytes, of which only 2 are sent.
INCOMPLETE = b"\x00" + struct.pack(">I", 16) + b"ab"


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """A short request-message timeout, so a test sees it end calls."""
    return dataclasses.replace(
        gateway_config, request_message_timeout=TIMEOUT, max_concurrent_streams=200
    )


@pytest.fixture
async def connect(gateway: Gateway) -> AsyncIterator[RawConnection]:
    """One raw HTTP/2 connection to the test's gateway, closed afterwards."""
    connection = await RawConnection.open(gateway.address)
    try:
        await connection.handshake()
        yield connection
    finally:
        await connection.close()


async def _open_calls() -> int:
    """Tasks in the gateway's event loop: grpc.aio keeps two per call in progress."""
    return len(asyncio.all_tasks())


@pytest.mark.parametrize("path", [CHECK, WATCH, UNARY, SERVER_STREAMING])
async def test_headers_with_end_stream_and_no_message_are_answered(
    connect: RawConnection, path: str
) -> None:
    """A stream whose HEADERS carry END_STREAM and no request message, on a method that takes
    one, is answered at once INVALID_ARGUMENT with ErrorInfo REQUEST_INVALID (before, it was
    never answered while the connection lived)."""
    answer = await connect.answer(connect.start(path, None, end=True))
    assert answer.ended
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.INVALID_ARGUMENT.value[0])
    assert "without a complete request message" in answer.headers["grpc-message"]
    assert path in answer.headers["grpc-message"]
    info = answer.error_info()
    assert (info.reason, info.domain) == ("REQUEST_INVALID", "sofer-gateway")


@pytest.mark.parametrize("path", [CHECK, WATCH, UNARY, SERVER_STREAMING, REFLECTION])
async def test_incomplete_message_ends_after_the_request_message_timeout(
    connect: RawConnection, path: str
) -> None:
    """A stream whose length prefix announces more bytes than are sent ends DEADLINE_EXCEEDED
    (ErrorInfo REQUEST_MESSAGE_TIMEOUT, naming the timeout) once --request-message-timeout has
    passed,
    not before and not never."""
    started = time.monotonic()
    answer = await connect.answer(connect.start(path, INCOMPLETE, end=False))
    assert answer.at - started >= TIMEOUT / 2  # the configured wait, not an instant refusal
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
    message = answer.headers["grpc-message"]
    assert f"within {TIMEOUT:g} s" in message
    assert "--request-message-timeout" in message
    info = answer.error_info()
    assert (info.reason, info.domain) == ("REQUEST_MESSAGE_TIMEOUT", "sofer-gateway")


@pytest.mark.parametrize("path", [CHECK, UNARY])
async def test_incomplete_message_then_end_stream_is_invalid_argument(
    connect: RawConnection, path: str
) -> None:
    """A unary call whose stream ends in the middle of its request message is answered
    INVALID_ARGUMENT at once."""
    answer = await connect.answer(connect.start(path, INCOMPLETE, end=True))
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.INVALID_ARGUMENT.value[0])
    assert answer.error_info().reason == "REQUEST_INVALID"


async def test_max_concurrent_streams_is_advertised_and_enforced(
    gateway_config: GatewayConfig,
) -> None:
    """The server's SETTINGS carry --max-concurrent-streams, and streams one connection opens
    past it are refused (RST_STREAM REFUSED_STREAM) while the others are held; the limit is
    per connection, so another client's calls still go through."""
    config = dataclasses.replace(
        gateway_config, max_concurrent_streams=4, request_message_timeout=60.0
    )
    async with Gateway(config) as gateway, AsyncExitStack() as stack:
        raw = await RawConnection.open(gateway.address)
        stack.push_async_callback(raw.close)
        await raw.handshake()
        assert raw.settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 4
        raw.ignore_stream_limit()
        streams = [raw.start(CHECK, INCOMPLETE, end=False) for _ in range(6)]
        await raw.wait(lambda: sum(raw.answers[s].done for s in streams) >= 2)
        await asyncio.sleep(0.5)  # any further refusal would come with the first two
        refused = [s for s in streams if raw.answers[s].reset is not None]
        assert refused == streams[4:]
        assert {raw.answers[s].reset for s in refused} == {h2.errors.ErrorCodes.REFUSED_STREAM}
        assert not any(raw.answers[s].done for s in streams[:4])  # held, awaiting their bytes

        channel = await stack.enter_async_context(grpc.aio.insecure_channel(gateway.address))
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(3):
            answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=30)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_abandoned_streams_release_their_calls(gateway: Gateway) -> None:
    """Hundreds of streams that never complete a message, over a few connections, all get an
    answer while their connections stay open, and the gateway's open calls (grpc.aio tasks)
    drop back to what they were; closing the connections leaves nothing behind either."""
    connections = [await RawConnection.open(gateway.address) for _ in range(4)]
    try:
        for connection in connections:
            await connection.handshake()
        baseline = await _open_calls()
        for connection in connections:
            for i in range(150):
                if i % 2:
                    connection.start(CHECK, None, end=True)
                else:
                    connection.start(UNARY, INCOMPLETE, end=False)
        # The calls do open (the count observes them) ...
        await eventually(_open_calls, lambda n: n >= baseline + 300, within=ANSWER_WITHIN)
        for connection in connections:
            await connection.wait(connection.all_answered)
        answered = [a for c in connections for a in c.answers.values()]
        assert len(answered) == 600
        assert {a.headers.get("grpc-status") for a in answered} == {"3", "4"}
        # ... and all of them end while their connections are still open.
        await eventually(_open_calls, lambda n: n <= baseline, within=ANSWER_WITHIN)
    finally:
        for connection in connections:
            await connection.close()
    # Closing the connections leaves nothing behind either (their readers are gone too).
    after = baseline - len(connections)
    await eventually(_open_calls, lambda n: n <= after, within=ANSWER_WITHIN)


async def test_reflection_stream_may_pause_between_requests(channel: grpc.aio.Channel) -> None:
    """Only the wait for a stream's first message is bounded: a reflection client (grpcurl
    keeps its stream open while its call runs) may pause longer than the timeout between
    requests."""
    requests: asyncio.Queue[reflection_pb2.ServerReflectionRequest | None] = asyncio.Queue()

    async def send() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        while (request := await requests.get()) is not None:
            yield request

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(send(), timeout=30)
    ask = reflection_pb2.ServerReflectionRequest(list_services="")
    await requests.put(ask)
    first = await call.read()
    await asyncio.sleep(TIMEOUT * 1.5)
    await requests.put(ask)
    second = await call.read()
    await requests.put(None)
    assert first.list_services_response == second.list_services_response
    assert SERVICE_NAME in {s.name for s in first.list_services_response.service}
