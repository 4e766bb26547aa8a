"""Pure translation between the gRPC contract (sofer.batch.v1) and the upstream's REST shapes.

Requests go proto -> upstream bodies (gateway.upstream.bodies); answers come back upstream
models -> proto messages. Enum values map by name (`LANGUAGE_EN` <-> "en"); an upstream value the
contract does not know yet maps to the enum's UNSPECIFIED value instead of failing the call.
Nothing here does I/O; validation has already run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from google.protobuf import timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway import upstream

_MODE = {
    batch_pb2.PROCESSING_MODE_STANDARD: upstream.ProcessingMode.STANDARD,
    batch_pb2.PROCESSING_MODE_EXPRESS: upstream.ProcessingMode.EXPRESS,
}


def _to_wire(wrapper: EnumTypeWrapper, prefix: str, value: int) -> str:
    """`LANGUAGE_HE` -> "he"; callers pass only validated, specified values."""
    return wrapper.Name(value).removeprefix(prefix).lower()


def _from_wire(wrapper: EnumTypeWrapper, prefix: str, value: object) -> int:
    """ "he" -> `LANGUAGE_HE`; an unknown or missing value -> 0 (UNSPECIFIED)."""
    name = f"{prefix}{str(value).upper()}"
    return wrapper.Value(name) if name in wrapper.DESCRIPTOR.values_by_name else 0


class _FromWire:
    """`_from_wire` for one enum, by one dict look-up for the values the contract knows (the
    upstream's own spellings, lower- and upper-case); anything else goes the long way. Every
    answer maps several enums per item, so this is on the hot path of every read."""

    def __init__(self, wrapper: EnumTypeWrapper, prefix: str) -> None:
        self._wrapper = wrapper
        self._prefix = prefix
        self._known: dict[object, int] = {}
        for name, number in wrapper.items():
            suffix = name.removeprefix(prefix)
            self._known[suffix] = self._known[suffix.lower()] = number

    def __call__(self, value: object) -> int:
        # A plain string or a StrEnum member (str() is the value itself): one look-up.
        fast = type(value) is str or isinstance(value, StrEnum)
        number = self._known.get(value) if fast else None
        return _from_wire(self._wrapper, self._prefix, value) if number is None else number


_LANGUAGE = _FromWire(batch_pb2.Language, "LANGUAGE_")
_WORD_FORMAT = _FromWire(batch_pb2.HebrewWordFormat, "HEBREW_WORD_FORMAT_")
_TRANSCRIPTION_STATE = _FromWire(batch_pb2.TranscriptionState, "TRANSCRIPTION_STATE_")
_BATCH_STATE = _FromWire(batch_pb2.BatchState, "BATCH_STATE_")
_MANIFEST_STATUS = _FromWire(batch_pb2.ManifestStatus, "MANIFEST_STATUS_")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_SECONDS_MIN, _SECONDS_MAX = -62_135_596_800, 253_402_300_799
"""The range of google.protobuf.Timestamp (0001-01-01 to 9999-12-31, UTC)."""


def _set_time(stamp: timestamp_pb2.Timestamp, value: datetime) -> None:
    """`stamp.FromDatetime(value)` (naive means UTC) by datetime arithmetic, with the same
    seconds and nanos: protobuf's own goes through utctimetuple and calendar.timegm, for
    every item of every answer."""
    naive = value.tzinfo is None or value.utcoffset() is None
    delta = value.replace(tzinfo=None) - _NAIVE_EPOCH if naive else value - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    if not _SECONDS_MIN <= seconds <= _SECONDS_MAX:
        stamp.FromDatetime(value)  # out of range: protobuf's own error
        return
    stamp.seconds = seconds
    stamp.nanos = delta.microseconds * 1000


def set_now(stamp: timestamp_pb2.Timestamp) -> None:
    """`stamp.GetCurrentTime()` (microseconds, as protobuf's own), from `time.time_ns`."""
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    stamp.seconds = seconds
    stamp.nanos = nanos // 1000 * 1000


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    _set_time(stamp, value)
    return stamp


# -- requests -------------------------------------------------------------------------------


def _speakers(message: batch_pb2.BatchInfo | batch_pb2.AudioSource) -> dict[str, int | bool]:
    which = message.WhichOneof("speakers")
    if which == "num_speakers":
        return {"num_speakers": message.num_speakers}
    if which == "auto_detect_speakers":
        return {"auto_detect_speakers": message.auto_detect_speakers}
    return {}


def info_body(info: batch_pb2.BatchInfo) -> upstream.BatchTranscriptionRequestInfo:
    """BatchInfo -> the upstream `info` object; unset fields stay unset (upstream defaults)."""
    formats = tuple(
        _to_wire(batch_pb2.HebrewWordFormat, "HEBREW_WORD_FORMAT_", f)
        for f in info.hebrew_word_format
    )
    return upstream.BatchTranscriptionRequestInfo(
        model=info.model or None,
        title=info.title or None,
        primary_language=(
            _to_wire(batch_pb2.Language, "LANGUAGE_", info.primary_language)
            if info.primary_language
            else None
        ),
        hebrew_word_format=formats or None,
        **_speakers(info),  # type: ignore[arg-type]
    )


def audio_source_body(source: batch_pb2.AudioSource) -> upstream.BatchAudioSource:
    """AudioSource -> one upstream `audio_sources` / `json_items` entry."""
    return upstream.BatchAudioSource(
        audio_url=source.audio_url,
        title=source.title or None,
        client_item_id=source.client_item_id or None,
        **_speakers(source),  # type: ignore[arg-type]
    )


def create_batch_body(
    request: batch_service_pb2.CreateBatchRequest, mode: batch_pb2.ProcessingMode
) -> upstream.BatchTranscriptionRequest:
    """CreateBatchRequest (with its given or inferred mode) -> the upstream create-batch body."""
    express = mode == batch_pb2.PROCESSING_MODE_EXPRESS
    return upstream.BatchTranscriptionRequest(
        info=info_body(request.info),
        audio_sources=(
            tuple(audio_source_body(s) for s in request.audio_sources) if express else None
        ),
        batch_file_id=None if express else request.batch_file_id,
        batch_title=request.batch_title or None,
        processing_mode=_MODE[mode],
    )


def _metadata_body(
    metadata: batch_pb2.ManifestMetadata, present: bool
) -> upstream.BatchFileMetadata | None:
    if not present or not (metadata.title or metadata.description):
        return None
    return upstream.BatchFileMetadata(
        title=metadata.title or None, description=metadata.description or None
    )


def upload_manifest_body(
    request: batch_service_pb2.UploadManifestRequest,
) -> upstream.BatchFileUploadRequest:
    """UploadManifestRequest -> the upstream upload body; content_type follows the oneof."""
    metadata = _metadata_body(request.metadata, request.HasField("metadata"))
    if request.WhichOneof("content") == "jsonl":
        return upstream.BatchFileUploadRequest(
            content_type=upstream.BatchFileContentType.JSONL,
            jsonl=request.jsonl,
            metadata=metadata,
        )
    return upstream.BatchFileUploadRequest(
        content_type=upstream.BatchFileContentType.JSON,
        json_items=tuple(audio_source_body(s) for s in request.items.items),
        metadata=metadata,
    )


def rss_body(
    request: batch_service_pb2.CreateManifestFromRssRequest,
) -> upstream.BatchFileCreateFromRssRequest:
    """CreateManifestFromRssRequest -> the upstream from-rss body."""
    return upstream.BatchFileCreateFromRssRequest(
        rss_url=request.rss_url,
        limit=request.limit if request.HasField("limit") else None,
        offset=request.offset if request.HasField("offset") else None,
        metadata=_metadata_body(request.metadata, request.HasField("metadata")),
    )


def filter_param(value: int) -> str | None:
    """The `filter_hebrew_word_format` query value; UNSPECIFIED means no filter."""
    if not value:
        return None
    return _to_wire(batch_pb2.HebrewWordFormat, "HEBREW_WORD_FORMAT_", value)


# -- answers --------------------------------------------------------------------------------


def _fill_info(message: batch_pb2.TranscriptionInfo, info: upstream.TranscriptionInfo) -> None:
    """Set `message`'s fields from `info` in place (no message made and copied)."""
    message.id = info.id
    message.client_item_id = info.client_item_id or ""
    message.title = info.title
    _set_time(message.created_at, info.created_at)
    message.primary_language = _LANGUAGE(info.primary_language)  # type: ignore[assignment]
    message.hebrew_word_format.extend(_WORD_FORMAT(f) for f in info.hebrew_word_format)  # type: ignore[misc]
    message.state = _TRANSCRIPTION_STATE(info.status)  # type: ignore[assignment]
    message.model = info.model or ""
    if info.num_speakers is not None:
        message.num_speakers = info.num_speakers
    if info.duration is not None:
        message.duration = float(info.duration)


def transcription_info(info: upstream.TranscriptionInfo) -> batch_pb2.TranscriptionInfo:
    """Upstream TranscriptionInfo -> proto TranscriptionInfo."""
    message = batch_pb2.TranscriptionInfo()
    _fill_info(message, info)
    return message


def fill_batch_status(status: batch_pb2.BatchStatus, answer: upstream.BatchStatusResponse) -> None:
    """Set an empty `status` from `answer` in place (`batch_status`, for a BatchStatus that is
    a field of the message being answered: built where it lives, never copied into it)."""
    status.batch_id = answer.batch_id
    status.state = _BATCH_STATE(answer.status)  # type: ignore[assignment]
    status.total_count = answer.total_count
    status.completed_count = answer.completed_count
    status.failed_count = answer.failed_count
    status.pending_count = answer.pending_count
    items = status.transcriptions
    for info in answer.transcriptions:
        _fill_info(items.add(), info)


def batch_status(answer: upstream.BatchStatusResponse) -> batch_pb2.BatchStatus:
    """Upstream BatchStatusResponse -> proto BatchStatus (observed_at is set by the caller)."""
    status = batch_pb2.BatchStatus()
    fill_batch_status(status, answer)
    return status


def create_batch_response(
    answer: upstream.BatchTranscriptionResponse, mode: batch_pb2.ProcessingMode
) -> batch_service_pb2.CreateBatchResponse:
    """Upstream BatchTranscriptionResponse -> CreateBatchResponse, with the mode used."""
    return batch_service_pb2.CreateBatchResponse(
        batch_id=answer.batch_id,
        transcription_ids=list(answer.transcription_ids),
        total_count=answer.total_count,
        state=_BATCH_STATE(answer.status),  # type: ignore[arg-type]
        processing_mode=mode,
    )


def _status(value: object) -> batch_pb2.ManifestStatus:
    return _MANIFEST_STATUS(value)  # type: ignore[return-value]


def manifest(
    answer: upstream.BatchFileDetail
    | upstream.BatchFileSummary
    | upstream.BatchFileUploadResponse
    | upstream.BatchFileCreateFromRssResponse,
) -> batch_pb2.Manifest:
    """Any upstream batch-file answer -> proto Manifest (fields it lacks stay empty)."""
    ident = (
        answer.id
        if isinstance(answer, upstream.BatchFileDetail | upstream.BatchFileSummary)
        else answer.batch_file_id
    )
    return batch_pb2.Manifest(
        id=ident,
        created_at=_timestamp(answer.created_at),
        item_count=answer.item_count,
        size_bytes=answer.size_bytes,
        status=_status(answer.status),
        checksum=answer.checksum or "",
        title=getattr(answer, "title", None) or "",
        description=getattr(answer, "description", None) or "",
        validation_errors=list(answer.validation_errors or ())
        if not isinstance(answer, upstream.BatchFileSummary)
        else [],
    )


def transcription(answer: upstream.Transcription) -> batch_pb2.Transcription:
    """Upstream Transcription -> proto Transcription with its word timestamps."""
    words = []
    for stamp in answer.timestamps or ():
        word = batch_pb2.WordTimestamp(
            word=stamp.word,
            start=stamp.start,
            end=stamp.end,
            hebrew_word_format=[_WORD_FORMAT(f) for f in stamp.hebrew_word_format or ()],  # type: ignore[misc]
        )
        if stamp.speaker is not None:
            word.speaker = stamp.speaker
        words.append(word)
    return batch_pb2.Transcription(
        text=answer.text, timestamps=words, info=transcription_info(answer.info)
    )


def transcription_states(answer: upstream.BatchStatusResponse) -> dict[str, str]:
    """Each transcription's state by id: what `watch_message` diffs against."""
    return {t.id: str(t.status) for t in answer.transcriptions}


def watch_message(
    answer: upstream.BatchStatusResponse,
    observed_at: datetime,
    previous_states: Mapping[str, str] | None,
) -> batch_service_pb2.WatchBatchStatusResponse:
    """One WatchBatchStatus message.

    `changed_transcription_ids` lists the transcriptions whose state differs from
    `previous_states` (the states of the stream's previous message, `transcription_states`);
    all of them in a stream's first message (`previous_states` None).
    """
    status = batch_status(answer)
    status.observed_at.FromDatetime(observed_at)
    status.changed_transcription_ids.extend(
        t.id
        for t in answer.transcriptions
        if previous_states is None or previous_states.get(t.id) != str(t.status)
    )
    return batch_service_pb2.WatchBatchStatusResponse(batch_status=status)


# --- listing and links ---


def transcription_state(status: object) -> batch_pb2.TranscriptionState:
    """An upstream transcription status -> TranscriptionState (UNSPECIFIED when unknown)."""
    return _TRANSCRIPTION_STATE(status)  # type: ignore[return-value]


def batch_state(status: object) -> batch_pb2.BatchState:
    """An upstream batch status -> BatchState (UNSPECIFIED when unknown)."""
    return _BATCH_STATE(status)  # type: ignore[return-value]
