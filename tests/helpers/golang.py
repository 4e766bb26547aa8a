"""Helpers that build and run Go programs against the committed generated/go code (no tests
here): Debian's Go 1.19 in GOPATH mode, with grpc-go and genproto from /usr/share/gocode.

`make test` installs the toolchain (make polyglot-tools), so a missing `go` fails the test
rather than skipping it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.helpers.processes import run_program

GO = shutil.which("go")
DEBIAN_GOCODE = "/usr/share/gocode"
IMPORT_PATH = "sofer.ai/gateway/sofer/batch/v1"
"""The generated package's import path (the protos' go_package)."""
GENERATED = REPO / "generated" / "go" / "sofer" / "batch" / "v1"
BUILD_GUARD = 300.0
"""A first build compiles grpc-go and protobuf from source: about a minute on a busy 2-core
machine, a second or two once GOCACHE holds them."""
RUN_GUARD = 90.0


def go_cache() -> Path:
    """Go's build cache: the caller's GOCACHE, else the user's default, which outlives the test
    so that the next build is quick; never inside the repository."""
    configured = os.environ.get("GOCACHE")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    cache = Path(configured or Path(base) / "go-build").resolve()
    assert not cache.is_relative_to(REPO), f"GOCACHE {cache} is inside the repository"
    return cache


def require_go() -> None:
    """Fail the test, saying what to run, when go or the generated Go code is missing."""
    if GO is None:
        pytest.fail("go is not on PATH: run make polyglot-tools")
    if not (GENERATED / "batch_service_grpc.pb.go").is_file():
        pytest.fail("generated/go lacks batch_service_grpc.pb.go: run make generate")


def go_workspace(root: Path) -> dict[str, str]:
    """A GOPATH under `root` whose IMPORT_PATH is a symlink to generated/go's package, ahead of
    Debian's gocode; the environment that builds against it in GOPATH mode (require_go first)."""
    require_go()
    link = root / "gopath" / "src" / IMPORT_PATH
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(GENERATED, target_is_directory=True)
    return {
        "GO111MODULE": "off",
        "GOPATH": f"{root / 'gopath'}{os.pathsep}{DEBIAN_GOCODE}",
        "GOFLAGS": "",
        "GOCACHE": str(go_cache()),
    }


async def go_build(source: Path, root: Path) -> Path:
    """Build the program `source` (one main.go) in a go_workspace under `root`; the binary's
    path. A failed build fails the test with the compiler's output."""
    env = go_workspace(root)
    binary = root / "program"
    assert GO is not None
    argv = (GO, "build", "-o", str(binary), source.name)
    code, out, err = await run_program(*argv, env=env, cwd=source.parent, guard=BUILD_GUARD)
    assert code == 0, f"go build {source} failed:\n{out}{err}"
    return binary


async def go_run(binary: Path, *args: str, env: Mapping[str, str]) -> tuple[int, str]:
    """Run a built program with `env` (beside the test's environment, without its SOFER_*
    variables): its exit status and its stdout and stderr together."""
    code, out, err = await run_program(str(binary), *args, env=env, guard=RUN_GUARD)
    return code, out + err
