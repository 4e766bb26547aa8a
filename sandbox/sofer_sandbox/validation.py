"""Parsing and rules of create-batch requests and of the audio sources they (or manifests) hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sofer_sandbox.errors import Loc, SchemaErrors, bad_request
from sofer_sandbox.fields import (
    as_object,
    opt_bool,
    opt_enum,
    opt_enum_list,
    opt_int,
    opt_str,
    opt_uuid,
    req_str,
)

LANGUAGES = ("en", "he", "yi", "fr")
LETTERS = ("en", "he", "hybrid")
PROCESSING_MODES = ("standard", "express")
EXPRESS_MAX_ITEMS = 10
STANDARD_MAX_ITEMS = 500


@dataclass(frozen=True)
class Speakers:
    """A speaker setting as given: at most one of the two fields (both is a 400)."""

    num_speakers: int | None = None
    auto_detect_speakers: bool | None = None

    @property
    def given(self) -> bool:
        """Whether this object sets the speakers at all (a given field overrides the batch's)."""
        return self.num_speakers is not None or self.auto_detect_speakers is not None


@dataclass(frozen=True)
class AudioSource:
    """One item of an express batch or of a manifest."""

    audio_url: str
    title: str | None = None
    client_item_id: str | None = None
    speakers: Speakers = Speakers()


@dataclass(frozen=True)
class BatchInfo:
    """The batch-wide settings (`info`)."""

    model: str | None = None
    primary_language: str | None = None
    hebrew_word_format: tuple[str, ...] | None = None
    speakers: Speakers = Speakers()


@dataclass(frozen=True)
class CreateBatchRequest:
    """A create-batch body that matched the schema (its rules are checked separately)."""

    processing_mode: str
    info: BatchInfo
    batch_title: str | None
    batch_file_id: str | None
    audio_sources: tuple[AudioSource, ...] | None


def parse_speakers(obj: Mapping[str, Any], loc: Loc, errors: SchemaErrors) -> Speakers:
    """The two speaker fields of one object."""
    return Speakers(
        opt_int(obj, "num_speakers", loc, errors),
        opt_bool(obj, "auto_detect_speakers", loc, errors),
    )


def parse_audio_source(value: Any, loc: Loc, errors: SchemaErrors) -> AudioSource | None:
    """One BatchAudioSource / BatchManifestAudioSource; None when it violates the schema."""
    before = len(errors.items)
    obj = as_object(value, loc, errors)
    if obj is None:
        return None
    audio_url = req_str(obj, "audio_url", loc, errors)
    source = AudioSource(
        audio_url=audio_url or "",
        title=opt_str(obj, "title", loc, errors),
        client_item_id=opt_str(obj, "client_item_id", loc, errors),
        speakers=parse_speakers(obj, loc, errors),
    )
    return source if len(errors.items) == before else None


def speaker_problems(speakers: Speakers) -> list[str]:
    """The rules of one speaker setting, as messages."""
    problems = []
    if speakers.num_speakers is not None and speakers.auto_detect_speakers is not None:
        problems.append("give either num_speakers or auto_detect_speakers, not both")
    if speakers.num_speakers is not None and speakers.num_speakers < 1:
        problems.append("num_speakers must be at least 1")
    return problems


def audio_source_problems(source: AudioSource) -> list[str]:
    """The rules of one audio source, as messages (empty when it is fine)."""
    problems = []
    parts = urlsplit(source.audio_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"audio_url must be an absolute http(s) URL, got {source.audio_url!r}")
    return problems + speaker_problems(source.speakers)


def duplicate_client_item_ids(sources: Sequence[AudioSource]) -> list[tuple[int, int, str]]:
    """(first index, duplicate index, id) for each repeated client_item_id."""
    seen: dict[str, int] = {}
    duplicates = []
    for i, source in enumerate(sources):
        cid = source.client_item_id
        if cid is None:
            continue
        if cid in seen:
            duplicates.append((seen[cid], i, cid))
        else:
            seen[cid] = i
    return duplicates


def parse_info(value: Any, errors: SchemaErrors) -> BatchInfo:
    """`info`: required by the schema (an object; every field optional)."""
    loc: Loc = ("body", "info")
    if value is None:
        errors.add(loc, "Field required", "missing")
        return BatchInfo()
    obj = as_object(value, loc, errors)
    if obj is None:
        return BatchInfo()
    formats = opt_enum_list(obj, "hebrew_word_format", LETTERS, loc, errors)
    opt_str(obj, "title", loc, errors)
    return BatchInfo(
        model=opt_str(obj, "model", loc, errors),
        primary_language=opt_enum(obj, "primary_language", LANGUAGES, loc, errors),
        hebrew_word_format=tuple(formats) if formats else None,
        speakers=parse_speakers(obj, loc, errors),
    )


def parse_create_batch(body: Mapping[str, Any]) -> CreateBatchRequest:
    """A create-batch body, or a 422 naming every schema violation. Unknown fields are ignored."""
    errors = SchemaErrors()
    loc: Loc = ("body",)
    info = parse_info(body.get("info"), errors)
    sources: list[AudioSource] | None = None
    raw_sources = body.get("audio_sources")
    if raw_sources is not None:
        if isinstance(raw_sources, list):
            parsed = [
                parse_audio_source(s, ("body", "audio_sources", i), errors)
                for i, s in enumerate(raw_sources)
            ]
            sources = [s for s in parsed if s is not None]
        else:
            errors.add((*loc, "audio_sources"), "Input should be a valid list", "list_type")
    request = CreateBatchRequest(
        processing_mode=opt_enum(body, "processing_mode", PROCESSING_MODES, loc, errors)
        or "standard",
        info=info,
        batch_title=opt_str(body, "batch_title", loc, errors),
        batch_file_id=opt_uuid(body, "batch_file_id", loc, errors),
        audio_sources=tuple(sources) if sources is not None else None,
    )
    errors.raise_if_any()
    return request


def check_express(request: CreateBatchRequest) -> tuple[AudioSource, ...]:
    """The rules of an express batch; its sources, or a 400 naming the first broken rule."""
    if request.batch_file_id is not None:
        raise bad_request("batch_file_id is for standard mode; express mode takes audio_sources")
    sources = request.audio_sources
    if not sources:
        raise bad_request("express mode needs audio_sources (1 to 10 items)")
    if len(sources) > EXPRESS_MAX_ITEMS:
        raise bad_request(
            f"express mode takes at most {EXPRESS_MAX_ITEMS} audio_sources, got {len(sources)}"
        )
    check_sources(sources, "audio_sources")
    return sources


def check_standard_request(request: CreateBatchRequest) -> str:
    """The request-level rules of a standard batch; its manifest id (checked by the caller)."""
    if request.audio_sources is not None:
        raise bad_request("audio_sources is for express mode; standard mode takes batch_file_id")
    if request.batch_file_id is None:
        raise bad_request("standard mode needs batch_file_id (upload a manifest first)")
    return request.batch_file_id


def check_sources(sources: Sequence[AudioSource], where: str) -> None:
    """Each source's rules, then client_item_id uniqueness; a 400 naming the first problem."""
    for i, source in enumerate(sources):
        problems = audio_source_problems(source)
        if problems:
            raise bad_request(f"{where}[{i}]: {problems[0]}")
    for first, dup, cid in duplicate_client_item_ids(sources):
        raise bad_request(
            f"{where}[{dup}]: duplicate client_item_id {cid!r} (first used at {where}[{first}])"
        )


def check_info(info: BatchInfo) -> None:
    """The batch-level speaker rules."""
    problems = speaker_problems(info.speakers)
    if problems:
        raise bad_request(f"info: {problems[0]}")
