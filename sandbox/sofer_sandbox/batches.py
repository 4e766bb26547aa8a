"""Building a batch: titles, inherited speaker settings, language defaults and schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sofer_sandbox.audio import Audio, url_audio
from sofer_sandbox.billing import Funds, cents_per_hour, cost_cents
from sofer_sandbox.state import Batch, Transcription, new_id, utc_now_iso
from sofer_sandbox.timeline import Schedule, schedule
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


def speaker_count(speakers: Speakers, audio: Audio) -> int:
    """The number reported as `num_speakers`: the one asked for, or the 'detected' one."""
    if speakers.auto_detect_speakers:
        return detected_speakers(audio.key)
    return speakers.num_speakers or 1


def speaker_labels(speakers: Speakers) -> bool:
    """Whether the speaker surcharge applies: auto-detection, or more than one speaker."""
    return bool(speakers.auto_detect_speakers) or (speakers.num_speakers or 1) > 1


@dataclass(frozen=True)
class Work:
    """What a new transcription is billed as and when it is made."""

    kind: str
    model: str
    now: float
    item_seconds: float
    # Epoch seconds of the creation (the `created_at` stamp); None: the real time.
    wall: float | None = None


def plan_and_cost(
    work: Work, audio: Audio, speakers: Speakers, funds: Funds, index: int, count: int
) -> tuple[Schedule, int]:
    """The schedule of item `index` of `count` and the cost it reserves: its price when the
    funds cover it, else 0 and an INSUFFICIENT_FUNDS schedule."""
    price = cost_cents(
        audio.seconds, cents_per_hour(work.kind, work.model, speaker_labels(speakers))
    )
    funded = funds.reserve(price)
    plan = schedule(
        work.now, index, count, work.item_seconds, fails=audio.fails, unfunded=not funded
    )
    return plan, price if funded else 0


def default_formats(info: BatchInfo, language: str) -> tuple[str, ...]:
    """What was asked for, else ("en", "he") for English and ("he",) otherwise."""
    if info.hebrew_word_format:
        return info.hebrew_word_format
    return ("en", "he") if language == "en" else ("he",)


def build_batch(
    sources: Sequence[AudioSource],
    info: BatchInfo,
    batch_title: str | None,
    work: Work,
    funds: Funds,
) -> Batch:
    """A new batch of `sources`, every item starting its schedule at `work.now`; each item in
    order reserves its cost from `funds`, or is INSUFFICIENT_FUNDS when they fall short."""
    batch_id = new_id()
    language = info.primary_language or "en"
    formats = default_formats(info, language)
    created_at = utc_now_iso(work.wall)
    items = []
    for index, source in enumerate(sources):
        audio = url_audio(source.audio_url)
        speakers = effective_speakers(source.speakers, info.speakers)
        plan, cents = plan_and_cost(work, audio, speakers, funds, index, len(sources))
        items.append(
            Transcription(
                id=new_id(),
                batch_id=batch_id,
                audio=audio,
                title=item_title(source, batch_title, index + 1),
                client_item_id=source.client_item_id,
                primary_language=language,
                hebrew_word_format=formats,
                model=work.model,
                num_speakers=speaker_count(speakers, audio),
                created_at=created_at,
                plan=plan,
                cost_cents=cents,
            )
        )
    return Batch(batch_id, tuple(items))
