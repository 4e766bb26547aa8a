"""Reading request inputs: JSON bodies and UUID path parameters, with a 422 for bad ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from sofer_sandbox.errors import schema_error
from sofer_sandbox.fields import parse_uuid

MAX_BODY_BYTES = 10 * 1024 * 1024


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, read no further than `max_bytes` (a declared or actual larger body is
    a 422 before the rest of it is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise schema_error(("body",), f"Body too large (at most {max_bytes} bytes)", "too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise schema_error(
                ("body",), f"Body too large (at most {max_bytes} bytes)", "too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Mapping[str, Any]:
    """The request body as a JSON object, or a 422 (not JSON, not an object, too large)."""
    raw = await read_body(request, max_bytes)
    try:
        value = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise schema_error(("body",), f"JSON decode error: {exc}", "json_invalid") from exc
    if value is None:
        raise schema_error(("body",), "Field required", "missing")
    if not isinstance(value, dict):
        raise schema_error(("body",), "Input should be a valid object", "model_type")
    return value


def path_uuid(request: Request, name: str) -> str:
    """A path parameter typed `format: uuid`, canonical, or a 422."""
    parsed = parse_uuid(request.path_params[name])
    if parsed is None:
        raise schema_error(("path", name), "Input should be a valid UUID", "uuid_parsing")
    return parsed
