"""Single transcriptions (POST /v1/transcriptions/): the request, its rules, the new item.

The audio comes as `audio_url` or as a base64 `audio_file` (exactly one; both or neither is a
400). `info` is a TranscriptionRequestInfo: the batch settings plus an optional caller-chosen
`id` (a UUID) and a `title` (default "Untitled"). Schema violations, a bad base64 and a file
over SandboxConfig.max_audio_file_bytes are 422s naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sofer_sandbox.audio import Audio, decode_audio_file, file_audio, url_audio
from sofer_sandbox.batches import (
    Work,
    default_formats,
    effective_speakers,
    plan_and_cost,
    speaker_count,
)
from sofer_sandbox.billing import Funds
from sofer_sandbox.errors import Loc, SchemaErrors, bad_request
from sofer_sandbox.fields import opt_str, opt_uuid
from sofer_sandbox.state import Transcription, new_id, utc_now_iso
from sofer_sandbox.validation import (
    AudioSource,
    BatchInfo,
    Speakers,
    audio_source_problems,
    check_info,
    parse_info,
)

DEFAULT_TITLE = "Untitled"
# Room in a create body for `info` and the JSON around a base64 file at its largest.
_BODY_SLACK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SingleRequest:
    """A create-transcription body that matched the schema and its rules."""

    audio: Audio
    info: BatchInfo
    transcription_id: str | None
    title: str | None


def body_limit(max_audio_file_bytes: int) -> int:
    """The largest create body read: a maximal file in base64 plus room for the rest."""
    return 4 * math.ceil(max_audio_file_bytes / 3) + _BODY_SLACK_BYTES


def parse_audio(
    body: Mapping[str, Any], max_file_bytes: int, errors: SchemaErrors
) -> tuple[str | None, bytes | None]:
    """`audio_url` and the decoded `audio_file` as given (None when absent or broken)."""
    loc: Loc = ("body",)
    audio_url = opt_str(body, "audio_url", loc, errors)
    text = opt_str(body, "audio_file", loc, errors)
    data = None
    if text is not None:
        data = decode_audio_file(text, max_file_bytes, (*loc, "audio_file"), errors)
    return audio_url, data


def pick_audio(audio_url: str | None, data: bytes | None) -> Audio:
    """The one audio of a request, or a 400: both or neither given, a URL that is not absolute
    http(s), an empty file."""
    if audio_url is not None and data is not None:
        raise bad_request("give either audio_url or audio_file, not both")
    if data is not None:
        if not data:
            raise bad_request("audio_file is empty")
        return file_audio(data)
    if audio_url is None:
        raise bad_request("give audio_url or audio_file")
    problems = audio_source_problems(AudioSource(audio_url=audio_url))
    if problems:
        raise bad_request(problems[0])
    return url_audio(audio_url)


def parse_single(body: Mapping[str, Any], max_file_bytes: int) -> SingleRequest:
    """A create-transcription body: a 422 naming every schema violation, else a 400 naming the
    first broken rule."""
    errors = SchemaErrors()
    raw_info = body.get("info")
    info = parse_info(raw_info, errors)
    transcription_id = title = None
    if isinstance(raw_info, dict):
        transcription_id = opt_uuid(raw_info, "id", ("body", "info"), errors)
        title = opt_str(raw_info, "title", ("body", "info"), errors)
    audio_url, data = parse_audio(body, max_file_bytes, errors)
    errors.raise_if_any()
    check_info(info)
    return SingleRequest(pick_audio(audio_url, data), info, transcription_id, title)


def build_single(request: SingleRequest, work: Work, funds: Funds) -> Transcription:
    """The new transcription (an item 0 of 1 on the timeline), its cost reserved from `funds`
    or INSUFFICIENT_FUNDS."""
    language = request.info.primary_language or "en"
    speakers = effective_speakers(request.info.speakers, Speakers())
    plan, cents = plan_and_cost(work, request.audio, speakers, funds, 0, 1)
    return Transcription(
        id=request.transcription_id or new_id(),
        batch_id=None,
        audio=request.audio,
        title=request.title or DEFAULT_TITLE,
        client_item_id=None,
        primary_language=language,
        hebrew_word_format=default_formats(request.info, language),
        model=work.model,
        num_speakers=speaker_count(speakers, request.audio),
        created_at=utc_now_iso(work.wall),
        plan=plan,
        cost_cents=cents,
    )
