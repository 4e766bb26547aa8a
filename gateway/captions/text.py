"""Plain text (.txt): the transcript without markup, a paragraph per speaker turn.

Without speaker labels the file is the transcript's own text (its punctuation kept, the `<i>`
of transliterations dropped) as one paragraph. With them, each turn (consecutive words of one
speaker) is a paragraph under a line naming the speaker ("Speaker 1:"), paragraphs separated by
a blank line. The name has a line of its own so that it never changes the direction of a
right-to-left paragraph; no bidi control character is added. Text needs no timestamps.
"""

from __future__ import annotations

from itertools import groupby

from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import speaker_name
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.words import plain_text, words_of

MEDIA_TYPE = "text/plain; charset=utf-8"
EXTENSION = "txt"


def paragraphs(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> list[str]:
    """The paragraphs of the text file, each without its separating blank line; with speaker
    labels off, a paragraph per turn still, without the line naming its speaker."""
    words = words_of(transcription)
    if not any(speaker_name(w.speaker) for w in words):
        body = plain_text(transcription.text) or " ".join(w.text for w in words)
        return [body] if body else []
    out = []
    for name, turn in groupby(words, key=lambda w: speaker_name(w.speaker)):
        body = " ".join(w.text for w in turn)
        out.append(f"{name}:\n{body}" if name and options.speaker_labels else body)
    return out


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[str, int]:
    """The transcript as plain text and its number of paragraphs."""
    found = paragraphs(transcription, options)
    return ("\n\n".join(found) + "\n" if found else ""), len(found)
