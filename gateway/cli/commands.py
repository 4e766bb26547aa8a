"""Argparse glue of `sofer-gateway submit`, `watch` and `fetch`: flags in, exit status out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO

from sofer.batch.v1 import batch_service_pb2_grpc

from gateway.cli import upload
from gateway.cli.channel import add_tls_arguments, open_channel_for
from gateway.cli.errors import ClientError, ExitCode, UsageError
from gateway.cli.fetch import DEFAULT_FORMATS, FORMATS, fetch, parse_formats
from gateway.cli.fetch_folder import Folder
from gateway.cli.reconnect import ReconnectPolicy
from gateway.cli.submit import plan_submit, submit
from gateway.cli.watch import Metadata, watch

DEFAULT_TARGET = "127.0.0.1:50051"
TARGET_ENV = "SOFER_GATEWAY_TARGET"
TOKEN_ENV = "SOFER_GATEWAY_TOKEN"  # noqa: S105 (a variable name, not a secret)
DEFAULT_RECONNECT_TIMEOUT = 300.0

Body = Callable[[argparse.Namespace, TextIO, TextIO], Coroutine[Any, Any, int]]


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _formats(text: str) -> tuple[str, ...]:
    try:
        return parse_formats(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_format_argument(parser: argparse.ArgumentParser, *, needs: str = "") -> None:
    parser.add_argument(
        "--format",
        type=_formats,
        default=None,
        dest="formats",
        metavar="LIST",
        help=f"the files to write per item, comma-separated among {', '.join(FORMATS)} "
        f"(default {','.join(DEFAULT_FORMATS)}){needs}",
    )


def _add_reconnect_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reconnect-timeout",
        type=_non_negative_float,
        default=DEFAULT_RECONNECT_TIMEOUT,
        metavar="SECONDS",
        help="a watch whose stream breaks (UNAVAILABLE: the gateway restarting, a lost "
        "connection) reconnects with backoff for up to this long before it gives up (default "
        f"{DEFAULT_RECONNECT_TIMEOUT:g}; 0: never reconnect)",
    )


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--json, --target, --token and the TLS flags, which every client command takes."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="machine output: one JSON object per line on stdout, nothing else there",
    )
    parser.add_argument(
        "--target",
        metavar="HOST:PORT",
        help=f"the gateway (default ${TARGET_ENV}, else {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--token",
        help=f"bearer token sent as `authorization` metadata (default ${TOKEN_ENV}; "
        "none: the gateway uses its configured key). Prefer the variable: flags show in ps",
    )
    add_tls_arguments(parser)


def add_submit_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `submit`."""
    parser.add_argument(
        "urls",
        nargs="*",
        metavar="URL_OR_FILE",
        help="audio URL (http:// or https://: one batch item each), or a local FILE "
        "(uploaded: one single transcription each); not both kinds at once",
    )
    parser.add_argument(
        "--title",
        action="append",
        default=[],
        dest="titles",
        metavar="T",
        help="an item's title; repeat once per URL, matched by position",
    )
    parser.add_argument(
        "--client-item-id",
        action="append",
        default=[],
        dest="client_item_ids",
        metavar="ID",
        help="an item's client_item_id; repeat once per URL, matched by position",
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        dest="pages",
        metavar="URL",
        help="a page link (YouTube, Google Drive, ...: `sofer-gateway extract` shows what it "
        "resolves to), one item each, resolved by the gateway before the batch is created",
    )
    parser.add_argument("--batch-title", default="", metavar="T", help="the batch's title")
    speakers = parser.add_mutually_exclusive_group()
    speakers.add_argument(
        "--num-speakers", type=positive_int, metavar="N", help="expected speakers per item"
    )
    speakers.add_argument(
        "--auto-speakers", action="store_true", help="detect the number of speakers"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="a standard batch from a manifest: a JSONL file, or a JSON array of items",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="SECONDS",
        help="deadline of each call before the watch (default 30; the watch has none)",
    )
    parser.add_argument(
        "--validation-timeout",
        type=positive_float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the manifest to be validated (default 300)",
    )
    parser.add_argument(
        "--watch", action="store_true", help="then follow the batch until it ends (as `watch`)"
    )
    parser.add_argument(
        "--fetch",
        type=Path,
        metavar="DIR",
        help="then write its transcripts into DIR as they finish (as `fetch --out DIR`)",
    )
    _add_format_argument(parser, needs="; with --fetch")
    _add_reconnect_argument(parser)
    add_common_arguments(parser)
    parser.set_defaults(client_parser=parser, client_body=_submit_body)


def add_watch_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `watch`."""
    parser.add_argument("batch_id", metavar="BATCH_ID", help="the batch to follow")
    _add_reconnect_argument(parser)
    add_common_arguments(parser)
    parser.set_defaults(client_parser=parser, client_body=_watch_body)


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `fetch`."""
    parser.add_argument("batch_id", metavar="BATCH_ID", help="the batch to fetch")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="the folder to write into (made if missing; a folder partly fetched is resumed)",
    )
    _add_format_argument(parser)
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="SECONDS",
        help="deadline of the GetBatchStatus call that starts the fetch (default 30; the "
        "streams have none)",
    )
    _add_reconnect_argument(parser)
    add_common_arguments(parser)
    parser.set_defaults(client_parser=parser, client_body=_fetch_body)


def target_of(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    """--target, else $SOFER_GATEWAY_TARGET, else 127.0.0.1:50051."""
    env = os.environ if environ is None else environ
    return str(args.target or env.get(TARGET_ENV) or DEFAULT_TARGET)


def reconnect_policy_of(args: argparse.Namespace) -> ReconnectPolicy:
    """The watch's reconnect settings: --reconnect-timeout, the backoff's defaults."""
    return ReconnectPolicy(timeout=args.reconnect_timeout)


def metadata_of(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Metadata:
    """`authorization: Bearer` from --token, else $SOFER_GATEWAY_TOKEN; none without either."""
    env = os.environ if environ is None else environ
    token = args.token or env.get(TOKEN_ENV) or ""
    return (("authorization", f"Bearer {token}"),) if token else ()


async def _submit_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    files = [a for a in args.urls if not upload.is_url(a)]
    if files:
        return await _submit_files(args, files, out, err)
    if args.fetch is not None:
        if args.watch:
            raise UsageError(
                "--watch and --fetch exclude each other (--fetch shows the progress too)"
            )
        Folder.open(args.fetch, None)  # before the batch exists: any manifest is another's
    elif args.formats is not None:
        raise UsageError("--format needs --fetch DIR")
    plan = plan_submit(
        args.urls,
        titles=args.titles,
        client_item_ids=args.client_item_ids,
        batch_title=args.batch_title,
        num_speakers=args.num_speakers,
        auto_speakers=args.auto_speakers,
        manifest=args.manifest,
        pages=args.pages,
    )
    metadata = metadata_of(args)
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        created = await submit(
            stub,
            plan,
            out,
            err=err,
            json=args.json,
            metadata=metadata,
            rpc_timeout=args.timeout,
            validation_timeout=args.validation_timeout,
        )
        if args.fetch is not None:
            return await fetch(
                stub,
                created.batch_id,
                args.fetch,
                out,
                formats=args.formats or DEFAULT_FORMATS,
                err=err,
                json=args.json,
                metadata=metadata,
                rpc_timeout=args.timeout,
                reconnect=reconnect_policy_of(args),
            )
        if not args.watch:
            return ExitCode.OK
        return await watch(
            stub,
            created.batch_id,
            out,
            err=err,
            json=args.json,
            metadata=metadata,
            reconnect=reconnect_policy_of(args),
        )


async def _submit_files(
    args: argparse.Namespace, files: list[str], out: TextIO, err: TextIO
) -> int:
    """`submit FILE...`: each file uploaded as a single transcription (gateway.cli.upload)."""
    if len(files) != len(args.urls):
        raise UsageError(
            "give audio URLs (a batch) or local files (single transcriptions), not both"
        )
    for flag, given in (
        ("--manifest", args.manifest is not None),
        ("--fetch", args.fetch is not None),
        ("--format", args.formats is not None),
        ("--client-item-id", bool(args.client_item_ids)),
        ("--batch-title", bool(args.batch_title)),
    ):
        if given:
            raise UsageError(f"{flag} is for batches: local files are single transcriptions")
    uploads = upload.plan_uploads(
        files,
        titles=args.titles,
        num_speakers=args.num_speakers,
        auto_speakers=args.auto_speakers,
    )
    metadata = metadata_of(args)
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        ids = await upload.upload_files(
            stub, uploads, out, json=args.json, metadata=metadata, rpc_timeout=args.timeout
        )
        if not args.watch:
            return ExitCode.OK
        return await upload.watch_transcriptions(
            stub,
            ids,
            out,
            json=args.json,
            metadata=metadata,
            reconnect=reconnect_policy_of(args),
            err=err,
        )


async def _watch_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        return await watch(
            stub,
            args.batch_id,
            out,
            err=err,
            json=args.json,
            metadata=metadata_of(args),
            reconnect=reconnect_policy_of(args),
        )


async def _fetch_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    Folder.open(args.out, args.batch_id)  # a usage error before the channel is opened
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        return await fetch(
            stub,
            args.batch_id,
            args.out,
            out,
            formats=args.formats or DEFAULT_FORMATS,
            err=err,
            json=args.json,
            metadata=metadata_of(args),
            rpc_timeout=args.timeout,
            reconnect=reconnect_policy_of(args),
        )


async def run_async(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the parsed command in the running loop; a `ClientError` becomes one line and a status.

    Usage errors print the usage too, like argparse's own. Other exceptions propagate.
    """
    parser: argparse.ArgumentParser = args.client_parser
    body: Body = args.client_body
    try:
        return await body(args, out, err)
    except UsageError as error:
        err.write(parser.format_usage())
        err.write(f"{parser.prog}: error: {error}\n")
        return error.exit_code
    except ClientError as error:
        err.write(f"{parser.prog}: error: {error}\n")
        return error.exit_code


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the parsed command (`submit`, `watch` or `fetch`) in its own event loop; its exit status.

    Ctrl-C cancels the command, and so its call, and exits 130; a closed stdout (`| head`)
    ends quietly with 141.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        return asyncio.run(run_async(args, out, err))
    except KeyboardInterrupt:
        err.write(f"{args.client_parser.prog}: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away: point stdout at /dev/null so that the interpreter's final
        # flush does not fail again.
        with suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        return ExitCode.BROKEN_PIPE
