"""The OpenAPI 3.1 document of the gateway's Connect JSON endpoints, generated from the protos.

    buf build --as-file-descriptor-set -o - | python tools/connect_openapi.py - OUT.json

reads the descriptor set that `buf build` writes (with source info, so the proto comments become
the descriptions) and writes the document (`make generate` writes gateway/connect/openapi.json,
`make check-generated` fails when it is stale; docs/openapi.md). Nothing in the document is
written by hand: paths, schemas and descriptions come from the descriptors
(tools/proto_json_schema.py: the proto3 JSON mapping), and what the Connect protocol itself
defines (the error body, the HTTP status of each code, GET requests, the framing of streams)
from tools/connect_protocol.py, which follows the Connect protocol specification.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from connect_protocol import (
    CONNECT_CODES,
    REQUEST_ID_HEADER,
    Json,
    connect_components,
    error_responses,
    parameters,
    ref,
    stream_body,
)
from google.protobuf import descriptor_pb2
from proto_json_schema import Protos, Schemas


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
                "headers": REQUEST_ID_HEADER,
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
            "headers": REQUEST_ID_HEADER,
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
