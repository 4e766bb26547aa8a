"""The status hub's polling policy, as narrow unit tests over a scripted upstream.

The end-to-end behaviour (real sandbox, real channels) is in test_watch.py; these pin the
cadence and the error handling exactly, which timing on a real server cannot.
"""

from __future__ import annotations

import asyncio
import time as wall
from email.utils import formatdate

import grpc
import httpx
import pytest

from gateway.access.credentials import Credential
from gateway.contract.errors import GatewayError, Reason
from gateway.watch.hub import Observation, StatusHub
from tests.helpers.clock import FakeTime
from tests.helpers.hub import (
    BATCH,
    CADENCE,
    CALLER,
    GUARD,
    ScriptedUpstream,
    harness,
    status,
)
from tests.helpers.upstream import Answer, Script, reply


async def run(
    *answers: Answer, rng: float = 0.5, cap: float = 30.0
) -> tuple[list[Observation], FakeTime, Script]:
    """Watch BATCH to its end against `answers`; return what the watcher saw and the waits."""
    upstream = ScriptedUpstream(*answers)
    async with harness(upstream, cap=cap, rng=rng) as h, asyncio.timeout(GUARD):
        seen = [o async for o in h.hub.watch(CALLER, BATCH)]
    return seen, h.time, upstream.script


async def watch_all(hub: StatusHub) -> list[Observation]:
    """Every observation of one watch of BATCH, to its end."""
    return [o async for o in hub.watch(CALLER, BATCH)]


def rate_limit(retry_after: str | None = None) -> Answer:
    """A 429, with the given Retry-After header if any."""
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return reply(429, {"detail": "slow down"}, headers=headers)


def assert_rate_limited(error: BaseException, retry_after: float) -> GatewayError:
    """`error` ends a watch RESOURCE_EXHAUSTED (RATE_LIMITED) with at least that RetryInfo."""
    assert isinstance(error, GatewayError), repr(error)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason is Reason.RATE_LIMITED
    assert error.retry_after is not None
    assert error.retry_after >= retry_after
    return error


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


# -- Retry-After and the cap (--watch-max-retry-after) ----------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    [
        pytest.param("3600", id="seconds"),
        pytest.param("a day ahead", id="http-date"),
    ],
)
async def test_retry_after_past_the_cap_ends_every_watch_at_once(retry_after: str) -> None:
    """A 429 asking for longer than the cap (an hour; an HTTP date a day ahead) on the first
    poll ends all six watches, one of which joined while the poll was in flight, at once:
    RESOURCE_EXHAUSTED (RATE_LIMITED) with RetryInfo carrying the upstream's delay. The poller
    does not sleep it out and stops."""
    if retry_after == "a day ahead":  # made now, not at collection: the suite takes minutes
        retry_after = formatdate(wall.time() + 86_400, usegmt=True)
    upstream = ScriptedUpstream(rate_limit(retry_after), reply(200, status("COMPLETED", 2)))
    upstream.hold(1)
    async with harness(upstream, cap=30.0) as h, asyncio.timeout(GUARD):
        early = [asyncio.create_task(watch_all(h.hub)) for _ in range(5)]
        await upstream.arrived[1].wait()
        late = asyncio.create_task(watch_all(h.hub))
        await asyncio.sleep(0)
        upstream.release[1].set()
        results = await asyncio.gather(*early, late, return_exceptions=True)
        delay = 3599.0 if retry_after == "3600" else 86_000.0
        for result in results:
            assert_rate_limited(result, delay)  # type: ignore[arg-type]
        assert h.time.sleeps == []
        assert len(upstream.script.requests) == 1
        assert h.hub.active_pollers == 0
        assert h.hub.open_watches == 0


async def test_retry_after_at_the_cap_is_waited_out() -> None:
    """A Retry-After of exactly the cap is waited out; the watch then ends OK as usual."""
    seen, time, _ = await run(rate_limit("30"), reply(200, status("COMPLETED", 2)), cap=30.0)
    assert time.sleeps == [30.0]
    assert seen[-1].terminal


async def test_rate_limit_past_the_cap_ends_a_watch_that_has_a_state() -> None:
    """With a state already sent, a Retry-After past the cap still ends the watch
    RESOURCE_EXHAUSTED (after that state), rather than leaving it silent for an hour."""
    upstream = ScriptedUpstream(reply(200, status("PROCESSING", 0)), rate_limit("3600"))
    async with harness(upstream) as h, asyncio.timeout(GUARD):
        stream = h.hub.watch(CALLER, BATCH)
        assert (await anext(stream)).status.status == "PROCESSING"
        with pytest.raises(GatewayError) as raised:
            await anext(stream)
    assert_rate_limited(raised.value, 3600.0)
    assert h.time.sleeps == [1.0]


async def test_a_watcher_after_the_error_starts_afresh() -> None:
    """Once a long Retry-After has ended a batch's watches, a new watcher of that batch (while
    an old one still holds the ended stream) gets a fresh poll, not the stale error."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 0)),
        rate_limit("3600"),
        reply(200, status("COMPLETED", 2)),
    )
    async with harness(upstream) as h, asyncio.timeout(GUARD):
        slow = h.hub.watch(CALLER, BATCH)
        first = await anext(slow)
        assert first.status.status == "PROCESSING"
        # The poller polls again, is told 429 for an hour, ends the watches and stops.
        while h.hub.active_pollers:  # noqa: ASYNC110 - the state lives in another task
            await asyncio.sleep(0)
        fresh = await watch_all(h.hub)
        assert [o.status.status for o in fresh] == ["COMPLETED"]
        with pytest.raises(GatewayError) as raised:
            await anext(slow)
        assert_rate_limited(raised.value, 3600.0)
    assert len(upstream.script.requests) == 3


# -- a watcher never waits without end ---------------------------------------------------------


async def test_rate_limits_without_retry_after_give_up_after_the_cap_with_no_state() -> None:
    """429s without Retry-After back off (full jitter, bounded); with no state at all, the
    watch ends RESOURCE_EXHAUSTED once waiting on would pass the cap, RetryInfo = the next
    wait, instead of waiting in silence until the caller's deadline."""
    with pytest.raises(GatewayError) as raised:
        await run(rate_limit(), cap=10.0, rng=0.5)
    assert_rate_limited(raised.value, 4.0)
    assert raised.value.retry_after == 4.0


async def test_repeated_short_retry_afters_with_no_state_end_at_the_cap() -> None:
    """Each Retry-After under the cap is waited out, but a topic with no state spends at most
    the cap on them: four 7 s waits, then RESOURCE_EXHAUSTED with RetryInfo 7 s."""
    upstream = ScriptedUpstream(rate_limit("7"))
    async with harness(upstream, cap=30.0) as h, asyncio.timeout(GUARD):
        with pytest.raises(GatewayError) as raised:
            await watch_all(h.hub)
    assert h.time.sleeps == [7.0, 7.0, 7.0, 7.0]
    assert_rate_limited(raised.value, 7.0)


async def test_repeated_short_retry_afters_keep_a_watch_that_has_a_state() -> None:
    """With a state, 429s under the cap are waited out however many come: the watch keeps its
    last state and ends OK on the terminal one."""
    seen, time, _ = await run(
        reply(200, status("PROCESSING", 0)),
        *[rate_limit("7")] * 6,
        reply(200, status("COMPLETED", 2)),
    )
    assert time.sleeps == [1.0, *[7.0] * 6]
    assert [o.status.status for o in seen] == ["PROCESSING", "COMPLETED"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        pytest.param(reply(503, {"detail": "busy"}), "UPSTREAM_UNAVAILABLE", id="503"),
        pytest.param(httpx.ReadTimeout("slow"), "UPSTREAM_TIMEOUT", id="timeout"),
    ],
)
async def test_transient_failures_with_no_state_end_unavailable_at_the_cap(
    answer: Answer, reason: str
) -> None:
    """A batch whose status the poller never gets (5xx, timeouts) ends its watches UNAVAILABLE
    (with the upstream's reason) after the cap's worth of backoff, not at the caller's
    deadline; a poll timeout is not reported as the caller's DEADLINE_EXCEEDED."""
    upstream = ScriptedUpstream(answer)
    async with harness(upstream, cap=10.0, rng=0.5) as h, asyncio.timeout(GUARD):
        with pytest.raises(GatewayError) as raised:
            await watch_all(h.hub)
    assert h.time.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert raised.value.reason.value == reason
    assert raised.value.metadata["batch_id"] == BATCH


# -- a joining watcher gets the state at once ---------------------------------------------------


async def test_a_watcher_joining_while_the_poller_sleeps_out_a_retry_after_gets_the_state() -> None:
    """While the poller sleeps out a Retry-After (under the cap), a new watcher of the batch
    gets its current state at once, and both end OK after the wait."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 1)),
        rate_limit("25"),
        reply(200, status("COMPLETED", 2)),
    )
    async with harness(upstream, hold=25.0) as h, asyncio.timeout(GUARD):
        first = h.hub.watch(CALLER, BATCH)
        assert (await anext(first)).status.completed_count == 1
        await h.holding.wait()
        joined = h.hub.watch(CALLER, BATCH)
        assert (await anext(joined)).status.completed_count == 1
        h.release.set()
        assert (await anext(joined)).terminal
        assert (await anext(first)).terminal
    assert h.time.sleeps == [1.0, 25.0]


async def test_a_watcher_joining_mid_poll_gets_the_state() -> None:
    """While a poll is in flight (a slow upstream), a new watcher gets the current state at
    once, not after the poll."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 1)), reply(200, status("COMPLETED", 2))
    )
    upstream.hold(2)
    async with harness(upstream) as h, asyncio.timeout(GUARD):
        first = h.hub.watch(CALLER, BATCH)
        assert (await anext(first)).status.completed_count == 1
        await upstream.arrived[2].wait()
        joined = h.hub.watch(CALLER, BATCH)
        assert (await anext(joined)).status.completed_count == 1
        upstream.release[2].set()
        assert (await anext(joined)).terminal
        assert (await anext(first)).terminal


# -- a watched batch's state answers GetBatchStatus while it is fresh (StatusHub.fresh) ---------


async def test_a_fresh_observation_answers_reads_until_it_is_older_than_max_age() -> None:
    """While a poller runs, its latest observation may answer a GetBatchStatus of the same
    tenant's batch until it is `max_age` old on the hub's clock (polls that find nothing new do
    not renew it); then, or with `max_age` 0, or for another tenant, there is none."""
    upstream = ScriptedUpstream(reply(200, status("PROCESSING", 1)))
    async with harness(upstream, hold=CADENCE.fast) as h, asyncio.timeout(GUARD):
        stream = h.hub.watch(CALLER, BATCH)
        seen = await anext(stream)
        await h.holding.wait()  # the poller sleeps between polls: one fast interval has passed
        assert h.hub.fresh(CALLER, BATCH, max_age=5.0) is seen
        assert h.hub.fresh(CALLER, BATCH, max_age=0.0) is None
        assert h.hub.fresh(Credential("other tenant", "caller"), BATCH, max_age=5.0) is None
        h.time.advance(4.0)  # 5 s after the read: still within max_age
        assert h.hub.fresh(CALLER, BATCH, max_age=5.0) is seen
        h.time.advance(0.5)
        assert h.hub.fresh(CALLER, BATCH, max_age=5.0) is None


async def test_a_terminal_observation_answers_reads_whatever_its_age() -> None:
    """A COMPLETED batch does not change any more: its observation answers reads however old,
    though its poller has stopped, while a watcher still holds the topic."""
    seen: list[Observation] = []
    upstream = ScriptedUpstream(reply(200, status("COMPLETED", 2)))
    async with harness(upstream) as h, asyncio.timeout(GUARD):
        stream = h.hub.watch(CALLER, BATCH)
        seen.append(await anext(stream))
        while h.hub.active_pollers:  # noqa: ASYNC110 - the state lives in another task
            await asyncio.sleep(0)
        h.time.advance(3600.0)
        assert h.hub.fresh(CALLER, BATCH, max_age=5.0) is seen[0]
        assert [o async for o in stream] == []  # the watch ends after the terminal state
        assert h.hub.fresh(CALLER, BATCH, max_age=5.0) is None  # the topic ended
