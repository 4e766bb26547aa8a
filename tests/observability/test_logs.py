"""Logging: JSON off a terminal, readable on one, and credentials never rendered."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
import structlog
from sofer.batch.v1.batch_service_pb2 import GetBatchStatusRequest
from sofer.batch.v1.batch_service_pb2_grpc import BatchTranscriptionServiceStub

from gateway.observability.logs import configure_logging
from tests.conftest import bearer
from tests.helpers.calls import create_express, source


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_json_when_not_a_terminal() -> None:
    """Off a terminal each event is one JSON object per line, with level and timestamp."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    structlog.get_logger().info("rpc", method="CreateBatch", code="OK")
    line = json.loads(out.getvalue().strip())
    assert line["event"] == "rpc"
    assert line["method"] == "CreateBatch"
    assert line["level"] == "info"
    assert "timestamp" in line


def test_context_vars_reach_every_line() -> None:
    """What a call binds once (request id) appears on every line it logs."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    structlog.contextvars.bind_contextvars(request_id="req-1")
    log = structlog.get_logger()
    log.info("first")
    log.info("second")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["request_id"] for x in lines] == ["req-1", "req-1"]


def test_secret_keys_are_redacted() -> None:
    """A value logged under a credential-like key is replaced, never printed."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    structlog.get_logger().info("oops", authorization="Bearer s3cret-token", token="s3cret-token")
    assert "s3cret-token" not in out.getvalue()
    assert json.loads(out.getvalue())["token"] == "[redacted]"


def test_level_filters_below() -> None:
    """Events below the configured level are dropped."""
    out = io.StringIO()
    configure_logging("WARNING", stream=out)
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [json.loads(x)["event"] for x in out.getvalue().splitlines()] == ["loud"]


def test_console_renderer_when_forced() -> None:
    """`json=False` gives the human-readable renderer instead of JSON."""
    out = io.StringIO()
    configure_logging("INFO", json=False, stream=out)
    structlog.get_logger().info("hello", who="world")
    text = out.getvalue()
    assert "hello" in text
    assert "who" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_stdlib_logging_comes_out_in_the_same_format() -> None:
    """A library logging through the stdlib (uvicorn, asyncio) yields the same JSON lines."""
    import logging

    out = io.StringIO()
    configure_logging("INFO", stream=out)
    try:
        logging.getLogger("uvicorn.error").info("Started server process")
        line = json.loads(out.getvalue().strip())
        assert line["event"] == "Started server process"
        assert line["logger"] == "uvicorn.error"
        assert line["level"] == "info"
    finally:
        logging.getLogger().handlers = []


@pytest.fixture
def info_logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO and up during the test, as JSON lines, the way `serve`
    configures it; stdlib logging (handlers and levels) is restored afterwards."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    out = io.StringIO()
    configure_logging("INFO", json=True, stream=out)
    try:
        yield out
    finally:
        root.handlers = handlers
        root.setLevel(level)
        for name, was in libraries.items():
            logging.getLogger(name).setLevel(was)


async def test_a_unary_rpc_writes_exactly_one_line_at_info(
    info_logs: io.StringIO, stub: BatchTranscriptionServiceStub
) -> None:
    """At INFO a unary call writes its one summary line and nothing else: the upstream
    request it made (httpx's own `HTTP Request: ...` line) is not a second one."""
    created = await create_express(stub, source(1))
    info_logs.seek(0)
    info_logs.truncate()
    await stub.GetBatchStatus(GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer())
    lines = [json.loads(x) for x in info_logs.getvalue().splitlines()]
    assert [(x["event"], x.get("rpc"), x.get("code")) for x in lines] == [
        ("rpc", "GetBatchStatus", "OK")
    ]
    assert lines[0]["batch_id"] == created.batch_id


def test_values_json_cannot_hold_are_rendered_as_their_repr() -> None:
    """A value (or key) JSON has no type for does not lose the line: it shows as its repr,
    and text outside ASCII stays readable."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    structlog.get_logger().info("odd", kind=frozenset, title="שיעור", big=2**70)
    line = json.loads(out.getvalue())
    assert line["kind"] == "<class 'frozenset'>"
    assert line["title"] == "שיעור"
    assert line["big"] == 2**70


def test_a_new_configuration_reaches_loggers_already_used() -> None:
    """Configuring again (another stream, another level) takes effect for a module's logger
    that has logged before."""
    log = structlog.get_logger("gateway.test")
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first)
    log.info("one")
    configure_logging("WARNING", stream=second)
    log.info("dropped")
    log.warning("two")
    assert [json.loads(x)["event"] for x in first.getvalue().splitlines()] == ["one"]
    assert [json.loads(x)["event"] for x in second.getvalue().splitlines()] == ["two"]


def test_secret_keys_are_redacted_however_often_safe_lines_came_first() -> None:
    """A credential-like key (in any case) is redacted even after many lines whose keys were
    all safe: the gateway's memory of safe keys never lets a secret through."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    log = structlog.get_logger()
    for _ in range(3):
        log.info("rpc", code="OK", batch_id="b-1")
    log.info("rpc", code="OK", batch_id="b-1", Authorization="Bearer s3cret-token")
    log.info("rpc", code="OK", TOKEN="s3cret-token")
    assert "s3cret-token" not in out.getvalue()
    last_two = [json.loads(x) for x in out.getvalue().splitlines()[-2:]]
    assert last_two[0]["Authorization"] == last_two[1]["TOKEN"] == "[redacted]"


def test_timestamps_are_the_time_of_logging_in_iso_8601_utc() -> None:
    """Every line's timestamp is when it was logged, in ISO 8601 UTC (`...T21:12:41.123456Z`)."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    before = dt.datetime.now(dt.UTC)
    structlog.get_logger().info("rpc")
    after = dt.datetime.now(dt.UTC)
    stamp = json.loads(out.getvalue())["timestamp"]
    assert stamp.endswith("Z")
    assert before <= dt.datetime.fromisoformat(stamp) <= after


def test_a_stdlib_lines_exception_comes_out_as_its_traceback() -> None:
    """A library's `logger.exception(...)` through the stdlib (asyncio's "Task exception was
    never retrieved") carries its traceback as text, as the gateway's own lines do."""
    import logging

    out = io.StringIO()
    configure_logging("INFO", stream=out)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("asyncio").exception("Task exception was never retrieved")
        line = json.loads(out.getvalue().strip())
    finally:
        logging.getLogger().handlers = []
    assert (line["event"], line["level"], line["logger"]) == (
        "Task exception was never retrieved",
        "error",
        "asyncio",
    )
    assert "ValueError: boom" in line["exception"]
    assert "exc_info" not in line


_SERVE_LIKE = """
import logging, structlog
from gateway.observability.logs import configure_logging
configure_logging("INFO")  # as `serve` does: the process's own stderr, not a terminal
log = structlog.get_logger("t")
structlog.contextvars.bind_contextvars(rpc="GetBatchStatus", request_id="r-1")
log.info("rpc", code="OK", token="sk-live-secret", note="caf\\u00e9")
logging.getLogger("stdlib").warning("from the stdlib")
log.warn("old name")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("failed")
"""


def test_the_process_stderr_lines_match_the_general_chain() -> None:
    """What `serve` writes to its own stderr (loggers cached on first use) has the fields and
    redaction of every configuration: the context, the level (warn and exception renamed as
    structlog does), the timestamp, secrets redacted, an exception's traceback, non-ASCII text,
    and stdlib lines in between in the order they were logged."""
    import subprocess
    import sys

    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _SERVE_LIKE], capture_output=True, text=True, check=True, timeout=60
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    for line in lines:
        assert isinstance(line.pop("timestamp"), str)
    first, stdlib, warned, failed = lines
    assert list(first)[:4] == ["code", "token", "note", "event"]  # the event's own keys first
    assert first == {
        "code": "OK",
        "token": "[redacted]",
        "note": "café",
        "event": "rpc",
        "rpc": "GetBatchStatus",
        "request_id": "r-1",
        "level": "info",
    }
    assert (stdlib["event"], stdlib["level"]) == ("from the stdlib", "warning")
    assert (warned["event"], warned["level"]) == ("old name", "warning")
    assert (failed["event"], failed["level"]) == ("failed", "error")
    assert "ValueError: boom" in failed["exception"]
    assert "sk-live-secret" not in done.stderr
