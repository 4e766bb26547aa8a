"""A transcript as a file: SRT or WebVTT captions built from its word timestamps, plain text,
Markdown, a Word document (DOCX) or JSON with its words.

`FORMATS` holds each file format by its extension ("srt", "vtt", "txt", "md", "docx", "json":
the export's `file_extension`), `for_export_format` by the proto's ExportFormat. Rendering is a
pure function of a `sofer.batch.v1.Transcription` and the caption options
(gateway.captions.options); the cue rules are in gateway.captions.cues.

Pure: imports nothing of the gateway's (only the generated protos and python-docx); no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sofer.batch.v1 import batch_pb2

from gateway.captions import markdown, srt, text, webvtt, word_document, words_json
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.words import NotTimed


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered file: its text (a text format) or its bytes (a binary one, DOCX), and its
    number of cues (paragraphs for TEXT, MARKDOWN and DOCX; words for JSON)."""

    content: str
    cue_count: int
    binary: bytes = b""


Renderer = Callable[[batch_pb2.Transcription, CaptionOptions], tuple[str | bytes, int]]


@dataclass(frozen=True, slots=True)
class Format:
    """One file format: its extension (no dot), media type and renderer."""

    extension: str
    media_type: str
    renderer: Renderer

    def render(
        self, transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
    ) -> Rendered:
        """`transcription` in this format; NotTimed when captions cannot be timed."""
        content, count = self.renderer(transcription, options)
        if isinstance(content, bytes):
            return Rendered("", count, content)
        return Rendered(content, count)


SRT = Format(srt.EXTENSION, srt.MEDIA_TYPE, srt.render)
WEBVTT = Format(webvtt.EXTENSION, webvtt.MEDIA_TYPE, webvtt.render)
TEXT = Format(text.EXTENSION, text.MEDIA_TYPE, text.render)
MARKDOWN = Format(markdown.EXTENSION, markdown.MEDIA_TYPE, markdown.render)
DOCX = Format(word_document.EXTENSION, word_document.MEDIA_TYPE, word_document.render)
JSON = Format(words_json.EXTENSION, words_json.MEDIA_TYPE, words_json.render)
FORMATS: Mapping[str, Format] = {f.extension: f for f in (SRT, WEBVTT, TEXT, MARKDOWN, DOCX, JSON)}
_BY_EXPORT_FORMAT: Mapping[int, Format] = {
    batch_pb2.EXPORT_FORMAT_SRT: SRT,
    batch_pb2.EXPORT_FORMAT_WEBVTT: WEBVTT,
    batch_pb2.EXPORT_FORMAT_TEXT: TEXT,
    batch_pb2.EXPORT_FORMAT_MARKDOWN: MARKDOWN,
    batch_pb2.EXPORT_FORMAT_DOCX: DOCX,
    batch_pb2.EXPORT_FORMAT_JSON: JSON,
}


def for_export_format(value: int) -> Format | None:
    """The format an ExportFormat value names; None for UNSPECIFIED and unknown values."""
    return _BY_EXPORT_FORMAT.get(value)


__all__ = [
    "DEFAULT_OPTIONS",
    "DOCX",
    "FORMATS",
    "JSON",
    "MARKDOWN",
    "SRT",
    "TEXT",
    "WEBVTT",
    "CaptionOptions",
    "Format",
    "NotTimed",
    "Rendered",
    "for_export_format",
]
