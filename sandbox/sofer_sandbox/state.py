"""The sandbox's in-memory state: tenants (one per bearer token) and what each one owns."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sofer_sandbox.audio import Audio
from sofer_sandbox.billing import balance
from sofer_sandbox.timeline import Schedule
from sofer_sandbox.validation import AudioSource


def utc_now_iso(epoch: float | None = None) -> str:
    """A wall-clock timestamp in the spec's format (RFC 3339, UTC, trailing Z): now, or at
    `epoch` seconds."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A fresh resource id (UUID4)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Transcription:
    """A batch item or a single transcription: its settings as resolved at creation, its
    schedule and what it costs (0 when it fails or was created without funds)."""

    id: str
    # None for a single transcription.
    batch_id: str | None
    audio: Audio
    title: str
    client_item_id: str | None
    primary_language: str
    hebrew_word_format: tuple[str, ...]
    model: str
    num_speakers: int
    created_at: str
    plan: Schedule
    cost_cents: int


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
    """Everything one bearer token owns; another tenant's ids are simply absent here.

    `transcriptions` keeps creation order (the listing is newest first). `deposits_cents` is
    None while the tenant has no account; `reserved_cents` is the cost of everything it ever
    created (spent or pending: failed and unfunded work costs nothing), so that the available
    balance is `deposits_cents - reserved_cents` without walking the transcriptions.
    """

    deposits_cents: int | None = None
    batches: dict[str, Batch] = field(default_factory=dict)
    transcriptions: dict[str, Transcription] = field(default_factory=dict)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    reserved_cents: int = 0
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def next_seq(self) -> int:
        """A per-tenant sequence number: manifests list newest first by it."""
        return next(self._seq)

    def add_batch(self, batch: Batch) -> None:
        """Store a batch and index its transcriptions."""
        self.batches[batch.id] = batch
        for item in batch.items:
            self.add_transcription(item)

    def add_transcription(self, item: Transcription) -> None:
        """Store one transcription and reserve its cost."""
        self.transcriptions[item.id] = item
        self.reserved_cents += item.cost_cents

    def available_cents(self) -> int | None:
        """What new work may still reserve; None without an account."""
        if self.deposits_cents is None:
            return None
        return self.deposits_cents - self.reserved_cents

    def balance(self, now: float) -> dict[str, Any] | None:
        """The spec's Balance at `now`; None without an account."""
        if self.deposits_cents is None:
            return None
        charges = ((t.cost_cents, t.plan) for t in self.transcriptions.values())
        return balance(self.deposits_cents, charges, now)


class Store:
    """All tenants, keyed by a digest of their token so that no token is kept in memory.

    Transcription ids are unique across tenants (a caller-chosen `info.id` another tenant holds
    is taken), as one upstream database's keys would be.
    """

    def __init__(self, start_balance_cents: int | None = None) -> None:
        self._tenants: dict[str, Tenant] = {}
        self._start_balance_cents = start_balance_cents

    def tenant(self, token: str) -> Tenant:
        """The tenant of `token`, created on first use with the starting balance."""
        key = hashlib.sha256(token.encode()).hexdigest()
        tenant = self._tenants.get(key)
        if tenant is None:
            tenant = self._tenants[key] = Tenant(deposits_cents=self._start_balance_cents)
        return tenant

    def transcription_exists(self, transcription_id: str) -> bool:
        """Whether any tenant holds a transcription with this id."""
        return any(transcription_id in t.transcriptions for t in self._tenants.values())

    def clear(self) -> None:
        """Forget every tenant."""
        self._tenants.clear()
