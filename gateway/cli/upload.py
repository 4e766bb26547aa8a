"""`submit FILE...`: local files as single transcriptions (UploadTranscription), and
`--watch` of them (WatchTranscription).

An argument of `submit` that starts with http:// or https:// is a URL (an item of an express
batch); any other is a local file, uploaded in 1 MiB chunks with a fresh request_id each, one
transcription per file. URLs and files do not mix in one command (a batch takes URLs only).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway.cli import render
from gateway.cli.errors import ExitCode, RpcFailed, UsageError, call_rpc
from gateway.cli.reconnect import Reconnector, ReconnectPolicy

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]
pb = batch_service_pb2

WATCH = "WatchTranscription"
Sleep = Callable[[float], Awaitable[None]]

CHUNK_BYTES = 1 << 20
"""Bytes per UploadTranscription message: well under the gateway's --max-receive-message-bytes."""
_ENDED = {
    batch_pb2.TRANSCRIPTION_STATE_COMPLETED,
    batch_pb2.TRANSCRIPTION_STATE_FAILED,
    batch_pb2.TRANSCRIPTION_STATE_CANCELLED,
    batch_pb2.TRANSCRIPTION_STATE_INSUFFICIENT_FUNDS,
}


def is_url(argument: str) -> bool:
    """Whether a `submit` argument is a URL (else a local file)."""
    return argument.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class Upload:
    """One file to send, and its header (without its request id)."""

    path: Path
    header: pb.UploadTranscriptionHeader


def plan_uploads(
    files: Sequence[str],
    *,
    titles: Sequence[str] = (),
    num_speakers: int | None = None,
    auto_speakers: bool = False,
) -> list[Upload]:
    """The uploads of a command line; `UsageError` for a missing or unreadable file, or a
    `--title` count that does not match the files."""
    if titles and len(titles) != len(files):
        raise UsageError(
            f"--title given {len(titles)} time(s) for {len(files)} file(s): give it once per "
            "file (matched by position) or not at all"
        )
    uploads = []
    for i, name in enumerate(files):
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"{name}: no such file (a URL starts with http:// or https://)")
        info = batch_pb2.BatchInfo(title=titles[i] if titles else "")
        if num_speakers is not None:
            info.num_speakers = num_speakers
        elif auto_speakers:
            info.auto_detect_speakers = True
        header = pb.UploadTranscriptionHeader(info=info, file_name=path.name)
        uploads.append(Upload(path, header))
    return uploads


async def _messages(
    upload: Upload, request_id: str
) -> AsyncIterator[pb.UploadTranscriptionRequest]:
    """The stream of one upload: its header (with `request_id`), then the file in chunks."""
    header = pb.UploadTranscriptionHeader()
    header.CopyFrom(upload.header)
    header.request_id = request_id
    yield pb.UploadTranscriptionRequest(header=header)
    with upload.path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield pb.UploadTranscriptionRequest(chunk=chunk)


async def upload_files(
    stub: Stub,
    uploads: Sequence[Upload],
    out: TextIO,
    *,
    json: bool = False,
    metadata: Metadata = (),
    rpc_timeout: float | None = None,
) -> list[str]:
    """Upload each file in turn and print its transcription id on a line of `out` (with
    `json`, the UploadTranscriptionResponse and the file as one JSON line); the ids."""
    ids = []
    for upload in uploads:
        try:
            answer: pb.UploadTranscriptionResponse = await call_rpc(
                "UploadTranscription",
                stub.UploadTranscription(
                    _messages(upload, str(uuid.uuid4())),
                    metadata=tuple(metadata),
                    timeout=rpc_timeout,
                ),
            )
        except OSError as error:
            raise UsageError(f"cannot read {upload.path}: {error}") from None
        if json:
            line = render.message_dict(answer)
            line["file"] = str(upload.path)
            render.write_json_line(out, line)
        else:
            out.write(answer.transcription_id + "\n")
            out.flush()
        ids.append(answer.transcription_id)
    return ids


async def watch_transcriptions(
    stub: Stub,
    ids: Sequence[str],
    out: TextIO,
    *,
    json: bool = False,
    metadata: Metadata = (),
    reconnect: ReconnectPolicy | None = None,
    err: TextIO | None = None,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Follow each transcription until it ends, one line per state it shows (`ID STATE`, or
    the WatchTranscriptionResponse as JSON); exit 0 when all COMPLETED, 1 when any ended
    otherwise. A stream that breaks is reopened as `reconnect` says (as `watch` does:
    gateway.cli.reconnect), announced on `err` (stderr), a state already shown never shown
    again; a final error, or giving up, is an RPC error (exit 3)."""
    policy = reconnect or ReconnectPolicy()
    states = await asyncio.gather(
        *(
            _watch_one(stub, i, out, json, metadata, Reconnector(policy, rpc=WATCH), err, sleep)
            for i in ids
        )
    )
    if all(s == batch_pb2.TRANSCRIPTION_STATE_COMPLETED for s in states):
        return ExitCode.OK
    return ExitCode.BATCH_FAILED


async def _watch_one(
    stub: Stub,
    transcription_id: str,
    out: TextIO,
    json: bool,
    metadata: Metadata,
    reconnector: Reconnector,
    err: TextIO | None,
    sleep: Sleep,
) -> int:
    request = pb.WatchTranscriptionRequest(transcription_id=transcription_id)
    state: int = batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED
    shown: int | None = None
    while True:
        try:
            async for message in stub.WatchTranscription(request, metadata=tuple(metadata)):
                reconnector.connected()
                state = message.transcription_info.state
                if state == shown:  # a reopened stream starts with the state already shown
                    continue
                shown = state
                if json:
                    render.write_json_line(out, render.message_dict(message))
                else:
                    name = batch_pb2.TranscriptionState.Name(state)
                    out.write(f"{transcription_id} {name.removeprefix('TRANSCRIPTION_STATE_')}\n")
                    out.flush()
            break
        except grpc.aio.AioRpcError as error:
            step = reconnector.failed(error)  # raises RpcFailed when final, GaveUp when spent
            note = render.reconnect_note(
                WATCH,
                step.code.name,
                step.reason,
                step.details,
                wait=step.wait,
                attempt=step.attempt,
            )
            target = sys.stderr if err is None else err
            target.write(f"{transcription_id}: {note}\n")
            target.flush()
            await sleep(step.wait)
    if state not in _ENDED:
        raise RpcFailed(
            WATCH,
            grpc.StatusCode.UNAVAILABLE,
            f"the stream of {transcription_id} ended before a final state",
        )
    return state
