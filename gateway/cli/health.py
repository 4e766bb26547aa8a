"""`sofer-gateway health`: one grpc.health.v1 Check, for probes that can only run a command.

Exit 0 when the service is SERVING, 1 when the gateway answered anything else (NOT_SERVING,
UNKNOWN, an unknown service), 2 when it could not be reached in time (and for usage errors, as
argparse does). One line says which, so a Docker HEALTHCHECK log or a kubelet exec probe event
reads on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import sys
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.cli.channel import add_tls_arguments, open_channel_for
from gateway.cli.commands import DEFAULT_TARGET, TARGET_ENV, target_of
from gateway.cli.errors import UsageError

ServingStatus = health_pb2.HealthCheckResponse


class HealthExit(enum.IntEnum):
    """The exit statuses of `health` (documented in docs/cli.md and docs/deployment.md)."""

    SERVING = 0
    NOT_SERVING = 1
    UNREACHABLE = 2


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `health`."""
    parser.add_argument(
        "--target",
        metavar="HOST:PORT",
        help=f"the gateway, or its --health-listen port (default ${TARGET_ENV}, else "
        f"{DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--service",
        default="",
        metavar="NAME",
        help="the service to check, e.g. sofer.batch.v1.BatchTranscriptionService (default: "
        "the gateway's overall health)",
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=3.0,
        metavar="SECONDS",
        help="deadline of the check, connecting included (default 3); past it, exit 2",
    )
    add_tls_arguments(parser)
    parser.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="the name the gateway's certificate must carry, when it is not the target's host "
        "(e.g. checking 127.0.0.1 inside the container)",
    )
    parser.set_defaults(health_parser=parser)


def _label(service: str) -> str:
    return f"service {service}" if service else "overall health"


async def check(args: argparse.Namespace, out: TextIO) -> int:
    """Run the Check the parsed flags describe; write the one line; return the exit status."""
    target = target_of(args)
    where = f"{target} {_label(args.service)}"
    options = []
    if args.tls_server_name:
        if not args.tls_ca:
            raise UsageError("--tls-server-name needs --tls-ca (it names a TLS certificate)")
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    async with open_channel_for(args, target, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            answer = await stub.Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.aio.AioRpcError as error:
            return _report_error(error, where, args.timeout, out)
    name = ServingStatus.ServingStatus.Name(answer.status)
    out.write(f"{where}: {name}\n")
    return HealthExit.SERVING if answer.status == ServingStatus.SERVING else HealthExit.NOT_SERVING


def _report_error(error: grpc.aio.AioRpcError, where: str, timeout: float, out: TextIO) -> int:
    code = error.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        out.write(f"{where}: UNREACHABLE (no answer within {timeout:g} s)\n")
        return HealthExit.UNREACHABLE
    if code == grpc.StatusCode.UNAVAILABLE:
        details = " ".join((error.details() or "").split())
        out.write(f"{where}: UNREACHABLE ({details or 'UNAVAILABLE'})\n")
        return HealthExit.UNREACHABLE
    if code == grpc.StatusCode.NOT_FOUND:
        # grpc.health.v1's Check answers an unknown service NOT_FOUND (Watch says so with
        # SERVICE_UNKNOWN): name the status the probe author knows from the proto.
        out.write(f"{where}: SERVICE_UNKNOWN (the gateway has no such service)\n")
        return HealthExit.NOT_SERVING
    # It answered, so it is reachable; but not healthy (e.g. UNIMPLEMENTED: no health service).
    out.write(f"{where}: {code.name} ({' '.join((error.details() or '').split())})\n")
    return HealthExit.NOT_SERVING


async def run_async(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`check` in the running loop; a usage error prints the usage and one line, exit 2."""
    try:
        return await check(args, out)
    except UsageError as error:
        parser: argparse.ArgumentParser = args.health_parser
        err.write(parser.format_usage())
        err.write(f"{parser.prog}: error: {error}\n")
        return 2


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run `health` in its own event loop; its exit status."""
    return asyncio.run(
        run_async(args, sys.stdout if out is None else out, sys.stderr if err is None else err)
    )
