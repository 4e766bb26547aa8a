"""The rules of the webhook RPCs' requests, all violations at once with their field paths."""

from __future__ import annotations

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import validation
from gateway.events.model import WEBHOOK_TYPE_NAMES
from gateway.validation.webhooks import EVENT_TYPE_NAMES


def fields(request: object) -> list[tuple[str, str]]:
    return [(v.field, v.reason.value) for v in validation.validate(request)]  # type: ignore[arg-type]


def test_the_event_type_names_are_the_event_logs() -> None:
    """The names CreateWebhook accepts are exactly the names payloads carry."""
    assert sorted(EVENT_TYPE_NAMES) == sorted(WEBHOOK_TYPE_NAMES.values())


def test_create_webhook_names_every_broken_field() -> None:
    """A bad request_id, a URL that is not one, an unknown and a repeated event type are each
    reported on their own field path."""
    request = pb.CreateWebhookRequest(
        request_id="nope",
        url="not a url",
        event_types=["batch.updated", "batch.exploded", "batch.updated"],
    )
    assert fields(request) == [
        ("request_id", "INVALID_UUID"),
        ("url", "INVALID_URL"),
        ("event_types[1]", "UNKNOWN_ENUM_VALUE"),
        ("event_types[2]", "DUPLICATE"),
    ]
    assert fields(pb.CreateWebhookRequest(url="https://hooks.example.com/x")) == []
    assert fields(pb.CreateWebhookRequest()) == [("url", "REQUIRED")]


def test_webhook_ids_and_the_grace_period_are_checked() -> None:
    """Delete, rotate and list-deliveries need a UUID webhook_id; a grace past 7 days is out of
    range."""
    assert fields(pb.DeleteWebhookRequest()) == [("webhook_id", "REQUIRED")]
    assert fields(pb.ListWebhookDeliveriesRequest(webhook_id="x")) == [
        ("webhook_id", "INVALID_UUID")
    ]
    rotate = pb.RotateWebhookSecretRequest(
        webhook_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890", grace_seconds=8 * 86400
    )
    assert fields(rotate) == [("grace_seconds", "OUT_OF_RANGE")]


def test_a_create_batchs_webhook_url_must_be_a_url() -> None:
    """CreateBatchRequest.webhook_url and CreateTranscriptionRequest.webhook_url, when given,
    are checked as URLs on their own path."""
    request = pb.CreateBatchRequest(
        info={"title": "t"}, audio_sources=[{"audio_url": "https://a.example/x.mp3"}],
        webhook_url="ftp://x",
    )  # fmt: skip
    assert ("webhook_url", "INVALID_URL") in fields(request)
    single = pb.CreateTranscriptionRequest(
        audio_url="https://a.example/x.mp3", webhook_url="not a url"
    )
    assert fields(single) == [("webhook_url", "INVALID_URL")]
