"""`sofer-gateway sandbox`: run the sandbox upstream alone until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal

import structlog

from sofer_sandbox.config import SandboxConfig
from sofer_sandbox.server import SandboxServer


def parse_listen(value: str) -> tuple[str, int]:
    """ "HOST:PORT" (IPv6 as "[::1]:8001") into its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return number


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return number


def _balance(value: str) -> int | None:
    if value == "none":
        return None
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected whole cents >= 0 or 'none', got {value!r}")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox command's flags."""
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=("127.0.0.1", 8001),
        metavar="HOST:PORT",
        help="where to listen (default 127.0.0.1:8001; port 0 picks a free one)",
    )
    parser.add_argument(
        "--item-seconds",
        type=_non_negative,
        default=5.0,
        help="seconds each item takes from RECEIVED to COMPLETED (default 5)",
    )
    parser.add_argument(
        "--manifest-validation-seconds",
        type=_non_negative,
        default=0.5,
        help="seconds a new manifest stays PENDING_VALIDATION (default 0.5)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_positive,
        default=None,
        metavar="N",
        help="requests per second per token, over which answers are 429 (default: no limit)",
    )
    parser.add_argument(
        "--start-balance-cents",
        type=_balance,
        default=SandboxConfig.start_balance_cents,
        metavar="CENTS",
        help="each API key's starting balance in cents, or 'none': no account until funded "
        "through /_sandbox/balance (default 100000000, $1,000,000)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an accepted bearer token (repeatable; default: any non-empty token)",
    )


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The SandboxConfig the flags describe."""
    return SandboxConfig(
        item_seconds=args.item_seconds,
        manifest_validation_seconds=args.manifest_validation_seconds,
        rate_limit=args.rate_limit,
        api_keys=frozenset(args.api_key),
        start_balance_cents=args.start_balance_cents,
    )


async def serve(config: SandboxConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    log = structlog.get_logger()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SandboxServer(config, host=host, port=port) as server:
            log.info(
                "sandbox listening",
                url=server.url,
                item_seconds=config.item_seconds,
                rate_limit=config.rate_limit,
                api_keys=len(config.api_keys),
            )
            await stop.wait()
            log.info("sandbox stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Entry point of `sofer-gateway sandbox`."""
    host, port = args.listen
    asyncio.run(serve(config_from_args(args), host, port))
    return 0
