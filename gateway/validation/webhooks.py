"""The rules of the webhook RPCs' requests (CreateWebhook, ...); see their proto comments.

Only what needs no I/O: a URL's form and an event type's name. The scheme and the addresses a
URL's host resolves to depend on the gateway's flags and on DNS: gateway.webhooks.addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.validation.rules import Reason, Violation, Violations, _url, _uuid

EVENT_TYPE_NAMES = ("batch.updated", "transcription.updated", "transcription.completed")
"""gateway.events.model.WEBHOOK_TYPE_NAMES's values (a test keeps the two equal)."""
MAX_GRACE_SECONDS = 7 * 24 * 3600


def validate_create_webhook(request: pb.CreateWebhookRequest) -> Violations:
    out: Violations = []
    _uuid(out, "request_id", request.request_id, required=False)
    _url(out, "url", request.url)
    seen: set[str] = set()
    for i, name in enumerate(request.event_types[: len(EVENT_TYPE_NAMES) + 1]):
        path = f"event_types[{i}]"
        if name not in EVENT_TYPE_NAMES:
            out.append(
                Violation(
                    path, Reason.UNKNOWN_ENUM_VALUE, "must be one of " + ", ".join(EVENT_TYPE_NAMES)
                )
            )
        elif name in seen:
            out.append(Violation(path, Reason.DUPLICATE, "is named twice"))
        seen.add(name)
    return out


def validate_list_webhooks(request: pb.ListWebhooksRequest) -> Violations:
    return []


def _webhook_id(request: Any) -> Violations:
    out: Violations = []
    _uuid(out, "webhook_id", request.webhook_id, required=True)
    return out


def validate_rotate_webhook_secret(request: pb.RotateWebhookSecretRequest) -> Violations:
    out = _webhook_id(request)
    if request.HasField("grace_seconds") and not 0 <= request.grace_seconds <= MAX_GRACE_SECONDS:
        out.append(
            Violation(
                "grace_seconds", Reason.OUT_OF_RANGE, f"must be 0 to {MAX_GRACE_SECONDS} seconds"
            )
        )
    return out


VALIDATORS: Mapping[str, Callable[[Any], Violations]] = {
    "sofer.batch.v1.CreateWebhookRequest": validate_create_webhook,
    "sofer.batch.v1.ListWebhooksRequest": validate_list_webhooks,
    "sofer.batch.v1.DeleteWebhookRequest": _webhook_id,
    "sofer.batch.v1.RotateWebhookSecretRequest": validate_rotate_webhook_secret,
    "sofer.batch.v1.ListWebhookDeliveriesRequest": _webhook_id,
}
