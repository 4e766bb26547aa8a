"""The admin API under /_sandbox/ (not in the real API): faults, request counts, reset."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sofer_sandbox.faults import parse_rule
from sofer_sandbox.inputs import json_object
from sofer_sandbox.runtime import runtime_of


async def add_fault(request: Request) -> JSONResponse:
    """POST /_sandbox/faults: queue a rule; answers it and every queued rule."""
    runtime = runtime_of(request)
    rule = parse_rule(await json_object(request))
    runtime.faults.add(rule)
    return JSONResponse({"added": rule.to_json(), "faults": runtime.faults.rules()})


async def list_faults(request: Request) -> JSONResponse:
    """GET /_sandbox/faults: the queued rules with their remaining counts."""
    return JSONResponse({"faults": runtime_of(request).faults.rules()})


async def clear_faults(request: Request) -> JSONResponse:
    """DELETE /_sandbox/faults: drop every queued rule."""
    return JSONResponse({"cleared": runtime_of(request).faults.clear()})


async def stats(request: Request) -> JSONResponse:
    """GET /_sandbox/stats: /v1 request counts by method and path template."""
    return JSONResponse(runtime_of(request).stats.snapshot())


async def reset(request: Request) -> JSONResponse:
    """POST /_sandbox/reset: forget tenants, faults, counts and rate-limit state."""
    runtime_of(request).reset()
    return JSONResponse({"status": "reset"})


ADMIN_ROUTES = [
    Route("/_sandbox/faults", add_fault, methods=["POST"]),
    Route("/_sandbox/faults", list_faults, methods=["GET"]),
    Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
]
