"""The sandbox's Starlette application: the spec's routes, the admin API and the middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from sofer_sandbox import batches_api, links, manifests_api, money_api, transcriptions_api
from sofer_sandbox.admin import ADMIN_ROUTES
from sofer_sandbox.config import SandboxConfig
from sofer_sandbox.errors import ApiError, handle_api_error, handle_http_exception
from sofer_sandbox.middleware import PathTemplates, SandboxMiddleware
from sofer_sandbox.runtime import Runtime

# (method, the spec's path template, endpoint); order matters: fixed segments before {ids}.
API_ROUTES = [
    ("POST", "/v1/transcriptions/batch", batches_api.create_batch),
    ("POST", "/v1/transcriptions/batch-files", manifests_api.upload_batch_file),
    ("GET", "/v1/transcriptions/batch-files", manifests_api.list_batch_files),
    ("POST", "/v1/transcriptions/batch-files/from-rss", manifests_api.create_batch_file_from_rss),
    ("GET", "/v1/transcriptions/batch-files/{batch_file_id}", manifests_api.get_batch_file),
    ("GET", "/v1/transcriptions/batch/{batch_id}/status", batches_api.get_batch_status),
    (
        "GET",
        "/v1/transcriptions/batch/{batch_id}/items/by-client-item-id",
        batches_api.get_batch_item,
    ),
    (
        "GET",
        "/v1/transcriptions/{transcription_id}/status",
        transcriptions_api.get_transcription_status,
    ),
    ("GET", "/v1/transcriptions/{transcription_id}", transcriptions_api.get_transcription),
    ("POST", "/v1/transcriptions/", transcriptions_api.create_transcription),
    ("GET", "/v1/transcriptions/", transcriptions_api.list_transcriptions),
    ("GET", "/v1/health/", transcriptions_api.health),
    ("GET", "/v1/balance/", money_api.get_balance),
    ("POST", "/v1/utils/duration", money_api.get_duration),
    ("POST", "/v1/link/extract", links.extract),
    ("GET", "/v1/link/sites", links.supported_sites),
]


def create_app(config: SandboxConfig) -> Starlette:
    """A new sandbox app with empty state; its Runtime is `app.state.sandbox`."""
    runtime = Runtime(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runtime.fetcher.aclose()

    routes = [Route(path, endpoint, methods=[method]) for method, path, endpoint in API_ROUTES]
    templates = PathTemplates([(method, path) for method, path, _ in API_ROUTES])
    app = Starlette(
        routes=[*routes, *ADMIN_ROUTES],
        middleware=[Middleware(SandboxMiddleware, runtime=runtime, templates=templates)],
        exception_handlers={ApiError: handle_api_error, HTTPException: handle_http_exception},
        lifespan=lifespan,
    )
    app.state.sandbox = runtime
    return app
