"""SubRip (.srt): numbered cues with HH:MM:SS,mmm times, speakers as a "Speaker 1: " prefix.

SubRip has no markup for voices, so a cue whose speaker is known starts with the speaker's name
and a colon, the one convention every player shows as text. SubRip has no escapes either: text
is written as it is, except that "-->" (which naive parsers take for a timing line) gets a U+2060
WORD JOINER inside its arrow, which nothing displays.

Right-to-left text: a line takes its direction from its first strongly directional character,
so a Latin "Speaker 1: " before Hebrew words would turn the line left-to-right. Only there the
label is preceded by U+200F RIGHT-TO-LEFT MARK, which restores the direction the words give the
line; no other control character is ever added, and the words are written in logical order.
"""

from __future__ import annotations

from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import (
    build_cues,
    clock,
    no_label,
    starts_right_to_left,
    timed_words,
)
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions

MEDIA_TYPE = "application/x-subrip"
EXTENSION = "srt"
RIGHT_TO_LEFT_MARK = "\u200f"
_ARROW, _SAFE_ARROW = "-->", "--\u2060>"


def label(name: str | None) -> str:
    """The text before a cue's first line: "Speaker 1: ", or nothing for an unknown speaker."""
    return f"{name}: " if name else ""


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[str, int]:
    """The transcript as an SRT file and its number of cues; NotTimed without timestamps."""
    labelled = options.speaker_labels
    cues = build_cues(timed_words(transcription), label if labelled else no_label, options)
    blocks = []
    for number, cue in enumerate(cues, start=1):
        lines = [line.replace(_ARROW, _SAFE_ARROW) for line in cue.lines]
        if cue.speaker and labelled:
            mark = RIGHT_TO_LEFT_MARK if starts_right_to_left(lines[0]) else ""
            lines[0] = mark + label(cue.speaker).replace(_ARROW, _SAFE_ARROW) + lines[0]
        timing = f"{clock(cue.start, ',')} --> {clock(cue.end, ',')}"
        blocks.append(f"{number}\n{timing}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks), len(cues)
