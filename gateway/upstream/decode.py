"""Typed reads from upstream JSON: each wrong shape becomes a ProtocolError naming where it was.

Policy: required fields must be present, non-null and of their type; optional (nullable) fields
may be missing or null; unknown fields are ignored; an enum value this gateway does not know is
kept as the plain string (a newer upstream adding a status must not break the gateway).
Integers are JSON integers (not booleans) that fit the contract's fields (signed 32-bit unless
a field says 64); numbers are integers or floats. Strings must be valid Unicode (a JSON escape
of a lone surrogate is not), and date-times must be representable in UTC: anything else would
fail later, in the proto mapping, as an internal error instead of a bad upstream answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from gateway.upstream.errors import ProtocolError

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_MISSING = object()


def parse_json(content: bytes) -> object:
    """The JSON value of a response body, or ProtocolError."""
    try:
        return json.loads(content)
    except ValueError as exc:
        raise ProtocolError(f"response body is not JSON: {exc}") from exc


def choice(value: object, kind: type[E], where: str) -> E | str:
    """An enum member, or the plain string when the value is one we do not know yet."""
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    try:
        return kind(value)
    except ValueError:
        return value


class Fields:
    """The fields of one JSON object, read with their types checked."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise _wrong(where, "an object", data)
        self._data: dict[str, object] = data
        self.where = where

    def _get(self, name: str, *, required: bool) -> object:
        value = self._data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise ProtocolError(f"{self.where}.{name}: required field is missing or null")
            return None
        return value

    def _typed(self, name: str, kind: type[T], label: str, *, required: bool) -> T | None:
        value = self._get(name, required=required)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _wrong(f"{self.where}.{name}", label, value)
        if isinstance(value, str):
            _check_text(value, f"{self.where}.{name}")
        return value

    def _bounded(self, name: str, bits: int, *, required: bool) -> int | None:
        value = self._typed(name, int, "an integer", required=required)
        if value is not None and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ProtocolError(f"{self.where}.{name}: integer out of range ({bits}-bit)")
        return value

    def string(self, name: str) -> str:
        """A required string."""
        return _present(self._typed(name, str, "a string", required=True))

    def opt_string(self, name: str) -> str | None:
        """An optional string."""
        return self._typed(name, str, "a string", required=False)

    def integer(self, name: str, *, bits: int = 32) -> int:
        """A required integer that fits `bits` (signed)."""
        return _present(self._bounded(name, bits, required=True))

    def opt_integer(self, name: str, *, bits: int = 32) -> int | None:
        """An optional integer that fits `bits` (signed)."""
        return self._bounded(name, bits, required=False)

    def boolean(self, name: str) -> bool:
        """A required boolean."""
        return _present(self._typed(name, bool, "a boolean", required=True))

    def number(self, name: str) -> float:
        """A required number (integer or float)."""
        return _present(self.opt_number(name, required=True))

    def opt_number(self, name: str, *, required: bool = False) -> float | None:
        """An optional number (integer or float), as a float."""
        value = self._get(name, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(f"{self.where}.{name}", "a number", value)
        return float(value)

    def timestamp(self, name: str) -> datetime:
        """A required RFC 3339 date-time, timezone-aware (UTC when the upstream gives none)."""
        text = self.string(name)
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ProtocolError(f"{self.where}.{name}: not a date-time") from exc
        when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        try:
            when.astimezone(UTC)
        except OverflowError as exc:
            message = f"{self.where}.{name}: date-time out of range"
            raise ProtocolError(message) from exc
        return when

    def choice(self, name: str, kind: type[E]) -> E | str:
        """A required enum value (unknown values kept as strings)."""
        return choice(self._get(name, required=True), kind, f"{self.where}.{name}")

    def choices(self, name: str, kind: type[E]) -> tuple[E | str, ...]:
        """A required list of enum values (unknown values kept as strings)."""
        return _present(self.opt_choices(name, kind, required=True))

    def opt_choices(
        self, name: str, kind: type[E], *, required: bool = False
    ) -> tuple[E | str, ...] | None:
        """An optional list of enum values."""
        items = self._list(name, required=required)
        if items is None:
            return None
        return tuple(
            choice(item, kind, f"{self.where}.{name}[{i}]") for i, item in enumerate(items)
        )

    def strings(self, name: str) -> tuple[str, ...]:
        """A required list of strings."""
        return _present(self.opt_strings(name, required=True))

    def opt_strings(self, name: str, *, required: bool = False) -> tuple[str, ...] | None:
        """An optional list of strings."""
        items = self._list(name, required=required)
        if items is None:
            return None
        checked: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise _wrong(f"{self.where}.{name}[{i}]", "a string", item)
            _check_text(item, f"{self.where}.{name}[{i}]")
            checked.append(item)
        return tuple(checked)

    def objects(self, name: str, parse: Callable[[object, str], T]) -> tuple[T, ...]:
        """A required list of objects, each read by `parse(value, where)`."""
        return _present(self.opt_objects(name, parse, required=True))

    def opt_objects(
        self, name: str, parse: Callable[[object, str], T], *, required: bool = False
    ) -> tuple[T, ...] | None:
        """An optional list of objects, each read by `parse(value, where)`."""
        items = self._list(name, required=required)
        if items is None:
            return None
        return tuple(parse(item, f"{self.where}.{name}[{i}]") for i, item in enumerate(items))

    def nested(self, name: str, parse: Callable[[object, str], T]) -> T:
        """A required nested object, read by `parse(value, where)`."""
        return parse(self._get(name, required=True), f"{self.where}.{name}")

    def _list(self, name: str, *, required: bool) -> list[object] | None:
        value = self._get(name, required=required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise _wrong(f"{self.where}.{name}", "an array", value)
        return value


def _present(value: T | None) -> T:
    # Only reached for required fields, which `_get` has already checked.
    if value is None:  # pragma: no cover - defensive
        raise ProtocolError("required field is missing")
    return value


def _check_text(value: str, where: str) -> None:
    """Refuse a string protobuf cannot carry (a lone surrogate from a `\\ud800` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProtocolError(f"{where}: not valid Unicode text") from exc


def _wrong(where: str, expected: str, value: object) -> ProtocolError:
    return ProtocolError(f"{where}: expected {expected}, got {type(value).__name__}")
