"""Word document (.docx), made with python-docx: the title as a heading, a paragraph per
speaker turn, the speaker's name in bold, the transliterations (the transcript's `<i>` markup)
in italics.

A run whose text starts with a right-to-left letter is marked right-to-left (`w:rtl`, python-docx
`Font.rtl`), so Word lays Hebrew out in its own direction. Characters that XML 1.0 cannot hold
(C0 controls other than tab and line ends, U+FFFE, U+FFFF) are dropped: lxml refuses them, and
no transcript means them. Needs no timestamps.
"""

from __future__ import annotations

import io
import re

import docx
from sofer.batch.v1 import batch_pb2

from gateway.captions.cues import starts_right_to_left
from gateway.captions.options import DEFAULT_OPTIONS, CaptionOptions
from gateway.captions.styled import turns
from gateway.captions.words import squeeze

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSION = "docx"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def render(
    transcription: batch_pb2.Transcription, options: CaptionOptions = DEFAULT_OPTIONS
) -> tuple[bytes, int]:
    """The transcript as a DOCX file and its number of paragraphs (the heading not counted)."""
    document = docx.Document()
    title = xml_safe(squeeze(transcription.info.title))
    if title:
        document.add_heading(title, level=1)
    found = turns(transcription, options)
    for turn in found:
        paragraph = document.add_paragraph()
        if turn.speaker:
            name = paragraph.add_run(xml_safe(turn.speaker) + ": ")
            name.bold = True
        for span in turn.spans:
            text = xml_safe(span.text)
            run = paragraph.add_run(text)
            if span.italic:
                run.italic = True
            if starts_right_to_left(text):
                run.font.rtl = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), len(found)
