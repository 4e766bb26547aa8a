"""Deterministic fake transcripts: text, word timestamps and speakers derived from the audio URL.

A transcript is a list of words. Plain words carry `hebrew_word_format: null`; Hebrew terms come
as a pair, the transliteration (tagged ["en"], in <i>..</i> in the text) and the Hebrew letters
(tagged ["he"]), and which of the two appear depends on the requested `hebrew_word_format` and on
`filter_hebrew_word_format` (see `visible_formats`).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

# Words between the Hebrew terms, per language (Hebrew and Yiddish share the Hebrew list).
_FILLER_TEXT = {
    "en": (
        "today we will learn about the question of when and how one should approach this "
        "topic and what the sources say about it in practice for every day"
    ),
    "fr": (
        "aujourd'hui nous allons étudier la question de savoir quand et comment aborder ce "
        "sujet et ce que disent les sources dans la pratique de chaque jour"
    ),
    "he": "היום נלמד על השאלה מתי ואיך צריך לגשת לנושא הזה ומה אומרים המקורות",
}
_TERMS = (
    ("shiur", "שיעור"),
    ("halacha", "הלכה"),
    ("Shabbos", "שבת"),
    ("Gemara", "גמרא"),
    ("Torah", "תורה"),
    ("mitzvah", "מצוה"),
    ("Mishnah", "משנה"),
    ("teshuvah", "תשובה"),
    ("parsha", "פרשה"),
    ("kashrus", "כשרות"),
)


def _seed(audio_url: str, purpose: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{purpose}:{audio_url}".encode()).digest()[:8], "big")


def duration_seconds(audio_url: str) -> int:
    """The audio's length in whole seconds: 2 to 60 minutes, fixed per URL."""
    return 120 + _seed(audio_url, "duration") % 3481


def detected_speakers(audio_url: str) -> int:
    """The speaker count auto-detection 'finds': 1 to 4, fixed per URL."""
    return 1 + _seed(audio_url, "speakers") % 4


def visible_formats(
    requested: tuple[str, ...], primary_language: str, filter_format: str | None
) -> frozenset[str]:
    """Which forms of a Hebrew term appear: "en" (transliteration) and/or "he" (letters).

    The transcript holds what was requested ("hybrid" means both; a non-English transcript has
    Hebrew letters only). The filter then keeps only "en" or only "he" of that, or, as "hybrid",
    both forms of every term.
    """
    if filter_format == "hybrid":
        return frozenset({"en", "he"})
    held = {"en", "he"} if "hybrid" in requested else set(requested)
    if primary_language != "en":
        held = {"he"}
    if filter_format is not None:
        held &= {filter_format}
    return frozenset(held)


@dataclass(frozen=True)
class _Word:
    plain: str | None
    term: tuple[str, str] | None
    start: float
    end: float
    speaker: int
    sentence_end: bool


def _words(audio_url: str, language: str, num_speakers: int) -> list[_Word]:
    rng = random.Random(_seed(audio_url, "words"))
    filler = _FILLER_TEXT["he" if language in ("he", "yi") else language].split()
    count = rng.randint(30, 60)
    speaker, words, clock = 1, [], 0.0
    until_sentence_end = rng.randint(6, 12)
    for i in range(count):
        is_term = rng.random() < 0.25
        until_sentence_end -= 1
        sentence_end = until_sentence_end == 0 or i == count - 1
        start = round(clock + rng.uniform(0.05, 0.3), 2)
        clock = round(start + rng.uniform(0.2, 0.6), 2)
        words.append(
            _Word(
                plain=None if is_term else rng.choice(filler),
                term=rng.choice(_TERMS) if is_term else None,
                start=start,
                end=clock,
                speaker=speaker,
                sentence_end=sentence_end,
            )
        )
        if sentence_end:
            until_sentence_end = rng.randint(6, 12)
            if num_speakers > 1:
                speaker = speaker % num_speakers + 1
    return words


def render(
    audio_url: str,
    primary_language: str,
    num_speakers: int,
    formats: frozenset[str],
) -> tuple[str, list[dict[str, Any]]]:
    """The text and the `timestamps` array of one completed transcription."""
    pieces: list[str] = []
    stamps: list[dict[str, Any]] = []
    for word in _words(audio_url, primary_language, num_speakers):
        speaker = str(word.speaker) if num_speakers > 1 else None
        forms: list[tuple[str, str, list[str] | None]] = []
        if word.plain is not None:
            forms.append((word.plain, word.plain, None))
        elif word.term is not None:
            translit, hebrew = word.term
            if "en" in formats:
                forms.append((f"<i>{translit}</i>", translit, ["en"]))
            if "he" in formats:
                forms.append((hebrew, hebrew, ["he"]))
        for shown, bare, tags in forms:
            pieces.append(shown)
            stamps.append(
                {
                    "word": bare,
                    "hebrew_word_format": tags,
                    "start": word.start,
                    "end": word.end,
                    "speaker": speaker,
                }
            )
        if word.sentence_end and pieces and not pieces[-1].endswith("."):
            pieces[-1] += "."
    return " ".join(pieces), stamps
