"""GET /v1/transcriptions/{id}: deterministic fake transcripts, Hebrew formats and the filter."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sofer_sandbox import SandboxConfig, SandboxServer
from sofer_sandbox.transcripts import duration_seconds, render, visible_formats

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import client, create_express

URL = "https://example.com/shiur-42.mp3"
HEBREW = re.compile("[\u0590-\u05ff]")


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items take one second on the fake clock."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


async def _done(
    http: httpx.AsyncClient, sandbox_clock: FakeTime, url: str = URL, **extra: Any
) -> str:
    batch = await create_express(http, url, **extra)
    sandbox_clock.advance(2.0)
    transcription_id: str = batch["transcription_ids"][0]
    return transcription_id


async def _get(http: httpx.AsyncClient, tid: str, filter_: str | None = None) -> dict[str, Any]:
    params = {"filter_hebrew_word_format": filter_} if filter_ else {}
    response = await http.get(f"/v1/transcriptions/{tid}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_transcripts_are_deterministic_per_url(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Two transcriptions of one URL have the same text and timestamps; another URL differs."""
    async with client(sandbox) as http:
        one = await _get(http, await _done(http, sandbox_clock))
        two = await _get(http, await _done(http, sandbox_clock))
        other = await _get(http, await _done(http, sandbox_clock, "https://example.com/other.mp3"))
    assert one["text"] == two["text"]
    assert one["timestamps"] == two["timestamps"]
    assert other["text"] != one["text"]


async def test_timestamps_are_ordered_and_within_the_duration(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """start <= end for every word, starts never go back, and the last end fits the duration."""
    async with client(sandbox) as http:
        body = await _get(http, await _done(http, sandbox_clock))
    stamps = body["timestamps"]
    assert stamps
    assert all(w["start"] <= w["end"] for w in stamps)
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(stamps))
    assert stamps[-1]["end"] <= body["info"]["duration"]
    assert body["info"]["status"] == "COMPLETED"


async def test_default_formats_give_both_forms_of_hebrew_terms(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """["en","he"]: transliterations in <i>..</i> tagged ["en"], Hebrew letters tagged ["he"]."""
    async with client(sandbox) as http:
        body = await _get(http, await _done(http, sandbox_clock))
    tags = {tuple(w["hebrew_word_format"] or ()) for w in body["timestamps"]}
    assert tags == {(), ("en",), ("he",)}
    assert "<i>" in body["text"]
    assert HEBREW.search(body["text"])
    for word in body["timestamps"]:
        if word["hebrew_word_format"] == ["en"]:
            assert f"<i>{word['word']}</i>" in body["text"]
        if word["hebrew_word_format"] == ["he"]:
            assert HEBREW.search(word["word"])


async def test_filter_en_removes_hebrew_letters(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """filter=en: no Hebrew characters in the text, no word tagged "he" in the timestamps."""
    async with client(sandbox) as http:
        body = await _get(http, await _done(http, sandbox_clock), "en")
    assert not HEBREW.search(body["text"])
    assert all("he" not in (w["hebrew_word_format"] or []) for w in body["timestamps"])
    assert "<i>" in body["text"]


async def test_filter_he_removes_transliterations(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """filter=he: no <i> transliterations in the text, no word tagged only "en"."""
    async with client(sandbox) as http:
        body = await _get(http, await _done(http, sandbox_clock), "he")
    assert "<i>" not in body["text"]
    assert all(w["hebrew_word_format"] != ["en"] for w in body["timestamps"])
    assert HEBREW.search(body["text"])


async def test_filter_hybrid_keeps_both_forms(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """filter=hybrid: transliteration and Hebrew letters for each term, even if one was asked."""
    async with client(sandbox) as http:
        tid = await _done(http, sandbox_clock, info={"hebrew_word_format": ["he"]})
        plain = await _get(http, tid)
        hybrid = await _get(http, tid, "hybrid")
    assert "<i>" not in plain["text"]
    assert "<i>" in hybrid["text"]
    assert HEBREW.search(hybrid["text"])


async def test_requested_format_en_only(sandbox: SandboxServer, sandbox_clock: FakeTime) -> None:
    """hebrew_word_format ["en"]: transliterations only, and the info echoes ["en"]."""
    async with client(sandbox) as http:
        body = await _get(
            http, await _done(http, sandbox_clock, info={"hebrew_word_format": ["en"]})
        )
    assert not HEBREW.search(body["text"])
    assert body["info"]["hebrew_word_format"] == ["en"]


async def test_invalid_filter_is_400(sandbox: SandboxServer, sandbox_clock: FakeTime) -> None:
    """A filter other than en, he or hybrid is a 400 naming the parameter."""
    async with client(sandbox) as http:
        tid = await _done(http, sandbox_clock)
        response = await http.get(
            f"/v1/transcriptions/{tid}", params={"filter_hebrew_word_format": "yi"}
        )
    assert response.status_code == 400
    assert "filter_hebrew_word_format" in response.json()["detail"]


async def test_speakers_are_labelled_only_with_several(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """num_speakers > 1 labels words "1".."N" (more than one used); one speaker labels none."""
    async with client(sandbox) as http:
        many = await _get(http, await _done(http, sandbox_clock, info={"num_speakers": 3}))
        one = await _get(http, await _done(http, sandbox_clock))
    labels = {w["speaker"] for w in many["timestamps"]}
    assert labels <= {"1", "2", "3"}
    assert len(labels) > 1
    assert {w["speaker"] for w in one["timestamps"]} == {None}


async def test_unfinished_transcription_answers_empty_text(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Before COMPLETED: 200, text "", timestamps null, info with the current status."""
    async with client(sandbox) as http:
        batch = await create_express(http, URL)
        body = await _get(http, batch["transcription_ids"][0])
    assert body["text"] == ""
    assert body["timestamps"] is None
    assert body["info"]["status"] == "RECEIVED"


async def test_failed_transcription_answers_400(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """A FAILED transcription's transcript is a 400 (the SDK's TranscriptionFailed)."""
    async with client(sandbox) as http:
        tid = await _done(http, sandbox_clock, "https://example.com/fail.mp3")
        response = await http.get(f"/v1/transcriptions/{tid}")
        status = await http.get(f"/v1/transcriptions/{tid}/status")
    assert response.status_code == 400
    assert "failed" in response.json()["detail"]
    assert status.json()["status"] == "FAILED"


async def test_hebrew_primary_language_uses_hebrew_letters(
    sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """primary_language "he": Hebrew terms in Hebrew letters only, no transliterations."""
    async with client(sandbox) as http:
        body = await _get(http, await _done(http, sandbox_clock, info={"primary_language": "he"}))
    assert "<i>" not in body["text"]
    assert HEBREW.search(body["text"])
    assert body["info"]["primary_language"] == "he"


@settings(max_examples=60, deadline=None)
@given(
    url=st.text(min_size=1, max_size=80),
    language=st.sampled_from(["en", "he", "yi", "fr"]),
    speakers=st.integers(min_value=1, max_value=6),
    requested=st.lists(st.sampled_from(["en", "he", "hybrid"]), min_size=1, max_size=3),
    filter_=st.sampled_from([None, "en", "he", "hybrid"]),
)
def test_render_invariants_hold_for_any_url(
    url: str, language: str, speakers: int, requested: list[str], filter_: str | None
) -> None:
    """For any URL and settings: ordered timestamps, speakers in range, the filter honoured."""
    formats = visible_formats(tuple(requested), language, filter_)
    text, stamps = render(url, language, speakers, formats)
    assert (text, stamps) == render(url, language, speakers, formats)
    assert all(w["start"] <= w["end"] for w in stamps)
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(stamps))
    assert stamps[-1]["end"] <= duration_seconds(url)
    labels = {w["speaker"] for w in stamps}
    assert labels <= ({None} if speakers == 1 else {str(n) for n in range(1, speakers + 1)})
    if filter_ == "en" and language in ("en", "fr"):  # he/yi transcripts are Hebrew throughout
        assert not HEBREW.search(text)
    if filter_ == "he":
        assert "<i>" not in text
    if filter_ == "hybrid" and any(w["hebrew_word_format"] for w in stamps):
        assert "<i>" in text
        assert HEBREW.search(text)
