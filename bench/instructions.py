"""Instructions per GetBatchStatus of source trees side by side: the unary instruction count
(bench/scenarios/unary_instructions.py) for any tree, e.g. the tree before a change.

Each variant is NAME=DIR, a source tree holding `gateway/` and `bench/` (its servers are the
ones started, from that directory, by its own `.venv/bin/python` when it has one, else by this
interpreter); without variants, this tree. Each side of each variant runs under callgrind in
front of an nginx of its own (this tree's), one after another; the figures are printed, nothing
written.

    python -m bench.instructions start=/tmp/baseline now=. --sides gateway,hot
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.scenarios.unary_instructions import SIDES, by_server, count_sides
from bench.servers import Launch
from bench.settings import FULL, Settings


def launch_of(root: Path) -> Launch:
    """Start a tree's servers from the tree, with its own virtual environment if it has one."""
    python = root / ".venv" / "bin" / "python"
    return Launch(python=str(python) if python.exists() else sys.executable, cwd=root)


async def main_async(variants: dict[str, Path], sides: list[str], settings: Settings) -> int:
    """Count every side of every variant; print each as it comes."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        work = Path(tmp)
        for index, (name, root) in enumerate(variants.items()):
            for server, keys in by_server(sides).items():
                work_dir = work / f"{index}"
                work_dir.mkdir(exist_ok=True)
                counts = await count_sides(server, keys, work_dir, settings, launch_of(root))
                for key, count in counts.items():
                    print(
                        f"{name} {key}: {count.per_call / 1e6:.3f} M instructions per call "
                        f"(busy {count.busy / 1e6:,.0f} M over {count.busy_seconds:.1f} s, "
                        f"idle {count.idle_per_second / 1e6:.2f} M/s, "
                        f"{count.upstream_requests} upstream requests)",
                        flush=True,
                    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.instructions`."""
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("variants", nargs="*", help="NAME=DIR: a source tree (default: this)")
    parser.add_argument(
        "--sides", default=",".join(SIDES), help=f"comma-separated: {','.join(SIDES)}"
    )
    parser.add_argument("--warmup", type=int, default=FULL.instructions_warmup_calls)
    parser.add_argument("--calls", type=int, default=FULL.instructions_calls)
    parser.add_argument("--idle", type=float, default=FULL.instructions_idle_seconds)
    args = parser.parse_args(argv)
    sides = [s.strip() for s in args.sides.split(",")]
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"--sides: unknown {', '.join(sorted(unknown))}")
    pairs = [text.partition("=") for text in args.variants] or [("this", "=", ".")]
    variants = {name: Path(root).resolve() for name, _, root in pairs}
    settings = replace(
        FULL,
        instructions_warmup_calls=args.warmup,
        instructions_calls=args.calls,
        instructions_idle_seconds=args.idle,
    )
    return asyncio.run(main_async(variants, sides, settings))


if __name__ == "__main__":
    sys.exit(main())
