"""A transcript as a file: SRT or WebVTT captions built from its word timestamps, or plain text.

`FORMATS` holds each file format by its extension ("srt", "vtt", "txt": what `sofer-gateway
fetch --format` names), `for_export_format` by the proto's ExportFormat. Rendering is a pure
function of a `sofer.batch.v1.Transcription`; the cue rules are in gateway.captions.cues.

Pure: imports nothing of the gateway's (only the generated protos); no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sofer.batch.v1 import batch_pb2

from gateway.captions import srt, text, webvtt
from gateway.captions.words import NotTimed


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered file: its text and its number of cues (paragraphs, for plain text)."""

    content: str
    cue_count: int


@dataclass(frozen=True, slots=True)
class Format:
    """One file format: its extension (no dot), media type and renderer."""

    extension: str
    media_type: str
    renderer: Callable[[batch_pb2.Transcription], tuple[str, int]]

    def render(self, transcription: batch_pb2.Transcription) -> Rendered:
        """`transcription` in this format; NotTimed when captions cannot be timed."""
        content, count = self.renderer(transcription)
        return Rendered(content, count)


SRT = Format(srt.EXTENSION, srt.MEDIA_TYPE, srt.render)
WEBVTT = Format(webvtt.EXTENSION, webvtt.MEDIA_TYPE, webvtt.render)
TEXT = Format(text.EXTENSION, text.MEDIA_TYPE, text.render)
FORMATS: Mapping[str, Format] = {f.extension: f for f in (SRT, WEBVTT, TEXT)}
_BY_EXPORT_FORMAT: Mapping[int, Format] = {
    batch_pb2.EXPORT_FORMAT_SRT: SRT,
    batch_pb2.EXPORT_FORMAT_WEBVTT: WEBVTT,
    batch_pb2.EXPORT_FORMAT_TEXT: TEXT,
}


def for_export_format(value: int) -> Format | None:
    """The format an ExportFormat value names; None for UNSPECIFIED and unknown values."""
    return _BY_EXPORT_FORMAT.get(value)


__all__ = [
    "FORMATS",
    "SRT",
    "TEXT",
    "WEBVTT",
    "Format",
    "NotTimed",
    "Rendered",
    "for_export_format",
]
