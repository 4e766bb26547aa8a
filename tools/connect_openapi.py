"""The OpenAPI 3.1 document of the gateway's Connect JSON endpoints, generated from the protos.

    buf build --as-file-descriptor-set -o - | python tools/connect_openapi.py - OUT.json

reads the descriptor set that `buf build` writes (with source info, so the proto comments become
the descriptions) and writes the document (`make generate` writes gateway/connect/openapi.json,
`make check-generated` fails when it is stale; docs/openapi.md). Nothing in the document is
written by hand: paths, schemas and descriptions come from the descriptors, and what the Connect
protocol itself defines (the error body, the HTTP status of each code, GET requests, the framing
of streams) comes from the tables below, which follow the Connect protocol specification.

Schemas follow the proto3 JSON mapping, the one Connect's JSON codec uses: fields by their
lowerCamelCase JSON names, 64-bit integers as decimal strings, enums by value name, bytes as
base64, google.protobuf.Timestamp as an RFC 3339 string. No field is `required`: proto3 JSON
leaves out fields that hold their default value.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

Json = dict[str, Any]
FieldType = descriptor_pb2.FieldDescriptorProto

# The Connect protocol's error codes, each with the HTTP status of a unary error response
# (connectrpc.com/docs/protocol, "Error Codes"); a stream's errors come in its end-of-stream
# message instead, with HTTP 200.
CONNECT_CODES: dict[str, int] = {
    "canceled": 499,
    "unknown": 500,
    "invalid_argument": 400,
    "deadline_exceeded": 504,
    "not_found": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "failed_precondition": 400,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "data_loss": 500,
    "unauthenticated": 401,
}

STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

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

ERROR_SCHEMA = "connect.Error"
DETAIL_SCHEMA = "connect.ErrorDetail"
END_STREAM_SCHEMA = "connect.EndStreamResponse"

ENVELOPE = (
    "Connect streaming framing (`application/connect+json`, or `application/connect+proto` for "
    "binary Protobuf): the body is a sequence of enveloped messages, each a 5-byte prefix and "
    "then the message. Prefix byte 0 holds flags (0x01: the message is compressed with the "
    "`Connect-Content-Encoding`; 0x02: this is the end-of-stream message), bytes 1 to 4 the "
    "message's length in bytes, big-endian unsigned."
)


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


def connect_components() -> Json:
    """The Connect protocol's own schemas: the error body, its details, the end of a stream."""
    return {
        ERROR_SCHEMA: {
            "description": "A Connect error: the body of a unary call's error response, and the "
            "`error` of a stream's end-of-stream message. The gateway's errors carry the same "
            "details as on the gRPC port: a google.rpc.ErrorInfo always (its `reason`, domain "
            "`sofer-gateway`), and by code a google.rpc.BadRequest, RetryInfo or QuotaFailure.",
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": list(CONNECT_CODES),
                    "description": "The error code (gRPC's codes in lower snake case).",
                },
                "message": {"type": "string", "description": "A message for a developer."},
                "details": {"type": "array", "items": ref(DETAIL_SCHEMA)},
            },
        },
        DETAIL_SCHEMA: {
            "description": "One error detail: a Protobuf message packed as in google.protobuf.Any.",
            "type": "object",
            "required": ["type", "value"],
            "properties": {
                "type": {
                    "type": "string",
                    "description": "The detail message's full name without a type URL prefix, "
                    "e.g. `google.rpc.ErrorInfo`, `google.rpc.BadRequest`, "
                    "`google.rpc.RetryInfo`, `google.rpc.QuotaFailure`.",
                },
                "value": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": "The message in the Protobuf binary encoding, base64 "
                    "(standard or URL-safe alphabet, padding optional).",
                },
                "debug": {
                    "description": "The same message in its proto3 JSON form, when the server "
                    "adds it: for people reading the error, never to be relied on by code.",
                },
            },
        },
        END_STREAM_SCHEMA: {
            "description": "The last message of a Connect stream (flags 0x02), always JSON, "
            "even in a `application/connect+proto` stream: the stream's error, if it failed, "
            "and its trailers.",
            "type": "object",
            "properties": {
                "error": ref(ERROR_SCHEMA),
                "metadata": {
                    "type": "object",
                    "description": "Trailers: each name with its values.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def error_responses() -> Json:
    """components/responses: one per HTTP status a unary error can have, with its codes."""
    responses: Json = {}
    for status in sorted(set(CONNECT_CODES.values())):
        codes = [code for code, s in CONNECT_CODES.items() if s == status]
        listed = ", ".join(f"`{code}`" for code in codes)
        responses[f"Error{status}"] = {
            "description": f"{STATUS_TEXT[status]}: a Connect error with code {listed}.",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [ref(ERROR_SCHEMA), {"properties": {"code": {"enum": codes}}}]
                    }
                }
            },
        }
    return responses


def parameters() -> Json:
    """components/parameters: the Connect request headers and a GET request's query."""

    def header(name: str, schema: Json, description: str) -> Json:
        return {"name": name, "in": "header", "schema": schema, "description": description}

    def query(name: str, schema: Json, description: str, required: bool = False) -> Json:
        return {
            "name": name,
            "in": "query",
            "required": required,
            "schema": schema,
            "description": description,
        }

    return {
        "ProtocolVersion": header(
            "Connect-Protocol-Version",
            {"type": "string", "enum": ["1"]},
            "The Connect protocol version; Connect clients send it.",
        ),
        "TimeoutMs": header(
            "Connect-Timeout-Ms",
            {"type": "string", "pattern": "^[0-9]{1,10}$"},
            "The call's deadline in milliseconds from now (gRPC's deadline).",
        ),
        "RequestId": header(
            "X-Request-Id",
            {"type": "string"},
            "The call's request id, sent upstream and logged (generated when absent).",
        ),
        "Message": query(
            "message",
            {"type": "string"},
            "The request message, encoded as `encoding` says (JSON: the proto3 JSON text), "
            "percent-encoded, or base64url-encoded when `base64=1`.",
            required=True,
        ),
        "Encoding": query(
            "encoding",
            {"type": "string", "enum": ["json", "proto"]},
            "The codec of `message` and of the response.",
            required=True,
        ),
        "Base64": query(
            "base64", {"type": "string", "enum": ["1"]}, "`1`: `message` is base64url-encoded."
        ),
        "Compression": query(
            "compression",
            {"type": "string", "enum": ["identity", "gzip"]},
            "The compression of `message`.",
        ),
        "Connect": query(
            "connect", {"type": "string", "enum": ["v1"]}, "The Connect protocol version."
        ),
    }


def stream_body(message: str, request: bool) -> Json:
    """The content of a streaming request or response body, framing described."""
    what = (
        "The request messages, each enveloped (flags 0x00); the body ends after the last one."
        if request
        else "Response messages, each enveloped (flags 0x00), then exactly one end-of-stream "
        "message (flags 0x02) whose JSON is `connect.EndStreamResponse`: its `error` when the "
        "stream failed (errors of a stream come here, with HTTP 200), its trailers in `metadata`."
    )
    schema = {
        "type": "string",
        "contentMediaType": "application/connect+json",
        "description": f"{ENVELOPE} {what} Each message is `{message}` in proto3 JSON.",
    }
    return {
        "application/connect+json": {
            "schema": schema,
            "x-connect-message": ref(message),
            **({} if request else {"x-connect-end-stream": ref(END_STREAM_SCHEMA)}),
        },
        "application/connect+proto": {
            "schema": {**schema, "contentMediaType": "application/connect+proto"},
        },
    }


def operation(
    protos: Protos,
    schemas: Schemas,
    service: str,
    method: descriptor_pb2.MethodDescriptorProto,
    verb: str,
) -> Json:
    """The OpenAPI operation of one RPC for `verb` (post, or get for a side-effect-free read)."""
    request = schemas.add(method.input_type.lstrip("."))
    response = schemas.add(method.output_type.lstrip("."))
    short = service.rsplit(".", 1)[-1]
    streaming = method.client_streaming or method.server_streaming
    headers = [
        {"$ref": "#/components/parameters/ProtocolVersion"},
        {"$ref": "#/components/parameters/TimeoutMs"},
        {"$ref": "#/components/parameters/RequestId"},
    ]
    op: Json = {
        "operationId": method.name if verb == "post" else f"{method.name}Get",
        "tags": [short],
        "summary": method.name,
        "description": protos.comments[f"{service}#{method.name}"],
    }
    if verb == "get":
        op["parameters"] = [
            {"$ref": f"#/components/parameters/{name}"}
            for name in ("Message", "Encoding", "Base64", "Compression", "Connect")
        ] + headers
    else:
        op["parameters"] = headers
    if streaming:
        kind = "client" if method.client_streaming else "server"
        if method.client_streaming and method.server_streaming:
            kind = "bidirectional"
        op["x-connect-streaming"] = kind
        op["requestBody"] = {
            "required": True,
            "description": "One enveloped request message"
            if not method.client_streaming
            else "The enveloped request messages",
            "content": stream_body(request, request=True),
        }
        op["responses"] = {
            "200": {
                "description": f"A Connect stream ({kind} streaming).",
                "content": stream_body(response, request=False),
            }
        }
        return op
    if verb == "post":
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": ref(request)},
                "application/proto": {
                    "schema": {"type": "string", "contentMediaType": "application/proto"}
                },
            },
        }
    op["responses"] = {
        "200": {
            "description": f"The `{response}` message.",
            "content": {
                "application/json": {"schema": ref(response)},
                "application/proto": {
                    "schema": {"type": "string", "contentMediaType": "application/proto"}
                },
            },
        },
        **{
            str(status): {"$ref": f"#/components/responses/Error{status}"}
            for status in sorted(set(CONNECT_CODES.values()))
        },
    }
    return op


def document(files: descriptor_pb2.FileDescriptorSet) -> Json:
    """The OpenAPI document of every service in `files`."""
    protos = Protos(files)
    schemas = Schemas(protos)
    paths: Json = {}
    tags = []
    services = list(protos.services())
    if not services:
        raise ValueError("the descriptor set has no service")
    for service_name, service in services:
        tags.append({"name": service.name, "description": protos.comments[service_name]})
        for method in service.method:
            item: Json = {"post": operation(protos, schemas, service_name, method, "post")}
            side_effect_free = (
                method.options.idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
            )
            if side_effect_free and not (method.client_streaming or method.server_streaming):
                item["get"] = operation(protos, schemas, service_name, method, "get")
            paths[f"/{service_name}/{method.name}"] = item
    packages = sorted({name.rsplit(".", 1)[0] for name, _ in services})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sofer-gateway Connect API",
            "version": ", ".join(packages),
            "description": (
                "The gateway's gRPC service over the Connect protocol (`--http-listen`): each "
                "RPC is `POST /<package>.<Service>/<Method>` with a JSON body "
                "(`application/json`, the proto3 JSON mapping: lowerCamelCase field names, "
                "64-bit integers as strings, enums by name, timestamps as RFC 3339 strings; "
                "the proto field names are accepted too) or binary Protobuf "
                "(`application/proto`). Side-effect-free reads may also be called with GET, "
                "the request in the query, so that a proxy may cache them. Streaming RPCs use "
                "Connect's enveloped framing (`application/connect+json`), described on each. "
                "A unary error is a non-2xx status with a `connect.Error` JSON body; a "
                "stream's error is in its end-of-stream message. Generated from the protos by "
                "tools/connect_openapi.py: do not edit."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "`make run`"}],
        "security": [{"bearer": []}, {"mutualTLS": []}, {}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": {**dict(sorted(schemas.schemas.items())), **connect_components()},
            "responses": error_responses(),
            "parameters": parameters(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <token>`: a caller token "
                    "(`sgw_...`, --caller-token) or a Sofer.ai API key, which the gateway "
                    "forwards upstream. Without one the gateway uses its own key, unless it "
                    "authenticates its callers.",
                },
                "mutualTLS": {
                    "type": "mutualTLS",
                    "description": "A client certificate, when the port serves TLS with "
                    "client authentication.",
                },
            },
        },
    }


def main(argv: Sequence[str]) -> int:
    """`connect_openapi.py DESCRIPTOR_SET OUT`: `-` reads the descriptor set from stdin."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, out = argv
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    text = json.dumps(document(files), indent=2, ensure_ascii=False) + "\n"
    Path(out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
