"""What the figures were measured on: cores, load, versions of everything that matters."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

from bench.callgrind import valgrind_binary
from bench.h2load import h2load_binary
from bench.nginx import nginx_binary

PACKAGES = ("grpcio", "httpx", "protobuf", "soferai", "uvloop")


def _version_of(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603 (fixed argv of a found binary)
    except OSError:
        return None
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 (fixed git sub-commands, no shell)
            ["git", *args],  # noqa: S607 (git from PATH, read-only commands)
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _commit() -> str | None:
    """HEAD's short hash, "+changes" when the gateway's code differs from it."""
    head = _git("rev-parse", "--short", "HEAD")
    if head is None:
        return None
    changed = _git("status", "--porcelain", "--", "gateway", "generated", "bench")
    return f"{head}+changes" if changed else head


def describe() -> dict[str, Any]:
    """The machine and the software under test, for latest.json and the docs."""
    nginx, h2load, valgrind = nginx_binary(), h2load_binary(), valgrind_binary()
    return {
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {name: _package(name) for name in PACKAGES},
        "nginx": _version_of([nginx, "-v"]) if nginx else None,
        "h2load": _version_of([h2load, "--version"]) if h2load else None,
        "valgrind": _version_of([valgrind, "--version"]) if valgrind else None,
        "commit": _commit(),
    }


def _package(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
