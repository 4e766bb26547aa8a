"""Parsed upstream responses: one frozen dataclass per spec schema, named as the spec names it.

Each `from_json(data)` checks required fields and types and raises ProtocolError on anything
else (see `decode` for the rules: unknown fields ignored, unknown enum values kept as strings).
Lists are tuples so that every model is immutable and hashable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from gateway.upstream.decode import Fields
from gateway.upstream.enums import (
    BatchFileStatus,
    BatchStatus,
    Language,
    LettersLanguage,
    TranscriptionStatus,
)


@dataclass(frozen=True)
class TranscriptionInfo:
    """One transcription's metadata and status (spec: TranscriptionInfo)."""

    id: str
    title: str
    created_at: datetime
    primary_language: Language | str
    hebrew_word_format: tuple[LettersLanguage | str, ...]
    status: TranscriptionStatus | str
    client_item_id: str | None = None
    num_speakers: int | None = None
    duration: float | None = None
    """Seconds; the spec says `integer` with format float, so both are accepted."""
    model: str | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "TranscriptionInfo") -> Self:
        """Parse and check a TranscriptionInfo object."""
        f = Fields(data, where)
        return cls(
            id=f.string("id"),
            title=f.string("title"),
            created_at=f.timestamp("created_at"),
            primary_language=f.choice("primary_language", Language),
            hebrew_word_format=f.choices("hebrew_word_format", LettersLanguage),
            status=f.choice("status", TranscriptionStatus),
            client_item_id=f.opt_string("client_item_id"),
            num_speakers=f.opt_integer("num_speakers"),
            duration=f.opt_number("duration"),
            model=f.opt_string("model"),
        )


@dataclass(frozen=True)
class Timestamp:
    """One word with its time span (spec: Timestamp)."""

    word: str
    start: float
    end: float
    hebrew_word_format: tuple[LettersLanguage | str, ...] | None = None
    speaker: str | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "Timestamp") -> Self:
        """Parse and check a Timestamp object."""
        f = Fields(data, where)
        return cls(
            word=f.string("word"),
            start=f.number("start"),
            end=f.number("end"),
            hebrew_word_format=f.opt_choices("hebrew_word_format", LettersLanguage),
            speaker=f.opt_string("speaker"),
        )


@dataclass(frozen=True)
class Transcription:
    """A transcription's text, word timestamps and metadata (spec: Transcription)."""

    text: str
    info: TranscriptionInfo
    timestamps: tuple[Timestamp, ...] | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "Transcription") -> Self:
        """Parse and check a Transcription object."""
        f = Fields(data, where)
        return cls(
            text=f.string("text"),
            info=f.nested("info", TranscriptionInfo.from_json),
            timestamps=f.opt_objects("timestamps", Timestamp.from_json),
        )


@dataclass(frozen=True)
class BatchTranscriptionResponse:
    """The answer to creating a batch (spec: BatchTranscriptionResponse)."""

    batch_id: str
    transcription_ids: tuple[str, ...]
    total_count: int
    status: BatchStatus | str

    @classmethod
    def from_json(cls, data: object, where: str = "BatchTranscriptionResponse") -> Self:
        """Parse and check a BatchTranscriptionResponse object."""
        f = Fields(data, where)
        return cls(
            batch_id=f.string("batch_id"),
            transcription_ids=f.strings("transcription_ids"),
            total_count=f.integer("total_count"),
            status=f.choice("status", BatchStatus),
        )


@dataclass(frozen=True)
class BatchStatusResponse:
    """A batch's progress with every item's status (spec: BatchStatusResponse)."""

    batch_id: str
    status: BatchStatus | str
    total_count: int
    completed_count: int
    failed_count: int
    pending_count: int
    transcriptions: tuple[TranscriptionInfo, ...]

    @classmethod
    def from_json(cls, data: object, where: str = "BatchStatusResponse") -> Self:
        """Parse and check a BatchStatusResponse object."""
        f = Fields(data, where)
        return cls(
            batch_id=f.string("batch_id"),
            status=f.choice("status", BatchStatus),
            total_count=f.integer("total_count"),
            completed_count=f.integer("completed_count"),
            failed_count=f.integer("failed_count"),
            pending_count=f.integer("pending_count"),
            transcriptions=f.objects("transcriptions", TranscriptionInfo.from_json),
        )


@dataclass(frozen=True)
class BatchFileUploadResponse:
    """The answer to uploading a manifest (spec: BatchFileUploadResponse)."""

    batch_file_id: str
    item_count: int
    size_bytes: int
    created_at: datetime
    status: BatchFileStatus | str
    checksum: str | None = None
    validation_errors: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "BatchFileUploadResponse") -> Self:
        """Parse and check a BatchFileUploadResponse object."""
        f = Fields(data, where)
        return cls(
            batch_file_id=f.string("batch_file_id"),
            item_count=f.integer("item_count"),
            size_bytes=f.integer("size_bytes", bits=64),
            created_at=f.timestamp("created_at"),
            status=f.choice("status", BatchFileStatus),
            checksum=f.opt_string("checksum"),
            validation_errors=f.opt_strings("validation_errors"),
        )


@dataclass(frozen=True)
class BatchFileCreateFromRssResponse:
    """The answer to importing a manifest from RSS (spec: BatchFileCreateFromRssResponse)."""

    batch_file_id: str
    item_count: int
    size_bytes: int
    created_at: datetime
    status: BatchFileStatus | str
    offset: int
    limit: int
    has_more: bool
    checksum: str | None = None
    validation_errors: tuple[str, ...] | None = None
    next_offset: int | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "BatchFileCreateFromRssResponse") -> Self:
        """Parse and check a BatchFileCreateFromRssResponse object."""
        f = Fields(data, where)
        return cls(
            batch_file_id=f.string("batch_file_id"),
            item_count=f.integer("item_count"),
            size_bytes=f.integer("size_bytes", bits=64),
            created_at=f.timestamp("created_at"),
            status=f.choice("status", BatchFileStatus),
            offset=f.integer("offset"),
            limit=f.integer("limit"),
            has_more=f.boolean("has_more"),
            checksum=f.opt_string("checksum"),
            validation_errors=f.opt_strings("validation_errors"),
            next_offset=f.opt_integer("next_offset"),
        )


@dataclass(frozen=True)
class BatchFileSummary:
    """One manifest in a listing (spec: BatchFileSummary)."""

    id: str
    created_at: datetime
    item_count: int
    size_bytes: int
    status: BatchFileStatus | str
    checksum: str | None = None
    title: str | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "BatchFileSummary") -> Self:
        """Parse and check a BatchFileSummary object."""
        f = Fields(data, where)
        return cls(
            id=f.string("id"),
            created_at=f.timestamp("created_at"),
            item_count=f.integer("item_count"),
            size_bytes=f.integer("size_bytes", bits=64),
            status=f.choice("status", BatchFileStatus),
            checksum=f.opt_string("checksum"),
            title=f.opt_string("title"),
        )


@dataclass(frozen=True)
class BatchFileDetail:
    """One manifest in full, with its validation errors (spec: BatchFileDetail)."""

    id: str
    created_at: datetime
    item_count: int
    size_bytes: int
    status: BatchFileStatus | str
    checksum: str | None = None
    title: str | None = None
    description: str | None = None
    validation_errors: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "BatchFileDetail") -> Self:
        """Parse and check a BatchFileDetail object."""
        f = Fields(data, where)
        return cls(
            id=f.string("id"),
            created_at=f.timestamp("created_at"),
            item_count=f.integer("item_count"),
            size_bytes=f.integer("size_bytes", bits=64),
            status=f.choice("status", BatchFileStatus),
            checksum=f.opt_string("checksum"),
            title=f.opt_string("title"),
            description=f.opt_string("description"),
            validation_errors=f.opt_strings("validation_errors"),
        )


@dataclass(frozen=True)
class ListBatchFilesResponse:
    """A page of manifests (spec: ListBatchFilesResponse); `next_cursor` None on the last."""

    files: tuple[BatchFileSummary, ...]
    next_cursor: str | None = None

    @classmethod
    def from_json(cls, data: object, where: str = "ListBatchFilesResponse") -> Self:
        """Parse and check a ListBatchFilesResponse object."""
        f = Fields(data, where)
        return cls(
            files=f.objects("files", BatchFileSummary.from_json),
            next_cursor=f.opt_string("next_cursor"),
        )


@dataclass(frozen=True)
class HealthResponse:
    """The upstream's health (spec: HealthResponse)."""

    status: str

    @classmethod
    def from_json(cls, data: object, where: str = "HealthResponse") -> Self:
        """Parse and check a HealthResponse object."""
        return cls(status=Fields(data, where).string("status"))
