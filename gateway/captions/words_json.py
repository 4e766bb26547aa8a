"""JSON with the words (.json): one object, the transcript's text and its timed words.

    {"transcription_id": "...", "title": "...", "text": "the transcript without markup",
     "words": [{"text": "Shalom,", "start": 0.0, "end": 0.42, "speaker": "Speaker 1"}, ...]}

A word's `text` is its display form (gateway.captions.words: with the punctuation of the text
when the text lines up with the timestamps), `start` and `end` its seconds from the start of
the audio (null when the upstream's is not a finite number), `speaker` the speaker's name as
captions write it, or null when unknown or speaker labels are off. UTF-8, Hebrew as it is.
Needs no timestamps: a transcript without them has `text` and no words.
"""

from __future__ import annotations

import json
import math

from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import speaker_name
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.words import plain_text, words_of

MEDIA_TYPE = "application/json"
EXTENSION = "json"


def _seconds(value: float) -> float | None:
    return value if math.isfinite(value) else None


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[str, int]:
    """The transcript as JSON (see the module) and its number of words."""
    words = [
        {
            "text": word.text,
            "start": _seconds(word.start),
            "end": _seconds(word.end),
            "speaker": speaker_name(word.speaker) if options.speaker_labels else None,
        }
        for word in words_of(transcription)
    ]
    document = {
        "transcription_id": transcription.info.id,
        "title": transcription.info.title,
        "text": plain_text(transcription.text),
        "words": words,
    }
    return json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n", len(words)
