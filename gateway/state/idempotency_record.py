"""One idempotency record as gateway.state.idempotency_redis keeps it in Redis: its JSON value, and
the compare-and-set that is the only way an existing record changes.

A record holds no credential: the tenant is a keyed hash in its key, `fp` a digest of the
request's payload, and the rest the upstream's answer (ids and counts) or the sanitised words of
an upstream error (gateway.upstream.errors).
"""

from __future__ import annotations

import time
from typing import Literal

import msgspec

from gateway.upstream import errors, models

COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or (current == false and ARGV[4] == '1') then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
if current == ARGV[2] then
  return 1
end
return 0
"""
"""Lua: replace the record KEYS[1] by ARGV[2], living ARGV[3] ms, only if it still holds exactly
ARGV[1] (or, with ARGV[4] '1', if it is gone: an owner restoring its record after Redis lost it,
which no one else has claimed since); 1 also when the change is already there (a command
redis-py resent after a broken connection), else 0. The exact prior value is the fence: whoever
wrote it, with its claim's token, is the only one who can change it."""

_MODELS: dict[str, type[models.Model]] = {
    c.__name__: c
    for c in vars(models).values()
    if isinstance(c, type) and issubclass(c, models.Model)
}
_ERRORS: dict[str, type[errors.UpstreamError]] = {
    c.__name__: c
    for c in vars(errors).values()
    if isinstance(c, type) and issubclass(c, errors.UpstreamError)
}


class Failure(msgspec.Struct, frozen=True, omit_defaults=True):
    """An upstream error whose outcome is in doubt, kept so that every retry gets it again."""

    kind: str
    message: str
    status: int | None = None
    method: str | None = None
    path: str | None = None

    @classmethod
    def of(cls, exc: Exception) -> Failure:
        """The record of `exc`, an error whose `outcome_unknown` is true."""
        if isinstance(exc, errors.UpstreamError):
            return cls(
                type(exc).__name__, exc.message, status=exc.status, method=exc.method, path=exc.path
            )
        return cls("Unavailable", "the create failed after it may have been sent")

    def error(self) -> errors.UpstreamError:
        """The error again, for the gateway's one upstream-to-gRPC table to answer with."""
        kind = _ERRORS.get(self.kind, errors.Unavailable)
        return kind(
            self.message,
            status=self.status,
            method=self.method,
            path=self.path,
            outcome_unknown=True,
        )


ABANDONED = Failure(
    "Unavailable",
    "the gateway that sent this create upstream stopped before it recorded the answer",
)
SHUT_DOWN = Failure("Unavailable", "the gateway shut down while this create was in flight upstream")


class Unreadable(ValueError):
    """A record's value this gateway cannot read: damaged, planted, or written by a version
    that keeps other fields. Its create's outcome is unknown."""


class Entry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One record's value: pending (claimed, the create may be running), done, unknown, or
    failed (a tombstone: the create failed for certain, and a new claim may replace it)."""

    state: Literal["pending", "done", "unknown", "failed"]
    fp: str
    """SHA-256 of the request without its request_id (gateway.state.idempotency.fingerprint)."""
    owner: str
    """The claiming process's id; its liveness key says whether it still runs."""
    token: str
    """This claim's own random token: two claims never write the same pending value."""
    until: int = 0
    """pending: Unix ms past which no create under this claim can still be running."""
    kind: str = ""
    """done: the upstream answer's type (gateway.upstream.models)."""
    body: str = ""
    """done: the upstream answer as JSON."""
    failure: Failure | None = None
    """unknown: the error every retry gets."""

    def answer(self) -> models.Model:
        """done: the upstream's answer, parsed again; Unreadable when it cannot be."""
        kind = _MODELS.get(self.kind)
        if kind is None:
            raise Unreadable(f"a done record of an unknown kind {self.kind[:40]!r}")
        try:
            return kind.from_json(self.body.encode())
        except errors.ProtocolError as exc:
            raise Unreadable(f"a done record whose answer does not parse: {exc}") from None

    def done(self, result: object) -> bytes:
        """This claim settled with the upstream's answer `result` (a gateway.upstream model)."""
        body = msgspec.json.encode(result).decode()
        kind = type(result).__name__
        return encode(msgspec.structs.replace(self, state="done", until=0, kind=kind, body=body))

    def in_doubt(self, failure: Failure) -> bytes:
        """This claim settled with an outcome in doubt."""
        return encode(msgspec.structs.replace(self, state="unknown", until=0, failure=failure))

    def failed(self) -> bytes:
        """This claim settled with a definite failure: the tombstone that lets a retry claim
        again, and tells a replica following the record that it may (not that it vanished)."""
        return encode(msgspec.structs.replace(self, state="failed", until=0))


def pending(fingerprint: str, owner: str, token: str, lives_ms: int) -> bytes:
    """A fresh claim's value, which can still be running for `lives_ms`."""
    return encode(Entry("pending", fingerprint, owner, token, until=now_ms() + lives_ms))


def now_ms() -> int:
    """Unix time in ms (what `until` is on)."""
    return int(time.time() * 1000)


encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Entry).decode


def decode(value: bytes) -> Entry:
    """A record's value; Unreadable when it is not one this gateway writes."""
    try:
        return _decode(value)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise Unreadable(f"not a record: {exc}") from None
