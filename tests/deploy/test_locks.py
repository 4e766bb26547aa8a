"""The lock files in requirements/: every version that make install, CI and the Dockerfile install.

`make lock` writes them from pyproject.toml and sandbox/pyproject.toml (uv pip compile, with
hashes; the Python client, clients/python/, resolved from the tree: its dependencies pinned, itself
left out); nobody edits them by hand. These tests read them offline: a lock that no longer matches
the ranges in the pyproject files (a dependency added, removed or bounded since) fails here with
the command that refreshes it, and so does a production lock that would ship the sandbox or a
dev tool.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import REPO

LOCKS = REPO / "requirements"
DEV, RUNTIME, SANDBOX_LOCK, BUILD = "dev.txt", "runtime.txt", "sandbox.txt", "build.txt"
GATEWAY = "sofer-gateway (pyproject.toml)"
SANDBOX = "sofer-gateway-sandbox (sandbox/pyproject.toml)"
CLIENT = "sofer-gateway-client"
"""The Python client (clients/python/): a dependency of the gateway installed from the tree
(make install, the Dockerfile), so in no lock; its own dependencies are pinned there."""
REFRESH = "the lock is stale: run `make lock` and commit requirements/"
# Never in a production install: the sandbox and its server stack, and the dev tools.
NOT_IN_PRODUCTION = {
    "sofer-gateway-sandbox",
    "starlette",
    "uvicorn",
    "pytest",
    "ruff",
    "mypy",
    "uv",
    "hypothesis",
}


@dataclass(frozen=True)
class Pin:
    """One requirement of a lock file: `name==version ; marker`, its hashes and its `# via`."""

    requirement: Requirement
    hashes: frozenset[str]
    via: frozenset[str]

    @property
    def version(self) -> str:
        (spec,) = self.requirement.specifier
        assert spec.operator == "==", f"{self.requirement}: not pinned with =="
        return spec.version


@cache
def lock(name: str) -> dict[str, Pin]:
    """requirements/NAME as pins by canonical name (the format uv pip compile writes)."""
    pins: dict[str, Pin] = {}
    entries: list[tuple[str, list[str], list[str]]] = []
    for raw in (LOCKS / name).read_text().splitlines():
        line = raw.strip().removesuffix("\\").strip()
        if not line or (line.startswith("#") and not raw.startswith(" ")):
            continue  # blank, or the header
        if not raw.startswith(" "):
            entries.append((line, [], []))
        elif line.startswith("--hash="):
            entries[-1][1].append(line.removeprefix("--hash="))
        elif line.startswith("#"):
            source = line.lstrip("#").strip().removeprefix("via").strip()
            if source:
                entries[-1][2].append(source)
    for text, hashes, via in entries:
        requirement = Requirement(text)
        pins[canonicalize_name(requirement.name)] = Pin(
            requirement, frozenset(hashes), frozenset(via)
        )
    assert pins, f"requirements/{name} pins nothing"
    return pins


def _pyproject(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)
    return project


def _direct(pins: dict[str, Pin], source: str) -> set[str]:
    """The names a lock records as asked for by `source` itself."""
    return {name for name, pin in pins.items() if source in pin.via}


def _assert_within(pins: dict[str, Pin], wanted: list[Requirement], lock_name: str) -> None:
    for requirement in wanted:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{lock_name} lacks {requirement.name}: {REFRESH}"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock_name} pins {requirement.name}=={pin.version} outside {requirement}: {REFRESH}"
        )


def _names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def _gateway_requirements(*extras: str) -> list[Requirement]:
    """The gateway's requirements (with `extras`) but the client, which no lock pins."""
    project = _pyproject(REPO / "pyproject.toml")["project"]
    listed = project["dependencies"] + [
        r for extra in extras for r in project["optional-dependencies"][extra]
    ]
    return [Requirement(r) for r in listed if Requirement(r).name != CLIENT]


def _client_requirements() -> list[Requirement]:
    project = _pyproject(REPO / "clients" / "python" / "pyproject.toml")["project"]
    return [Requirement(r) for r in project["dependencies"]]


def _assert_client_locked(pins: dict[str, Pin], lock_name: str) -> None:
    """The client's dependencies are pinned (as asked for by it), inside their ranges; the
    client itself is not."""
    client = _client_requirements()
    assert _direct(pins, CLIENT) == _names(client), REFRESH
    _assert_within(pins, client, lock_name)
    assert CLIENT not in pins


def _sandbox_requirements() -> list[Requirement]:
    project = _pyproject(REPO / "sandbox" / "pyproject.toml")["project"]
    return [Requirement(r) for r in project["dependencies"]]


@pytest.mark.parametrize("name", [DEV, RUNTIME, SANDBOX_LOCK, BUILD])
def test_every_pin_is_exact_and_carries_its_hashes(name: str) -> None:
    """Each lock pins every package to one version with at least one sha256, so that
    `pip install --require-hashes -r` accepts it and refuses any file that differs; its header
    names the command that writes it."""
    assert "make lock" in (LOCKS / name).read_text().split("\n\n", 1)[0]
    for pin in lock(name).values():
        assert pin.version, pin.requirement
        assert pin.hashes, f"{name}: {pin.requirement} has no hash"
        assert all(h.startswith("sha256:") and len(h) == 7 + 64 for h in pin.hashes), pin


def test_the_dev_lock_holds_what_the_pyproject_files_ask_for() -> None:
    """requirements/dev.txt pins exactly the gateway's dependencies with its `dev` extra and the
    sandbox's dependencies, each inside the range asked for: a dependency added, removed or
    bounded in a pyproject.toml without `make lock` fails here."""
    pins = lock(DEV)
    gateway, sandbox = _gateway_requirements("dev"), _sandbox_requirements()
    assert _direct(pins, GATEWAY) == _names(gateway), REFRESH
    assert _direct(pins, SANDBOX) == _names(sandbox), REFRESH
    _assert_within(pins, gateway + sandbox, DEV)
    _assert_client_locked(pins, DEV)


def test_the_runtime_lock_holds_what_a_production_install_needs() -> None:
    """requirements/runtime.txt pins exactly the gateway's own dependencies (no extra), inside
    their ranges, and nothing of the sandbox or the dev tools."""
    pins = lock(RUNTIME)
    runtime = _gateway_requirements()
    assert _direct(pins, GATEWAY) == _names(runtime), REFRESH
    _assert_within(pins, runtime, RUNTIME)
    _assert_client_locked(pins, RUNTIME)
    assert not NOT_IN_PRODUCTION & pins.keys()


def test_the_sandbox_lock_holds_the_gateway_with_its_sandbox_extra() -> None:
    """requirements/sandbox.txt (the Dockerfile's `sandbox` target) pins exactly the gateway's
    and the sandbox's dependencies, inside their ranges, and no dev tool."""
    pins = lock(SANDBOX_LOCK)
    gateway, sandbox = _gateway_requirements(), _sandbox_requirements()
    assert _direct(pins, GATEWAY) == _names(gateway), REFRESH
    assert _direct(pins, SANDBOX) == _names(sandbox), REFRESH
    _assert_within(pins, gateway + sandbox, SANDBOX_LOCK)
    _assert_client_locked(pins, SANDBOX_LOCK)
    assert not (NOT_IN_PRODUCTION - {"starlette", "uvicorn"}) & pins.keys()


def test_the_image_runs_the_versions_the_tests_ran() -> None:
    """Every package of the image locks is in the dev lock that make install (and so the test
    suite) uses, at the same version, marker and hashes; so is the build backend where both
    pin it."""
    dev = lock(DEV)
    assert lock(RUNTIME).keys() <= dev.keys()
    assert lock(SANDBOX_LOCK).keys() <= dev.keys()
    for name in (RUNTIME, SANDBOX_LOCK, BUILD):
        for key, pin in lock(name).items():
            if key in dev:
                assert _identity(pin) == _identity(dev[key]), f"{name}: {key}: {REFRESH}"


def _identity(pin: Pin) -> tuple[str, str, frozenset[str]]:
    return pin.version, str(pin.requirement.marker), pin.hashes


def test_the_build_lock_holds_the_build_backend() -> None:
    """requirements/build.txt pins what the three pyproject files' build-system.requires ask
    for (the local packages are built with it, without build isolation), inside those ranges."""
    local = ("pyproject.toml", "sandbox/pyproject.toml", "clients/python/pyproject.toml")
    wanted = [
        Requirement(r)
        for path in (REPO / name for name in local)
        for r in _pyproject(path)["build-system"]["requires"]
    ]
    _assert_within(lock(BUILD), wanted, BUILD)
