"""Caption cues from timed words: where a cue ends, and how its text breaks into lines.

A cue gathers words in time order until the next word would break a rule: a different speaker,
a pause of more than MAX_PAUSE_SECONDS since the cue's last word, a cue longer than
MAX_CUE_SECONDS, or text that no longer fits MAX_LINES lines of MAX_LINE_CHARS characters (code
points; a speaker label written into the text counts). Words that overlap in time (the
transliteration and the Hebrew letters of one term share their timing) are never split apart,
so consecutive cues never overlap. One word that cannot fit the limits on its own gets a cue of
its own, over the limit: a word is never cut.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sofer.batch.v1 import batch_pb2

from gateway.captions.words import NotTimed, Word, plain_text, squeeze, words_of

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
MAX_PAUSE_SECONDS = 1.0

Label = Callable[[str | None], str]
"""The text written before a cue's first line for its speaker's name ("" for none)."""


def no_label(_name: str | None) -> str:
    """Write no speaker label into the text (WebVTT names speakers in markup)."""
    return ""


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption: its time span, its speaker's name (None when unknown) and its lines."""

    start: float
    end: float
    speaker: str | None
    words: tuple[Word, ...]
    lines: tuple[str, ...]


def speaker_name(speaker: str | None) -> str | None:
    """How a speaker is named in captions: "Speaker 2" for the upstream's numbers, any other
    label as it is, None when unknown."""
    if not speaker:
        return None
    label = squeeze(speaker)
    return f"Speaker {label}" if label.isdigit() else label or None


def build_cues(words: Sequence[Word], label: Label = no_label) -> list[Cue]:
    """The cues of `words` (see the module), in time order; `label` is what the format writes
    before the first line, whose width the line limit counts."""
    cues: list[Cue] = []
    current: list[Word] = []
    for unit in _units(words):
        if current and _joins(current, unit, label):
            current.extend(unit)
            continue
        if current:
            cues.append(_cue(current, label))
        current = list(unit)
    if current:
        cues.append(_cue(current, label))
    return cues


def _units(words: Sequence[Word]) -> list[list[Word]]:
    """Words in start order, grouped so that a word starting before the group has ended joins
    it: a cue boundary only ever falls where the next word starts after every earlier word
    ended."""
    units: list[list[Word]] = []
    ends_at = 0.0
    for word in sorted(words, key=lambda w: w.start):  # stable: ties keep the upstream's order
        if units and word.start < ends_at:
            units[-1].append(word)
            ends_at = max(ends_at, word.end)
        else:
            units.append([word])
            ends_at = word.end
    return units


def _joins(cue: list[Word], unit: list[Word], label: Label) -> bool:
    """Whether `unit` may extend `cue` under every rule of the module."""
    return (
        speaker_name(unit[0].speaker) == speaker_name(cue[0].speaker)
        and unit[0].start - max(w.end for w in cue) <= MAX_PAUSE_SECONDS
        and max(w.end for w in unit) - cue[0].start <= MAX_CUE_SECONDS
        and _greedy_fits([w.text for w in (*cue, *unit)], len(label(speaker_name(cue[0].speaker))))
    )


def _greedy_fits(texts: Sequence[str], reserved: int) -> bool:
    """Whether the words fit MAX_LINES lines of MAX_LINE_CHARS, each line taking as many as
    fit: filling greedily makes every line but the last as long as it can be, so when that
    needs more lines than allowed, no other way of breaking the words fits either."""
    lines = _greedy_lines(texts, reserved)
    widths = [len(line) for line in lines]
    widths[0] += reserved
    return len(lines) <= MAX_LINES and max(widths) <= MAX_LINE_CHARS


def _greedy_lines(texts: Sequence[str], reserved: int) -> list[str]:
    """The words broken into lines of at most MAX_LINE_CHARS, each taking as many as fit (a
    word longer than a line gets a line of its own)."""
    lines = [[texts[0]]]
    width = reserved + len(texts[0])
    for text in texts[1:]:
        if width + 1 + len(text) <= MAX_LINE_CHARS:
            lines[-1].append(text)
            width += 1 + len(text)
        else:
            lines.append([text])
            width = len(text)
    return [" ".join(line) for line in lines]


def _cue(words: list[Word], label: Label) -> Cue:
    name = speaker_name(words[0].speaker)
    texts = [w.text for w in words]
    return Cue(
        start=min(w.start for w in words),
        end=max(w.end for w in words),
        speaker=name,
        words=tuple(words),
        lines=_lines(texts, len(label(name))),
    )


def _lines(texts: Sequence[str], reserved: int) -> tuple[str, ...]:
    """The words on one line when they fit, else on two lines broken where the longer line is
    shortest (the first such break: a shorter top line); a cue over the limits (a word too
    long for them) gets them broken greedily, on as many lines as it takes."""
    whole = " ".join(texts)
    if reserved + len(whole) <= MAX_LINE_CHARS:
        return (whole,)
    best: tuple[int, int] | None = None  # (longer line's width, break index)
    for at in range(1, len(texts)):
        top = reserved + len(" ".join(texts[:at]))
        bottom = len(" ".join(texts[at:]))
        fits = top <= MAX_LINE_CHARS and bottom <= MAX_LINE_CHARS
        if fits and (best is None or max(top, bottom) < best[0]):
            best = (max(top, bottom), at)
    if best is None:
        return tuple(_greedy_lines(texts, reserved))
    at = best[1]
    return (" ".join(texts[:at]), " ".join(texts[at:]))


def timed_words(transcription: batch_pb2.Transcription) -> list[Word]:
    """The words of a transcript that captions can time; NotTimed when it has text but no word
    timestamps, or a timestamp that is not a finite number. An empty transcript (one not
    completed yet, or silence) has no words and no text: no cues, no error."""
    words = words_of(transcription)
    if not words and plain_text(transcription.text):
        raise NotTimed("the transcript has text but no word timestamps to time captions by")
    for word in words:
        if not (math.isfinite(word.start) and math.isfinite(word.end)):
            raise NotTimed(f"the timestamp of the word {word.text!r} is not a finite number")
    return words


def clock(seconds: float, decimal: str) -> str:
    """`seconds` as HH:MM:SS<decimal>mmm (SRT's decimal is ",", WebVTT's "."), rounded to the
    millisecond: rounding keeps the order of times, so cues that do not overlap still don't."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def starts_right_to_left(text: str) -> bool:
    """Whether the first strongly directional character of `text` is right-to-left (Hebrew,
    Arabic): what the Unicode bidi algorithm takes a line's direction from."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("L", "R", "AL"):
            return kind != "L"
    return False
