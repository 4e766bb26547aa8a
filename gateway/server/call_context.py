"""What one call needs from the protocol that carries it: the seam between the gateway's RPC
logic and grpc.aio.

The frame (gateway.server.frame) and the servicer (gateway.server.servicer) see a call's
transport only through `CallContext`: its request metadata, its deadline, the client
certificate its TLS handshake verified, and the three ways to answer (initial metadata before
the first message, trailing metadata, an error that ends the call). gRPC's implementation is
gateway.server.grpc_adapter; a second protocol (Connect, say) serves the same servicer methods
with one of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NoReturn, Protocol

from google.protobuf.message import Message

from gateway.contract.errors import GatewayError

Metadata = Sequence[tuple[str, str]]
"""Metadata the gateway sends: (key, value) pairs, ASCII values."""


class CallContext(Protocol):
    """One call's transport, as the frame and the servicer use it."""

    @property
    def protocol(self) -> str:
        """The protocol that carries the call ("grpc", "connect", "grpc-web"), named in its
        summary line, its metrics and its span."""
        ...

    def metadata(self) -> Iterable[tuple[str, str | bytes]]:
        """The request's metadata (HTTP headers) as (key, value) pairs, in the order sent
        (bytes for binary `-bin` keys)."""
        ...

    def time_remaining(self) -> float | None:
        """Seconds left until the caller's deadline (negative once past it); None: the caller
        set no deadline."""
        ...

    def peer_certificate_subject(self) -> str | None:
        """The subject of the client certificate the TLS handshake verified ("" when it names
        none); None when no client certificate was verified (plaintext, or TLS without one)."""
        ...

    def encode(self, message: Message | bytes) -> bytes:
        """`message` as this protocol sends it (bytes already encoded pass as they are): the
        frame encodes every answer itself, once, so that it can refuse one too large to send
        with its own error, line and count."""
        ...

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        """Send the response's initial metadata now (it commits the call: an error after it
        can no longer go out trailers-only)."""
        ...

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        """Metadata for the trailers when the call ends without an error."""
        ...

    async def abort(self, error: GatewayError, trailing: Metadata = ()) -> NoReturn:
        """End the call with `error` (its code, message and details) and `trailing` metadata
        beside them. Raises: nothing after it runs in the call."""
        ...
