"""The webhook RPCs through the real gateway: registration rules (URL and address), replays,
tenants kept apart, rotation, deletion, and CreateBatch's webhook_url."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import assert_error, detail, rpc_error, source, upstream_total
from tests.helpers.redis_server import RedisServer

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
REQUEST_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.fixture
async def gateway(gateway_config: GatewayConfig) -> AsyncIterator[Gateway]:
    """The gateway with webhooks allowed to reach loopback over http."""
    config = dataclasses.replace(
        gateway_config, webhook_allow_http=True, webhook_allow_private_addresses=True
    )
    async with Gateway(config) as running:
        yield running


@pytest.fixture
async def strict(gateway_config: GatewayConfig) -> AsyncIterator[Stub]:
    """A gateway with the default (safe) webhook rules, and a stub on it."""
    async with (
        Gateway(gateway_config) as running,
        grpc.aio.insecure_channel(running.address) as channel,
    ):
        yield Stub(channel)


def violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    found = detail(error, error_details_pb2.BadRequest).field_violations
    return [(v.field, v.reason) for v in found]


async def test_urls_the_rules_forbid_are_refused_naming_the_field_and_rule(strict: Stub) -> None:
    """By default an http URL fails URL_NOT_HTTPS, a loopback or metadata address
    ADDRESS_NOT_ALLOWED: INVALID_ARGUMENT, reason WEBHOOK_URL_NOT_ALLOWED, on `url`."""
    for url, rule in [
        ("http://hooks.example.com/x", "URL_NOT_HTTPS"),
        ("https://127.0.0.1:8443/x", "ADDRESS_NOT_ALLOWED"),
        ("https://169.254.169.254/latest", "ADDRESS_NOT_ALLOWED"),
        ("https://localhost/x", "ADDRESS_NOT_ALLOWED"),
    ]:
        error = await rpc_error(
            strict.CreateWebhook(pb.CreateWebhookRequest(url=url), metadata=bearer())
        )
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_URL_NOT_ALLOWED")
        assert violations(error) == [("url", rule)], url


async def test_a_create_batch_with_a_forbidden_webhook_url_creates_nothing(
    strict: Stub, sandbox: object
) -> None:
    """CreateBatch naming a loopback webhook_url, and CreateTranscription an http one, fail on
    `webhook_url` before anything is sent upstream."""
    request = pb.CreateBatchRequest(
        info={}, audio_sources=[source(1)], webhook_url="https://127.0.0.1/hook"
    )
    error = await rpc_error(strict.CreateBatch(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_URL_NOT_ALLOWED")
    assert violations(error) == [("webhook_url", "ADDRESS_NOT_ALLOWED")]
    single = pb.CreateTranscriptionRequest(
        audio_url="https://example.com/a.mp3", webhook_url="http://hooks.example.com/x"
    )
    error = await rpc_error(strict.CreateTranscription(single, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_URL_NOT_ALLOWED")
    assert violations(error) == [("webhook_url", "URL_NOT_HTTPS")]
    assert await upstream_total(sandbox) == 0  # type: ignore[arg-type]


async def test_an_endpoint_is_registered_once_per_request_id_and_listed_without_secret(
    stub: Stub,
) -> None:
    """CreateWebhook answers an id and a whsec_ secret; a retry with its request_id answers the
    same ones; the same request_id for another URL is ALREADY_EXISTS; ListWebhooks shows the
    endpoint, never a secret."""
    request = pb.CreateWebhookRequest(
        request_id=REQUEST_ID, url="http://127.0.0.1:9/hook", event_types=["batch.updated"]
    )
    first = await stub.CreateWebhook(request, metadata=bearer())
    again = await stub.CreateWebhook(request, metadata=bearer())
    assert first.secret.startswith("whsec_")
    assert (again.webhook.webhook_id, again.secret) == (first.webhook.webhook_id, first.secret)
    other = pb.CreateWebhookRequest(request_id=REQUEST_ID, url="http://127.0.0.1:10/hook")
    error = await rpc_error(stub.CreateWebhook(other, metadata=bearer()))
    assert_error(error, grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer())
    assert [w.webhook_id for w in listed.webhooks] == [first.webhook.webhook_id]
    assert list(listed.webhooks[0].event_types) == ["batch.updated"]
    assert first.secret not in listed.SerializeToString().decode(errors="replace")


async def test_tenants_do_not_see_each_others_endpoints(stub: Stub) -> None:
    """Another credential's ListWebhooks is empty, and its Delete, Rotate and
    ListWebhookDeliveries of the endpoint are NOT_FOUND (WEBHOOK_NOT_FOUND)."""
    made = await stub.CreateWebhook(
        pb.CreateWebhookRequest(url="http://127.0.0.1:9/hook"), metadata=bearer(TOKEN)
    )
    theirs = bearer(OTHER_TOKEN)
    listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=theirs)
    assert list(listed.webhooks) == []
    endpoint_id = made.webhook.webhook_id
    for call in (
        stub.DeleteWebhook(pb.DeleteWebhookRequest(webhook_id=endpoint_id), metadata=theirs),
        stub.RotateWebhookSecret(
            pb.RotateWebhookSecretRequest(webhook_id=endpoint_id), metadata=theirs
        ),
        stub.ListWebhookDeliveries(
            pb.ListWebhookDeliveriesRequest(webhook_id=endpoint_id), metadata=theirs
        ),
    ):
        assert_error(await rpc_error(call), grpc.StatusCode.NOT_FOUND, "WEBHOOK_NOT_FOUND")


async def test_rotation_answers_a_new_secret_and_deletion_removes_the_endpoint(
    stub: Stub,
) -> None:
    """RotateWebhookSecret answers a new secret and when the old one stops signing (its grace);
    after DeleteWebhook the endpoint is not listed and a second delete is NOT_FOUND."""
    made = await stub.CreateWebhook(
        pb.CreateWebhookRequest(url="http://127.0.0.1:9/hook"), metadata=bearer()
    )
    endpoint_id = made.webhook.webhook_id
    rotated = await stub.RotateWebhookSecret(
        pb.RotateWebhookSecretRequest(webhook_id=endpoint_id, grace_seconds=60), metadata=bearer()
    )
    assert rotated.secret.startswith("whsec_")
    assert rotated.secret != made.secret
    grace = rotated.webhook.previous_secret_expire_time.seconds
    assert grace - made.webhook.create_time.seconds in range(59, 62)
    await stub.DeleteWebhook(pb.DeleteWebhookRequest(webhook_id=endpoint_id), metadata=bearer())
    listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer())
    assert list(listed.webhooks) == []
    error = await rpc_error(
        stub.DeleteWebhook(pb.DeleteWebhookRequest(webhook_id=endpoint_id), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.NOT_FOUND, "WEBHOOK_NOT_FOUND")


async def test_a_batch_named_webhook_url_answers_its_endpoint_the_same_on_a_replay(
    stub: Stub,
) -> None:
    """CreateBatch with webhook_url answers a batch-scoped endpoint's id and secret; a replay
    with the same request_id answers the same batch, id and secret."""
    request = pb.CreateBatchRequest(
        request_id=REQUEST_ID,
        info={},
        audio_sources=[source(1)],
        webhook_url="http://127.0.0.1:9/hook",
    )
    first = await stub.CreateBatch(request, metadata=bearer())
    again = await stub.CreateBatch(request, metadata=bearer())
    assert first.webhook_secret.startswith("whsec_")
    assert (again.batch_id, again.webhook_id, again.webhook_secret) == (
        first.batch_id,
        first.webhook_id,
        first.webhook_secret,
    )
    listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer())
    assert [(w.webhook_id, w.batch_id) for w in listed.webhooks] == [
        (first.webhook_id, first.batch_id)
    ]


async def test_with_redis_down_the_webhook_rpcs_answer_unavailable(
    gateway_config: GatewayConfig, redis_server: RedisServer, key_secret: str
) -> None:
    """With --redis-url, endpoints are on Redis; while it cannot be reached, CreateWebhook and
    ListWebhooks answer UNAVAILABLE, reason WEBHOOK_STORE_UNAVAILABLE, and they work again once
    it answers (the test's Redis keeps nothing across a restart: the list starts empty)."""
    config = dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        webhook_allow_http=True,
        webhook_allow_private_addresses=True,
    )
    async with Gateway(config) as running, grpc.aio.insecure_channel(running.address) as ch:
        stub = Stub(ch)
        await stub.CreateWebhook(
            pb.CreateWebhookRequest(url="http://127.0.0.1:9/hook"), metadata=bearer()
        )
        redis_server.stop()
        for call in (
            stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer()),
            stub.CreateWebhook(
                pb.CreateWebhookRequest(url="http://127.0.0.1:9/x"), metadata=bearer()
            ),
        ):
            error = await rpc_error(call)
            assert_error(error, grpc.StatusCode.UNAVAILABLE, "WEBHOOK_STORE_UNAVAILABLE")
        redis_server.start()
        made = await stub.CreateWebhook(
            pb.CreateWebhookRequest(url="http://127.0.0.1:9/hook"), metadata=bearer()
        )
        listed = await stub.ListWebhooks(pb.ListWebhooksRequest(), metadata=bearer())
        assert [w.webhook_id for w in listed.webhooks] == [made.webhook.webhook_id]
