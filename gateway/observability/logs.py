"""Logging configuration: structlog, configured once per process.

A processor is a plain callable and configuration is a list of them (structlog's own idea); the
list is structlog's own processors and one of ours. `merge_contextvars` comes first so that
whatever a call binds (rpc, request id, batch id) reaches every line it logs; then the level
(`add_log_level`), the time (`TimeStamper`, ISO 8601 in UTC), `redact_secrets`, and the
renderer: off a terminal `format_exc_info` and `JSONRenderer`, one JSON object per line; on one
the `ConsoleRenderer`, which lays out exceptions itself. Lines that libraries log through the
stdlib (uvicorn, grpc, asyncio) pass the same processors, by structlog's `ProcessorFormatter`.

No renderer ever sees a credential: the code never binds one, and `redact_secrets`, which runs
before the renderer, is a second line of defence for keys that look like one.

One RPC, one line: httpx logs every request it sends at INFO (`HTTP Request: GET ... 200`),
which would make each call two lines; the gateway's own summary line already names the call,
its outcome and its upstream attempts, so the HTTP libraries speak from WARNING up only.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import msgspec
import structlog

SECRET_KEYS = frozenset({"authorization", "token", "api_key", "password", "secret", "bearer"})
"""Keys (in any case) whose values are never rendered."""
REDACTED = "[redacted]"
QUIET_LIBRARIES = ("httpx", "httpcore", "aiohttp")
"""Stdlib loggers held at WARNING or above: their INFO lines repeat the RPC's summary line."""


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any key that names a credential (SECRET_KEYS) with REDACTED."""
    for key in event_dict:
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
    return event_dict


_ENCODER = msgspec.json.Encoder(enc_hook=repr)
"""JSON for JSONRenderer: msgspec's encoder takes about 30 % of a summary line's cost off the
stdlib's (docs/benchmarks.md); what JSON has no type for becomes its repr, as with
JSONRenderer's own fallback, and text outside ASCII stays as it is."""


def json_dumps(obj: Any, **_options: Any) -> str:
    """`obj` as one line of JSON (JSONRenderer's `serializer`; its options are json.dumps')."""
    return _ENCODER.encode(obj).decode()


def configure_logging(
    level: str = "INFO", *, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Configure structlog (and stdlib logging, which uvicorn uses) for this process.

    `json=None` picks JSON when the stream is not a terminal. Loggers are cached on first use
    (no per-call rebinding) when writing to the process's stderr, which `serve` configures once;
    with a `stream` given (tests, configured again and again) they are not, so that each new
    configuration reaches every module's logger.
    """
    out = stream if stream is not None else sys.stderr
    use_json = (not out.isatty()) if json is None else json
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    render: list[Any] = (
        [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=json_dumps),
        ]
        if use_json
        else [structlog.dev.ConsoleRenderer(colors=out.isatty())]
    )
    stamp: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamp, *render],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=stream is None,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamp],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
