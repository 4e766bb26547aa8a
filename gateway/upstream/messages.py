"""The upstream's own words in an error answer: what `errors.error_for_status` puts in an
error's message, sanitised (gateway.upstream.sanitize) as it enters the gateway."""

from __future__ import annotations

import json
from typing import Final, Protocol

from gateway.upstream.sanitize import sanitize

JSON_LIMIT: Final = 64 * 1024
"""Error bodies larger than this are not parsed as JSON (their text is cut anyway)."""


class Answer(Protocol):
    """What an error is made from: an answer's status and text (`reply.Reply`,
    `httpx.Response`)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


def upstream_message(response: Answer, *, token: str = "") -> str:
    """The upstream's own words from an error response, sanitised: JSON `detail`/`message`/
    `error` (FastAPI validation lists joined), else the text; "" when it said nothing usable."""
    text = response.text.strip()
    if text in ("{}", "[]", "null", '""'):
        text = ""  # JSON with nothing to say: the status's own phrase says more
    found = _message_from_json(text) if len(text) <= JSON_LIMIT else None
    return sanitize(found or text, token=token)


def _message_from_json(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key in ("detail", "message", "error"):
        found = _as_message(body.get(key))
        if found:
            return found
    return None


def _as_message(value: object) -> str | None:
    """A message from a string, a {"message": ...} object, or a FastAPI-style list of errors."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _as_message(value.get("message") or value.get("msg"))
    if isinstance(value, list):
        parts = [_validation_item(item) for item in value]
        return "; ".join(part for part in parts if part) or None
    return None


def _validation_item(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return None
    msg = item.get("msg") or item.get("message")
    if not isinstance(msg, str):
        return None
    loc = item.get("loc")
    if isinstance(loc, list) and loc:
        return ".".join(str(part) for part in loc) + ": " + msg
    return msg
