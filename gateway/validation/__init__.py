"""Request validation: every rule of the public contract, all violations at once, no I/O.

Each `validate_*` function takes one request message and returns every `Violation` it breaks (an
empty list when the request is valid), with the proto field path as google.rpc.BadRequest wants it
(`audio_sources[3].audio_url`, `info.num_speakers`, `items.items[2].client_item_id`). The limits
are the constants below; the proto comments state the same numbers.

Lists longer than their limit get one count violation, and only their first `SCAN_LIMIT` elements
are checked one by one, so a hostile request cannot make validation slow or its answer huge.

Pure: imports nothing of the gateway's (only the generated protos and google.rpc); no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from gateway.validation import money
from gateway.validation.exports import check_caption_options, validate_watch_manifest
from gateway.validation.jsonl import check_jsonl
from gateway.validation.listing import (
    DEFAULT_LIST_PAGE_SIZE,
    MAX_LIST_PAGE_SIZE,
    validate_extract_link,
    validate_list_supported_sites,
    validate_list_transcriptions,
)
from gateway.validation.rules import (
    EXPRESS,
    JSONL_KEYS,
    MAX_BATCH_TITLE_CHARS,
    MAX_CLIENT_ITEM_ID_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_EXPRESS_ITEMS,
    MAX_HEBREW_WORD_FORMATS,
    MAX_JSONL_BYTES,
    MAX_MANIFEST_ITEMS,
    MAX_MODEL_CHARS,
    MAX_PAGE_SIZE,
    MAX_PAGE_TOKEN_CHARS,
    MAX_REPORTED_VIOLATIONS,
    MAX_RSS_LIMIT,
    MAX_SPEAKERS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    MIN_RSS_LIMIT,
    MIN_SPEAKERS,
    SCAN_LIMIT,
    STANDARD,
    UNSPECIFIED,
    Reason,
    Violation,
    Violations,
    _audio_sources,
    _count,
    _enum,
    _info,
    _max_chars,
    _metadata,
    _url,
    _uuid,
)
from gateway.validation.singles import (
    validate_create_transcription,
    validate_upload_transcription,
    validate_watch_transcription,
)
from gateway.validation.webhooks import VALIDATORS as WEBHOOK_VALIDATORS


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
    if request.webhook_url:  # --- webhooks ---
        _url(out, "webhook_url", request.webhook_url)
    return out


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
        check_jsonl(out, request.jsonl)
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


def validate_stream_batch_transcripts(
    request: batch_service_pb2.StreamBatchTranscriptsRequest,
) -> Violations:
    """`batch_id` is a required UUID; the filter is a known enum value; each skipped id is a
    UUID, at most MAX_MANIFEST_ITEMS (a batch's largest size) of them."""
    out: Violations = []
    _uuid(out, "batch_id", request.batch_id, required=True)
    _word_filter(out, request.filter_hebrew_word_format)
    skipped = request.skip_transcription_ids
    if len(skipped) > MAX_MANIFEST_ITEMS:
        out.append(
            Violation(
                "skip_transcription_ids",
                Reason.COUNT_OUT_OF_RANGE,
                f"must have at most {MAX_MANIFEST_ITEMS} ids (a batch's largest size)",
            )
        )
    else:
        for index, transcription_id in enumerate(skipped):
            _uuid(out, f"skip_transcription_ids[{index}]", transcription_id, required=True)
    return out


def validate_get_batch_item(request: batch_service_pb2.GetBatchItemRequest) -> Violations:
    """`batch_id` is a required UUID; `client_item_id` is required and bounded."""
    out: Violations = []
    _uuid(out, "batch_id", request.batch_id, required=True)
    if not request.client_item_id:
        out.append(Violation("client_item_id", Reason.REQUIRED, "is required"))
    _max_chars(out, "client_item_id", request.client_item_id, MAX_CLIENT_ITEM_ID_CHARS)
    return out


def _word_filter(out: Violations, value: int) -> None:
    """`filter_hebrew_word_format`, where a request has one, is a known enum value."""
    _enum(out, "filter_hebrew_word_format", value, batch_pb2.HebrewWordFormat.DESCRIPTOR)


def validate_get_transcription(request: batch_service_pb2.GetTranscriptionRequest) -> Violations:
    """`transcription_id` is a required UUID; the filter is a known enum value."""
    out: Violations = []
    _uuid(out, "transcription_id", request.transcription_id, required=True)
    _word_filter(out, request.filter_hebrew_word_format)
    return out


def validate_export_transcription(
    request: batch_service_pb2.ExportTranscriptionRequest,
) -> Violations:
    """`transcription_id` is a required UUID; `format` is required (a known value other than
    UNSPECIFIED); the filter is a known enum value, as GetTranscription's; the caption options
    within their ranges (gateway.validation.exports)."""
    out: Violations = []
    _uuid(out, "transcription_id", request.transcription_id, required=True)
    if request.format == batch_pb2.EXPORT_FORMAT_UNSPECIFIED:
        out.append(
            Violation(
                "format",
                Reason.REQUIRED,
                "is required (SRT, WEBVTT, TEXT, MARKDOWN, DOCX or JSON)",
            )
        )
    else:
        _enum(out, "format", request.format, batch_pb2.ExportFormat.DESCRIPTOR)
    _word_filter(out, request.filter_hebrew_word_format)
    check_caption_options(out, request.caption_options)
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
    "sofer.batch.v1.StreamBatchTranscriptsRequest": validate_stream_batch_transcripts,
    "sofer.batch.v1.GetBatchItemRequest": validate_get_batch_item,
    "sofer.batch.v1.GetTranscriptionRequest": validate_get_transcription,
    "sofer.batch.v1.GetTranscriptionStatusRequest": validate_get_transcription_status,
    "sofer.batch.v1.ExportTranscriptionRequest": validate_export_transcription,
    **money.VALIDATORS,
    "sofer.batch.v1.ListTranscriptionsRequest": validate_list_transcriptions,
    "sofer.batch.v1.ExtractLinkRequest": validate_extract_link,
    "sofer.batch.v1.ListSupportedSitesRequest": validate_list_supported_sites,
    # --- issue 22: single transcriptions ---
    "sofer.batch.v1.CreateTranscriptionRequest": validate_create_transcription,
    "sofer.batch.v1.UploadTranscriptionRequest": validate_upload_transcription,
    "sofer.batch.v1.WatchTranscriptionRequest": validate_watch_transcription,
    "sofer.batch.v1.WatchManifestRequest": validate_watch_manifest,
    **WEBHOOK_VALIDATORS,  # --- webhooks ---
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


__all__ = [
    "DEFAULT_LIST_PAGE_SIZE",
    "EXPRESS",
    "JSONL_KEYS",
    "MAX_BATCH_TITLE_CHARS",
    "MAX_CLIENT_ITEM_ID_CHARS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_EXPRESS_ITEMS",
    "MAX_HEBREW_WORD_FORMATS",
    "MAX_JSONL_BYTES",
    "MAX_LIST_PAGE_SIZE",
    "MAX_MANIFEST_ITEMS",
    "MAX_MODEL_CHARS",
    "MAX_PAGE_SIZE",
    "MAX_PAGE_TOKEN_CHARS",
    "MAX_REPORTED_VIOLATIONS",
    "MAX_RSS_LIMIT",
    "MAX_SPEAKERS",
    "MAX_TITLE_CHARS",
    "MAX_URL_CHARS",
    "MIN_RSS_LIMIT",
    "MIN_SPEAKERS",
    "SCAN_LIMIT",
    "STANDARD",
    "UNSPECIFIED",
    "Reason",
    "Violation",
    "Violations",
    "resolve_processing_mode",
    "summarize",
    "to_bad_request",
    "validate",
    "validate_create_batch",
    "validate_create_manifest_from_rss",
    "validate_export_transcription",
    "validate_extract_link",
    "validate_get_batch_item",
    "validate_get_batch_status",
    "validate_get_manifest",
    "validate_get_transcription",
    "validate_get_transcription_status",
    "validate_list_manifests",
    "validate_list_supported_sites",
    "validate_list_transcriptions",
    "validate_upload_manifest",
    "validate_watch_batch_status",
]
