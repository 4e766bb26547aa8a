"""Standard Webhooks signatures: secrets, the three headers, and their verification.

A secret is `whsec_` + base64 of 24 random bytes; the key is those bytes. A delivery carries
`webhook-id` (the message id), `webhook-timestamp` (Unix seconds) and `webhook-signature`: one
or more space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret
that currently signs (two while a rotated secret's grace period runs), as the specification
(standardwebhooks.com) allows. A receiver accepts a delivery when any one matches and the
timestamp is within its tolerance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
SECRET_BYTES = 24
TOLERANCE_SECONDS = 300
"""How far a delivery's timestamp may be from the receiver's clock (the specification's 5 min)."""


class InvalidSignature(Exception):
    """A delivery whose headers are missing, whose timestamp is out of tolerance, or whose
    signature matches no secret: the message says which."""


def new_secret() -> str:
    """A fresh `whsec_` secret (shown to the caller once, at create or rotate)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def key_of(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for. Raises ValueError for one that is not
    `whsec_` + base64."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the delivery under `secret`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(
    secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers of one delivery, signed with every secret in `secrets_`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float) -> str:
    """Check one delivery (header names in lower case) against `secret` at Unix time `now`;
    its `webhook-id` when it is genuine, else InvalidSignature."""
    message_id = received.get("webhook-id", "")
    stamp = received.get("webhook-timestamp", "")
    signatures = received.get("webhook-signature", "")
    if not (message_id and stamp and signatures):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise InvalidSignature("webhook-timestamp is not a whole number of seconds") from exc
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature(f"webhook-timestamp is more than {TOLERANCE_SECONDS} s off")
    expected = signature(secret, message_id, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, s.encode()) for s in signatures.split(" ")):
        raise InvalidSignature("no signature matches the secret")
    return message_id
