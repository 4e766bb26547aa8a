"""`sofer-gateway fetch` against what it reads but did not make: a resume manifest edited to
lead writes outside --out, transcription ids that are paths, and a transcript with a word time
of 1e306 s. Every file stays inside --out, and an item that cannot be captioned is named and
passed over while the others are written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sofer.batch.v1 import batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.cli.errors import ExitCode
from gateway.cli.fetch_folder import MANIFEST_KIND, MANIFEST_NAME
from gateway.cli.filenames import MAX_STEM_BYTES, assign_stems, is_given
from gateway.server.process import Gateway
from tests.cli.test_client import cli, to
from tests.cli.test_fetch import create, files, item
from tests.helpers.calls import fault

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Short items, as in tests/cli/test_fetch.py."""
    return SandboxConfig(item_seconds=0.3, manifest_validation_seconds=0.0)


def planted(folder: Path, batch_id: str, stems: dict[str, str]) -> None:
    """A resume manifest for `batch_id` in `folder`, naming each item by the stem given, no
    item fetched yet: what an edited (or planted) manifest looks like."""
    folder.mkdir(parents=True, exist_ok=True)
    items = {
        tid: {"stem": stem, "state": "", "files": [], "info": {}} for tid, stem in stems.items()
    }
    data = {"kind": MANIFEST_KIND, "version": 1, "batch_id": batch_id, "items": items}
    (folder / MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "stem",
    [
        "../escaped",
        "../../escaped",
        "sub/../../escaped",
        "{tmp}/abs-escaped",
        "",
        ".hidden",
        "CON",
    ],
)
async def test_a_manifest_naming_files_outside_out_is_refused(
    gateway: Gateway, stub: Stub, tmp_path: Path, stem: str
) -> None:
    """A resume manifest whose stem for an item is a path (`../escaped`, an absolute path into
    the test's folder) or a name fetch never gives: fetch refuses the folder (exit 2, naming the
    manifest and the item) before any call, and writes nothing, inside --out or out of it."""
    batch_id, ids = await create(stub, item(1, client_item_id="a"))
    out = tmp_path / "out"
    planted(out, batch_id, {ids[0]: stem.format(tmp=tmp_path)})
    result = await cli("fetch", batch_id, "--out", str(out), "--format", "txt", *to(gateway))
    assert result.code == ExitCode.USAGE, result.err
    assert MANIFEST_NAME in result.err
    assert ids[0] in result.err
    assert "Traceback" not in result.err
    assert files(tmp_path) == {"out"}
    assert files(out) == {MANIFEST_NAME}


async def test_a_manifest_naming_two_items_alike_is_refused(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """Two items with one stem (as a case-insensitive file system sees it) would overwrite each
    other's files: the manifest is refused, exit 2."""
    batch_id, ids = await create(stub, item(1), item(2))
    planted(tmp_path, batch_id, {ids[0]: "same", ids[1]: "SAME"})
    result = await cli("fetch", batch_id, "--out", str(tmp_path), *to(gateway))
    assert result.code == ExitCode.USAGE, result.err
    assert "'SAME'" in result.err


@pytest.mark.parametrize(
    "tid", ["../../../../tmp/x", "/etc/passwd", "a\\..\\..\\b", "..", "x" * 5000]
)
def test_transcription_ids_that_are_paths_make_plain_names(tid: str) -> None:
    """Items whose names clash get their transcription id as a suffix; an id that is a path or
    huge (a hostile upstream's) is made safe first, so every name is one plain file name that
    the resume check accepts."""
    stems = assign_stems([(tid, "", "Shiur"), (tid + "2", "", "Shiur")])
    for stem in stems.values():
        assert [part for part in ("/", "\\", "..") if part in stem] == [], stem
        assert is_given(stem), stem
        assert len(stem.encode()) <= 255 - len(".json.12345678.sofer-tmp") - 1


def test_the_names_fetch_gives_pass_the_resume_check() -> None:
    """Stems cut to their byte bound and suffixed with ids, reserved names, Hebrew: every name
    fetch gives is one its own resume check accepts (a sound manifest is never refused)."""
    long = "שיעור " * 40
    items = [
        ("3f1c2a9e-0000-4000-8000-000000000001", "", long),
        ("3f1c2a9e-0000-4000-8000-000000000002", "", long),
        ("5a5a5a5a-0000-4000-8000-000000000003", "CON", ""),
        ("6b6b6b6b-0000-4000-8000-000000000004", "a/b", ""),
        ("7c7c7c7c-0000-4000-8000-000000000005", "a_b", ""),
    ]
    stems = assign_stems(items)
    assert len(stems[items[0][0]].encode()) > MAX_STEM_BYTES  # the suffix goes past the cut
    assert all(is_given(stem) for stem in stems.values()), stems


def broken_transcript(transcription_id: str, client_item_id: str) -> dict[str, Any]:
    """A completed transcript whose second word ends 1e306 s in."""
    return {
        "text": "hello broken",
        "timestamps": [
            {"word": "hello", "start": 0.0, "end": 0.4},
            {"word": "broken", "start": 0.5, "end": 1e306},
        ],
        "info": {
            "id": transcription_id,
            "title": "Broken times",
            "client_item_id": client_item_id,
            "created_at": "2024-01-15T09:30:00Z",
            "primary_language": "en",
            "hebrew_word_format": ["en"],
            "status": "COMPLETED",
        },
    }


async def test_an_item_with_a_time_past_a_week_is_named_and_the_others_go_on(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """fetch --format txt,srt where one transcript has a word at 1e306 s: that item gets its
    .txt but no .srt, a line on stderr names it and why, the other item gets both files, and
    fetch exits 0 (every item has its transcript), without a traceback."""
    batch_id, ids = await create(
        stub, item(1, client_item_id="good"), item(2, client_item_id="bad")
    )
    body = json.dumps(broken_transcript(ids[1], "bad"))
    await fault(
        sandbox, body=body, count=5, method="GET", path_prefix=f"/v1/transcriptions/{ids[1]}"
    )
    result = await cli(
        "fetch", batch_id, "--out", str(tmp_path), "--format", "txt,srt", *to(gateway)
    )
    assert result.code == ExitCode.OK, result.err
    assert "Traceback" not in result.err
    assert files(tmp_path) == {"good.txt", "good.srt", "bad.txt", MANIFEST_NAME}
    assert (
        "bad: no .srt: the timestamp of the word 'broken' (1e+306 s) is past a week" in result.err
    )
    assert (tmp_path / "bad.txt").read_text(encoding="utf-8") == "hello broken\n"
