"""gateway/connect/openapi.json: the OpenAPI 3.1 document of the Connect JSON endpoints.

Checked against references independent of its generator (tools/connect_openapi.py): an OpenAPI
validator (openapi-spec-validator), the service descriptor of the generated Python code, and the
proto3 JSON that protobuf's own json_format writes for every message, fully populated, validated
against the document's schemas with jsonschema. Its freshness is `make check-generated`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sofer.batch.v1 import batch_service_pb2

from gateway.connect.openapi import openapi_document

SERVICE = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]
DOC_URI = "urn:sofer-gateway:openapi"


def load() -> dict[str, Any]:
    """The document as the gateway ships and serves it."""
    document: dict[str, Any] = json.loads(openapi_document())
    return document


def schema_validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of the component schema `name`, its $refs resolved."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=registry
    )


def test_the_document_is_valid_openapi_3_1() -> None:
    """An independent validator accepts the served document as OpenAPI 3.1: client generators
    and API tools can read it."""
    document = load()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_rpc_is_a_post_path_with_its_request_and_response() -> None:
    """Each RPC of the service is POST /sofer.batch.v1.BatchTranscriptionService/<Method>, its
    bodies the RPC's own request and response messages; the streaming RPCs are described with
    Connect's enveloped framing and the end-of-stream message, the unary ones with a JSON body
    and an error body for every HTTP status a Connect error maps to."""
    document = load()
    paths = document["paths"]
    assert set(paths) == {f"/{SERVICE.full_name}/{m.name}" for m in SERVICE.methods}
    for method in SERVICE.methods:
        post = paths[f"/{SERVICE.full_name}/{method.name}"]["post"]
        request = f"#/components/schemas/{method.input_type.full_name}"
        response = f"#/components/schemas/{method.output_type.full_name}"
        streaming = method.client_streaming or method.server_streaming
        if streaming:
            body = post["requestBody"]["content"]["application/connect+json"]
            answer = post["responses"]["200"]["content"]["application/connect+json"]
            assert body["x-connect-message"] == {"$ref": request}
            assert answer["x-connect-message"] == {"$ref": response}
            assert answer["x-connect-end-stream"] == {
                "$ref": "#/components/schemas/connect.EndStreamResponse"
            }
            assert "5-byte prefix" in answer["schema"]["description"]
        else:
            body = post["requestBody"]["content"]["application/json"]
            answer = post["responses"]["200"]["content"]["application/json"]
            assert body["schema"] == {"$ref": request}
            assert answer["schema"] == {"$ref": response}
            errors = {status for status in post["responses"] if status != "200"}
            assert errors == {"400", "401", "403", "404", "409", "429", "499", "500", "501",
                              "503", "504"}  # fmt: skip


def test_side_effect_free_reads_also_answer_get_with_the_message_in_the_query() -> None:
    """Exactly the unary RPCs marked `idempotency_level = NO_SIDE_EFFECTS` in the proto have a
    GET operation, its request in the `message` and `encoding` query parameters."""
    document = load()
    side_effect_free = {
        m.name
        for m in SERVICE.methods
        if m.GetOptions().idempotency_level == m.GetOptions().NO_SIDE_EFFECTS
        and not (m.client_streaming or m.server_streaming)
    }
    with_get = {path.rsplit("/", 1)[1] for path, item in document["paths"].items() if "get" in item}
    assert with_get == side_effect_free
    parameters = document["components"]["parameters"]
    assert parameters["Message"]["required"]
    assert parameters["Encoding"]["schema"]["enum"] == ["json", "proto"]


def test_the_error_body_schema_is_connects() -> None:
    """The error body has Connect's shape: a code from Connect's codes, a message, and details
    each with its type, base64 value and optional debug form; every error response of a status
    allows only the codes Connect maps to that status."""
    document = load()
    validator = schema_validator(document, "connect.Error")
    validator.validate(
        {
            "code": "invalid_argument",
            "message": "batch_id: must be a UUID",
            "details": [{"type": "google.rpc.ErrorInfo", "value": "CgVSRUFTT04", "debug": {}}],
        }
    )
    assert not validator.is_valid({"code": "INVALID_ARGUMENT"})
    assert not validator.is_valid({"code": "not_found", "details": [{"value": "AA"}]})
    not_found = document["components"]["responses"]["Error404"]["content"]["application/json"]
    assert not_found["schema"]["allOf"][1]["properties"]["code"]["enum"] == ["not_found"]


def populated(descriptor: Descriptor, variant: int, depth: int = 0) -> Message:
    """A message with every field set to a non-default value (the `variant`-th member of each
    oneof), nested messages to a bounded depth."""
    message = message_factory.GetMessageClass(descriptor)()
    chosen = {o.name: o.fields[variant % len(o.fields)].name for o in descriptor.oneofs}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen[oneof.name] != field.name:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            raise AssertionError(f"{field.full_name}: maps are not in the contract yet")
        values = [value_of(field, variant, depth), value_of(field, variant + 1, depth)]
        if field.is_repeated:
            for value in values:
                if isinstance(value, Message):
                    getattr(message, field.name).add().CopyFrom(value)
                else:
                    getattr(message, field.name).append(value)
        elif isinstance(values[0], Message):
            getattr(message, field.name).CopyFrom(values[0])
        else:
            setattr(message, field.name, values[0])
    return message


def value_of(field: FieldDescriptor, variant: int, depth: int) -> Any:
    """A non-default value for one (singular) field."""
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return Timestamp(seconds=1_767_323_045, nanos=123_000_000)
        if depth >= 3:
            return message_factory.GetMessageClass(field.message_type)()
        return populated(field.message_type, variant, depth + 1)
    if field.enum_type is not None:
        return field.enum_type.values[-1].number
    scalars: dict[int, Any] = {
        FieldDescriptor.CPPTYPE_STRING: b"\x00\xff" if field.type == field.TYPE_BYTES else "x",
        FieldDescriptor.CPPTYPE_BOOL: True,
        FieldDescriptor.CPPTYPE_INT32: -7,
        FieldDescriptor.CPPTYPE_UINT32: 7,
        FieldDescriptor.CPPTYPE_INT64: 2**53 + 1,
        FieldDescriptor.CPPTYPE_UINT64: 2**53 + 1,
        FieldDescriptor.CPPTYPE_DOUBLE: 1.5,
        FieldDescriptor.CPPTYPE_FLOAT: 1.5,
    }
    return scalars[field.cpp_type]


def contract_messages() -> Iterator[Descriptor]:
    """Every message of the package that a request or response of the service holds."""
    seen: set[str] = set()
    pending: list[Descriptor] = [t for m in SERVICE.methods for t in (m.input_type, m.output_type)]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in seen or not descriptor.full_name.startswith("sofer."):
            continue
        seen.add(descriptor.full_name)
        yield descriptor
        pending.extend(f.message_type for f in descriptor.fields if f.message_type is not None)


MESSAGES = {descriptor.name: descriptor for descriptor in contract_messages()}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_as_proto3_json_matches_its_schema(name: str) -> None:
    """What a Connect JSON client sends and receives (protobuf's proto3 JSON: lowerCamelCase
    names, int64 as strings, enums by name, timestamps in RFC 3339) matches the message's schema,
    and its schema declares exactly the names that JSON uses."""
    descriptor = MESSAGES[name]
    document = load()
    schema = document["components"]["schemas"][descriptor.full_name]
    validator = schema_validator(document, descriptor.full_name)
    variants = max([len(o.fields) for o in descriptor.oneofs] + [1])
    seen: set[str] = set()
    for variant in range(variants):
        as_json = json_format.MessageToDict(populated(descriptor, variant))
        validator.validate(as_json)
        seen |= set(as_json)
    assert seen == set(schema.get("properties", {}))
