"""Upstream JSON into the frozen `models` structs (msgspec); each refusal a ProtocolError naming
where it was.

Policy: required fields must be present, non-null and of their type; optional (nullable) fields
may be missing or null; unknown fields are ignored; an enum value this gateway does not know is
kept as the plain string (`enums.OpenEnum`: a newer upstream adding a status must not break the
gateway). Integers are JSON integers (not booleans) that fit the contract's fields (`Int32`,
`Int64`); numbers are integers or floats. Strings must be valid Unicode (a JSON escape of a lone
surrogate is not), and date-times must be representable in UTC (`check_time`): anything else
would fail later, in the proto mapping, as an internal error instead of a bad upstream answer.
A refusal reads `<path>: <msgspec's message>`, the path in the gateway's form (msgspec's `$`
replaced by the model's name: `BatchStatusResponse.transcriptions[1].id: Expected `str`, got
`int``), msgspec's words as they are.

A body goes straight from bytes into the struct (`msgspec.json.decode`). What msgspec refuses
but Python reads (a UTF-8 BOM, UTF-16/32, `NaN`, numbers beyond a float, lone surrogates, ISO
8601 date-times that are not RFC 3339 such as `2024-01-15`) takes the slow path, `json.loads`
then `from_value`, so the gateway accepts what it accepted before and names the field when a
string is not valid Unicode.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Annotated, Final, TypeVar, cast

import msgspec

from gateway.upstream.errors import ProtocolError

S = TypeVar("S", bound=msgspec.Struct)

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
"""A JSON integer that fits a signed 32-bit field (the contract's default)."""
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""A JSON integer that fits a signed 64-bit field (`size_bytes`)."""

_TEXTS: Final = (msgspec.inspect.StrType, msgspec.inspect.EnumType, msgspec.inspect.DateTimeType)
# What msgspec refuses but Python's `json` and `datetime.fromisoformat` read: the slow path.
_SLOW_PATH: Final = ("Number out of range", "Invalid RFC3339 encoded datetime")
_AT: Final = " - at `$"
"""Where msgspec's ValidationError message says where: `... - at `$.items[0].id``."""


def parse_json(content: bytes) -> object:
    """The JSON value of a response body (Python's reading of it), or ProtocolError."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested past the stack
        raise ProtocolError(f"response body is not JSON: {exc}") from exc


def from_body(content: bytes, kind: type[S]) -> S:
    """A response body decoded straight into `kind`, or ProtocolError naming the field."""
    try:
        return cast(S, _decoder(kind).decode(content))  # functools.cache forgets S
    except msgspec.ValidationError as exc:
        if not str(exc).startswith(_SLOW_PATH):
            raise _protocol_error(kind, exc) from exc
    except RecursionError as exc:  # nested past the stack, where an unknown field is skipped
        raise ProtocolError(f"response body is not JSON: {exc}") from exc
    except msgspec.DecodeError:
        pass
    return from_value(parse_json(content), kind)


def from_value(data: object, kind: type[S]) -> S:
    """An already-parsed JSON value converted into `kind`, or ProtocolError naming the field."""
    prepared = _prepared(data, _type_info(kind), kind.__name__)
    try:
        return msgspec.convert(prepared, type=kind)
    except msgspec.ValidationError as exc:
        raise _protocol_error(kind, exc) from exc


def check_time(model: msgspec.Struct, name: str) -> None:
    """Make `model.name` timezone-aware (UTC when the upstream gives none) and refuse one
    that does not fit in UTC (called from `__post_init__`, hence ValueError)."""
    when: datetime = getattr(model, name)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
        msgspec.structs.force_setattr(model, name, when)
    # Only a time in year 1 or 9999 can leave datetime's range when moved to UTC.
    if not 1 < when.year < 9999:
        try:
            when.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"`{name}` is a date-time that does not fit in UTC") from None


@functools.cache
def _decoder(kind: type[S]) -> msgspec.json.Decoder[S]:
    return msgspec.json.Decoder(kind)


@functools.cache
def _type_info(kind: type[msgspec.Struct]) -> msgspec.inspect.Type:
    return msgspec.inspect.type_info(kind)


def _protocol_error(kind: type[msgspec.Struct], exc: msgspec.ValidationError) -> ProtocolError:
    """msgspec's message, in its own words, after the path it names in the gateway's form:
    "Expected `str`, got `int` - at `$.items[0].id`" from TranscriptionInfo becomes
    "TranscriptionInfo.items[0].id: Expected `str`, got `int`"."""
    rule, at, path = str(exc).partition(_AT)
    return ProtocolError(f"{kind.__name__}{path.removesuffix('`') if at else ''}: {rule}")


def _prepared(data: object, info: msgspec.inspect.Type, where: str) -> object:
    """`data` as `convert` should see it: each string the model keeps checked for valid Unicode
    (a lone surrogate from a `\\ud800` escape, which protobuf cannot carry), each date-time
    string read as Python reads ISO 8601. Anything else is left for `convert` to judge."""
    if isinstance(info, msgspec.inspect.UnionType):  # `T | None`: null is `convert`'s to judge
        if data is not None:
            for option in info.types:
                if not isinstance(option, msgspec.inspect.NoneType):
                    return _prepared(data, option, where)
    elif isinstance(info, msgspec.inspect.StructType) and isinstance(data, dict):
        known = {f.encode_name: f for f in info.fields}
        return {
            k: _prepared(v, known[k].type, f"{where}.{known[k].name}") if k in known else v
            for k, v in data.items()
        }
    elif isinstance(info, msgspec.inspect.VarTupleType) and isinstance(data, list):
        return [_prepared(item, info.item_type, f"{where}[{i}]") for i, item in enumerate(data)]
    elif isinstance(data, str) and isinstance(info, _TEXTS):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ProtocolError(f"{where}: not valid Unicode text") from exc
        if isinstance(info, msgspec.inspect.DateTimeType):
            try:
                return datetime.fromisoformat(data)
            except ValueError as exc:
                raise ProtocolError(f"{where}: not a date-time") from exc
    return data
