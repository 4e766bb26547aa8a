"""The client commands `sofer-gateway submit` and `watch`: output, exit codes and errors.

Most tests parse a real command line and run it in the test's event loop (`run_async`) against
the real gateway and sandbox, with StringIO for stdout and stderr; a few run the console entry
point as a process (`python -m gateway.main`) for what only a process shows: the exit status,
environment variables, Ctrl-C.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig

from gateway.cli import commands, render
from gateway.cli.errors import ClientError, ExitCode, ManifestRejected
from gateway.cli.submit import load_manifest, plan_submit, submit, upload_manifest
from gateway.cli.watch import watch
from gateway.main import build_parser
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers import REPO
from tests.helpers.flags import flags_of

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AUDIO = "https://cdn.example.com/shiur-{}.mp3"
FAILING = "https://cdn.example.com/fail-{}.mp3"
GUARD = 60.0  # a hang guard for the slowest step, never a speed assertion
SLOW = SandboxConfig(item_seconds=120.0, manifest_validation_seconds=0.0)


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """Short items (0.3 s) by default; a test may pass its own config (indirect parametrize)."""
    given: SandboxConfig | None = getattr(request, "param", None)
    return given or SandboxConfig(item_seconds=0.3, manifest_validation_seconds=0.0)


@dataclass
class Result:
    """What a command did: its exit status and everything it wrote."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """stdout, line by line."""
        return self.out.splitlines()


async def cli(*argv: str) -> Result:
    """Parse `sofer-gateway ARGV` and run it in this event loop, capturing stdout and stderr."""
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.wait_for(commands.run_async(args, out, err), GUARD)
    return Result(int(code), out.getvalue(), err.getvalue())


def to(gateway: Gateway, token: str = TOKEN) -> tuple[str, ...]:
    """The connection flags for the test's gateway."""
    return ("--target", gateway.address, "--token", token)


async def status_of(stub: Stub, batch_id: str) -> batch_pb2.BatchStatus:
    """GetBatchStatus of a batch, as the test's tenant."""
    answer: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=10
    )
    return answer.batch_status


async def create(stub: Stub, *urls: str, **source: Any) -> str:
    """An express batch of `urls` made directly with the stub; its id."""
    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(),
        processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
        audio_sources=[batch_pb2.AudioSource(audio_url=url, **source) for url in urls],
    )
    answer: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return answer.batch_id


def assert_one_line_error(result: Result, *needles: str) -> None:
    """stderr is exactly one line naming every needle, stdout is empty, and no traceback."""
    assert result.out == ""
    assert "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1, result.err
    for needle in needles:
        assert needle in result.err, result.err


@pytest.fixture
def closed_port() -> Iterator[str]:
    """HOST:PORT of a socket bound but not listening: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


# -- submit -----------------------------------------------------------------------------------


async def test_submit_prints_a_batch_id_that_get_batch_status_knows(
    gateway: Gateway, stub: Stub
) -> None:
    """submit URL prints the new batch's id alone on stdout, and the gateway knows the batch."""
    result = await cli("submit", AUDIO.format(1), *to(gateway))
    assert result.code == 0, result.err
    assert len(result.lines) == 1
    assert UUID.match(result.lines[0])
    assert result.err == ""
    status = await status_of(stub, result.lines[0])
    assert status.total_count == 1
    assert status.transcriptions[0].title == "Item 1"


async def test_submit_titles_client_ids_and_speakers_reach_the_upstream(
    gateway: Gateway, stub: Stub
) -> None:
    """--title and --client-item-id are matched to the URLs by position; --num-speakers and
    --batch-title apply to the batch."""
    result = await cli(
        "submit",
        AUDIO.format(1),
        AUDIO.format(2),
        AUDIO.format(3),
        "--title",
        "Bereishit",
        "--title",
        "Noach",
        "--title",
        "Lech Lecha",
        "--client-item-id",
        "b-1",
        "--client-item-id",
        "n-2",
        "--client-item-id",
        "l-3",
        "--num-speakers",
        "3",
        "--batch-title",
        "Parsha",
        *to(gateway),
    )
    assert result.code == 0, result.err
    status = await status_of(stub, result.lines[0])
    items = [(t.client_item_id, t.title, t.num_speakers) for t in status.transcriptions]
    assert items == [("b-1", "Bereishit", 3), ("n-2", "Noach", 3), ("l-3", "Lech Lecha", 3)]


async def test_submit_batch_title_names_untitled_items_and_auto_speakers(
    gateway: Gateway, stub: Stub
) -> None:
    """Without --title the upstream names items "{batch_title} - Item N"; --auto-speakers asks
    for detection, which the sandbox answers with a speaker count."""
    result = await cli(
        "submit",
        AUDIO.format(1),
        AUDIO.format(2),
        "--batch-title",
        "Week",
        "--auto-speakers",
        *to(gateway),
    )
    assert result.code == 0, result.err
    status = await status_of(stub, result.lines[0])
    assert [t.title for t in status.transcriptions] == ["Week - Item 1", "Week - Item 2"]
    assert all(t.HasField("num_speakers") for t in status.transcriptions)


async def test_submit_json_prints_the_create_response_as_one_json_line(
    gateway: Gateway, stub: Stub
) -> None:
    """submit --json prints one JSON object (the CreateBatchResponse) and nothing else."""
    result = await cli("submit", AUDIO.format(1), AUDIO.format(2), "--json", *to(gateway))
    assert result.code == 0, result.err
    assert result.err == ""
    [line] = result.lines
    created = json.loads(line)
    assert UUID.match(created["batch_id"])
    assert created["total_count"] == 2
    assert len(created["transcription_ids"]) == 2
    assert created["processing_mode"] == "PROCESSING_MODE_EXPRESS"
    assert (await status_of(stub, created["batch_id"])).total_count == 2


MANIFEST_ITEMS = [
    {"audio_url": AUDIO.format(1), "title": "One", "client_item_id": "m-1"},
    {"audio_url": AUDIO.format(2), "client_item_id": "m-2", "num_speakers": 2},
    {"audio_url": AUDIO.format(3), "title": "Three", "auto_detect_speakers": True},
]


def write_manifest(tmp_path: Path, form: str) -> Path:
    """MANIFEST_ITEMS as a JSONL file (with a blank line) or a pretty JSON array file."""
    if form == "jsonl":
        path = tmp_path / "items.jsonl"
        lines = [json.dumps(item) for item in MANIFEST_ITEMS]
        path.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")
    else:
        path = tmp_path / "items.json"
        path.write_text(json.dumps(MANIFEST_ITEMS, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("form", ["jsonl", "json"])
async def test_submit_manifest_creates_a_standard_batch(
    gateway: Gateway, stub: Stub, tmp_path: Path, form: str
) -> None:
    """submit --manifest uploads the file (JSONL or a JSON array), waits for VALID, creates a
    standard batch of its items in order and prints the batch id alone on stdout."""
    path = write_manifest(tmp_path, form)
    result = await cli("submit", "--manifest", str(path), "--batch-title", "Sefer", *to(gateway))
    assert result.code == 0, result.err
    [batch_id] = result.lines
    status = await status_of(stub, batch_id)
    assert [(t.client_item_id, t.title) for t in status.transcriptions] == [
        ("m-1", "One"),
        ("m-2", "Sefer - Item 2"),
        ("", "Three"),
    ]
    assert status.transcriptions[1].num_speakers == 2
    assert "uploaded (3 items)" in result.err


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(item_seconds=0.3, manifest_validation_seconds=0.5)],
    indirect=True,
)
async def test_submit_manifest_waits_for_validation_and_json_names_the_manifest(
    gateway: Gateway, stub: Stub, tmp_path: Path
) -> None:
    """A manifest still PENDING_VALIDATION is polled until VALID; with --json the one line
    carries the batch id and the manifest's id (batch_file_id), and stderr stays empty."""
    path = write_manifest(tmp_path, "jsonl")
    result = await cli("submit", "--manifest", str(path), "--json", *to(gateway))
    assert result.code == 0, result.err
    assert result.err == ""
    [line] = result.lines
    created = json.loads(line)
    assert created["processing_mode"] == "PROCESSING_MODE_STANDARD"
    assert UUID.match(created["batch_file_id"])
    assert (await status_of(stub, created["batch_id"])).total_count == 3


async def test_submit_manifest_the_gateway_refuses_is_an_rpc_error(
    gateway: Gateway, tmp_path: Path
) -> None:
    """A JSONL line the gateway rejects (no audio_url) fails UploadManifest with
    INVALID_ARGUMENT, reported in one line naming the line number; no batch id is printed."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"audio_url": "https://a.example/1.mp3"}\n{"title": "no url"}\n')
    result = await cli("submit", "--manifest", str(path), *to(gateway))
    assert result.code == ExitCode.RPC_ERROR
    assert result.out == ""
    assert "Traceback" not in result.err
    assert "UploadManifest failed: INVALID_ARGUMENT" in result.err
    assert "line 2" in result.err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["submit", AUDIO.format(1), AUDIO.format(2), "--title", "only one"], "--title"),
        (
            ["submit", AUDIO.format(1), "--client-item-id", "a", "--client-item-id", "b"],
            "--client-item-id",
        ),
        (["submit"], "at least one audio URL"),
        (["submit", AUDIO.format(1), "--manifest", "items.jsonl"], "--manifest"),
        (["submit", "--manifest", "does-not-exist.jsonl"], "cannot read manifest"),
    ],
    ids=["title-count", "client-id-count", "no-url", "url-and-manifest", "missing-file"],
)
async def test_usage_errors_exit_2_and_send_nothing(
    closed_port: str, argv: list[str], needle: str
) -> None:
    """Flags that do not fit together exit 2 with the usage and the reason on stderr, before any
    call (the target refuses connections: a call would exit 3)."""
    result = await cli(*argv, "--target", closed_port)
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert result.err.startswith("usage: sofer-gateway submit")
    assert needle in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["submit", AUDIO.format(1), "--num-speakers", "2", "--auto-speakers"],
        ["submit", AUDIO.format(1), "--num-speakers", "0"],
        ["submit", AUDIO.format(1), "--timeout", "-1"],
        ["watch"],
        ["watch", "a", "b"],
    ],
    ids=["both-speaker-flags", "zero-speakers", "negative-timeout", "no-batch-id", "two-ids"],
)
def test_argparse_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """What argparse itself refuses exits 2 with the usage on stderr."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == ExitCode.USAGE
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[1, 2]", "item 0: expected a JSON object"),
        ("[]", "non-empty JSON array"),
        ('[{"audio_url": "https://a.example/1.mp3", "colour": "red"}]', "colour"),
        ('[{"audio_url": ', "not valid JSON"),
        ("  \n\n", "is empty"),
    ],
    ids=["not-objects", "empty-array", "unknown-key", "broken-json", "blank-file"],
)
def test_unusable_manifest_files_are_usage_errors(
    tmp_path: Path, content: str, needle: str
) -> None:
    """A JSON array manifest is checked before upload: objects with AudioSource keys only."""
    path = tmp_path / "items.json"
    path.write_text(content)
    with pytest.raises(ClientError) as raised:
        load_manifest(path)
    assert raised.value.exit_code == ExitCode.USAGE
    assert needle in str(raised.value)


def test_plan_sets_modes_and_speakers() -> None:
    """Express: one AudioSource per URL, mode EXPRESS; the speaker flags go to BatchInfo."""
    plan = plan_submit([AUDIO.format(1)], auto_speakers=True, batch_title="B")
    assert plan.manifest is None
    assert plan.create.processing_mode == batch_pb2.PROCESSING_MODE_EXPRESS
    assert plan.create.info.auto_detect_speakers
    assert plan.create.batch_title == "B"
    assert plan.create.request_id == ""  # a fresh one is set per call
    plan = plan_submit([AUDIO.format(1), AUDIO.format(2)], num_speakers=4)
    assert plan.create.info.WhichOneof("speakers") == "num_speakers"
    assert [s.audio_url for s in plan.create.audio_sources] == [AUDIO.format(1), AUDIO.format(2)]


@dataclass
class FakeWatch:
    """A WatchManifest call of FakeStub: its next statuses until a final one, or, after three
    pending ones, DEADLINE_EXCEEDED (the watch's time ran out)."""

    stub: FakeStub
    sent: int = 0
    last: int = batch_pb2.MANIFEST_STATUS_UNSPECIFIED

    async def read(self) -> Any:
        final = (batch_pb2.MANIFEST_STATUS_VALID, batch_pb2.MANIFEST_STATUS_INVALID)
        if self.sent and self.last in final:
            return grpc.aio.EOF  # type: ignore[attr-defined]
        if self.sent == 3:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(),
                "Deadline Exceeded",
                None,
            )
        self.sent += 1
        manifest = self.stub.next_manifest()
        self.last = manifest.status
        return pb.WatchManifestResponse(manifest=manifest)


@dataclass
class FakeStub:
    """A stand-in for the stub: manifest statuses to answer in turn, and every request seen."""

    statuses: list[batch_pb2.ManifestStatus]
    errors: Sequence[str] = ()
    requests: list[Any] = field(default_factory=list)

    def next_manifest(self) -> batch_pb2.Manifest:
        """The next status in turn, as the manifest the gateway would answer."""
        status = self.statuses.pop(0)
        errors = self.errors if status == batch_pb2.MANIFEST_STATUS_INVALID else ()
        return batch_pb2.Manifest(
            id=str(uuid.UUID(int=7)), status=status, item_count=1, validation_errors=errors
        )

    async def UploadManifest(self, request: Any, **_: Any) -> pb.UploadManifestResponse:
        self.requests.append(request)
        return pb.UploadManifestResponse(manifest=self.next_manifest())

    def WatchManifest(self, request: Any, **_: Any) -> FakeWatch:
        self.requests.append(request)
        return FakeWatch(self)

    async def CreateBatch(self, request: Any, **_: Any) -> pb.CreateBatchResponse:
        self.requests.append(request)
        return pb.CreateBatchResponse(batch_id=str(uuid.uuid4()), total_count=1)


async def test_an_invalid_manifest_fails_with_its_validation_errors() -> None:
    """A manifest that turns INVALID while watched fails with exit 4 and every validation
    error, one per line. (The gateway's own checks catch what the sandbox would reject, so a
    fake stub plays the upstream here.)"""
    pending, invalid = (
        batch_pb2.MANIFEST_STATUS_PENDING_VALIDATION,
        batch_pb2.MANIFEST_STATUS_INVALID,
    )
    fake = FakeStub(
        statuses=[pending, pending, invalid],
        errors=["line 1: audio_url: not reachable", "line 2: duplicate client_item_id"],
    )
    request = pb.UploadManifestRequest(jsonl='{"audio_url": "https://a.example/1.mp3"}\n')
    with pytest.raises(ManifestRejected) as raised:
        await upload_manifest(cast(Stub, fake), request, poll_interval=0.01)
    assert raised.value.exit_code == ExitCode.MANIFEST_REJECTED
    message = str(raised.value)
    assert "is INVALID" in message
    assert "\n  line 1: audio_url: not reachable\n  line 2: duplicate client_item_id" in message
    assert [type(r).__name__ for r in fake.requests] == [
        "UploadManifestRequest",
        "WatchManifestRequest",
    ]


async def test_a_manifest_pending_too_long_fails_clearly() -> None:
    """A manifest still pending after --validation-timeout fails with exit 4, naming its state."""
    fake = FakeStub(statuses=[batch_pb2.MANIFEST_STATUS_PENDING_VALIDATION] * 1000)
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    request = pb.UploadManifestRequest(jsonl='{"audio_url": "https://a.example/1.mp3"}\n')
    with pytest.raises(ManifestRejected, match="still not validated after 5 s"):
        await upload_manifest(
            cast(Stub, fake), request, validation_timeout=5, poll_interval=0.001, clock=clock
        )


async def test_every_upload_and_create_sends_a_fresh_uuid4_request_id(tmp_path: Path) -> None:
    """Each UploadManifest and CreateBatch carries its own new uuid4 request_id; the standard
    batch names the uploaded manifest; the plan itself is left untouched."""
    fake = FakeStub(statuses=[batch_pb2.MANIFEST_STATUS_VALID] * 2)
    standard = plan_submit([], manifest=write_manifest(tmp_path, "json"))
    express = plan_submit([AUDIO.format(1)])
    out = io.StringIO()
    for plan in (standard, express, standard):
        await submit(cast(Stub, fake), plan, out, err=io.StringIO())
    ids = [r.request_id for r in fake.requests]
    assert len(set(ids)) == len(ids) == 5
    assert all(uuid.UUID(i).version == 4 for i in ids)
    creates = [r for r in fake.requests if isinstance(r, pb.CreateBatchRequest)]
    assert [c.batch_file_id for c in creates] == [str(uuid.UUID(int=7)), "", str(uuid.UUID(int=7))]
    assert standard.create.request_id == ""
    assert standard.create.batch_file_id == ""
    assert len(out.getvalue().splitlines()) == 3


# -- watch ------------------------------------------------------------------------------------


def table_rows(out: str) -> list[list[str]]:
    """The final table's rows (header first), cells split on runs of two or more spaces."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("CLIENT_ITEM_ID"))
    return [re.split(r"\s{2,}", line) for line in lines[start:]]


async def test_watch_of_a_completing_batch_exits_0_with_the_final_table(
    gateway: Gateway, stub: Stub
) -> None:
    """watch follows a batch to COMPLETED: progress lines on stderr (off a terminal, one per
    update, the last one COMPLETED and n/n done), then a summary and the table of items on
    stdout; exit status 0."""
    batch_id = await stub.CreateBatch(
        pb.CreateBatchRequest(
            info=batch_pb2.BatchInfo(),
            audio_sources=[
                batch_pb2.AudioSource(audio_url=AUDIO.format(1), client_item_id="a", title="Alef"),
                batch_pb2.AudioSource(audio_url=AUDIO.format(2), client_item_id="b", title="Bet"),
            ],
        ),
        metadata=bearer(),
        timeout=10,
    )
    result = await cli("watch", batch_id.batch_id, *to(gateway))
    assert result.code == ExitCode.OK, result.err
    progress = result.err.splitlines()
    assert progress, "no progress line"
    assert progress[-1].startswith("COMPLETED")
    assert "2/2 done" in progress[-1]
    assert "\r" not in result.err
    assert result.lines[0].startswith(f"batch {batch_id.batch_id} COMPLETED: 2 completed, 0 failed")
    rows = table_rows(result.out)
    assert rows[0] == ["CLIENT_ITEM_ID", "TITLE", "STATUS", "DURATION"]
    assert [row[:3] for row in rows[1:]] == [["a", "Alef", "COMPLETED"], ["b", "Bet", "COMPLETED"]]
    assert all(re.fullmatch(r"\d+:\d\d(:\d\d)?", row[3]) for row in rows[1:])


async def test_watch_of_a_failing_batch_exits_1(gateway: Gateway, stub: Stub) -> None:
    """A batch whose every item fails ends FAILED: exit status 1, every row FAILED, no
    duration, and "-" for the missing client item ids."""
    batch_id = await create(stub, FAILING.format(1), FAILING.format(2))
    result = await cli("watch", batch_id, *to(gateway))
    assert result.code == ExitCode.BATCH_FAILED, result.err
    assert result.err.splitlines()[-1].startswith("FAILED")
    assert "0 completed, 2 failed" in result.lines[0]
    assert table_rows(result.out)[1:] == [
        ["-", "Item 1", "FAILED", "-"],
        ["-", "Item 2", "FAILED", "-"],
    ]


async def test_watch_json_prints_one_status_per_line_ending_terminal(
    gateway: Gateway, stub: Stub
) -> None:
    """watch --json prints only JSON lines on stdout, each a BatchStatus with proto field names
    and enum names; the counts never go back; the last one is terminal; stderr stays empty."""
    batch_id = await create(stub, AUDIO.format(1), AUDIO.format(2), AUDIO.format(3))
    result = await cli("watch", batch_id, "--json", *to(gateway))
    assert result.code == ExitCode.OK, result.err
    assert result.err == ""
    updates = [json.loads(line) for line in result.lines]
    assert updates
    assert all(u["batch_id"] == batch_id and u["total_count"] == 3 for u in updates)
    done = [u["completed_count"] + u["failed_count"] for u in updates]
    assert done == sorted(done)
    assert updates[-1]["state"] == "BATCH_STATE_COMPLETED"
    assert updates[-1]["completed_count"] == 3
    assert all(t["state"] == "TRANSCRIPTION_STATE_COMPLETED" for t in updates[-1]["transcriptions"])
    assert {"observed_at", "changed_transcription_ids"} <= set(updates[0])


async def test_watch_of_a_finished_batch_prints_it_once(gateway: Gateway, stub: Stub) -> None:
    """Watching a batch that has already ended gives its final status at once: one JSON line."""
    batch_id = await create(stub, FAILING.format(1))
    first = await cli("watch", batch_id, "--json", *to(gateway))
    assert first.code == ExitCode.BATCH_FAILED
    again = await cli("watch", batch_id, "--json", *to(gateway))
    assert again.code == ExitCode.BATCH_FAILED
    [line] = again.lines
    assert json.loads(line)["state"] == "BATCH_STATE_FAILED"


async def test_submit_watch_prints_the_id_then_follows_the_batch(gateway: Gateway) -> None:
    """submit --watch prints the batch id as the first stdout line, then the summary and table;
    its exit status is the batch's (here: one item completes, one fails, so COMPLETED, 0)."""
    result = await cli(
        "submit",
        AUDIO.format(1),
        FAILING.format(2),
        "--client-item-id",
        "ok",
        "--client-item-id",
        "bad",
        "--watch",
        *to(gateway),
    )
    assert result.code == ExitCode.OK, result.err
    batch_id = result.lines[0]
    assert UUID.match(batch_id)
    assert result.lines[1].startswith(f"batch {batch_id} COMPLETED: 1 completed, 1 failed")
    assert [row[0::2] for row in table_rows(result.out)[1:]] == [
        ["ok", "COMPLETED"],
        ["bad", "FAILED"],
    ]


async def test_submit_watch_json_starts_with_the_batch_id_line(gateway: Gateway) -> None:
    """submit --watch --json: the first line is the CreateBatchResponse, then one BatchStatus per
    update of that batch, the last one terminal; all of stdout is JSON."""
    result = await cli("submit", FAILING.format(1), "--watch", "--json", *to(gateway))
    assert result.code == ExitCode.BATCH_FAILED, result.err
    first, *updates = [json.loads(line) for line in result.lines]
    assert set(first) >= {"batch_id", "transcription_ids", "state"}
    assert updates
    assert {u["batch_id"] for u in updates} == {first["batch_id"]}
    assert updates[-1]["state"] == "BATCH_STATE_FAILED"


async def test_watch_on_a_terminal_redraws_one_line(gateway: Gateway, stub: Stub) -> None:
    """On a terminal the progress line is redrawn in place with \\r and ended with a newline
    before the table goes out."""
    batch_id = await create(stub, AUDIO.format(1), AUDIO.format(2))
    out, err = io.StringIO(), io.StringIO()
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        code = await watch(
            Stub(channel), batch_id, out, err=err, metadata=bearer(), tty=True, tick=0.05
        )
    assert code == ExitCode.OK
    drawn = err.getvalue()
    assert drawn.startswith("\r")
    assert drawn.endswith("\n")
    assert drawn.count("\n") == 1
    assert drawn.rstrip().rsplit("\r", 1)[-1].startswith("COMPLETED")
    assert out.getvalue().startswith(f"batch {batch_id} COMPLETED")


async def test_watch_of_an_unknown_batch_is_not_found(gateway: Gateway) -> None:
    """An unknown batch id: exit 3, one line on stderr naming NOT_FOUND and the gateway's
    message, no traceback."""
    unknown = str(uuid.uuid4())
    result = await cli("watch", unknown, *to(gateway))
    assert result.code == ExitCode.RPC_ERROR
    assert_one_line_error(result, "WatchBatchStatus failed: NOT_FOUND", unknown)


async def test_watch_of_a_malformed_id_is_invalid_argument(gateway: Gateway) -> None:
    """A batch id that is not a UUID: the gateway's INVALID_ARGUMENT, in one line, exit 3."""
    result = await cli("watch", "not-a-uuid", "--json", *to(gateway))
    assert result.code == ExitCode.RPC_ERROR
    assert_one_line_error(result, "INVALID_ARGUMENT", "batch_id")


async def test_without_a_token_the_gateway_says_unauthenticated(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --token and no SOFER_GATEWAY_TOKEN: no authorization metadata at all, so a gateway
    with no key of its own answers UNAUTHENTICATED, reported in one line, exit 3."""
    monkeypatch.delenv(commands.TOKEN_ENV, raising=False)
    result = await cli("submit", AUDIO.format(1), "--target", gateway.address)
    assert result.code == ExitCode.RPC_ERROR
    assert_one_line_error(result, "CreateBatch failed: UNAUTHENTICATED")


def test_target_and_token_come_from_flags_then_environment() -> None:
    """--target and --token win; else SOFER_GATEWAY_TARGET and SOFER_GATEWAY_TOKEN; else
    127.0.0.1:50051 and no metadata. The token is sent as `authorization: Bearer`."""
    env = {"SOFER_GATEWAY_TARGET": "gw.example:443", "SOFER_GATEWAY_TOKEN": "from-env"}
    bare = build_parser().parse_args(["watch", "x"])
    flagged = build_parser().parse_args(["watch", "x", "--target", "h:1", "--token", "t"])
    assert commands.target_of(bare, environ={}) == "127.0.0.1:50051"
    assert commands.target_of(bare, environ=env) == "gw.example:443"
    assert commands.target_of(flagged, environ=env) == "h:1"
    assert commands.metadata_of(bare, environ={}) == ()
    assert commands.metadata_of(bare, environ=env) == (("authorization", "Bearer from-env"),)
    assert commands.metadata_of(flagged, environ=env) == (("authorization", "Bearer t"),)


@pytest.mark.parametrize("command", ["submit", "watch"])
async def test_an_unreachable_target_is_unavailable(closed_port: str, command: str) -> None:
    """A target that refuses connections fails at once (no wait for ready; a watch told not to
    reconnect): exit 3, one line naming UNAVAILABLE, no traceback."""
    argv = [AUDIO.format(1)] if command == "submit" else [str(uuid.uuid4())]
    result = await cli(
        command, *argv, "--target", closed_port, "--token", TOKEN, "--reconnect-timeout", "0"
    )
    assert result.code == ExitCode.RPC_ERROR
    assert_one_line_error(result, "UNAVAILABLE")


# -- rendering --------------------------------------------------------------------------------


def test_progress_line_counts_items_per_state() -> None:
    """The progress line: batch state, a bar, done/total, items per state in enum order, and
    the elapsed time; without items, the batch's own counts."""
    states = [
        batch_pb2.TRANSCRIPTION_STATE_COMPLETED,
        batch_pb2.TRANSCRIPTION_STATE_PROCESSING,
        batch_pb2.TRANSCRIPTION_STATE_RECEIVED,
        batch_pb2.TRANSCRIPTION_STATE_FAILED,
    ]
    status = batch_pb2.BatchStatus(
        state=batch_pb2.BATCH_STATE_PROCESSING,
        total_count=4,
        completed_count=1,
        failed_count=1,
        pending_count=2,
        transcriptions=[batch_pb2.TranscriptionInfo(state=s) for s in states],
    )
    assert render.progress_line(status, 75.4) == (
        "PROCESSING [##########----------] 2/4 done"
        " | received 1, processing 1, completed 1, failed 1 | 1m15s"
    )
    del status.transcriptions[:]
    assert "| completed 1, failed 1, pending 2 |" in render.progress_line(status, 0)


def test_durations_and_elapsed_times_read_well() -> None:
    """Durations as m:ss or h:mm:ss ("-" when unknown); elapsed as 7s, 3m05s, 1h02m03s."""
    info = batch_pb2.TranscriptionInfo()
    assert render.format_duration(info) == "-"
    info.duration = 65.4
    assert render.format_duration(info) == "1:05"
    info.duration = 3723
    assert render.format_duration(info) == "1:02:03"
    assert [render.format_seconds(s) for s in (7, 185, 3723)] == ["7s", "3m05s", "1h02m03s"]


def test_table_aligns_columns_and_clips_long_titles() -> None:
    """One row per item in order, columns aligned, long titles clipped with "...", unknown
    enum numbers shown as numbers."""
    items = [
        batch_pb2.TranscriptionInfo(
            client_item_id="a",
            title="T" * 80,
            state=batch_pb2.TRANSCRIPTION_STATE_COMPLETED,
            duration=5,
        ),
        batch_pb2.TranscriptionInfo(title="Short", state=cast(Any, 99)),
    ]
    lines = render.items_table(items).splitlines()
    assert lines[0].split() == ["CLIENT_ITEM_ID", "TITLE", "STATUS", "DURATION"]
    assert lines[1].split() == ["a", "T" * 47 + "...", "COMPLETED", "0:05"]
    assert lines[2].split() == ["-", "Short", "99", "-"]
    assert (
        len({line.index(word) for line, word in zip(lines, ["TITLE", "T", "Short"], strict=True)})
        == 1
    )


# -- the console script, as a process ----------------------------------------------------------


@dataclass
class Process:
    """A `python -m gateway.main` child and what it printed."""

    code: int
    out: str
    err: str


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: ours, without the client's variables, plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if k not in (commands.TARGET_ENV, commands.TOKEN_ENV)
    }
    return {**env, **extra}


# A child that acts on Ctrl-C as it would in a terminal, even when this test run was started with
# SIGINT ignored (a background job of a non-interactive shell, which children inherit).
_CTRL_C_ABLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from gateway.main import main; sys.exit(main(sys.argv[1:]))"
)


class Children:
    """Starts `sofer-gateway` child processes; the fixture kills any still running at the end."""

    def __init__(self) -> None:
        self.started: list[asyncio.subprocess.Process] = []

    async def start(
        self, *argv: str, env: dict[str, str] | None = None, ctrl_c: bool = False
    ) -> asyncio.subprocess.Process:
        """Start `sofer-gateway ARGV` (`python -m gateway.main`) with stdout and stderr piped."""
        entry = ("-c", _CTRL_C_ABLE) if ctrl_c else ("-m", "gateway.main")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *entry,
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env() if env is None else env,
        )
        self.started.append(process)
        return process

    async def run(self, *argv: str, env: dict[str, str] | None = None) -> Process:
        """Run `sofer-gateway ARGV` to the end."""
        process = await self.start(*argv, env=env)
        out, err = await asyncio.wait_for(process.communicate(), GUARD)
        assert process.returncode is not None
        return Process(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def children() -> AsyncIterator[Children]:
    """A `Children` for one test; what it started is killed and reaped at teardown."""
    made = Children()
    yield made
    for process in made.started:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_process_submit_watch_uses_the_environment_and_exits_0(
    gateway: Gateway, children: Children
) -> None:
    """The console script reads SOFER_GATEWAY_TARGET and SOFER_GATEWAY_TOKEN, prints the id first
    and the table at the end, and its exit status is 0 for a COMPLETED batch."""
    env = child_env(SOFER_GATEWAY_TARGET=gateway.address, SOFER_GATEWAY_TOKEN=TOKEN)
    done = await children.run(
        "submit", AUDIO.format(1), "--client-item-id", "x", "--watch", env=env
    )
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert UUID.match(lines[0])
    assert lines[-1].split()[:3] == ["x", "Item", "1"]
    assert "Traceback" not in done.err


async def test_process_exit_statuses_for_failures(
    gateway: Gateway, closed_port: str, children: Children
) -> None:
    """As a process: a FAILED batch exits 1, usage errors 2 (ours and argparse's), NOT_FOUND and
    UNAVAILABLE 3, each error one line on stderr with no traceback."""
    flags = ["--target", gateway.address, "--token", TOKEN]
    failed = await children.run("submit", FAILING.format(1), "--watch", "--json", *flags)
    assert failed.code == ExitCode.BATCH_FAILED, failed.err
    usage = await children.run("submit", AUDIO.format(1), "--title", "a", "--title", "b")
    assert usage.code == ExitCode.USAGE
    assert "--title given 2 time(s) for 1 URL(s)" in usage.err
    argparse_usage = await children.run("watch")
    assert argparse_usage.code == ExitCode.USAGE
    missing = await children.run("watch", str(uuid.uuid4()), *flags)
    unreachable = await children.run(
        "watch", str(uuid.uuid4()), "--target", closed_port, "--reconnect-timeout", "0"
    )
    for result, code in ((missing, "NOT_FOUND"), (unreachable, "UNAVAILABLE")):
        assert result.code == ExitCode.RPC_ERROR
        assert result.out == ""
        assert "Traceback" not in result.err
        [line] = [x for x in result.err.splitlines() if "sofer-gateway" in x]
        assert f"WatchBatchStatus failed: {code}" in line


@pytest.mark.parametrize("sandbox_config", [SLOW], indirect=True)
async def test_process_ctrl_c_during_watch_exits_130(
    gateway: Gateway, stub: Stub, children: Children
) -> None:
    """SIGINT (Ctrl-C) during a watch cancels the call and exits 130 with a short note, no
    traceback; stdout holds only the JSON lines printed before."""
    batch_id = await create(stub, AUDIO.format(1))
    process = await children.start(
        "watch", batch_id, "--json", "--target", gateway.address, "--token", TOKEN, ctrl_c=True
    )
    assert process.stdout is not None
    first = await asyncio.wait_for(process.stdout.readline(), GUARD)
    assert json.loads(first)["batch_id"] == batch_id
    process.send_signal(signal.SIGINT)
    rest, err = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode == ExitCode.INTERRUPTED
    assert "Traceback" not in err.decode()
    assert "sofer-gateway watch: interrupted" in err.decode()
    assert all(json.loads(line)["state"] != "BATCH_STATE_COMPLETED" for line in rest.splitlines())


class FakeWatchCall:
    """A stand-in for a WatchBatchStatus call: answers `statuses` in turn, then EOF, or blocks
    forever when `block` is set; records whether it was cancelled."""

    def __init__(self, *statuses: batch_pb2.BatchStatus, block: bool = False) -> None:
        self.statuses = list(statuses)
        self.block = block
        self.cancelled = False
        self.reading = asyncio.Event()

    async def read(self) -> Any:
        if self.statuses:
            return pb.WatchBatchStatusResponse(batch_status=self.statuses.pop(0))
        self.reading.set()
        if self.block:
            await asyncio.Event().wait()
        return grpc.aio.EOF  # type: ignore[attr-defined]

    def cancel(self) -> bool:
        self.cancelled = True
        return True


class FakeWatchStub:
    """A stub whose WatchBatchStatus returns a given fake call."""

    def __init__(self, call: FakeWatchCall) -> None:
        self.call = call

    def WatchBatchStatus(self, request: Any, **_: Any) -> FakeWatchCall:
        return self.call


async def test_a_stream_that_ends_before_a_terminal_state_is_an_error() -> None:
    """A stream that ends OK while the batch is still PROCESSING (or without any status) is
    reported as an error (exit 3), not as success."""
    processing = batch_pb2.BatchStatus(batch_id="b", state=batch_pb2.BATCH_STATE_PROCESSING)
    for call, needle in (
        (FakeWatchCall(processing), "ended while batch b was PROCESSING"),
        (FakeWatchCall(), "ended without a status"),
    ):
        with pytest.raises(ClientError, match=needle) as raised:
            await watch(cast(Stub, FakeWatchStub(call)), "b", io.StringIO(), err=io.StringIO())
        assert raised.value.exit_code == ExitCode.RPC_ERROR


async def test_cancelling_a_watch_cancels_its_call() -> None:
    """Cancelling the task running `watch` (what Ctrl-C does) cancels the gRPC call and
    propagates the cancellation; the terminal line is ended with a newline."""
    received = batch_pb2.BatchStatus(batch_id="b", state=batch_pb2.BATCH_STATE_RECEIVED)
    call = FakeWatchCall(received, block=True)
    err = io.StringIO()
    task = asyncio.create_task(
        watch(cast(Stub, FakeWatchStub(call)), "b", io.StringIO(), err=err, tty=True, tick=0.01)
    )
    await asyncio.wait_for(call.reading.wait(), GUARD)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.cancelled
    assert err.getvalue().startswith("\rRECEIVED")
    assert err.getvalue().endswith("\n")


CLI_DOC = (REPO / "docs" / "cli.md").read_text()


@pytest.mark.parametrize("command", ["submit", "watch"])
def test_every_client_flag_is_in_docs_cli(command: str) -> None:
    """docs/cli.md names every flag of `submit` and `watch` (in backquotes)."""
    missing = [flag for flag in flags_of(command) if f"`{flag}" not in CLI_DOC]
    assert missing == []
