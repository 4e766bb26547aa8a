"""`sofer-gateway fetch` and `submit --fetch`: a batch's transcripts written into a folder as
each item finishes, under names safe on every file system, resumed without refetching.

The commands run in the test's event loop (`tests.cli.test_client.cli`) against the real
gateway and sandbox; the restart test reuses tests/cli/test_reconnect.py's helpers. The caption
files are read back with independent parsers (the `srt` and `webvtt-py` packages).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import grpc
import pytest
import srt  # type: ignore[import-untyped]  # the package ships no type hints
import webvtt
from google.protobuf import json_format
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway import captions
from gateway.captions.words import plain_text
from gateway.cli import render
from gateway.cli.errors import ExitCode
from gateway.cli.fetch_folder import MANIFEST_NAME, TEMP_SUFFIX
from gateway.cli.filenames import MAX_STEM_BYTES, assign_stems, item_stem, safe_stem
from gateway.config import GatewayConfig
from gateway.main import build_parser
from gateway.server.process import Gateway
from tests.cli.test_client import AUDIO, FAILING, GUARD, Result, cli, to
from tests.cli.test_reconnect import Running, start
from tests.conftest import bearer
from tests.helpers.calls import fault, pending_faults, stats, upstream_total

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
FETCH = "GET /v1/transcriptions/{transcription_id}"
CREATE = "POST /v1/transcriptions/batch"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALL = "txt,json,srt,vtt"


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """Short items (0.3 s, staggered) by default; a test may pass its own (indirect)."""
    given: SandboxConfig | None = getattr(request, "param", None)
    return given or SandboxConfig(item_seconds=0.3, manifest_validation_seconds=0.0)


async def create(stub: Stub, *sources: batch_pb2.AudioSource) -> tuple[str, list[str]]:
    """An express batch of `sources`; its id and its transcription ids, in order."""
    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(),
        processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
        audio_sources=list(sources),
    )
    answer: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return answer.batch_id, list(answer.transcription_ids)


def item(n: int | str, **fields: Any) -> batch_pb2.AudioSource:
    """An item with a deterministic audio URL."""
    return batch_pb2.AudioSource(audio_url=AUDIO.format(n), **fields)


async def transcript(stub: Stub, transcription_id: str) -> batch_pb2.Transcription:
    """GetTranscription, as the test's tenant."""
    answer: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(transcription_id=transcription_id), metadata=bearer(), timeout=10
    )
    return answer.transcription


async def fetches(sandbox: SandboxServer) -> int:
    """Transcripts the sandbox has served (GET /v1/transcriptions/{transcription_id})."""
    counts: dict[str, int] = (await stats(sandbox))["requests"]
    return counts.get(FETCH, 0)


def files(folder: Path) -> set[str]:
    """The names in `folder` (the manifest included)."""
    return {p.name for p in folder.iterdir()}


def mtimes(folder: Path) -> dict[str, int]:
    """Every file's modification time, in nanoseconds."""
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, parsed."""
    data: dict[str, Any] = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    return data


def json_lines(result: Result) -> list[dict[str, Any]]:
    """stdout as JSON objects, one per line."""
    return [json.loads(line) for line in result.lines]


async def test_fetch_writes_every_format_of_every_item(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """fetch --format txt,json,srt,vtt writes one file per item and format, named by
    client_item_id, else by title (Hebrew letters kept): the text file is the transcript's text,
    the JSON file its Transcription message, the captions parse as SRT and WebVTT with every
    cue inside the words' time span; a line per item on stdout, the table at the end; exit 0."""
    batch_id, ids = await create(
        stub, item(1, client_item_id="b-1"), item(2, title="שיעור בבא מציעא")
    )
    out = tmp_path / "out"
    result = await cli("fetch", batch_id, "--out", str(out), "--format", ALL, *to(gateway))
    assert result.code == ExitCode.OK, result.err
    stems = {ids[0]: "b-1", ids[1]: "שיעור בבא מציעא"}
    expected = {f"{stem}.{ext}" for stem in stems.values() for ext in ("txt", "json", "srt", "vtt")}
    assert files(out) == expected | {MANIFEST_NAME}
    for tid, stem in stems.items():
        want = await transcript(stub, tid)
        text = (out / f"{stem}.txt").read_text(encoding="utf-8")
        assert text == plain_text(want.text) + "\n"
        assert text == captions.TEXT.render(want).content
        got = json_format.Parse(
            (out / f"{stem}.json").read_text(encoding="utf-8"), batch_pb2.Transcription()
        )
        assert got == want
        first, last = want.timestamps[0].start, want.timestamps[-1].end
        subtitles = list(srt.parse((out / f"{stem}.srt").read_text(encoding="utf-8")))
        assert subtitles
        assert all(
            first - 0.001 <= s.start.total_seconds() < s.end.total_seconds() for s in subtitles
        )
        assert subtitles[-1].end.total_seconds() == pytest.approx(last, abs=0.001)
        cues = webvtt.from_string((out / f"{stem}.vtt").read_text(encoding="utf-8")).captions
        assert len(cues) == len(subtitles)
        assert [c.start_in_seconds for c in cues] == [
            int(s.start.total_seconds()) for s in subtitles
        ]
    assert [line.split()[0] for line in result.lines[:2]] == ["COMPLETED", "COMPLETED"]
    assert any(
        line.startswith("COMPLETED  b-1: b-1.txt, b-1.json, b-1.srt") for line in result.lines
    )
    assert f"batch {batch_id}: 2 completed, 0 not, of 2" in result.out
    assert result.lines[-3].split()[-1] == "FILES"
    progress = [line for line in result.err.splitlines() if "done |" in line]
    assert progress
    assert progress[-1].startswith("COMPLETED  [####################] 2/2 done")


async def test_default_formats_are_text_and_json(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """Without --format, fetch writes NAME.txt and NAME.json per item, nothing else."""
    batch_id, _ = await create(stub, item(1, client_item_id="x"))
    result = await cli("fetch", batch_id, "--out", str(tmp_path), *to(gateway))
    assert result.code == ExitCode.OK, result.err
    assert files(tmp_path) == {"x.txt", "x.json", MANIFEST_NAME}


async def test_a_failed_item_exits_1_with_no_transcript_file(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """An item the upstream fails gets no file but is recorded (FAILED in the manifest and the
    table) and named on stderr; the completed one is written; exit 1; the failed one is never
    fetched."""
    batch_id, ids = await create(
        stub,
        item(1, client_item_id="ok"),
        batch_pb2.AudioSource(audio_url=FAILING.format(2), client_item_id="bad"),
    )
    result = await cli("fetch", batch_id, "--out", str(tmp_path), *to(gateway))
    assert result.code == ExitCode.BATCH_FAILED, result.err
    assert files(tmp_path) == {"ok.txt", "ok.json", MANIFEST_NAME}
    assert "1 item(s) without a transcript: bad (FAILED)" in result.err
    assert any(line.startswith("FAILED     bad: no transcript") for line in result.lines)
    recorded = manifest(tmp_path)["items"]
    assert recorded[ids[1]]["state"] == "FAILED"
    assert recorded[ids[1]]["files"] == []
    assert recorded[ids[0]]["files"] == ["ok.txt", "ok.json"]
    assert await fetches(sandbox) == 1


async def test_a_complete_folder_is_fetched_again_for_nothing(
    gateway_config: GatewayConfig,
    gateway: Gateway,
    stub: Stub,
    sandbox: SandboxServer,
    tmp_path: Path,
) -> None:
    """A second run on a complete folder (through a fresh gateway, whose transcript cache is
    empty) fetches no transcript, rewrites no file, not even the manifest, and exits as the
    first did (1: one item failed), saying it all was there already."""
    batch_id, _ = await create(
        stub,
        item(1, client_item_id="a"),
        item(2, client_item_id="b"),
        batch_pb2.AudioSource(audio_url=FAILING.format(3), client_item_id="c"),
    )
    first = await cli("fetch", batch_id, "--out", str(tmp_path), "--format", ALL, *to(gateway))
    assert first.code == ExitCode.BATCH_FAILED, first.err
    before, fetched = mtimes(tmp_path), await fetches(sandbox)
    assert fetched == 2
    async with Gateway(gateway_config) as fresh:
        again = await cli(
            "fetch", batch_id, "--out", str(tmp_path), "--format", ALL, "--json", *to(fresh)
        )
    assert again.code == ExitCode.BATCH_FAILED, again.err
    [done] = json_lines(again)
    assert done["event"] == "done"
    assert (done["fetched"], done["already_there"], done["completed_count"]) == (0, 3, 2)
    assert done["not_completed"][0]["client_item_id"] == "c"
    assert await fetches(sandbox) == fetched
    assert mtimes(tmp_path) == before
    assert "c (FAILED)" in again.err


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0)],
    indirect=True,
)
async def test_an_interrupted_fetch_resumes_where_it_stopped(
    gateway_config: GatewayConfig,
    gateway: Gateway,
    stub: Stub,
    sandbox: SandboxServer,
    tmp_path: Path,
) -> None:
    """A fetch cancelled after its first item leaves that item's files and no half file; the
    next run (fresh gateway, empty cache) skips what is there: only the other items are fetched
    and written, and the first item's files are not touched."""
    batch_id, ids = await create(stub, *(item(n, client_item_id=f"i{n}") for n in range(3)))
    running = Running("fetch", batch_id, "--out", str(tmp_path), *to(gateway))
    await running.until(lambda: "COMPLETED  i" in running.out.getvalue())
    running.task.cancel()
    await asyncio.gather(running.task, return_exceptions=True)
    hub = gateway.hub
    assert hub is not None
    async with asyncio.timeout(GUARD):  # the gateway's streams gone: no fetch after the count
        while hub.open_watches:  # noqa: ASYNC110 - state of the gateway's tasks
            await asyncio.sleep(0.01)
    kept = {tid: e for tid, e in manifest(tmp_path)["items"].items() if e["state"]}
    assert kept, "the first item was not recorded"
    assert not [name for name in files(tmp_path) if name.endswith(TEMP_SUFFIX)]
    before = {name: t for name, t in mtimes(tmp_path).items() if name != MANIFEST_NAME}
    fetched = await fetches(sandbox)
    async with Gateway(gateway_config) as fresh:
        rest = await cli("fetch", batch_id, "--out", str(tmp_path), "--json", *to(fresh))
    assert rest.code == ExitCode.OK, rest.err
    *arrived, done = json_lines(rest)
    assert {a["transcription_id"] for a in arrived} == set(ids) - set(kept)
    assert (done["fetched"], done["already_there"]) == (3 - len(kept), len(kept))
    assert await fetches(sandbox) == fetched + 3 - len(kept)
    after = mtimes(tmp_path)
    assert all(after[name] == t for name, t in before.items())
    assert files(tmp_path) == {f"i{n}.{ext}" for n in range(3) for ext in ("txt", "json")} | {
        MANIFEST_NAME
    }


async def test_unsafe_client_item_ids_become_safe_names_inside_the_folder(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """client_item_ids that are paths or device names (`../../etc/passwd`, `CON`, `a/b`,
    `nul.txt`) become plain names inside --out: separators and `..` gone, a `_` after a
    reserved Windows name; nothing is written anywhere else."""
    out = tmp_path / "out"
    batch_id, _ = await create(
        stub,
        item(1, client_item_id="../../etc/passwd"),
        item(2, client_item_id="CON"),
        item(3, client_item_id="a/b"),
        item(4, client_item_id="nul.txt"),
    )
    result = await cli("fetch", batch_id, "--out", str(out), "--format", "txt", *to(gateway))
    assert result.code == ExitCode.OK, result.err
    assert files(out) == {"etc_passwd.txt", "CON_.txt", "a_b.txt", "nul_.txt.txt", MANIFEST_NAME}
    assert files(tmp_path) == {"out"}


async def test_colliding_names_get_distinct_id_suffixes(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """Items whose safe names are one name (`a/b` and `a_b`; equal titles; names equal but for
    case, as case-insensitive file systems see them) each get `-` and 8 characters of their
    transcription id; an item with a name of its own keeps it."""
    batch_id, ids = await create(
        stub,
        item(1, client_item_id="a/b"),
        item(2, client_item_id="a_b"),
        item(3, title="Shiur"),
        item(4, title="shiur"),
        item(5, client_item_id="alone"),
    )
    result = await cli("fetch", batch_id, "--out", str(tmp_path), "--format", "txt", *to(gateway))
    assert result.code == ExitCode.OK, result.err
    stems = ["a_b", "a_b", "Shiur", "shiur"]
    want = {f"{stem}-{tid[:8]}.txt" for stem, tid in zip(stems, ids, strict=False)}
    assert files(tmp_path) == want | {"alone.txt", MANIFEST_NAME}


async def test_submit_fetch_creates_then_fetches(gateway: Gateway, tmp_path: Path) -> None:
    """submit --fetch DIR --format prints the batch id first, then fetches the new batch into
    DIR as `fetch` does; the exit status is the fetch's."""
    out = tmp_path / "new"
    result = await cli(
        "submit",
        AUDIO.format(1),
        "--client-item-id",
        "s1",
        "--fetch",
        str(out),
        "--format",
        "vtt",
        *to(gateway),
    )
    assert result.code == ExitCode.OK, result.err
    assert UUID.match(result.lines[0])
    assert manifest(out)["batch_id"] == result.lines[0]
    assert files(out) == {"s1.vtt", MANIFEST_NAME}
    assert webvtt.from_string((out / "s1.vtt").read_text(encoding="utf-8")).captions


async def test_submit_fetch_into_a_used_folder_creates_nothing(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """submit --fetch DIR where DIR already holds a fetch: exit 2 before the batch is created
    (no CreateBatch reaches the upstream); --format without --fetch is a usage error too."""
    batch_id, _ = await create(stub, item(1))
    done = await cli("fetch", batch_id, "--out", str(tmp_path), *to(gateway))
    assert done.code == ExitCode.OK, done.err
    creates = (await stats(sandbox))["requests"].get(CREATE, 0)
    used = await cli("submit", AUDIO.format(2), "--fetch", str(tmp_path), *to(gateway))
    assert used.code == ExitCode.USAGE
    assert f"holds the files of batch {batch_id}" in used.err
    alone = await cli("submit", AUDIO.format(2), "--format", "txt", *to(gateway))
    assert alone.code == ExitCode.USAGE
    assert "--format needs --fetch" in alone.err
    assert (await stats(sandbox))["requests"].get(CREATE, 0) == creates


@pytest.mark.parametrize(
    ("value", "bad"), [("txt,pdf", "'pdf'"), ("txt,,json", "''"), ("odt", "'odt'")]
)
def test_a_bad_format_is_a_usage_error_naming_it(
    value: str, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format with a value outside txt, json, srt, vtt exits 2, naming the bad value and
    the choices (fetch and submit alike)."""
    for argv in (["fetch", "x", "--out", "d"], ["submit", "u", "--fetch", "d"]):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([*argv, "--format", value])
        assert exited.value.code == ExitCode.USAGE
        err = capsys.readouterr().err
        assert f"unknown format {bad}" in err
        assert "txt, json, srt, vtt" in err


async def test_a_folder_of_another_batch_is_refused(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """fetch into a folder whose manifest names another batch exits 2 with the usage and both
    batch ids, sends nothing and touches no file; so does an unreadable manifest."""
    first, _ = await create(stub, item(1))
    second, _ = await create(stub, item(2))
    done = await cli("fetch", first, "--out", str(tmp_path), *to(gateway))
    assert done.code == ExitCode.OK, done.err
    before, sent = mtimes(tmp_path), await upstream_total(sandbox)
    refused = await cli("fetch", second, "--out", str(tmp_path), *to(gateway))
    assert refused.code == ExitCode.USAGE
    assert refused.err.startswith("usage: sofer-gateway fetch")
    assert f"holds the files of batch {first}" in refused.err
    assert f"not of {second}" in refused.err
    assert mtimes(tmp_path) == before
    assert await upstream_total(sandbox) == sent
    (tmp_path / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    broken = await cli("fetch", first, "--out", str(tmp_path), *to(gateway))
    assert broken.code == ExitCode.USAGE
    assert "not a readable fetch manifest" in broken.err


async def test_fetch_of_an_unknown_batch_fails_and_makes_no_folder(
    gateway: Gateway, tmp_path: Path
) -> None:
    """An unknown batch: exit 3 naming GetBatchStatus and NOT_FOUND, and no folder is made."""
    unknown = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    out = tmp_path / "never"
    result = await cli("fetch", unknown, "--out", str(out), *to(gateway))
    assert result.code == ExitCode.RPC_ERROR
    assert "GetBatchStatus failed: NOT_FOUND" in result.err
    assert not out.exists()


async def test_fetch_json_prints_one_object_per_item_then_the_whole(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """fetch --json: stdout is one JSON object per item as it is written (its id, names, state,
    files, counts), then a `done` object; stderr stays empty for a batch that completes."""
    batch_id, ids = await create(stub, item(1, client_item_id="j1"), item(2, client_item_id="j2"))
    result = await cli("fetch", batch_id, "--out", str(tmp_path), "--json", *to(gateway))
    assert result.code == ExitCode.OK, result.err
    assert result.err == ""
    *items, done = json_lines(result)
    assert [i["event"] for i in items] == ["item", "item"]
    assert {i["transcription_id"] for i in items} == set(ids)
    by_id = {i["client_item_id"]: i for i in items}
    assert by_id["j1"]["files"] == ["j1.txt", "j1.json"]
    assert by_id["j1"]["state"] == "TRANSCRIPTION_STATE_COMPLETED"
    assert items[-1]["finished_count"] == items[-1]["total_count"] == 2
    assert done == {
        "event": "done",
        "batch_id": batch_id,
        "out": str(tmp_path),
        "total_count": 2,
        "completed_count": 2,
        "not_completed": [],
        "fetched": 2,
        "already_there": 0,
    }


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(item_seconds=6.0, manifest_validation_seconds=0.0)],
    indirect=True,
)
async def test_fetch_goes_on_across_a_gateway_restart(
    gateway_config: GatewayConfig, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The gateway stops mid-fetch and a new one starts on the same port: the fetch says it
    reconnects, resumes with what it has as skip ids, and ends with every file, each item
    written once and each transcript fetched from the upstream once; exit 0."""
    config = dataclasses.replace(gateway_config, watch_fast_interval=0.2, watch_slow_interval=0.5)
    gateways: list[Gateway] = []
    try:
        first = await start(gateways, config)
        address = first.address
        async with grpc.aio.insecure_channel(address) as channel:
            batch_id, _ = await create(
                Stub(channel), *(item(n, client_item_id=f"r{n}") for n in range(3))
            )
        running = Running("fetch", batch_id, "--out", str(tmp_path), *to(first))
        await running.until(lambda: "COMPLETED  r" in running.out.getvalue())
        await first.stop()
        await running.until(lambda: "StreamBatchTranscripts UNAVAILABLE" in running.err.getvalue())
        await start(gateways, dataclasses.replace(config, listen=address))
        result = await running.result()
    finally:
        for gateway in reversed(gateways):
            await gateway.stop(0)
    assert result.code == ExitCode.OK, result.err
    assert "reconnecting in" in result.err
    written = [line for line in result.lines if line.startswith("COMPLETED  r")]
    assert sorted(line.split(":")[0] for line in written) == [f"COMPLETED  r{n}" for n in range(3)]
    assert files(tmp_path) == {f"r{n}.{ext}" for n in range(3) for ext in ("txt", "json")} | {
        MANIFEST_NAME
    }
    assert await fetches(sandbox) == 3


def test_progress_line_and_item_lines_share_a_terminal() -> None:
    """On a terminal an item line is written under the progress line, which is wiped first and
    drawn again after it, so the two never mix on one line."""
    screen = io.StringIO()
    live = render.LiveLine(screen, tty=True)
    live.show("PROCESSING [----] 0/2 done")
    live.interject(screen, "COMPLETED  a: a.txt")
    assert screen.getvalue() == (
        "\rPROCESSING [----] 0/2 done"
        + "\r"
        + " " * 26
        + "\r"
        + "COMPLETED  a: a.txt\n"
        + "\rPROCESSING [----] 0/2 done"
    )


# -- names, without a gateway -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("..", ""),
        ('a\\b:c*d?e"f<g>h|i', "a_b_c_d_e_f_g_h_i"),
        ("tab\there\nnewline", "tab here newline"),
        ("bell\x07\x1b[31m", "bell_[31m"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        (" .hidden. ", "hidden"),
        ("CON", "CON_"),
        ("con.txt", "con_.txt"),
        ("Lpt9", "Lpt9_"),
        ("CONSOLE", "CONSOLE"),
        ("שיעור בבא מציעא", "שיעור בבא מציעא"),
        ("שָׁלוֹם", "שָׁלוֹם"),
    ],
)
def test_safe_stem_rules(given: str, safe: str) -> None:
    """Separators, Windows-forbidden characters and controls become `_`, whitespace a space,
    invisible format characters go, `..` and leading/trailing dots go, reserved device names
    get a `_`, and Hebrew (with its points) is kept."""
    assert safe_stem(given) == safe


def test_long_names_are_cut_to_a_byte_bound_between_characters() -> None:
    """A long Hebrew name is cut to at most MAX_STEM_BYTES of UTF-8, never inside a letter."""
    stem = safe_stem("ש" * 500)
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert set(stem) == {"ש"}


def test_names_fall_back_to_title_then_id_and_do_not_depend_on_order() -> None:
    """An item with no usable client_item_id is named by its title, then by its id; which items
    get a suffix does not depend on the order the items are named in."""
    tid = "3f1c2a9e-0000-4000-8000-000000000000"
    assert item_stem(tid, "", "Title") == "Title"
    assert item_stem(tid, "..", "") == tid
    items = [("11111111-x", "a", ""), ("22222222-y", "A", ""), ("33333333-z", "b", "")]
    assert assign_stems(items) == assign_stems(list(reversed(items)))
    assert assign_stems(items)["33333333-z"] == "b"
    taken = {"11111111-x": "a"}
    assert assign_stems([("22222222-y", "A", "")], taken) == {"22222222-y": "A-22222222"}


@pytest.mark.parametrize("gateway_config", [{"max_attempts": 1}], indirect=True)
async def test_a_read_that_fails_unavailable_once_is_retried_by_the_channel(
    gateway: Gateway, sandbox: SandboxServer, stub: Stub, tmp_path: Path
) -> None:
    """The commands' channel has the client package's retry service config: with the upstream
    failing the first status read (503, one upstream attempt: the gateway answers UNAVAILABLE),
    `fetch --reconnect-timeout 0` (no reconnects of its own) still completes, its GetBatchStatus
    retried by gRPC, with no reconnect note."""
    batch_id, _ = await create(stub, item(1))
    await fault(sandbox, status=503, count=1, method="GET", path_prefix="/v1/")
    result = await cli(
        "fetch", batch_id, "--out", str(tmp_path), "--reconnect-timeout", "0", *to(gateway)
    )
    assert result.code == ExitCode.OK, result.err
    assert "reconnecting" not in result.err
    assert await pending_faults(sandbox) == []
