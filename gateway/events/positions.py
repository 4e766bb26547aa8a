"""Event ids, and the `resume_token` that carries one to a client and back.

Two logs make event ids (gateway.events.log, gateway.events.redis_log):

- a Redis Stream's own entry ids, `<ms>-<seq>` (`1700000000000-0`): the same on every replica
  sharing the Redis, kept as long as the stream keeps the entry;
- the in-memory log's `m<epoch>-<n>`: `epoch` is drawn when the process starts, so an id of an
  earlier process (a restart) is recognised as lost, never mistaken for a position of this one.

Ids of one batch's log increase in the order the events were appended; `order` compares them.

A resume token is the batch id and an event id, base64url-encoded: opaque to clients (they
must not build or parse one), bound to its batch (`read_token` refuses a token of another
batch), and stable for as long as its log holds the event: on any replica sharing the Redis,
across restarts that Redis survives; with the in-memory log, until the process restarts.
"""

from __future__ import annotations

import base64
import binascii
import re

MAX_TOKEN_CHARS = 512
"""The longest resume token read: batch ids are UUIDs and event ids short, so real tokens are
far below it; a longer one is refused before it is decoded."""

_VERSION = "e1"
_REDIS_ID = re.compile(r"(\d{1,20})-(\d{1,20})")
_MEMORY_ID = re.compile(r"m([0-9a-f]{1,32})-(\d{1,20})")


class InvalidToken(ValueError):
    """A resume token that is not one, or is another batch's: the message says which."""


def make_token(batch_id: str, event_id: str) -> str:
    """The resume token of the position just after the event `event_id` of batch `batch_id`."""
    raw = f"{_VERSION}\n{batch_id}\n{event_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def read_token(token: str, batch_id: str) -> str:
    """The event id in `token`, a token of batch `batch_id`; raises InvalidToken."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken(f"must be at most {MAX_TOKEN_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidToken("is not a resume token this gateway gave out") from None
    parts = raw.split("\n")
    if len(parts) != 3 or parts[0] != _VERSION or not well_formed(parts[2]):
        raise InvalidToken("is not a resume token this gateway gave out")
    if parts[1] != batch_id:
        raise InvalidToken("belongs to another batch: use a token of this batch's stream")
    return parts[2]


def well_formed(event_id: str) -> bool:
    """Whether `event_id` has the form of an id of either log."""
    return bool(_REDIS_ID.fullmatch(event_id) or _MEMORY_ID.fullmatch(event_id))


def redis_id(event_id: str) -> tuple[int, int] | None:
    """A Redis Stream id's two numbers, or None when `event_id` is not one."""
    found = _REDIS_ID.fullmatch(event_id)
    return None if found is None else (int(found[1]), int(found[2]))


def memory_id(event_id: str) -> tuple[str, int] | None:
    """An in-memory log id's epoch and number, or None when `event_id` is not one."""
    found = _MEMORY_ID.fullmatch(event_id)
    return None if found is None else (found[1], int(found[2]))


def order(event_id: str) -> tuple[int, int]:
    """A key that sorts the ids of one log in the order of their events (ids of the other log's
    form, or malformed, sort first)."""
    numbers = redis_id(event_id)
    if numbers is not None:
        return numbers
    memory = memory_id(event_id)
    return (0, memory[1]) if memory is not None else (-1, -1)
