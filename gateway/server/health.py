"""`--health-listen`: grpc.health.v1 alone, in plaintext, on a port of its own.

The kubelet's gRPC probes speak plaintext and show no client certificate, so they cannot reach a
gRPC port that requires one (`--tls-client-ca`). This second server carries only the gateway's
HealthServicer (the same object, so its statuses, and the NOT_SERVING of a drain, are the
gateway's): no batch service, no reflection, nothing that spends the upstream key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from gateway.config import ConfigError
from gateway.server.decoding import DecodeGuard
from gateway.server.listen import NO_REUSEPORT, bind
from gateway.server.request_message import RequestMessageTimeout

if TYPE_CHECKING:  # grpc-stubs has no grpc_health.v1.health.aio
    HealthServicer: TypeAlias = Any
else:
    HealthServicer = health.aio.HealthServicer
"""grpc.health.v1's asyncio servicer (grpc_health.v1.health.aio, public; the stubs lack it)."""

_OPTIONS = [NO_REUSEPORT]  # a taken health port fails the start (gateway.server.listen)


async def start_health_listener(
    health_servicer: HealthServicer,
    listen: str,
    *,
    request_message_timeout: float = 10.0,
    max_concurrent_streams: int = 1000,
) -> tuple[grpc.aio.Server, int]:
    """Start a plaintext grpc.aio server on `listen` (HOST:PORT; port 0 picks a free one) that
    serves only `health_servicer`; return it and the port it bound.

    The caller stops it (`await server.stop(grace)`) after the main server, so that probes see
    NOT_SERVING for the whole drain. Raises ConfigError naming --health-listen when the address
    is not HOST:PORT or cannot be bound (taken, or an unknown host)."""
    _check_address(listen)
    # The same defences as the main port: a bound on the wait for a request message, garbage
    # bytes answered INVALID_ARGUMENT, and a cap on streams per connection.
    server = grpc.aio.server(
        interceptors=[RequestMessageTimeout(request_message_timeout), DecodeGuard(framed=())],
        options=[*_OPTIONS, ("grpc.max_concurrent_streams", max_concurrent_streams)],
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = bind(server, listen, "--health-listen")
    await server.start()
    return server, port


def _check_address(listen: str) -> None:
    """HOST:PORT with a port of 0 to 65535. gRPC itself reads a missing port as 443 and wraps
    one past 65535 around, so a typo would bind somewhere nobody probes."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(
            f"--health-listen {listen}: expected HOST:PORT with a port from 0 to 65535"
        )
