"""Instructions per upstream GET for each candidate transport, counted by callgrind.

    python -m bench.transport_cost [--transports httpx,aiohttp] [--calls 1000] [--warmup 300]

A canned upstream (bench/canned.py's BatchStatusResponse, keep-alive, in a process of its own,
never under valgrind) answers; a client process under `valgrind --tool=callgrind` sends
`--warmup` GETs, then `--calls` more, through an `httpx.AsyncClient` over the transport, each
request built with `build_request`, sent with `send(..., stream=True)` and its body read with
`aiter_raw` (the path gateway.upstream.attempt takes). Each transport is run twice, with the
warm-up alone and with both; the difference over `--calls` is its figure, so start-up, imports
and the warm-up (connection set-up, caches) cancel out. `--client-path` sends through the whole
`UpstreamClient.get_batch_status` instead (policy, bounded read, msgspec decode).
PYTHONHASHSEED is fixed so that runs repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.canned import BATCH_ID, status_bytes

_COLLECTED = re.compile(rb"Collected\s*:\s*(\d+)")
PATH = f"/v1/transcriptions/batch/{BATCH_ID}/status"


async def _serve(port_file: Path) -> None:
    """The canned upstream: every request on a connection answered with the canned body."""
    body = status_bytes()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % len(body)
    ) + body

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port_file.write_text(str(server.sockets[0].getsockname()[1]))  # noqa: ASYNC240 (once)
    async with server:
        await server.serve_forever()


def transport(name: str) -> httpx.AsyncBaseTransport:
    """The candidate transport `name`, made in the running loop."""
    if name == "httpx":
        return httpx.AsyncHTTPTransport()
    if name == "aiohttp":
        import aiohttp
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport(client=aiohttp.ClientSession(auto_decompress=False))
    raise SystemExit(f"unknown transport {name!r}: httpx or aiohttp")


async def _client(url: str, name: str, count: int, client_path: bool) -> None:
    if client_path:
        from gateway.upstream import CallOptions, UpstreamClient, UpstreamConfig

        config = UpstreamConfig(base_url=url)
        async with UpstreamClient(config, transport=transport(name)) as upstream:
            for _ in range(count):
                await upstream.get_batch_status(BATCH_ID, opts=CallOptions("bench-token"))
        return
    async with httpx.AsyncClient(base_url=url, transport=transport(name)) as http:
        for _ in range(count):
            request = http.build_request("GET", PATH, headers={"Authorization": "Bearer b"})
            response = await http.send(request, stream=True)
            try:
                received = 0
                async for chunk in response.aiter_raw():
                    received += len(chunk)
            finally:
                await response.aclose()


def _instructions(url: str, name: str, count: int, client_path: bool) -> int:
    """Instructions callgrind counted for a whole client process sending `count` GETs."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.transport_cost",
        "--client",
        url,
        "--transports",
        name,
        "--calls",
        str(count),
    ]
    if client_path:
        command.append("--client-path")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, env=env, check=True)  # noqa: S603
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
    return int(found.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.transport_cost`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transports", default="httpx,aiohttp")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1, help="measurements per transport")
    parser.add_argument("--client-path", action="store_true")
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(Path(args.serve)))
        return 0
    if args.client:
        asyncio.run(_client(args.client, args.transports, args.calls, args.client_path))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.transport_cost", "--serve", str(port_file)]
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                if server.poll() is not None:
                    raise SystemExit("the canned upstream did not start")
                subprocess.run(["sleep", "0.1"], check=True)  # noqa: S607
            url = f"http://127.0.0.1:{port_file.read_text()}"
            for name in args.transports.split(","):
                for _ in range(args.repeat):
                    base = _instructions(url, name, args.warmup, args.client_path)
                    total = _instructions(url, name, args.warmup + args.calls, args.client_path)
                    per_call = (total - base) / args.calls
                    print(f"{name}: {per_call:,.0f} instructions per GET", flush=True)
        finally:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
