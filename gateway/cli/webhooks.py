"""`sofer-gateway webhooks listen`: a small receiver of webhook deliveries for local development.

It serves HTTP on a port, checks each POST's Standard Webhooks signature and timestamp
(gateway.webhooks.signing) against the secret given, answers 204 for a genuine delivery (400
otherwise, said on stderr) and prints each genuine one as a JSON line on stdout:
{"webhook_id", "type", "timestamp", "data"}. A redelivery (the same webhook-id) is printed
once. `--count N` stops after N events (exit 0), for scripts; otherwise it runs until
interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time

from aiohttp import web

from gateway.webhooks import signing
from gateway.webhooks.sender import MAX_PAYLOAD_BYTES

SECRET_ENV = "SOFER_WEBHOOK_SECRET"  # noqa: S105 (a variable's name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`webhooks` and its one sub-command, `listen`."""
    sub = parser.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")
    listen = sub.add_parser(
        "listen",
        help="receive webhook deliveries, verify their signatures and print each event",
        description="Receive webhook deliveries on HOST:PORT, verify each one's signature and "
        "timestamp with the endpoint's secret, and print each event as one JSON line.",
    )
    listen.add_argument("--port", type=int, required=True, help="TCP port (0: any free one)")
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on")
    listen.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV, ""),
        help=f"the endpoint's whsec_ secret (env {SECRET_ENV})",
    )
    listen.add_argument(
        "--count", type=int, default=0, help="exit 0 after this many events (0: run on)"
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted (or `--count` events)."""
    try:
        signing.key_of(args.secret)
    except ValueError as exc:
        print(f"sofer-gateway webhooks listen: error: --secret: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_listen(args.host, args.port, args.secret, args.count))


async def _listen(host: str, port: int, secret: str, count: int) -> int:
    done = asyncio.Event()
    seen: set[str] = set()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()  # bounded by client_max_size
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            message_id = signing.verify(secret, headers, body, now=time.time())
            event = json.loads(body)
        except (signing.InvalidSignature, ValueError) as exc:
            print(f"refused a delivery: {exc}", file=sys.stderr, flush=True)
            return web.Response(status=400, text="invalid signature\n")
        if message_id not in seen:
            seen.add(message_id)
            line = {"webhook_id": message_id, **event}
            print(json.dumps(line, separators=(",", ":"), sort_keys=True), flush=True)
            if count and len(seen) >= count:
                done.set()
        return web.Response(status=204)

    app = web.Application(client_max_size=MAX_PAYLOAD_BYTES)
    app.router.add_post("/{tail:.*}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    print(f"listening on http://{host}:{bound}/", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
    return 0
