"""Helpers shared by the end-to-end gRPC tests (no tests here): rich error details, the sandbox's
admin API, request builders, polling, and a tiny recording HTTP upstream."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import httpx
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from sofer.batch.v1 import batch_pb2, batch_service_pb2
from sofer_sandbox import SandboxServer

from tests.conftest import TOKEN, bearer
from tests.helpers.sandbox_http import SSL_CONTEXT

DOMAIN = "sofer-gateway"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
REQUEST_ID_KEY = "x-request-id"
AUDIO = "https://cdn.example.com/shiur-{}.mp3"

T = TypeVar("T")
M = TypeVar("M", bound=Message)


# -- rich error details -----------------------------------------------------------------------


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The google.rpc.Status the gateway put in the `grpc-status-details-bin` trailer, read by
    grpcio-status (which also checks that its code is the call's)."""
    status: status_pb2.Status | None = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        raise AssertionError(f"no {STATUS_DETAILS_KEY} trailer in {error.trailing_metadata()!r}")
    assert status.message == error.details()
    return status


def _unpack(details: list[any_pb2.Any], cls: type[M]) -> list[M]:
    found = []
    for detail in details:
        if detail.TypeName() == cls.DESCRIPTOR.full_name:
            message = cls()
            detail.Unpack(message)
            found.append(message)
    return found


def detail(error: grpc.aio.AioRpcError, cls: type[M]) -> M:
    """The one detail of type `cls` in the error's rich status (asserting there is exactly one)."""
    found = _unpack(list(rich_status(error).details), cls)
    assert len(found) == 1, f"expected one {cls.DESCRIPTOR.full_name}, got {len(found)}"
    return found[0]


def has_detail(error: grpc.aio.AioRpcError, cls: type[Message]) -> bool:
    """Whether the error's rich status carries a detail of type `cls`."""
    return bool(_unpack(list(rich_status(error).details), cls))


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The error's google.rpc.ErrorInfo, checked to be in the gateway's domain."""
    info = detail(error, error_details_pb2.ErrorInfo)
    assert info.domain == DOMAIN
    return info


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """BadRequest field path -> violation reason (the last one per path)."""
    bad = detail(error, error_details_pb2.BadRequest)
    return {v.field: v.reason for v in bad.field_violations}


def retry_delay(error: grpc.aio.AioRpcError) -> float:
    """The RetryInfo delay in seconds."""
    delay = detail(error, error_details_pb2.RetryInfo).retry_delay
    return float(delay.seconds + delay.nanos / 1e9)


def metadata_value(metadata: Any, key: str) -> str | None:
    """The first value of `key` in gRPC metadata (a tuple of pairs or grpc.aio.Metadata)."""
    for k, v in metadata or ():
        if k == key:
            return v.decode() if isinstance(v, bytes) else str(v)
    return None


def assert_secret_free(error: grpc.aio.AioRpcError, secret: str = TOKEN) -> None:
    """The token appears nowhere the caller can read: message, details, or any metadata."""
    assert secret not in (error.details() or "")
    assert secret.encode() not in rich_status(error).SerializeToString()
    pairs: Any = [*(error.initial_metadata() or ()), *(error.trailing_metadata() or ())]
    for _, value in pairs:
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        assert secret not in text


def assert_error(
    error: grpc.aio.AioRpcError, code: grpc.StatusCode, reason: str
) -> error_details_pb2.ErrorInfo:
    """The error has `code`, an ErrorInfo with `reason` in the gateway's domain, and no token."""
    assert error.code() == code, (error.code(), error.details())
    info = error_info(error)
    assert info.reason == reason, (info.reason, error.details())
    assert_secret_free(error)
    return info


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """Await a call that must fail; its AioRpcError."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded; an error was expected")


async def read_own(stub: Any, token: str = TOKEN, seconds: float = 90.0) -> grpc.StatusCode:
    """GetBatchStatus of a batch id no other read names, so that each read is an upstream
    request of its own (identical concurrent reads share one); the upstream knows no such
    batch: the code the read ends with, NOT_FOUND when it was answered."""
    request = batch_service_pb2.GetBatchStatusRequest(batch_id=str(uuid.uuid4()))
    error = await rpc_error(stub.GetBatchStatus(request, metadata=bearer(token), timeout=seconds))
    return error.code()


# -- the sandbox's admin API ------------------------------------------------------------------


def _admin(sandbox: SandboxServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sandbox.url, timeout=10.0, verify=SSL_CONTEXT)


async def stats(sandbox: SandboxServer) -> dict[str, Any]:
    """GET /_sandbox/stats: `{"total": n, "requests": {"METHOD /template": n}}`."""
    async with _admin(sandbox) as http:
        response = await http.get("/_sandbox/stats")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def upstream_total(sandbox: SandboxServer) -> int:
    """How many /v1 requests the sandbox has received."""
    total: int = (await stats(sandbox))["total"]
    return total


async def upstream_count(sandbox: SandboxServer, key: str) -> int:
    """How many requests of one "METHOD /template" the sandbox has received."""
    count: int = (await stats(sandbox))["requests"].get(key, 0)
    return count


async def fault(sandbox: SandboxServer, **rule: Any) -> None:
    """POST /_sandbox/faults: queue one fault rule (see docs/sandbox.md)."""
    async with _admin(sandbox) as http:
        response = await http.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text


async def pending_faults(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """GET /_sandbox/faults: the rules still queued (a spent rule is gone)."""
    async with _admin(sandbox) as http:
        response = await http.get("/_sandbox/faults")
    response.raise_for_status()
    rules: list[dict[str, Any]] = response.json()["faults"]
    return rules


async def clear_faults(sandbox: SandboxServer) -> None:
    """DELETE /_sandbox/faults: drop every fault rule still queued."""
    async with _admin(sandbox) as http:
        (await http.delete("/_sandbox/faults")).raise_for_status()


# -- requests and waiting ---------------------------------------------------------------------


def source(n: int | str, **fields: Any) -> batch_pb2.AudioSource:
    """An AudioSource for a deterministic URL."""
    return batch_pb2.AudioSource(audio_url=AUDIO.format(n), **fields)


def express(*sources: batch_pb2.AudioSource, **fields: Any) -> batch_service_pb2.CreateBatchRequest:
    """An express CreateBatchRequest (mode given, `info` present)."""
    fields.setdefault("info", batch_pb2.BatchInfo())
    fields.setdefault("processing_mode", batch_pb2.PROCESSING_MODE_EXPRESS)
    return batch_service_pb2.CreateBatchRequest(audio_sources=list(sources), **fields)


def batch_request(
    request_id: str, url: str = "https://e.com/a.mp3"
) -> batch_service_pb2.CreateBatchRequest:
    """An express CreateBatch of one item, carrying `request_id` (empty: none)."""
    return batch_service_pb2.CreateBatchRequest(
        request_id=request_id,
        info=batch_pb2.BatchInfo(),
        audio_sources=[batch_pb2.AudioSource(audio_url=url)],
    )


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float = 20.0,
    interval: float = 0.1,
) -> T:
    """Call `probe` until `done(result)`; the result, or AssertionError after `within` seconds."""
    give_up = time.monotonic() + within
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not met within {within} s; last: {result!r}")
        await asyncio.sleep(interval)


async def until(predicate: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait until `predicate()` (state another task changes) is true; AssertionError after
    `within` seconds."""
    give_up = time.monotonic() + within
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


# -- a recording upstream ---------------------------------------------------------------------


@dataclass
class Recorded:
    """What the recording upstream saw: one dict of lower-cased headers per request."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@asynccontextmanager
async def recording_upstream(
    status: int = 404, body: bytes = b'{"detail": "Batch not found"}'
) -> AsyncIterator[tuple[str, Recorded]]:
    """An HTTP/1.0 server on 127.0.0.1, port 0, answering every request with `status` and `body`
    and recording its request line and headers; yields its base URL and the record."""
    record = Recorded()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        record.requests.append((request_line, headers))
        writer.write(
            f"HTTP/1.0 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", record
    finally:
        server.close()
        await server.wait_closed()


# -- calls through the gateway ----------------------------------------------------------------

SERVICE = "sofer.batch.v1.BatchTranscriptionService"


async def assert_healthy(channel: grpc.aio.Channel, stub: Any) -> None:
    """Health says SERVING (server and service) and a normal call succeeds."""
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    listed = await stub.ListManifests(
        batch_service_pb2.ListManifestsRequest(), metadata=bearer(), timeout=20
    )
    assert isinstance(listed, batch_service_pb2.ListManifestsResponse)


async def create_express(
    stub: Any, *sources: batch_pb2.AudioSource, token: str = TOKEN
) -> batch_service_pb2.CreateBatchResponse:
    """Create an express batch through the gateway as `token`."""
    response: batch_service_pb2.CreateBatchResponse = await stub.CreateBatch(
        express(*sources), metadata=bearer(token)
    )
    return response


async def create_batch(
    stub: Any, *urls: str, token: str = TOKEN
) -> batch_service_pb2.CreateBatchResponse:
    """An express batch of `urls` through the gateway, client item ids `item-0`, `item-1`..."""
    sources = [
        batch_pb2.AudioSource(audio_url=url, client_item_id=f"item-{i}")
        for i, url in enumerate(urls)
    ]
    request = batch_service_pb2.CreateBatchRequest(
        info=batch_pb2.BatchInfo(), audio_sources=sources
    )
    response: batch_service_pb2.CreateBatchResponse = await stub.CreateBatch(
        request, metadata=bearer(token)
    )
    return response


async def batch_status(stub: Any, batch_id: str, token: str = TOKEN) -> batch_pb2.BatchStatus:
    """GetBatchStatus through the gateway."""
    response: batch_service_pb2.GetBatchStatusResponse = await stub.GetBatchStatus(
        batch_service_pb2.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(token)
    )
    return response.batch_status


TERMINAL = (batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED)


async def finished_batch(stub: Any, batch_id: str, token: str = TOKEN) -> batch_pb2.BatchStatus:
    """Poll GetBatchStatus until the batch is COMPLETED or FAILED; the final status."""
    return await eventually(
        lambda: batch_status(stub, batch_id, token), lambda s: s.state in TERMINAL
    )


async def manifest(stub: Any, batch_file_id: str, token: str = TOKEN) -> batch_pb2.Manifest:
    """GetManifest through the gateway."""
    response: batch_service_pb2.GetManifestResponse = await stub.GetManifest(
        batch_service_pb2.GetManifestRequest(batch_file_id=batch_file_id), metadata=bearer(token)
    )
    return response.manifest


async def validated_manifest(stub: Any, batch_file_id: str) -> batch_pb2.Manifest:
    """Poll GetManifest until the upstream has validated the manifest; the result."""
    return await eventually(
        lambda: manifest(stub, batch_file_id),
        lambda m: m.status != batch_pb2.MANIFEST_STATUS_PENDING_VALIDATION,
    )


def rpc_lines(out: io.StringIO) -> list[dict[str, Any]]:
    """The per-RPC summary lines logged so far."""
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "rpc"]
