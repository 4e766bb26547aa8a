"""The single-flight group on its own: who shares a call, and when the call ends."""

from __future__ import annotations

import asyncio
import functools

import pytest

from gateway.state import singleflight
from gateway.state.singleflight import SingleFlight
from tests.helpers.clock import FakeTime


class Upstream:
    """A fake upstream call that answers when told to, counting its calls and cancellations."""

    def __init__(self) -> None:
        self.calls = 0
        self.cancelled = 0
        self.release = asyncio.Event()

    async def read(self, value: str = "answer") -> str:
        self.calls += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return value


async def settle() -> None:
    """Let every ready task run a few steps."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_callers_of_one_key_share_one_call() -> None:
    """Callers of the same key while a call is in flight get its answer without calling; the
    followers learn the leader's tag."""
    group, upstream = SingleFlight(), Upstream()
    runs = [asyncio.create_task(group.run("k", upstream.read, tag=f"r{i}")) for i in range(5)]
    await settle()
    upstream.release.set()
    results = await asyncio.gather(*runs)
    assert upstream.calls == 1
    assert [r.value for r in results] == ["answer"] * 5
    assert [r.leader for r in results] == [None, "r0", "r0", "r0", "r0"]
    assert len(group) == 0


async def test_different_keys_never_share() -> None:
    """Each key has a call of its own."""
    group, upstream = SingleFlight(), Upstream()
    runs = [
        asyncio.create_task(group.run(key, functools.partial(upstream.read, key)))
        for key in ("a", "b", "a")
    ]
    await settle()
    upstream.release.set()
    assert [r.value for r in await asyncio.gather(*runs)] == ["a", "b", "a"]
    assert upstream.calls == 2


async def test_the_call_outlives_a_leaving_waiter_and_ends_with_the_last() -> None:
    """A cancelled waiter leaves the call to the others; once none waits, it is cancelled and
    forgotten, and the next caller starts a new one."""
    group, upstream = SingleFlight(), Upstream()
    first = asyncio.create_task(group.run("k", upstream.read))
    second = asyncio.create_task(group.run("k", upstream.read))
    await settle()
    first.cancel()
    await settle()
    assert upstream.cancelled == 0
    assert not second.done()
    second.cancel()
    await settle()
    assert upstream.cancelled == 1
    assert len(group) == 0
    with pytest.raises(asyncio.CancelledError):
        await first
    upstream.release.set()
    assert (await group.run("k", upstream.read)).leader is None
    assert upstream.calls == 2


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    """The call's error is raised to every caller that waited; the next call runs afresh."""
    group = SingleFlight()
    gate = asyncio.Event()

    async def failing() -> str:
        await gate.wait()
        raise LookupError("not found")

    runs = [asyncio.create_task(group.run("k", failing)) for _ in range(3)]
    await settle()
    gate.set()
    outcomes = await asyncio.gather(*runs, return_exceptions=True)
    assert all(isinstance(o, LookupError) for o in outcomes)

    async def working() -> str:
        return "fresh"

    assert (await group.run("k", working)).value == "fresh"


async def test_a_finished_call_is_never_joined() -> None:
    """A caller arriving after the call finished calls again: nothing is cached."""
    group, upstream = SingleFlight(), Upstream()
    upstream.release.set()
    await group.run("k", upstream.read)
    await group.run("k", upstream.read)
    assert upstream.calls == 2


# -- reuse: a finished answer answers identical reads for a while (--status-reuse-window) -------


async def test_a_result_is_reused_within_the_window_then_read_again() -> None:
    """With `reuse`, a successful result answers identical reads for that many seconds after it
    arrived (on the group's clock), naming the call that made it; the first read after the
    window calls again."""
    time = FakeTime()
    group, upstream = SingleFlight(clock=time), Upstream()
    upstream.release.set()
    first = await group.run("k", functools.partial(upstream.read, "first"), tag="r1", reuse=2.0)
    assert (first.value, first.leader) == ("first", None)
    time.advance(1.9)
    again = await group.run("k", functools.partial(upstream.read, "second"), tag="r2", reuse=2.0)
    assert (again.value, again.leader) == ("first", "r1")
    assert upstream.calls == 1
    time.advance(0.2)  # 2.1 s after the answer
    later = await group.run("k", functools.partial(upstream.read, "third"), tag="r3", reuse=2.0)
    assert (later.value, later.leader) == ("third", None)
    assert upstream.calls == 2


async def test_failures_are_not_reused_and_reads_without_reuse_never_see_kept_results() -> None:
    """A failed call is not kept for reuse: the next read calls again. A read that asks for no
    reuse never gets a kept result, though an earlier read kept one."""
    time = FakeTime()
    group = SingleFlight(clock=time)

    async def failing() -> str:
        raise LookupError("not found")

    with pytest.raises(LookupError):
        await group.run("k", failing, reuse=5.0)
    upstream = Upstream()
    upstream.release.set()
    assert (await group.run("k", upstream.read, reuse=5.0)).leader is None
    assert (await group.run("k", upstream.read)).leader is None  # no reuse asked: a new call
    assert upstream.calls == 2


async def test_kept_results_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most MAX_REUSED results are kept for reuse: past it the oldest is dropped first (its
    next read calls again) and the newest still answers."""
    monkeypatch.setattr(singleflight, "MAX_REUSED", 2)
    time = FakeTime()
    group, upstream = SingleFlight(clock=time), Upstream()
    upstream.release.set()
    for key in ("a", "b", "c"):
        await group.run(key, upstream.read, tag=key, reuse=60.0)
    assert (await group.run("c", upstream.read, tag="x", reuse=60.0)).leader == "c"
    assert (await group.run("b", upstream.read, tag="x", reuse=60.0)).leader == "b"
    assert upstream.calls == 3
    assert (await group.run("a", upstream.read, tag="x", reuse=60.0)).leader is None  # dropped
    assert upstream.calls == 4
