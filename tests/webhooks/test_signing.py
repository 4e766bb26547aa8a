"""Webhook signatures as the Standard Webhooks specification has them, checked by its own
implementation (the `standardwebhooks` package)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from gateway.webhooks import signing

BODY = b'{"type":"batch.updated","data":{}}'


def test_a_delivery_signed_by_the_gateway_verifies_with_the_reference_implementation() -> None:
    """A receiver using the standardwebhooks package accepts the gateway's headers and body
    with the endpoint's secret, and refuses them with another secret."""
    secret = signing.new_secret()
    headers = signing.headers((secret,), "msg_1", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) == {"type": "batch.updated", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_during_a_rotation_both_secrets_verify_a_delivery() -> None:
    """With a rotated secret's grace period running, `webhook-signature` carries one signature
    per secret: a receiver with either the old or the new secret accepts the delivery."""
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers((new, old), "msg_2", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_the_signature_is_the_reference_implementations_to_the_byte() -> None:
    """The gateway's `v1,` signature equals the one standardwebhooks computes for the same id,
    timestamp and body."""
    secret = signing.new_secret()
    stamp = 1_700_000_000
    expected = Webhook(secret).sign("msg_3", datetime.fromtimestamp(stamp, UTC), BODY)
    assert signing.signature(secret, "msg_3", stamp, BODY) == expected


def test_the_listener_refuses_tampered_stale_or_unsigned_deliveries() -> None:
    """`verify` (used by `webhooks listen`) accepts a genuine delivery and names what is wrong
    with a changed body, a timestamp past the 5-minute tolerance, or missing headers."""
    secret, now = signing.new_secret(), 1_700_000_000.0
    headers = signing.headers((secret,), "msg_4", int(now), BODY)
    assert signing.verify(secret, headers, BODY, now=now) == "msg_4"
    with pytest.raises(signing.InvalidSignature, match="no signature matches"):
        signing.verify(secret, headers, BODY + b" ", now=now)
    with pytest.raises(signing.InvalidSignature, match="300 s off"):
        signing.verify(secret, headers, BODY, now=now + 301)
    with pytest.raises(signing.InvalidSignature, match="missing"):
        signing.verify(secret, {}, BODY, now=now)


def test_a_secret_that_is_not_whsec_base64_is_refused() -> None:
    """A secret without the whsec_ prefix, or whose rest is not base64, is a ValueError."""
    for bad in ("abc", "whsec_!!!", "whsec_"):
        with pytest.raises(ValueError, match="webhook secret"):
            signing.key_of(bad)
