"""Caption cues from timed words: where a cue ends, and how its text breaks into lines.

A cue gathers words in time order until the next word would break a rule: a different speaker,
a pause of more than MAX_PAUSE_SECONDS since the cue's last word, a cue longer than
MAX_CUE_SECONDS, or text that no longer fits MAX_LINES lines of MAX_LINE_CHARS characters (code
points; a speaker label written into the text counts). One word that cannot fit the limits on
its own gets a cue of its own, over the limit: a word is never cut. MAX_CUE_SECONDS and
MAX_LINE_CHARS are the defaults of `CaptionOptions` (gateway.captions.options), which a caller
may change.

Words that overlap in time (the transliteration and the Hebrew letters of one term share their
timing) are kept together, so consecutive cues do not overlap, up to a cue's worth of them: a
run of overlapping words that alone fills MAX_LINES lines is closed there, and the overlapping
words after it start the next cue, which then overlaps it in time. Only a transcript whose
timing is broken (thousands of words at one instant) has such runs; its captions stay readable,
a cue's worth of words at a time, instead of one cue holding them all.

Cost: linear in the number of words once they are sorted by start. Each word is laid on lines
at most twice (in its group of overlapping words, then in its cue), and a line break is sought
among one cue's words only (at most about MAX_LINES * MAX_LINE_CHARS / 2 words, or one word too
long for the limits). Hundreds of thousands of words still take seconds: the gateway renders
off its event loop (gateway.server.servicer).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sofer.batch.v1 import batch_pb2

from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.options import MAX_CUE_SECONDS as MAX_CUE_SECONDS  # the defaults, re-exported
from gateway.captions.options import MAX_LINE_CHARS as MAX_LINE_CHARS
from gateway.captions.words import NotTimed, Word, plain_text, squeeze, words_of

MAX_LINES = 2
MAX_PAUSE_SECONDS = 1.0
MAX_SECONDS = 7 * 24 * 3600.0
"""The latest word time captions take (a week): later is no recording's but a broken answer's
(1e306 s would overflow the cue clock)."""
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


Fill = tuple[int, int]
"""Words laid greedily on lines, each line taking as many as fit: (lines used, the last line's
width); OVER once they no longer fit MAX_LINES lines of MAX_LINE_CHARS. Filling greedily makes
every line but the last as long as it can be, so when that needs more lines than allowed, no
other way of breaking the words fits either; and the greedy filling of some words is the start
of the filling of more, so it grows a word at a time."""
OVER: Fill = (MAX_LINES + 1, 0)


def empty_fill(reserved: int) -> Fill:
    """No word laid yet; the first line starts `reserved` wide (the speaker label)."""
    return (0, reserved)


def lay(fill: Fill, text: str, line_chars: int = MAX_LINE_CHARS) -> Fill:
    """`fill` with one more word laid on lines of `line_chars` (OVER stays OVER)."""
    lines, width = fill
    if lines > MAX_LINES:
        return OVER
    if lines == 0:
        lines, width = 1, width + len(text)
    elif width + 1 + len(text) <= line_chars:
        width += 1 + len(text)
    else:
        lines, width = lines + 1, len(text)
    return OVER if lines > MAX_LINES or width > line_chars else (lines, width)


class _Speakers:
    """Each upstream speaker label's name and label width, worked out once per label."""

    def __init__(self, label: Label) -> None:
        self._label = label
        self._known: dict[str | None, tuple[str | None, int]] = {}

    def __call__(self, speaker: str | None) -> tuple[str | None, int]:
        found = self._known.get(speaker)
        if found is None:
            name = speaker_name(speaker)
            found = self._known[speaker] = (name, len(self._label(name)))
        return found


@dataclass(frozen=True, slots=True)
class _Unit:
    """Words `first` to `stop` (excluded) of the ordered words, kept together: where the
    latest of them ends, and their text laid on lines alone."""

    first: int
    stop: int
    end: float
    fill: Fill


@dataclass(slots=True)
class _Open:
    """The cue being built: the ordered words `first` to `stop`, its speaker's name and label
    width, its span so far, and its text laid on lines."""

    first: int
    stop: int
    speaker: str | None
    reserved: int
    start: float
    end: float
    fill: Fill


def build_cues(
    words: Sequence[Word], label: Label = no_label, options: CaptionOptions = DEFAULT_OPTIONS
) -> list[Cue]:
    """The cues of `words` (see the module), in time order; `label` is what the format writes
    before the first line, whose width the line limit counts; `options` the line and cue
    limits (today's by default)."""
    ordered = sorted(words, key=_start)  # stable: ties keep the upstream's order
    speakers = _Speakers(label)
    cues: list[Cue] = []
    current: _Open | None = None
    width = options.line_chars
    for unit in _units(ordered, speakers, width):
        head = ordered[unit.first]
        name, reserved = speakers(head.speaker)
        if current is not None:
            fill = _joined(current, unit, ordered, name, options)
            if fill is not OVER:
                current.stop, current.end, current.fill = (
                    unit.stop,
                    max(current.end, unit.end),
                    fill,
                )
                continue
            cues.append(_cue(current, ordered, width))
        current = _Open(unit.first, unit.stop, name, reserved, head.start, unit.end, unit.fill)
    if current is not None:
        cues.append(_cue(current, ordered, width))
    return cues


def _start(word: Word) -> float:
    return word.start


def _units(ordered: Sequence[Word], speakers: _Speakers, width: int) -> list[_Unit]:
    """The ordered words grouped so that a word starting before every earlier word has ended
    joins the group, as long as the group still fits a cue's lines on its own: a cue boundary
    falls where the next word starts after every earlier word ended, or where overlapping
    words have filled a cue (see the module)."""
    units: list[_Unit] = []
    ends_at = -math.inf
    first, end, fill = 0, -math.inf, OVER
    for at, word in enumerate(ordered):
        grown = lay(fill, word.text, width) if word.start < ends_at else OVER
        if grown is OVER:
            if at:
                units.append(_Unit(first, at, end, fill))
            first, end = at, word.end
            grown = lay(empty_fill(speakers(word.speaker)[1]), word.text, width)
        fill, end = grown, max(end, word.end)
        ends_at = max(ends_at, word.end)
    if ordered:
        units.append(_Unit(first, len(ordered), end, fill))
    return units


def _joined(
    cue: _Open, unit: _Unit, ordered: Sequence[Word], name: str | None, options: CaptionOptions
) -> Fill:
    """The cue's lines with `unit` added when it may extend the cue under every rule of the
    module, else OVER. Laying the unit's words stops at the first past the limits."""
    if (
        name != cue.speaker
        or ordered[unit.first].start - cue.end > MAX_PAUSE_SECONDS
        or unit.end - cue.start > options.cue_seconds
    ):
        return OVER
    fill = cue.fill
    for at in range(unit.first, unit.stop):
        fill = lay(fill, ordered[at].text, options.line_chars)
        if fill is OVER:
            break
    return fill


def _cue(cue: _Open, ordered: Sequence[Word], width: int) -> Cue:
    words = tuple(ordered[cue.first : cue.stop])
    return Cue(
        start=cue.start,
        end=cue.end,
        speaker=cue.speaker,
        words=words,
        lines=_lines([w.text for w in words], cue.reserved, width),
    )


def _lines(texts: Sequence[str], reserved: int, width: int) -> tuple[str, ...]:
    """The words on one line when they fit, else on two lines broken where the longer line is
    shortest (the first such break: a shorter top line); a cue over the limits (a word too
    long for them) gets them broken greedily, on as many lines as it takes.

    The break is searched only when the text can fit two lines at all, with the widths of the
    two halves from running sums, and stops once the top line is too long."""
    sizes = [len(t) for t in texts]
    total = sum(sizes) + len(sizes) - 1  # the words joined by spaces
    if reserved + total <= width:
        return (" ".join(texts),)
    best: tuple[int, int] | None = None  # (longer line's width, break index)
    if reserved + total <= MAX_LINES * width + 1:  # the space at the break goes
        top = reserved - 1
        for at in range(1, len(texts)):
            top += sizes[at - 1] + 1
            if top > width:
                break
            bottom = total - (top - reserved) - 1
            if bottom <= width and (best is None or max(top, bottom) < best[0]):
                best = (max(top, bottom), at)
    if best is None:
        return tuple(_greedy_lines(texts, reserved, width))
    at = best[1]
    return (" ".join(texts[:at]), " ".join(texts[at:]))


def _greedy_lines(texts: Sequence[str], reserved: int, width: int) -> list[str]:
    """The words broken into lines of at most `width`, each taking as many as fit (a word
    longer than a line gets a line of its own)."""
    lines = [[texts[0]]]
    used = reserved + len(texts[0])
    for text in texts[1:]:
        if used + 1 + len(text) <= width:
            lines[-1].append(text)
            used += 1 + len(text)
        else:
            lines.append([text])
            used = len(text)
    return [" ".join(line) for line in lines]


def timed_words(transcription: batch_pb2.Transcription) -> list[Word]:
    """The words of a transcript that captions can time; NotTimed when it has text but no word
    timestamps, or a timestamp that is not a finite number or is past MAX_SECONDS. An empty
    transcript (one not completed yet, or silence) has no words and no text: no cues, no
    error."""
    words = words_of(transcription)
    if not words and plain_text(transcription.text):
        raise NotTimed("the transcript has text but no word timestamps to time captions by")
    for word in words:
        if not (math.isfinite(word.start) and math.isfinite(word.end)):
            raise NotTimed(f"the timestamp of the word {word.text!r} is not a finite number")
        if word.end > MAX_SECONDS:  # words_of makes 0 <= start <= end
            raise NotTimed(
                f"the timestamp of the word {word.text!r} ({word.end:g} s) is past a week "
                f"({MAX_SECONDS:g} s): no recording is that long"
            )
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
