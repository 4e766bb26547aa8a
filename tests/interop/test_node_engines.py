"""The Node versions the project supports: package.json's "engines", the README, the lock.

`make node-deps` runs `npm ci` with engine-strict (.npmrc), so an npm package whose "engines"
excludes the running Node stops the set-up at once; these tests check, without Node, that every
locked package accepts the oldest Node the project promises, and that the README promises it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.helpers import REPO

Version = tuple[int, int, int]
OPERATOR = re.compile(r"^(>=|<=|>|<|=|\^|~)?v?(\d+|\*|x)(?:\.(\d+|\*|x))?(?:\.(\d+|\*|x))?$")


def _json(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO / name).read_text())
    return document


def _oldest_supported() -> Version:
    """The floor of package.json's engines.node, which must be a plain `>=MAJOR`."""
    floor = _json("package.json")["engines"]["node"]
    match = re.fullmatch(r">=(\d+)", floor)
    assert match, f'package.json engines.node is "{floor}", expected ">=MAJOR"'
    return int(match.group(1)), 0, 0


def _satisfies(version: Version, node_range: str) -> bool:
    """Whether `version` is in an npm engines range: `||` of space-separated comparators, each
    `>=`, `>`, `<=`, `<`, `=`, `^` or `~` before a version whose missing or `*` parts are
    wild (the forms the locked packages use; another form fails the test, naming it)."""
    for alternative in node_range.split("||"):
        words = re.sub(r"(>=|<=|>|<|=)\s+", r"\1", alternative).split()
        if all(_comparator(version, word) for word in words):
            return True
    return False


def _comparator(version: Version, word: str) -> bool:
    match = OPERATOR.match(word)
    assert match, f"engines range form not understood: {word!r}"
    operator = match.group(1) or "="
    parts = [p for p in match.groups()[1:] if p is not None and p not in {"*", "x"}]
    bound = tuple(int(p) for p in parts)
    head = version[: len(bound)]
    if operator == "^":
        return version[:1] == bound[:1] and head >= bound
    if operator == "~":
        return version[:2] == bound[:2] and head >= bound
    comparisons = {
        ">=": head >= bound,
        ">": head > bound,
        "<=": head <= bound,
        "<": head < bound,
        "=": head == bound,
    }
    return comparisons[operator]


def test_the_range_check_reads_npm_ranges() -> None:
    """The engines check agrees with npm on the forms the lock uses (the check itself can
    fail: 20 is outside >=22 and inside >=18)."""
    assert not _satisfies((20, 0, 0), ">=22")
    assert _satisfies((20, 0, 0), ">=18")
    assert _satisfies((20, 0, 0), ">=12.10.0")
    assert _satisfies((20, 0, 0), "6.* || 8.* || >= 10.*")
    assert not _satisfies((9, 0, 0), "6.* || 8.* || >= 10.*")
    assert _satisfies((20, 0, 0), "^20.0.0 || >=22")
    assert not _satisfies((21, 0, 0), "^20.0.0 || >=22")


def test_every_locked_package_runs_on_the_oldest_supported_node() -> None:
    """Every package in package-lock.json accepts the oldest Node that package.json's engines
    allows (a pin that needs a newer Node, as google-proto-files 6 needs 22, fails here)."""
    oldest = _oldest_supported()
    packages = _json("package-lock.json")["packages"]
    refused = {
        f"{path.removeprefix('node_modules/')}@{entry.get('version')}": entry["engines"]["node"]
        for path, entry in packages.items()
        if path and isinstance(entry.get("engines"), dict) and "node" in entry["engines"]
        if not _satisfies(oldest, entry["engines"]["node"])
    }
    assert refused == {}, f"these need a newer Node than {oldest[0]}"
    assert packages[""]["engines"] == _json("package.json")["engines"], "run npm install"


def test_the_readme_names_the_supported_node_versions() -> None:
    """The README's Quick start names the Node versions package.json's engines accepts."""
    readme = (REPO / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start") :].split("\n## ", 1)[0]
    assert f"Node.js {_oldest_supported()[0]} or newer" in quick_start
