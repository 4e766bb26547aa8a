"""ExportTranscription: a transcript as SRT, WebVTT or plain text.

The cue rules on hand-built words first (each boundary rule, line breaking, escaping, right-to-
left text), then end to end against the sandbox, every caption file read back by an independent
parser (the `srt` and `webvtt-py` packages) and checked against the word timestamps.
"""

from __future__ import annotations

import dataclasses
import html
import json
import unicodedata
from datetime import timedelta
from typing import Any

import grpc
import pytest
import srt  # type: ignore[import-untyped]  # the package ships no type hints
import webvtt
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway import captions
from gateway.captions.cues import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    Cue,
    build_cues,
    clock,
    speaker_name,
)
from gateway.captions.srt import RIGHT_TO_LEFT_MARK
from gateway.captions.srt import label as srt_label
from gateway.captions.words import Word
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    create_express,
    field_violations,
    finished_batch,
    recording_upstream,
    rpc_error,
    source,
    upstream_total,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
UNKNOWN = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
SRT = batch_pb2.EXPORT_FORMAT_SRT
WEBVTT = batch_pb2.EXPORT_FORMAT_WEBVTT
TEXT = batch_pb2.EXPORT_FORMAT_TEXT
BIDI_CONTROLS = {"\u200e", "\u200f", "\u061c", *map(chr, range(0x202A, 0x202F))}
BIDI_CONTROLS |= set(map(chr, range(0x2066, 0x206A)))


# -- hand-built words -------------------------------------------------------------------------


def word(text: str, start: float, end: float, speaker: str | None = None) -> Word:
    """A timed word as the cue builder takes it."""
    return Word(text, start, end, speaker)


def steady(texts: list[str], *, gap: float = 0.1, length: float = 0.3) -> list[Word]:
    """Words one after another, each `length` seconds long, `gap` seconds apart."""
    out, clock_at = [], 0.0
    for text in texts:
        out.append(word(text, clock_at, clock_at + length))
        clock_at += length + gap
    return out


def texts_of(cues: list[Cue]) -> list[list[str]]:
    """Each cue's words."""
    return [[w.text for w in cue.words] for cue in cues]


def transcript(
    *stamps: batch_pb2.WordTimestamp, text: str | None = None
) -> batch_pb2.Transcription:
    """A proto Transcription of `stamps`; its text is the words joined unless given."""
    if text is None:
        text = " ".join(s.word for s in stamps)
    return batch_pb2.Transcription(text=text, timestamps=list(stamps))


def stamp(
    text: str, start: float, end: float, speaker: str | None = None
) -> batch_pb2.WordTimestamp:
    """One proto WordTimestamp."""
    message = batch_pb2.WordTimestamp(word=text, start=start, end=end)
    if speaker is not None:
        message.speaker = speaker
    return message


def test_a_speaker_change_ends_the_cue() -> None:
    """Every cue holds one speaker's words: a new speaker starts a new cue, however close."""
    words = [word("a", 0, 0.2, "1"), word("b", 0.3, 0.5, "1"), word("c", 0.6, 0.8, "2")]
    cues = build_cues(words)
    assert texts_of(cues) == [["a", "b"], ["c"]]
    assert [c.speaker for c in cues] == ["Speaker 1", "Speaker 2"]


def test_a_pause_longer_than_a_second_ends_the_cue() -> None:
    """A silence of more than 1 s between two words ends the cue; exactly 1 s does not."""
    words = [word("a", 0, 0.5), word("b", 1.5, 2.0), word("c", 3.01, 3.5)]
    assert texts_of(build_cues(words)) == [["a", "b"], ["c"]]


def test_no_cue_is_longer_than_seven_seconds() -> None:
    """A cue ends before the word that would make it last more than 7 s; exactly 7 s fits."""
    words = [word("a", 0, 1), word("b", 1.5, 3), word("c", 3.5, 7.0), word("d", 7.5, 7.9)]
    cues = build_cues(words)
    assert texts_of(cues) == [["a", "b", "c"], ["d"]]
    assert all(cue.end - cue.start <= MAX_CUE_SECONDS for cue in cues)


def test_a_cue_holds_at_most_two_lines_of_42_characters() -> None:
    """Words fill at most 2 lines of at most 42 characters; the word that would need a third
    line starts the next cue."""
    words = steady([f"w{n:03d}" for n in range(20)], gap=0.0, length=0.1)  # 4 characters each
    cues = build_cues(words)
    # 8 words make a 39-character line, 9 make 44: two lines hold 16 words.
    assert [len(c.words) for c in cues] == [16, 4]
    assert cues[0].lines == (
        " ".join(t for t in texts_of(cues)[0][:8]),
        " ".join(texts_of(cues)[0][8:]),
    )
    for cue in cues:
        assert len(cue.lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines)


def test_two_lines_break_where_the_longer_line_is_shortest() -> None:
    """A cue too long for one line breaks into two of nearly equal length, not a full first
    line and a stub."""
    words = steady(["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"], length=0.2)
    (cue,) = build_cues(words)
    assert cue.lines == ("aaaaaaaaaa bbbbbbbbbb", "cccccccccc dddddddddd")


def test_a_word_longer_than_a_line_gets_a_cue_of_its_own() -> None:
    """A single word wider than a line is never cut: it is a cue by itself, and the words
    around it go on in cues of their own."""
    long = "x" * 50
    cues = build_cues(steady(["before", long, "after"]))
    assert texts_of(cues) == [["before"], [long], ["after"]]
    assert cues[1].lines == (long,)


def test_words_that_overlap_in_time_stay_together() -> None:
    """The two forms of a Hebrew term share one time span; a cue boundary never falls between
    them, even where the second no longer fits the lines, so consecutive cues never overlap."""
    words = [
        word("x" * 20, 0.0, 0.3),
        word("y" * 21, 0.4, 0.7),  # the first line is full: 42 characters
        word("z" * 32, 0.8, 1.1),
        word("Shabbos", 1.2, 1.5),  # 40 characters on the second line
        word("שבת", 1.2, 1.5),  # 44: would need a third line
        word("b", 1.6, 1.8),
    ]
    cues = build_cues(words)
    assert texts_of(cues) == [["x" * 20, "y" * 21, "z" * 32], ["Shabbos", "שבת", "b"]]
    assert cues[0].end <= cues[1].start


def test_the_srt_label_counts_against_the_first_line() -> None:
    """SRT writes "Speaker 1: " into the first line, so that line holds fewer words."""
    words = [dataclasses.replace(w, speaker="1") for w in steady(["abcdefghi"] * 4, length=0.2)]
    assert [len(c.lines) for c in build_cues(words)] == [1]  # 39 characters: one line
    (labelled,) = build_cues(words, srt_label)
    assert len(labelled.lines) == 2
    assert len(srt_label(labelled.speaker)) + len(labelled.lines[0]) <= MAX_LINE_CHARS


def test_speakers_are_named() -> None:
    """Numbered speakers are "Speaker N"; other labels are kept; none is no name."""
    assert speaker_name("2") == "Speaker 2"
    assert speaker_name("Rabbi Cohen") == "Rabbi Cohen"
    assert speaker_name(None) is None
    assert speaker_name("") is None


def test_times_are_written_to_the_millisecond() -> None:
    """SRT and WebVTT times are HH:MM:SS with milliseconds, rounded, hours past 1 included."""
    assert clock(3723.4567, ",") == "01:02:03,457"
    assert clock(0.0006, ".") == "00:00:00.001"
    assert clock(59.9996, ".") == "00:01:00.000"


def test_cue_text_keeps_the_transcript_punctuation_and_drops_markup() -> None:
    """When the transcript text has one token per word, captions show its punctuation; the
    <i> of transliterations is dropped."""
    shown = transcript(
        stamp("Hello", 0, 0.4),
        stamp("Shabbos", 0.5, 0.9),
        stamp("שבת", 0.5, 0.9),
        text="Hello, <i>Shabbos</i> שבת.",
    )
    parsed = list(srt.parse(captions.SRT.render(shown).content))
    assert [s.content for s in parsed] == ["Hello, Shabbos שבת."]


def test_cue_text_is_the_bare_words_when_the_text_does_not_line_up() -> None:
    """A transcript text that does not match its words token for token (here a number written
    out) is not used: captions show the words as timed."""
    shown = transcript(stamp("3", 0, 0.4), stamp("apples", 0.5, 0.9), text="Three apples.")
    parsed = list(srt.parse(captions.SRT.render(shown).content))
    assert [s.content for s in parsed] == ["3 apples"]


def test_webvtt_escapes_what_cue_text_reserves() -> None:
    """`&`, `<` and `>` (so also "-->") are character references in WebVTT cue text and voice
    names; a parser gives the words back."""
    shown = transcript(
        stamp("a&b", 0, 0.4, "R&D <team>"),
        stamp("<i>", 0.5, 0.9, "R&D <team>"),
        stamp("-->", 1.0, 1.2, "R&D <team>"),
    )
    content = captions.WEBVTT.render(shown).content
    assert "<v R&amp;D &lt;team&gt;>a&amp;b &lt;i&gt; --&gt;" in content
    assert content.count("-->") == 1  # the timing line's only
    (cue,) = webvtt.from_string(content).captions
    assert html.unescape(cue.text) == "a&b <i> -->"


def test_srt_keeps_an_arrow_in_the_text_from_looking_like_a_timing_line() -> None:
    """ "-->" in a word is written with an invisible word joiner in SRT, so only timing lines
    contain the arrow."""
    content = captions.SRT.render(transcript(stamp("a-->b", 0, 1))).content
    assert content.count("-->") == 1
    (parsed,) = srt.parse(content)
    assert parsed.content.replace("\u2060", "") == "a-->b"


def test_hebrew_is_written_in_logical_order_without_controls() -> None:
    """Hebrew words reach both caption formats exactly as the transcript has them: no
    reversal, and in WebVTT (speaker as markup) no control character at all."""
    words = ["היום", "נלמד", "על", "השאלה"]
    shown = transcript(*(stamp(w, n * 0.5, n * 0.5 + 0.4, "1") for n, w in enumerate(words)))
    (vtt_cue,) = webvtt.from_string(captions.WEBVTT.render(shown).content).captions
    assert vtt_cue.text == " ".join(words)
    assert vtt_cue.voice == "Speaker 1"
    assert not BIDI_CONTROLS & set(vtt_cue.raw_text)
    (srt_cue,) = srt.parse(captions.SRT.render(shown).content)
    assert srt_cue.content == f"{RIGHT_TO_LEFT_MARK}Speaker 1: {' '.join(words)}"


def test_srt_adds_the_right_to_left_mark_only_before_a_label_of_right_to_left_text() -> None:
    """An English cue with a speaker label, or a Hebrew one without a label, gets no control
    character: only a Latin label before right-to-left text needs one."""
    english = transcript(stamp("hello", 0, 0.4, "1"))
    unlabelled = transcript(stamp("שלום", 0, 0.4))
    for shown in (english, unlabelled):
        content = captions.SRT.render(shown).content
        assert not BIDI_CONTROLS & set(content), content


def test_text_has_a_paragraph_per_speaker_turn() -> None:
    """Plain text puts each speaker turn under a line naming the speaker, turns separated by a
    blank line; the count is the number of paragraphs."""
    shown = transcript(
        stamp("שלום", 0, 0.4, "1"),
        stamp("חברים", 0.5, 0.9, "1"),
        stamp("hi", 1, 1.2, "2"),
        stamp("again", 1.3, 1.5, "1"),
    )
    rendered = captions.TEXT.render(shown)
    hebrew = " ".join(["שלום", "חברים"])
    assert rendered.content == f"Speaker 1:\n{hebrew}\n\nSpeaker 2:\nhi\n\nSpeaker 1:\nagain\n"
    assert rendered.cue_count == 3


def test_text_without_speakers_is_the_transcript_text_without_markup() -> None:
    """Without speaker labels, plain text is the transcript's text (punctuation kept, <i>
    dropped), one paragraph."""
    shown = transcript(stamp("a", 0, 1), text="Welcome to the <i>shiur</i> שיעור.\n")
    assert captions.TEXT.render(shown).content == "Welcome to the shiur שיעור.\n"


def test_a_transcript_without_timestamps_cannot_be_captioned() -> None:
    """Text without word timestamps has no timing for cues: SRT and WebVTT refuse (NotTimed),
    plain text works."""
    shown = batch_pb2.Transcription(text="Some words")
    for file_format in (captions.SRT, captions.WEBVTT):
        with pytest.raises(captions.NotTimed):
            file_format.render(shown)
    assert captions.TEXT.render(shown).content == "Some words\n"


def test_an_empty_transcript_renders_empty_files() -> None:
    """No text and no words (an unfinished transcription, or silence): no cues, no error."""
    empty = batch_pb2.Transcription()
    assert captions.SRT.render(empty) == captions.Rendered("", 0)
    assert captions.WEBVTT.render(empty) == captions.Rendered("WEBVTT\n", 0)
    assert captions.TEXT.render(empty) == captions.Rendered("", 0)
    assert webvtt.from_string("WEBVTT\n").captions == []


def test_formats_are_named_by_extension_for_file_writers() -> None:
    """`sofer-gateway fetch` can pick a renderer by its file extension."""
    assert {k: f.media_type for k, f in captions.FORMATS.items()} == {
        "srt": "application/x-subrip",
        "vtt": "text/vtt",
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "json": "application/json",
    }
    assert captions.for_export_format(batch_pb2.EXPORT_FORMAT_UNSPECIFIED) is None


# -- end to end -------------------------------------------------------------------------------


def export(
    transcription_id: str,
    file_format: batch_pb2.ExportFormat,
    **fields: Any,
) -> pb.ExportTranscriptionRequest:
    """An ExportTranscriptionRequest."""
    return pb.ExportTranscriptionRequest(
        transcription_id=transcription_id, format=file_format, **fields
    )


async def completed(stub: Stub, item: batch_pb2.AudioSource, **info: Any) -> str:
    """The id of `item`'s transcription, once its batch has finished."""
    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(**info),
        processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
        audio_sources=[item],
    )
    created: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    await finished_batch(stub, created.batch_id)
    return created.transcription_ids[0]


async def words_of(
    stub: Stub, transcription_id: str, **fields: Any
) -> list[batch_pb2.WordTimestamp]:
    """The transcript's word timestamps, as GetTranscription returns them."""
    response: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(transcription_id=transcription_id, **fields), metadata=bearer()
    )
    return list(response.transcription.timestamps)


def bare(token: str) -> str:
    """A caption token without the punctuation the transcript text put around the word."""
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[start:end]


def millis(seconds: float) -> timedelta:
    """A word time as the caption files write it (to the millisecond)."""
    return timedelta(milliseconds=round(seconds * 1000))


def check_cues(
    cues: list[tuple[timedelta, timedelta, str | None, str]],
    words: list[batch_pb2.WordTimestamp],
) -> None:
    """Parsed cues (start, end, speaker name, text without label) against the words: in order,
    never overlapping, each from its first word's start to its last word's end, one speaker,
    at most 2 lines of 42, and the texts, punctuation aside, the words joined."""
    at = 0
    previous_end = timedelta(0)
    for start, end, speaker, text in cues:
        lines = text.split("\n")
        assert 1 <= len(lines) <= 2, text
        assert all(len(line) <= MAX_LINE_CHARS for line in lines), text
        tokens = text.split()
        held = words[at : at + len(tokens)]
        assert [bare(t) for t in tokens] == [w.word for w in held], text
        assert start == millis(held[0].start)
        assert end == millis(held[-1].end)
        assert end - start <= timedelta(seconds=MAX_CUE_SECONDS)
        assert start >= previous_end
        assert {speaker_name(w.speaker if w.HasField("speaker") else None) for w in held} == {
            speaker
        }
        previous_end = end
        at += len(tokens)
    assert at == len(words)


def srt_cues(content: str) -> list[tuple[timedelta, timedelta, str | None, str]]:
    """The cues of an SRT file, read by the `srt` package, the speaker label taken off."""
    out = []
    for subtitle in srt.parse(content):
        text, speaker = subtitle.content.removeprefix(RIGHT_TO_LEFT_MARK), None
        name, sep, rest = text.partition(": ")
        if sep and name.startswith("Speaker "):
            text, speaker = rest, name
        out.append((subtitle.start, subtitle.end, speaker, text))
    return out


def vtt_time(value: str) -> timedelta:
    """A WebVTT HH:MM:SS.mmm time."""
    hours, minutes, seconds = value.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def vtt_cues(content: str) -> list[tuple[timedelta, timedelta, str | None, str]]:
    """The cues of a WebVTT file, read by the `webvtt-py` package."""
    return [
        (vtt_time(c.start), vtt_time(c.end), c.voice, html.unescape(c.text))
        for c in webvtt.from_string(content).captions
    ]


async def test_srt_export_matches_the_word_timestamps(stub: Stub) -> None:
    """An SRT export of a two-speaker transcript with Hebrew terms in both forms parses as
    SRT, and every cue is timed by its words, labelled with their speaker, within the line
    limits, its text the words in order."""
    transcription_id = await completed(
        stub,
        source("export-srt", num_speakers=2),
        hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HYBRID],
    )
    response: pb.ExportTranscriptionResponse = await stub.ExportTranscription(
        export(transcription_id, SRT), metadata=bearer()
    )
    assert (response.media_type, response.file_extension) == ("application/x-subrip", "srt")
    assert response.info.id == transcription_id
    assert response.info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    cues = srt_cues(response.content)
    assert response.cue_count == len(cues) > 1
    words = await words_of(stub, transcription_id)
    assert {w.speaker for w in words} == {"1", "2"}
    assert any(w.hebrew_word_format for w in words)
    check_cues(cues, words)


async def test_webvtt_export_keeps_hebrew_intact(stub: Stub) -> None:
    """A WebVTT export of a Hebrew transcript with two speakers parses as WebVTT, speakers as
    voices, every Hebrew word exactly as the transcript has it, no control character added."""
    transcription_id = await completed(
        stub, source("export-vtt", num_speakers=2), primary_language=batch_pb2.LANGUAGE_HE
    )
    response: pb.ExportTranscriptionResponse = await stub.ExportTranscription(
        export(transcription_id, WEBVTT), metadata=bearer()
    )
    assert (response.media_type, response.file_extension) == ("text/vtt", "vtt")
    assert response.content.startswith("WEBVTT\n")
    assert not BIDI_CONTROLS & set(response.content)
    cues = vtt_cues(response.content)
    assert response.cue_count == len(cues) > 1
    words = await words_of(stub, transcription_id)
    assert all(unicodedata.bidirectional(w.word[0]) == "R" for w in words)
    check_cues(cues, words)


async def test_text_export_is_the_transcript_text(stub: Stub) -> None:
    """A TEXT export of a one-speaker transcript is its text without the <i> markup."""
    item = source("export-text")
    transcription_id = await completed(
        stub, item, hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HYBRID]
    )
    got: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(transcription_id=transcription_id), metadata=bearer()
    )
    assert "<i>" in got.transcription.text
    response: pb.ExportTranscriptionResponse = await stub.ExportTranscription(
        export(transcription_id, TEXT), metadata=bearer()
    )
    assert response.media_type == "text/plain; charset=utf-8"
    assert response.file_extension == "txt"
    expected = got.transcription.text.replace("<i>", "").replace("</i>", "")
    assert response.content == expected + "\n"
    assert response.cue_count == 1


async def test_export_applies_the_hebrew_word_filter(stub: Stub) -> None:
    """filter_hebrew_word_format works as in GetTranscription: HE drops the transliterations
    from the captions."""
    transcription_id = await completed(
        stub, source("export-filter"), hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HYBRID]
    )
    request = export(
        transcription_id, WEBVTT, filter_hebrew_word_format=batch_pb2.HEBREW_WORD_FORMAT_HE
    )
    response: pb.ExportTranscriptionResponse = await stub.ExportTranscription(
        request, metadata=bearer()
    )
    words = await words_of(
        stub, transcription_id, filter_hebrew_word_format=batch_pb2.HEBREW_WORD_FORMAT_HE
    )
    assert all(list(w.hebrew_word_format) in ([], [batch_pb2.HEBREW_WORD_FORMAT_HE]) for w in words)
    check_cues(vtt_cues(response.content), words)


async def test_another_tenants_transcription_is_not_found(stub: Stub) -> None:
    """A transcription exported with another credential than its owner's is NOT_FOUND."""
    created = await create_express(stub, source("export-tenant"), token=TOKEN)
    await finished_batch(stub, created.batch_id)
    error = await rpc_error(
        stub.ExportTranscription(
            export(created.transcription_ids[0], SRT), metadata=bearer(OTHER_TOKEN)
        )
    )
    assert_error(error, grpc.StatusCode.NOT_FOUND, "TRANSCRIPTION_NOT_FOUND")


async def test_an_unknown_transcription_is_not_found(stub: Stub) -> None:
    """An id the upstream does not know is NOT_FOUND, reason TRANSCRIPTION_NOT_FOUND, the id in
    the ErrorInfo."""
    error = await rpc_error(stub.ExportTranscription(export(UNKNOWN, TEXT), metadata=bearer()))
    info = assert_error(error, grpc.StatusCode.NOT_FOUND, "TRANSCRIPTION_NOT_FOUND")
    assert info.metadata["transcription_id"] == UNKNOWN


async def test_a_failed_transcription_is_rejected_as_in_get_transcription(stub: Stub) -> None:
    """Exporting a FAILED item carries the upstream's 400 as INVALID_ARGUMENT, as
    GetTranscription does."""
    created = await create_express(stub, source("fail-export"))
    await finished_batch(stub, created.batch_id)
    error = await rpc_error(
        stub.ExportTranscription(export(created.transcription_ids[0], SRT), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")


def with_enum(message: pb.ExportTranscriptionRequest, name: str, value: int) -> Any:
    """`message` with an enum field set to any number (proto3 enums are open)."""
    setattr(message, name, value)
    return message


@pytest.mark.parametrize(
    ("request_message", "expected"),
    [
        (export(UNKNOWN, batch_pb2.EXPORT_FORMAT_UNSPECIFIED), {"format": "REQUIRED"}),
        (with_enum(export(UNKNOWN, SRT), "format", 9), {"format": "UNKNOWN_ENUM_VALUE"}),
        (
            export("", SRT),
            {"transcription_id": "REQUIRED"},
        ),
        (
            with_enum(export(UNKNOWN + "0", TEXT), "filter_hebrew_word_format", 7),
            {"transcription_id": "INVALID_UUID", "filter_hebrew_word_format": "UNKNOWN_ENUM_VALUE"},
        ),
    ],
    ids=["format-unspecified", "format-unknown", "id-missing", "id-and-filter"],
)
async def test_rule_is_invalid_argument_before_any_upstream_call(
    stub: Stub, sandbox: SandboxServer, request_message: Any, expected: dict[str, str]
) -> None:
    """A request breaking a rule fails INVALID_ARGUMENT naming exactly the broken fields
    (`format` UNSPECIFIED: REQUIRED), and the upstream never hears of it."""
    before = await upstream_total(sandbox)
    error = await rpc_error(stub.ExportTranscription(request_message, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == expected
    assert await upstream_total(sandbox) == before


async def test_an_unfinished_transcription_exports_empty(gateway_config: GatewayConfig) -> None:
    """A transcription still in progress answers as GetTranscription does: OK with its state,
    and no cues (an SRT of nothing, a WebVTT header alone)."""
    slow = SandboxConfig(item_seconds=600.0, manifest_validation_seconds=0.0)
    async with SandboxServer(slow, host="127.0.0.1", port=0) as sandbox:
        config = dataclasses.replace(gateway_config, upstream_url=sandbox.url)
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            stub = Stub(ch)
            created = await create_express(stub, source("export-unfinished"))
            transcription_id = created.transcription_ids[0]
            srt_file = await stub.ExportTranscription(
                export(transcription_id, SRT), metadata=bearer()
            )
            vtt_file = await stub.ExportTranscription(
                export(transcription_id, WEBVTT), metadata=bearer()
            )
    assert srt_file.info.state != batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    assert (srt_file.content, srt_file.cue_count) == ("", 0)
    assert (vtt_file.content, vtt_file.cue_count) == ("WEBVTT\n", 0)


UNTIMED = {
    "text": "Words without timing",
    "timestamps": None,
    "info": {
        "id": UNKNOWN,
        "title": "Untimed",
        "created_at": "2024-01-15T09:30:00Z",
        "primary_language": "en",
        "hebrew_word_format": ["en"],
        "status": "COMPLETED",
    },
}


async def test_a_transcript_without_timestamps_is_a_failed_precondition_for_captions(
    gateway_config: GatewayConfig,
) -> None:
    """An upstream transcript with text but no word timestamps cannot be captioned: SRT fails
    FAILED_PRECONDITION (reason TRANSCRIPT_NOT_TIMED) naming TEXT, which works."""
    async with recording_upstream(200, json.dumps(UNTIMED).encode()) as (url, _record):
        config = dataclasses.replace(gateway_config, upstream_url=url)
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            stub = Stub(ch)
            error = await rpc_error(
                stub.ExportTranscription(export(UNKNOWN, SRT), metadata=bearer())
            )
            text_file = await stub.ExportTranscription(export(UNKNOWN, TEXT), metadata=bearer())
    info = assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "TRANSCRIPT_NOT_TIMED")
    assert info.metadata["transcription_id"] == UNKNOWN
    assert "EXPORT_FORMAT_TEXT" in (error.details() or "")
    assert text_file.content == "Words without timing\n"
