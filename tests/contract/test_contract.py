"""The public contract: the names docs/api.md promises, buf-style enums, a comment on each."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable, Iterator

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor
from grpc_tools import protoc
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway import validation
from tests.helpers import REPO

PROTOS = REPO / "protos"
PROTO_FILES = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
SERVICE = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]
FILES: dict[str, FileDescriptor] = {
    batch_pb2.DESCRIPTOR.name: batch_pb2.DESCRIPTOR,
    batch_service_pb2.DESCRIPTOR.name: batch_service_pb2.DESCRIPTOR,
}

RPCS = {
    "CreateBatch",
    "UploadManifest",
    "CreateManifestFromRss",
    "GetManifest",
    "ListManifests",
    "GetBatchStatus",
    "WatchBatchStatus",
    "GetBatchItem",
    "GetTranscription",
    "GetTranscriptionStatus",
    "ExportTranscription",
    "StreamBatchTranscripts",
    # --- money ---
    "GetBalance",
    "EstimateCost",
    # issue 22: listing and links
    "ListTranscriptions",
    "ExtractLink",
    "ListSupportedSites",
    # --- issue 22: single transcriptions ---
    "CreateTranscription",
    "UploadTranscription",
    "WatchTranscription",
    "WatchManifest",
    # --- webhooks ---
    "CreateWebhook",
    "ListWebhooks",
    "DeleteWebhook",
    "RotateWebhookSecret",
    "ListWebhookDeliveries",
}
MESSAGES = {
    "BatchInfo",
    "AudioSource",
    "BatchStatus",
    "TranscriptionInfo",
    "Transcription",
    "WordTimestamp",
    "Manifest",
    "ManifestMetadata",
    "ManifestItems",
    "TranscriptionSummary",
    "SupportedSite",
    "CaptionOptions",
    "Webhook",
    "WebhookDelivery",
} | {f"{rpc}{suffix}" for rpc in RPCS for suffix in ("Request", "Response")}

# FileDescriptorProto / DescriptorProto / EnumDescriptorProto / ServiceDescriptorProto field
# numbers, as SourceCodeInfo.Location.path uses them.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM, _MESSAGE_ONEOF = 2, 3, 4, 8
_ENUM_VALUE, _SERVICE_METHOD = 2, 2


@pytest.fixture(scope="module")
def source_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[descriptor_pb2.FileDescriptorProto]:
    """protos/ compiled now by grpc_tools' protoc, with comments (SourceCodeInfo) kept."""
    out = tmp_path_factory.mktemp("descriptors") / "protos.binpb"
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{PROTOS}",
            f"-I{well_known}",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *PROTO_FILES,
        ]
    )
    assert code == 0, "protoc failed on protos/"
    return list(descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file)


def _all_messages() -> Iterator[Descriptor]:
    def walk(message: Descriptor) -> Iterator[Descriptor]:
        yield message
        for nested in message.nested_types:
            yield from walk(nested)

    for file in FILES.values():
        for message in file.message_types_by_name.values():
            yield from walk(message)


def _elements(
    file: descriptor_pb2.FileDescriptorProto,
) -> Iterator[tuple[str, tuple[int, ...]]]:
    """(name, source path) of every service, RPC, message, field, oneof, enum and enum value."""

    def enum(
        prefix: str, path: tuple[int, ...], value: descriptor_pb2.EnumDescriptorProto
    ) -> Iterator[tuple[str, tuple[int, ...]]]:
        yield f"enum {prefix}{value.name}", path
        for i, item in enumerate(value.value):
            yield f"enum value {item.name}", (*path, _ENUM_VALUE, i)

    def message(
        prefix: str, path: tuple[int, ...], value: descriptor_pb2.DescriptorProto
    ) -> Iterator[tuple[str, tuple[int, ...]]]:
        name = f"{prefix}{value.name}"
        yield f"message {name}", path
        for i, field in enumerate(value.field):
            yield f"field {name}.{field.name}", (*path, _MESSAGE_FIELD, i)
        for i, oneof in enumerate(value.oneof_decl):
            if not oneof.name.startswith("_"):  # proto3 `optional` makes a synthetic oneof
                yield f"oneof {name}.{oneof.name}", (*path, _MESSAGE_ONEOF, i)
        for i, nested in enumerate(value.nested_type):
            yield from message(f"{name}.", (*path, _MESSAGE_NESTED, i), nested)
        for i, nested_enum in enumerate(value.enum_type):
            yield from enum(f"{name}.", (*path, _MESSAGE_ENUM, i), nested_enum)

    for i, msg in enumerate(file.message_type):
        yield from message("", (_FILE_MESSAGE, i), msg)
    for i, top_enum in enumerate(file.enum_type):
        yield from enum("", (_FILE_ENUM, i), top_enum)
    for i, service in enumerate(file.service):
        yield f"service {service.name}", (_FILE_SERVICE, i)
        for j, method in enumerate(service.method):
            yield f"rpc {service.name}.{method.name}", (_FILE_SERVICE, i, _SERVICE_METHOD, j)


def _clear_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _clear_json_names(message.nested_type)


def test_service_has_every_rpc_of_the_design() -> None:
    """The service is sofer.batch.v1.BatchTranscriptionService with exactly its listed RPCs."""
    assert SERVICE.full_name == "sofer.batch.v1.BatchTranscriptionService"
    assert {method.name for method in SERVICE.methods} == RPCS


def test_each_rpc_has_its_own_request_and_response() -> None:
    """Every RPC takes <Rpc>Request and returns <Rpc>Response (buf STANDARD, no exceptions)."""
    for method in SERVICE.methods:
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"


def test_only_the_watches_and_the_upload_stream() -> None:
    """WatchBatchStatus, StreamBatchTranscripts, WatchTranscription and WatchManifest are
    server-streaming, UploadTranscription client-streaming (a file in chunks); every other RPC
    is unary-unary."""
    streaming = {m.name for m in SERVICE.methods if m.server_streaming or m.client_streaming}
    watches = {"WatchBatchStatus", "StreamBatchTranscripts", "WatchTranscription", "WatchManifest"}
    assert streaming == watches | {"UploadTranscription"}
    for name in watches:
        assert not SERVICE.methods_by_name[name].client_streaming
    upload = SERVICE.methods_by_name["UploadTranscription"]
    assert upload.client_streaming
    assert not upload.server_streaming


def test_messages_of_the_design_exist() -> None:
    """The messages the API names (and one request/response per RPC) are in sofer.batch.v1."""
    names = {message.name for message in _all_messages()}
    assert names >= MESSAGES
    assert {message.full_name.rsplit(".", 1)[0] for message in _all_messages()} == {
        "sofer.batch.v1"
    }


@pytest.mark.parametrize("message", [batch_pb2.BatchInfo, batch_pb2.AudioSource])
def test_speaker_setting_is_a_oneof(
    message: type[batch_pb2.BatchInfo | batch_pb2.AudioSource],
) -> None:
    """BatchInfo, AudioSource: `oneof speakers { int32 num_speakers; bool auto_detect_speakers; }`.

    Setting one member clears the other, so "both at once" cannot be sent.
    """
    oneof = message.DESCRIPTOR.oneofs_by_name["speakers"]
    assert {field.name: field.type for field in oneof.fields} == {
        "num_speakers": FieldDescriptor.TYPE_INT32,
        "auto_detect_speakers": FieldDescriptor.TYPE_BOOL,
    }
    both = message(num_speakers=2)
    both.auto_detect_speakers = True
    assert both.WhichOneof("speakers") == "auto_detect_speakers"
    assert not both.HasField("num_speakers")


def test_enums_follow_buf_style() -> None:
    """Every enum's zero value is <ENUM>_UNSPECIFIED and every value is prefixed with <ENUM>_."""
    enums = [enum for file in FILES.values() for enum in file.enum_types_by_name.values()]
    assert {enum.name for enum in enums} >= {
        "ProcessingMode",
        "Language",
        "HebrewWordFormat",
        "BatchState",
        "TranscriptionState",
        "ManifestStatus",
    }
    for enum in enums:
        prefix = "".join(f"_{c}" if c.isupper() else c.upper() for c in enum.name).lstrip("_")
        assert enum.values_by_number[0].name == f"{prefix}_UNSPECIFIED"
        assert all(value.name.startswith(f"{prefix}_") for value in enum.values)


def test_transcription_state_has_every_upstream_status() -> None:
    """TranscriptionState has one value per upstream `Status`, and BatchState per `BatchStatus`."""
    upstream = ["RECEIVED", "PENDING", "PROCESSING", "COMPLETED", "CANCELLED", "FAILED"]
    upstream += ["UPLOADED", "INSUFFICIENT_FUNDS"]
    assert [v.name for v in batch_pb2.TranscriptionState.DESCRIPTOR.values][1:] == [
        f"TRANSCRIPTION_STATE_{name}" for name in upstream
    ]
    assert [v.name for v in batch_pb2.BatchState.DESCRIPTOR.values][1:] == [
        f"BATCH_STATE_{name}" for name in ("RECEIVED", "PROCESSING", "COMPLETED", "FAILED")
    ]


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (
            "CreateBatchRequest",
            "request_id info batch_title processing_mode batch_file_id audio_sources",
        ),
        ("CreateBatchResponse", "batch_id transcription_ids total_count state"),
        ("AudioSource", "audio_url title client_item_id num_speakers auto_detect_speakers"),
        ("BatchInfo", "model title primary_language hebrew_word_format num_speakers"),
        (
            "BatchStatus",
            "batch_id state total_count completed_count failed_count pending_count transcriptions"
            " observed_at changed_transcription_ids",
        ),
        (
            "TranscriptionInfo",
            "id client_item_id title created_at num_speakers state duration model",
        ),
        ("Manifest", "id created_at item_count size_bytes status checksum validation_errors"),
        ("UploadManifestRequest", "request_id items jsonl metadata"),
        ("CreateManifestFromRssRequest", "request_id rss_url limit offset metadata"),
        ("CreateManifestFromRssResponse", "manifest offset limit has_more next_offset"),
        ("ListManifestsRequest", "page_size page_token"),
        ("ListManifestsResponse", "manifests next_page_token"),
        ("ListTranscriptionsRequest", "page_size page_token"),
        ("ListTranscriptionsResponse", "transcriptions next_page_token"),
        ("GetBatchItemRequest", "batch_id client_item_id"),
        ("GetTranscriptionRequest", "transcription_id filter_hebrew_word_format"),
    ],
)
def test_field_names_follow_upstream_json(message: str, fields: str) -> None:
    """Fields carry the upstream JSON names (and AIP-158 names for paging)."""
    descriptor = {m.name: m for m in _all_messages()}[message]
    assert set(fields.split()) <= set(descriptor.fields_by_name)


def test_times_are_timestamps_and_optional_scalars_have_presence() -> None:
    """Every *_at field is a google.protobuf.Timestamp; nullable upstream numbers are `optional`."""
    for message in _all_messages():
        for field in message.fields:
            if field.name.endswith("_at"):
                assert field.message_type is not None, field.full_name
                assert field.message_type.full_name == "google.protobuf.Timestamp"
    for scalar in [
        batch_pb2.TranscriptionInfo.DESCRIPTOR.fields_by_name["num_speakers"],
        batch_pb2.TranscriptionInfo.DESCRIPTOR.fields_by_name["duration"],
        batch_pb2.WordTimestamp.DESCRIPTOR.fields_by_name["speaker"],
        batch_service_pb2.CreateManifestFromRssRequest.DESCRIPTOR.fields_by_name["limit"],
        batch_service_pb2.CreateManifestFromRssRequest.DESCRIPTOR.fields_by_name["offset"],
        batch_service_pb2.CreateManifestFromRssResponse.DESCRIPTOR.fields_by_name["next_offset"],
    ]:
        assert scalar.has_presence, scalar.full_name


def test_mutating_rpcs_take_a_request_id() -> None:
    """CreateBatch, UploadManifest and CreateManifestFromRss requests carry `string request_id`."""
    for rpc in ("CreateBatch", "UploadManifest", "CreateManifestFromRss"):
        field = SERVICE.methods_by_name[rpc].input_type.fields_by_name["request_id"]
        assert field.type == field.TYPE_STRING


def test_manifest_content_is_exactly_one_of_items_or_jsonl() -> None:
    """UploadManifestRequest's items are a oneof of typed items and a JSONL string."""
    oneof = batch_service_pb2.UploadManifestRequest.DESCRIPTOR.oneofs_by_name["content"]
    assert [field.name for field in oneof.fields] == ["items", "jsonl"]


def test_every_element_has_a_leading_comment(
    source_files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    """Every service, RPC, message, field, oneof, enum and enum value in protos/ is commented."""
    missing = []
    for file in source_files:
        comments = {
            tuple(location.path): location.leading_comments.strip()
            for location in file.source_code_info.location
        }
        missing += [
            f"{file.name}: {name}" for name, path in _elements(file) if not comments.get(path)
        ]
    assert not missing, "uncommented proto elements:\n" + "\n".join(missing)


def test_generated_code_matches_protos(
    source_files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    """generated/ was made from the protos as they are now (else run `make generate`)."""
    assert sorted(file.name for file in source_files) == sorted(FILES)
    for source in source_files:
        fresh = descriptor_pb2.FileDescriptorProto()
        fresh.CopyFrom(source)
        fresh.ClearField("source_code_info")
        _clear_json_names(fresh.message_type)  # protoc's python generator leaves them out
        generated = descriptor_pb2.FileDescriptorProto.FromString(FILES[fresh.name].serialized_pb)
        assert generated == fresh, f"generated/ is stale for {fresh.name}: run `make generate`"


@pytest.mark.parametrize(
    ("element", "number"),
    [
        ("field sofer.batch.v1.CreateBatchRequest.audio_sources", validation.MAX_EXPRESS_ITEMS),
        ("field sofer.batch.v1.ManifestItems.items", validation.MAX_MANIFEST_ITEMS),
        ("field sofer.batch.v1.AudioSource.audio_url", validation.MAX_URL_CHARS),
        ("field sofer.batch.v1.AudioSource.title", validation.MAX_TITLE_CHARS),
        ("field sofer.batch.v1.AudioSource.client_item_id", validation.MAX_CLIENT_ITEM_ID_CHARS),
        ("field sofer.batch.v1.BatchInfo.model", validation.MAX_MODEL_CHARS),
        ("field sofer.batch.v1.BatchInfo.num_speakers", validation.MAX_SPEAKERS),
        ("field sofer.batch.v1.BatchInfo.hebrew_word_format", validation.MAX_HEBREW_WORD_FORMATS),
        ("field sofer.batch.v1.CreateBatchRequest.batch_title", validation.MAX_BATCH_TITLE_CHARS),
        ("field sofer.batch.v1.ManifestMetadata.description", validation.MAX_DESCRIPTION_CHARS),
        ("field sofer.batch.v1.ListManifestsRequest.page_size", validation.MAX_PAGE_SIZE),
        ("field sofer.batch.v1.ListManifestsRequest.page_token", validation.MAX_PAGE_TOKEN_CHARS),
        ("field sofer.batch.v1.CreateManifestFromRssRequest.limit", validation.MAX_RSS_LIMIT),
        ("field sofer.batch.v1.ListTranscriptionsRequest.page_size", validation.MAX_LIST_PAGE_SIZE),
        (
            "field sofer.batch.v1.ListTranscriptionsRequest.page_size",
            validation.DEFAULT_LIST_PAGE_SIZE,
        ),
        (
            "field sofer.batch.v1.ListTranscriptionsRequest.page_token",
            validation.MAX_PAGE_TOKEN_CHARS,
        ),
        (
            "field sofer.batch.v1.ListTranscriptionsRequest.title_contains",
            validation.MAX_TITLE_CHARS,
        ),
        ("field sofer.batch.v1.AudioSource.page_url", validation.MAX_URL_CHARS),
        ("field sofer.batch.v1.UploadManifestRequest.jsonl", validation.MAX_JSONL_BYTES >> 20),
    ],
)
def test_proto_comments_state_the_validation_limits(
    source_files: list[descriptor_pb2.FileDescriptorProto], element: str, number: int
) -> None:
    """The limit a proto comment documents is the one gateway.validation enforces."""
    comments = {}
    for file in source_files:
        by_path = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        for name, path in _elements(file):
            kind, _, short = name.partition(" ")
            comments[f"{kind} {file.package}.{short}"] = by_path.get(path, "")
    assert str(number) in re.findall(r"\d+", comments[element]), comments[element]
