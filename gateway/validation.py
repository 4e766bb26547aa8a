"""Request validation: every rule of the public contract, all violations at once, no I/O.

Each `validate_*` function takes one request message and returns every `Violation` it breaks (an
empty list when the request is valid), with the proto field path as google.rpc.BadRequest wants it
(`audio_sources[3].audio_url`, `info.num_speakers`, `items.items[2].client_item_id`). The limits
are the constants below; the proto comments state the same numbers.

Lists longer than their limit get one count violation, and only their first `SCAN_LIMIT` elements
are checked one by one, so a hostile request cannot make validation slow or its answer huge.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2

MAX_URL_CHARS = 2048
MAX_TITLE_CHARS = 512
MAX_BATCH_TITLE_CHARS = 512
MAX_CLIENT_ITEM_ID_CHARS = 256
MAX_MODEL_CHARS = 64
MAX_DESCRIPTION_CHARS = 4096
MAX_PAGE_TOKEN_CHARS = 1024
MAX_EXPRESS_ITEMS = 10  # upstream: express mode takes at most 10 audio_sources
MAX_MANIFEST_ITEMS = 500  # upstream: a manifest holds at most 500 items
# 3 MiB keeps an UploadManifest request under gRPC's default 4 MiB receive limit.
MAX_JSONL_BYTES = 3 * 1024 * 1024
MIN_SPEAKERS = 1  # upstream: "at least 1"
MAX_SPEAKERS = 32  # ours: no recording of a shiur has more distinguishable speakers
MAX_HEBREW_WORD_FORMATS = 3  # one of each format
MAX_PAGE_SIZE = 100
MIN_RSS_LIMIT = 1
MAX_RSS_LIMIT = MAX_MANIFEST_ITEMS
SCAN_LIMIT = 1000  # elements of one list checked one by one
# Violations put into one BadRequest: its status travels in a trailer, and gRPC's default
# metadata limit is 8 KiB.
MAX_REPORTED_VIOLATIONS = 20

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
JSONL_KEYS = ("audio_url", "title", "client_item_id", "num_speakers", "auto_detect_speakers")

_ProcessingMode = batch_pb2.ProcessingMode
EXPRESS = batch_pb2.PROCESSING_MODE_EXPRESS
STANDARD = batch_pb2.PROCESSING_MODE_STANDARD
UNSPECIFIED = batch_pb2.PROCESSING_MODE_UNSPECIFIED


class Reason(enum.StrEnum):
    """Why a field is invalid: `google.rpc.BadRequest.FieldViolation.reason`, stable for clients."""

    REQUIRED = "REQUIRED"
    NOT_ALLOWED = "NOT_ALLOWED"
    TOO_LONG = "TOO_LONG"
    COUNT_OUT_OF_RANGE = "COUNT_OUT_OF_RANGE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_URL = "INVALID_URL"
    INVALID_UUID = "INVALID_UUID"
    UNKNOWN_ENUM_VALUE = "UNKNOWN_ENUM_VALUE"
    DUPLICATE = "DUPLICATE"
    MODE_NOT_INFERABLE = "MODE_NOT_INFERABLE"
    INVALID_JSONL = "INVALID_JSONL"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the field path (proto names), a stable reason, and the rule in words."""

    field: str
    reason: Reason
    description: str


Violations = list[Violation]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _max_chars(out: Violations, path: str, value: str, limit: int) -> None:
    if len(value) > limit:
        out.append(Violation(path, Reason.TOO_LONG, f"must be at most {limit} characters"))


def _uuid(out: Violations, path: str, value: str, *, required: bool) -> None:
    if not value:
        if required:
            out.append(Violation(path, Reason.REQUIRED, "is required"))
    elif _UUID.fullmatch(value) is None:
        out.append(
            Violation(path, Reason.INVALID_UUID, "must be a UUID (8-4-4-4-12 hexadecimal digits)")
        )


def _is_http_url(value: str) -> bool:
    if _SPACE_OR_CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _url(out: Violations, path: str, value: str) -> None:
    if not value:
        out.append(Violation(path, Reason.REQUIRED, "is required"))
    elif len(value) > MAX_URL_CHARS:
        _max_chars(out, path, value, MAX_URL_CHARS)
    elif not _is_http_url(value):
        out.append(Violation(path, Reason.INVALID_URL, "must be an absolute http(s) URL"))


def _enum(out: Violations, path: str, value: int, enum_type: EnumDescriptor) -> None:
    if value not in enum_type.values_by_number:
        out.append(
            Violation(
                path, Reason.UNKNOWN_ENUM_VALUE, f"{value} is not a value of {enum_type.full_name}"
            )
        )


def _count(out: Violations, path: str, items: Sized, high: int, rule: str) -> None:
    """At least one item and at most `high`; `rule` says so in words, e.g. "must have 1 to 500"."""
    if not 1 <= len(items) <= high:
        out.append(Violation(path, Reason.COUNT_OUT_OF_RANGE, f"{rule}; got {len(items)}"))


def _speakers(
    out: Violations, prefix: str, message: batch_pb2.BatchInfo | batch_pb2.AudioSource
) -> None:
    if message.WhichOneof("speakers") == "num_speakers" and not (
        MIN_SPEAKERS <= message.num_speakers <= MAX_SPEAKERS
    ):
        out.append(
            Violation(
                _join(prefix, "num_speakers"),
                Reason.OUT_OF_RANGE,
                f"must be between {MIN_SPEAKERS} and {MAX_SPEAKERS}",
            )
        )


def _info(out: Violations, info: batch_pb2.BatchInfo) -> None:
    _max_chars(out, "info.model", info.model, MAX_MODEL_CHARS)
    _max_chars(out, "info.title", info.title, MAX_TITLE_CHARS)
    _enum(out, "info.primary_language", info.primary_language, batch_pb2.Language.DESCRIPTOR)
    formats = info.hebrew_word_format
    if len(formats) > MAX_HEBREW_WORD_FORMATS:
        out.append(
            Violation(
                "info.hebrew_word_format",
                Reason.COUNT_OUT_OF_RANGE,
                f"must have at most {MAX_HEBREW_WORD_FORMATS} entries; got {len(formats)}",
            )
        )
    first_seen: dict[int, int] = {}
    for index, value in enumerate(formats[:SCAN_LIMIT]):
        path = f"info.hebrew_word_format[{index}]"
        if value == batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED:
            out.append(
                Violation(path, Reason.NOT_ALLOWED, "must not be HEBREW_WORD_FORMAT_UNSPECIFIED")
            )
        elif value in first_seen:
            out.append(
                Violation(
                    path,
                    Reason.DUPLICATE,
                    f"must not repeat; first given at info.hebrew_word_format[{first_seen[value]}]",
                )
            )
        else:
            first_seen[value] = index
            _enum(out, path, value, batch_pb2.HebrewWordFormat.DESCRIPTOR)
    _speakers(out, "info", info)


def _audio_source(out: Violations, prefix: str, source: batch_pb2.AudioSource) -> None:
    _url(out, _join(prefix, "audio_url"), source.audio_url)
    _max_chars(out, _join(prefix, "title"), source.title, MAX_TITLE_CHARS)
    _max_chars(
        out, _join(prefix, "client_item_id"), source.client_item_id, MAX_CLIENT_ITEM_ID_CHARS
    )
    _speakers(out, prefix, source)


def _audio_sources(
    out: Violations, path: str, sources: Sequence[batch_pb2.AudioSource], scope: str
) -> None:
    """Each item's rules, and `client_item_id` unique within `scope` (reported on the later one)."""
    first_seen: dict[str, int] = {}
    for index, source in enumerate(sources[:SCAN_LIMIT]):
        prefix = f"{path}[{index}]"
        _audio_source(out, prefix, source)
        item_id = source.client_item_id
        if item_id in first_seen:
            first = f"{path}[{first_seen[item_id]}]"
            out.append(
                Violation(
                    f"{prefix}.client_item_id",
                    Reason.DUPLICATE,
                    f"must be unique within the {scope}; first used at {first}",
                )
            )
        elif item_id:
            first_seen[item_id] = index


def _metadata(out: Violations, metadata: batch_pb2.ManifestMetadata) -> None:
    _max_chars(out, "metadata.title", metadata.title, MAX_TITLE_CHARS)
    _max_chars(out, "metadata.description", metadata.description, MAX_DESCRIPTION_CHARS)


def resolve_processing_mode(
    request: batch_service_pb2.CreateBatchRequest,
) -> batch_pb2.ProcessingMode | None:
    """The mode a CreateBatch runs in: the given one, else inferred, else None (not inferable).

    UNSPECIFIED with only `audio_sources` is express, with only `batch_file_id` standard; with
    both or neither, or an unknown enum value, there is no mode (validation reports why).
    """
    mode = request.processing_mode
    if mode == UNSPECIFIED:
        has_sources, has_file = bool(request.audio_sources), bool(request.batch_file_id)
        if has_sources != has_file:
            return EXPRESS if has_sources else STANDARD
        return None
    return mode if mode in (EXPRESS, STANDARD) else None


def validate_create_batch(request: batch_service_pb2.CreateBatchRequest) -> Violations:
    """Every rule of CreateBatchRequest; see its proto comments."""
    out: Violations = []
    _uuid(out, "request_id", request.request_id, required=False)
    if request.HasField("info"):
        _info(out, request.info)
    else:
        out.append(Violation("info", Reason.REQUIRED, "is required"))
    _max_chars(out, "batch_title", request.batch_title, MAX_BATCH_TITLE_CHARS)
    _enum(out, "processing_mode", request.processing_mode, batch_pb2.ProcessingMode.DESCRIPTOR)
    mode = resolve_processing_mode(request)
    sources, file_id = request.audio_sources, request.batch_file_id
    if mode is None and request.processing_mode == UNSPECIFIED:
        given = "both are set" if sources and file_id else "neither is set"
        out.append(
            Violation(
                "processing_mode",
                Reason.MODE_NOT_INFERABLE,
                "must be set when not exactly one of audio_sources (express) and batch_file_id"
                f" (standard) is set; {given}",
            )
        )
    if mode == EXPRESS:
        _count(
            out,
            "audio_sources",
            sources,
            MAX_EXPRESS_ITEMS,
            f"must have 1 to {MAX_EXPRESS_ITEMS} items in express mode",
        )
        if file_id:
            out.append(
                Violation("batch_file_id", Reason.NOT_ALLOWED, "must be empty in express mode")
            )
    elif mode == STANDARD:
        if sources:
            out.append(
                Violation(
                    "audio_sources",
                    Reason.NOT_ALLOWED,
                    "must be empty in standard mode (upload them with UploadManifest)",
                )
            )
        if not file_id:
            out.append(Violation("batch_file_id", Reason.REQUIRED, "is required in standard mode"))
    if file_id:
        _uuid(out, "batch_file_id", file_id, required=True)
    if mode != STANDARD:
        _audio_sources(out, "audio_sources", sources, "batch")
    return out


def _is_unicode(value: str) -> bool:
    """False for a string with lone surrogates, which JSON escapes ("\\ud800") can produce."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _jsonl_item(out: Violations, line: int, raw: str, first_seen: dict[str, int]) -> None:
    def bad(reason: Reason, text: str) -> None:
        out.append(Violation("jsonl", reason, f"line {line}: {text}"))

    try:
        item = json.loads(raw)
    except (ValueError, RecursionError):
        bad(Reason.INVALID_JSONL, "must be valid JSON")
        return
    if not isinstance(item, dict):
        bad(Reason.INVALID_JSONL, "must be a JSON object")
        return
    unknown = sorted(ascii(key[:32]) for key in item if key not in JSONL_KEYS)  # ascii(): no lone
    if unknown:  # surrogates from JSON escapes may reach the BadRequest
        keys = ", ".join(unknown[:5])
        bad(Reason.INVALID_JSONL, f"unknown keys {keys}; allowed: {', '.join(JSONL_KEYS)}")
    source = batch_pb2.AudioSource()
    mistyped: set[str] = set()
    for key, kind, name in (
        ("audio_url", str, "a string"),
        ("title", str, "a string or null"),
        ("client_item_id", str, "a string or null"),
        ("auto_detect_speakers", bool, "a boolean or null"),
    ):
        value = item.get(key)
        if value is not None and not isinstance(value, kind):
            mistyped.add(key)
            bad(Reason.INVALID_JSONL, f"{key} must be {name}")
        elif isinstance(value, str) and not _is_unicode(value):
            mistyped.add(key)
            bad(Reason.INVALID_JSONL, f"{key} must be valid Unicode (no lone surrogates)")
        elif value is not None:
            setattr(source, key, value)
    speakers = item.get("num_speakers")
    if speakers is not None:
        if isinstance(speakers, bool) or not isinstance(speakers, int):
            bad(Reason.INVALID_JSONL, "num_speakers must be an integer or null")
        elif item.get("auto_detect_speakers") is not None:
            bad(Reason.NOT_ALLOWED, "num_speakers and auto_detect_speakers are mutually exclusive")
        elif not MIN_SPEAKERS <= speakers <= MAX_SPEAKERS:
            bad(
                Reason.OUT_OF_RANGE,
                f"num_speakers must be between {MIN_SPEAKERS} and {MAX_SPEAKERS}",
            )
        else:
            source.num_speakers = speakers
    item_rules: Violations = []
    _audio_source(item_rules, "", source)
    for violation in item_rules:  # the AudioSource rules, on what was well-typed
        if violation.field not in mistyped:
            bad(violation.reason, f"{violation.field} {violation.description}")
    if source.client_item_id in first_seen:
        bad(
            Reason.DUPLICATE,
            "client_item_id must be unique within the manifest;"
            f" first used on line {first_seen[source.client_item_id]}",
        )
    elif source.client_item_id:
        first_seen[source.client_item_id] = line


def _jsonl(out: Violations, text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_JSONL_BYTES:
        out.append(
            Violation("jsonl", Reason.TOO_LONG, f"must be at most {MAX_JSONL_BYTES} bytes of UTF-8")
        )
        return
    lines = [(n, raw) for n, raw in enumerate(text.split("\n"), start=1) if raw.strip()]
    _count(
        out, "jsonl", lines, MAX_MANIFEST_ITEMS, f"must have 1 to {MAX_MANIFEST_ITEMS} item lines"
    )
    first_seen: dict[str, int] = {}
    for line, raw in lines[:SCAN_LIMIT]:
        _jsonl_item(out, line, raw, first_seen)


def validate_upload_manifest(request: batch_service_pb2.UploadManifestRequest) -> Violations:
    """Every rule of UploadManifestRequest: the request id, the items or JSONL lines, metadata."""
    out: Violations = []
    _uuid(out, "request_id", request.request_id, required=False)
    content = request.WhichOneof("content")
    if content == "items":
        items = request.items.items
        _count(
            out,
            "items.items",
            items,
            MAX_MANIFEST_ITEMS,
            f"must have 1 to {MAX_MANIFEST_ITEMS} items",
        )
        _audio_sources(out, "items.items", items, "manifest")
    elif content == "jsonl":
        _jsonl(out, request.jsonl)
    else:
        out.append(Violation("items", Reason.REQUIRED, "one of items or jsonl is required"))
    _metadata(out, request.metadata)
    return out


def validate_create_manifest_from_rss(
    request: batch_service_pb2.CreateManifestFromRssRequest,
) -> Violations:
    """Every rule of CreateManifestFromRssRequest: ids, the feed URL, the page range, metadata."""
    out: Violations = []
    _uuid(out, "request_id", request.request_id, required=False)
    _url(out, "rss_url", request.rss_url)
    if request.HasField("limit") and not MIN_RSS_LIMIT <= request.limit <= MAX_RSS_LIMIT:
        out.append(
            Violation(
                "limit", Reason.OUT_OF_RANGE, f"must be between {MIN_RSS_LIMIT} and {MAX_RSS_LIMIT}"
            )
        )
    if request.HasField("offset") and request.offset < 0:
        out.append(Violation("offset", Reason.OUT_OF_RANGE, "must be at least 0"))
    _metadata(out, request.metadata)
    return out


def validate_get_manifest(request: batch_service_pb2.GetManifestRequest) -> Violations:
    """`batch_file_id` is a required UUID."""
    out: Violations = []
    _uuid(out, "batch_file_id", request.batch_file_id, required=True)
    return out


def validate_list_manifests(request: batch_service_pb2.ListManifestsRequest) -> Violations:
    """`page_size` within 0..MAX_PAGE_SIZE, `page_token` at most MAX_PAGE_TOKEN_CHARS."""
    out: Violations = []
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        out.append(
            Violation("page_size", Reason.OUT_OF_RANGE, f"must be between 0 and {MAX_PAGE_SIZE}")
        )
    _max_chars(out, "page_token", request.page_token, MAX_PAGE_TOKEN_CHARS)
    return out


def _batch_id_only(
    request: batch_service_pb2.GetBatchStatusRequest | batch_service_pb2.WatchBatchStatusRequest,
) -> Violations:
    out: Violations = []
    _uuid(out, "batch_id", request.batch_id, required=True)
    return out


def validate_get_batch_status(request: batch_service_pb2.GetBatchStatusRequest) -> Violations:
    """`batch_id` is a required UUID."""
    return _batch_id_only(request)


def validate_watch_batch_status(request: batch_service_pb2.WatchBatchStatusRequest) -> Violations:
    """`batch_id` is a required UUID."""
    return _batch_id_only(request)


def validate_get_batch_item(request: batch_service_pb2.GetBatchItemRequest) -> Violations:
    """`batch_id` is a required UUID; `client_item_id` is required and bounded."""
    out: Violations = []
    _uuid(out, "batch_id", request.batch_id, required=True)
    if not request.client_item_id:
        out.append(Violation("client_item_id", Reason.REQUIRED, "is required"))
    _max_chars(out, "client_item_id", request.client_item_id, MAX_CLIENT_ITEM_ID_CHARS)
    return out


def validate_get_transcription(request: batch_service_pb2.GetTranscriptionRequest) -> Violations:
    """`transcription_id` is a required UUID; the filter is a known enum value."""
    out: Violations = []
    _uuid(out, "transcription_id", request.transcription_id, required=True)
    _enum(
        out,
        "filter_hebrew_word_format",
        request.filter_hebrew_word_format,
        batch_pb2.HebrewWordFormat.DESCRIPTOR,
    )
    return out


def validate_get_transcription_status(
    request: batch_service_pb2.GetTranscriptionStatusRequest,
) -> Violations:
    """`transcription_id` is a required UUID."""
    out: Violations = []
    _uuid(out, "transcription_id", request.transcription_id, required=True)
    return out


_VALIDATORS: Mapping[str, Callable[[Any], Violations]] = {
    "sofer.batch.v1.CreateBatchRequest": validate_create_batch,
    "sofer.batch.v1.UploadManifestRequest": validate_upload_manifest,
    "sofer.batch.v1.CreateManifestFromRssRequest": validate_create_manifest_from_rss,
    "sofer.batch.v1.GetManifestRequest": validate_get_manifest,
    "sofer.batch.v1.ListManifestsRequest": validate_list_manifests,
    "sofer.batch.v1.GetBatchStatusRequest": validate_get_batch_status,
    "sofer.batch.v1.WatchBatchStatusRequest": validate_watch_batch_status,
    "sofer.batch.v1.GetBatchItemRequest": validate_get_batch_item,
    "sofer.batch.v1.GetTranscriptionRequest": validate_get_transcription,
    "sofer.batch.v1.GetTranscriptionStatusRequest": validate_get_transcription_status,
}


def validate(request: Message) -> Violations:
    """The violations of any request of BatchTranscriptionService; KeyError for other messages."""
    return _VALIDATORS[request.DESCRIPTOR.full_name](request)


def to_bad_request(
    violations: Sequence[Violation], *, limit: int = MAX_REPORTED_VIOLATIONS
) -> error_details_pb2.BadRequest:
    """The first `limit` violations as a google.rpc.BadRequest, in the order they were found."""
    bad_request = error_details_pb2.BadRequest()
    for violation in violations[:limit]:
        bad_request.field_violations.add(
            field=violation.field, description=violation.description, reason=violation.reason
        )
    return bad_request


def summarize(violations: Sequence[Violation], *, limit: int = 3) -> str:
    """A one-line status message: the first few violations and how many there are in all."""
    shown = "; ".join(f"{v.field}: {v.description}" for v in violations[:limit])
    more = len(violations) - limit
    return f"invalid request: {shown}" + (f" (and {more} more)" if more > 0 else "")
