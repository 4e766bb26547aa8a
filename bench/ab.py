"""Direct A/B of gateway variants: CPU per unary call, side by side in front of one nginx.

Each variant is NAME=DIR, a source tree (a directory holding `gateway/`, e.g. a checkout of the
tree before a change); every one runs as its own `sofer-gateway serve` with its default flags,
started from that directory (by its own `.venv/bin/python` when it has one) so that its
`gateway` package is the one imported. bench/unary_client.py drives them in turn, ABBA...,
`rounds` times with `calls` distinct reads each (a batch id of its own per call: none shared,
each one upstream GET), and the median (min-max) of each variant's server CPU per call is
printed; with `--naive` the naive hop runs in the same rounds, and each variant's ratio to it is
printed too. Nothing is written: this is the lever-by-lever tool for CPU time
(docs/benchmarks.md); `bench.instructions` counts instructions, `bench.run` is the record.

    python -m bench.ab before=/tmp/before after=. --rounds 8 --calls 1500 --naive
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import cpu, unary_client
from bench.instructions import launch_of
from bench.nginx import nginx_upstream
from bench.servers import API_KEY, Running, gateway, naive_hop


async def main_async(args: argparse.Namespace, variants: dict[str, Path]) -> int:
    """Start everything, run the rounds, print the medians."""
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        work = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            upstream = await stack.enter_async_context(nginx_upstream(work))
            servers: dict[str, Running] = {}
            for name, root in variants.items():
                servers[name] = await stack.enter_async_context(
                    gateway(work, upstream.url, api_key=API_KEY, name=name, launch=launch_of(root))
                )
            if args.naive:
                servers["naive"] = await stack.enter_async_context(
                    naive_hop(work, upstream.url, API_KEY)
                )
            order = list(servers)
            for index, name in enumerate(order):
                server = servers[name]
                await unary_client.run(server.address, args.calls // 2, 16, f"ffff{index:04x}")
                print(f"{name}: pid {server.pid} at {server.address}", flush=True)
            figures: dict[str, list[float]] = {name: [] for name in servers}
            for index in range(args.rounds):
                for name in order if index % 2 == 0 else reversed(order):
                    window = cpu.CpuWindow(servers[name].pid)
                    window.start()
                    tag = f"{index:04x}{order.index(name):04x}"
                    await unary_client.run(servers[name].address, args.calls, 16, tag)
                    figures[name].append(window.stop() / args.calls * 1e6)
                print(
                    f"round {index + 1}: " + "  ".join(f"{n} {figures[n][-1]:,.0f}" for n in order),
                    flush=True,
                )
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
    pairs = [text.partition("=") for text in args.variants]
    variants = {name: Path(root).resolve() for name, _, root in pairs}
    return asyncio.run(main_async(args, variants))


if __name__ == "__main__":
    sys.exit(main())
