"""The pure parts of single transcriptions: the upload's base64 pieces, the derived ids, and
the bound on the pause between an upload's messages."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.server.request_message import _Wait
from gateway.server.singles import transcription_id_for
from gateway.server.uploads import Base64File
from gateway.upstream.singles import TranscriptionRequest, TranscriptionRequestInfo

UPLOAD = "/sofer.batch.v1.BatchTranscriptionService/UploadTranscription"


@pytest.mark.parametrize("sizes", [[1], [2, 2, 2], [3, 1, 5, 7, 0, 11], [65537, 1, 131072]])
def test_chunks_of_any_size_make_the_files_base64(sizes: list[int]) -> None:
    """However the file is cut into chunks, the pieces joined are exactly its base64 text, and
    the JSON body around them parses back to the file."""
    data = os.urandom(sum(sizes))
    received = Base64File(limit=len(data))
    start = 0
    for size in sizes:
        received.feed(data[start : start + size])
        start += size
    pieces = received.finish()
    assert b"".join(pieces) == base64.b64encode(data)
    body = b"".join(
        TranscriptionRequest(TranscriptionRequestInfo(id="x"), audio_file=pieces).content()
    )
    parsed = json.loads(body)
    assert base64.b64decode(parsed["audio_file"]) == data
    assert parsed["info"] == {"id": "x"}


def test_a_file_past_the_limit_is_refused_at_the_chunk_that_passes_it() -> None:
    """The chunk that makes the file larger than the limit raises UPLOAD_TOO_LARGE naming
    --max-upload-bytes; what was held stays at most the limit's base64."""
    received = Base64File(limit=10)
    received.feed(b"x" * 10)
    with pytest.raises(GatewayError) as raised:
        received.feed(b"y")
    assert raised.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert raised.value.reason is Reason.UPLOAD_TOO_LARGE
    assert "--max-upload-bytes" in raised.value.message
    assert sum(len(p) for p in received.pieces) <= 4 * 10 // 3 + 4


def test_derived_ids_are_stable_per_tenant_and_request_id() -> None:
    """The same (tenant, request_id) always gives the same UUID, in any case of the
    request_id; another tenant or request_id another one."""
    request_id = str(uuid.uuid4())
    one = transcription_id_for("tenant-a", request_id)
    assert one == transcription_id_for("tenant-a", request_id.upper())
    assert uuid.UUID(one).version == 5
    assert one != transcription_id_for("tenant-b", request_id)
    assert one != transcription_id_for("tenant-a", str(uuid.uuid4()))


async def _stream(*gaps: float | None) -> AsyncIterator[int]:
    """Messages 0, 1, ... each after its gap (None: never)."""
    for n, gap in enumerate(gaps):
        if gap is None:
            await asyncio.Event().wait()
        await asyncio.sleep(gap or 0)
        yield n


async def test_a_pause_between_upload_chunks_ends_the_stream() -> None:
    """A framed stream whose next message does not come within the timeout gets a
    DEADLINE_EXCEEDED REQUEST_MESSAGE_TIMEOUT raised where it reads (its frame answers it)."""
    context: Any = object()
    wait = _Wait(UPLOAD, 0.2, every=True)
    got: list[int] = []

    async def read_all() -> None:
        async for message in await wait.first(_stream(0, 0, None), context):
            got.append(message)

    with pytest.raises(GatewayError) as raised:
        await read_all()
    assert got == [0, 1]
    assert raised.value.reason is Reason.REQUEST_MESSAGE_TIMEOUT
    assert "next request message" in raised.value.message


async def test_a_conversations_later_messages_may_pause() -> None:
    """A conversation (reflection) is bounded on its first message only."""
    context: Any = object()
    wait = _Wait("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", 0.1)
    got = [m async for m in await wait.first(_stream(0, 0.3), context)]
    assert got == [0, 1]
