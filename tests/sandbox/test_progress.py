"""The time model: item and batch progress, driven by a hand-stepped clock."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer
from sofer_sandbox.timeline import batch_progress, item_status, schedule

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import client, create_express

ITEM_SECONDS = 10.0


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items take ITEM_SECONDS on the fake clock."""
    return SandboxConfig(
        item_seconds=ITEM_SECONDS, manifest_validation_seconds=0.0, clock=sandbox_clock
    )


async def _status(http: httpx.AsyncClient, batch: dict[str, Any]) -> dict[str, Any]:
    response = await http.get(f"/v1/transcriptions/batch/{batch['batch_id']}/status")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _check_counts(status: dict[str, Any]) -> None:
    assert (
        status["completed_count"] + status["failed_count"] + status["pending_count"]
        == status["total_count"]
        == len(status["transcriptions"])
    )


async def test_items_go_received_processing_completed(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """One item: RECEIVED, then PROCESSING, then COMPLETED within item_seconds."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://example.com/a.mp3")
        seen = []
        for _ in range(12):
            status = await _status(http, batch)
            _check_counts(status)
            seen.append((status["status"], status["transcriptions"][0]["status"]))
            sandbox_clock.advance(ITEM_SECONDS / 10)
    assert seen[0] == ("RECEIVED", "RECEIVED")
    assert ("PROCESSING", "PROCESSING") in seen
    assert seen[10] == ("COMPLETED", "COMPLETED")
    order = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    assert order == [
        ("RECEIVED", "RECEIVED"),
        ("PROCESSING", "PROCESSING"),
        ("COMPLETED", "COMPLETED"),
    ]


async def test_a_batch_progresses_in_several_steps_and_ends_within_two_item_times(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Items finish one after another (several distinct counts), all by 2 * item_seconds."""
    urls = [f"https://example.com/{i}.mp3" for i in range(5)]
    async with client(sandbox) as http:
        batch = await create_express(http, *urls)
        counts = []
        for _ in range(21):
            status = await _status(http, batch)
            _check_counts(status)
            counts.append(status["completed_count"])
            sandbox_clock.advance(ITEM_SECONDS / 10)
    assert counts == sorted(counts)
    assert len(set(counts)) == 6  # 0, 1, 2, 3, 4, 5: one step per item
    assert counts[20] == 5  # at 2 * item_seconds everything is done


async def test_duration_appears_once_completed(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """`duration` is null until COMPLETED, then a whole number of seconds, fixed per URL."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://example.com/d.mp3")
        tid = batch["transcription_ids"][0]
        before = (await http.get(f"/v1/transcriptions/{tid}/status")).json()
        sandbox_clock.advance(ITEM_SECONDS)
        after = (await http.get(f"/v1/transcriptions/{tid}/status")).json()
        again = await create_express(http, "https://example.com/d.mp3")
        sandbox_clock.advance(ITEM_SECONDS)
        other = await http.get(f"/v1/transcriptions/{again['transcription_ids'][0]}/status")
    assert before["duration"] is None
    assert after["status"] == "COMPLETED"
    assert isinstance(after["duration"], int)
    assert after["duration"] > 0
    assert other.json()["duration"] == after["duration"]


async def test_urls_containing_fail_end_failed(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """An audio_url containing "fail" ends FAILED; the batch still COMPLETES if one item did."""
    async with client(sandbox) as http:
        batch = await create_express(
            http, "https://example.com/ok.mp3", "https://example.com/will-fail.mp3"
        )
        sandbox_clock.advance(2 * ITEM_SECONDS)
        status = await _status(http, batch)
    assert [t["status"] for t in status["transcriptions"]] == ["COMPLETED", "FAILED"]
    assert status["status"] == "COMPLETED"
    assert (status["completed_count"], status["failed_count"], status["pending_count"]) == (1, 1, 0)
    assert status["transcriptions"][1]["duration"] is None


async def test_a_batch_whose_items_all_fail_is_failed(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """All items FAILED: the batch is FAILED."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://fail.example.com/1.mp3", "https://x/fail2")
        sandbox_clock.advance(2 * ITEM_SECONDS)
        status = await _status(http, batch)
    assert status["status"] == "FAILED"
    assert status["failed_count"] == 2


async def test_transcription_status_matches_the_batch_view(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """GET .../{id}/status and the batch status agree on an item at every moment."""
    async with client(sandbox) as http:
        batch = await create_express(http, "https://example.com/a.mp3", "https://example.com/b")
        for _ in range(4):
            status = await _status(http, batch)
            for info in status["transcriptions"]:
                alone = (await http.get(f"/v1/transcriptions/{info['id']}/status")).json()
                assert alone == info
            sandbox_clock.advance(ITEM_SECONDS / 2)


def test_schedule_staggers_items_and_bounds_the_batch() -> None:
    """Each item takes item_seconds, starts later than the previous one, all end before 2T."""
    plans = [schedule(0.0, i, 500, 1.0, fails=False, unfunded=False) for i in range(500)]
    assert all(abs((p.end - p.start) - 0.8) < 1e-9 for p in plans)
    assert all(a.end < b.end for a, b in itertools.pairwise(plans))
    assert max(p.end for p in plans) < 2.0


def test_batch_progress_rules() -> None:
    """RECEIVED before any start; PROCESSING while pending; COMPLETED if any did, else FAILED."""
    assert batch_progress(["RECEIVED", "RECEIVED"]).status == "RECEIVED"
    assert batch_progress(["PROCESSING", "RECEIVED"]).status == "PROCESSING"
    assert batch_progress(["COMPLETED", "RECEIVED"]).status == "PROCESSING"
    assert batch_progress(["COMPLETED", "FAILED"]).status == "COMPLETED"
    assert batch_progress(["FAILED", "FAILED"]).status == "FAILED"
    progress = batch_progress(["COMPLETED", "FAILED", "PROCESSING", "RECEIVED"])
    assert (progress.completed, progress.failed, progress.pending) == (1, 1, 2)


def test_batch_progress_counts_unfunded_items_as_failed() -> None:
    """An INSUFFICIENT_FUNDS item counts as failed and never makes a new batch PROCESSING."""
    assert batch_progress(["RECEIVED", "INSUFFICIENT_FUNDS"]).status == "RECEIVED"
    assert batch_progress(["COMPLETED", "INSUFFICIENT_FUNDS"]).status == "COMPLETED"
    unfunded = batch_progress(["INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS"])
    assert (unfunded.status, unfunded.failed, unfunded.pending) == ("FAILED", 2, 0)


def test_item_status_boundaries() -> None:
    """An item is PROCESSING from its start and terminal from its end, inclusive."""
    plan = schedule(0.0, 0, 1, 1.0, fails=False, unfunded=False)
    assert item_status(plan, plan.start - 1e-9) == "RECEIVED"
    assert item_status(plan, plan.start) == "PROCESSING"
    assert item_status(plan, plan.end) == "COMPLETED"
