"""Watch fan-out: a change is built and serialized once per topic version, whoever watches it,
every watcher still gets its own right `changed_transcription_ids`, and a burst of streams is
answered (a first message, or RESOURCE_EXHAUSTED with a reason), never silently cancelled."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig

from gateway.config import GatewayConfig
from gateway.contract import mapping
from gateway.server.process import Gateway
from gateway.upstream import BatchStatusResponse
from gateway.watch import fanout
from gateway.watch.hub import Observation
from tests.conftest import bearer
from tests.helpers.calls import assert_error, create_batch
from tests.helpers.hub import BATCH, CALLER, ScriptedUpstream, harness, status
from tests.helpers.upstream import reply

Stub = pb_grpc.BatchTranscriptionServiceStub
# A moment: the sandbox's batches change state every few tenths of a second.
ITEM_SECONDS = 0.6


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items finish in under a second, so a batch shows several steps of progress."""
    return SandboxConfig(item_seconds=ITEM_SECONDS, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """Fast polling, so that every step of a batch is seen."""
    return dataclasses.replace(gateway_config, watch_fast_interval=0.05, watch_slow_interval=0.2)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[Any, ...]]:
    """Every WatchBatchStatus message built, counted by what it is made of: the observation
    (its time) and the states its diff is taken against (None: a first message)."""
    made: Counter[tuple[Any, ...]] = Counter()
    build = mapping.watch_message

    def counted(
        answer: BatchStatusResponse,
        observed_at: datetime,
        previous_states: Mapping[str, str] | None,
    ) -> pb.WatchBatchStatusResponse:
        against = None if previous_states is None else tuple(sorted(previous_states.items()))
        made[(observed_at, against)] += 1
        return build(answer, observed_at, previous_states)

    monkeypatch.setattr(mapping, "watch_message", counted)
    return made


def observation(done: int, version: int, total: int = 3) -> Observation:
    """Version `version` of a topic: `done` of `total` items completed."""
    answer = BatchStatusResponse.from_json(status("PROCESSING", done, total))
    return Observation(answer, datetime(2026, 1, 1, 0, 0, version, tzinfo=UTC), version)


def changed(data: bytes) -> list[str]:
    """The changed_transcription_ids of a serialized message."""
    message = pb.WatchBatchStatusResponse.FromString(data)
    return list(message.batch_status.changed_transcription_ids)


def ids(*indexes: int) -> list[str]:
    """The transcription ids of `status(...)`'s items at `indexes`."""
    return [f"00000000-0000-4000-8000-00000000000{i}" for i in indexes]


def test_first_message_lists_every_id_and_is_made_once(builds: Counter[Any]) -> None:
    """A stream's first message lists every transcription; a thousand streams opening on the
    same version share one build."""
    one = observation(done=1, version=4)
    messages = {fanout.message_bytes(one, None) for _ in range(1000)}
    assert len(messages) == 1
    assert changed(messages.pop()) == ids(0, 1, 2)
    assert sum(builds.values()) == 1


def test_a_watcher_that_kept_up_shares_the_diff(builds: Counter[Any]) -> None:
    """Watchers that sent version n get, for version n+1, the ids that changed between them,
    from one build however many they are; the message carries the new state."""
    before, after = observation(done=0, version=1), observation(done=2, version=2)
    messages = {fanout.message_bytes(after, before) for _ in range(1000)}
    assert len(messages) == 1
    data = messages.pop()
    assert changed(data) == ids(0, 1)
    status_ = pb.WatchBatchStatusResponse.FromString(data).batch_status
    assert status_.completed_count == 2
    assert status_.observed_at.ToDatetime(tzinfo=UTC) == after.observed_at
    assert sum(builds.values()) == 1


def test_a_watcher_that_skipped_versions_gets_its_own_diff(builds: Counter[Any]) -> None:
    """A slow watcher that last sent version 1 and reads version 3 gets the ids that changed
    since version 1, not since version 2; watchers that kept up still get the short diff."""
    first, second, third = (observation(done=d, version=v) for v, d in ((1, 0), (2, 1), (3, 2)))
    assert changed(fanout.message_bytes(third, second)) == ids(1)
    assert changed(fanout.message_bytes(third, first)) == ids(0, 1)
    assert changed(fanout.message_bytes(third, first)) == ids(0, 1)  # a second slow one: shared
    assert sum(builds.values()) == 2


async def test_every_watcher_is_woken_for_every_change() -> None:
    """A change reaches all 1,000 watchers of a batch in the few turns of the loop the poller
    gives them before its next poll: none of them misses a version, and none is woken twice
    for one (each waits on the event of the version after the one it read)."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 0)),
        reply(200, status("PROCESSING", 1)),
        reply(200, status("COMPLETED", 2)),
    )
    async with harness(upstream) as h, asyncio.timeout(30):

        async def versions() -> list[int]:
            return [o.version async for o in h.hub.watch(CALLER, BATCH)]

        seen = await asyncio.gather(*(versions() for _ in range(1000)))
    assert all(s == [1, 2, 3] for s in seen), Counter(tuple(s) for s in seen)


async def test_slow_watcher_gets_the_diff_since_its_own_last_message() -> None:
    """Through the hub: a watcher that read the first state and then nothing while the batch
    moved on gets the newest state next, its changed ids counted from what it last sent."""
    upstream = ScriptedUpstream(
        reply(200, status("PROCESSING", 0)),
        reply(200, status("PROCESSING", 1)),
        reply(200, status("COMPLETED", 2)),
    )
    async with harness(upstream) as h, asyncio.timeout(30):
        slow = h.hub.watch(CALLER, BATCH)
        first = await anext(slow)
        fast = [o async for o in h.hub.watch(CALLER, BATCH)]
        last = await anext(slow)
        await slow.aclose()  # type: ignore[attr-defined]  # an async generator
    assert [o.version for o in fast] == [1, 2, 3]
    assert (first.version, last.version) == (1, 3)
    assert changed(fanout.message_bytes(last, first)) == ids(0, 1)
    assert changed(fanout.message_bytes(fast[2], fast[1])) == ids(1)


async def test_many_watchers_share_each_build_and_see_their_own_changes(
    stub: Stub, builds: Counter[tuple[Any, ...]]
) -> None:
    """200 watchers of one batch follow it to its end: each message's changed ids are those
    that changed since that stream's previous message (all of them in its first), and each
    message was built once, whatever number of streams sent it."""
    batch = await create_batch(stub, *(f"https://e.com/{i}.mp3" for i in range(4)))

    async def follow() -> list[batch_pb2.BatchStatus]:
        call = stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer(), timeout=60
        )
        return [message.batch_status async for message in call]

    streams = await asyncio.gather(*(follow() for _ in range(200)))
    for messages in streams:
        assert messages[-1].state == batch_pb2.BATCH_STATE_COMPLETED
        assert sorted(messages[0].changed_transcription_ids) == sorted(batch.transcription_ids)
        for before, after in pairwise(messages):
            old = {t.id: t.state for t in before.transcriptions}
            moved = {t.id for t in after.transcriptions if old.get(t.id) != t.state}
            assert set(after.changed_transcription_ids) == moved
    assert max(builds.values()) == 1  # no message built twice
    # One build per distinct (message, previous message) any stream sent, however many streams
    # sent it: how many such pairs there are depends on how the watchers' starts spread over
    # the batch's progress (the machine's load), so the count is held to them, not to a ratio.
    sent = {
        (after.observed_at.ToNanoseconds(), before.observed_at.ToNanoseconds() if before else None)
        for messages in streams
        for before, after in zip([None, *messages], messages, strict=False)
    }
    assert sum(builds.values()) <= len(sent) < sum(len(s) for s in streams)


# -- bursts: a few thousand streams opened at once ------------------------------------------

BURST_MAX_WATCHES = 2000
BURST_EXTRA = 400
STREAMS_PER_CHANNEL = 600  # under --max-concurrent-streams (1000): each channel its own TCP


# Batches that stay in progress for the whole burst.
LONG_ITEMS = SandboxConfig(item_seconds=600, manifest_validation_seconds=0.0)


@pytest.mark.parametrize("sandbox_config", [LONG_ITEMS], ids=["items-in-progress"])
async def test_burst_is_answered_never_silently_cancelled(
    gateway_config: GatewayConfig,
) -> None:
    """2,400 streams opened at once over 20 batches on a gateway with --max-watches 2000: each
    gets its first message or RESOURCE_EXHAUSTED with the reason WATCH_LIMIT_REACHED, exactly
    400 the latter; none ends a bare CANCELLED (grpc core's backlog of calls not yet handed to
    the gateway follows --max-watches instead of refusing past 3,000 in silence... or far
    fewer, when calls arrive faster than the event loop takes them)."""
    config = dataclasses.replace(gateway_config, max_watches=BURST_MAX_WATCHES)
    total = BURST_MAX_WATCHES + BURST_EXTRA
    options = (("grpc.use_local_subchannel_pool", 1),)
    async with Gateway(config) as gw:
        channels = [
            grpc.aio.insecure_channel(gw.address, options=options)
            for _ in range(-(-total // STREAMS_PER_CHANNEL))
        ]
        try:
            await asyncio.gather(*(c.channel_ready() for c in channels))
            stubs = [Stub(c) for c in channels]
            batches = [
                (await create_batch(stubs[0], f"https://e.com/long-{i}.mp3")).batch_id
                for i in range(20)
            ]
            calls = [
                stubs[i % len(stubs)].WatchBatchStatus(
                    pb.WatchBatchStatusRequest(batch_id=batches[i % len(batches)]),
                    metadata=bearer(),
                    timeout=120,
                )
                for i in range(total)
            ]

            async def first(call: Any) -> str:
                try:
                    await call.read()
                    return "first message"
                except grpc.aio.AioRpcError as error:
                    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "WATCH_LIMIT_REACHED")
                    return "WATCH_LIMIT_REACHED"

            outcomes = Counter(await asyncio.gather(*(first(c) for c in calls)))
            for call in calls:
                call.cancel()
        finally:
            await asyncio.gather(*(c.close(None) for c in channels))
    assert outcomes == {"first message": BURST_MAX_WATCHES, "WATCH_LIMIT_REACHED": BURST_EXTRA}
