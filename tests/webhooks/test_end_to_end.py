"""Webhooks end to end: the real gateway polls the real sandbox, logs the batch's events and
delivers them to a real endpoint on loopback; with Redis, a replica killed (SIGKILL) in the
middle of a delivery loses nothing and sends nothing under a second webhook-id."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import eventually, source
from tests.helpers.clock import FakeTime
from tests.helpers.metrics import scrape
from tests.helpers.processes import start_serve
from tests.helpers.redis_server import RedisServer
from tests.helpers.webhook_receiver import Delivery, Receiver

Stub = pb_grpc.BatchTranscriptionServiceStub
LOOPBACK = ("--webhook-allow-http", "--webhook-allow-private-addresses")
ITEM = 3.0
"""An item's seconds on the sandbox clock (all of a batch's items done by 2 * ITEM)."""


def completed(deliveries: list[Delivery], items: int) -> bool:
    """The endpoint has acknowledged the batch's terminal event (all `items` completed)."""
    for d in deliveries:
        if 200 <= d.status < 300:
            data = d.json()["data"]
            if (
                data.get("batchState") == "BATCH_STATE_COMPLETED"
                and data.get("completedCount") == items
                and d.json()["type"] == "batch.updated"
            ):
                return True
    return False


def acknowledged(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """The events the endpoint acknowledged, once each, in the order it first did."""
    seen: dict[str, dict[str, Any]] = {}
    for d in deliveries:
        if 200 <= d.status < 300 and d.webhook_id not in seen:
            seen[d.webhook_id] = d.json()["data"]
    return list(seen.values())


def one_id_per_event(deliveries: list[Delivery]) -> None:
    """Every event arrived under one webhook-id, and every webhook-id carried one event."""
    ids: dict[str, set[str]] = {}
    events: dict[str, set[str]] = {}
    for d in deliveries:
        event_id = d.json()["data"]["eventId"]
        ids.setdefault(event_id, set()).add(d.webhook_id)
        events.setdefault(d.webhook_id, set()).add(event_id)
    assert all(len(v) == 1 for v in ids.values()), ids
    assert all(len(v) == 1 for v in events.values()), events


@pytest.fixture
def config(gateway_config: GatewayConfig) -> GatewayConfig:
    return dataclasses.replace(
        gateway_config,
        watch_fast_interval=0.1,
        watch_slow_interval=0.1,
        watch_backoff_factor=1.0,
        webhook_allow_http=True,
        webhook_allow_private_addresses=True,
    )


@pytest.fixture
async def running(config: GatewayConfig) -> AsyncIterator[tuple[Gateway, FakeTime, Stub]]:
    """The gateway with webhook retries timed by a FakeTime (no backoff is waited out)."""
    gateway, time = Gateway(config), FakeTime()
    gateway.webhook_clock, gateway.webhook_sleep = time.clock, time.sleep
    async with gateway, grpc.aio.insecure_channel(gateway.address) as channel:
        yield gateway, time, Stub(channel)


async def test_an_endpoint_that_fails_for_a_while_gets_every_event_in_order(
    running: tuple[Gateway, FakeTime, Stub], receiver: Receiver, sandbox_clock: FakeTime
) -> None:
    """An endpoint answering 503 to its first six requests, then 200, gets every event of a
    batch of three created through the gateway (each item's completion, the batch's end), in the
    log's order, every request verified by standardwebhooks with the endpoint's secret, an event
    never under two webhook-ids; the backoff's waits grew; ListWebhookDeliveries shows the 503s
    with their next retry."""
    _, time, stub = running
    made = await stub.CreateWebhook(pb.CreateWebhookRequest(url=receiver.url), metadata=bearer())
    receiver.answers = [503] * 6
    request = pb.CreateBatchRequest(info={}, audio_sources=[source(i) for i in range(3)])
    batch = await stub.CreateBatch(request, metadata=bearer())
    await receiver.wait_started(1)
    sandbox_clock.advance(ITEM * 1.4)  # the first item done, then the others
    await receiver.wait_until(lambda d: len(acknowledged(d)) >= 2)
    sandbox_clock.advance(ITEM)
    deliveries = await receiver.wait_until(lambda d: completed(d, 3))
    for d in deliveries:
        assert d.verified(made.secret)["data"]["batchId"] == batch.batch_id
    one_id_per_event(deliveries)
    events = acknowledged(deliveries)
    numbers = [int(e["eventId"].rsplit("-", 1)[1]) for e in events]
    assert numbers == sorted(numbers)
    finished = {e["transcriptionId"] for e in events if e.get("transcriptionState") == (
        "TRANSCRIPTION_STATE_COMPLETED")}  # fmt: skip
    assert finished == set(batch.transcription_ids)
    assert len(time.sleeps) >= 6
    listed = await stub.ListWebhookDeliveries(
        pb.ListWebhookDeliveriesRequest(webhook_id=made.webhook.webhook_id), metadata=bearer()
    )
    failed = [d for d in listed.deliveries if d.status_code == 503]
    assert len(failed) == 6
    assert all(d.HasField("next_retry_time") for d in failed)


async def test_an_endpoint_answering_410_is_disabled(
    running: tuple[Gateway, FakeTime, Stub], receiver: Receiver, sandbox_clock: FakeTime
) -> None:
    """The first delivery answered 410 Gone disables the endpoint: ListWebhooks says why, and
    the rest of the batch's events are not sent."""
    _, _, stub = running
    await stub.CreateWebhook(pb.CreateWebhookRequest(url=receiver.url), metadata=bearer())
    receiver.answers = [410]
    request = pb.CreateBatchRequest(info={}, audio_sources=[source(i) for i in range(2)])
    await stub.CreateBatch(request, metadata=bearer())
    sandbox_clock.advance(2 * ITEM + 1)

    async def disabled() -> str:
        listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer())
        reason: str = listed.webhooks[0].disabled_reason
        return reason

    assert "410" in await eventually(disabled, bool)
    assert len(receiver.deliveries) == 1


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that move only when the test advances the sandbox clock."""
    return SandboxConfig(item_seconds=ITEM, manifest_validation_seconds=0.0, clock=sandbox_clock)


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while await process.stdout.readline():
        pass


async def test_kill_9_of_the_delivering_replica_loses_nothing(
    sandbox: SandboxServer,
    redis_server: RedisServer,
    sandbox_clock: FakeTime,
    key_secret: str,
    receiver: Receiver,
) -> None:
    """Two `serve` replicas on one Redis. Replica A creates the endpoint and the batch, and is
    killed (SIGKILL) while its first delivery waits on the endpoint. Replica B, which the tenant
    never called, takes the deliveries over from A's cursor: the event in flight arrives again
    under the same webhook-id before any call reaches B. Once B watches the batch (its poller
    needs the tenant's credential, which only a call brings), the endpoint gets every event of
    the batch, and no event under two ids."""
    flags = (
        "--upstream-url", sandbox.url, "--redis-url", redis_server.url, "--poll-lease", "1",
        "--watch-fast-interval", "0.2", "--watch-slow-interval", "0.2",
        "--watch-backoff-factor", "1", *LOOPBACK,
    )  # fmt: skip
    env = {"SOFER_GATEWAY_REDIS_KEY_SECRET": key_secret}
    a, a_address = await start_serve(*flags, env=env)
    b, b_address = await start_serve(*flags, env=env)
    drains = [asyncio.ensure_future(_drain(p)) for p in (a, b)]
    receiver.hold = asyncio.Event()
    watch: asyncio.Future[Any] | None = None
    try:
        async with (
            grpc.aio.insecure_channel(a_address) as a_channel,
            grpc.aio.insecure_channel(b_address) as b_channel,
        ):
            on_a, on_b = Stub(a_channel), Stub(b_channel)
            made = await on_a.CreateWebhook(
                pb.CreateWebhookRequest(url=receiver.url), metadata=bearer()
            )
            request = pb.CreateBatchRequest(info={}, audio_sources=[source(i) for i in range(3)])
            created_at = sandbox_clock.now
            batch = await on_a.CreateBatch(request, metadata=bearer())
            await receiver.wait_started(1)  # A's first delivery, held by the endpoint
            a.kill()
            await a.wait()
            receiver.hold.set()
            # A's attempt (answered after A died) and B's, though the tenant never called B.
            first = await receiver.wait_until(lambda d: len(d) >= 2)
            assert first[0].webhook_id == first[1].webhook_id

            async def follow() -> None:
                call = on_b.WatchBatchStatus(
                    pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer()
                )
                async for _ in call:
                    pass

            watch = asyncio.ensure_future(follow())
            sandbox_clock.advance(created_at + 2 * ITEM + 1 - sandbox_clock.now)
            deliveries = await receiver.wait_until(lambda d: completed(d, 3))
    finally:
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(BaseException):
                await watch
        for process in (a, b):
            if process.returncode is None:
                process.kill()
                await process.wait()
        for drain in drains:
            drain.cancel()
    for d in deliveries:
        d.verified(made.secret)
    one_id_per_event(deliveries)
    events = acknowledged(deliveries)
    finished = {e["transcriptionId"] for e in events if e.get("transcriptionState") == (
        "TRANSCRIPTION_STATE_COMPLETED")}  # fmt: skip
    assert finished == set(batch.transcription_ids)
    first_id = deliveries[0].webhook_id
    assert sum(d.webhook_id == first_id for d in deliveries) >= 2  # redelivered, same id


async def test_a_single_transcriptions_webhook_url_gets_its_completion(
    running: tuple[Gateway, FakeTime, Stub], receiver: Receiver, sandbox_clock: FakeTime
) -> None:
    """CreateTranscription with webhook_url answers the endpoint's id and secret (the same on
    a replay of its request_id); the endpoint gets the transcription's transcription.completed,
    its batch_id the transcription's id, and no batch.updated."""
    _, _, stub = running
    request = pb.CreateTranscriptionRequest(
        request_id="5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c",
        audio_url="https://example.com/single.mp3",
        webhook_url=receiver.url,
    )
    first = await stub.CreateTranscription(request, metadata=bearer())
    again = await stub.CreateTranscription(request, metadata=bearer())
    assert (again.webhook_id, again.webhook_secret) == (first.webhook_id, first.webhook_secret)
    sandbox_clock.advance(2 * ITEM + 1)

    def done(deliveries: list[Delivery]) -> bool:
        return any(d.json()["type"] == "transcription.completed" for d in deliveries)

    deliveries = await receiver.wait_until(done)
    for d in deliveries:
        body = d.verified(first.webhook_secret)
        assert body["type"] != "batch.updated"
        assert body["data"]["batchId"] == first.transcription_id
        assert body["data"]["transcriptionId"] == first.transcription_id


@pytest.mark.parametrize("gateway_config", [{"metrics_listen": "127.0.0.1:0"}], indirect=True)
async def test_attempts_are_counted_and_no_secret_or_token_is_logged(
    running: tuple[Gateway, FakeTime, Stub],
    receiver: Receiver,
    sandbox_clock: FakeTime,
    logs: io.StringIO,
) -> None:
    """Two 503s then deliveries: sofer_gateway_webhook_attempts_total counts them by outcome;
    the log lines of it all (debug level) hold neither the endpoint's secret nor the token."""
    gateway, _, stub = running
    made = await stub.CreateWebhook(pb.CreateWebhookRequest(url=receiver.url), metadata=bearer())
    receiver.answers = [503, 503]
    request = pb.CreateBatchRequest(info={}, audio_sources=[source(0)])
    await stub.CreateBatch(request, metadata=bearer())
    sandbox_clock.advance(2 * ITEM + 1)
    deliveries = await receiver.wait_until(lambda d: completed(d, 1))
    scraped = await scrape(gateway.metrics_port)
    assert scraped.value("sofer_gateway_webhook_attempts_total", outcome="5xx") == 2
    ok = sum(200 <= d.status < 300 for d in deliveries)
    assert scraped.value("sofer_gateway_webhook_attempts_total", outcome="2xx") == ok
    text = logs.getvalue()
    assert text
    assert made.secret not in text
    assert made.secret.removeprefix("whsec_") not in text
    assert TOKEN not in text
