"""Markdown (.md, CommonMark): the title as a heading, a paragraph per speaker turn, the
transliterations (the transcript's `<i>` markup) as emphasis.

Text is written so that a CommonMark parser reads it back as the same words: the characters
that could start markup anywhere in a line are backslash-escaped, and so is a paragraph's first
character when it could start a block (a heading, a list, a quote). A turn whose speaker is
named starts with the name in bold ("**Speaker 1:** "). Needs no timestamps.
"""

from __future__ import annotations

import re

from sofer.batch.v1 import batch_pb2

from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.styled import turns
from gateway.captions.words import squeeze

MEDIA_TYPE = "text/markdown; charset=utf-8"
EXTENSION = "md"
_INLINE = re.compile(r"([\\`*_\[\]<>#|~&!])")
_BLOCK_START = re.compile(r"^([+\-=]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """`text` as Markdown inline text: every character that could start markup escaped."""
    return _INLINE.sub(r"\\\1", text)


def _paragraph_start(text: str) -> str:
    """`text` (escaped) safe at the start of a paragraph: a leading "-", "+", "=" or "1." would
    make a list or a heading underline, so it is escaped too."""
    match = _BLOCK_START.match(text)
    if match is None:
        return text
    if match.group(1)[0].isdigit():
        end = match.end()
        return text[:end] + "\\" + text[end:]
    return "\\" + text


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[str, int]:
    """The transcript as Markdown and its number of paragraphs (the heading not counted)."""
    blocks = []
    title = squeeze(transcription.info.title)
    if title:
        blocks.append("# " + escape(title))
    found = turns(transcription, options)
    for turn in found:
        body = "".join(
            f"*{escape(span.text)}*" if span.italic else escape(span.text) for span in turn.spans
        )
        if turn.speaker:
            body = f"**{escape(turn.speaker)}:** {body}"
        blocks.append(_paragraph_start(body))
    return ("\n\n".join(blocks) + "\n" if blocks else ""), len(found)
