"""The answers of a create with a request_id when the shared idempotency store (Redis,
gateway.state.idempotency_redis) cannot keep or tell its record: each says what the caller
can do, and none ever leads to a second upstream POST for the request_id."""

from __future__ import annotations

import grpc

from gateway.contract.errors import GatewayError, Reason

RETRY_AFTER = 1.0
"""Seconds a caller is told to wait (the store's heartbeat: how soon it notices Redis is back,
or puts a lost record back)."""


def store_unavailable(rpc: str, request_id: str, *, following: bool = False) -> GatewayError:
    """UNAVAILABLE, IDEMPOTENCY_STORE_UNAVAILABLE: Redis cannot be reached, so the gateway
    cannot keep its promise of one upstream create per request_id."""
    if following:
        what = (
            f"stopped answering while the {rpc} with request_id {request_id} was in flight on "
            "another gateway: retry with the same request_id to get its outcome"
        )
    else:
        what = (
            f"cannot be reached, so the {rpc} with request_id {request_id} was not sent "
            "(it could make a duplicate): retry with the same request_id"
        )
    return GatewayError(
        grpc.StatusCode.UNAVAILABLE,
        Reason.IDEMPOTENCY_STORE_UNAVAILABLE,
        f"the idempotency store (Redis) {what}",
        {"request_id": request_id},
        retry_after=RETRY_AFTER,
    )


def record_vanished(rpc: str, request_id: str) -> GatewayError:
    """UNAVAILABLE, OUTCOME_UNKNOWN: the record of a create in flight on another gateway is
    gone from Redis (emptied, or restarted without its data); the create may have been sent."""
    return GatewayError(
        grpc.StatusCode.UNAVAILABLE,
        Reason.OUTCOME_UNKNOWN,
        f"the record of the {rpc} with request_id {request_id}, in flight on another gateway, "
        "vanished from the idempotency store (Redis): the create may have been sent. Retry with "
        "the same request_id to get its outcome once that gateway has recorded it again, or "
        "check before creating again",
        {"request_id": request_id},
        retry_after=RETRY_AFTER,
    )


def record_unreadable(rpc: str, request_id: str) -> GatewayError:
    """UNAVAILABLE, OUTCOME_UNKNOWN: the record of this request_id cannot be read."""
    return GatewayError(
        grpc.StatusCode.UNAVAILABLE,
        Reason.OUTCOME_UNKNOWN,
        f"the record of the {rpc} with request_id {request_id} in the idempotency store (Redis) "
        "cannot be read, so whether it was sent is unknown: check before creating again (with "
        "a new request_id), or retry once the record has expired",
        {"request_id": request_id},
    )
