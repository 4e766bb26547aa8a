"""CreateTranscription, UploadTranscription and WatchTranscription against the real sandbox, over
gRPC and over Connect alike (each case runs through both; the upload as a Connect client stream)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_sandbox import SandboxServer

from gateway.server.process import Gateway
from gateway.server.singles import transcription_id_for
from tests.conftest import BOTH_PROTOCOLS, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    error_info,
    fault,
    field_violations,
    metadata_value,
    rpc_error,
    stats,
    upstream_count,
)

pytestmark = BOTH_PROTOCOLS
POST = "POST /v1/transcriptions/"
AUDIO = "https://e.com/lecture-{}.mp3"


def create_request(request_id: str = "", **info: Any) -> pb.CreateTranscriptionRequest:
    """A CreateTranscription of a deterministic URL."""
    return pb.CreateTranscriptionRequest(
        request_id=request_id, info=batch_pb2.BatchInfo(**info), audio_url=AUDIO.format(1)
    )


async def chunks(
    data: bytes, *, request_id: str = "", chunk: int = 1 << 20, file_name: str = "a.mp3"
) -> AsyncIterator[pb.UploadTranscriptionRequest]:
    """An upload stream: the header, then `data` in chunks."""
    header = pb.UploadTranscriptionHeader(
        request_id=request_id, file_name=file_name, content_type="audio/mpeg"
    )
    yield pb.UploadTranscriptionRequest(header=header)
    for start in range(0, len(data), chunk):
        yield pb.UploadTranscriptionRequest(chunk=data[start : start + chunk])


async def created(sandbox: SandboxServer) -> int:
    """Transcriptions the sandbox made (not counting refused creates)."""
    return int((await stats(sandbox)).get("created", {}).get("transcriptions", 0))


async def test_create_by_url_makes_a_transcription_with_the_derived_id(
    stub: Any, sandbox: SandboxServer
) -> None:
    """A create with a request_id answers the id derived from it, and the transcription is
    there upstream with the title asked for."""
    request_id = str(uuid.uuid4())
    answer = await stub.CreateTranscription(
        create_request(request_id, title="Lecture"), metadata=bearer()
    )
    tenant = _tenant(TOKEN)
    assert answer.transcription_id == transcription_id_for(tenant, request_id)
    status = await stub.GetTranscriptionStatus(
        pb.GetTranscriptionStatusRequest(transcription_id=answer.transcription_id),
        metadata=bearer(),
    )
    assert status.transcription_info.title == "Lecture"
    assert await created(sandbox) == 1


async def test_a_create_without_request_id_gets_an_upstream_id_each_time(
    stub: Any, sandbox: SandboxServer
) -> None:
    """Without a request_id every call is a new transcription (no retry safety)."""
    one = await stub.CreateTranscription(create_request(), metadata=bearer())
    two = await stub.CreateTranscription(create_request(), metadata=bearer())
    assert one.transcription_id != two.transcription_id
    assert await created(sandbox) == 2


async def test_a_retry_is_answered_with_the_same_transcription_marked_replayed(
    stub: Any, sandbox: SandboxServer
) -> None:
    """The same request_id twice: one transcription, the second answer says replayed."""
    request_id = str(uuid.uuid4())
    first = await stub.CreateTranscription(create_request(request_id), metadata=bearer())
    call = stub.CreateTranscription(create_request(request_id), metadata=bearer())
    second = await call
    assert second.transcription_id == first.transcription_id
    assert metadata_value(await call.trailing_metadata(), "idempotent-replayed") == "true"
    assert await created(sandbox) == 1
    assert await upstream_count(sandbox, POST) == 1


async def test_a_retry_on_a_fresh_gateway_finds_the_transcription_upstream(
    gateways: Any, gateway_config: Any, sandbox: SandboxServer
) -> None:
    """A gateway that never saw the first call (a restart without Redis): the derived id makes
    the upstream answer 409, and the gateway answers with the existing transcription."""
    request_id = str(uuid.uuid4())
    first_gateway = await gateways.start(gateway_config)
    first = await first_gateway.stub.CreateTranscription(
        create_request(request_id), metadata=bearer()
    )
    second_gateway = await gateways.start(gateway_config)
    call = second_gateway.stub.CreateTranscription(create_request(request_id), metadata=bearer())
    assert (await call).transcription_id == first.transcription_id
    assert metadata_value(await call.trailing_metadata(), "idempotent-replayed") == "true"
    assert await created(sandbox) == 1
    assert await upstream_count(sandbox, POST) == 2  # the second one refused with 409


async def test_a_request_id_reused_for_another_title_is_refused(
    gateways: Any, gateway_config: Any, sandbox: SandboxServer
) -> None:
    """On a fresh gateway the 409's transcription is checked against the request: another
    title is ALREADY_EXISTS REQUEST_ID_REUSED, naming the transcription."""
    request_id = str(uuid.uuid4())
    first = await (await gateways.start(gateway_config)).stub.CreateTranscription(
        create_request(request_id, title="One"), metadata=bearer()
    )
    other = await gateways.start(gateway_config)
    error = await rpc_error(
        other.stub.CreateTranscription(create_request(request_id, title="Two"), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    assert error_info(error).metadata["transcription_id"] == first.transcription_id
    assert await created(sandbox) == 1


async def test_a_lost_answer_is_resolved_at_once(stub: Any, sandbox: SandboxServer) -> None:
    """The upstream made the transcription but its answer was lost (the connection dropped
    after it acted): the gateway sends the create again with the same derived id, finds the
    transcription (409, then a read) and answers it: no OUTCOME_UNKNOWN, one transcription."""
    await fault(sandbox, after=True, drop=True, method="POST", path_prefix="/v1/transcriptions/")
    request_id = str(uuid.uuid4())
    call = stub.CreateTranscription(create_request(request_id), metadata=bearer())
    answer = await call
    assert answer.transcription_id == transcription_id_for(_tenant(TOKEN), request_id)
    assert metadata_value(await call.trailing_metadata(), "idempotent-replayed") == "true"
    assert await created(sandbox) == 1
    assert await upstream_count(sandbox, POST) == 2


async def test_create_validation_names_every_field(stub: Any, sandbox: SandboxServer) -> None:
    """Bad input: INVALID_ARGUMENT naming each field, nothing sent."""
    request = pb.CreateTranscriptionRequest(
        request_id="nope", audio_url="ftp://x", info=batch_pb2.BatchInfo(num_speakers=99)
    )
    error = await rpc_error(stub.CreateTranscription(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert set(field_violations(error)) == {"request_id", "audio_url", "info.num_speakers"}
    assert await upstream_count(sandbox, POST) == 0


async def test_upload_in_chunks_makes_a_transcription(stub: Any, sandbox: SandboxServer) -> None:
    """A file sent in chunks (not a multiple of 3 bytes each) arrives whole: one transcription,
    titled after the file, its size answered; a retry with the same request_id is a replay."""
    data = bytes(range(256)) * 4000 + b"tail"  # 1 MB, odd length
    request_id = str(uuid.uuid4())
    answer = await stub.UploadTranscription(
        chunks(data, request_id=request_id, chunk=65537, file_name="shiur.mp3"), metadata=bearer()
    )
    assert answer.size_bytes == len(data)
    assert answer.transcription_id == transcription_id_for(_tenant(TOKEN), request_id)
    status = await stub.GetTranscriptionStatus(
        pb.GetTranscriptionStatusRequest(transcription_id=answer.transcription_id),
        metadata=bearer(),
    )
    assert status.transcription_info.title == "shiur.mp3"
    call = stub.UploadTranscription(
        chunks(data, request_id=request_id, chunk=65537, file_name="shiur.mp3"), metadata=bearer()
    )
    assert (await call).transcription_id == answer.transcription_id
    assert metadata_value(await call.trailing_metadata(), "idempotent-replayed") == "true"
    assert await created(sandbox) == 1


@pytest.mark.parametrize("gateway_config", [{"max_upload_bytes": 1000}], indirect=True)
async def test_an_oversize_upload_is_refused_with_nothing_sent(
    stub: Any, sandbox: SandboxServer
) -> None:
    """A file past --max-upload-bytes: RESOURCE_EXHAUSTED UPLOAD_TOO_LARGE naming the flag,
    and no upstream request at all."""
    error = await rpc_error(
        stub.UploadTranscription(chunks(b"x" * 1001, chunk=400), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "UPLOAD_TOO_LARGE")
    assert "--max-upload-bytes" in (error.details() or "")
    assert await upstream_count(sandbox, POST) == 0


async def test_an_upload_without_header_or_bytes_is_refused(
    stub: Any, sandbox: SandboxServer
) -> None:
    """A stream that starts with a chunk, or has no bytes: INVALID_ARGUMENT on the field."""

    async def headless() -> AsyncIterator[pb.UploadTranscriptionRequest]:
        yield pb.UploadTranscriptionRequest(chunk=b"abc")

    error = await rpc_error(stub.UploadTranscription(headless(), metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert set(field_violations(error)) == {"header"}
    error = await rpc_error(stub.UploadTranscription(chunks(b""), metadata=bearer()))
    assert set(field_violations(error)) == {"chunk"}
    assert await upstream_count(sandbox, POST) == 0


async def test_two_watchers_share_one_poller_until_completed(
    stub: Any, gateway: Gateway, sandbox: SandboxServer
) -> None:
    """Two watches of one transcription: one upstream poller; both get the current state at
    once and end OK at TRANSCRIPTION_STATE_COMPLETED."""
    answer = await stub.CreateTranscription(create_request(str(uuid.uuid4())), metadata=bearer())
    request = pb.WatchTranscriptionRequest(transcription_id=answer.transcription_id)
    watches = [stub.WatchTranscription(request, metadata=bearer()) for _ in range(2)]
    firsts = [await w.read() for w in watches]
    assert all(f.transcription_info.id == answer.transcription_id for f in firsts)
    hub = gateway.hub
    assert hub is not None
    assert hub.active_pollers == 1
    assert hub.open_watches == 2
    finals = await asyncio.gather(*(_last(w) for w in watches))
    assert all(
        f.transcription_info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED for f in finals
    )
    assert [await w.code() for w in watches] == [grpc.StatusCode.OK] * 2


async def test_watching_an_unknown_transcription_is_not_found(stub: Any) -> None:
    """A transcription that does not exist: NOT_FOUND, TRANSCRIPTION_NOT_FOUND."""
    request = pb.WatchTranscriptionRequest(transcription_id=str(uuid.uuid4()))
    call = stub.WatchTranscription(request, metadata=bearer())
    error = await rpc_error(_last(call))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "TRANSCRIPTION_NOT_FOUND")


async def _last(call: Any) -> pb.WatchTranscriptionResponse:
    """The stream's last message (read with `read`, which a test may have begun with)."""
    last: pb.WatchTranscriptionResponse | None = None
    while (message := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
        last = message
    assert last is not None
    return last


def _tenant(token: str) -> str:
    from gateway.access.credentials import Credential

    return Credential(token, "caller").tenant


@pytest.mark.parametrize("gateway_config", [{"request_message_timeout": 0.3}], indirect=True)
async def test_an_upload_that_stalls_between_chunks_ends_with_nothing_sent(
    stub: Any, sandbox: SandboxServer
) -> None:
    """A client that stops sending mid-file: the call ends DEADLINE_EXCEEDED
    (REQUEST_MESSAGE_TIMEOUT, naming the flag) instead of holding the file, and nothing goes
    upstream."""
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[pb.UploadTranscriptionRequest]:
        yield pb.UploadTranscriptionRequest(header=pb.UploadTranscriptionHeader())
        yield pb.UploadTranscriptionRequest(chunk=b"abc")
        await stalled.wait()  # never set: the client goes quiet

    error = await rpc_error(stub.UploadTranscription(stalling(), metadata=bearer(), timeout=10))
    assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, "REQUEST_MESSAGE_TIMEOUT")
    assert "--request-message-timeout" in (error.details() or "")
    assert await upstream_count(sandbox, POST) == 0
