"""Manifests: parsing an upload (JSON array or JSONL), checking each item, and storing the result.

Envelope problems (wrong types: 422; neither/both/mismatched payloads, no items, more than 500:
400) reject the upload. Item problems do not: the manifest is stored and becomes INVALID, each
problem named by its position ("json_items[2]" for JSON, "line 3" for JSONL, 1-based).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sofer_sandbox.errors import Loc, SchemaErrors, bad_request
from sofer_sandbox.fields import as_object, opt_enum, opt_str
from sofer_sandbox.state import Manifest, Tenant, new_id, utc_now_iso
from sofer_sandbox.validation import (
    STANDARD_MAX_ITEMS,
    AudioSource,
    audio_source_problems,
    parse_audio_source,
)

CONTENT_TYPES = ("json", "jsonl")


@dataclass(frozen=True)
class ManifestDraft:
    """A manifest that passed the envelope checks, with its items' problems (if any)."""

    content: bytes
    items: tuple[AudioSource, ...]
    item_count: int
    errors: tuple[str, ...]
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Metadata:
    """BatchFileMetadata: optional title and description."""

    title: str | None = None
    description: str | None = None


def parse_metadata(body: Mapping[str, Any], errors: SchemaErrors) -> Metadata:
    """The optional `metadata` object of an upload or RSS import."""
    value = body.get("metadata")
    if value is None:
        return Metadata()
    loc: Loc = ("body", "metadata")
    obj = as_object(value, loc, errors)
    if obj is None:
        return Metadata()
    return Metadata(opt_str(obj, "title", loc, errors), opt_str(obj, "description", loc, errors))


@dataclass(frozen=True)
class Unparseable:
    """A JSONL line that is not JSON at all."""

    reason: str


def check_items(entries: Sequence[tuple[str, Any]]) -> tuple[tuple[AudioSource, ...], list[str]]:
    """Each (label, raw item) checked like an express item, then client_item_id uniqueness."""
    sources: list[AudioSource] = []
    problems: list[str] = []
    first_use: dict[str, str] = {}
    for label, raw in entries:
        if isinstance(raw, Unparseable):
            problems.append(f"{label}: not valid JSON ({raw.reason})")
            continue
        errors = SchemaErrors()
        source = parse_audio_source(raw, (), errors)
        for e in errors.items:
            where = ".".join(str(p) for p in e["loc"])
            problems.append(f"{label}: {where + ': ' if where else ''}{e['msg']}")
        if source is None:
            continue
        problems.extend(f"{label}: {p}" for p in audio_source_problems(source))
        cid = source.client_item_id
        if cid is not None and cid in first_use:
            problems.append(
                f"{label}: duplicate client_item_id {cid!r} (first at {first_use[cid]})"
            )
        elif cid is not None:
            first_use[cid] = label
        sources.append(source)
    return tuple(sources), problems


def jsonl_entries(text: str) -> list[tuple[str, Any]]:
    """("line N", parsed value) for each non-blank line; N counts every line, from 1."""
    entries: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            entries.append((f"line {number}", Unparseable(exc.msg)))
    return entries


def draft_from_entries(
    entries: list[tuple[str, Any]], content: bytes, metadata: Metadata
) -> ManifestDraft:
    """A draft from labelled raw items, or the 400 for an empty or oversized manifest."""
    if not entries:
        raise bad_request("the manifest has no items")
    if len(entries) > STANDARD_MAX_ITEMS:
        raise bad_request(
            f"a manifest holds at most {STANDARD_MAX_ITEMS} items, got {len(entries)}"
        )
    sources, problems = check_items(entries)
    return ManifestDraft(
        content=content,
        items=sources,
        item_count=len(entries),
        errors=tuple(problems),
        title=metadata.title,
        description=metadata.description,
    )


def parse_upload(body: Mapping[str, Any]) -> ManifestDraft:
    """A BatchFileUploadRequest, or the 422/400 that rejects it."""
    errors = SchemaErrors()
    loc: Loc = ("body",)
    if body.get("content_type") is None:
        errors.add((*loc, "content_type"), "Field required", "missing")
    content_type = opt_enum(body, "content_type", CONTENT_TYPES, loc, errors)
    json_items = body.get("json_items")
    if json_items is not None and not isinstance(json_items, list):
        errors.add((*loc, "json_items"), "Input should be a valid list", "list_type")
    jsonl = opt_str(body, "jsonl", loc, errors)
    metadata = parse_metadata(body, errors)
    errors.raise_if_any()
    if json_items is not None and jsonl is not None:
        raise bad_request("give either json_items or jsonl, not both")
    if content_type == "json":
        if not isinstance(json_items, list):
            raise bad_request("content_type 'json' needs json_items (a JSON array of items)")
        content = json.dumps(json_items, ensure_ascii=False, separators=(",", ":")).encode()
        entries = [(f"json_items[{i}]", item) for i, item in enumerate(json_items)]
        return draft_from_entries(entries, content, metadata)
    if jsonl is None:
        raise bad_request("content_type 'jsonl' needs jsonl (one JSON object per line)")
    return draft_from_entries(jsonl_entries(jsonl), jsonl.encode(), metadata)


def store_manifest(
    tenant: Tenant, draft: ManifestDraft, now: float, validation_seconds: float
) -> Manifest:
    """Keep a manifest; it stays PENDING_VALIDATION for `validation_seconds`."""
    manifest = Manifest(
        id=new_id(),
        seq=tenant.next_seq(),
        created_at=utc_now_iso(),
        valid_at=now + validation_seconds,
        content=draft.content,
        items=draft.items,
        item_count=draft.item_count,
        errors=draft.errors,
        title=draft.title,
        description=draft.description,
    )
    tenant.manifests[manifest.id] = manifest
    return manifest
