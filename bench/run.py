"""`python -m bench.run`: every scenario of the Performance issue, and the report.

Each scenario (bench/scenarios/) starts the processes it measures (nginx, sandbox, gateway,
naive hop, bare server, client processes) on loopback and stops them; they run one after
another so that none disturbs another. The full run writes bench/results/latest.json and
docs/benchmarks.md and adds its row to bench/results/history.json; `--quick` runs the same code
with tiny sizes, skipping what needs nginx or h2load when they are absent. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import machine, report
from bench.callgrind import valgrind_binary
from bench.h2load import h2load_binary
from bench.model import ScenarioResult
from bench.nginx import nginx_binary
from bench.scenarios import (
    churn,
    fanout,
    hot_batch,
    sdk,
    unary_cpu,
    unary_instructions,
    watch_burst,
    webhook_fanout,
)
from bench.settings import FULL, QUICK, Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCENARIOS: tuple[ModuleType, ...] = (
    unary_instructions,
    unary_cpu,
    hot_batch,
    sdk,
    watch_burst,
    fanout,
    churn,
    webhook_fanout,
)
TOOLS = {"nginx": nginx_binary, "h2load": h2load_binary, "valgrind": valgrind_binary}


def progress(text: str) -> None:
    """A progress note on stderr (the tables go to stdout)."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def missing_tools(scenario: ModuleType) -> list[str]:
    """The outside tools `scenario` needs that this machine lacks."""
    return [tool for tool in scenario.NEEDS if TOOLS[tool]() is None]


async def run_all(
    settings: Settings, chosen: Sequence[ModuleType], keep_going: bool
) -> list[ScenarioResult]:
    """Each scenario in turn, in its own temporary directory (logs, nginx prefix)."""
    results: list[ScenarioResult] = []
    for scenario in chosen:
        missing = missing_tools(scenario)
        if missing:
            reason = (
                f"needs {' and '.join(missing)}: run bench/install-tools.sh (or `make bench-tools`)"
            )
            progress(f"{scenario.TITLE}: skipped ({reason})")
            results.append(ScenarioResult(scenario.KEY, scenario.TITLE, "", skipped=reason))
            continue
        progress(f"{scenario.TITLE} ...")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"sofer-bench-{scenario.KEY}-") as tmp:
            try:
                result: ScenarioResult = await scenario.run(settings, Path(tmp))
            except Exception as exc:
                if not keep_going:
                    raise
                traceback.print_exc()
                result = ScenarioResult(
                    scenario.KEY, scenario.TITLE, "", skipped=f"failed: {exc!r}"
                )
        result.settings["seconds"] = round(time.monotonic() - started, 1)
        progress(f"{scenario.TITLE}: done in {result.settings['seconds']:g} s")
        results.append(result)
    return results


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="The Performance issue's benchmark: every scenario, figures beside targets.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--only",
        metavar="KEYS",
        help="comma-separated scenarios to run: " + ",".join(s.KEY for s in SCENARIOS),
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="where the figures go (default bench/results/latest.json; quick.json with --quick)",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        metavar="FILE",
        help="where the markdown goes "
        "(default docs/benchmarks.md for a full run of every scenario; none with --quick)",
    )
    parser.add_argument(
        "--label", default="latest run", help="this run's row in 'What each optimisation bought'"
    )
    parser.add_argument(
        "--note", default="", help="a remark printed above the tables (e.g. the machine was busy)"
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="a failing scenario is reported, not fatal"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.run`."""
    args = build_parser().parse_args(argv)
    settings = QUICK if args.quick else FULL
    chosen = list(SCENARIOS)
    if args.only:
        keys = {k.strip() for k in args.only.split(",")}
        unknown = keys - {s.KEY for s in SCENARIOS}
        if unknown:
            build_parser().error(f"--only: unknown scenario(s) {', '.join(sorted(unknown))}")
        chosen = [s for s in SCENARIOS if s.KEY in keys]
    if not args.quick:
        absent = sorted({t for s in chosen for t in missing_tools(s)})
        if absent:
            print(
                f"bench: {', '.join(absent)} missing: run bench/install-tools.sh", file=sys.stderr
            )
            return 2
    run_info: dict[str, Any] = {
        "date": report.now(),
        "quick": args.quick,
        "label": args.label,
        "note": args.note,
        "machine": machine.describe(),
        "settings": dict(vars(settings)),
    }
    started = time.monotonic()
    results = asyncio.run(run_all(settings, chosen, args.keep_going))
    run_info["seconds"] = time.monotonic() - started
    run_info["load_average_end"] = list(os.getloadavg())
    print(report.console(results))
    json_path = args.json or RESULTS / ("quick.json" if args.quick else "latest.json")
    report.write_json(json_path, results, run_info)
    progress(f"figures written to {json_path}")
    full_run = not args.quick and not args.only
    docs_path = args.docs or (ROOT / "docs" / "benchmarks.md" if full_run else None)
    if docs_path is not None:
        history_path = RESULTS / "history.json"
        history = (
            report.update_history(history_path, args.label, run_info, results)
            if full_run
            else [
                {
                    "label": args.label,
                    "date": run_info["date"],
                    "commit": None,
                    "load_average": run_info["machine"]["load_average"],
                    "figures": report.headline_figures(results),
                }
            ]
        )
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        kept = report.kept_notes(docs_path.read_text()) if docs_path.exists() else ""
        docs_path.write_text(report.markdown(results, run_info, history) + kept)
        progress(f"tables written to {docs_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
