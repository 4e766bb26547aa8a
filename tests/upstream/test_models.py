"""Parsing upstream JSON into typed models, and request bodies into JSON."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.canned import status_body, status_bytes
from gateway.upstream import (
    BatchAudioSource,
    BatchFileCreateFromRssRequest,
    BatchFileCreateFromRssResponse,
    BatchFileDetail,
    BatchFileMetadata,
    BatchFileStatus,
    BatchFileSummary,
    BatchFileUploadRequest,
    BatchFileUploadResponse,
    BatchStatus,
    BatchStatusResponse,
    BatchTranscriptionRequest,
    BatchTranscriptionRequestInfo,
    BatchTranscriptionResponse,
    HealthResponse,
    Language,
    LettersLanguage,
    ListBatchFilesResponse,
    ProcessingMode,
    ProtocolError,
    Transcription,
    TranscriptionInfo,
    TranscriptionStatus,
)

INFO: dict[str, Any] = {
    "id": "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32",
    "client_item_id": "shiur_1",
    "title": "Shiur 1",
    "created_at": "2024-01-15T09:30:00Z",
    "primary_language": "en",
    "hebrew_word_format": ["en", "he"],
    "num_speakers": 1,
    "status": "COMPLETED",
    "duration": 1802.5,
    "model": "v1",
}
MANIFEST: dict[str, Any] = {
    "batch_file_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "item_count": 3,
    "size_bytes": 256,
    "created_at": "2024-01-15T09:30:00Z",
    "status": "VALID",
}


def test_transcription_info_spec_example() -> None:
    """The spec's TranscriptionInfo example parses into typed fields and known enums."""
    info = TranscriptionInfo.from_json(INFO)
    assert info.id == INFO["id"]
    assert info.created_at == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    assert info.primary_language is Language.EN
    assert info.hebrew_word_format == (LettersLanguage.EN, LettersLanguage.HE)
    assert info.status is TranscriptionStatus.COMPLETED
    assert info.duration == 1802.5
    assert info.client_item_id == "shiur_1"


def test_optional_fields_may_be_missing_or_null() -> None:
    """Nullable fields are None when absent or null; unknown fields are ignored."""
    data = {k: v for k, v in INFO.items() if k not in ("duration", "model", "client_item_id")}
    info = TranscriptionInfo.from_json({**data, "num_speakers": None, "brand_new_field": [1]})
    assert (info.duration, info.model, info.client_item_id, info.num_speakers) == (
        None,
        None,
        None,
        None,
    )


def test_duration_accepts_integer_or_float() -> None:
    """The spec types duration as integer with format float: both are read as a float."""
    assert TranscriptionInfo.from_json({**INFO, "duration": 60}).duration == 60.0
    assert TranscriptionInfo.from_json({**INFO, "duration": 60.25}).duration == 60.25


def test_unknown_enum_values_are_kept_as_strings() -> None:
    """A status this gateway does not know yet is kept as its string, not an error."""
    info = TranscriptionInfo.from_json({**INFO, "status": "ARCHIVED"})
    assert info.status == "ARCHIVED"
    assert not isinstance(info.status, TranscriptionStatus)


MALFORMED = pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"id": None}, "TranscriptionInfo.id: Expected `str`, got `null`"),
        ({"title": 7}, "TranscriptionInfo.title: Expected `str`, got `int`"),
        (
            {"num_speakers": True},
            "TranscriptionInfo.num_speakers: Expected `int | null`, got `bool`",
        ),
        (
            {"num_speakers": 1.5},
            "TranscriptionInfo.num_speakers: Expected `int | null`, got `float`",
        ),
        ({"duration": "long"}, "TranscriptionInfo.duration: Expected `float | null`, got `str`"),
        ({"duration": False}, "TranscriptionInfo.duration: Expected `float | null`, got `bool`"),
        ({"created_at": "yesterday"}, "TranscriptionInfo.created_at: not a date-time"),
        ({"status": 3}, "TranscriptionInfo.status: Expected `str`, got `int`"),
        ({"hebrew_word_format": "en"}, "TranscriptionInfo.hebrew_word_format: Expected `array`"),
        ({"hebrew_word_format": [1]}, "TranscriptionInfo.hebrew_word_format[0]: Expected `str`"),
    ],
)
"""A field's path in the gateway's form (`Model.field[i]`), then msgspec's own message."""


@MALFORMED
def test_malformed_fields_raise_protocol_error(change: dict[str, Any], where: str) -> None:
    """A wrong type, a null or missing required field raises ProtocolError naming the field."""
    with pytest.raises(ProtocolError, match=re.escape(where)):
        TranscriptionInfo.from_json({**INFO, **change})


def test_missing_required_field() -> None:
    """A required field that is absent is a ProtocolError."""
    data = {k: v for k, v in INFO.items() if k != "status"}
    with pytest.raises(
        ProtocolError, match=r"^TranscriptionInfo: Object missing required field `status`$"
    ):
        TranscriptionInfo.from_json(data)


def test_not_an_object() -> None:
    """A JSON array or scalar where an object belongs is a ProtocolError."""
    with pytest.raises(ProtocolError, match=r"^HealthResponse: Expected `object`, got `array`$"):
        HealthResponse.from_json([])


def test_batch_status_nested_errors_name_the_item() -> None:
    """An error inside a nested list names its index."""
    data = {
        "batch_id": "b",
        "status": "PROCESSING",
        "total_count": 2,
        "completed_count": 0,
        "failed_count": 0,
        "pending_count": 2,
        "transcriptions": [INFO, {**INFO, "id": 5}],
    }
    with pytest.raises(ProtocolError, match=r"transcriptions\[1\]\.id"):
        BatchStatusResponse.from_json(data)
    data["transcriptions"] = [INFO]
    parsed = BatchStatusResponse.from_json(data)
    assert parsed.status is BatchStatus.PROCESSING
    assert parsed.transcriptions == (TranscriptionInfo.from_json(INFO),)


def test_transcription_with_timestamps() -> None:
    """A Transcription has its info and word timestamps; integer times are floats."""
    data = {
        "text": "shalom",
        "info": INFO,
        "timestamps": [
            {"word": "shalom", "start": 0, "end": 0.5, "hebrew_word_format": ["en"]},
            {"word": "x", "start": 0.5, "end": 1.0, "hebrew_word_format": None, "speaker": "1"},
        ],
    }
    parsed = Transcription.from_json(data)
    assert parsed.text == "shalom"
    assert parsed.timestamps is not None
    assert parsed.timestamps[0].start == 0.0
    assert parsed.timestamps[0].hebrew_word_format == (LettersLanguage.EN,)
    assert parsed.timestamps[1].speaker == "1"
    assert Transcription.from_json({"text": "", "info": INFO}).timestamps is None


def test_batch_and_manifest_responses() -> None:
    """Each response schema parses its spec example."""
    created = BatchTranscriptionResponse.from_json(
        {"batch_id": "b", "transcription_ids": ["t1", "t2"], "total_count": 2, "status": "RECEIVED"}
    )
    assert created.transcription_ids == ("t1", "t2")
    assert created.status is BatchStatus.RECEIVED

    uploaded = BatchFileUploadResponse.from_json({**MANIFEST, "validation_errors": None})
    assert uploaded.status is BatchFileStatus.VALID
    assert uploaded.validation_errors is None

    rss = BatchFileCreateFromRssResponse.from_json(
        {**MANIFEST, "offset": 0, "limit": 100, "has_more": True, "next_offset": 100}
    )
    assert (rss.has_more, rss.next_offset) == (True, 100)

    detail = BatchFileDetail.from_json(
        {
            "id": "f1",
            "created_at": "2024-01-15T09:30:00+02:00",
            "item_count": 1,
            "size_bytes": 10,
            "status": "INVALID",
            "validation_errors": ["line 1: audio_url missing"],
            "description": "d",
        }
    )
    assert detail.validation_errors == ("line 1: audio_url missing",)
    assert detail.created_at.utcoffset() is not None

    listing = ListBatchFilesResponse.from_json(
        {
            "files": [{"id": "f1", **{k: MANIFEST[k] for k in MANIFEST if k != "batch_file_id"}}],
            "next_cursor": "c2",
        }
    )
    assert listing.files[0].id == "f1"
    assert listing.next_cursor == "c2"
    assert HealthResponse.from_json({"status": "ok"}).status == "ok"


def test_rss_response_requires_paging_fields() -> None:
    """has_more is required on an RSS import answer and must be a boolean."""
    with pytest.raises(ProtocolError, match="has_more"):
        BatchFileCreateFromRssResponse.from_json(
            {**MANIFEST, "offset": 0, "limit": 10, "has_more": "yes"}
        )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "batch_id": JSON | st.just("b"),
            "status": JSON | st.sampled_from(["RECEIVED", "NEW"]),
            "total_count": JSON | st.just(1),
            "completed_count": JSON | st.just(1),
            "failed_count": JSON | st.just(0),
            "pending_count": JSON | st.just(0),
            "transcriptions": JSON | st.just([INFO]),
        },
    )
    | JSON
)
def test_any_json_parses_or_raises_protocol_error(data: object) -> None:
    """Whatever JSON the upstream sends, parsing returns a model or raises ProtocolError."""
    try:
        parsed = BatchStatusResponse.from_json(data)
    except ProtocolError:
        return
    assert isinstance(parsed.total_count, int)
    assert isinstance(parsed.transcriptions, tuple)


def test_express_request_to_json_omits_unset_fields() -> None:
    """to_json leaves out every None field, serialises nested bodies and enums as strings."""
    request = BatchTranscriptionRequest(
        info=BatchTranscriptionRequestInfo(
            primary_language=Language.HE, hebrew_word_format=(LettersLanguage.HE,), num_speakers=2
        ),
        audio_sources=(
            BatchAudioSource(audio_url="https://a/1.mp3", client_item_id="one"),
            BatchAudioSource(audio_url="https://a/2.mp3", auto_detect_speakers=True),
        ),
        processing_mode=ProcessingMode.EXPRESS,
    )
    body = request.to_json()
    assert body == {
        "info": {"primary_language": "he", "hebrew_word_format": ["he"], "num_speakers": 2},
        "audio_sources": [
            {"audio_url": "https://a/1.mp3", "client_item_id": "one"},
            {"audio_url": "https://a/2.mp3", "auto_detect_speakers": True},
        ],
        "processing_mode": "express",
    }
    assert type(body["processing_mode"]) is str


def test_standard_request_and_manifest_bodies() -> None:
    """Standard-mode, manifest upload and RSS bodies carry only what was set."""
    standard = BatchTranscriptionRequest(
        info=BatchTranscriptionRequestInfo(), batch_file_id="f1", batch_title="Weekly"
    )
    assert standard.to_json() == {"info": {}, "batch_file_id": "f1", "batch_title": "Weekly"}
    upload = BatchFileUploadRequest(
        content_type="jsonl",
        jsonl='{"audio_url": "https://a/1.mp3"}',
        metadata=BatchFileMetadata(title="t"),
    )
    assert upload.to_json() == {
        "content_type": "jsonl",
        "jsonl": '{"audio_url": "https://a/1.mp3"}',
        "metadata": {"title": "t"},
    }
    rss = BatchFileCreateFromRssRequest(rss_url="https://feed", limit=0)
    assert rss.to_json() == {"rss_url": "https://feed", "limit": 0}


# -- response bodies, decoded straight from bytes --------------------------------------------


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


def _item_body(**changes: Any) -> bytes:
    """The canned 10-item status body with the first item changed."""
    data = status_body()
    data["transcriptions"][0] = {**data["transcriptions"][0], **changes}
    return _body(data)


def test_a_body_decodes_into_frozen_hashable_models() -> None:
    """A status body decodes from bytes into the same immutable, hashable models as its parsed
    JSON, with members for known enum values."""
    parsed = BatchStatusResponse.from_json(status_bytes())
    assert parsed == BatchStatusResponse.from_json(status_body())
    assert parsed.status is BatchStatus.PROCESSING
    assert parsed.transcriptions[0].hebrew_word_format == (LettersLanguage.HE,)
    assert parsed.transcriptions[0].created_at == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert hash(parsed) == hash(BatchStatusResponse.from_json(status_bytes()))
    with pytest.raises(AttributeError):
        parsed.total_count = 3  # type: ignore[misc]


@MALFORMED
def test_malformed_fields_in_a_body_raise_the_same_protocol_error(
    change: dict[str, Any], where: str
) -> None:
    """A body with a wrong type or a null required field is refused with the same message,
    naming the field, as its parsed JSON."""
    with pytest.raises(ProtocolError, match=re.escape(where)) as from_body:
        TranscriptionInfo.from_json(_body({**INFO, **change}))
    with pytest.raises(ProtocolError) as from_value:
        TranscriptionInfo.from_json({**INFO, **change})
    assert from_body.value.message == from_value.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_item_body(title="\ud800"), r"\.transcriptions\[0\]\.title: not valid Unicode text"),
        (_item_body(status="\udc00"), r"\.transcriptions\[0\]\.status: not valid Unicode text"),
        (_item_body(num_speakers=2**31), r"\[0\]\.num_speakers: Expected `int` <= 2147483647$"),
        (_body({**status_body(), "total_count": 10**30}), r"\.total_count: Expected `int` <= "),
        (
            _item_body(created_at="9999-12-31T23:59:59-14:00"),
            r"\.transcriptions\[0\]: `created_at` is a date-time that does not fit in UTC$",
        ),
        (_item_body(created_at="yesterday"), r"\[0\]\.created_at: not a date-time"),
        (_body({**status_body(), "batch_id": None}), r"\.batch_id: Expected `str`, got `null`$"),
        (
            _body({**status_body(), "transcriptions": [None]}),
            r"\.transcriptions\[0\]: Expected `object`, got `null`$",
        ),
        (b"null", r"^BatchStatusResponse: Expected `object`, got `null`$"),
        (b"[]", r"^BatchStatusResponse: Expected `object`, got `array`$"),
        (b"{", r"^response body is not JSON"),
        (b'{"batch_id": "b", "x": ' + b"[" * 100_000, r"^response body is not JSON.*recursion"),
        (b"", r"^response body is not JSON"),
    ],
    ids=[
        "lone-surrogate",
        "lone-surrogate-in-enum",
        "int32",
        "beyond-int64",
        "date-time-beyond-utc",
        "not-a-date-time",
        "null-required",
        "null-item",
        "null-body",
        "array-body",
        "truncated",
        "nested-too-deeply",
        "empty",
    ],
)
def test_a_body_the_contract_refuses_names_where(body: bytes, message: str) -> None:
    """Lone surrogates, integers beyond the contract's bits, date-times that do not fit UTC,
    nulls and non-JSON bodies (arrays nested past the stack too) are ProtocolErrors that say
    where."""
    with pytest.raises(ProtocolError, match=message):
        BatchStatusResponse.from_json(body)


def test_64_bit_fields_hold_64_bit_integers() -> None:
    """size_bytes is 64-bit: 2**63 - 1 is read, 2**63 is refused."""
    big = BatchFileSummary.from_json(_body({"id": "f", **MANIFEST, "size_bytes": 2**63 - 1}))
    assert big.size_bytes == 2**63 - 1
    with pytest.raises(
        ProtocolError,
        match=r"^BatchFileSummary\.size_bytes: Expected `int` <= 9223372036854775807$",
    ):
        BatchFileSummary.from_json(_body({"id": "f", **MANIFEST, "size_bytes": 2**63}))


def test_a_body_keeps_unknown_enum_values_and_ignores_unknown_fields() -> None:
    """Unknown enum values in a body stay strings; unknown fields are ignored."""
    parsed = BatchStatusResponse.from_json(
        _body({**status_body(), "status": "PAUSED", "surprise": {"nested": [1, "\ud800"]}})
    )
    assert parsed.status == "PAUSED"
    assert not isinstance(parsed.status, BatchStatus)
    words = TranscriptionInfo.from_json(_body({**INFO, "hebrew_word_format": ["he", "elvish"]}))
    assert words.hebrew_word_format == (LettersLanguage.HE, "elvish")


def test_a_body_is_read_as_leniently_as_python_reads_json() -> None:
    """What Python's json and ISO 8601 reading accepted is still accepted: a UTF-8 BOM,
    NaN and overflowing numbers where a float belongs, date-only and zone-less date-times
    (read as UTC)."""
    with_bom = BatchStatusResponse.from_json(b"\xef\xbb\xbf" + status_bytes())
    assert with_bom == BatchStatusResponse.from_json(status_bytes())
    text = json.dumps(INFO)
    nan = TranscriptionInfo.from_json(text.replace("1802.5", "NaN").encode()).duration
    assert nan is not None
    assert math.isnan(nan)
    assert TranscriptionInfo.from_json(text.replace("1802.5", "1e999").encode()).duration == (
        math.inf
    )
    day = TranscriptionInfo.from_json(_body({**INFO, "created_at": "2024-01-15"}))
    assert day.created_at == datetime(2024, 1, 15, tzinfo=UTC)
    naive = TranscriptionInfo.from_json(_body({**INFO, "created_at": "2024-01-15T09:30:00"}))
    assert naive.created_at == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
