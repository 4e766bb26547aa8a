"""The `sofer-gateway` command line: one sub-command per role (docs/cli.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from gateway import config
from gateway.cli import commands as client_commands
from gateway.cli import health as client_health
from gateway.cli import listing as client_listing
from gateway.cli import money as client_money
from gateway.cli import webhooks as client_webhooks
from gateway.observability.logs import configure_logging

# Each sub-command module exposes `add_arguments(parser)` and `run(args) -> int`; the parsed
# arguments carry the runner as `runner` (no flag has that name).
_Registrar = Callable[[argparse.ArgumentParser], None]
_Runner = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    """Run the gateway until SIGTERM or SIGINT, on uvloop when it is installed (else asyncio's
    own loop): the server's event loop thread is its bound, and uvloop runs the same work in
    fewer instructions (docs/benchmarks.md)."""
    import asyncio
    import gc

    from gateway.server.process import serve  # the server's imports: for `serve` alone

    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run

    try:
        settings = config.from_args(args)
    except config.ConfigError as exc:  # a bad value in a SOFER_GATEWAY_* variable, like a bad flag
        print(f"sofer-gateway serve: error: {exc}", file=sys.stderr)
        return 2
    # A burst of thousands of long-lived watch streams made the collector run full collections
    # of up to 0.7 s each (nine per 10,000-stream burst): keep what start-up made out of it and
    # collect young objects less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    # --- connect --- the HTTP port (--http-listen) over the same servicer
    from gateway.connect.server import faces_of

    return run(serve(settings, faces_of(settings)))


def _sandbox() -> tuple[_Registrar, _Runner]:
    """The sandbox command's flags and runner; without the `sandbox` extra, a runner that says
    what to install (exit 2)."""
    try:
        from sofer_sandbox import cli as sandbox_cli
    except ImportError:

        def missing(args: argparse.Namespace) -> int:
            print(
                "sofer-gateway sandbox: error: the sandbox upstream is not installed: "
                "pip install 'sofer-gateway[sandbox]' (in a clone: make install)",
                file=sys.stderr,
            )
            return 2

        def rest(parser: argparse.ArgumentParser) -> None:
            # Any flags at all (argparse's REMAINDER refuses a leading `--flag`): main() lets
            # this command's unknown arguments through, so that the message says what to do.
            parser.set_defaults(any_arguments=True)

        return rest, missing
    return sandbox_cli.add_arguments, sandbox_cli.run


def commands() -> dict[str, tuple[str, _Registrar, _Runner]]:
    """Every sub-command by name: (its help, what adds its flags, what runs it)."""
    sandbox_arguments, sandbox_run = _sandbox()
    return {
        "serve": (
            "run the gateway (gRPC); with no SOFER_API_URL and no SOFER_API_KEY it starts the "
            "sandbox upstream in-process",
            config.add_arguments,
            _serve,
        ),
        "sandbox": (
            "run the sandbox upstream alone (HTTP)",
            sandbox_arguments,
            sandbox_run,
        ),
        "submit": (
            "a client: create a batch (express from URLs, standard with --manifest) and print "
            "its id; --watch then follows it",
            client_commands.add_submit_arguments,
            client_commands.run,
        ),
        "watch": (
            "a client: live progress of one batch until it ends (exit 0 COMPLETED, 1 FAILED)",
            client_commands.add_watch_arguments,
            client_commands.run,
        ),
        "fetch": (
            "a client: write a batch's transcripts into a folder as each item finishes (txt, "
            "json, srt, vtt), resuming a folder partly fetched (exit 0 all completed, 1 not)",
            client_commands.add_fetch_arguments,
            client_commands.run,
        ),
        "balance": (
            "a client: the balance of the key (GetBalance), in dollars",
            client_money.add_balance_arguments,
            client_commands.run,
        ),
        "estimate": (
            "a client: what a batch (or a single transcription) of these URLs would cost "
            "(EstimateCost): each item's duration and price, and the total",
            client_money.add_estimate_arguments,
            client_commands.run,
        ),
        "list": (
            "a client: list your transcriptions, newest first, every page (--state, --title)",
            client_listing.add_list_arguments,
            client_commands.run,
        ),
        "extract": (
            "a client: resolve page links (YouTube, Google Drive, ...) to their audio URLs",
            client_listing.add_extract_arguments,
            client_commands.run,
        ),
        # --- webhooks ---
        "webhooks": (
            "webhooks listen: receive webhook deliveries, verify their signatures and print "
            "each event as a JSON line (local development)",
            client_webhooks.add_arguments,
            client_webhooks.run,
        ),
        "health": (
            "a probe: one grpc.health.v1 Check (exit 0 SERVING, 1 not serving, 2 unreachable)",
            client_health.add_arguments,
            client_health.run,
        ),
    }


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with every sub-command and its flags."""
    parser = argparse.ArgumentParser(
        prog="sofer-gateway",
        description="A typed gRPC gateway in front of the Sofer.ai batch-transcription API.",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("SOFER_GATEWAY_LOG_LEVEL", "INFO"),
        help="DEBUG, INFO, WARNING or ERROR (env SOFER_GATEWAY_LOG_LEVEL; default INFO)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, register, runner) in commands().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        register(p)
        p.set_defaults(runner=runner)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_logging(args.log_level)
    runner: _Runner = args.runner
    return runner(args)


if __name__ == "__main__":
    sys.exit(main())
