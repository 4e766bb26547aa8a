"""A slow WatchBatchStatus stream that skipped versions (conflation) still gets every event once,
in order: the hub over a scripted upstream on fake time, the stream's messages as the servicer
makes them (gateway.watch.resume.WatchStream)."""

from __future__ import annotations

import asyncio

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.watch.resume import WatchStream
from tests.helpers.hub import BATCH, CALLER, ScriptedUpstream, harness, status
from tests.helpers.upstream import reply


async def test_a_stream_that_skipped_versions_gets_their_events_from_the_log() -> None:
    """A stream reads the first state, then nothing while the batch moves three times: its
    next message (the newest state) carries the events of all three changes, in the log's
    order, and a stream that kept up got the same events one change at a time; both streams'
    tokens end at the same position."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 0, total=3)),
        reply(200, status("PROCESSING", 1, total=3)),
        reply(200, status("PROCESSING", 2, total=3)),
        reply(200, status("COMPLETED", 3, total=3)),
    )
    async with harness(upstream) as h, asyncio.timeout(30):
        log = h.hub.events
        slow_watch = h.hub.watch(CALLER, BATCH)
        slow = WatchStream(log, CALLER, BATCH, None)
        first = slow.fast(await anext(slow_watch))
        fast = WatchStream(log, CALLER, BATCH, None)
        kept_up = []
        async for observation in h.hub.watch(CALLER, BATCH):
            data = fast.fast(observation)
            kept_up.append(data if data is not None else await fast.slow(observation))
        last = await anext(slow_watch)
        assert slow.fast(last) is None  # not where the observation's own events start
        late = await slow.slow(last)
        await slow_watch.aclose()  # type: ignore[attr-defined]  # an async generator
    assert first is not None
    messages = [pb.WatchBatchStatusResponse.FromString(data) for data in kept_up]
    caught_up = pb.WatchBatchStatusResponse.FromString(late)
    every = [e for m in messages for e in m.events]
    assert len(every) == 6  # one item completed and the counts, three times
    assert [e.event_id for e in caught_up.events] == [e.event_id for e in every]
    assert caught_up.resume_token == messages[-1].resume_token
    assert len({e.event_id for e in every}) == 6
