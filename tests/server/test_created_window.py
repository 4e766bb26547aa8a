"""The creation-time filters' pure part (gateway.server.created): the binary search finds
exactly the positions within the bounds, reads only what it probes, keeps what it read, and
refuses a list out of order."""

from __future__ import annotations

import math

import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.server.created import Bounds, CreatedTimes, window
from gateway.upstream.models import TranscriptionSummary


def _items(count: int) -> list[TranscriptionSummary]:
    return [TranscriptionSummary(id=f"id{n}", title="", status="COMPLETED") for n in range(count)]


class Reader:
    """Creation times by id, newest first; counts the reads."""

    def __init__(self, times: list[int]) -> None:
        self.times = {f"id{n}": t for n, t in enumerate(times)}
        self.reads = 0

    async def __call__(self, transcription_id: str) -> int:
        self.reads += 1
        return self.times[transcription_id]


def _expected(times: list[int], bounds: Bounds) -> list[int]:
    return [
        n
        for n, t in enumerate(times)
        if (bounds.after is None or t > bounds.after)
        and (bounds.before is None or t < bounds.before)
    ]


@pytest.mark.parametrize("count", [0, 1, 2, 7, 100, 1000])
async def test_every_bound_selects_exactly_its_positions_in_log_reads(count: int) -> None:
    """For every bound between, on and around the creation times (with ties), the window is
    exactly the transcriptions strictly inside it, at no more than log2(N)+1 reads per bound."""
    times = sorted((n // 3 * 10 for n in range(count)), reverse=True)  # ties of three
    limit = math.floor(math.log2(count)) + 1 if count else 0
    candidates = sorted({t + d for t in times for d in (-1, 0, 1)} | {-5})
    stride = max(1, len(candidates) // 30)  # about 30 of each: every case, in a second
    for after in (None, *candidates[::stride]):
        for before in (None, *candidates[1::stride]):
            if after is not None and before is not None and before <= after:
                continue
            bounds = Bounds(after, before)
            read = Reader(times)
            start, end = await window(_items(count), bounds, "t", CreatedTimes(), read)
            selected = list(range(start, end))
            assert selected == _expected(times, bounds), (after, before)
            assert read.reads <= limit * ((after is not None) + (before is not None))


async def test_kept_times_are_not_read_again_and_stay_bounded() -> None:
    """A second search with the same bound reads nothing; the LRU keeps at most its size, per
    tenant, the least recently used going first."""
    times = list(range(1000, 0, -1))
    known = CreatedTimes()
    read = Reader(times)
    await window(_items(1000), Bounds(500, None), "t", known, read)
    first = read.reads
    assert first <= 11
    await window(_items(1000), Bounds(500, None), "t", known, read)
    assert read.reads == first
    await window(_items(1000), Bounds(500, None), "other tenant", known, read)
    assert read.reads == 2 * first
    small = CreatedTimes(max_times=2)
    small.put("t", "a", 1)
    small.put("t", "b", 2)
    assert small.get("t", "a") == 1
    small.put("t", "c", 3)
    assert (small.get("t", "a"), small.get("t", "b"), len(small)) == (1, None, 2)


async def test_probes_out_of_order_fail_list_not_ordered() -> None:
    """A list whose probed times increase along it fails FAILED_PRECONDITION LIST_NOT_ORDERED
    naming the upstream list."""
    with pytest.raises(GatewayError) as caught:
        await window(_items(50), Bounds(25, None), "t", CreatedTimes(), Reader(list(range(50))))
    assert caught.value.reason == Reason.LIST_NOT_ORDERED
    assert caught.value.preconditions[0].subject == "GET /v1/transcriptions/"
