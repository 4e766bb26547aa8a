"""The status hub's polling policy, as narrow unit tests over a scripted upstream.

The end-to-end behaviour (real sandbox, real channels) is in test_watch.py; these pin the
cadence and the error handling exactly, which timing on a real server cannot.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from gateway.credentials import Credential
from gateway.rpc_errors import GatewayError
from gateway.status_hub import Cadence, Observation, StatusHub
from gateway.upstream import UpstreamClient, UpstreamConfig
from gateway.upstream.testing import Answer, FakeTime, Script, reply

BATCH = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
CADENCE = Cadence(fast=1.0, slow=4.0, factor=1.5, error_backoff_cap=8.0)


def status(state: str, done: int, total: int = 2) -> dict[str, Any]:
    """A BatchStatusResponse body with `done` of `total` items completed."""
    items = [
        {
            "id": f"00000000-0000-4000-8000-00000000000{i}",
            "title": f"Item {i + 1}",
            "created_at": "2026-01-01T00:00:00Z",
            "primary_language": "en",
            "hebrew_word_format": ["en", "he"],
            "status": "COMPLETED" if i < done else "PROCESSING",
        }
        for i in range(total)
    ]
    return {
        "batch_id": BATCH,
        "status": state,
        "total_count": total,
        "completed_count": done,
        "failed_count": 0,
        "pending_count": total - done,
        "transcriptions": items,
    }


async def run(*answers: Answer, rng: float = 0.5) -> tuple[list[Observation], FakeTime, Script]:
    """Watch BATCH to its end against `answers`; return what the watcher saw and the waits."""
    time = FakeTime()
    script = Script(*answers)
    config = UpstreamConfig(base_url="http://upstream.test", max_attempts=1)
    async with UpstreamClient(config, transport=script.transport()) as client:

        async def sleep(seconds: float) -> None:
            await time.sleep(seconds)
            for _ in range(5):  # let the watcher, woken by the poller, take its turn
                await asyncio.sleep(0)

        hub = StatusHub(client, CADENCE, sleep=sleep, rng=lambda: rng)
        seen = [o async for o in hub.watch(Credential("t", "caller"), BATCH)]
        await hub.close()
    return seen, time, script


async def test_interval_grows_while_nothing_changes_and_resets_on_change() -> None:
    """Unchanged polls wait fast, x1.5, ... up to `slow`; a change goes back to `fast`."""
    same = reply(200, status("PROCESSING", 0))
    seen, time, _ = await run(
        same,
        same,
        same,
        same,
        same,
        reply(200, status("PROCESSING", 1)),
        reply(200, status("COMPLETED", 2)),
    )
    assert time.sleeps == [1.0, 1.5, 2.25, 3.375, 4.0, 1.0]
    assert [o.status.completed_count for o in seen][-1] == 2


async def test_rate_limit_waits_as_the_upstream_asks() -> None:
    """A 429 whose Retry-After the client could not fit waits exactly that long, then polls on."""
    seen, time, _ = await run(
        reply(429, {"detail": "slow down"}, headers={"Retry-After": "7"}),
        reply(200, status("COMPLETED", 2)),
    )
    assert time.sleeps == [7.0]
    assert seen[-1].terminal


async def test_transient_failures_back_off_and_keep_the_last_state() -> None:
    """5xx answers do not end the watch: full-jitter backoff doubling per failure, then on."""
    seen, time, _ = await run(
        reply(200, status("PROCESSING", 0)),
        reply(503, {"detail": "busy"}),
        reply(503, {"detail": "busy"}),
        reply(503, {"detail": "busy"}),
        reply(200, status("COMPLETED", 2)),
        rng=0.5,
    )
    assert time.sleeps == [1.0, 0.5, 1.0, 2.0]
    assert [o.status.status for o in seen] == ["PROCESSING", "COMPLETED"]


async def test_not_found_ends_every_watch() -> None:
    """A 404 is final: the watch raises NOT_FOUND with the reason BATCH_NOT_FOUND."""
    with pytest.raises(GatewayError) as raised:
        await run(reply(404, {"detail": "Batch not found"}))
    assert raised.value.code == grpc.StatusCode.NOT_FOUND
    assert raised.value.reason.value == "BATCH_NOT_FOUND"


async def test_unchanged_answers_are_not_sent_again() -> None:
    """Polls that return the same status publish nothing: the watcher sees changes only."""
    same = reply(200, status("PROCESSING", 0))
    seen, _, script = await run(same, same, same, reply(200, status("COMPLETED", 2)))
    assert len(script.requests) == 4
    assert [o.status.status for o in seen] == ["PROCESSING", "COMPLETED"]
