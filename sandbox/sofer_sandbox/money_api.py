"""Money endpoints: the caller's balance and audio durations (what work would cost)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.errors import SchemaErrors, not_found
from sofer_sandbox.inputs import json_object
from sofer_sandbox.runtime import runtime_of
from sofer_sandbox.singles import body_limit, parse_audio, pick_audio


async def get_balance(request: Request) -> JSONResponse:
    """GET /v1/balance/: the spec's Balance in cents; a key without an account is a 404 (the
    SDK's UserNotFound)."""
    tenant = tenant_of(request)
    balance = tenant.balance(runtime_of(request).now())
    if balance is None:
        raise not_found("No account for this API key: nothing was ever deposited")
    return JSONResponse(balance)


async def get_duration(request: Request) -> JSONResponse:
    """POST /v1/utils/duration: `audio_url` or a base64 `audio_file` (both or neither is a
    400), answered with the duration the sandbox gives that audio's transcriptions, in
    seconds; 0 when it cannot be determined (an empty file, an audio that fails)."""
    tenant_of(request)
    max_file = runtime_of(request).config.max_audio_file_bytes
    body = await json_object(request, body_limit(max_file))
    errors = SchemaErrors()
    audio_url, data = parse_audio(body, max_file, errors)
    errors.raise_if_any()
    if data == b"" and audio_url is None:
        return JSONResponse({"duration_seconds": 0.0})
    audio = pick_audio(audio_url, data)
    return JSONResponse({"duration_seconds": float(audio.seconds)})
