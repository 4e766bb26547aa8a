"""The upstream's enumerations, by their spec names; each value is the JSON string itself.

Parsed responses hold a member when the value is known and the plain string when it is not,
so a field typed `BatchStatus | str` compares equal to `BatchStatus.COMPLETED` either way.
"""

from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    """Overall status of a batch (spec: BatchStatus)."""

    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class TranscriptionStatus(StrEnum):
    """Status of one transcription (spec: Status)."""

    RECEIVED = "RECEIVED"
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    UPLOADED = "UPLOADED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


class BatchFileStatus(StrEnum):
    """Validation status of an uploaded manifest (spec: BatchFileStatus)."""

    PENDING_VALIDATION = "PENDING_VALIDATION"
    VALID = "VALID"
    INVALID = "INVALID"


class Language(StrEnum):
    """Primary language of the audio (spec: Language)."""

    EN = "en"
    HE = "he"
    YI = "yi"
    FR = "fr"


class LettersLanguage(StrEnum):
    """How Hebrew words are written (spec: LettersLanguage)."""

    EN = "en"
    HE = "he"
    HYBRID = "hybrid"


class ProcessingMode(StrEnum):
    """Batch processing mode (spec: ProcessingMode)."""

    STANDARD = "standard"
    EXPRESS = "express"


class BatchFileContentType(StrEnum):
    """Format of a manifest upload (spec: BatchFileContentType)."""

    JSON = "json"
    JSONL = "jsonl"
