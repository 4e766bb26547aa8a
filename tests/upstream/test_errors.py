"""The exception tree, the HTTP/transport -> error translation table, and what a caller sees
of the upstream's words."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from typing import Any

import grpc
import httpx
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from gateway.upstream import (
    CallOptions,
    Conflict,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from gateway.upstream.errors import (
    MESSAGE_LIMIT,
    error_class_for_status,
    error_for_status,
    error_for_transport,
    upstream_message,
)
from tests.conftest import bearer
from tests.helpers.calls import assert_error, fault, rich_status, rpc_error

TOKEN = "sk-live-0123456789abcdef"
PATH = "/v1/transcriptions/batch/{batch_id}/status"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidArgument),
        (401, Unauthenticated),
        (403, PermissionDenied),
        (404, NotFound),
        (405, FailedPrecondition),
        (408, Unavailable),
        (409, Conflict),
        (410, FailedPrecondition),
        (413, InvalidArgument),
        (418, FailedPrecondition),
        (422, InvalidArgument),
        (429, RateLimited),
        (500, Unavailable),
        (501, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
        (504, Unavailable),
        (302, ProtocolError),
        (101, ProtocolError),
    ],
)
def test_status_table(status: int, cls: type[UpstreamError]) -> None:
    """Each HTTP status maps to exactly one error class (the documented table)."""
    assert error_class_for_status(status) is cls


def test_tree() -> None:
    """Every error is an UpstreamError; ProtocolError is a kind of Unavailable."""
    for cls in (
        InvalidArgument,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        Conflict,
        FailedPrecondition,
        RateLimited,
        Unavailable,
        DeadlineExceeded,
    ):
        assert issubclass(cls, UpstreamError)
    assert issubclass(ProtocolError, Unavailable)


def test_error_carries_status_route_and_message() -> None:
    """An error names the method, path template, status and the upstream's message."""
    error = error_for_status(
        httpx.Response(404, json={"detail": "Batch not found"}),
        method="GET",
        path=PATH,
        idempotent=True,
        token=TOKEN,
    )
    assert isinstance(error, NotFound)
    assert (error.status, error.method, error.path) == (404, "GET", PATH)
    assert error.message == "Batch not found"
    assert error.public_message == "HTTP 404 Not Found: Batch not found"
    assert str(error) == f"GET {PATH}: HTTP 404 Not Found: Batch not found"
    assert not error.outcome_unknown


def test_post_5xx_is_outcome_unknown_and_get_5xx_is_not() -> None:
    """Only a non-idempotent request answered 5xx has an unknown outcome."""

    def error(status: int, *, idempotent: bool) -> UpstreamError:
        return error_for_status(
            httpx.Response(status),
            method="POST" if not idempotent else "GET",
            path="/v1/transcriptions/batch",
            idempotent=idempotent,
            token=TOKEN,
        )

    post = error(502, idempotent=False)
    get = error(502, idempotent=True)
    post_429 = error(429, idempotent=False)
    assert post.outcome_unknown
    assert "outcome unknown" in str(post)
    assert not get.outcome_unknown
    assert not post_429.outcome_unknown


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "plain detail"}, "plain detail"),
        ({"message": "a message"}, "a message"),
        ({"error": "an error"}, "an error"),
        ({"error": {"message": "nested"}}, "nested"),
        (
            {
                "detail": [
                    {"loc": ["body", "info"], "msg": "Field required", "type": "missing"},
                    {"loc": ["body", "audio_sources", 0], "msg": "bad url", "type": "x"},
                ]
            },
            "body.info: Field required; body.audio_sources.0: bad url",
        ),
        ({"unrelated": 1}, '{"unrelated":1}'),
    ],
)
def test_message_from_json_body(body: object, expected: str) -> None:
    """The message is `detail`, `message` or `error` (FastAPI lists joined), else the body."""
    assert upstream_message(httpx.Response(400, json=body)) == expected


def test_message_from_text_or_reason() -> None:
    """A non-JSON body is the message; an empty one leaves the gateway's phrase for the status
    as the whole message the caller sees."""
    assert upstream_message(httpx.Response(502, text="Bad gateway from nginx")) == (
        "Bad gateway from nginx"
    )
    assert upstream_message(httpx.Response(503, text="")) == ""
    assert upstream_message(httpx.Response(503, json={})) == ""
    error = error_for_status(
        httpx.Response(503, text=""), method="GET", path=PATH, idempotent=True, token=TOKEN
    )
    assert error.message == "Service Unavailable"
    assert error.public_message == "HTTP 503 Service Unavailable"


def test_reason_phrase_on_the_wire_is_not_trusted() -> None:
    """The status line's reason phrase is the upstream's text too: the caller's message names
    the status in the gateway's own words instead."""
    response = httpx.Response(404, text="", extensions={"reason_phrase": TOKEN.encode()})
    error = error_for_status(response, method="GET", path=PATH, idempotent=True, token=TOKEN)
    assert error.public_message == "HTTP 404 Not Found"


def test_message_is_truncated() -> None:
    """A huge body does not become a huge error message: it is cut at a word boundary."""
    message = upstream_message(httpx.Response(500, text="word " * 10_000))
    assert len(message) <= MESSAGE_LIMIT
    assert message.endswith(" ...")
    assert set(message.removesuffix(" ...").split()) == {"word"}


def test_huge_word_is_dropped_not_cut() -> None:
    """One enormous word (a blob, not a message) is withheld whole."""
    assert upstream_message(httpx.Response(500, text="x" * 10_000)) == ""


def test_token_never_in_status_errors() -> None:
    """An upstream that echoes the credential does not get it into the error's str or repr."""
    body = {"detail": f"bad token Bearer {TOKEN} for tenant"}
    error = error_for_status(
        httpx.Response(401, json=body), method="GET", path=PATH, idempotent=True, token=TOKEN
    )
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert TOKEN not in error.message
    assert error.message == "bad token Bearer [redacted] for tenant"


def test_token_never_in_transport_errors() -> None:
    """A transport exception whose text holds the credential is redacted too."""
    exc = httpx.ConnectError(f"failed with Authorization: Bearer {TOKEN}")
    error = error_for_transport(exc, method="GET", path=PATH, idempotent=True, token=TOKEN)
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert error.message == "ConnectError: failed with Authorization: Bearer [redacted]"


def test_transport_error_text_passes_the_allow_list() -> None:
    """A transport exception's text is the peer's or the network stack's words: control
    characters and credential-like words never reach the message, ordinary words do."""
    exc = httpx.ReadError(f"reset by peer \x1b[31m {TOKEN.upper()}\x00 key=abc123")
    error = error_for_transport(exc, method="GET", path=PATH, idempotent=True, token=TOKEN)
    assert error.message == "ReadError: reset by peer [redacted]"


def test_call_options_repr_hides_token() -> None:
    """CallOptions' repr never shows the credential."""
    call = CallOptions(token=TOKEN, request_id="r1")
    assert TOKEN not in repr(call)
    assert "r1" in repr(call)


@pytest.mark.parametrize(
    ("exc", "cls", "sent"),
    [
        (httpx.ConnectError("refused"), Unavailable, False),
        (httpx.ConnectTimeout("slow connect"), DeadlineExceeded, False),
        (httpx.PoolTimeout("pool full"), DeadlineExceeded, False),
        (httpx.ReadTimeout("slow read"), DeadlineExceeded, True),
        (httpx.WriteTimeout("slow write"), DeadlineExceeded, True),
        (httpx.ReadError("reset"), Unavailable, True),
        (httpx.RemoteProtocolError("dropped"), Unavailable, True),
        (TimeoutError(), DeadlineExceeded, True),
    ],
)
def test_transport_table(exc: Exception, cls: type[UpstreamError], sent: bool) -> None:
    """Timeouts are DeadlineExceeded, other transport failures Unavailable; a POST failing
    after it may have been sent has an unknown outcome, one failing before has not."""
    error = error_for_transport(
        exc, method="POST", path="/v1/transcriptions/batch", idempotent=False, token=TOKEN
    )
    assert type(error) is cls
    assert error.request_sent is sent
    assert error.outcome_unknown is sent
    assert error.status is None
    assert type(exc).__name__ in error.message


# -- through the gateway ----------------------------------------------------------------------

CALLER = "caller-e2e-7Qm2xK9pR4vT8wZ1n~~"  # its base64 and base64url differ


async def test_echoed_token_never_reaches_the_caller(
    logs: io.StringIO, stub: pb_grpc.BatchTranscriptionServiceStub, sandbox: SandboxServer
) -> None:
    """An upstream 400 whose message echoes the caller's token upper-cased, base64, base64url
    and cut short: the gRPC message, the rich status, the ErrorInfo metadata and the logs hold
    none of them, and the upstream's other words still reach the caller after the status."""
    raw = CALLER.encode()
    echoes = [
        CALLER.upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        CALLER[:12],
    ]
    detail = (
        f"Token {echoes[0]} is not valid for this account; got {echoes[1]} ({echoes[2]}),"
        f" starting {echoes[3]}... retry with another key"
    )
    await fault(sandbox, status=400, body=json.dumps({"detail": detail}))
    error = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=str(uuid.uuid4())), metadata=bearer(CALLER)
        )
    )
    info = assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    message = error.details() or ""
    await asyncio.sleep(0.1)  # let the call's log lines out
    trailing: Any = error.trailing_metadata() or ()
    seen = {
        "message": message,
        "rich status": rich_status(error).SerializeToString().decode(errors="replace"),
        "ErrorInfo metadata": " ".join(info.metadata.values()),
        "trailing metadata": " ".join(str(value) for _, value in trailing),
        "logs": logs.getvalue(),
    }
    secrets = (CALLER, *echoes, echoes[1].rstrip("="), CALLER[:8])
    leaked = [
        where for where, text in seen.items() if any(s.lower() in text.lower() for s in secrets)
    ]
    assert not leaked, f"a form of the token reached: {leaked}"  # names the place, not the token
    assert message == (
        "HTTP 400 Bad Request: Token [redacted] is not valid for this account; got [redacted]"
        " starting [redacted] retry with another key"
    )
