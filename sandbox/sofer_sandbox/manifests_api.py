"""Manifest endpoints: upload, list (newest first, cursor-paged), get one, import from RSS."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.errors import SchemaErrors, bad_request, not_found
from sofer_sandbox.fields import opt_int, req_str
from sofer_sandbox.inputs import json_object, path_uuid
from sofer_sandbox.manifests import (
    Metadata,
    draft_from_entries,
    parse_metadata,
    parse_upload,
    store_manifest,
)
from sofer_sandbox.rss import parse_feed
from sofer_sandbox.runtime import Runtime, runtime_of
from sofer_sandbox.validation import STANDARD_MAX_ITEMS
from sofer_sandbox.views import batch_file_detail, batch_file_summary, batch_file_uploaded


async def upload_batch_file(request: Request) -> JSONResponse:
    """POST /v1/transcriptions/batch-files."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    draft = parse_upload(await json_object(request))
    now = runtime.now()
    manifest = store_manifest(tenant, draft, now, runtime.config.manifest_validation_seconds)
    runtime.stats.created("manifests")
    return JSONResponse(batch_file_uploaded(manifest, now))


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "seq":
            raise ValueError(cursor)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_request("cursor is not one this API returned") from exc


def _page_size(request: Request, runtime: Runtime) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return runtime.config.list_page_size
    top = runtime.config.list_max_page_size
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise bad_request(f"limit must be an integer from 1 to {top}")
    return int(raw)


async def list_batch_files(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/batch-files[?limit=N&cursor=C] (both params are assumptions)."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    size = _page_size(request, runtime)
    cursor = request.query_params.get("cursor")
    newest_first = sorted(tenant.manifests.values(), key=lambda m: m.seq, reverse=True)
    if cursor:
        after = _decode_cursor(cursor)
        newest_first = [m for m in newest_first if m.seq < after]
    page, rest = newest_first[:size], newest_first[size:]
    now = runtime.now()
    return JSONResponse(
        {
            "files": [batch_file_summary(m, now) for m in page],
            "next_cursor": _encode_cursor(page[-1].seq) if rest else None,
        }
    )


async def get_batch_file(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/batch-files/{batch_file_id}."""
    tenant = tenant_of(request)
    manifest_id = path_uuid(request, "batch_file_id")
    manifest = tenant.manifests.get(manifest_id)
    if manifest is None:
        raise not_found(f"Batch file {manifest_id} not found")
    return JSONResponse(batch_file_detail(manifest, runtime_of(request).now()))


@dataclass(frozen=True)
class _RssImport:
    rss_url: str
    limit: int
    offset: int
    metadata: Metadata


def _parse_rss_import(body: Mapping[str, Any]) -> _RssImport:
    """A BatchFileCreateFromRssRequest: 422 for schema errors, 400 for out-of-range values."""
    errors = SchemaErrors()
    rss_url = req_str(body, "rss_url", ("body",), errors) or ""
    limit = opt_int(body, "limit", ("body",), errors)
    offset = opt_int(body, "offset", ("body",), errors)
    metadata = parse_metadata(body, errors)
    errors.raise_if_any()
    limit = STANDARD_MAX_ITEMS if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= STANDARD_MAX_ITEMS:
        raise bad_request(f"limit must be from 1 to {STANDARD_MAX_ITEMS}")
    if offset < 0:
        raise bad_request("offset must be 0 or more")
    if not rss_url.startswith(("http://", "https://")):
        raise bad_request("rss_url must be an absolute http(s) URL")
    return _RssImport(rss_url, limit, offset, metadata)


async def create_batch_file_from_rss(request: Request) -> JSONResponse:
    """POST /v1/transcriptions/batch-files/from-rss."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    job = _parse_rss_import(await json_object(request))
    limit, offset, metadata = job.limit, job.offset, job.metadata
    feed = parse_feed(await runtime.fetcher.fetch(job.rss_url))
    page = feed.episodes[offset : offset + limit]
    if not page:
        raise bad_request(
            f"the feed has {len(feed.episodes)} audio enclosures; none from offset {offset}"
        )
    rows = [
        {"audio_url": e.audio_url, "title": e.title, "client_item_id": e.client_item_id}
        for e in page
    ]
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    draft = draft_from_entries(
        [(f"episode {offset + i + 1}", row) for i, row in enumerate(rows)],
        content,
        Metadata(metadata.title or feed.title, metadata.description),
    )
    now = runtime.now()
    manifest = store_manifest(tenant, draft, now, runtime.config.manifest_validation_seconds)
    runtime.stats.created("manifests")
    has_more = offset + len(page) < len(feed.episodes)
    answer = {**batch_file_uploaded(manifest, now), "offset": offset, "limit": limit}
    answer["has_more"] = has_more
    if has_more:
        answer["next_offset"] = offset + len(page)
    return JSONResponse(answer)
