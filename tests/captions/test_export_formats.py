"""ExportTranscription as Markdown, DOCX and JSON, and the caption options.

Each format is read back by an independent parser: Markdown by markdown-it-py (CommonMark),
DOCX by python-docx, JSON by the json module; captions cut with options by the `srt` package.
Pure renderings of hand-built transcripts first, then end to end against the sandbox.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import docx
import grpc
import srt  # type: ignore[import-untyped]  # the package ships no type hints
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway import captions
from gateway.captions.styled import Span, tokens
from tests.conftest import bearer
from tests.helpers.calls import assert_error, field_violations, finished_batch, rpc_error, source

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
OFF = captions.CaptionOptions(speaker_labels=False)


def transcript(text: str, *words: tuple[str, float, float, str | None], title: str = "") -> Any:
    """A Transcription with `text` and timed words (word, start, end, speaker)."""
    out = batch_pb2.Transcription(
        text=text, info=batch_pb2.TranscriptionInfo(id="t-1", title=title)
    )
    for word, start, end, speaker in words:
        stamp = out.timestamps.add(word=word, start=start, end=end)
        if speaker is not None:
            stamp.speaker = speaker
    return out


SHIUR = transcript(
    "Today we learn <i>Bava Metzia</i>, chapter *two*. The <i>Gemara</i> asks # why?",
    ("Today", 0.0, 0.4, "1"),
    ("we", 0.4, 0.6, "1"),
    ("learn", 0.6, 1.0, "1"),
    ("Bava", 1.0, 1.4, "1"),
    ("Metzia", 1.4, 1.9, "1"),
    ("chapter", 2.0, 2.4, "1"),
    ("*two*", 2.4, 2.8, "1"),
    ("The", 3.0, 3.2, "2"),
    ("Gemara", 3.2, 3.7, "2"),
    ("asks", 3.7, 4.0, "2"),
    ("#", 4.0, 4.1, "2"),
    ("why", 4.1, 4.5, "2"),
    title="Shiur [1] <b>",
)


def inline_text(token: Token) -> str:
    """The text a Markdown inline token shows (emphasis and strong markers dropped)."""
    return "".join(child.content for child in token.children or [] if child.type == "text")


def emphasized(token: Token) -> list[str]:
    """The texts inside <em> of a Markdown inline token."""
    out: list[str] = []
    inside = False
    for child in token.children or []:
        if child.type == "em_open":
            inside, out = True, [*out, ""]
        elif child.type == "em_close":
            inside = False
        elif inside and child.type == "text":
            out[-1] += child.content
    return out


# -- pure renderings ----------------------------------------------------------------------------


def test_tokens_keep_the_italics_of_the_markup() -> None:
    """The transcript text splits into the plain text's tokens, each with the italics its
    `<i>` markup gave it, a tag inside a word included, an unclosed one running to the end."""
    assert tokens("a<i>b</i> <i>c d</i> e") == [
        [Span("a", False), Span("b", True)],
        [Span("c", True)],
        [Span("d", True)],
        [Span("e", False)],
    ]
    assert tokens("  <i>x") == [[Span("x", True)]]
    assert tokens("") == []


def test_markdown_reads_back_as_the_words_with_transliterations_emphasized() -> None:
    """A CommonMark parser reads the Markdown export as the title heading and one paragraph per
    speaker turn, each starting with the bold speaker, the transliterations (and only they) as
    emphasis, and every word as the transcript has it (Markdown's own characters escaped)."""
    rendered = captions.MARKDOWN.render(SHIUR)
    parsed = MarkdownIt("commonmark").parse(rendered.content)
    kinds = [t.type for t in parsed]
    assert kinds == ["heading_open", "inline", "heading_close"] + 2 * [
        "paragraph_open",
        "inline",
        "paragraph_close",
    ]
    inlines = [t for t in parsed if t.type == "inline"]
    assert inline_text(inlines[0]) == "Shiur [1] <b>"
    assert inline_text(inlines[1]) == "Speaker 1: Today we learn Bava Metzia, chapter *two*."
    assert inline_text(inlines[2]) == "Speaker 2: The Gemara asks # why?"
    assert [emphasized(t) for t in inlines[1:]] == [["Bava Metzia"], ["Gemara"]]
    assert rendered.cue_count == 2


def test_markdown_escapes_what_would_start_a_block() -> None:
    """A paragraph starting like a list item or a heading underline stays a paragraph."""
    for start in ("1. first", "- dash", "+ plus", "= equals", "# hash"):
        content = captions.MARKDOWN.render(transcript(start)).content
        parsed = MarkdownIt("commonmark").parse(content)
        assert [t.type for t in parsed] == ["paragraph_open", "inline", "paragraph_close"]
        assert inline_text(parsed[1]) == start


def test_docx_reads_back_with_italic_transliterations_and_bold_speakers() -> None:
    """python-docx reads the DOCX export as the title heading and a paragraph per turn: the
    speaker's name in bold, the transliterations (and only they) in italics, the words whole."""
    rendered = captions.DOCX.render(SHIUR)
    assert rendered.content == ""
    document = docx.Document(io.BytesIO(rendered.binary))
    heading, *paragraphs = document.paragraphs
    assert (heading.text, heading.style.name if heading.style else None) == (
        "Shiur [1] <b>",
        "Heading 1",
    )
    assert [p.text for p in paragraphs] == [
        "Speaker 1: Today we learn Bava Metzia, chapter *two*.",
        "Speaker 2: The Gemara asks # why?",
    ]
    assert [[r.text for r in p.runs if r.italic] for p in paragraphs] == [
        ["Bava Metzia"],
        ["Gemara"],
    ]
    assert [[r.text for r in p.runs if r.bold] for p in paragraphs] == [
        ["Speaker 1: "],
        ["Speaker 2: "],
    ]
    assert rendered.cue_count == 2


def test_docx_drops_what_xml_cannot_hold_and_marks_hebrew_right_to_left() -> None:
    """Control characters in a transcript do not break the DOCX (XML cannot hold them: they
    are dropped), and a Hebrew run is marked right-to-left."""
    rendered = captions.DOCX.render(transcript("bad\x00\x07 char \u05e9\u05dc\u05d5\u05dd"))
    document = docx.Document(io.BytesIO(rendered.binary))
    [paragraph] = document.paragraphs
    assert paragraph.text == "bad char \u05e9\u05dc\u05d5\u05dd"
    assert [run.font.rtl for run in paragraph.runs] == [None]  # one run, starting "bad"
    hebrew = captions.DOCX.render(transcript("\u05e9\u05dc\u05d5\u05dd <i>shalom</i>"))
    runs = docx.Document(io.BytesIO(hebrew.binary)).paragraphs[0].runs
    assert [(r.text, r.font.rtl, r.italic) for r in runs] == [
        ("\u05e9\u05dc\u05d5\u05dd ", True, None),
        ("shalom", None, True),
    ]


def test_json_has_every_word_with_its_time_and_speaker() -> None:
    """The JSON export parses as one object: the id, title, the text without markup, and a
    word per timestamp with its display form, times and speaker (null with labels off; a time
    that is not a number is null, never an invalid JSON NaN)."""
    rendered = captions.JSON.render(SHIUR)
    data = json.loads(rendered.content)
    assert set(data) == {"transcription_id", "title", "text", "words"}
    assert data["text"].startswith("Today we learn Bava Metzia, chapter")
    assert len(data["words"]) == rendered.cue_count == len(SHIUR.timestamps)
    assert data["words"][4] == {"text": "Metzia,", "start": 1.4, "end": 1.9, "speaker": "Speaker 1"}
    off = json.loads(captions.JSON.render(SHIUR, OFF).content)
    assert {w["speaker"] for w in off["words"]} == {None}
    broken = transcript("x", ("x", math.nan, 1.0, None))
    assert json.loads(captions.JSON.render(broken).content)["words"][0]["start"] is None


def test_caption_options_cut_lines_and_cues_and_drop_labels() -> None:
    """Shorter lines and cues than today's rules hold, speakers unnamed on request: SRT parses,
    every line fits, every cue of several words is within the seconds, and no label is
    written (cues still end where the speaker changes)."""
    options = captions.CaptionOptions(line_chars=16, cue_seconds=1.5, speaker_labels=False)
    content = captions.SRT.render(SHIUR, options).content
    cues = list(srt.parse(content))
    assert all(len(line) <= 16 for cue in cues for line in cue.content.split("\n"))
    assert all((c.end - c.start).total_seconds() <= 1.5 for c in cues)
    assert "Speaker" not in content
    assert any(c.content.endswith("two*.") for c in cues)  # speaker 1's last word ends a cue
    vtt = captions.WEBVTT.render(SHIUR, OFF).content
    assert "<v " not in vtt
    text = captions.TEXT.render(SHIUR, OFF)
    assert "Speaker" not in text.content
    assert text.cue_count == 2
    default = list(srt.parse(captions.SRT.render(SHIUR).content))
    assert len(default) < len(cues)


# -- end to end ---------------------------------------------------------------------------------


async def hybrid_transcription(stub: Stub) -> str:
    """A completed two-speaker transcription with Hebrew terms in both forms (`<i>` markup)."""
    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HYBRID]),
        processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
        audio_sources=[source("export-formats", num_speakers=2)],
    )
    created: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    await finished_batch(stub, created.batch_id)
    return created.transcription_ids[0]


async def exported(
    stub: Stub, transcription_id: str, file_format: batch_pb2.ExportFormat, **fields: Any
) -> Any:
    """One ExportTranscription."""
    return await stub.ExportTranscription(
        pb.ExportTranscriptionRequest(
            transcription_id=transcription_id, format=file_format, **fields
        ),
        metadata=bearer(),
    )


async def test_markdown_docx_and_json_exports_of_a_sandbox_transcript(stub: Stub) -> None:
    """A sandbox transcript with transliterations exported in the three new formats: each
    reads back with its parser, with the transliterations of the transcript's `<i>` markup as
    emphasis (Markdown) and italics (DOCX), and JSON has a word per timestamp."""
    transcription_id = await hybrid_transcription(stub)
    read: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(transcription_id=transcription_id), metadata=bearer()
    )
    marked = [token for token in tokens(read.transcription.text) if token[0].italic]
    assert marked

    md = await exported(stub, transcription_id, batch_pb2.EXPORT_FORMAT_MARKDOWN)
    assert (md.media_type, md.file_extension) == ("text/markdown; charset=utf-8", "md")
    parsed = MarkdownIt("commonmark").parse(md.content)
    inlines = [t for t in parsed if t.type == "inline"]
    emphasis = [text for token in inlines for text in emphasized(token)]
    assert " ".join(emphasis).split() == [s.text for token in marked for s in token]

    word_file = await exported(stub, transcription_id, batch_pb2.EXPORT_FORMAT_DOCX)
    assert word_file.file_extension == "docx"
    assert word_file.content == ""
    document = docx.Document(io.BytesIO(word_file.binary_content))
    italics = [r.text for p in document.paragraphs for r in p.runs if r.italic]
    assert " ".join(italics).split() == " ".join(emphasis).split()
    assert word_file.cue_count == md.cue_count == len(document.paragraphs) - 1  # the title

    as_json = await exported(stub, transcription_id, batch_pb2.EXPORT_FORMAT_JSON)
    data = json.loads(as_json.content)
    assert data["transcription_id"] == transcription_id
    assert [(w["start"], w["end"]) for w in data["words"]] == [
        (t.start, t.end) for t in read.transcription.timestamps
    ]
    assert {w["speaker"] for w in data["words"]} == {"Speaker 1", "Speaker 2"}


async def test_caption_options_apply_end_to_end(stub: Stub) -> None:
    """An SRT export with 20 characters a line and no speaker labels parses as SRT with every
    line within 20 characters and no label."""
    transcription_id = await hybrid_transcription(stub)
    options = pb.CaptionOptions(max_line_characters=20, speaker_labels=False)
    answer = await exported(
        stub, transcription_id, batch_pb2.EXPORT_FORMAT_SRT, caption_options=options
    )
    cues = list(srt.parse(answer.content))
    assert len(cues) == answer.cue_count > 1
    assert all(len(line) <= 20 for cue in cues for line in cue.content.split("\n"))
    assert "Speaker" not in answer.content


async def test_bad_caption_options_name_their_fields(stub: Stub) -> None:
    """Caption options out of range fail INVALID_ARGUMENT, every violation with its field
    path, before anything is read."""
    options = pb.CaptionOptions(max_line_characters=5, max_cue_seconds=math.inf)
    error = await rpc_error(
        stub.ExportTranscription(
            pb.ExportTranscriptionRequest(
                transcription_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                format=batch_pb2.EXPORT_FORMAT_SRT,
                caption_options=options,
            ),
            metadata=bearer(),
        )
    )
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == {
        "caption_options.max_line_characters": "OUT_OF_RANGE",
        "caption_options.max_cue_seconds": "OUT_OF_RANGE",
    }
