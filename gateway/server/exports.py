"""GetTranscription and ExportTranscription: a transcript read through the shared cache, and
rendered as a file.

Both read the transcript through gateway.watch.transcript_cache (the cache StreamBatchTranscripts
fills): a completed transcript is fetched from the upstream once per (credential, transcription,
word filter) while it is kept, so a client exporting one transcript in N formats, or reading it
and then exporting it, costs the upstream one GET. A transcription not completed yet is fetched
again each time (it will change). The cache keeps the StreamBatchTranscriptsResponse it makes of
a transcript, serialized; the `Transcription` is parsed back from it, and the file rendered,
off the event loop: for a transcript of hundreds of thousands of words either takes seconds,
which other calls must not wait for (the threads yield the GIL).
"""

from __future__ import annotations

import asyncio

import grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway import captions
from gateway.contract import mapping
from gateway.contract.errors import GatewayError, Reason
from gateway.server.frame import Call
from gateway.watch.transcript_cache import TranscriptCache
from gateway.watch.transcripts import completed_message


def caption_options(request: pb.ExportTranscriptionRequest) -> captions.CaptionOptions:
    """The request's `caption_options` over today's rules (validation checked their ranges)."""
    given = request.caption_options
    default = captions.DEFAULT_OPTIONS
    return captions.CaptionOptions(
        line_chars=(
            given.max_line_characters
            if given.HasField("max_line_characters")
            else default.line_chars
        ),
        cue_seconds=(
            given.max_cue_seconds if given.HasField("max_cue_seconds") else default.cue_seconds
        ),
        speaker_labels=(
            given.speaker_labels if given.HasField("speaker_labels") else default.speaker_labels
        ),
    )


async def _cached(
    cache: TranscriptCache, call: Call, transcription_id: str, word_filter: int
) -> bytes:
    """The serialized StreamBatchTranscriptsResponse of the transcript (see the module)."""
    call.note(transcription_id=transcription_id)
    call.not_found = Reason.TRANSCRIPTION_NOT_FOUND
    fetches = cache.fetches
    data = await cache.message(
        call.credential,
        transcription_id,
        mapping.filter_param(word_filter),
        completed_message,
        request_id=call.request_id,
        deadline=call.options.deadline,
    )
    if cache.fetches == fetches:
        call.note(transcript_cached="true")  # kept, or fetched by a call in flight
    return data


def _transcription(data: bytes) -> batch_pb2.Transcription:
    transcription: batch_pb2.Transcription = pb.StreamBatchTranscriptsResponse.FromString(
        data
    ).transcription
    return transcription


async def get_transcription(
    cache: TranscriptCache, call: Call, request: pb.GetTranscriptionRequest
) -> pb.GetTranscriptionResponse:
    """GetTranscription: the transcript as the cache has it."""
    data = await _cached(cache, call, request.transcription_id, request.filter_hebrew_word_format)
    transcription = await asyncio.to_thread(_transcription, data)
    return pb.GetTranscriptionResponse(transcription=transcription)


async def export_transcription(
    cache: TranscriptCache, call: Call, request: pb.ExportTranscriptionRequest
) -> pb.ExportTranscriptionResponse:
    """ExportTranscription: the transcript as the cache has it, rendered in the asked format
    with the asked caption options; FAILED_PRECONDITION (TRANSCRIPT_NOT_TIMED) for captions of
    a transcript that cannot be timed."""
    file_format = captions.for_export_format(request.format)
    assert file_format is not None  # validation refuses UNSPECIFIED and unknown formats
    options = caption_options(request)
    data = await _cached(cache, call, request.transcription_id, request.filter_hebrew_word_format)

    def render() -> tuple[batch_pb2.Transcription, captions.Rendered]:
        transcription = _transcription(data)
        return transcription, file_format.render(transcription, options)

    try:
        transcription, rendered = await asyncio.to_thread(render)
    except captions.NotTimed as exc:
        raise GatewayError(
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.TRANSCRIPT_NOT_TIMED,
            f"cannot export transcription {request.transcription_id} as"
            f" {file_format.extension}: {exc}; EXPORT_FORMAT_TEXT needs no timestamps",
            metadata={"transcription_id": request.transcription_id},
        ) from exc
    call.note(cue_count=str(rendered.cue_count))
    return pb.ExportTranscriptionResponse(
        content=rendered.content,
        binary_content=rendered.binary,
        media_type=file_format.media_type,
        file_extension=file_format.extension,
        info=transcription.info,
        cue_count=rendered.cue_count,
    )
