"""One delivery attempt against a real HTTP endpoint on loopback: signed, bounded, no redirects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sofer.batch.v1 import batch_pb2

from gateway.webhooks import signing
from gateway.webhooks.addresses import Policy
from gateway.webhooks.sender import MAX_RESPONSE_BYTES, Sender, Timeouts, payload, webhook_id
from tests.helpers.webhook_receiver import Receiver

LOOSE = Policy(allow_http=True, allow_private=True)


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    made = Sender(LOOSE, timeouts=Timeouts(connect=2, read=0.5, total=2))
    await made.start()
    yield made
    await made.close()


def event() -> batch_pb2.BatchEvent:
    made = batch_pb2.BatchEvent(
        event_id="1700000000000-0",
        type=batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED,
        batch_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        transcription_id="b1b2c3d4-e5f6-7890-abcd-ef1234567890",
        completed_count=1,
        total_count=2,
    )
    made.observed_at.FromSeconds(1_700_000_000)
    return made


async def test_an_attempt_posts_the_event_signed_as_standard_webhooks_say(
    sender: Sender, receiver: Receiver
) -> None:
    """The endpoint gets a POST whose signature the standardwebhooks package verifies, with a
    JSON body {type, timestamp, data}: the event as proto JSON, and nothing about the caller."""
    secret = signing.new_secret()
    message_id = webhook_id("e1", "1700000000000-0")
    outcome = await sender.send(receiver.url, (secret,), message_id, payload(event()))
    assert outcome.delivered
    (delivery,) = receiver.deliveries
    body = delivery.verified(secret)
    assert delivery.webhook_id == message_id
    assert body["type"] == "transcription.completed"
    assert body["timestamp"] == "2023-11-14T22:13:20Z"
    assert body["data"]["transcriptionId"] == "b1b2c3d4-e5f6-7890-abcd-ef1234567890"
    assert delivery.headers["content-type"] == "application/json"
    assert "authorization" not in delivery.headers


async def test_a_redirect_is_not_followed(sender: Sender, receiver: Receiver) -> None:
    """A 302 is the attempt's answer (not a success); the redirect target is not called."""
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data"
    outcome = await sender.send(receiver.url, (signing.new_secret(),), "m", b"{}")
    assert (outcome.status, outcome.delivered) == (302, False)
    assert len(receiver.deliveries) == 1


async def test_a_silent_endpoint_times_out_within_the_read_timeout(
    sender: Sender, receiver: Receiver
) -> None:
    """An endpoint that never answers fails the attempt with "timed out" after the read
    timeout, not later."""
    receiver.hold = asyncio.Event()
    async with asyncio.timeout(5):
        outcome = await sender.send(receiver.url, (signing.new_secret(),), "m", b"{}")
    assert (outcome.status, outcome.error) == (0, "timed out")


async def test_an_answer_body_is_read_only_up_to_its_bound(
    sender: Sender, receiver: Receiver
) -> None:
    """A 200 with a 100 kB body is a delivery; only MAX_RESPONSE_BYTES of it are read."""
    assert MAX_RESPONSE_BYTES < 100_000
    outcome = await sender.send(receiver.url, (signing.new_secret(),), "m", b"{}")
    assert outcome.delivered


async def test_a_refused_address_fails_the_attempt_without_a_request(receiver: Receiver) -> None:
    """Without the flags, an attempt to a loopback URL (literal or by name) fails naming the
    rule, and the endpoint gets nothing."""
    strict = Sender(Policy(allow_http=True))
    await strict.start()
    try:
        literal = await strict.send(receiver.url, (signing.new_secret(),), "m", b"{}")
        named = receiver.url.replace("127.0.0.1", "localhost")
        by_name = await strict.send(named, (signing.new_secret(),), "m", b"{}")
    finally:
        await strict.close()
    assert literal.error.startswith("ADDRESS_NOT_ALLOWED")
    assert "loopback" in by_name.error
    assert receiver.deliveries == []
