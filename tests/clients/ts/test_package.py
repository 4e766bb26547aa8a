"""The TypeScript client package (clients/ts/, @sofer-ai/gateway-client) as a user gets it:
`npm pack` builds it, a fresh project installs the tarball, and programs of that project run
against a real gateway: the package's own check (consumer.mjs) and the README's TypeScript
example exactly as printed, both type-checked against the .d.ts files the package ships."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers import REPO
from tests.helpers.node import require_packages
from tests.helpers.processes import clean_environment, run_program

PACKAGE = REPO / "clients" / "ts"
CONSUMER = Path(__file__).with_name("consumer.mjs")
PEERS = ("@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-node")
# npm pack compiles src/ with tsc (10 to 25 s on a busy 2-core machine); npm install is offline
# from npm's cache, or through the registry. Below pytest's timeout of a test (120 s).
NPM_GUARD = 90.0
RUN_GUARD = 60.0
SHIPPED = {
    "package.json",
    "README.md",
    "dist/index.js",
    "dist/index.d.ts",
    *(
        f"gen/{name}_pb.{ext}"
        for name in (
            "sofer/batch/v1/batch",
            "sofer/batch/v1/batch_service",
            "google/rpc/status",
            "google/rpc/error_details",
        )
        for ext in ("js", "d.ts")
    ),
}


def readme_example() -> str:
    """The ```js block of the README's "### TypeScript" part, exactly as printed."""
    readme = (REPO / "README.md").read_text()
    part = readme.split("\n### TypeScript\n", 1)[1].split("\n### ", 1)[0]
    found = re.findall(r"```js\n(.*?)```", part, re.S)
    assert len(found) == 1, "the README's TypeScript part has no (or more than one) ```js block"
    return str(found[0])


def tool(name: str) -> str:
    """The path of `name` on PATH; the test fails (never skips) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install Node.js 20 or newer with npm")
    return path


def run(*argv: str, cwd: Path, guard: float = NPM_GUARD) -> str:
    """Run `argv` in `cwd` to its end and return its stdout; the test fails on a non-zero exit,
    or when it is still running after `guard` seconds. Whatever it started is killed with it
    when the test ends first (pytest's own timeout included)."""
    process = subprocess.Popen(  # noqa: S603 (npm and tsc on our own arguments, no shell)
        argv,
        cwd=cwd,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=guard)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv[:2])} did not end within {guard} s")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, f"{' '.join(argv[:2])} exited {process.returncode}:\n{out}{err}"
    return out


def locked_version(name: str) -> str:
    """The version of npm package `name` that `make node-deps` installed from package-lock.json."""
    manifest = json.loads((REPO / "node_modules" / name / "package.json").read_text())
    return str(manifest["version"])


@dataclasses.dataclass(frozen=True)
class Packed:
    """The tarball `npm pack` wrote (npm's --json account of it) and a project that installed it."""

    info: dict[str, Any]
    project: Path


def pack(npm: str, folder: Path) -> dict[str, Any]:
    """`npm pack` of clients/ts/ into `folder` (its prepack copies generated/ts/ and compiles
    src/), once per test run: npm's --json account of the tarball. The pytest-xdist workers of
    one run share `folder`: the first packs, the others wait for it and take its tarball."""
    account = folder / "npm-pack.json"
    # Locked on clients/ts itself: prepack rewrites its gen/ and dist/, whoever runs it.
    with (PACKAGE / "package.json").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not account.is_file():
            out = run(npm, "pack", "--json", "--pack-destination", str(folder), cwd=PACKAGE)
            account.write_text(out)
    [info] = json.loads(account.read_text())
    assert isinstance(info, dict)
    return info


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Packed:
    """The packed clients/ts/, and a new ES-module project that installed the tarball with the
    peer dependencies at the versions of the repository's package-lock.json."""
    npm = tool("npm")
    tool("node")
    require_packages((*PEERS, "typescript", "@types/node"))
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker has its own base in the run's folder, which they share.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "ts-package"
    folder.mkdir(exist_ok=True)
    info = pack(npm, folder)
    project = tmp_path_factory.mktemp("ts-project")
    manifest = {"name": "project", "private": True, "type": "module"}
    (project / "package.json").write_text(json.dumps(manifest))
    pins = [f"{name}@{locked_version(name)}" for name in PEERS]
    tarball = str(folder / info["filename"])
    run(npm, "install", "--no-audit", "--no-fund", "--prefer-offline", tarball, *pins, cwd=project)
    return Packed(info, project)


@pytest.fixture
def example(packed: Packed) -> Iterator[Path]:
    """The README's example, as example.mjs in the project that installed the package."""
    path = packed.project / "example.mjs"
    path.write_text(readme_example())
    yield path
    path.unlink()


def test_npm_pack_ships_the_generated_code_the_helpers_and_their_types(packed: Packed) -> None:
    """The tarball holds exactly the package's manifest and README, the compiled helpers with
    their .d.ts, and the generated code of protos/ and of google/rpc's status and error details
    (each .js with its .d.ts), named @sofer-ai/gateway-client 0.1.0."""
    files = {entry["path"] for entry in packed.info["files"]}
    assert files == SHIPPED
    assert (packed.info["name"], packed.info["version"]) == ("@sofer-ai/gateway-client", "0.1.0")
    installed = packed.project / "node_modules" / "@sofer-ai" / "gateway-client"
    assert (installed / "gen" / "google" / "rpc" / "error_details_pb.js").is_file()


def test_the_shipped_types_check_the_readme_example_and_a_client(
    packed: Packed, example: Path
) -> None:
    """A TypeScript user gets types from the package: `tsc --strict --checkJs` (TypeScript from
    the repository's lock) finds no error in the README's example or in consumer.mjs, both
    importing the package through its exports map as a user's project does."""
    shutil.copy(CONSUMER, packed.project / "consumer.mjs")
    tsc = REPO / "node_modules" / ".bin" / "tsc"
    types = REPO / "node_modules" / "@types"
    flags = ("--noEmit", "--allowJs", "--checkJs", "--strict", "--target", "es2022")
    resolution = ("--module", "nodenext", "--moduleResolution", "nodenext")
    node_types = ("--typeRoots", str(types), "--types", "node")
    run(
        str(tsc), *flags, *resolution, *node_types, example.name, "consumer.mjs", cwd=packed.project
    )


async def test_a_project_with_the_package_creates_watches_and_decodes_errors(
    packed: Packed, gateway: Gateway
) -> None:
    """A program that imports only the installed package creates a batch with a request_id (its
    retry gets the same batch), reads its status, watches it to COMPLETED, and decodes errors
    with gatewayError: an invalid create is REQUEST_INVALID with its two field violations, an
    unknown batch BATCH_NOT_FOUND with its batch_id, a RetryInfo of 1.5 s is 1500 ms."""
    shutil.copy(CONSUMER, packed.project / "consumer.mjs")
    node = tool("node")
    status, out, err = await run_program(
        node, "consumer.mjs", gateway.address, TOKEN, cwd=packed.project, guard=RUN_GUARD
    )
    assert status == 0, out + err
    steps = [line.split(":", 1)[0] for line in out.splitlines() if line.startswith("ok ")]
    assert steps == [
        "ok   CreateBatch",
        "ok   GetBatchStatus",
        "ok   WatchBatchStatus",
        "ok   CreateBatch(invalid)",
        "ok   GetBatchStatus(unknown)",
        "ok   gatewayError",
    ], out
    assert "PASS package client" in out


async def test_the_readme_typescript_example_runs_as_printed(
    example: Path, embedded: Gateway
) -> None:
    """The README's TypeScript example, in a project that installed the packed package, against
    `make run`'s gateway (SOFER_GATEWAY_TARGET names it): it prints the created batch, the watch
    to COMPLETED 1/1, and the two field violations of the invalid request, and exits 0."""
    node = tool("node")
    env = {"SOFER_GATEWAY_TARGET": embedded.address}
    status, out, err = await run_program(
        node, example.name, env=env, cwd=example.parent, guard=RUN_GUARD
    )
    assert status == 0, out + err
    lines = out.splitlines()
    assert re.fullmatch(r"created [0-9a-f-]{36} [A-Z]+", lines[0]), out
    assert lines[-3:] == [
        "COMPLETED 1/1",
        "info: is required",
        "audio_sources[0].audio_url: must be an absolute http(s) URL",
    ], out
