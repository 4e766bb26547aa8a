"""Protobuf messages and enums as JSON Schema (2020-12) in the proto3 JSON mapping.

`Protos` indexes a descriptor set (as `buf build --as-file-descriptor-set` writes it, with source
info) by full name, with each element's proto comment; `Schemas` turns the messages and enums an
API uses into OpenAPI 3.1 component schemas, generated on first use with what they refer to.
tools/connect_openapi.py builds the Connect API's document with them (docs/openapi.md).

The mapping is the one Connect's JSON codec uses (protobuf's json_format): fields by their
lowerCamelCase JSON names, 64-bit integers as decimal strings, enums by value name, bytes as
base64, google.protobuf.Timestamp as an RFC 3339 string. No field is `required`: proto3 JSON
leaves out fields that hold their default value.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from google.protobuf import descriptor_pb2

Json = dict[str, Any]
FieldType = descriptor_pb2.FieldDescriptorProto

SCALARS: dict[int, Json] = {
    FieldType.TYPE_STRING: {"type": "string"},
    FieldType.TYPE_BOOL: {"type": "boolean"},
    FieldType.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
    FieldType.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldType.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldType.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldType.TYPE_UINT32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    FieldType.TYPE_FIXED32: {"type": "integer", "minimum": 0, "maximum": 4294967295},
    # proto3 JSON writes 64-bit integers as strings: JavaScript's numbers lose digits past 2^53.
    FieldType.TYPE_INT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldType.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldType.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldType.TYPE_UINT64: {"type": "string", "pattern": "^[0-9]+$"},
    FieldType.TYPE_FIXED64: {"type": "string", "pattern": "^[0-9]+$"},
    FieldType.TYPE_DOUBLE: {
        "anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}],
        "format": "double",
    },
    FieldType.TYPE_FLOAT: {
        "anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}],
        "format": "float",
    },
}

# The well-known types whose proto3 JSON form is not an object of their fields.
WELL_KNOWN: dict[str, Json] = {
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "An instant as an RFC 3339 string in UTC, e.g. `2026-01-02T03:04:05Z` or "
        "`2026-01-02T03:04:05.123Z` (0, 3, 6 or 9 fractional digits).",
    },
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "description": "A duration in seconds with an `s` suffix, e.g. `1.5s`.",
    },
    "google.protobuf.Empty": {"type": "object", "description": "An empty message: `{}`."},
}


def ref(name: str) -> Json:
    """A reference to the component schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def clean_comment(text: str) -> str:
    """A proto comment as a description: `//`'s one leading space and trailing blanks removed."""
    lines = [line[1:] if line.startswith(" ") else line for line in text.splitlines()]
    return "\n".join(line.rstrip() for line in lines).strip()


def json_name(field: descriptor_pb2.FieldDescriptorProto) -> str:
    """The field's proto3 JSON name (lowerCamelCase unless the proto sets json_name)."""
    if field.HasField("json_name"):
        return field.json_name
    head, *rest = field.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Protos:
    """The descriptor set: every message and enum by full name, comments by source path."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.files = list(files.file)
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.comments: dict[str, str] = {}
        for file in self.files:
            self._index(file)

    def _index(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        locations = {
            tuple(loc.path): clean_comment(
                "\n".join(part for part in (loc.leading_comments, loc.trailing_comments) if part)
            )
            for loc in file.source_code_info.location
        }
        prefix = file.package

        def walk(messages: Iterable[Any], scope: str, path: tuple[int, ...]) -> None:
            for i, message in enumerate(messages):
                name = f"{scope}.{message.name}"
                here = (*path, i)
                self.messages[name] = message
                self.comments[name] = locations.get(here, "")
                for j, field in enumerate(message.field):
                    self.comments[f"{name}#{field.name}"] = locations.get((*here, 2, j), "")
                walk(message.nested_type, name, (*here, 3))
                enums(message.enum_type, name, (*here, 4))

        def enums(items: Iterable[Any], scope: str, path: tuple[int, ...]) -> None:
            for i, enum in enumerate(items):
                name = f"{scope}.{enum.name}"
                self.enums[name] = enum
                self.comments[name] = locations.get((*path, i), "")
                for j, value in enumerate(enum.value):
                    self.comments[f"{name}#{value.name}"] = locations.get((*path, i, 2, j), "")

        walk(file.message_type, prefix, (4,))
        enums(file.enum_type, prefix, (5,))
        for i, service in enumerate(file.service):
            name = f"{prefix}.{service.name}"
            self.comments[name] = locations.get((6, i), "")
            for j, method in enumerate(service.method):
                self.comments[f"{name}#{method.name}"] = locations.get((6, i, 2, j), "")

    def services(self) -> Iterator[tuple[str, descriptor_pb2.ServiceDescriptorProto]]:
        """Every service of a file that declares one, by full name."""
        for file in self.files:
            for service in file.service:
                yield f"{file.package}.{service.name}", service


class Schemas:
    """components/schemas, filled with every message and enum reachable from the RPCs."""

    def __init__(self, protos: Protos) -> None:
        self.protos = protos
        self.schemas: dict[str, Json] = {}

    def add(self, full_name: str) -> str:
        """The schema name of a message or enum, generated (with its dependencies) on first use."""
        if full_name in self.schemas:
            return full_name
        if full_name in WELL_KNOWN:
            self.schemas[full_name] = WELL_KNOWN[full_name]
        elif full_name in self.protos.enums:
            self.schemas[full_name] = self._enum(full_name)
        else:
            self.schemas[full_name] = {}  # a placeholder: recursive messages refer to themselves
            self.schemas[full_name] = self._message(full_name)
        return full_name

    def _enum(self, name: str) -> Json:
        enum = self.protos.enums[name]
        values = "\n".join(
            f"- `{value.name}`: {self.protos.comments[f'{name}#{value.name}'] or value.name}"
            for value in enum.value
        )
        return {
            "type": "string",
            "enum": [value.name for value in enum.value],
            "description": f"{self.protos.comments[name]}\n\n{values}".strip(),
        }

    def _message(self, name: str) -> Json:
        message = self.protos.messages[name]
        if message.options.map_entry:
            raise ValueError(f"{name}: a map entry is not a schema of its own")
        properties: Json = {}
        for field in message.field:
            schema = self._field(field)
            comment = self.protos.comments[f"{name}#{field.name}"]
            if comment:
                schema["description"] = comment
            properties[json_name(field)] = schema
        description = self.protos.comments[name]
        oneofs = [
            [
                json_name(f)
                for f in message.field
                if f.HasField("oneof_index") and f.oneof_index == i
            ]
            for i, decl in enumerate(message.oneof_decl)
        ]
        for i, members in enumerate(oneofs):
            real = [f for f in message.field if f.HasField("oneof_index") and f.oneof_index == i]
            if len(members) > 1 and not any(f.proto3_optional for f in real):
                names = ", ".join(f"`{m}`" for m in members)
                oneof = message.oneof_decl[i].name
                description += f"\n\nAt most one of {names} (oneof `{oneof}`)."
        shape: Json = {"type": "object", "properties": properties}
        return {"description": description.strip(), **shape} if description.strip() else shape

    def _field(self, field: descriptor_pb2.FieldDescriptorProto) -> Json:
        entry = self.protos.messages.get(field.type_name.lstrip("."))
        if field.type == FieldType.TYPE_MESSAGE and entry is not None and entry.options.map_entry:
            key, value = entry.field
            return {
                "type": "object",
                "propertyNames": self._map_key(key),
                "additionalProperties": self._single(value),
            }
        single = self._single(field)
        if field.label == FieldType.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    def _map_key(self, key: descriptor_pb2.FieldDescriptorProto) -> Json:
        if key.type in (FieldType.TYPE_STRING,):
            return {"type": "string"}
        if key.type == FieldType.TYPE_BOOL:
            return {"enum": ["true", "false"]}
        return {"pattern": "^-?[0-9]+$"}

    def _single(self, field: descriptor_pb2.FieldDescriptorProto) -> Json:
        if field.type in (FieldType.TYPE_MESSAGE, FieldType.TYPE_ENUM):
            return ref(self.add(field.type_name.lstrip(".")))
        if field.type not in SCALARS:
            raise ValueError(f"{field.name}: unsupported field type {field.type}")
        return copy.deepcopy(SCALARS[field.type])
