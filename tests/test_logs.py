"""Logging: JSON off a terminal, readable on one, and credentials never rendered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from gateway.logs import configure_logging


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
