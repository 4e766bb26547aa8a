"""Credentials: which bearer token a call spends, and the tenant key that scopes shared state."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import grpc

from gateway.rpc_errors import GatewayError, Reason

_SCHEME = "bearer"
_MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Credential:
    """The token a call is made with, and where it came from. `repr` never shows the token."""

    token: str = field(repr=False)
    source: Literal["caller", "configured"]

    @property
    def tenant(self) -> str:
        """A stable, non-reversible key for this credential: keys caches and pollers, never logs."""
        return hashlib.sha256(self.token.encode()).hexdigest()[:32]


def resolve_credential(
    metadata: Iterable[tuple[str, str | bytes]] | None, configured_key: str | None
) -> Credential:
    """The caller's `authorization: Bearer <token>`, else the configured key.

    Raises GatewayError(UNAUTHENTICATED) when neither is there, or when the caller sent an
    authorization header that is not a bearer token: a malformed credential is refused rather
    than silently replaced by the gateway's own key. The header's value is never echoed.
    """
    header: str | None = None
    for key, value in metadata or ():
        if key.lower() == "authorization":
            header = value.decode(errors="replace") if isinstance(value, bytes) else value
            break
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != _SCHEME or not token:
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED,
                Reason.CREDENTIALS_MALFORMED,
                "the authorization metadata must be 'Bearer <token>'",
            )
        if len(token) > _MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED,
                Reason.CREDENTIALS_MALFORMED,
                f"the bearer token must be one word of at most {_MAX_TOKEN_LENGTH} characters",
            )
        return Credential(token, "caller")
    if configured_key:
        return Credential(configured_key, "configured")
    raise GatewayError(
        grpc.StatusCode.UNAUTHENTICATED,
        Reason.CREDENTIALS_MISSING,
        "no credentials: send 'authorization: Bearer <token>' metadata "
        "(this gateway has no key of its own configured)",
    )
