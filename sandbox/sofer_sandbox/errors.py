"""The sandbox's error vocabulary: one exception, translated into a JSON answer in one place.

Two families, as a FastAPI backend (which the real API's shapes suggest) answers them:

- 422 when a request does not match the spec's schema (JSON syntax, types, required fields,
  enums, `uuid` formats): `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`.
- 400 when it is well-formed but breaks a rule (both speaker fields, duplicates, limits, mode):
  `{"detail": "message naming the problem"}`.

401, 404 and 429 answer `{"detail": "message"}` as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Loc = tuple[str | int, ...]


class ApiError(Exception):
    """An HTTP error answer: status, a JSON-able `detail`, and optional extra headers."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail if isinstance(detail, str) else f"HTTP {status}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """A well-formed request that breaks a rule of the API."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """An unknown id, or one that belongs to another tenant (indistinguishable on purpose)."""
    return ApiError(404, message)


def unauthorized() -> ApiError:
    """A missing, malformed or unaccepted bearer token; the token itself is never echoed."""
    return ApiError(
        401,
        "Not authenticated: send 'Authorization: Bearer <api key>' with an accepted key",
        {"WWW-Authenticate": "Bearer"},
    )


class SchemaErrors:
    """Collects schema violations so that one 422 names all of them, FastAPI-style."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Loc, msg: str, kind: str) -> None:
        """Record one violation at `loc` (e.g. ("body", "audio_sources", 0, "audio_url"))."""
        self.items.append({"loc": list(loc), "msg": msg, "type": kind})

    def raise_if_any(self) -> None:
        """Raise the 422 when anything was recorded."""
        if self.items:
            raise ApiError(422, list(self.items))


def schema_error(loc: Loc, msg: str, kind: str) -> ApiError:
    """A single schema violation as a 422."""
    errors = SchemaErrors()
    errors.add(loc, msg, kind)
    return ApiError(422, errors.items)


def error_response(error: ApiError) -> Response:
    """The JSON answer for an ApiError."""
    return JSONResponse({"detail": error.detail}, status_code=error.status, headers=error.headers)


async def handle_api_error(_request: Request, exc: Exception) -> Response:
    """Starlette exception handler for ApiError."""
    if not isinstance(exc, ApiError):  # pragma: no cover - registered for ApiError only
        raise exc
    return error_response(exc)


async def handle_http_exception(_request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method) as JSON, like the rest of the API."""
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        raise exc
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=dict(exc.headers or {})
    )
