"""Reading request inputs: JSON bodies and UUID path parameters, with a 422 for bad ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from sofer_sandbox.errors import schema_error
from sofer_sandbox.fields import parse_uuid

MAX_BODY_BYTES = 10 * 1024 * 1024


async def json_object(request: Request) -> Mapping[str, Any]:
    """The request body as a JSON object, or a 422 (not JSON, not an object, too large)."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise schema_error(("body",), "Body too large", "too_large")
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
