"""The admin API under /_sandbox/ (not in the real API): faults, request counts, balances,
reset."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.errors import bad_request, schema_error
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


async def fund(request: Request) -> JSONResponse:
    """POST /_sandbox/balance (the tenant named by its bearer token, as on /v1): exactly one of
    `deposit` (add that many cents, opening the account if there is none) or `total_balance`
    (deposit or withdraw so that the total balance is that many cents). Answers the Balance."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    body = await json_object(request)
    given = [key for key in ("deposit", "total_balance") if key in body]
    if len(given) != 1:
        raise bad_request("give exactly one of deposit or total_balance (cents)")
    key = given[0]
    cents = body[key]
    if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
        raise schema_error(("body", key), "Input should be an integer >= 0", "int_type")
    now = runtime.now()
    if key == "deposit":
        tenant.deposits_cents = (tenant.deposits_cents or 0) + cents
    else:
        before = tenant.balance(now)
        spent = before["all_time_spend"] if before is not None else 0
        tenant.deposits_cents = cents + spent
    return JSONResponse(tenant.balance(now))


async def close_account(request: Request) -> JSONResponse:
    """DELETE /_sandbox/balance: the tenant has no account any more (GET /v1/balance/ is a 404
    and new work has no funds); its transcriptions stay."""
    tenant_of(request).deposits_cents = None
    return JSONResponse({"account": None})


ADMIN_ROUTES = [
    Route("/_sandbox/balance", fund, methods=["POST"]),
    Route("/_sandbox/balance", close_account, methods=["DELETE"]),
    Route("/_sandbox/faults", add_fault, methods=["POST"]),
    Route("/_sandbox/faults", list_faults, methods=["GET"]),
    Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
]
