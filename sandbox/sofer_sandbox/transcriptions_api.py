"""Transcription endpoints: create one, list them, status, the transcript itself, and the API's
health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.batches import Work
from sofer_sandbox.billing import SINGLE, Funds
from sofer_sandbox.errors import ApiError, bad_request, not_found
from sofer_sandbox.inputs import json_object, path_uuid
from sofer_sandbox.runtime import runtime_of
from sofer_sandbox.singles import body_limit, build_single, parse_single
from sofer_sandbox.state import Transcription
from sofer_sandbox.timeline import COMPLETED, FAILED, item_status
from sofer_sandbox.transcripts import render, visible_formats
from sofer_sandbox.views import transcription_info

FILTERS = ("en", "he", "hybrid")


async def create_transcription(request: Request) -> JSONResponse:
    """POST /v1/transcriptions/: answers the new id (a JSON string). A caller-chosen `info.id`
    that any transcription already has is a 409 and changes nothing (the spec is silent)."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    max_file = runtime.config.max_audio_file_bytes
    body = parse_single(await json_object(request, body_limit(max_file)), max_file)
    if body.transcription_id is not None and runtime.store.transcription_exists(
        body.transcription_id
    ):
        raise ApiError(409, f"Transcription {body.transcription_id} already exists")
    config = runtime.config
    work = Work(
        SINGLE, body.info.model or "v1", runtime.now(), config.item_seconds, config.wall_clock()
    )
    item = build_single(body, work, Funds(tenant.available_cents()))
    tenant.add_transcription(item)
    runtime.stats.created("transcriptions")
    return JSONResponse(item.id)


async def list_transcriptions(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/: every transcription of the caller (batch items and singles),
    newest first, as TranscriptionSummary; unpaged, as the spec has it."""
    tenant = tenant_of(request)
    now = runtime_of(request).now()
    return JSONResponse(
        [
            {"id": t.id, "title": t.title, "status": item_status(t.plan, now)}
            for t in reversed(tenant.transcriptions.values())
        ]
    )


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
