"""Request bodies the client sends, one frozen dataclass per spec schema.

`to_json()` gives the JSON object with every unset (None) optional field left out, so the
upstream applies its own defaults. These types do not enforce the upstream's rules (express vs
standard mode, speaker settings): validation belongs to the gateway's validation step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.upstream.enums import BatchFileContentType, Language, LettersLanguage, ProcessingMode


def _json_value(value: object) -> object:
    if isinstance(value, str):
        return str(value)  # an enum member becomes its plain JSON string
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    return value


class _Body:
    """Serialisation shared by the bodies: dataclass fields, None omitted, nested bodies too."""

    def to_json(self) -> dict[str, Any]:
        """This body as a JSON object, without the fields left unset."""
        return {name: _json_value(v) for name, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class BatchTranscriptionRequestInfo(_Body):
    """Batch-wide transcription settings (spec: BatchTranscriptionRequestInfo)."""

    model: str | None = None
    title: str | None = None
    primary_language: Language | str | None = None
    hebrew_word_format: tuple[LettersLanguage | str, ...] | None = None
    num_speakers: int | None = None
    auto_detect_speakers: bool | None = None


@dataclass(frozen=True)
class BatchAudioSource(_Body):
    """One audio file of an express batch or a manifest (spec: BatchAudioSource)."""

    audio_url: str
    title: str | None = None
    client_item_id: str | None = None
    num_speakers: int | None = None
    auto_detect_speakers: bool | None = None


BatchManifestAudioSource = BatchAudioSource
"""The spec's manifest item has exactly the same fields as a batch's."""


@dataclass(frozen=True)
class BatchTranscriptionRequest(_Body):
    """Create a batch: express with `audio_sources`, or standard with `batch_file_id`."""

    info: BatchTranscriptionRequestInfo
    audio_sources: tuple[BatchAudioSource, ...] | None = None
    batch_file_id: str | None = None
    batch_title: str | None = None
    processing_mode: ProcessingMode | str | None = None


@dataclass(frozen=True)
class BatchFileMetadata(_Body):
    """A manifest's optional title and description (spec: BatchFileMetadata)."""

    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class BatchFileUploadRequest(_Body):
    """Upload a manifest, as `json_items` or as `jsonl` text (spec: BatchFileUploadRequest)."""

    content_type: BatchFileContentType | str
    json_items: tuple[BatchAudioSource, ...] | None = None
    jsonl: str | None = None
    metadata: BatchFileMetadata | None = None


@dataclass(frozen=True)
class BatchFileCreateFromRssRequest(_Body):
    """Import a manifest from a podcast feed (spec: BatchFileCreateFromRssRequest)."""

    rss_url: str
    limit: int | None = None
    offset: int | None = None
    metadata: BatchFileMetadata | None = None
