"""Typed readers for JSON objects: each records a 422 violation instead of guessing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sofer_sandbox.errors import Loc, SchemaErrors

_MISSING = object()


def as_object(value: Any, loc: Loc, errors: SchemaErrors) -> Mapping[str, Any] | None:
    """`value` when it is a JSON object, else a violation and None."""
    if isinstance(value, dict):
        return value
    errors.add(loc, "Input should be a valid object", "model_type")
    return None


def opt_str(obj: Mapping[str, Any], key: str, loc: Loc, errors: SchemaErrors) -> str | None:
    """An optional (nullable) string field."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    errors.add((*loc, key), "Input should be a valid string", "string_type")
    return None


def req_str(obj: Mapping[str, Any], key: str, loc: Loc, errors: SchemaErrors) -> str | None:
    """A required, non-null string field."""
    if obj.get(key, _MISSING) in (_MISSING, None):
        errors.add((*loc, key), "Field required", "missing")
        return None
    return opt_str(obj, key, loc, errors)


def opt_int(obj: Mapping[str, Any], key: str, loc: Loc, errors: SchemaErrors) -> int | None:
    """An optional (nullable) integer field; booleans and fractions are not integers."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add((*loc, key), "Input should be a valid integer", "int_type")
        return None
    if isinstance(value, float):
        if not value.is_integer():
            errors.add((*loc, key), "Input should be a valid integer", "int_from_float")
            return None
        return int(value)
    return value


def opt_bool(obj: Mapping[str, Any], key: str, loc: Loc, errors: SchemaErrors) -> bool | None:
    """An optional (nullable) boolean field."""
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    errors.add((*loc, key), "Input should be a valid boolean", "bool_type")
    return None


def opt_enum(
    obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], loc: Loc, errors: SchemaErrors
) -> str | None:
    """An optional (nullable) string restricted to `allowed`."""
    value = obj.get(key)
    if value is None:
        return None
    if value not in allowed:
        errors.add((*loc, key), f"Input should be one of {', '.join(allowed)}", "enum")
        return None
    return str(value)


def opt_enum_list(
    obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], loc: Loc, errors: SchemaErrors
) -> list[str] | None:
    """An optional (nullable) array whose items are restricted to `allowed`."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add((*loc, key), "Input should be a valid list", "list_type")
        return None
    good: list[str] = []
    for i, item in enumerate(value):
        if item in allowed:
            good.append(str(item))
        else:
            errors.add((*loc, key, i), f"Input should be one of {', '.join(allowed)}", "enum")
    return good


def opt_uuid(obj: Mapping[str, Any], key: str, loc: Loc, errors: SchemaErrors) -> str | None:
    """An optional (nullable) UUID string, returned in canonical lower-case form."""
    value = opt_str(obj, key, loc, errors)
    if value is None:
        return None
    parsed = parse_uuid(value)
    if parsed is None:
        errors.add((*loc, key), "Input should be a valid UUID", "uuid_parsing")
    return parsed


def parse_uuid(text: str) -> str | None:
    """The canonical form of a UUID string, or None when it is not one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
