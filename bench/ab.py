"""Direct A/B of gateway variants: CPU per unary call, side by side in front of one nginx.

Each variant is a source tree (a directory holding `gateway/`, e.g. a copy of the tree before a
change, and `sofer/`, a copy of generated/sofer, when the generated code has changed since);
every one runs as its own `sofer-gateway serve` (the unary scenario's flags: every call
goes upstream), started from that directory so its `gateway` package is the one imported. h2load
drives them in turn, ABBA..., `rounds` times with `calls` calls each, and the median (min-max) of
each variant's server CPU per call is printed; with `--naive` the naive hop runs in the same
rounds, and each variant's ratio to it is printed too. Nothing is written: this is the
lever-by-lever tool (docs/benchmarks.md, "Unary CPU levers"); `bench.run` is the record.

    python -m bench.ab before=/tmp/before after=. --rounds 8 --calls 1500 --naive
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bench import canned, cpu, grpc_check, h2load
from bench.nginx import nginx_upstream
from bench.procs import Child, clean_environment
from bench.scenarios.unary_cpu import API_KEY, METHOD, request_file
from bench.servers import Running, naive_hop

FLAGS = ("--status-reuse-window", "0")


@contextlib.asynccontextmanager
async def variant(name: str, root: Path, log_dir: Path, upstream: str) -> AsyncIterator[Running]:
    """The gateway of the source tree `root`, as the unary scenario starts it."""
    env = clean_environment({"SOFER_API_URL": upstream, "SOFER_API_KEY": API_KEY})
    log_path = log_dir / f"{name}.log"
    argv = [sys.executable, "-m", "gateway.main", "serve", "--listen", "127.0.0.1:0", *FLAGS]
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=root, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file, stderr=log_file,
        )  # fmt: skip
    child = Child(name, process, log_path)
    try:
        address = await child.wait_for_event("gateway serving", "address")
        yield Running(child, address)
    finally:
        await child.stop()


async def main_async(args: argparse.Namespace, variants: dict[str, Path]) -> int:
    """Start everything, run the rounds, print the medians."""
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        work = Path(tmp)
        data = request_file(work)
        async with contextlib.AsyncExitStack() as stack:
            upstream = await stack.enter_async_context(nginx_upstream(work))
            servers: dict[str, Running] = {}
            for name, root in variants.items():
                servers[name] = await stack.enter_async_context(
                    variant(name, root, work, upstream.url)
                )
            if args.naive:
                servers["naive"] = await stack.enter_async_context(
                    naive_hop(work, upstream.url, API_KEY)
                )
            for name, server in servers.items():
                await grpc_check.check_status_calls(server.address, canned.BATCH_ID)
                await h2load.run(server.address, METHOD, data, requests=args.calls // 2)
                print(f"{name}: pid {server.pid} at {server.address}", flush=True)
            figures: dict[str, list[float]] = {name: [] for name in servers}
            order = list(servers)
            for index in range(args.rounds):
                for name in order if index % 2 == 0 else reversed(order):
                    window = cpu.CpuWindow(servers[name].pid)
                    window.start()
                    result = await h2load.run(
                        servers[name].address, METHOD, data, requests=args.calls
                    )
                    seconds = window.stop()
                    if not result.clean:
                        raise RuntimeError(f"{name}: h2load saw failures: {result}")
                    figures[name].append(seconds / result.succeeded * 1e6)
                print(
                    f"round {index + 1}: " + "  ".join(f"{n} {figures[n][-1]:,.0f}" for n in order),
                    flush=True,
                )
            for server in servers.values():
                await grpc_check.check_status_calls(server.address, canned.BATCH_ID)
    for name, values in figures.items():
        line = (
            f"{name}: median {statistics.median(values):,.0f} µs/call "
            f"({min(values):,.0f}-{max(values):,.0f})"
        )
        if "naive" in figures and name != "naive":
            ratios = [a / b for a, b in zip(values, figures["naive"], strict=True)]
            line += f"; ÷ naive {statistics.median(ratios):.2f}"
        print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.ab`."""
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("variants", nargs="+", help="NAME=DIR: a source tree holding gateway/")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--naive", action="store_true", help="the naive hop in the same rounds")
    args = parser.parse_args(argv)
    variants = {name: Path(root).resolve() for name, _, root in map(_split, args.variants)}
    return asyncio.run(main_async(args, variants))


def _split(text: str) -> tuple[str, str, str]:
    return text.partition("=")


if __name__ == "__main__":
    sys.exit(main())
