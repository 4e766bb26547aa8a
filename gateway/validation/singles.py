"""The rules of the single-transcription requests (CreateTranscription, UploadTranscription's
header, WatchTranscription); their proto comments state the same limits. Pure, no I/O."""

from __future__ import annotations

import dataclasses
import re

from sofer.batch.v1 import batch_service_pb2

from gateway.validation.rules import (
    MAX_TITLE_CHARS,
    Reason,
    Violation,
    Violations,
    _info,
    _max_chars,
    _url,
    _uuid,
)

MAX_FILE_NAME_CHARS = MAX_TITLE_CHARS  # the name becomes the title when none is given
MAX_CONTENT_TYPE_CHARS = 128
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
"""`type/subtype` (RFC 6838 names), parameters not accepted: the gateway only logs it."""


def validate_create_transcription(
    request: batch_service_pb2.CreateTranscriptionRequest,
) -> Violations:
    """Every rule of CreateTranscriptionRequest; see its proto comments."""
    out: Violations = []
    _uuid(out, "request_id", request.request_id, required=False)
    _info(out, request.info)
    if request.page_url and request.audio_url:
        out.append(
            Violation(
                "page_url",
                Reason.NOT_ALLOWED,
                "must be empty when audio_url is given (exactly one of the two)",
            )
        )
    elif request.page_url:
        _url(out, "page_url", request.page_url)
    else:
        _url(out, "audio_url", request.audio_url)
    if request.webhook_url:  # --- webhooks ---
        _url(out, "webhook_url", request.webhook_url)
    return out


def validate_upload_transcription(
    request: batch_service_pb2.UploadTranscriptionRequest,
) -> Violations:
    """The rules of an UploadTranscription stream's first message: a `header`, valid."""
    if request.WhichOneof("part") != "header":
        return [Violation("header", Reason.REQUIRED, "the stream's first message must be a header")]
    header = request.header
    out: Violations = []
    _uuid(out, "header.request_id", header.request_id, required=False)
    info: Violations = []
    _info(info, header.info)
    out.extend(dataclasses.replace(v, field=f"header.{v.field}") for v in info)
    _max_chars(out, "header.file_name", header.file_name, MAX_FILE_NAME_CHARS)
    content_type = header.content_type
    if len(content_type) > MAX_CONTENT_TYPE_CHARS:
        _max_chars(out, "header.content_type", content_type, MAX_CONTENT_TYPE_CHARS)
    elif content_type and _MEDIA_TYPE.fullmatch(content_type) is None:
        out.append(
            Violation(
                "header.content_type",
                Reason.NOT_ALLOWED,
                "must be a media type `type/subtype` such as audio/mpeg",
            )
        )
    return out


def validate_watch_transcription(
    request: batch_service_pb2.WatchTranscriptionRequest,
) -> Violations:
    """Every rule of WatchTranscriptionRequest; see its proto comments."""
    out: Violations = []
    _uuid(out, "transcription_id", request.transcription_id, required=True)
    return out
