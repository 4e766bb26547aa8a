"""WebVTT (.vtt): a "WEBVTT" header, then cues with HH:MM:SS.mmm times, speakers as voice spans.

A cue whose speaker is known starts with `<v Speaker 1>`: the speaker is markup, not text, so it
neither counts against the line length nor changes the direction of right-to-left lines (no bidi
control character is ever added; the words are written in logical order). The characters that
WebVTT cue text reserves, `&`, `<` and `>`, are written as `&amp;`, `&lt;` and `&gt;` in the text
and in the speaker's name, which also keeps "-->" out of every cue.
"""

from __future__ import annotations

from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import build_cues, clock, timed_words
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions

MEDIA_TYPE = "text/vtt"
EXTENSION = "vtt"
HEADER = "WEBVTT\n"


def escape(text: str) -> str:
    """`text` as WebVTT cue text: the three reserved characters as character references."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[str, int]:
    """The transcript as a WebVTT file and its number of cues; NotTimed without timestamps."""
    cues = build_cues(timed_words(transcription), options=options)
    blocks = [HEADER]
    for cue in cues:
        lines = [escape(line) for line in cue.lines]
        if cue.speaker and options.speaker_labels:
            lines[0] = f"<v {escape(cue.speaker)}>{lines[0]}"
        timing = f"{clock(cue.start, '.')} --> {clock(cue.end, '.')}"
        blocks.append(f"{timing}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks), len(cues)
