"""Credentials end to end: the caller's bearer token, the gateway's configured key, neither, a
malformed one, and tenants that never see each other's data; over gRPC and over Connect alike
(the credential is the `authorization` header on either port)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.conftest import BOTH_PROTOCOLS, OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    batch_status,
    create_express,
    express,
    manifest,
    rpc_error,
    source,
    upstream_total,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # every case over gRPC and over Connect (the HTTP port)
pb = batch_service_pb2
CONFIGURED_KEY = "gateway-own-key"
UNKNOWN = "0f0e0d0c-0b0a-4988-8776-655443322110"


with_configured_key = pytest.mark.parametrize(
    "gateway_config", [{"api_key": CONFIGURED_KEY}], indirect=True, ids=["configured-key"]
)


@pytest.mark.parametrize(
    ("rpc", "request_message"),
    [
        ("CreateBatch", express(source(1))),
        ("GetBatchStatus", pb.GetBatchStatusRequest(batch_id=UNKNOWN)),
        ("ListManifests", pb.ListManifestsRequest()),
    ],
)
async def test_no_credentials_is_unauthenticated_before_any_upstream_call(
    stub: Stub, sandbox: SandboxServer, rpc: str, request_message: Any
) -> None:
    """Without authorization metadata and without a configured key, a call is UNAUTHENTICATED
    (reason CREDENTIALS_MISSING) and the upstream never hears of it."""
    error = await rpc_error(getattr(stub, rpc)(request_message))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING")
    assert await upstream_total(sandbox) == 0


async def test_credentials_are_checked_before_validation(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """An anonymous caller learns nothing about the request's validity: UNAUTHENTICATED first."""
    error = await rpc_error(stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id="bad")))
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING")
    assert await upstream_total(sandbox) == 0


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer   ",
        f"Bearer {TOKEN} extra",
        TOKEN,
        "Bearer " + "t" * 5000,
    ],
    ids=["basic", "bearer-alone", "bearer-blank", "two-words", "no-scheme", "too-long"],
)
async def test_malformed_authorization_is_unauthenticated(
    stub: Stub, sandbox: SandboxServer, header: str, protocol: str
) -> None:
    """An authorization value that is not 'Bearer <token>' is UNAUTHENTICATED, reason
    CREDENTIALS_MALFORMED, without an upstream call and without echoing the value."""
    if protocol == "connect" and header != header.strip():
        pytest.skip("HTTP/1.1 header values carry no trailing blanks ('Bearer' alone is tested)")
    error = await rpc_error(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=(("authorization", header),))
    )
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MALFORMED")
    assert "dXNlcjpwYXNz" not in (error.details() or "")
    assert await upstream_total(sandbox) == 0


async def test_bearer_scheme_is_case_insensitive(stub: Stub) -> None:
    """'bearer <token>' works like 'Bearer <token>' (the scheme is case-insensitive)."""
    created = await create_express(stub, source(1))
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id),
        metadata=(("authorization", f"bearer {TOKEN}"),),
    )
    assert response.batch_status.batch_id == created.batch_id


@with_configured_key
async def test_configured_key_is_used_without_caller_credentials(stub: Stub) -> None:
    """With a configured key, a caller without credentials acts as that key's tenant."""
    created: pb.CreateBatchResponse = await stub.CreateBatch(express(source(1)))
    status: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id)
    )
    assert status.batch_status.total_count == 1
    # The same tenant, reached with the key as an explicit bearer token:
    explicit = await batch_status(stub, created.batch_id, token=CONFIGURED_KEY)
    assert explicit.batch_id == created.batch_id


@with_configured_key
async def test_caller_token_wins_over_configured_key(stub: Stub) -> None:
    """A caller's own token is used instead of the configured key: its batches are its own."""
    created = await create_express(stub, source(1), token=TOKEN)
    error = await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=created.batch_id))
    )
    assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
    mine = await batch_status(stub, created.batch_id, token=TOKEN)
    assert mine.batch_id == created.batch_id


@with_configured_key
async def test_malformed_authorization_is_not_replaced_by_the_configured_key(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A malformed credential is refused, not silently swapped for the gateway's own key."""
    error = await rpc_error(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=(("authorization", "Basic x"),))
    )
    assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MALFORMED")
    assert await upstream_total(sandbox) == 0


async def test_foreign_tenants_batch_is_not_found(stub: Stub) -> None:
    """Another tenant's batch, transcription and manifest ids are NOT_FOUND, exactly like
    unknown ones."""
    created = await create_express(stub, source(1, client_item_id="c"), token=OTHER_TOKEN)
    uploaded: pb.UploadManifestResponse = await stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=[source(1)])),
        metadata=bearer(OTHER_TOKEN),
    )
    assert (await manifest(stub, uploaded.manifest.id, token=OTHER_TOKEN)).item_count == 1
    calls = [
        (
            stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer()
            ),
            "BATCH_NOT_FOUND",
        ),
        (
            stub.GetBatchItem(
                pb.GetBatchItemRequest(batch_id=created.batch_id, client_item_id="c"),
                metadata=bearer(),
            ),
            "BATCH_ITEM_NOT_FOUND",
        ),
        (
            stub.GetTranscriptionStatus(
                pb.GetTranscriptionStatusRequest(transcription_id=created.transcription_ids[0]),
                metadata=bearer(),
            ),
            "TRANSCRIPTION_NOT_FOUND",
        ),
        (
            stub.GetManifest(
                pb.GetManifestRequest(batch_file_id=uploaded.manifest.id), metadata=bearer()
            ),
            "MANIFEST_NOT_FOUND",
        ),
    ]
    for call, reason in calls:
        error = await rpc_error(call)
        assert_error(error, grpc.StatusCode.NOT_FOUND, reason)
        assert OTHER_TOKEN not in (error.details() or "")


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(item_seconds=0.5, manifest_validation_seconds=0.0, api_keys=frozenset({TOKEN}))],
    ids=["sandbox-accepts-one-key"],
)
async def test_token_the_upstream_refuses_is_unauthenticated(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A token the upstream does not accept (its 401) is UNAUTHENTICATED, reason
    UPSTREAM_UNAUTHENTICATED, without retries; an accepted one works."""
    error = await rpc_error(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(OTHER_TOKEN))
    )
    info = assert_error(error, grpc.StatusCode.UNAUTHENTICATED, "UPSTREAM_UNAUTHENTICATED")
    assert info.metadata["upstream_status"] == "401"
    assert OTHER_TOKEN not in (error.details() or "")
    assert await upstream_total(sandbox) == 1
    ok: pb.ListManifestsResponse = await stub.ListManifests(
        pb.ListManifestsRequest(), metadata=bearer(TOKEN)
    )
    assert list(ok.manifests) == []
