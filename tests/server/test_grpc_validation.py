"""Validation over the wire: every rule of the contract is INVALID_ARGUMENT with a BadRequest
naming each broken field, reason REQUEST_INVALID, and no upstream request at all; over gRPC and
over Connect alike (each case runs through both)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from tests.conftest import BOTH_PROTOCOLS, bearer
from tests.helpers.calls import (
    AUDIO,
    assert_error,
    detail,
    field_violations,
    rpc_error,
    source,
    upstream_total,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # every case over gRPC and over Connect (the HTTP port)
pb = batch_service_pb2
UUID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
EXPRESS = batch_pb2.PROCESSING_MODE_EXPRESS
STANDARD = batch_pb2.PROCESSING_MODE_STANDARD
INFO = batch_pb2.BatchInfo()


def create(**fields: Any) -> pb.CreateBatchRequest:
    """A CreateBatchRequest that is valid except for what `fields` change."""
    fields.setdefault("info", INFO)
    if "audio_sources" not in fields and "batch_file_id" not in fields:
        fields["audio_sources"] = [source(1)]
    return pb.CreateBatchRequest(**fields)


def info(**fields: Any) -> batch_pb2.BatchInfo:
    """A BatchInfo with `fields`, and unknown enum numbers allowed (proto3 enums are open)."""
    formats = fields.pop("hebrew_word_format", [])
    message = batch_pb2.BatchInfo(**fields)
    message.hebrew_word_format.extend(formats)
    return message


def items(*sources: batch_pb2.AudioSource) -> pb.UploadManifestRequest:
    """An UploadManifestRequest with typed items."""
    return pb.UploadManifestRequest(items=pb.ManifestItems(items=list(sources)))


def jsonl(*lines: str) -> pb.UploadManifestRequest:
    """An UploadManifestRequest with JSONL content."""
    return pb.UploadManifestRequest(jsonl="\n".join(lines))


def line(**item: Any) -> str:
    """One JSONL item line."""
    return json.dumps({"audio_url": AUDIO.format(1), **item})


def rss(**fields: Any) -> pb.CreateManifestFromRssRequest:
    """A CreateManifestFromRssRequest, valid except for what `fields` change."""
    fields.setdefault("rss_url", "https://feeds.example.com/podcast.xml")
    return pb.CreateManifestFromRssRequest(**fields)


def with_enum(message: Message, name: str, value: int) -> Message:
    """`message` with the enum field `name` set to a number the proto may not define."""
    setattr(message, name, value)
    return message


LONG = "x" * 3000
CASES = [
    # CreateBatch: the request's own fields
    ("CreateBatch", pb.CreateBatchRequest(audio_sources=[source(1)]), {"info": "REQUIRED"}),
    ("CreateBatch", create(request_id="not-a-uuid"), {"request_id": "INVALID_UUID"}),
    ("CreateBatch", create(batch_title="t" * 513), {"batch_title": "TOO_LONG"}),
    (
        "CreateBatch",
        with_enum(create(), "processing_mode", 99),
        {"processing_mode": "UNKNOWN_ENUM_VALUE"},
    ),
    # CreateBatch: the processing mode and the fields it needs
    (
        "CreateBatch",
        create(processing_mode=EXPRESS, audio_sources=[]),
        {"audio_sources": "COUNT_OUT_OF_RANGE"},
    ),
    (
        "CreateBatch",
        create(processing_mode=EXPRESS, audio_sources=[source(n) for n in range(11)]),
        {"audio_sources": "COUNT_OUT_OF_RANGE"},
    ),
    (
        "CreateBatch",
        create(processing_mode=EXPRESS, audio_sources=[source(1)], batch_file_id=UUID),
        {"batch_file_id": "NOT_ALLOWED"},
    ),
    (
        "CreateBatch",
        create(processing_mode=STANDARD, audio_sources=[]),
        {"batch_file_id": "REQUIRED"},
    ),
    (
        "CreateBatch",
        create(processing_mode=STANDARD, batch_file_id=UUID, audio_sources=[source(1)]),
        {"audio_sources": "NOT_ALLOWED"},
    ),
    (
        "CreateBatch",
        create(processing_mode=STANDARD, batch_file_id="manifest-1"),
        {"batch_file_id": "INVALID_UUID"},
    ),
    ("CreateBatch", create(audio_sources=[]), {"processing_mode": "MODE_NOT_INFERABLE"}),
    (
        "CreateBatch",
        create(audio_sources=[source(1)], batch_file_id=UUID),
        {"processing_mode": "MODE_NOT_INFERABLE"},
    ),
    # CreateBatch: BatchInfo
    ("CreateBatch", create(info=info(model="m" * 65)), {"info.model": "TOO_LONG"}),
    ("CreateBatch", create(info=info(title="t" * 513)), {"info.title": "TOO_LONG"}),
    (
        "CreateBatch",
        create(info=info(primary_language=42)),
        {"info.primary_language": "UNKNOWN_ENUM_VALUE"},
    ),
    (
        "CreateBatch",
        create(info=info(hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_EN, 7])),
        {"info.hebrew_word_format[1]": "UNKNOWN_ENUM_VALUE"},
    ),
    (
        "CreateBatch",
        create(info=info(hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED])),
        {"info.hebrew_word_format[0]": "NOT_ALLOWED"},
    ),
    (
        "CreateBatch",
        create(info=info(hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HE] * 2)),
        {"info.hebrew_word_format[1]": "DUPLICATE"},
    ),
    (
        "CreateBatch",
        create(info=info(hebrew_word_format=[1, 2, 3, 1])),
        {
            "info.hebrew_word_format": "COUNT_OUT_OF_RANGE",
            "info.hebrew_word_format[3]": "DUPLICATE",
        },
    ),
    ("CreateBatch", create(info=info(num_speakers=0)), {"info.num_speakers": "OUT_OF_RANGE"}),
    ("CreateBatch", create(info=info(num_speakers=33)), {"info.num_speakers": "OUT_OF_RANGE"}),
    # CreateBatch: each AudioSource
    (
        "CreateBatch",
        create(audio_sources=[source(1), batch_pb2.AudioSource(title="no url")]),
        {"audio_sources[1].audio_url": "REQUIRED"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[batch_pb2.AudioSource(audio_url="/relative/a.mp3")]),
        {"audio_sources[0].audio_url": "INVALID_URL"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[batch_pb2.AudioSource(audio_url="ftp://example.com/a.mp3")]),
        {"audio_sources[0].audio_url": "INVALID_URL"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[batch_pb2.AudioSource(audio_url="https:///no-host.mp3")]),
        {"audio_sources[0].audio_url": "INVALID_URL"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[batch_pb2.AudioSource(audio_url="https://a.com/x y.mp3")]),
        {"audio_sources[0].audio_url": "INVALID_URL"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[batch_pb2.AudioSource(audio_url=f"https://a.com/{LONG}")]),
        {"audio_sources[0].audio_url": "TOO_LONG"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[source(1, title="t" * 513)]),
        {"audio_sources[0].title": "TOO_LONG"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[source(1, client_item_id="c" * 257)]),
        {"audio_sources[0].client_item_id": "TOO_LONG"},
    ),
    (
        "CreateBatch",
        create(
            audio_sources=[
                source(1, client_item_id="same"),
                source(2, client_item_id="other"),
                source(3, client_item_id="same"),
            ]
        ),
        {"audio_sources[2].client_item_id": "DUPLICATE"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[source(1, num_speakers=0)]),
        {"audio_sources[0].num_speakers": "OUT_OF_RANGE"},
    ),
    (
        "CreateBatch",
        create(audio_sources=[source(1), source(2, num_speakers=-3)]),
        {"audio_sources[1].num_speakers": "OUT_OF_RANGE"},
    ),
    # UploadManifest: typed items
    ("UploadManifest", pb.UploadManifestRequest(), {"items": "REQUIRED"}),
    ("UploadManifest", items(), {"items.items": "COUNT_OUT_OF_RANGE"}),
    (
        "UploadManifest",
        items(*[source(n) for n in range(501)]),
        {"items.items": "COUNT_OUT_OF_RANGE"},
    ),
    (
        "UploadManifest",
        items(source(1), batch_pb2.AudioSource(audio_url="mailto:someone@example.com")),
        {"items.items[1].audio_url": "INVALID_URL"},
    ),
    (
        "UploadManifest",
        items(source(1, client_item_id="a"), source(2, client_item_id="a")),
        {"items.items[1].client_item_id": "DUPLICATE"},
    ),
    (
        "UploadManifest",
        items(source(1, num_speakers=0)),
        {"items.items[0].num_speakers": "OUT_OF_RANGE"},
    ),
    (
        "UploadManifest",
        pb.UploadManifestRequest(request_id="abc", items=pb.ManifestItems(items=[source(1)])),
        {"request_id": "INVALID_UUID"},
    ),
    (
        "UploadManifest",
        pb.UploadManifestRequest(
            items=pb.ManifestItems(items=[source(1)]),
            metadata=batch_pb2.ManifestMetadata(title="t" * 513, description="d" * 4097),
        ),
        {"metadata.title": "TOO_LONG", "metadata.description": "TOO_LONG"},
    ),
    # UploadManifest: JSONL
    ("UploadManifest", jsonl(line(), "{not json"), {"jsonl": "INVALID_JSONL"}),
    ("UploadManifest", jsonl("", "  "), {"jsonl": "COUNT_OUT_OF_RANGE"}),
    (
        "UploadManifest",
        jsonl(*[line(client_item_id=str(n)) for n in range(501)]),
        {"jsonl": "COUNT_OUT_OF_RANGE"},
    ),
    ("UploadManifest", jsonl(line(speaker_count=2)), {"jsonl": "INVALID_JSONL"}),
    ("UploadManifest", jsonl('["a", "list"]'), {"jsonl": "INVALID_JSONL"}),
    ("UploadManifest", jsonl(line(num_speakers="two")), {"jsonl": "INVALID_JSONL"}),
    ("UploadManifest", jsonl(line(num_speakers=0)), {"jsonl": "OUT_OF_RANGE"}),
    ("UploadManifest", jsonl(line(audio_url="nope")), {"jsonl": "INVALID_URL"}),
    ("UploadManifest", jsonl(json.dumps({"title": "no url"})), {"jsonl": "REQUIRED"}),
    (
        "UploadManifest",
        jsonl(line(client_item_id="a"), line(client_item_id="a")),
        {"jsonl": "DUPLICATE"},
    ),
    (
        "UploadManifest",
        jsonl(line(num_speakers=2, auto_detect_speakers=True)),
        {"jsonl": "NOT_ALLOWED"},
    ),
    (
        "UploadManifest",
        jsonl(line(title="x" * (3 * 1024 * 1024))),
        {"jsonl": "TOO_LONG"},
    ),
    # CreateManifestFromRss
    ("CreateManifestFromRss", rss(rss_url=""), {"rss_url": "REQUIRED"}),
    ("CreateManifestFromRss", rss(rss_url="feed.xml"), {"rss_url": "INVALID_URL"}),
    ("CreateManifestFromRss", rss(rss_url=f"https://a.com/{LONG}"), {"rss_url": "TOO_LONG"}),
    ("CreateManifestFromRss", rss(limit=0), {"limit": "OUT_OF_RANGE"}),
    ("CreateManifestFromRss", rss(limit=501), {"limit": "OUT_OF_RANGE"}),
    ("CreateManifestFromRss", rss(offset=-1), {"offset": "OUT_OF_RANGE"}),
    ("CreateManifestFromRss", rss(request_id="1234"), {"request_id": "INVALID_UUID"}),
    (
        "CreateManifestFromRss",
        rss(metadata=batch_pb2.ManifestMetadata(description="d" * 4097)),
        {"metadata.description": "TOO_LONG"},
    ),
    # Reads: ids and paging
    ("GetManifest", pb.GetManifestRequest(), {"batch_file_id": "REQUIRED"}),
    (
        "GetManifest",
        pb.GetManifestRequest(batch_file_id="../etc/passwd"),
        {"batch_file_id": "INVALID_UUID"},
    ),
    ("ListManifests", pb.ListManifestsRequest(page_size=101), {"page_size": "OUT_OF_RANGE"}),
    ("ListManifests", pb.ListManifestsRequest(page_size=-1), {"page_size": "OUT_OF_RANGE"}),
    ("ListManifests", pb.ListManifestsRequest(page_token="p" * 1025), {"page_token": "TOO_LONG"}),
    ("GetBatchStatus", pb.GetBatchStatusRequest(), {"batch_id": "REQUIRED"}),
    (
        "GetBatchStatus",
        pb.GetBatchStatusRequest(batch_id=UUID.replace("-", "")),
        {"batch_id": "INVALID_UUID"},
    ),
    (
        "GetBatchItem",
        pb.GetBatchItemRequest(batch_id="x"),
        {"batch_id": "INVALID_UUID", "client_item_id": "REQUIRED"},
    ),
    (
        "GetBatchItem",
        pb.GetBatchItemRequest(batch_id=UUID, client_item_id="c" * 257),
        {"client_item_id": "TOO_LONG"},
    ),
    ("GetTranscription", pb.GetTranscriptionRequest(), {"transcription_id": "REQUIRED"}),
    (
        "GetTranscription",
        pb.GetTranscriptionRequest(transcription_id=UUID + "0"),
        {"transcription_id": "INVALID_UUID"},
    ),
    (
        "GetTranscription",
        with_enum(
            pb.GetTranscriptionRequest(transcription_id=UUID), "filter_hebrew_word_format", 9
        ),
        {"filter_hebrew_word_format": "UNKNOWN_ENUM_VALUE"},
    ),
    (
        "GetTranscriptionStatus",
        pb.GetTranscriptionStatusRequest(transcription_id="{" + UUID + "}"),
        {"transcription_id": "INVALID_UUID"},
    ),
]


def _case_id(rpc: str, violations: dict[str, str]) -> str:
    return f"{rpc}:{','.join(f'{k}={v}' for k, v in violations.items())}"


@pytest.mark.parametrize(
    ("rpc", "request_message", "expected"),
    [pytest.param(*case, id=_case_id(case[0], case[2])) for case in CASES],
)
async def test_rule_is_invalid_argument_before_any_upstream_call(
    stub: Stub,
    sandbox: SandboxServer,
    rpc: str,
    request_message: Message,
    expected: dict[str, str],
) -> None:
    """A request breaking a rule fails INVALID_ARGUMENT naming exactly the broken fields, and the
    upstream never hears of it."""
    before = await upstream_total(sandbox)
    error = await rpc_error(getattr(stub, rpc)(request_message, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == expected
    assert await upstream_total(sandbox) == before


async def test_every_violation_is_reported_at_once(stub: Stub, sandbox: SandboxServer) -> None:
    """One request breaking several rules gets one error listing all of them, each with a
    description of the rule, and a message that names the first ones."""
    request = pb.CreateBatchRequest(
        request_id="nope",
        info=info(num_speakers=0, primary_language=42),
        processing_mode=EXPRESS,
        audio_sources=[
            batch_pb2.AudioSource(audio_url="ftp://a/b", client_item_id="x"),
            source(2, client_item_id="x", num_speakers=99),
        ],
    )
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == {
        "request_id": "INVALID_UUID",
        "info.primary_language": "UNKNOWN_ENUM_VALUE",
        "info.num_speakers": "OUT_OF_RANGE",
        "audio_sources[0].audio_url": "INVALID_URL",
        "audio_sources[1].num_speakers": "OUT_OF_RANGE",
        "audio_sources[1].client_item_id": "DUPLICATE",
    }
    bad = detail(error, error_details_pb2.BadRequest)
    assert all(v.description for v in bad.field_violations)
    assert "request_id" in (error.details() or "")
    assert "more" in (error.details() or "")
    assert await upstream_total(sandbox) == 0


async def test_jsonl_violation_names_the_line(stub: Stub) -> None:
    """A JSONL violation's description names its 1-based line (blank lines counted)."""
    error = await rpc_error(stub.UploadManifest(jsonl(line(), "", "{oops"), metadata=bearer()))
    bad = detail(error, error_details_pb2.BadRequest)
    assert [(v.field, v.description.split(":")[0]) for v in bad.field_violations] == [
        ("jsonl", "line 3")
    ]


async def test_violations_are_capped_to_fit_a_trailer(stub: Stub, sandbox: SandboxServer) -> None:
    """A request with very many violations still gets a readable error: at most 20 listed."""
    request = items(*[batch_pb2.AudioSource(audio_url="bad", title="t" * 600) for _ in range(50)])
    error = await rpc_error(stub.UploadManifest(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert len(detail(error, error_details_pb2.BadRequest).field_violations) == 20
    assert "more" in (error.details() or "")
    assert await upstream_total(sandbox) == 0
