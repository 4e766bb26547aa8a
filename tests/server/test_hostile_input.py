"""Hostile input: property-based tests (hypothesis) that send random and extreme requests to every
RPC of a real gateway (in front of a real sandbox): huge strings and lists, unicode, control
characters, negative and enormous numbers, every enum value and unknown ones, random credentials
and request ids, and messages with nothing set. The answer is always OK or an expected code with
a message, never UNKNOWN or INTERNAL, never a hang, and the server stays healthy.

The sandbox and the gateway run for the whole module in an event loop on a background thread;
each example's call runs there (`run_coroutine_threadsafe`), so the @given tests themselves are
plain synchronous functions and hypothesis drives them as usual, deterministically
(`derandomize=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer

pb = batch_service_pb2
T = TypeVar("T")
SERVICE = "sofer.batch.v1.BatchTranscriptionService"
CALL_TIMEOUT = 20.0  # per call: a hang fails as DEADLINE_EXCEEDED, which is not expected
MESSAGE_LIMIT = 4 * 1024 * 1024  # the gateway's max_receive_message_bytes in this module
EXPECTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.OUT_OF_RANGE,
}

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# -- a gateway for the whole module, on a background loop --------------------------------------


@dataclass
class Served:
    """The module's running sandbox and gateway, and ids of real objects in them."""

    loop: asyncio.AbstractEventLoop
    gateway: Gateway
    channel: grpc.aio.Channel
    stub: batch_service_pb2_grpc.BatchTranscriptionServiceStub
    batch_id: str = ""
    transcription_id: str = ""
    batch_file_id: str = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run `coro` on the background loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hostile-input-loop", daemon=True)
    thread.start()
    stack = contextlib.AsyncExitStack()

    async def start() -> Served:
        sandbox = await stack.enter_async_context(
            SandboxServer(
                SandboxConfig(item_seconds=0.5, manifest_validation_seconds=0.0),
                host="127.0.0.1",
                port=0,
            )
        )
        config = GatewayConfig(
            listen="127.0.0.1:0",
            upstream_url=sandbox.url,
            default_timeout=10.0,
            backoff_base=0.01,
            backoff_cap=0.1,
            shutdown_grace=0.5,
            max_receive_message_bytes=MESSAGE_LIMIT,
        )
        gateway = await stack.enter_async_context(Gateway(config))
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(gateway.address))
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        created = await stub.CreateBatch(
            pb.CreateBatchRequest(
                info=batch_pb2.BatchInfo(),
                processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
                audio_sources=[
                    batch_pb2.AudioSource(
                        audio_url="https://cdn.example.com/a.mp3", client_item_id="ep-1"
                    )
                ],
            ),
            metadata=bearer(),
        )
        uploaded = await stub.UploadManifest(
            pb.UploadManifestRequest(jsonl='{"audio_url": "https://cdn.example.com/b.mp3"}'),
            metadata=bearer(),
        )
        return Served(
            loop,
            gateway,
            channel,
            stub,
            batch_id=created.batch_id,
            transcription_id=created.transcription_ids[0],
            batch_file_id=uploaded.manifest.id,
        )

    try:
        running = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
        yield running
        running.run(_assert_healthy(running))
    finally:
        asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _assert_healthy(served: Served) -> None:
    health = health_pb2_grpc.HealthStub(served.channel)
    for service in ("", SERVICE):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    await served.stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(), timeout=10)


@pytest.fixture(autouse=True)
def healthy_after(served: Served) -> Iterator[None]:
    """After each property, the server still serves."""
    yield
    served.run(_assert_healthy(served))


def check(served: Served, call: Callable[[], Awaitable[Any]]) -> grpc.StatusCode:
    """Make one call on the background loop; its code, checked to be an expected one."""

    async def attempt() -> tuple[grpc.StatusCode, str]:
        try:
            await call()
        except grpc.aio.AioRpcError as error:
            return error.code(), error.details() or ""
        return grpc.StatusCode.OK, ""

    code, message = served.run(attempt(), timeout=CALL_TIMEOUT + 30)
    assert code in EXPECTED, (code, message)
    if code != grpc.StatusCode.OK:
        assert message.strip(), code
    return code


# -- strategies -------------------------------------------------------------------------------

# Text without surrogates (protobuf strings are UTF-8), control characters included.
CHARS = st.characters(exclude_categories=["Cs"])
ODD = ["\x00", "\x1b[31m", "\r\n", "\u202e", "\ufeff", "\U0001d518", "שָׁלוֹם"]
ODD += ["../", "%00", "'\"\\", "\t"]


def _huge(unit: str, count: int) -> str:
    return unit * count


TEXT = st.one_of(
    st.text(CHARS, max_size=40),
    st.sampled_from(["", " ", *ODD]),
    st.builds(_huge, st.sampled_from(["a", "é", *ODD]), st.integers(0, 300_000)),
)
GOOD_URLS = st.builds(
    "https://cdn.example.com/{}.mp3".format,
    st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=20),
)
URLS = st.one_of(
    GOOD_URLS,
    GOOD_URLS,
    TEXT,
    st.sampled_from(
        [
            "https://cdn.example.com/x.mp3",
            "http://127.0.0.1:9/feed.xml",
            "ftp://example.com/a.mp3",
            "https://" + "a" * 3000 + ".com/",
            "https://exa mple.com/\x00.mp3",
            "javascript:alert(1)",
            "https://[::1/",
            "https://example.com/fail.mp3",
        ]
    ),
)
INT32 = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, -1, 1, 10, 11, 500, 501, 2**31 - 1, -(2**31)]),
)


def enums(wrapper: Any) -> st.SearchStrategy[Any]:
    """Every value of a proto enum, and unknown ones (proto3 enums are open)."""
    known = st.sampled_from(list(wrapper.values()))
    return st.one_of(known, known, known, st.integers(-5, 40), st.just(2**31 - 1))


def maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def _listed(item: Any, count: int) -> list[Any]:
    return [item] * count


def lists(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[list[T]]:
    """Short lists of random elements, or one element repeated up to far past every limit."""
    return st.one_of(
        st.lists(strategy, max_size=4),
        st.builds(_listed, strategy, st.integers(0, 1200)),
    )


@st.composite
def audio_sources(draw: st.DrawFn) -> batch_pb2.AudioSource:
    source = batch_pb2.AudioSource()
    for name, value in (
        ("audio_url", draw(maybe(URLS))),
        ("title", draw(maybe(TEXT))),
        ("client_item_id", draw(maybe(TEXT))),
    ):
        if value is not None:
            setattr(source, name, value)
    speakers = draw(st.sampled_from(["none", "num", "auto"]))
    if speakers == "num":
        source.num_speakers = draw(INT32)
    elif speakers == "auto":
        source.auto_detect_speakers = draw(st.booleans())
    return source


@st.composite
def batch_infos(draw: st.DrawFn) -> batch_pb2.BatchInfo | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    info = batch_pb2.BatchInfo(
        model=draw(TEXT) if draw(st.booleans()) else "",
        title=draw(TEXT) if draw(st.booleans()) else "",
        primary_language=draw(enums(batch_pb2.Language)),
        hebrew_word_format=draw(st.lists(enums(batch_pb2.HebrewWordFormat), max_size=5)),
    )
    speakers = draw(st.sampled_from(["none", "num", "auto"]))
    if speakers == "num":
        info.num_speakers = draw(INT32)
    elif speakers == "auto":
        info.auto_detect_speakers = draw(st.booleans())
    return info


def request_ids() -> st.SearchStrategy[str]:
    fresh = st.builds(lambda: str(uuid.uuid4()))
    return st.one_of(st.just(""), fresh, fresh, TEXT)


def metadata() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """The test tenant's token mostly; sometimes none, a malformed one, or odd request ids."""
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)
    return st.one_of(
        *[st.just(bearer())] * 6,
        st.just(()),
        st.builds(lambda v: (("authorization", v),), printable),
        st.builds(lambda v: (*bearer(), ("x-request-id", v)), printable),
        st.just(bearer("other-" + TOKEN)),
    )


def ids(served_ids: list[str]) -> st.SearchStrategy[str]:
    """Real ids, unknown UUIDs, and anything at all."""
    return st.one_of(
        st.sampled_from(served_ids),
        st.builds(lambda: str(uuid.uuid4())),
        TEXT,
        st.just(str(uuid.UUID(int=0))),
    )


def _fits(message: Any) -> bool:
    """Below the gateway's message limit (above it gRPC refuses it, tested elsewhere)."""
    return bool(message.ByteSize() < MESSAGE_LIMIT - 1024)


# -- the properties ---------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_create_batch_never_fails_unexpectedly(served: Served, data: st.DataObject) -> None:
    """CreateBatch with anything in any field (express, standard, both, neither)."""
    request = pb.CreateBatchRequest()
    request_id = data.draw(request_ids())
    if request_id:
        request.request_id = request_id
    info = data.draw(batch_infos())
    if info is not None:
        request.info.CopyFrom(info)
    request.batch_title = data.draw(st.one_of(st.just(""), TEXT))
    request.processing_mode = data.draw(enums(batch_pb2.ProcessingMode))
    request.batch_file_id = data.draw(
        st.one_of(st.just(""), ids([served.batch_file_id, served.batch_id]))
    )
    request.audio_sources.extend(data.draw(lists(audio_sources())))
    if not _fits(request):
        return
    meta = data.draw(metadata())
    check(served, lambda: served.stub.CreateBatch(request, metadata=meta, timeout=CALL_TIMEOUT))


@SETTINGS
@given(data=st.data())
def test_upload_manifest_never_fails_unexpectedly(served: Served, data: st.DataObject) -> None:
    """UploadManifest with typed items, a JSONL string (random, huge, or broken JSON lines), or
    neither; random metadata."""
    request = pb.UploadManifestRequest(request_id=data.draw(request_ids()))
    kind = data.draw(st.sampled_from(["items", "jsonl", "jsonl-lines", "none"]))
    if kind == "items":
        request.items.items.extend(data.draw(lists(audio_sources())))
    elif kind == "jsonl":
        request.jsonl = data.draw(TEXT)
    elif kind == "jsonl-lines":
        line = data.draw(
            st.sampled_from(
                [
                    '{"audio_url": "https://cdn.example.com/a.mp3"}',
                    '{"audio_url": 7}',
                    "[]",
                    "null",
                    '{"audio_url": "https://x.example/a.mp3", "num_speakers": -99999999999}',
                    '{"audio_url": "https://x.example/a.mp3", "client_item_id": "dup"}',
                    "{" * 10_000,
                    "",
                ]
            )
        )
        request.jsonl = "\n".join([line] * data.draw(st.integers(0, 1200)))
    if data.draw(st.booleans()):
        request.metadata.title = data.draw(TEXT)
        request.metadata.description = data.draw(TEXT)
    if not _fits(request):
        return
    meta = data.draw(metadata())
    check(served, lambda: served.stub.UploadManifest(request, metadata=meta, timeout=CALL_TIMEOUT))


@SETTINGS
@given(data=st.data())
def test_create_manifest_from_rss_never_fails_unexpectedly(
    served: Served, data: st.DataObject
) -> None:
    """CreateManifestFromRss with odd URLs, negative and enormous limits and offsets."""
    request = pb.CreateManifestFromRssRequest(
        request_id=data.draw(request_ids()), rss_url=data.draw(URLS)
    )
    limit, offset = data.draw(maybe(INT32)), data.draw(maybe(INT32))
    if limit is not None:
        request.limit = limit
    if offset is not None:
        request.offset = offset
    if data.draw(st.booleans()):
        request.metadata.title = data.draw(TEXT)
    if not _fits(request):
        return
    meta = data.draw(metadata())
    check(
        served,
        lambda: served.stub.CreateManifestFromRss(request, metadata=meta, timeout=CALL_TIMEOUT),
    )


@SETTINGS
@given(data=st.data())
def test_reads_never_fail_unexpectedly(served: Served, data: st.DataObject) -> None:
    """Every read RPC with random ids, page sizes, page tokens and filters."""
    known = [served.batch_id, served.transcription_id, served.batch_file_id]
    stub = served.stub
    rpc = data.draw(
        st.sampled_from(
            [
                "GetManifest",
                "ListManifests",
                "GetBatchStatus",
                "GetBatchItem",
                "GetTranscription",
                "GetTranscriptionStatus",
            ]
        )
    )
    request: Any
    if rpc == "GetManifest":
        request = pb.GetManifestRequest(batch_file_id=data.draw(ids(known)))
    elif rpc == "ListManifests":
        request = pb.ListManifestsRequest(
            page_size=data.draw(INT32), page_token=data.draw(st.one_of(st.just(""), TEXT))
        )
    elif rpc == "GetBatchStatus":
        request = pb.GetBatchStatusRequest(batch_id=data.draw(ids(known)))
    elif rpc == "GetBatchItem":
        request = pb.GetBatchItemRequest(
            batch_id=data.draw(ids(known)),
            client_item_id=data.draw(st.one_of(st.just("ep-1"), TEXT)),
        )
    elif rpc == "GetTranscription":
        request = pb.GetTranscriptionRequest(
            transcription_id=data.draw(ids(known)),
            filter_hebrew_word_format=data.draw(enums(batch_pb2.HebrewWordFormat)),
        )
    else:
        request = pb.GetTranscriptionStatusRequest(transcription_id=data.draw(ids(known)))
    if not _fits(request):
        return
    meta = data.draw(metadata())
    method = getattr(stub, rpc)
    check(served, lambda: method(request, metadata=meta, timeout=CALL_TIMEOUT))


@SETTINGS
@given(data=st.data())
def test_watch_never_fails_unexpectedly(served: Served, data: st.DataObject) -> None:
    """WatchBatchStatus with random batch ids: it streams (first message read, then the stream
    is cancelled) or ends with an expected code; never a hang."""
    request = pb.WatchBatchStatusRequest(
        batch_id=data.draw(ids([served.batch_id, served.transcription_id]))
    )
    if not _fits(request):
        return
    meta = data.draw(metadata())

    async def first_message() -> None:
        call = served.stub.WatchBatchStatus(request, metadata=meta, timeout=CALL_TIMEOUT)
        try:
            message = await call.read()
            if message is not grpc.aio.EOF:  # type: ignore[attr-defined]
                assert message.batch_status.batch_id == request.batch_id
            else:
                await call  # raises when the stream ended with an error
        finally:
            call.cancel()

    check(served, first_message)


@SETTINGS
@given(
    rpc=st.sampled_from(
        [
            ("CreateBatch", pb.CreateBatchRequest),
            ("UploadManifest", pb.UploadManifestRequest),
            ("CreateManifestFromRss", pb.CreateManifestFromRssRequest),
            ("GetManifest", pb.GetManifestRequest),
            ("ListManifests", pb.ListManifestsRequest),
            ("GetBatchStatus", pb.GetBatchStatusRequest),
            ("GetBatchItem", pb.GetBatchItemRequest),
            ("GetTranscription", pb.GetTranscriptionRequest),
            ("GetTranscriptionStatus", pb.GetTranscriptionStatusRequest),
        ]
    ),
    meta=metadata(),
)
def test_empty_requests_never_fail_unexpectedly(
    served: Served, rpc: tuple[str, type[Any]], meta: tuple[tuple[str, str], ...]
) -> None:
    """Every unary RPC with nothing set at all, with any credentials."""
    name, message = rpc
    method = getattr(served.stub, name)
    code = check(served, lambda: method(message(), metadata=meta, timeout=CALL_TIMEOUT))
    if name != "ListManifests":
        assert code != grpc.StatusCode.OK
