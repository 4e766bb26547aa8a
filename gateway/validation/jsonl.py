"""Manifest JSONL: each line parsed, typed and checked like an AudioSource, all at once."""

from __future__ import annotations

import json

from sofer.batch.v1 import batch_pb2

from gateway.validation.rules import (
    JSONL_KEYS,
    MAX_JSONL_BYTES,
    MAX_MANIFEST_ITEMS,
    MAX_SPEAKERS,
    MIN_SPEAKERS,
    SCAN_LIMIT,
    Reason,
    Violation,
    Violations,
    _audio_source,
    _count,
)


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
    _audio_source(item_rules, "", source, links=False)
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


def check_jsonl(out: Violations, text: str) -> None:
    """Every violation of a manifest given as JSONL text, by line."""
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
