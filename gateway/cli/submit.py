"""`submit`: an express batch from URLs, or a standard batch from a manifest file."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import grpc
from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway.cli import render
from gateway.cli.errors import ManifestRejected, RpcFailed, UsageError, call_rpc

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]
pb = batch_service_pb2
FINAL_MANIFEST_STATES = (batch_pb2.MANIFEST_STATUS_VALID, batch_pb2.MANIFEST_STATUS_INVALID)


@dataclass(frozen=True)
class SubmitPlan:
    """What `submit` sends: CreateBatch (without its request id or manifest id), after
    UploadManifest when `manifest` is set."""

    create: pb.CreateBatchRequest
    manifest: pb.UploadManifestRequest | None = None


def plan_submit(
    urls: Sequence[str],
    *,
    titles: Sequence[str] = (),
    client_item_ids: Sequence[str] = (),
    batch_title: str = "",
    num_speakers: int | None = None,
    auto_speakers: bool = False,
    manifest: Path | None = None,
    pages: Sequence[str] = (),
) -> SubmitPlan:
    """The requests for a command line; `UsageError` when the flags do not fit together.

    Express: one `AudioSource` per URL, `titles` and `client_item_ids` matched by position
    (each given for every URL or not at all); `pages` (page links the gateway resolves,
    `AudioSource.page_url`) are items after the URLs, matched the same way. Standard: the
    items come from the `manifest` file. The speaker flags are the batch's default
    (`BatchInfo`) in both modes.
    """
    if num_speakers is not None and auto_speakers:
        raise UsageError("--num-speakers and --auto-speakers exclude each other")
    info = batch_pb2.BatchInfo()
    if num_speakers is not None:
        info.num_speakers = num_speakers
    elif auto_speakers:
        info.auto_detect_speakers = True
    if manifest is not None:
        if urls or pages or titles or client_item_ids:
            raise UsageError(
                "--manifest takes the items from the file: give no URL, --title or "
                "--client-item-id with it"
            )
        create = pb.CreateBatchRequest(
            info=info,
            batch_title=batch_title,
            processing_mode=batch_pb2.PROCESSING_MODE_STANDARD,
        )
        return SubmitPlan(create, load_manifest(manifest, title=batch_title))
    items = [("audio_url", url) for url in urls] + [("page_url", page) for page in pages]
    if not items:
        raise UsageError("give at least one audio URL (or --page URL), or --manifest FILE")
    for flag, values in (("--title", titles), ("--client-item-id", client_item_ids)):
        if values and len(values) != len(items):
            raise UsageError(
                f"{flag} given {len(values)} time(s) for {len(items)} URL(s): give it once per "
                "URL (matched by position, --page URLs after the others) or not at all"
            )
    sources = [
        batch_pb2.AudioSource(
            audio_url=url if field == "audio_url" else "",
            page_url=url if field == "page_url" else "",
            title=titles[i] if titles else "",
            client_item_id=client_item_ids[i] if client_item_ids else "",
        )
        for i, (field, url) in enumerate(items)
    ]
    create = pb.CreateBatchRequest(
        info=info,
        batch_title=batch_title,
        processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
        audio_sources=sources,
    )
    return SubmitPlan(create)


def load_manifest(path: Path, *, title: str = "") -> pb.UploadManifestRequest:
    """An UploadManifest request (without request id) from a file; `UsageError` if unusable.

    A file whose first non-blank character is `[` is a JSON array of item objects (sent as typed
    items); anything else is JSONL, one item object per line, sent as is for the gateway to check
    line by line. Item keys: `audio_url`, `title`, `client_item_id`, `num_speakers`,
    `auto_detect_speakers`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read manifest {path}: {error}") from None
    metadata = batch_pb2.ManifestMetadata(title=title)
    if not text.lstrip().startswith("["):
        if not text.strip():
            raise UsageError(f"manifest {path} is empty")
        return pb.UploadManifestRequest(jsonl=text, metadata=metadata)
    try:
        items: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"manifest {path} is not valid JSON: {error}") from None
    if not isinstance(items, list) or not items:
        raise UsageError(f"manifest {path}: expected a non-empty JSON array of items")
    sources = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise UsageError(f"manifest {path}: item {i}: expected a JSON object")
        try:
            sources.append(json_format.ParseDict(item, batch_pb2.AudioSource()))
        except json_format.ParseError as error:
            raise UsageError(f"manifest {path}: item {i}: {error}") from None
    return pb.UploadManifestRequest(items=pb.ManifestItems(items=sources), metadata=metadata)


async def upload_manifest(
    stub: Stub,
    request: pb.UploadManifestRequest,
    *,
    metadata: Metadata = (),
    rpc_timeout: float | None = None,
    validation_timeout: float = 300.0,
    poll_interval: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    progress: TextIO | None = None,
) -> batch_pb2.Manifest:
    """Upload a manifest (fresh request id) and follow its validation (WatchManifest) until it
    is VALID.

    The upload has the deadline `rpc_timeout`; the watch `validation_timeout` in all. A watch
    cut short (UNAVAILABLE: a gateway restarting) is opened again after `poll_interval`
    seconds, growing x1.5 up to 5 s, while there is time. `ManifestRejected` when the manifest
    is INVALID (the message lists its validation errors) or still pending after
    `validation_timeout` seconds. Notes for people go to `progress`.
    """
    upload = pb.UploadManifestRequest()
    upload.CopyFrom(request)
    upload.request_id = str(uuid.uuid4())
    answer: pb.UploadManifestResponse = await call_rpc(
        "UploadManifest",
        stub.UploadManifest(upload, metadata=tuple(metadata), timeout=rpc_timeout),
    )
    manifest = answer.manifest
    if progress is not None:
        progress.write(f"manifest {manifest.id} uploaded ({manifest.item_count} items)\n")
        progress.flush()
    deadline = clock() + validation_timeout
    delay = poll_interval
    while manifest.status not in FINAL_MANIFEST_STATES:
        left = deadline - clock()
        if left <= 0:
            raise ManifestRejected(
                f"manifest {manifest.id} still not validated after {validation_timeout:g} s "
                f"({batch_pb2.ManifestStatus.Name(manifest.status)})"
            )
        call = stub.WatchManifest(
            pb.WatchManifestRequest(batch_file_id=manifest.id),
            metadata=tuple(metadata),
            timeout=left,
        )
        try:
            while (message := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
                manifest = message.manifest
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                continue  # the validation timeout: said above, with the last status
            if error.code() != grpc.StatusCode.UNAVAILABLE or clock() + delay >= deadline:
                raise RpcFailed.from_error("WatchManifest", error) from None
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    if manifest.status == batch_pb2.MANIFEST_STATUS_INVALID:
        errors = "".join(f"\n  {e}" for e in manifest.validation_errors) or " (no reason given)"
        raise ManifestRejected(f"manifest {manifest.id} is INVALID:{errors}")
    return manifest


async def submit(
    stub: Stub,
    plan: SubmitPlan,
    out: TextIO,
    *,
    err: TextIO | None = None,
    json: bool = False,
    metadata: Metadata = (),
    rpc_timeout: float | None = None,
    validation_timeout: float = 300.0,
) -> pb.CreateBatchResponse:
    """Create the batch of `plan` (uploading its manifest first) and print its id.

    Prints the batch id alone on a line of `out`; with `json`, the CreateBatchResponse as one
    JSON line instead (plus `batch_file_id` for a standard batch). Every UploadManifest and
    CreateBatch carries a fresh uuid4 `request_id`. Raises `RpcFailed` or `ManifestRejected`.
    """
    err = sys.stderr if err is None else err
    create = pb.CreateBatchRequest()
    create.CopyFrom(plan.create)
    if plan.manifest is not None:
        manifest = await upload_manifest(
            stub,
            plan.manifest,
            metadata=metadata,
            rpc_timeout=rpc_timeout,
            validation_timeout=validation_timeout,
            progress=None if json else err,
        )
        create.batch_file_id = manifest.id
    create.request_id = str(uuid.uuid4())
    response: pb.CreateBatchResponse = await call_rpc(
        "CreateBatch", stub.CreateBatch(create, metadata=tuple(metadata), timeout=rpc_timeout)
    )
    if json:
        line = render.message_dict(response)
        if create.batch_file_id:
            line["batch_file_id"] = create.batch_file_id
        render.write_json_line(out, line)
    else:
        out.write(response.batch_id + "\n")
        out.flush()
    return response
