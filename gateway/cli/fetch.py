"""`fetch`: write a batch's transcripts into a folder as each item finishes, resuming a folder
partly fetched, with `watch`'s progress display.

Three calls, on one channel:

- `GetBatchStatus` once, first: the batch's items, so that every item's file name is chosen
  before any arrives (gateway.cli.filenames: collisions are settled the same whatever order
  the items finish in), and an unknown batch fails before the folder is made;
- `StreamBatchTranscripts`, with the ids the folder already holds in `skip_transcription_ids`:
  each message is written out at once (gateway.cli.fetch_folder: atomic files, the manifest
  after each item); a broken stream is reopened as `watch` reopens its own
  (gateway.cli.reconnect), skipping what arrived so far;
- `WatchBatchStatus` beside it, the progress line (`watch`'s loop, gateway.cli.watch
  `follow_status`, and its display). It costs the upstream nothing more: the gateway serves
  both streams of a batch from one poller. It is also the sign that the gateway serves the
  batch, which the transcript stream gives only when an item finishes: a status it receives
  ends the transcript stream's run of failures, so a long quiet batch across gateway restarts
  is not taken for one long failure. It reconnects quietly, and a final error of it stops the
  display, not the fetch.

Formats: `txt`, `srt`, `vtt`, `md`, `docx` and `words.json` are rendered locally by
gateway.captions (the renderers of ExportTranscription: no RPC per file, and the transcript
arrives once whatever the number of formats); `json` is the `Transcription` message as protobuf
JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import grpc
from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2, batch_service_pb2
from sofer_gateway_client import from_rpc_error

from gateway import captions
from gateway.cli import render
from gateway.cli.errors import ClientError, ExitCode
from gateway.cli.fetch_folder import NOT_COMPLETED, Entry, Folder
from gateway.cli.filenames import assign_stems
from gateway.cli.reconnect import Reconnect, Reconnector, ReconnectPolicy
from gateway.cli.watch import Metadata, Stub, follow_status

RESUME_EXPIRED = "RESUME_TOKEN_EXPIRED"

pb = batch_service_pb2
Sleep = Callable[[float], Awaitable[None]]

RPC = "StreamBatchTranscripts"
FORMATS = ("txt", "json", "srt", "vtt", "md", "docx", "words.json")
_RENDERERS = {"words.json": captions.JSON, **captions.FORMATS}
"""The captions format of each name but `json` (ExportTranscription's JSON is `words.json`
here: `json` was the Transcription message first)."""
DEFAULT_FORMATS = ("txt", "json")
DISPLAY_GRACE = 2.0
"""Seconds the progress line gets, once every transcript is in, to show the batch's end."""


def parse_formats(text: str) -> tuple[str, ...]:
    """`txt,json` -> ("txt", "json"): known names, any case, each once, in the order given;
    ValueError naming the bad value otherwise."""
    chosen: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if name not in FORMATS:
            raise ValueError(
                f"unknown format {part.strip()!r}: choose among {', '.join(FORMATS)} "
                "(comma-separated)"
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def render_file(transcription: batch_pb2.Transcription, fmt: str) -> str | bytes:
    """The file of one format, text or (DOCX) bytes; captions.NotTimed for captions of a
    transcript without timing."""
    if fmt == "json":
        data = render.message_dict(transcription)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    rendered = _RENDERERS[fmt].render(transcription)
    return rendered.binary or rendered.content


def _format_of(entry: Entry, name: str) -> str:
    """The format of one of the entry's files: its name after the stem."""
    return name.removeprefix(f"{entry.stem}.")


def _info(entry: Entry) -> batch_pb2.TranscriptionInfo:
    return json_format.ParseDict(
        entry.info, batch_pb2.TranscriptionInfo(), ignore_unknown_fields=True
    )


def _label(info: batch_pb2.TranscriptionInfo) -> str:
    return info.client_item_id or " ".join(info.title.split()) or info.id


class _Run:
    """One fetch: the folder, the output, and what this run did."""

    def __init__(
        self,
        folder: Folder,
        formats: Sequence[str],
        out: TextIO,
        err: TextIO,
        live: render.LiveLine | None,
    ) -> None:
        self.folder = folder
        self.formats = formats
        self.out = out
        self.err = err
        self.live = live
        self.fetched = 0

    def say(self, stream: TextIO, line: str) -> None:
        """A line for people, under the progress line."""
        if self.live is not None:
            self.live.interject(stream, line)

    def take(self, message: pb.StreamBatchTranscriptsResponse) -> None:
        """Write one arrived item's files, then record it in the manifest."""
        info = message.info
        folder = self.folder
        entry = folder.entries.get(info.id)
        if entry is None:  # not in the status read first: named now, clear of the others
            taken = {tid: e.stem for tid, e in folder.entries.items()}
            [(_, stem)] = assign_stems([(info.id, info.client_item_id, info.title)], taken).items()
            entry = folder.entries[info.id] = Entry(stem, render.message_dict(info))
        state = render.item_state_name(info.state)
        written: list[str] = []
        not_rendered: list[str] = []
        why = ""
        if state == "COMPLETED":
            for fmt in folder.missing(entry, self.formats):
                try:
                    content = render_file(message.transcription, fmt)
                except captions.NotTimed as exc:  # the other formats and items go on
                    entry.untimed = True
                    not_rendered.append(fmt)
                    why = str(exc)
                    continue
                name = f"{entry.stem}.{fmt}"
                folder.write(name, content)
                written.append(name)
                if name not in entry.files:
                    entry.files.append(name)
        entry.state = state
        entry.info = render.message_dict(info)
        folder.save()
        self.fetched += 1
        if self.live is None:
            line = {
                "event": "item",
                "transcription_id": info.id,
                "client_item_id": info.client_item_id,
                "title": info.title,
                "state": batch_pb2.TranscriptionState.Name(info.state),
                "files": [f for f in entry.files if _format_of(entry, f) in self.formats],
                "not_rendered": not_rendered,
                "finished_count": message.finished_count,
                "total_count": message.total_count,
            }
            render.write_json_line(self.out, line)
            return
        files = ", ".join(written) if written else "no transcript"
        if state == "COMPLETED" and not written and not not_rendered:
            files = "already there"
        self.say(self.out, f"{state:<10} {_label(info)}: {files}")
        if not_rendered:
            self.say(
                self.err,
                f"{_label(info)}: no " + ", ".join(f".{fmt}" for fmt in not_rendered) + f": {why}",
            )


async def fetch(
    stub: Stub,
    batch_id: str,
    directory: Path,
    out: TextIO,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    err: TextIO | None = None,
    json: bool = False,
    metadata: Metadata = (),
    rpc_timeout: float | None = 30.0,
    tty: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
    tick: float = 1.0,
    reconnect: ReconnectPolicy | None = None,
    rng: Callable[[], float] = random.random,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Fetch `batch_id` into `directory`; exit status 0 when every item completed, 1 otherwise.

    Human output: `watch`'s progress line on `err`, a line per item on `out` as it is written,
    then a summary line and the table of items with their files. With `json`, one JSON object
    per item on `out`, then one for the whole (see docs/cli.md). Items not completed are named
    on `err`. `UsageError` for a folder that cannot be used (before any call); `RpcFailed` and
    `GaveUp` as `watch` raises them; `ClientError` when a file cannot be written.
    """
    err = sys.stderr if err is None else err
    folder = Folder.open(directory, batch_id) or Folder(directory, batch_id, {})
    live = None if json else render.LiveLine(err, tty=err.isatty() if tty is None else tty)
    policy = reconnect or ReconnectPolicy()
    reconnector = Reconnector(policy, rpc=RPC, clock=clock, rng=rng)
    run = _Run(folder, formats, out, err, live)
    started = clock()

    def announce(step: Reconnect) -> None:
        fields = (step.code.name, step.reason, step.details)
        if live is None:
            event = render.reconnect_event(batch_id, *fields, wait=step.wait, attempt=step.attempt)
            render.write_json_line(err, event)
        else:
            note = render.reconnect_note(RPC, *fields, wait=step.wait, attempt=step.attempt)
            live.interject(err, note)

    unary = Reconnector(policy, rpc="GetBatchStatus", clock=clock, rng=rng)
    status = await _batch_status(stub, batch_id, metadata, rpc_timeout, unary, announce, sleep)
    taken = {tid: e.stem for tid, e in folder.entries.items()}
    new = assign_stems(((i.id, i.client_item_id, i.title) for i in status.transcriptions), taken)
    folder.create()
    if new:
        for info in status.transcriptions:
            if info.id in new:
                folder.entries[info.id] = Entry(new[info.id], render.message_dict(info))
        folder.save()
    already = sum(1 for tid in folder.entries if folder.done(tid, formats))
    if already:
        run.say(err, f"resuming in {directory}: {already} of {len(folder.entries)} item(s) there")

    last: batch_pb2.BatchStatus | None = None

    def show(news: batch_pb2.BatchStatus) -> None:
        nonlocal last
        last = news
        if live is not None:
            live.show(render.progress_line(news, clock() - started))

    def redraw() -> None:
        if live is not None and last is not None:
            live.show(render.progress_line(last, clock() - started))

    async def display() -> None:
        try:
            await follow_status(
                stub,
                batch_id,
                show,
                metadata=metadata,
                reconnector=Reconnector(policy, clock=clock, rng=rng),
                redraw=redraw if live is not None and live.tty else None,
                heard=reconnector.connected,
                tick=tick,
                sleep=sleep,
            )
        except ClientError as error:
            run.say(err, f"progress display stopped ({error}); the fetch goes on")

    shown_task = asyncio.create_task(display())
    try:
        resume = _Resume()
        while True:
            # Reopened with the last message's token: the gateway sends what came after it.
            # Without one (the first stream, or an expired token), the files already there.
            skip = (
                [] if resume.token else [tid for tid in folder.entries if folder.done(tid, formats)]
            )
            try:
                await _stream(stub, batch_id, skip, metadata, reconnector, run.take, resume)
                break
            except grpc.aio.AioRpcError as error:
                failure = error
            if resume.token and from_rpc_error(failure).reason == RESUME_EXPIRED:
                resume.token = ""  # the gateway no longer holds it: open afresh, at once
                continue
            step = reconnector.failed(failure)  # raises when it is final or time is up
            announce(step)
            await sleep(step.wait)
        await asyncio.wait({shown_task}, timeout=DISPLAY_GRACE)
    finally:
        shown_task.cancel()
        await asyncio.gather(shown_task, return_exceptions=True)
        if live is not None:
            live.end()
    return _finish(run, batch_id, directory, already, clock() - started)


async def _batch_status(
    stub: Stub,
    batch_id: str,
    metadata: Metadata,
    rpc_timeout: float | None,
    reconnector: Reconnector,
    announce: Callable[[Reconnect], None],
    sleep: Sleep,
) -> batch_pb2.BatchStatus:
    """GetBatchStatus, retried as a broken stream is reopened (a gateway restarting)."""
    request = pb.GetBatchStatusRequest(batch_id=batch_id)
    while True:
        try:
            answer: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
                request, metadata=tuple(metadata), timeout=rpc_timeout
            )
            return answer.batch_status
        except grpc.aio.AioRpcError as error:
            failure = error
        step = reconnector.failed(failure)
        announce(step)
        await sleep(step.wait)


class _Resume:
    """The resume token of the last StreamBatchTranscripts message received."""

    token = ""


async def _stream(
    stub: Stub,
    batch_id: str,
    skip: Sequence[str],
    metadata: Metadata,
    reconnector: Reconnector,
    take: Callable[[pb.StreamBatchTranscriptsResponse], None],
    resume: _Resume,
) -> None:
    """One StreamBatchTranscripts stream to its end (resumed from `resume.token`), each message
    to `take`, its token kept in `resume`; an RPC error propagates, and the call is cancelled
    on the way out."""
    request = pb.StreamBatchTranscriptsRequest(
        batch_id=batch_id, skip_transcription_ids=skip, resume_token=resume.token
    )
    call = stub.StreamBatchTranscripts(request, metadata=tuple(metadata), wait_for_ready=False)
    try:
        async for message in call:
            reconnector.connected()
            take(message)
            resume.token = message.resume_token or resume.token
    finally:
        call.cancel()  # a no-op once the stream has ended


def _finish(run: _Run, batch_id: str, directory: Path, already: int, elapsed: float) -> int:
    """The closing output and the exit status."""
    entries = list(run.folder.entries.values())
    unfinished = [e for e in entries if not e.state]
    if unfinished:
        names = ", ".join(_label(_info(e)) for e in unfinished[:5])
        raise ClientError(
            f"{RPC} ended before {len(unfinished)} item(s) of batch {batch_id} arrived ({names})"
        )
    infos = [_info(e) for e in entries]
    failed = [(info, e) for info, e in zip(infos, entries, strict=True) if e.state != "COMPLETED"]
    completed = len(entries) - len(failed)
    if run.live is None:
        summary: dict[str, Any] = {
            "event": "done",
            "batch_id": batch_id,
            "out": str(directory),
            "total_count": len(entries),
            "completed_count": completed,
            "not_completed": [
                {"transcription_id": i.id, "client_item_id": i.client_item_id, "state": e.state}
                for i, e in failed
            ],
            "fetched": run.fetched,
            "already_there": already,
        }
        render.write_json_line(run.out, summary)
    else:
        run.out.write(
            f"batch {batch_id}: {completed} completed, {len(failed)} not, of {len(entries)} "
            f"in {directory} ({run.fetched} fetched now, {already} already there; "
            f"{render.format_seconds(elapsed)})\n"
        )
        cells = [", ".join(e.files) or "-" for e in entries]
        run.out.write(render.items_table(infos, ("FILES", cells)))
        run.out.flush()
    if not failed:
        return ExitCode.OK
    listed = ", ".join(f"{_label(i)} ({e.state})" for i, e in failed)
    run.err.write(f"{len(failed)} item(s) without a transcript: {listed}\n")
    run.err.flush()
    return ExitCode.BATCH_FAILED


__all__ = ["DEFAULT_FORMATS", "FORMATS", "NOT_COMPLETED", "fetch", "parse_formats"]
