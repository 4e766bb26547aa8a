"""Validation primitives: the contract's limits, the Violation type, and per-field rules.

The request validators (gateway.validation) are built from these; the proto comments state the
same limits.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence, Sized
from dataclasses import dataclass
from urllib.parse import urlsplit

from google.protobuf.descriptor import EnumDescriptor
from sofer.batch.v1 import batch_pb2

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
    INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"  # noqa: S105 (a reason, not a secret)
    # A CreateBatch item's `page_url` that the upstream could not resolve (gateway.server.links).
    LINK_NOT_SUPPORTED = "LINK_NOT_SUPPORTED"
    LINK_NOT_FOUND = "LINK_NOT_FOUND"
    LINK_EXTRACTION_FAILED = "LINK_EXTRACTION_FAILED"
    # A stream's resume_token that is not one, or another batch's (gateway.watch.resume).
    INVALID_RESUME_TOKEN = "INVALID_RESUME_TOKEN"  # noqa: S105 (a reason, not a secret)
    # --- webhooks --- a webhook URL the gateway may not deliver to (gateway.webhooks.addresses)
    URL_NOT_HTTPS = "URL_NOT_HTTPS"
    ADDRESS_NOT_ALLOWED = "ADDRESS_NOT_ALLOWED"
    HOST_NOT_RESOLVED = "HOST_NOT_RESOLVED"


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


def _audio_source(
    out: Violations, prefix: str, source: batch_pb2.AudioSource, *, links: bool
) -> None:
    """An item's rules; `links`: a `page_url` may stand for `audio_url` (CreateBatch only)."""
    if source.page_url and not links:
        out.append(
            Violation(
                _join(prefix, "page_url"),
                Reason.NOT_ALLOWED,
                "is resolved only in CreateBatch; resolve the link with ExtractLink and give"
                " its audio_url",
            )
        )
    elif source.page_url and source.audio_url:
        out.append(
            Violation(
                _join(prefix, "page_url"),
                Reason.NOT_ALLOWED,
                "must be empty when audio_url is given (exactly one of the two)",
            )
        )
    elif source.page_url:
        _url(out, _join(prefix, "page_url"), source.page_url)
    if not (source.page_url and links) or source.audio_url:
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
        _audio_source(out, prefix, source, links=scope == "batch")
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
