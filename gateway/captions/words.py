"""The words a transcript shows: each timestamp's timing and speaker, and its display form.

The display form is the word with the punctuation the transcript `text` puts around it, when the
text lines up with the timestamps (one whitespace-separated token per word, each the word with
only punctuation around it); otherwise the bare word. Transliteration markup (`<i>`) is dropped:
captions and plain text carry no markup of the upstream's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sofer.batch.v1 import batch_pb2

_MARKUP = re.compile(r"</?i>")
_SPACE = re.compile(r"\s+")


class NotTimed(ValueError):
    """A transcript with text but no usable word timestamps: captions cannot be timed."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word as shown: its display text, its time span in seconds and its speaker label."""

    text: str
    start: float
    end: float
    speaker: str | None = None


def plain_text(text: str) -> str:
    """The transcript text without transliteration markup, each run of whitespace one space."""
    return squeeze(_MARKUP.sub("", text))


def squeeze(text: str) -> str:
    """`text` on one line: whitespace runs (newlines, tabs) as one space, none at the ends; a
    caption line break or blank line inside a word would end a line or a cue."""
    return _SPACE.sub(" ", text).strip()


def words_of(transcription: batch_pb2.Transcription) -> list[Word]:
    """The transcript's words in the upstream's order, with display forms (see the module).

    Words that are empty once squeezed are dropped (nothing to show). A negative start counts
    as 0 and an end before its start as the start, so every word has a span a caption can hold
    (times that are not numbers at all are cues.timed_words' to refuse).
    """
    stamps = [s for s in transcription.timestamps if squeeze(s.word)]
    bare = [squeeze(s.word) for s in stamps]
    tokens = plain_text(transcription.text).split(" ")
    aligned = len(tokens) == len(bare) and all(map(_punctuated, tokens, bare))
    shown = tokens if aligned else bare
    words = []
    for stamp, text in zip(stamps, shown, strict=True):
        start = max(stamp.start, 0.0)
        speaker = squeeze(stamp.speaker) if stamp.HasField("speaker") else ""
        words.append(Word(text, start, max(stamp.end, start), speaker or None))
    return words


def _punctuated(token: str, word: str) -> bool:
    """Whether `token` is `word` with nothing but punctuation before and after it."""
    at = token.find(word)
    if at < 0:
        return False
    rest = token[:at] + token[at + len(word) :]
    return all(unicodedata.category(c).startswith("P") for c in rest)
