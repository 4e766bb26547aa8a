"""`make buf-breaking`: protos/ checked against the previous commit with buf.yaml's FILE rules.

Each test builds a throw-away git repository holding a copy of protos/ and buf.yaml, commits the
current contract and then a change, and runs the repository's own Makefile target there, with the
buf that package-lock.json pins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import REPO

BUF = REPO / "node_modules" / ".bin" / "buf"
SERVICE_PROTO = Path("protos") / "sofer" / "batch" / "v1" / "batch_service.proto"
BATCH_TITLE = "  string batch_title = 3;\n"
AUDIO_SOURCES = "  repeated AudioSource audio_sources = 6;\n"
TIMEOUT_SECONDS = 120.0

Edit = Callable[[str], str]


def git_env(root: Path) -> dict[str, str]:
    """An environment in which git sees only `root`: no user or system config (signing, hooks,
    default branch), no enclosing repository, a fixed identity."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CEILING_DIRECTORIES=str(root.parent),
        GIT_AUTHOR_NAME="buf-breaking test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="buf-breaking test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return env


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its output; a failure fails the test with git's message."""
    executable = shutil.which("git")
    if executable is None:
        pytest.fail("git is not on PATH")
    done = subprocess.run(  # noqa: S603 (git with this test's own arguments, no shell)
        [executable, *args],
        cwd=root,
        env=git_env(root),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def make_repository(root: Path, *changes: Edit) -> Path:
    """A git repository at `root`: one commit of the current protos/ and buf.yaml, then one
    commit per change (each a function from the service proto's text to the new text)."""
    root.mkdir()
    shutil.copytree(REPO / "protos", root / "protos")
    shutil.copy(REPO / "buf.yaml", root / "buf.yaml")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the current contract")
    for number, change in enumerate(changes, start=1):
        path = root / SERVICE_PROTO
        before = path.read_text(encoding="utf-8")
        after = change(before)
        assert after != before, "the change did not apply"
        path.write_text(after, encoding="utf-8")
        git(root, "commit", "-q", "-a", "-m", f"change {number}")
    return root


def buf_breaking(root: Path) -> subprocess.CompletedProcess[str]:
    """`make buf-breaking` of this repository's Makefile, run in `root` with the pinned buf.

    `-o node-deps` keeps make from running `npm ci` in the throw-away repository.
    """
    if not BUF.is_file():
        pytest.fail(f"{BUF.relative_to(REPO)} is missing: run make node-deps")
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not on PATH")
    return subprocess.run(  # noqa: S603 (make with this test's own arguments, no shell)
        [
            make,
            "--no-print-directory",
            "-f",
            str(REPO / "Makefile"),
            "-o",
            "node-deps",
            f"BUF={BUF}",
            "buf-breaking",
        ],
        cwd=root,
        env=git_env(root),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def renumber_batch_title(text: str) -> str:
    """CreateBatchRequest.batch_title moves from field number 3 to 7."""
    return text.replace(BATCH_TITLE, "  string batch_title = 7;\n", 1)


def remove_batch_title(text: str) -> str:
    """CreateBatchRequest.batch_title is deleted (its comment stays, harmlessly)."""
    return text.replace(BATCH_TITLE, "", 1)


def add_a_field(text: str) -> str:
    """CreateBatchRequest gains a new field with a new number: a compatible change."""
    return text.replace(
        AUDIO_SOURCES, AUDIO_SOURCES + "  // A new field.\n  string note = 99;\n", 1
    )


def test_current_contract_has_batch_title_as_field_3() -> None:
    """The edits below find what they change: CreateBatchRequest.batch_title is field 3 and
    audio_sources field 6, each once in the service proto."""
    text = (REPO / SERVICE_PROTO).read_text(encoding="utf-8")
    assert text.count(BATCH_TITLE) == 1
    assert text.count(AUDIO_SOURCES) == 1


@pytest.mark.parametrize(
    "change", [renumber_batch_title, remove_batch_title], ids=["renumbered", "removed"]
)
def test_a_renumbered_or_removed_field_fails_the_check(tmp_path: Path, change: Edit) -> None:
    """A commit that renumbers or removes a field fails `make buf-breaking`, which names the
    field, the message and the commit it breaks."""
    root = make_repository(tmp_path / "repo", change)

    done = buf_breaking(root)

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert 'field "3" with name "batch_title" on message "CreateBatchRequest"' in output, output
    assert "buf-breaking: protos/ breaks the contract of HEAD~1" in output, output


def test_a_compatible_change_passes(tmp_path: Path) -> None:
    """A commit that only adds a field passes `make buf-breaking` (exit 0)."""
    root = make_repository(tmp_path / "repo", add_a_field)

    done = buf_breaking(root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "buf breaking --against '.git#ref=HEAD~1'" in done.stdout


def test_only_the_previous_commit_counts(tmp_path: Path) -> None:
    """The check compares with HEAD~1 only: a break two commits back that the last commit keeps
    passes, the same protos one commit later than the break fail."""
    root = make_repository(tmp_path / "repo", renumber_batch_title, add_a_field)

    assert buf_breaking(root).returncode == 0

    git(root, "checkout", "-q", "--detach", "HEAD~1")
    assert buf_breaking(root).returncode != 0


def test_the_check_works_in_a_fresh_clone(tmp_path: Path) -> None:
    """In a fresh `git clone` of a repository whose last commit renumbers a field, the check
    fails as it does in the original."""
    origin = make_repository(tmp_path / "origin", renumber_batch_title)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))

    done = buf_breaking(clone)

    assert done.returncode != 0, done.stdout + done.stderr
    assert "batch_title" in done.stdout + done.stderr


def test_a_single_commit_is_skipped_with_a_message(tmp_path: Path) -> None:
    """A repository with one commit has no HEAD~1: the check says it is skipped and passes."""
    root = make_repository(tmp_path / "repo")

    done = buf_breaking(root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "buf-breaking: skipped: no commit HEAD~1" in done.stdout


def test_a_shallow_clone_is_skipped_with_a_message(tmp_path: Path) -> None:
    """A `git clone --depth 1` (as some CI checkouts are) has no HEAD~1 either: skipped, exit 0,
    even when the last commit breaks the contract."""
    origin = make_repository(tmp_path / "origin", renumber_batch_title)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", origin.as_uri(), str(clone))

    done = buf_breaking(clone)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "buf-breaking: skipped" in done.stdout
