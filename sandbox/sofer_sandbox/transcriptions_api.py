"""Transcription endpoints: status, the transcript itself, and the API's health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.errors import bad_request, not_found
from sofer_sandbox.inputs import path_uuid
from sofer_sandbox.runtime import runtime_of
from sofer_sandbox.state import Transcription
from sofer_sandbox.timeline import COMPLETED, FAILED
from sofer_sandbox.transcripts import render, visible_formats
from sofer_sandbox.views import transcription_info

FILTERS = ("en", "he", "hybrid")


def _transcription(request: Request) -> Transcription:
    tenant = tenant_of(request)
    transcription_id = path_uuid(request, "transcription_id")
    item = tenant.transcriptions.get(transcription_id)
    if item is None:
        raise not_found(f"Transcription {transcription_id} not found")
    return item


async def get_transcription_status(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/{transcription_id}/status."""
    item = _transcription(request)
    return JSONResponse(transcription_info(item, runtime_of(request).now()))


async def get_transcription(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/{transcription_id}[?filter_hebrew_word_format=en|he|hybrid].

    Not finished yet: 200 with empty `text`, `timestamps: null` and the current `info.status`.
    FAILED: 400 (the SDK's `TranscriptionFailed` is a 400).
    """
    item = _transcription(request)
    filter_format = request.query_params.get("filter_hebrew_word_format") or None
    if filter_format is not None and filter_format not in FILTERS:
        raise bad_request(
            f"filter_hebrew_word_format must be one of en, he, hybrid; got {filter_format!r}"
        )
    info = transcription_info(item, runtime_of(request).now())
    if info["status"] == FAILED:
        raise bad_request(f"Transcription {item.id} failed: the audio could not be transcribed")
    if info["status"] != COMPLETED:
        return JSONResponse({"text": "", "timestamps": None, "info": info})
    formats = visible_formats(item.hebrew_word_format, item.primary_language, filter_format)
    text, timestamps = render(item.audio.key, item.primary_language, item.num_speakers, formats)
    return JSONResponse({"text": text, "timestamps": timestamps, "info": info})


async def health(_request: Request) -> JSONResponse:
    """GET /v1/health/ (no authentication)."""
    return JSONResponse({"status": "ok"})
