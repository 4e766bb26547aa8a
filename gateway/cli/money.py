"""`sofer-gateway balance` and `sofer-gateway estimate URL...`: the key's balance, and what a
batch or a single transcription of those URLs would cost (GetBalance, EstimateCost)."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2, batch_service_pb2_grpc
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.cli.channel import open_channel_for
from gateway.cli.commands import add_common_arguments, metadata_of, positive_int, target_of
from gateway.cli.errors import ExitCode, call_rpc

_WORK = {
    "express": pb.COSTED_WORK_EXPRESS_BATCH,
    "standard": pb.COSTED_WORK_STANDARD_BATCH,
    "single": pb.COSTED_WORK_SINGLE_TRANSCRIPTION,
}


def dollars(cents: int) -> str:
    """Cents as dollars, e.g. 12345 -> "$123.45" (negative: "-$1.00")."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def add_balance_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `balance`."""
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    add_common_arguments(parser)
    parser.set_defaults(client_parser=parser, client_body=_balance_body)


def add_estimate_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `estimate`."""
    parser.add_argument("urls", nargs="*", metavar="URL", help="audio URL, one item each")
    parser.add_argument(
        "--manifest",
        default="",
        metavar="BATCH_FILE_ID",
        help="instead of URLs, a manifest uploaded through the gateway: its standard batch",
    )
    parser.add_argument(
        "--mode",
        choices=sorted(_WORK),
        default="express",
        help="what would be created: an express batch (default), a standard batch, or a single "
        "transcription (one URL)",
    )
    parser.add_argument("--model", default="", help="the model (default: the upstream's, v1)")
    speakers = parser.add_mutually_exclusive_group()
    speakers.add_argument(
        "--num-speakers", type=positive_int, metavar="N", help="expected speakers per item"
    )
    speakers.add_argument(
        "--auto-speakers", action="store_true", help="detect the number of speakers"
    )
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    add_common_arguments(parser)
    parser.set_defaults(client_parser=parser, client_body=_estimate_body)


async def _balance_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        answer = await call_rpc(
            "GetBalance",
            stub.GetBalance(
                pb.GetBalanceRequest(), metadata=metadata_of(args), timeout=args.timeout
            ),
        )
    balance = answer.balance
    if args.json:
        out.write(
            json.dumps(
                json_format.MessageToDict(balance, always_print_fields_with_no_presence=True)
            )
            + "\n"
        )
        return ExitCode.OK
    out.write(
        f"available {dollars(balance.available_balance_cents)}"
        f" (total {dollars(balance.total_balance_cents)},"
        f" pending {dollars(balance.pending_balance_cents)};"
        f" deposited {dollars(balance.all_time_deposits_cents)},"
        f" spent {dollars(balance.all_time_spend_cents)})\n"
    )
    return ExitCode.OK


def estimate_request(args: argparse.Namespace) -> pb.EstimateCostRequest:
    """The EstimateCost request of `estimate`'s arguments."""
    info = batch_pb2.BatchInfo(model=args.model)
    if args.num_speakers is not None:
        info.num_speakers = args.num_speakers
    elif args.auto_speakers:
        info.auto_detect_speakers = True
    if args.manifest:  # the gateway refuses URLs beside it, naming the field
        return pb.EstimateCostRequest(
            work=pb.COSTED_WORK_STANDARD_BATCH,
            info=info,
            batch_file_id=args.manifest,
            audio_sources=[batch_pb2.AudioSource(audio_url=url) for url in args.urls],
        )
    return pb.EstimateCostRequest(
        work=_WORK[args.mode],
        info=info,
        audio_sources=[batch_pb2.AudioSource(audio_url=url) for url in args.urls],
    )


async def _estimate_body(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    async with open_channel_for(args, target_of(args)) as channel:
        stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        answer = await call_rpc(
            "EstimateCost",
            stub.EstimateCost(
                estimate_request(args), metadata=metadata_of(args), timeout=args.timeout
            ),
        )
    if args.json:
        for item in answer.items:
            shown = json_format.MessageToDict(item, always_print_fields_with_no_presence=True)
            out.write(json.dumps(shown) + "\n")
        total = {
            "totalCostCents": str(answer.total_cost_cents),
            "totalDurationSeconds": answer.total_duration_seconds,
        }
        out.write(json.dumps(total) + "\n")
        return ExitCode.OK
    for item in answer.items:
        out.write(
            f"{dollars(item.cost_cents)}\t{item.duration_seconds:.0f} s\t"
            f"{item.cents_per_hour} c/h\t{item.audio_url}\n"
        )
    minutes = answer.total_duration_seconds / 60
    out.write(f"total {dollars(answer.total_cost_cents)} for {minutes:.1f} min of audio\n")
    return ExitCode.OK
