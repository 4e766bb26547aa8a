"""Delivery lanes over the real in-memory event log, to a real HTTP endpoint on loopback, with
retries timed by an injected clock (no test waits out a backoff)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sofer.batch.v1 import batch_pb2

from gateway.events.log import MemoryEventLog
from gateway.webhooks import signing
from gateway.webhooks.addresses import Policy as AddressPolicy
from gateway.webhooks.deliveries import Deliveries, Policy
from gateway.webhooks.sender import Sender
from gateway.webhooks.store import Endpoint, MemoryWebhookStore
from tests.helpers.clock import FakeTime
from tests.helpers.webhook_receiver import Receiver

TENANT = "tenant-a"
BATCH = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
COMPLETED = batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED
UPDATED = batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED


@dataclass
class Rig:
    log: MemoryEventLog
    store: MemoryWebhookStore
    deliveries: Deliveries
    time: FakeTime
    counted: list[str]

    async def endpoint(
        self, receiver: Receiver, endpoint_id: str = "e1", types: tuple[str, ...] = ()
    ) -> Endpoint:
        made = Endpoint(endpoint_id, receiver.url, types, signing.new_secret(), 1.0)
        return await self.store.add(TENANT, made)

    async def append(self, *types: batch_pb2.BatchEventType) -> list[batch_pb2.BatchEvent]:
        events = []
        for i, kind in enumerate(types):
            event = batch_pb2.BatchEvent(type=kind, batch_id=BATCH, completed_count=i)
            event.observed_at.FromSeconds(1_700_000_000 + i)
            events.append(event)
        return await self.log.append(TENANT, BATCH, events)

    async def idle(self) -> None:
        """Wait (at most 30 s) until no lane runs."""
        async with asyncio.timeout(30):
            await self.deliveries.settled()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    time, counted = FakeTime(), list[str]()
    log, store = MemoryEventLog(), MemoryWebhookStore()
    sender = Sender(AddressPolicy(allow_http=True, allow_private=True))
    await sender.start()
    deliveries = Deliveries(
        store,
        log,
        sender,
        Policy(retry_for=600.0, backoff_base=1.0, backoff_cap=60.0),
        clock=time.clock,
        wall_clock=time.wall_clock,
        sleep=time.sleep,
        rng=lambda: 0.999,
        counted=counted.append,
    )
    deliveries.start()
    try:
        yield Rig(log, store, deliveries, time, counted)
    finally:
        await deliveries.close()
        await sender.close()


async def test_an_endpoint_failing_then_recovering_gets_every_event_in_order(
    rig: Rig, receiver: Receiver
) -> None:
    """An endpoint answering 503 five times, then 200, gets each of three events, in order,
    every attempt signed (standardwebhooks verifies it) and an event's retries under one
    webhook-id; the waits grow exponentially (full jitter) and the attempts are recorded."""
    endpoint = await rig.endpoint(receiver)
    receiver.answers = [503] * 5
    kept = await rig.append(UPDATED, COMPLETED, UPDATED)
    await receiver.wait_for(3)
    await rig.idle()
    delivered = [d for d in receiver.deliveries if d.status == 200]
    assert [d.verified(endpoint.secret)["data"]["eventId"] for d in delivered] == [
        e.event_id for e in kept
    ]
    for d in receiver.deliveries:
        d.verified(endpoint.secret)
    first_ids = {d.webhook_id for d in receiver.deliveries[:6]}
    assert first_ids == {f"msg_e1_{kept[0].event_id}"}
    assert rig.time.sleeps == pytest.approx([0.999, 1.998, 3.996, 7.992, 15.984])
    attempts = await rig.store.attempts("e1")
    assert [a.status_code for a in attempts][::-1] == [503] * 5 + [200] * 3
    assert attempts[-1].next_retry_at > 0
    assert rig.counted.count("5xx") == 5
    assert rig.counted.count("2xx") == 3


async def test_a_delivery_is_given_up_after_retry_for_and_the_next_event_goes(
    rig: Rig, receiver: Receiver
) -> None:
    """An event the endpoint refuses (500) for longer than --webhook-retry-for is given up,
    recorded as such, and the endpoint then gets the next event."""
    await rig.endpoint(receiver)
    # Waits 1, 2, 4, ..., 32, then 60 s (the cap): the 15th would end past 600 s.
    receiver.answers = [500] * 15
    kept = await rig.append(UPDATED, COMPLETED)
    await receiver.wait_for(1)
    await rig.idle()
    last = receiver.deliveries[-1]
    assert last.status == 200
    assert last.json()["data"]["eventId"] == kept[1].event_id
    attempts = await rig.store.attempts("e1")
    assert [a.error.startswith("gave up") for a in attempts[::-1]] == [False] * 14 + [True, False]
    assert sum(rig.time.sleeps) <= 600.0


async def test_a_410_disables_the_endpoint(rig: Rig, receiver: Receiver) -> None:
    """An endpoint answering 410 Gone is disabled: no retry, and later events are not sent."""
    await rig.endpoint(receiver)
    receiver.answers = [410]
    await rig.append(UPDATED)
    await rig.idle()
    (endpoint,) = await rig.store.endpoints(TENANT)
    assert "410" in endpoint.disabled
    await rig.append(UPDATED)
    await rig.idle()
    assert len(receiver.deliveries) == 1


async def test_an_endpoint_gets_only_the_event_types_it_asked_for(
    rig: Rig, receiver: Receiver
) -> None:
    """An endpoint registered for transcription.completed gets those events and no others."""
    await rig.endpoint(receiver, types=("transcription.completed",))
    await rig.append(UPDATED, COMPLETED, UPDATED, COMPLETED)
    await receiver.wait_for(2)
    await rig.idle()
    types = [d.json()["type"] for d in receiver.deliveries]
    assert types == ["transcription.completed"] * 2


async def test_a_stalled_endpoint_does_not_delay_another(rig: Rig, receiver: Receiver) -> None:
    """While one endpoint holds every request unanswered, another endpoint of the tenant gets
    all the batch's events."""
    stalled = Receiver(hold=asyncio.Event())
    await stalled.start()
    try:
        await rig.endpoint(stalled, "slow")
        await rig.endpoint(receiver, "fast")
        await rig.append(UPDATED, COMPLETED, UPDATED)
        await receiver.wait_for(3)
        assert stalled.deliveries == []
    finally:
        await stalled.stop()


async def test_a_rotated_secret_signs_beside_the_old_one_during_its_grace(
    rig: Rig, receiver: Receiver
) -> None:
    """After a rotation with a grace period, deliveries verify with the old secret and with the
    new one."""
    endpoint = await rig.endpoint(receiver)
    rotated = Endpoint(
        endpoint.id, endpoint.url, (), signing.new_secret(), 1.0,
        previous_secret=endpoint.secret, previous_until=rig.time.wall + 3600,
    )  # fmt: skip
    await rig.store.put(TENANT, rotated)
    await rig.append(UPDATED)
    (delivery,) = await receiver.wait_for(1)
    delivery.verified(endpoint.secret)
    delivery.verified(rotated.secret)


async def test_a_new_endpoint_gets_no_history(rig: Rig, receiver: Receiver) -> None:
    """An endpoint registered after some of a batch's events were observed gets only the events
    observed after its registration."""
    made = Endpoint("late", receiver.url, (), signing.new_secret(), 1_700_000_001.5)
    await rig.store.add(TENANT, made)
    kept = await rig.append(UPDATED, COMPLETED, UPDATED)  # observed at ...000, ...001, ...002
    await rig.idle()
    assert [d.json()["data"]["eventId"] for d in receiver.deliveries] == [kept[2].event_id]
