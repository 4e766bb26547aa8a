"""What the Connect protocol itself defines, as OpenAPI 3.1 parts: the error body and its
details, the HTTP status of each error code, the end-of-stream message, the request headers, a
GET request's query, and the enveloped framing of streams (connectrpc.com/docs/protocol).
tools/connect_openapi.py puts them beside the schemas of the protos (docs/openapi.md).
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

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

REQUEST_ID_HEADER: Json = {
    "X-Request-Id": {
        "description": "The call's request id: the caller's `X-Request-Id`, else generated.",
        "schema": {"type": "string"},
    }
}
"""The response header that names the call in the gateway's logs and traces."""

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
