"""The sandbox's in-memory state: tenants (one per bearer token) and what each one owns."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sofer_sandbox.timeline import Schedule
from sofer_sandbox.validation import AudioSource


def utc_now_iso() -> str:
    """A wall-clock timestamp in the spec's format (RFC 3339, UTC, trailing Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A fresh resource id (UUID4)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Transcription:
    """One batch item: its settings as resolved at creation and its schedule."""

    id: str
    batch_id: str
    audio_url: str
    title: str
    client_item_id: str | None
    primary_language: str
    hebrew_word_format: tuple[str, ...]
    model: str
    num_speakers: int
    created_at: str
    plan: Schedule


@dataclass(frozen=True)
class Batch:
    """A batch and its items, in submission order."""

    id: str
    items: tuple[Transcription, ...]


@dataclass(frozen=True)
class Manifest:
    """An uploaded (or RSS-imported) batch manifest."""

    id: str
    seq: int
    created_at: str
    valid_at: float
    content: bytes
    items: tuple[AudioSource, ...]
    item_count: int
    errors: tuple[str, ...]
    title: str | None
    description: str | None

    @property
    def checksum(self) -> str:
        """SHA-256 of the manifest content, hex."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Tenant:
    """Everything one bearer token owns; another tenant's ids are simply absent here."""

    batches: dict[str, Batch] = field(default_factory=dict)
    transcriptions: dict[str, Transcription] = field(default_factory=dict)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def next_seq(self) -> int:
        """A per-tenant sequence number: manifests list newest first by it."""
        return next(self._seq)

    def add_batch(self, batch: Batch) -> None:
        """Store a batch and index its transcriptions."""
        self.batches[batch.id] = batch
        for item in batch.items:
            self.transcriptions[item.id] = item


class Store:
    """All tenants, keyed by a digest of their token so that no token is kept in memory."""

    def __init__(self) -> None:
        self._tenants: dict[str, Tenant] = {}

    def tenant(self, token: str) -> Tenant:
        """The tenant of `token`, created on first use."""
        key = hashlib.sha256(token.encode()).hexdigest()
        return self._tenants.setdefault(key, Tenant())

    def clear(self) -> None:
        """Forget every tenant."""
        self._tenants.clear()
