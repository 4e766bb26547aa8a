"""`list` (ListTranscriptions, every page) and `extract` (ExtractLink per URL)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from google.protobuf.timestamp_pb2 import Timestamp
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway.cli import commands, render
from gateway.cli.channel import open_channel_for
from gateway.cli.errors import ExitCode, RpcFailed, call_rpc

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]
pb = batch_service_pb2
_STATE_PREFIX = "TRANSCRIPTION_STATE_"
STATES = tuple(
    value.name.removeprefix(_STATE_PREFIX).lower()
    for value in batch_pb2.TranscriptionState.DESCRIPTOR.values
    if value.number != batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED
)


def _state(text: str) -> int:
    if text.strip().lower() not in STATES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(STATES)}; got {text!r}")
    return batch_pb2.TranscriptionState.Value(f"{_STATE_PREFIX}{text.strip().upper()}")


def _time(text: str) -> Timestamp:
    """An ISO 8601 date or time ("2026-03-01", "2026-03-01T09:30:00+02:00"); UTC when it has
    no offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or time such as 2026-03-01T09:30:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(f"must be between 1 and 200, got {value}")
    return value


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `list`."""
    parser.add_argument(
        "--state",
        type=_state,
        action="append",
        default=[],
        dest="states",
        metavar="STATE",
        help=f"only transcriptions in this state; repeat for several ({', '.join(STATES)})",
    )
    parser.add_argument(
        "--title", default="", metavar="TEXT", help="only titles containing TEXT (any case)"
    )
    parser.add_argument(
        "--created-after",
        type=_time,
        metavar="TIME",
        help="only transcriptions created after TIME (ISO 8601; UTC without an offset)",
    )
    parser.add_argument(
        "--created-before",
        type=_time,
        metavar="TIME",
        help="only transcriptions created before TIME (ISO 8601; UTC without an offset)",
    )
    parser.add_argument(
        "--page-size",
        type=_page_size,
        default=50,
        metavar="N",
        help="transcriptions asked for per call, 1 to 200 (default 50)",
    )
    parser.add_argument(
        "--limit", type=commands.positive_int, metavar="N", help="stop after N transcriptions"
    )
    _add_timeout_and_common(parser)
    parser.set_defaults(client_parser=parser, client_body=_list_body)


def _add_timeout_and_common(parser: argparse.ArgumentParser) -> None:
    """--timeout (each call's deadline) and the flags every client command takes."""
    parser.add_argument(
        "--timeout",
        type=commands.positive_float,
        default=30.0,
        metavar="SECONDS",
        help="deadline of each call (default 30)",
    )
    commands.add_common_arguments(parser)


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `extract`."""
    parser.add_argument("urls", nargs="+", metavar="URL", help="a page link of a supported site")
    _add_timeout_and_common(parser)
    parser.set_defaults(client_parser=parser, client_body=_extract_body)


async def list_transcriptions(
    stub: Stub,
    request: pb.ListTranscriptionsRequest,
    out: TextIO,
    *,
    json_lines: bool,
    metadata: Metadata = (),
    limit: int | None = None,
    rpc_timeout: float | None = None,
) -> int:
    """Print every transcription `request` matches, page after page (a table, or one JSON
    object per line), up to `limit`; how many were printed."""
    printed = 0
    if not json_lines:
        out.write(f"{'ID':36}  {'STATE':18}  TITLE\n")
    while True:
        page = await call_rpc(
            "ListTranscriptions",
            stub.ListTranscriptions(request, metadata=metadata, timeout=rpc_timeout),
        )
        for item in page.transcriptions:
            state = render.item_state_name(item.state)
            if json_lines:
                line = {"transcription_id": item.transcription_id, "title": item.title}
                out.write(json.dumps({**line, "state": state}) + "\n")
            else:
                out.write(f"{item.transcription_id:36}  {state:18}  {item.title}\n")
            printed += 1
            if limit is not None and printed >= limit:
                return printed
        if not page.next_page_token:
            return printed
        request.page_token = page.next_page_token


async def extract_links(
    stub: Stub,
    urls: Sequence[str],
    out: TextIO,
    err: TextIO,
    *,
    json_lines: bool,
    metadata: Metadata = (),
    rpc_timeout: float | None = None,
) -> int:
    """Resolve each URL, printing its audio URL and title (or a JSON object) per line; a URL
    that fails is reported on `err` and the others go on. The exit status: 0 when all
    resolved, 3 when any failed."""
    status = ExitCode.OK
    for url in urls:
        try:
            answer = await call_rpc(
                "ExtractLink",
                stub.ExtractLink(
                    pb.ExtractLinkRequest(url=url), metadata=metadata, timeout=rpc_timeout
                ),
            )
        except RpcFailed as error:
            err.write(f"{url}: {error}\n")
            status = ExitCode.RPC_ERROR
            continue
        if json_lines:
            fields = {"url": url, "audio_url": answer.audio_url, "title": answer.title}
            extra = {"file_format": answer.file_format, "file_name": answer.file_name}
            out.write(json.dumps({**fields, **extra}) + "\n")
        else:
            out.write(f"{url}\t{answer.audio_url}\t{answer.title}\n")
    return status


async def _list_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = pb.ListTranscriptionsRequest(
        page_size=args.page_size,
        states=args.states,
        title_contains=args.title,
        created_after=args.created_after,
        created_before=args.created_before,
    )
    async with open_channel_for(args, commands.target_of(args)) as channel:
        await list_transcriptions(
            Stub(channel),
            request,
            out,
            json_lines=args.json,
            metadata=commands.metadata_of(args),
            limit=args.limit,
            rpc_timeout=args.timeout,
        )
    return ExitCode.OK


async def _extract_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with open_channel_for(args, commands.target_of(args)) as channel:
        return await extract_links(
            Stub(channel),
            args.urls,
            out,
            err,
            json_lines=args.json,
            metadata=commands.metadata_of(args),
            rpc_timeout=args.timeout,
        )
