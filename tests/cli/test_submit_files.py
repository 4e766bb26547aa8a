"""`sofer-gateway submit FILE...`: local files uploaded as single transcriptions, `--watch`."""

from __future__ import annotations

from pathlib import Path

from sofer_sandbox import SandboxServer

from gateway.server.process import Gateway
from tests.cli.test_client import UUID, cli, to
from tests.helpers.calls import stats, upstream_count


async def test_submit_uploads_a_file_and_watches_it_to_completed(
    gateway: Gateway, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A local file is uploaded (one transcription, titled after the file), its id printed
    first, then each state until COMPLETED; exit 0."""
    audio = tmp_path / "shiur.mp3"
    audio.write_bytes(b"\x01\x02\x03" * 700_001)  # more than one chunk
    result = await cli("submit", str(audio), "--watch", *to(gateway))
    assert result.code == 0, result.err
    transcription_id = result.lines[0]
    assert UUID.match(transcription_id)
    assert result.lines[-1] == f"{transcription_id} COMPLETED"
    assert (await stats(sandbox))["created"] == {"transcriptions": 1}


async def test_submit_refuses_urls_and_files_together(
    gateway: Gateway, sandbox: SandboxServer, tmp_path: Path
) -> None:
    """URLs (a batch) and files (single transcriptions) in one command: usage error, exit 2,
    nothing sent."""
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"abc")
    result = await cli("submit", "https://e.com/a.mp3", str(audio), *to(gateway))
    assert result.code == 2
    assert "not both" in result.err
    assert await upstream_count(sandbox, "POST /v1/transcriptions/") == 0


async def test_submit_names_a_missing_file(gateway: Gateway, tmp_path: Path) -> None:
    """An argument that is neither a URL nor an existing file: usage error naming it."""
    missing = tmp_path / "nope.mp3"
    result = await cli("submit", str(missing), *to(gateway))
    assert result.code == 2
    assert f"{missing}: no such file" in result.err
