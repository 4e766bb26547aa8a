"""Speaker turns with the transcript's transliterations marked: what Markdown and DOCX write.

The transcript `text` marks transliterated Hebrew with `<i>...</i>`. Captions and plain text
drop that markup (gateway.captions.words); Markdown and DOCX keep it, as italics. A turn is a
run of consecutive words of one speaker, as in plain text. Its text is the transcript text's
tokens when that text lines up with the timestamps (one token per word, as
gateway.captions.words.words_of decides), each token made of spans, italic or not; otherwise
the bare words, without italics (nothing says which are transliterations). When no speaker is
known, the whole text is one turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import speaker_name
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.words import words_of

_TAG = re.compile(r"<(/?)i>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Span:
    """Text in one style: italic (a transliteration) or not."""

    text: str
    italic: bool


@dataclass(frozen=True, slots=True)
class Turn:
    """One paragraph: its speaker's name (None when unknown or labels are off) and its spans,
    adjacent spans of one style merged, the spaces between words included."""

    speaker: str | None
    spans: tuple[Span, ...]


Token = list[Span]


def tokens(text: str) -> list[Token]:
    """The whitespace-separated tokens of `text` without its markup, each as its spans: the
    tokens of gateway.captions.words.plain_text, with the italics the markup gave them. An
    unclosed `<i>` runs to the end; a stray `</i>` ends nothing."""
    pieces: list[tuple[str, bool]] = []
    at, italic = 0, False
    for match in _TAG.finditer(text):
        pieces.append((text[at : match.start()], italic))
        italic, at = match.group(1) == "", match.end()
    pieces.append((text[at:], italic))
    found: list[Token] = [[]]
    for piece, style in pieces:
        for index, part in enumerate(_SPACE.split(piece)):
            if index and found[-1]:
                found.append([])
            if part:
                found[-1].append(Span(part, style))
    return [token for token in found if token]


def turns(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> list[Turn]:
    """The transcript's paragraphs (see the module); none for an empty transcript."""
    words = words_of(transcription)
    marked = tokens(transcription.text)
    names = [speaker_name(w.speaker) for w in words]
    if not any(names):
        whole = marked or [[Span(w.text, False)] for w in words]
        return [Turn(None, _merged(whole))] if whole else []
    aligned = ["".join(s.text for s in token) for token in marked] == [w.text for w in words]
    per_word = marked if aligned else [[Span(w.text, False)] for w in words]
    out = []
    for name, group in groupby(zip(names, per_word, strict=True), key=lambda pair: pair[0]):
        shown = name if options.speaker_labels else None
        out.append(Turn(shown, _merged([token for _, token in group])))
    return out


def _merged(words: Sequence[Token]) -> tuple[Span, ...]:
    """The words' spans joined by spaces (italic between two italic words), adjacent spans of
    one style made one."""
    out: list[Span] = []
    previous: Token | None = None
    for token in words:
        if previous is not None:
            _add(out, Span(" ", previous[-1].italic and token[0].italic))
        for span in token:
            _add(out, span)
        previous = token
    return tuple(out)


def _add(out: list[Span], span: Span) -> None:
    if out and out[-1].italic == span.italic:
        out[-1] = Span(out[-1].text + span.text, span.italic)
    else:
        out.append(span)
