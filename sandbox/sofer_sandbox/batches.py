"""Building a batch: titles, inherited speaker settings, language defaults and schedules."""

from __future__ import annotations

from collections.abc import Sequence

from sofer_sandbox.state import Batch, Transcription, new_id, utc_now_iso
from sofer_sandbox.timeline import schedule
from sofer_sandbox.transcripts import detected_speakers
from sofer_sandbox.validation import AudioSource, BatchInfo, Speakers


def item_title(source: AudioSource, batch_title: str | None, number: int) -> str:
    """The item's own title, else "{batch_title} - Item N", else "Item N" (N from 1)."""
    if source.title:
        return source.title
    return f"{batch_title} - Item {number}" if batch_title else f"Item {number}"


def effective_speakers(item: Speakers, batch: Speakers) -> Speakers:
    """The item's setting when it gives one, else the batch's, else one speaker."""
    if item.given:
        return item
    if batch.given:
        return batch
    return Speakers(num_speakers=1)


def speaker_count(speakers: Speakers, audio_url: str) -> int:
    """The number reported as `num_speakers`: the one asked for, or the 'detected' one."""
    if speakers.auto_detect_speakers:
        return detected_speakers(audio_url)
    return speakers.num_speakers or 1


def default_formats(info: BatchInfo, language: str) -> tuple[str, ...]:
    """What was asked for, else ("en", "he") for English and ("he",) otherwise."""
    if info.hebrew_word_format:
        return info.hebrew_word_format
    return ("en", "he") if language == "en" else ("he",)


def build_batch(
    sources: Sequence[AudioSource],
    info: BatchInfo,
    batch_title: str | None,
    now: float,
    item_seconds: float,
) -> Batch:
    """A new batch of `sources`, every item starting its schedule at `now`."""
    batch_id = new_id()
    language = info.primary_language or "en"
    formats = default_formats(info, language)
    created_at = utc_now_iso()
    items = tuple(
        Transcription(
            id=new_id(),
            batch_id=batch_id,
            audio_url=source.audio_url,
            title=item_title(source, batch_title, index + 1),
            client_item_id=source.client_item_id,
            primary_language=language,
            hebrew_word_format=formats,
            model=info.model or "v1",
            num_speakers=speaker_count(
                effective_speakers(source.speakers, info.speakers), source.audio_url
            ),
            created_at=created_at,
            plan=schedule(now, index, len(sources), item_seconds, source.audio_url),
        )
        for index, source in enumerate(sources)
    )
    return Batch(batch_id, items)
