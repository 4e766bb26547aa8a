"""Parsed upstream responses: one frozen msgspec struct per spec schema, named as the spec names it.

`Model.from_json(data)` takes a response body (bytes, decoded straight into the struct) or an
already-parsed JSON value, checks required fields, types and ranges, and raises ProtocolError
naming the field on anything else (see `decode` for the rules: unknown fields ignored, unknown
enum values kept as strings). Lists are tuples so that every model is immutable and hashable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

import msgspec

from gateway.upstream.decode import Int32, Int64, check_time, from_body, from_value
from gateway.upstream.enums import (
    BatchFileStatus,
    BatchStatus,
    Language,
    LettersLanguage,
    Open,
    TranscriptionStatus,
)


class Model(msgspec.Struct, frozen=True, gc=False):
    """A parsed upstream response. Untracked by the garbage collector (`gc=False`): a decoded
    answer is a tree of strings, numbers and tuples, never a cycle."""

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse and check a response: its body as bytes, or its parsed JSON value."""
        if isinstance(data, bytes):
            return from_body(data, cls)
        return from_value(data, cls)


class TranscriptionInfo(Model, frozen=True):
    """One transcription's metadata and status (spec: TranscriptionInfo)."""

    id: str
    title: str
    created_at: datetime
    primary_language: Open[Language]
    hebrew_word_format: tuple[Open[LettersLanguage], ...]
    status: Open[TranscriptionStatus]
    client_item_id: str | None = None
    num_speakers: Int32 | None = None
    duration: float | None = None
    """Seconds; the spec says `integer` with format float, so both are accepted."""
    model: str | None = None

    def __post_init__(self) -> None:
        check_time(self, "created_at")


class Timestamp(Model, frozen=True):
    """One word with its time span (spec: Timestamp)."""

    word: str
    start: float
    end: float
    hebrew_word_format: tuple[Open[LettersLanguage], ...] | None = None
    speaker: str | None = None


class Transcription(Model, frozen=True):
    """A transcription's text, word timestamps and metadata (spec: Transcription)."""

    text: str
    info: TranscriptionInfo
    timestamps: tuple[Timestamp, ...] | None = None


class BatchTranscriptionResponse(Model, frozen=True):
    """The answer to creating a batch (spec: BatchTranscriptionResponse)."""

    batch_id: str
    transcription_ids: tuple[str, ...]
    total_count: Int32
    status: Open[BatchStatus]


class BatchStatusResponse(Model, frozen=True):
    """A batch's progress with every item's status (spec: BatchStatusResponse)."""

    batch_id: str
    status: Open[BatchStatus]
    total_count: Int32
    completed_count: Int32
    failed_count: Int32
    pending_count: Int32
    transcriptions: tuple[TranscriptionInfo, ...]


class BatchFileUploadResponse(Model, frozen=True):
    """The answer to uploading a manifest (spec: BatchFileUploadResponse)."""

    batch_file_id: str
    item_count: Int32
    size_bytes: Int64
    created_at: datetime
    status: Open[BatchFileStatus]
    checksum: str | None = None
    validation_errors: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_time(self, "created_at")


class BatchFileCreateFromRssResponse(Model, frozen=True):
    """The answer to importing a manifest from RSS (spec: BatchFileCreateFromRssResponse)."""

    batch_file_id: str
    item_count: Int32
    size_bytes: Int64
    created_at: datetime
    status: Open[BatchFileStatus]
    offset: Int32
    limit: Int32
    has_more: bool
    checksum: str | None = None
    validation_errors: tuple[str, ...] | None = None
    next_offset: Int32 | None = None

    def __post_init__(self) -> None:
        check_time(self, "created_at")


class BatchFileSummary(Model, frozen=True):
    """One manifest in a listing (spec: BatchFileSummary)."""

    id: str
    created_at: datetime
    item_count: Int32
    size_bytes: Int64
    status: Open[BatchFileStatus]
    checksum: str | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        check_time(self, "created_at")


class BatchFileDetail(Model, frozen=True):
    """One manifest in full, with its validation errors (spec: BatchFileDetail)."""

    id: str
    created_at: datetime
    item_count: Int32
    size_bytes: Int64
    status: Open[BatchFileStatus]
    checksum: str | None = None
    title: str | None = None
    description: str | None = None
    validation_errors: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_time(self, "created_at")


class ListBatchFilesResponse(Model, frozen=True):
    """A page of manifests (spec: ListBatchFilesResponse); `next_cursor` None on the last."""

    files: tuple[BatchFileSummary, ...]
    next_cursor: str | None = None


class HealthResponse(Model, frozen=True):
    """The upstream's health (spec: HealthResponse)."""

    status: str


# --- listing and links ---


class TranscriptionSummary(Model, frozen=True):
    """One transcription in the caller's list (spec: TranscriptionSummary): no time, no settings."""

    id: str
    title: str
    status: Open[TranscriptionStatus]


class _ArrayBody(Model, frozen=True):
    """A response whose body is a bare JSON array, parsed as the struct's one field."""

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse the array into the struct's one field (`items` or `sites`): an error names it
        as for any model (`TranscriptionList.items[3].id`)."""
        (name,) = cls.__struct_fields__
        if isinstance(data, bytes):
            return from_body(b'{"%s":%s}' % (name.encode(), data), cls)
        return from_value({name: data}, cls)


class TranscriptionList(_ArrayBody, frozen=True):
    """The caller's whole list of transcriptions (spec: an array of TranscriptionSummary)."""

    items: tuple[TranscriptionSummary, ...]


class LinkResponse(Model, frozen=True):
    """A page link resolved to its audio (spec: LinkResponse)."""

    title: str
    download_url: str
    file_format: str
    file_name: str


class Site(Model, frozen=True):
    """A site whose page links the Link API resolves (spec: Site)."""

    name: str
    url: str


class SiteList(_ArrayBody, frozen=True):
    """The supported sites (spec: an array of Site)."""

    sites: tuple[Site, ...]
