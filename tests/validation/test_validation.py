"""Request validation: one test per rule with its exact field paths, all violations at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway import validation
from gateway.validation import Reason, Violation

BATCH_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
FILE_ID = "f1234567-89ab-cdef-0123-456789abcdef"
REQUEST_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
URL = "https://example.com/audio1.mp3"
EXPRESS = batch_pb2.PROCESSING_MODE_EXPRESS
STANDARD = batch_pb2.PROCESSING_MODE_STANDARD
UNSPECIFIED = batch_pb2.PROCESSING_MODE_UNSPECIFIED


def enum(number: int) -> Any:
    """An enum field value that may be outside the enum: proto3 enums are open."""
    return number


def source(url: str = URL, **fields: Any) -> batch_pb2.AudioSource:
    """One audio source, valid unless `fields` say otherwise."""
    return batch_pb2.AudioSource(audio_url=url, **fields)


def express(*sources: batch_pb2.AudioSource, **fields: Any) -> batch_service_pb2.CreateBatchRequest:
    """A valid express CreateBatchRequest (two items unless given), changed by `fields`."""
    request = batch_service_pb2.CreateBatchRequest(
        request_id=REQUEST_ID,
        info=batch_pb2.BatchInfo(
            model="v1",
            primary_language=batch_pb2.LANGUAGE_EN,
            hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_EN, batch_pb2.HEBREW_WORD_FORMAT_HE],
            num_speakers=1,
        ),
        batch_title="Rabbi Cohen Shiurim",
        processing_mode=EXPRESS,
        audio_sources=list(sources)
        or [
            source(title="Shabbos", client_item_id="shiur_shabbos"),
            source("https://example.com/audio2.mp3", client_item_id="shiur_kashrus"),
        ],
    )
    for name, value in fields.items():
        if isinstance(value, Message):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    return request


def standard(**fields: Any) -> batch_service_pb2.CreateBatchRequest:
    """A valid standard CreateBatchRequest, changed by `fields`."""
    request = batch_service_pb2.CreateBatchRequest(
        info=batch_pb2.BatchInfo(auto_detect_speakers=True),
        batch_title="Weekly Shiurim Collection",
        processing_mode=STANDARD,
        batch_file_id=FILE_ID,
    )
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def paths(violations: list[Violation]) -> list[str]:
    """The field paths of `violations`, in the order found."""
    return [violation.field for violation in violations]


def jsonl_upload(*lines: str) -> batch_service_pb2.UploadManifestRequest:
    """An UploadManifestRequest whose content is these JSONL lines."""
    return batch_service_pb2.UploadManifestRequest(jsonl="\n".join(lines))


def line(**item: Any) -> str:
    """One JSONL manifest line."""
    return json.dumps(item)


# CreateBatch: valid requests and the processing mode


def test_valid_express_request_has_no_violations() -> None:
    """The upstream's own express example, as a proto, is valid."""
    assert validation.validate_create_batch(express()) == []


def test_valid_standard_request_has_no_violations() -> None:
    """The upstream's own standard example, as a proto, is valid (request_id may be empty)."""
    assert validation.validate_create_batch(standard()) == []


def test_mode_is_inferred_from_audio_sources_as_express() -> None:
    """UNSPECIFIED mode with only audio_sources is valid and resolves to express."""
    request = express(processing_mode=UNSPECIFIED)
    assert validation.validate_create_batch(request) == []
    assert validation.resolve_processing_mode(request) == EXPRESS


def test_mode_is_inferred_from_batch_file_id_as_standard() -> None:
    """UNSPECIFIED mode with only batch_file_id is valid and resolves to standard."""
    request = standard(processing_mode=UNSPECIFIED)
    assert validation.validate_create_batch(request) == []
    assert validation.resolve_processing_mode(request) == STANDARD


def test_given_mode_is_the_resolved_mode() -> None:
    """A given mode is used as is."""
    assert validation.resolve_processing_mode(express()) == EXPRESS
    assert validation.resolve_processing_mode(standard()) == STANDARD


@pytest.mark.parametrize(
    ("audio_sources", "batch_file_id", "given"),
    [([source()], FILE_ID, "both are set"), ([], "", "neither is set")],
)
def test_unspecified_mode_that_cannot_be_inferred(
    audio_sources: list[batch_pb2.AudioSource], batch_file_id: str, given: str
) -> None:
    """UNSPECIFIED with both or neither of audio_sources, batch_file_id fails on processing_mode."""
    request = batch_service_pb2.CreateBatchRequest(
        info=batch_pb2.BatchInfo(), audio_sources=audio_sources, batch_file_id=batch_file_id
    )
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["processing_mode"]
    assert violations[0].reason is Reason.MODE_NOT_INFERABLE
    assert given in violations[0].description
    assert validation.resolve_processing_mode(request) is None


def test_missing_info() -> None:
    """`info` is required, even when all its settings would be defaults."""
    request = express()
    request.ClearField("info")
    assert paths(validation.validate_create_batch(request)) == ["info"]
    request.info.SetInParent()
    assert validation.validate_create_batch(request) == []


@pytest.mark.parametrize("count", [0, validation.MAX_EXPRESS_ITEMS + 1])
def test_express_needs_1_to_10_audio_sources(count: int) -> None:
    """Express with no audio_sources or more than 10 fails on audio_sources."""
    request = express()
    del request.audio_sources[:]
    request.audio_sources.extend(source(f"https://example.com/{i}.mp3") for i in range(count))
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["audio_sources"]
    assert violations[0].reason is Reason.COUNT_OUT_OF_RANGE
    assert f"got {count}" in violations[0].description


def test_express_with_ten_audio_sources_is_valid() -> None:
    """Exactly 10 audio_sources is the express maximum, still valid."""
    items = [source(f"https://example.com/{i}.mp3") for i in range(validation.MAX_EXPRESS_ITEMS)]
    assert validation.validate_create_batch(express(*items)) == []


def test_express_with_batch_file_id() -> None:
    """Express mode with a batch_file_id fails on batch_file_id."""
    violations = validation.validate_create_batch(express(batch_file_id=FILE_ID))
    assert paths(violations) == ["batch_file_id"]
    assert violations[0].reason is Reason.NOT_ALLOWED


def test_standard_without_batch_file_id() -> None:
    """Standard mode without a batch_file_id fails on batch_file_id."""
    violations = validation.validate_create_batch(standard(batch_file_id=""))
    assert paths(violations) == ["batch_file_id"]
    assert violations[0].reason is Reason.REQUIRED


def test_standard_with_audio_sources() -> None:
    """Standard mode with audio_sources fails once on audio_sources, not on each item."""
    request = standard()
    request.audio_sources.extend([source("not a url"), source()])
    assert paths(validation.validate_create_batch(request)) == ["audio_sources"]


def test_unknown_processing_mode() -> None:
    """A processing_mode number outside the enum fails on processing_mode; no mode resolves."""
    request = express(processing_mode=enum(7))
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["processing_mode"]
    assert violations[0].reason is Reason.UNKNOWN_ENUM_VALUE
    assert validation.resolve_processing_mode(request) is None


# AudioSource rules


def test_missing_audio_url() -> None:
    """An item without audio_url fails on audio_sources[i].audio_url as REQUIRED."""
    violations = validation.validate_create_batch(express(source(), source("")))
    assert paths(violations) == ["audio_sources[1].audio_url"]
    assert violations[0].reason is Reason.REQUIRED


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.mp3",
        "/audio/a.mp3",
        "example.com/a.mp3",
        "https://",
        "http:///a.mp3",
        "https://exa mple.com/a.mp3",
        " https://example.com/a.mp3",
        "https://example.com/a.mp3\n",
        "https://example.com/\x00a.mp3",
        "https://[::1/a.mp3",
        "https://example.com:99999/a.mp3",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "file:///etc/passwd",
    ],
)
def test_audio_url_must_be_absolute_http(url: str) -> None:
    """An audio_url that is not an absolute http(s) URL with a host fails on its path."""
    violations = validation.validate_create_batch(express(source(), source(), source(url)))
    assert paths(violations) == ["audio_sources[2].audio_url"]
    assert violations[0].reason is Reason.INVALID_URL
    assert violations[0].description == "must be an absolute http(s) URL"


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://Example.COM/a.mp3",
        "http://127.0.0.1:8001/a.wav",
        "https://[::1]/a.mp3",
        "https://例え.jp/音声.mp3",
        "https://example.com/a.mp3?token=x&y=%20#t=10",
    ],
)
def test_audio_url_accepts_http_urls(url: str) -> None:
    """Upper-case schemes, IP literals, ports, IRIs and queries are fine."""
    assert validation.validate_create_batch(express(source(url))) == []


def test_audio_url_too_long() -> None:
    """An audio_url over MAX_URL_CHARS fails as TOO_LONG (not also as a bad URL)."""
    url = "https://example.com/" + "a" * validation.MAX_URL_CHARS
    violations = validation.validate_create_batch(express(source(url)))
    assert paths(violations) == ["audio_sources[0].audio_url"]
    assert violations[0].reason is Reason.TOO_LONG


def test_duplicate_client_item_id() -> None:
    """A repeated client_item_id fails on the later item, naming the first; empty ids are no ids."""
    request = express(
        source(client_item_id="a"),
        source(client_item_id="b"),
        source(),
        source(),
        source(client_item_id="a"),
        source(client_item_id="a"),
    )
    violations = validation.validate_create_batch(request)
    assert paths(violations) == [
        "audio_sources[4].client_item_id",
        "audio_sources[5].client_item_id",
    ]
    assert violations[0].reason is Reason.DUPLICATE
    assert violations[0].description == (
        "must be unique within the batch; first used at audio_sources[0]"
    )


@pytest.mark.parametrize("count", [0, -1, validation.MAX_SPEAKERS + 1, 2**31 - 1])
def test_num_speakers_out_of_range(count: int) -> None:
    """num_speakers below 1 or above 32 fails, in info and in each item."""
    request = express(source(), source(num_speakers=count))
    request.info.num_speakers = count
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["info.num_speakers", "audio_sources[1].num_speakers"]
    assert {v.reason for v in violations} == {Reason.OUT_OF_RANGE}


@pytest.mark.parametrize("count", [1, validation.MAX_SPEAKERS])
def test_num_speakers_bounds_are_valid(count: int) -> None:
    """1 and 32 speakers are valid."""
    request = express(source(num_speakers=count))
    request.info.num_speakers = count
    assert validation.validate_create_batch(request) == []


def test_auto_detect_speakers_is_valid_either_way() -> None:
    """auto_detect_speakers true or false is valid, in info and per item."""
    request = express(source(auto_detect_speakers=True), source(auto_detect_speakers=False))
    request.info.auto_detect_speakers = False
    assert validation.validate_create_batch(request) == []


# BatchInfo rules


def test_unknown_primary_language() -> None:
    """A primary_language number outside the enum fails on info.primary_language."""
    request = express()
    request.info.primary_language = enum(42)
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["info.primary_language"]
    assert "42" in violations[0].description


def test_bad_hebrew_word_format_entries() -> None:
    """Unknown, UNSPECIFIED and repeated hebrew_word_format entries fail on their index."""
    request = express()
    del request.info.hebrew_word_format[:]
    request.info.hebrew_word_format.extend(
        [batch_pb2.HEBREW_WORD_FORMAT_EN, enum(9), batch_pb2.HEBREW_WORD_FORMAT_EN]
    )
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["info.hebrew_word_format[1]", "info.hebrew_word_format[2]"]
    assert [v.reason for v in violations] == [Reason.UNKNOWN_ENUM_VALUE, Reason.DUPLICATE]
    request.info.hebrew_word_format[1] = batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED
    assert [v.reason for v in validation.validate_create_batch(request)] == [
        Reason.NOT_ALLOWED,
        Reason.DUPLICATE,
    ]


def test_too_many_hebrew_word_formats() -> None:
    """More than 3 hebrew_word_format entries fails on the list."""
    request = express()
    del request.info.hebrew_word_format[:]
    request.info.hebrew_word_format.extend(enum(n) for n in (1, 2, 3, 1))
    violations = validation.validate_create_batch(request)
    assert paths(violations) == ["info.hebrew_word_format", "info.hebrew_word_format[3]"]
    assert violations[0].reason is Reason.COUNT_OUT_OF_RANGE


# Sizes


@pytest.mark.parametrize(
    ("path", "limit", "change"),
    [
        (
            "batch_title",
            validation.MAX_BATCH_TITLE_CHARS,
            lambda r, s: setattr(r, "batch_title", s),
        ),
        ("info.title", validation.MAX_TITLE_CHARS, lambda r, s: setattr(r.info, "title", s)),
        ("info.model", validation.MAX_MODEL_CHARS, lambda r, s: setattr(r.info, "model", s)),
        (
            "audio_sources[1].title",
            validation.MAX_TITLE_CHARS,
            lambda r, s: setattr(r.audio_sources[1], "title", s),
        ),
        (
            "audio_sources[0].client_item_id",
            validation.MAX_CLIENT_ITEM_ID_CHARS,
            lambda r, s: setattr(r.audio_sources[0], "client_item_id", s),
        ),
    ],
)
def test_create_batch_string_limits(
    path: str, limit: int, change: Callable[[batch_service_pb2.CreateBatchRequest, str], None]
) -> None:
    """Strings at their limit (in characters, not bytes) are valid; one more fails as TOO_LONG."""
    request = express()
    change(request, "ש" * limit)
    assert validation.validate_create_batch(request) == []
    change(request, "ש" * (limit + 1))
    violations = validation.validate_create_batch(request)
    assert paths(violations) == [path]
    assert violations[0].reason is Reason.TOO_LONG


# Ids


REQUEST_BUILDERS: dict[str, Callable[[str], Message]] = {
    "CreateBatch.request_id": lambda v: express(request_id=v),
    "CreateBatch.batch_file_id": lambda v: standard(batch_file_id=v),
    "UploadManifest.request_id": lambda v: batch_service_pb2.UploadManifestRequest(
        request_id=v, jsonl=line(audio_url=URL)
    ),
    "CreateManifestFromRss.request_id": lambda v: batch_service_pb2.CreateManifestFromRssRequest(
        request_id=v, rss_url="https://example.com/feed.xml"
    ),
    "GetManifest.batch_file_id": lambda v: batch_service_pb2.GetManifestRequest(batch_file_id=v),
    "GetBatchStatus.batch_id": lambda v: batch_service_pb2.GetBatchStatusRequest(batch_id=v),
    "WatchBatchStatus.batch_id": lambda v: batch_service_pb2.WatchBatchStatusRequest(batch_id=v),
    "GetBatchItem.batch_id": lambda v: batch_service_pb2.GetBatchItemRequest(
        batch_id=v, client_item_id="shiur_1"
    ),
    "GetTranscription.transcription_id": lambda v: batch_service_pb2.GetTranscriptionRequest(
        transcription_id=v
    ),
    "GetTranscriptionStatus.transcription_id": lambda v: (
        batch_service_pb2.GetTranscriptionStatusRequest(transcription_id=v)
    ),
}
BAD_UUIDS = [
    "not-a-uuid",
    "a1b2c3d4e5f67890abcdef1234567890",
    "{a1b2c3d4-e5f6-7890-abcd-ef1234567890}",
    "urn:uuid:a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "a1b2c3d4-e5f6-7890-abcd-ef1234567890\n",
    " a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "g1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "a1b2c3d4-e5f6-7890-abcd-ef12345678901",
    "a1b2c3d4-e5f6-7890-abcd-ef1234567890" * 1000,
]


@pytest.mark.parametrize("target", sorted(REQUEST_BUILDERS))
@pytest.mark.parametrize("value", BAD_UUIDS)
def test_malformed_uuids(target: str, value: str) -> None:
    """Every id field rejects anything but the 8-4-4-4-12 hex form, on its own path."""
    violations = validation.validate(REQUEST_BUILDERS[target](value))
    assert paths(violations) == [target.split(".")[1]]
    assert violations[0].reason is Reason.INVALID_UUID


@pytest.mark.parametrize("target", sorted(REQUEST_BUILDERS))
def test_uuids_in_either_case_are_valid(target: str) -> None:
    """Upper- and lower-case hex digits are both a UUID."""
    assert validation.validate(REQUEST_BUILDERS[target](BATCH_ID.upper())) == []
    assert validation.validate(REQUEST_BUILDERS[target](BATCH_ID)) == []


@pytest.mark.parametrize(
    "target",
    [t for t in sorted(REQUEST_BUILDERS) if not t.endswith("request_id")],
)
def test_resource_ids_are_required(target: str) -> None:
    """An empty batch, manifest or transcription id fails as REQUIRED (request_id may be empty)."""
    violations = validation.validate(REQUEST_BUILDERS[target](""))
    assert paths(violations) == [target.split(".")[1]]
    assert violations[0].reason is Reason.REQUIRED


# UploadManifest


def test_typed_manifest_items_follow_the_audio_source_rules() -> None:
    """Typed items are checked like express items, paths under items.items, unique per manifest."""
    request = batch_service_pb2.UploadManifestRequest(
        items=batch_service_pb2.ManifestItems(
            items=[
                source(client_item_id="x"),
                source(num_speakers=0),
                source("ftp://example.com/a", client_item_id="x"),
            ]
        ),
        metadata=batch_pb2.ManifestMetadata(title="Series", description="Fall"),
    )
    violations = validation.validate_upload_manifest(request)
    assert paths(violations) == [
        "items.items[1].num_speakers",
        "items.items[2].audio_url",
        "items.items[2].client_item_id",
    ]
    assert violations[2].description == (
        "must be unique within the manifest; first used at items.items[0]"
    )


@pytest.mark.parametrize("count", [0, validation.MAX_MANIFEST_ITEMS + 1])
def test_manifest_needs_1_to_500_items(count: int) -> None:
    """An empty typed manifest or one over 500 items fails on items.items."""
    request = batch_service_pb2.UploadManifestRequest()
    request.items.items.extend(source(f"https://example.com/{i}") for i in range(count))
    violations = validation.validate_upload_manifest(request)
    assert paths(violations) == ["items.items"]
    assert violations[0].reason is Reason.COUNT_OUT_OF_RANGE


def test_manifest_of_500_items_is_valid() -> None:
    """500 typed items is the maximum, still valid; so are 500 JSONL lines."""
    request = batch_service_pb2.UploadManifestRequest()
    request.items.items.extend(
        source(f"https://example.com/{i}", client_item_id=str(i))
        for i in range(validation.MAX_MANIFEST_ITEMS)
    )
    assert validation.validate_upload_manifest(request) == []
    lines = [line(audio_url=f"https://e.com/{i}") for i in range(validation.MAX_MANIFEST_ITEMS)]
    assert validation.validate_upload_manifest(jsonl_upload(*lines)) == []


def test_manifest_content_is_required() -> None:
    """Neither items nor jsonl set fails on items."""
    violations = validation.validate_upload_manifest(batch_service_pb2.UploadManifestRequest())
    assert paths(violations) == ["items"]
    assert violations[0].reason is Reason.REQUIRED


def test_valid_jsonl_manifest() -> None:
    """The upstream's JSONL example is valid; blank lines and CRLF endings are fine."""
    request = jsonl_upload(
        line(audio_url=URL, title="Shiur 1", client_item_id="shiur_1"),
        "",
        line(audio_url=URL, title=None, client_item_id=None, num_speakers=2) + "\r",
        line(audio_url=URL, auto_detect_speakers=True, num_speakers=None),
        "   ",
    )
    assert validation.validate_upload_manifest(request) == []


@pytest.mark.parametrize(
    ("bad_line", "reason", "description"),
    [
        ("{not json", Reason.INVALID_JSONL, "line 2: must be valid JSON"),
        ("[1, 2]", Reason.INVALID_JSONL, "line 2: must be a JSON object"),
        ('"https://example.com/a.mp3"', Reason.INVALID_JSONL, "line 2: must be a JSON object"),
        ("{}", Reason.REQUIRED, "line 2: audio_url is required"),
        ('{"audio_url": null}', Reason.REQUIRED, "line 2: audio_url is required"),
        ('{"audio_url": 5}', Reason.INVALID_JSONL, "line 2: audio_url must be a string"),
        (
            line(audio_url="ftp://example.com/a"),
            Reason.INVALID_URL,
            "line 2: audio_url must be an absolute http(s) URL",
        ),
        (
            line(audio_url=URL, title=["x"]),
            Reason.INVALID_JSONL,
            "line 2: title must be a string or null",
        ),
        (
            line(audio_url=URL, num_speakers="2"),
            Reason.INVALID_JSONL,
            "line 2: num_speakers must be an integer or null",
        ),
        (
            line(audio_url=URL, num_speakers=True),
            Reason.INVALID_JSONL,
            "line 2: num_speakers must be an integer or null",
        ),
        (
            line(audio_url=URL, num_speakers=0),
            Reason.OUT_OF_RANGE,
            "line 2: num_speakers must be between 1 and 32",
        ),
        (
            line(audio_url=URL, num_speakers=10**30),
            Reason.OUT_OF_RANGE,
            "line 2: num_speakers must be between 1 and 32",
        ),
        (
            line(audio_url=URL, num_speakers=2, auto_detect_speakers=False),
            Reason.NOT_ALLOWED,
            "line 2: num_speakers and auto_detect_speakers are mutually exclusive",
        ),
        (
            line(audio_url=URL, auto_detect_speakers="yes"),
            Reason.INVALID_JSONL,
            "line 2: auto_detect_speakers must be a boolean or null",
        ),
        (
            line(audio_url=URL, client_item_id="x" * 257),
            Reason.TOO_LONG,
            "line 2: client_item_id must be at most 256 characters",
        ),
        (
            line(audio_url=URL, client_item_id="first"),
            Reason.DUPLICATE,
            "line 2: client_item_id must be unique within the manifest; first used on line 1",
        ),
        ("[" * 100_000, Reason.INVALID_JSONL, "line 2: must be valid JSON"),
        (
            '{"audio_url": "' + URL + '", "num_speakers": ' + "9" * 5000 + "}",
            Reason.INVALID_JSONL,
            "line 2: must be valid JSON",
        ),
    ],
)
def test_bad_jsonl_line(bad_line: str, reason: Reason, description: str) -> None:
    """A JSONL line that does not parse or breaks an item rule fails on jsonl, naming the line."""
    request = jsonl_upload(line(audio_url=URL, client_item_id="first"), bad_line)
    violations = validation.validate_upload_manifest(request)
    assert [(v.field, v.reason, v.description) for v in violations] == [
        ("jsonl", reason, description)
    ]


def test_jsonl_unknown_keys() -> None:
    """Keys other than the upstream item keys fail (a typo must not be dropped silently)."""
    violations = validation.validate_upload_manifest(jsonl_upload(line(audio_url=URL, titel="x")))
    assert paths(violations) == ["jsonl"]
    assert violations[0].description.startswith("line 1: unknown keys 'titel';")


def test_jsonl_lone_surrogates() -> None:
    """JSON escapes of lone surrogates are not text: rejected, and never echoed into the answer."""
    request = jsonl_upload(
        '{"audio_url": "https://example.com/\\ud800", "client_item_id": "\\udfff", "\\ud801": 1}'
    )
    violations = validation.validate_upload_manifest(request)
    assert [v.description for v in violations] == [
        "line 1: unknown keys '\\ud801'; allowed: " + ", ".join(validation.JSONL_KEYS),
        "line 1: audio_url must be valid Unicode (no lone surrogates)",
        "line 1: client_item_id must be valid Unicode (no lone surrogates)",
    ]
    validation.to_bad_request(violations).SerializeToString()


def test_jsonl_line_numbers_count_blank_lines() -> None:
    """Line numbers are 1-based physical lines, blank lines included."""
    request = batch_service_pb2.UploadManifestRequest(jsonl=f"\n\n{line(audio_url=URL)}\n\nnope\n")
    violations = validation.validate_upload_manifest(request)
    assert [v.description for v in violations] == ["line 5: must be valid JSON"]


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_jsonl_without_items(text: str) -> None:
    """A JSONL manifest with no item line fails on jsonl."""
    violations = validation.validate_upload_manifest(
        batch_service_pb2.UploadManifestRequest(jsonl=text)
    )
    assert paths(violations) == ["jsonl"]
    assert violations[0].reason is Reason.COUNT_OUT_OF_RANGE


def test_jsonl_over_500_lines() -> None:
    """More than 500 item lines fails on jsonl, once."""
    lines = [line(audio_url=URL) for _ in range(validation.MAX_MANIFEST_ITEMS + 1)]
    violations = validation.validate_upload_manifest(jsonl_upload(*lines))
    assert [v.description for v in violations] == ["must have 1 to 500 item lines; got 501"]


def test_jsonl_over_size_limit() -> None:
    """JSONL over MAX_JSONL_BYTES of UTF-8 fails as TOO_LONG without being parsed."""
    text = line(audio_url=URL, title="ש" * (validation.MAX_JSONL_BYTES // 2))
    violations = validation.validate_upload_manifest(jsonl_upload(text))
    assert paths(violations) == ["jsonl"]
    assert violations[0].reason is Reason.TOO_LONG


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        (batch_pb2.ManifestMetadata(title="t" * 513), "metadata.title"),
        (batch_pb2.ManifestMetadata(description="d" * 4097), "metadata.description"),
    ],
)
def test_manifest_metadata_limits(metadata: batch_pb2.ManifestMetadata, path: str) -> None:
    """Manifest metadata title and description are bounded, in both manifest RPCs."""
    upload = jsonl_upload(line(audio_url=URL))
    upload.metadata.CopyFrom(metadata)
    rss = batch_service_pb2.CreateManifestFromRssRequest(
        rss_url="https://example.com/feed.xml", metadata=metadata
    )
    assert paths(validation.validate_upload_manifest(upload)) == [path]
    assert paths(validation.validate_create_manifest_from_rss(rss)) == [path]


# CreateManifestFromRss, ListManifests, GetBatchItem, GetTranscription


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"rss_url": ""}, ["rss_url"]),
        ({"rss_url": "feed.xml"}, ["rss_url"]),
        ({"rss_url": "ftp://example.com/feed.xml"}, ["rss_url"]),
        ({"limit": 0}, ["limit"]),
        ({"limit": validation.MAX_RSS_LIMIT + 1}, ["limit"]),
        ({"offset": -1}, ["offset"]),
        ({"limit": -5, "offset": -1, "rss_url": "x"}, ["rss_url", "limit", "offset"]),
        ({"limit": 1, "offset": 0}, []),
        ({"limit": validation.MAX_RSS_LIMIT, "offset": 2**31 - 1}, []),
    ],
)
def test_create_manifest_from_rss_rules(fields: dict[str, Any], expected: list[str]) -> None:
    """rss_url is a required absolute http(s) URL; limit is 1..500 and offset >= 0 when set."""
    request = batch_service_pb2.CreateManifestFromRssRequest(
        rss_url="https://example.com/podcast/feed.xml"
    )
    for name, value in fields.items():
        setattr(request, name, value)
    assert paths(validation.validate_create_manifest_from_rss(request)) == expected


@pytest.mark.parametrize(
    ("page_size", "page_token", "expected"),
    [
        (0, "", []),
        (validation.MAX_PAGE_SIZE, "x" * validation.MAX_PAGE_TOKEN_CHARS, []),
        (-1, "", ["page_size"]),
        (validation.MAX_PAGE_SIZE + 1, "", ["page_size"]),
        (10, "x" * (validation.MAX_PAGE_TOKEN_CHARS + 1), ["page_token"]),
    ],
)
def test_list_manifests_rules(page_size: int, page_token: str, expected: list[str]) -> None:
    """page_size is 0..100 (0 = default) and page_token at most 1024 characters."""
    request = batch_service_pb2.ListManifestsRequest(page_size=page_size, page_token=page_token)
    assert paths(validation.validate_list_manifests(request)) == expected


@pytest.mark.parametrize(
    ("client_item_id", "reason"),
    [("", Reason.REQUIRED), ("x" * (validation.MAX_CLIENT_ITEM_ID_CHARS + 1), Reason.TOO_LONG)],
)
def test_get_batch_item_client_item_id(client_item_id: str, reason: Reason) -> None:
    """GetBatchItem needs a client_item_id of at most 256 characters."""
    request = batch_service_pb2.GetBatchItemRequest(
        batch_id=BATCH_ID, client_item_id=client_item_id
    )
    violations = validation.validate_get_batch_item(request)
    assert [(v.field, v.reason) for v in violations] == [("client_item_id", reason)]


def test_get_transcription_filter() -> None:
    """filter_hebrew_word_format may be unset or any known value; an unknown number fails."""
    request = batch_service_pb2.GetTranscriptionRequest(transcription_id=BATCH_ID)
    assert validation.validate_get_transcription(request) == []
    request.filter_hebrew_word_format = batch_pb2.HEBREW_WORD_FORMAT_HYBRID
    assert validation.validate_get_transcription(request) == []
    request.filter_hebrew_word_format = enum(-3)
    assert paths(validation.validate_get_transcription(request)) == ["filter_hebrew_word_format"]


# All at once, and the BadRequest


def many_violations_request() -> batch_service_pb2.CreateBatchRequest:
    """An express request that breaks many rules at once."""
    request = express(
        source(""),
        source("ftp://x", client_item_id="dup", num_speakers=0),
        source(client_item_id="dup", title="t" * 600),
        request_id="nope",
        batch_title="b" * 600,
        batch_file_id="also-nope",
    )
    request.info.primary_language = enum(99)
    return request


def test_all_violations_are_reported_at_once() -> None:
    """Validation never stops at the first violation: every broken rule is in the list, in order."""
    assert paths(validation.validate_create_batch(many_violations_request())) == [
        "request_id",
        "info.primary_language",
        "batch_title",
        "batch_file_id",
        "batch_file_id",
        "audio_sources[0].audio_url",
        "audio_sources[1].audio_url",
        "audio_sources[1].num_speakers",
        "audio_sources[2].title",
        "audio_sources[2].client_item_id",
    ]


def test_to_bad_request_carries_field_reason_and_description() -> None:
    """Each violation becomes a BadRequest field violation with its path, reason and rule."""
    violations = validation.validate_create_batch(many_violations_request())
    bad_request = validation.to_bad_request(violations)
    assert [(f.field, f.reason, f.description) for f in bad_request.field_violations] == [
        (v.field, str(v.reason), v.description) for v in violations
    ]
    assert bad_request.field_violations[0].reason == "INVALID_UUID"


def test_to_bad_request_is_bounded() -> None:
    """A BadRequest holds at most `limit` violations, so it fits in a trailer."""
    violations = [Violation(f"f{i}", Reason.REQUIRED, "is required") for i in range(100)]
    assert len(validation.to_bad_request(violations).field_violations) == (
        validation.MAX_REPORTED_VIOLATIONS
    )
    assert len(validation.to_bad_request(violations, limit=3).field_violations) == 3


def test_summarize_names_the_first_violations_and_the_count() -> None:
    """The status message lists the first few violations and says how many more there are."""
    violations = validation.validate_create_batch(many_violations_request())
    message = validation.summarize(violations)
    assert message.startswith("invalid request: request_id: must be a UUID")
    assert message.endswith(f"(and {len(violations) - 3} more)")
    assert validation.summarize(violations[:1]).count(";") == 0


def test_validate_dispatches_on_the_request_type() -> None:
    """validate() picks the validator by message type and refuses messages it does not know."""
    assert validation.validate(many_violations_request()) == validation.validate_create_batch(
        many_violations_request()
    )
    with pytest.raises(KeyError):
        validation.validate(batch_pb2.BatchInfo())


def test_huge_lists_are_scanned_only_up_to_the_scan_limit() -> None:
    """A hostile list gets its count violation and at most SCAN_LIMIT per-element checks."""
    request = express()
    request.audio_sources.extend(source("") for _ in range(5 * validation.SCAN_LIMIT))
    violations = validation.validate_create_batch(request)
    assert violations[0].field == "audio_sources"
    assert len(violations) == 1 + validation.SCAN_LIMIT - 2


# Never raises


TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=3000),
    st.sampled_from([URL, BATCH_ID, "", "\x00\x1f\x7f", "https://[", "http://a:b"]),
    st.builds(lambda n: "x" * n, st.integers(0, 5000)),
)
INT32 = st.integers(-(2**31), 2**31 - 1)
SPEAKERS = st.one_of(
    st.none(),
    st.builds(lambda n: {"num_speakers": n}, INT32),
    st.builds(lambda b: {"auto_detect_speakers": b}, st.booleans()),
)


@st.composite
def audio_sources(draw: st.DrawFn) -> batch_pb2.AudioSource:
    """An AudioSource with any field values, including absurd ones."""
    item = batch_pb2.AudioSource(audio_url=draw(TEXT), title=draw(TEXT), client_item_id=draw(TEXT))
    speakers = draw(SPEAKERS)
    if speakers:
        for name, value in speakers.items():
            setattr(item, name, value)
    return item


@st.composite
def create_batch_requests(draw: st.DrawFn) -> batch_service_pb2.CreateBatchRequest:
    """A CreateBatchRequest with any field values, unknown enum numbers included."""
    request = batch_service_pb2.CreateBatchRequest(
        request_id=draw(TEXT),
        batch_title=draw(TEXT),
        processing_mode=enum(draw(INT32)),
        batch_file_id=draw(TEXT),
        audio_sources=draw(st.lists(audio_sources(), max_size=15)),
    )
    if draw(st.booleans()):
        request.info.model = draw(TEXT)
        request.info.title = draw(TEXT)
        request.info.primary_language = enum(draw(INT32))
        request.info.hebrew_word_format.extend(map(enum, draw(st.lists(INT32, max_size=6))))
        for name, value in (draw(SPEAKERS) or {}).items():
            setattr(request.info, name, value)
    return request


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
JSONL_ITEMS = st.dictionaries(
    st.sampled_from([*validation.JSONL_KEYS, "other"]), JSON_VALUES | TEXT, max_size=6
)
SURROGATES = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
JSONL_ITEMS_WITH_SURROGATES = st.dictionaries(
    st.sampled_from(validation.JSONL_KEYS) | SURROGATES, SURROGATES, max_size=3
)
JSONL = st.one_of(
    TEXT,
    st.lists(
        st.one_of(JSONL_ITEMS.map(json.dumps), JSONL_ITEMS_WITH_SURROGATES.map(json.dumps), TEXT),
        max_size=12,
    ).map("\n".join),
)


@st.composite
def upload_manifest_requests(draw: st.DrawFn) -> batch_service_pb2.UploadManifestRequest:
    """An UploadManifestRequest with typed items, JSONL (often almost valid), or neither."""
    request = batch_service_pb2.UploadManifestRequest(request_id=draw(TEXT))
    content = draw(st.sampled_from(["items", "jsonl", None]))
    if content == "items":
        request.items.items.extend(draw(st.lists(audio_sources(), max_size=12)))
    elif content == "jsonl":
        request.jsonl = draw(JSONL)
    request.metadata.title = draw(TEXT)
    request.metadata.description = draw(TEXT)
    return request


def _other_requests(draw: st.DrawFn) -> Message:
    rss = batch_service_pb2.CreateManifestFromRssRequest(
        request_id=draw(TEXT),
        rss_url=draw(TEXT),
        metadata=batch_pb2.ManifestMetadata(title=draw(TEXT)),
    )
    if draw(st.booleans()):
        rss.limit = draw(INT32)
    if draw(st.booleans()):
        rss.offset = draw(INT32)
    return draw(
        st.sampled_from(
            [
                rss,
                batch_service_pb2.ListManifestsRequest(
                    page_size=draw(INT32), page_token=draw(TEXT)
                ),
                batch_service_pb2.GetManifestRequest(batch_file_id=draw(TEXT)),
                batch_service_pb2.GetBatchStatusRequest(batch_id=draw(TEXT)),
                batch_service_pb2.WatchBatchStatusRequest(batch_id=draw(TEXT)),
                batch_service_pb2.GetBatchItemRequest(
                    batch_id=draw(TEXT), client_item_id=draw(TEXT)
                ),
                batch_service_pb2.GetTranscriptionRequest(
                    transcription_id=draw(TEXT), filter_hebrew_word_format=enum(draw(INT32))
                ),
                batch_service_pb2.GetTranscriptionStatusRequest(transcription_id=draw(TEXT)),
            ]
        )
    )


ANY_REQUEST = st.one_of(
    create_batch_requests(), upload_manifest_requests(), st.composite(_other_requests)()
)


def _check(request: Message) -> None:
    violations = validation.validate(request)
    assert all(isinstance(v, Violation) and v.field and v.description for v in violations)
    bad_request = validation.to_bad_request(violations)
    assert len(bad_request.field_violations) <= validation.MAX_REPORTED_VIOLATIONS
    validation.summarize(violations)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_REQUEST)
def test_validation_never_raises_on_random_requests(request: Message) -> None:
    """Any request, however absurd, yields a list of well-formed violations, never an exception."""
    _check(request)


REQUEST_TYPES: list[type[Message]] = [
    batch_service_pb2.CreateBatchRequest,
    batch_service_pb2.UploadManifestRequest,
    batch_service_pb2.CreateManifestFromRssRequest,
    batch_service_pb2.ListManifestsRequest,
    batch_service_pb2.GetBatchItemRequest,
    batch_service_pb2.GetTranscriptionRequest,
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REQUEST_TYPES), st.binary(max_size=400))
def test_validation_never_raises_on_random_wire_bytes(
    request_type: type[Message], wire: bytes
) -> None:
    """Requests decoded from arbitrary wire bytes (what a hostile client sends) validate cleanly."""
    try:
        request = request_type.FromString(wire)
    except DecodeError:
        return
    _check(request)
