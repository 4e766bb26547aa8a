"""The upstream's enumerations, by their spec names; each value is the JSON string itself.

Parsed responses hold a member when the value is known and the plain string when it is not,
so a field typed `Open[BatchStatus]` (`BatchStatus | str`) compares equal to
`BatchStatus.COMPLETED` either way. The enums a response carries are `OpenEnum`s: msgspec calls
`_missing_` for a value that is not a member and keeps what it returns, the string itself, so
known values stay a C-speed lookup. The price: `BatchStatus("NEW")` raises TypeError (Enum's
complaint that `_missing_` returned a non-member), not ValueError; nothing calls them so.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

E = TypeVar("E", bound=StrEnum)

if TYPE_CHECKING:
    Open: TypeAlias = E | str
    """A response enum field: a member, or the plain string of a value not known yet."""
else:

    class Open:
        """At run time `Open[BatchStatus]` is `BatchStatus`, the type msgspec decodes into."""

        def __class_getitem__(cls, kind: type[E]) -> type[E]:
            return kind


class OpenEnum(StrEnum):
    """An enum the upstream may extend: decoding keeps an unknown string value as it is."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return value if isinstance(value, str) else None


class BatchStatus(OpenEnum):
    """Overall status of a batch (spec: BatchStatus)."""

    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class TranscriptionStatus(OpenEnum):
    """Status of one transcription (spec: Status)."""

    RECEIVED = "RECEIVED"
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    UPLOADED = "UPLOADED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


class BatchFileStatus(OpenEnum):
    """Validation status of an uploaded manifest (spec: BatchFileStatus)."""

    PENDING_VALIDATION = "PENDING_VALIDATION"
    VALID = "VALID"
    INVALID = "INVALID"


class Language(OpenEnum):
    """Primary language of the audio (spec: Language)."""

    EN = "en"
    HE = "he"
    YI = "yi"
    FR = "fr"


class LettersLanguage(OpenEnum):
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
