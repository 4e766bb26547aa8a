"""Request ids derived from a caller's own ids: one batch per call id, however often it is sent."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("3505cb90-fa0f-5dce-94ff-dae11379cdb9")
"""The default namespace of `request_id_for`, uuid5(NAMESPACE_URL,
"https://sofer.ai/gateway/request-id"): fixed, so that the same caller id gives the same request
id in every process and every release."""


def request_id_for(caller_id: str, namespace: uuid.UUID = NAMESPACE) -> str:
    """A `request_id` (a UUID, as the creates require) that is a function of `caller_id`: the
    UUID version 5 (SHA-1, RFC 9562) of `caller_id` in `namespace`.

    The telephony pattern: a service that creates one batch per call names it by the call's id;
    every retry, from any replica and after any restart, sends the same `request_id`, and the
    gateway answers all of them with the first outcome (one batch, never two). Give each
    application its own `namespace` (`uuid.uuid4()` once, kept in its configuration) when two of
    them could use the same ids for different things.
    """
    return str(uuid.uuid5(namespace, caller_id))
