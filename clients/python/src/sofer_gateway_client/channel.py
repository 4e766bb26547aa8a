"""Channels to the gateway (sync `grpc` and `grpc.aio`) with the retry service config and the
keepalive and reconnect options every caller wants."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import grpc

from sofer_gateway_client.errors import AioErrorInterceptor, ErrorInterceptor

SERVICE = "sofer.batch.v1.BatchTranscriptionService"

READS = (
    "GetBatchStatus",
    "GetBatchItem",
    "GetTranscription",
    "GetTranscriptionStatus",
    "GetManifest",
    "ListManifests",
    "ExportTranscription",
    # --- money ---
    "GetBalance",
    "EstimateCost",
    "ListTranscriptions",
    "ExtractLink",
    "ListSupportedSites",
)
"""The unary reads: always safe to retry (ExtractLink too: link extraction changes nothing)."""

CREATES = (
    "CreateBatch",
    "UploadManifest",
    "CreateManifestFromRss",
    "CreateTranscription",
    "UploadTranscription",
)
"""The creates: safe to retry ONLY because each carries a `request_id`, which stays the same
across attempts (gRPC's retries resend the very same message), and the gateway answers a
repeated `request_id` with the first outcome, never a second batch or transcription. Never
send a create without a `request_id` on this channel. (gRPC retries the client stream of
UploadTranscription only while what it sent fits its per-call retry buffer, 256 KiB by
default: a larger file's failed upload is not retried, and the caller sends it again.)"""

RETRY_UNAVAILABLE: dict[str, Any] = {
    # gRPC's own retries: at most 5 attempts, backoff 0.2 s doubling to 5 s, UNAVAILABLE only
    # (never DEADLINE_EXCEEDED or another code, whose outcome a retry could duplicate).
    "maxAttempts": 5,
    "initialBackoff": "0.2s",
    "maxBackoff": "5s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}

SERVICE_CONFIG: dict[str, Any] = {
    "methodConfig": [
        {
            "name": [{"service": SERVICE, "method": m} for m in methods],
            "retryPolicy": RETRY_UNAVAILABLE,
        }
        for methods in (READS, CREATES)
    ]
}
"""The README's service config. It does not cover WatchBatchStatus once its first message has
arrived: `watch_batch` / `watch_batch_async` reopen the stream."""

# The channel reconnects by itself with backoff; by default that backoff grows to 120 s, so a
# watch reconnecting to a restarted gateway could keep failing fast for minutes after it is back.
# Capped near the watch's own backoff (sofer_gateway_client.watch), the channel is ready again
# within seconds. Keepalive pings notice a connection that died without a FIN (a lost network)
# during a quiet watch, so it ends UNAVAILABLE and is reconnected instead of hanging; the gateway
# accepts client pings down to every 10 s, and a watch sends no data after its request, hence no
# limit on pings without data.
CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
)
"""The options of `channel` and `aio_channel`: keepalive, reconnect backoff, service config."""


def channel_options(options: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """`CHANNEL_OPTIONS` with `options` added (a key given again overrides it)."""
    return list(dict([*CHANNEL_OPTIONS, *options]).items())


def channel(
    target: str,
    credentials: grpc.ChannelCredentials | None = None,
    *,
    options: Sequence[tuple[str, Any]] = (),
    typed_errors: bool = True,
) -> grpc.Channel:
    """A sync channel to `target` (`host:port`): TLS with `credentials`
    (`grpc.ssl_channel_credentials(...)`), plaintext without. Use it as `with`.

    With `typed_errors`, a blocking unary call that fails raises a `GatewayError` subclass
    instead of `grpc.RpcError` (`ErrorInterceptor`); streams raise `grpc.RpcError`, which
    `from_rpc_error` turns into one (`watch_batch` does it for you).
    """
    merged = channel_options(options)
    if credentials is None:
        raw = grpc.insecure_channel(target, options=merged)
    else:
        raw = grpc.secure_channel(target, credentials, options=merged)
    return grpc.intercept_channel(raw, ErrorInterceptor()) if typed_errors else raw


def aio_channel(
    target: str,
    credentials: grpc.ChannelCredentials | None = None,
    *,
    options: Sequence[tuple[str, Any]] = (),
    typed_errors: bool = True,
) -> grpc.aio.Channel:
    """A `grpc.aio` channel to `target`, as `channel` says. Create it inside the running loop;
    use it as `async with`. With `typed_errors`, an awaited unary call that fails raises a
    `GatewayError` subclass (`AioErrorInterceptor`)."""
    merged = channel_options(options)
    # grpc-stubs types `interceptors` as a placeholder that only a cast satisfies.
    interceptors: Any = [AioErrorInterceptor()] if typed_errors else None
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=merged, interceptors=interceptors)
    return grpc.aio.secure_channel(target, credentials, options=merged, interceptors=interceptors)
