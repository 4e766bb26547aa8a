"""Bearer-token authentication: each accepted token is a tenant of its own."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from sofer_sandbox.errors import unauthorized
from sofer_sandbox.runtime import Runtime, runtime_of
from sofer_sandbox.state import Tenant


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (raw ASGI headers), if any."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def authenticate(runtime: Runtime, token: str | None) -> Tenant:
    """The caller's tenant, or a 401 (missing token, or one `api_keys` does not list)."""
    keys = runtime.config.api_keys
    if token is None or (keys and token not in keys):
        raise unauthorized()
    return runtime.store.tenant(token)


def tenant_of(request: Request) -> Tenant:
    """The tenant of the request's bearer token, or a 401."""
    return authenticate(runtime_of(request), bearer_token(request.scope["headers"]))
