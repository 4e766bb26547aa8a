"""Batch endpoints: create a batch, its status, and the lookup of an item by client_item_id."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sofer_sandbox.auth import tenant_of
from sofer_sandbox.batches import Work, build_batch
from sofer_sandbox.billing import Funds
from sofer_sandbox.errors import bad_request, not_found, schema_error
from sofer_sandbox.inputs import json_object, path_uuid
from sofer_sandbox.runtime import runtime_of
from sofer_sandbox.state import Batch, Tenant
from sofer_sandbox.timeline import manifest_status
from sofer_sandbox.validation import (
    AudioSource,
    CreateBatchRequest,
    check_express,
    check_info,
    check_standard_request,
    parse_create_batch,
)
from sofer_sandbox.views import batch_created, batch_status, transcription_info


def _manifest_sources(tenant: Tenant, request: CreateBatchRequest, now: float) -> list[AudioSource]:
    manifest_id = check_standard_request(request)
    manifest = tenant.manifests.get(manifest_id)
    if manifest is None:
        raise bad_request(f"batch_file_id {manifest_id} is not a manifest of yours")
    status = manifest_status(manifest.valid_at, bool(manifest.errors), now)
    if status != "VALID":
        raise bad_request(f"batch_file_id {manifest_id} is {status}; only a VALID manifest starts")
    return list(manifest.items)


async def create_batch(request: Request) -> JSONResponse:
    """POST /v1/transcriptions/batch."""
    tenant = tenant_of(request)
    runtime = runtime_of(request)
    body = parse_create_batch(await json_object(request))
    check_info(body.info)
    now = runtime.now()
    if body.processing_mode == "express":
        sources = list(check_express(body))
    else:
        sources = _manifest_sources(tenant, body, now)
    work = Work(
        body.processing_mode,
        body.info.model or "v1",
        now,
        runtime.config.item_seconds,
        runtime.config.wall_clock(),
    )
    batch = build_batch(sources, body.info, body.batch_title, work, Funds(tenant.available_cents()))
    tenant.add_batch(batch)
    runtime.stats.created("batches")
    return JSONResponse(batch_created(batch, now))


def _batch(request: Request, tenant: Tenant) -> Batch:
    batch_id = path_uuid(request, "batch_id")
    batch = tenant.batches.get(batch_id)
    if batch is None:
        raise not_found(f"Batch {batch_id} not found")
    return batch


async def get_batch_status(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/batch/{batch_id}/status."""
    batch = _batch(request, tenant_of(request))
    return JSONResponse(batch_status(batch, runtime_of(request).now()))


async def get_batch_item(request: Request) -> JSONResponse:
    """GET /v1/transcriptions/batch/{batch_id}/items/by-client-item-id?client_item_id=..."""
    batch = _batch(request, tenant_of(request))
    client_item_id = request.query_params.get("client_item_id")
    if client_item_id is None:
        raise schema_error(("query", "client_item_id"), "Field required", "missing")
    for item in batch.items:
        if item.client_item_id == client_item_id:
            return JSONResponse(transcription_info(item, runtime_of(request).now()))
    raise not_found(f"No item with client_item_id {client_item_id!r} in batch {batch.id}")
