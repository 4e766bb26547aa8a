"""The client commands `sofer-gateway list`, `extract` and `submit --page`, run against the
real gateway and sandbox."""

from __future__ import annotations

import asyncio
import io
import json

from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.cli import commands
from gateway.main import build_parser
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import create_express, source, upstream_count

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
GUARD = 60.0  # a hang guard, never a speed assertion


async def cli(gateway: Gateway, *argv: str) -> tuple[int, str, str]:
    """Run `sofer-gateway ARGV --target ... --token ...` in this loop: (status, stdout, stderr)."""
    args = build_parser().parse_args([*argv, "--target", gateway.address, "--token", TOKEN])
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.wait_for(commands.run_async(args, out, err), GUARD)
    return int(code), out.getvalue(), err.getvalue()


async def test_list_walks_every_page_with_filters_as_json_lines(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """`list --json --page-size 2 --title shiur` prints every matching transcription, newest
    first, one JSON object per line, across pages, for one upstream list GET."""
    created = await create_express(
        stub, *(source(n, title=f"Shiur {n}" if n % 2 else f"Other {n}") for n in range(7))
    )
    code, out, err = await cli(gateway, "list", "--json", "--page-size", "2", "--title", "shiur")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["title"] for line in lines] == ["Shiur 5", "Shiur 3", "Shiur 1"]
    ids = list(created.transcription_ids)
    assert [line["transcription_id"] for line in lines] == [ids[5], ids[3], ids[1]]
    assert {line["state"] for line in lines} <= {"RECEIVED", "PROCESSING", "COMPLETED"}
    assert await upstream_count(sandbox, "GET /v1/transcriptions/") == 1


async def test_list_prints_a_table_and_stops_at_the_limit(gateway: Gateway, stub: Stub) -> None:
    """Without --json, a header and one row per transcription; --limit stops early."""
    await create_express(stub, *(source(n, title=f"t{n}") for n in range(4)))
    code, out, err = await cli(gateway, "list", "--limit", "3", "--state", "received")
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].split() == ["ID", "STATE", "TITLE"]
    assert [row.split()[-1] for row in rows[1:]] == ["t3", "t2", "t1"]


async def test_extract_prints_each_audio_url_and_reports_failures(gateway: Gateway) -> None:
    """`extract` prints URL, audio URL and title per resolved link; a link that fails is one
    line on stderr naming it and its reason, the others still print, and the status is 3."""
    code, out, err = await cli(
        gateway, "extract", "https://youtu.be/abc", "https://vimeo.com/1", "--json"
    )
    assert code == 3
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert line["audio_url"] == "https://media.sandbox.invalid/youtube/abc.m4a"
    assert line["title"] == "YouTube video abc"
    assert err.startswith("https://vimeo.com/1: ExtractLink failed: INVALID_ARGUMENT")
    assert len(err.splitlines()) == 1


async def test_submit_page_resolves_links_into_the_batch(gateway: Gateway, stub: Stub) -> None:
    """`submit URL --page LINK` makes a batch of the URL and the page's audio, the page's item
    titled by the page."""
    code, out, err = await cli(
        gateway, "submit", "https://e.com/a.mp3", "--page", "https://youtu.be/vid9"
    )
    assert code == 0, err
    status = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=out.strip()), metadata=bearer()
    )
    titles = [t.title for t in status.batch_status.transcriptions]
    assert titles == ["Item 1", "YouTube video vid9"]
    assert status.batch_status.transcriptions[1].state != batch_pb2.TRANSCRIPTION_STATE_FAILED
