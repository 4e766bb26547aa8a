"""WatchManifest: a manifest's validation pushed, on the status hub's shared pollers.

A watch of the manifest's topic (gateway.watch.hub, subject MANIFESTS of gateway.watch.subjects:
one poller per tenant and manifest, the batch watches' cadence, limits and failure policy), each
observation sent as the manifest `GetManifest` would answer, with when the poller read it; the
stream ends OK after MANIFEST_STATUS_VALID or MANIFEST_STATUS_INVALID.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract import mapping
from gateway.server.frame import Call
from gateway.watch.hub import StatusHub
from gateway.watch.subjects import MANIFESTS


async def watch_manifest(
    hub: StatusHub, request: pb.WatchManifestRequest, call: Call
) -> AsyncIterator[pb.WatchManifestResponse]:
    """The messages of one WatchManifest stream (see the module)."""
    call.note(batch_file_id=request.batch_file_id)
    async for observation in hub.watch_subject(call.credential, request.batch_file_id, MANIFESTS):
        message = pb.WatchManifestResponse(manifest=mapping.manifest(observation.status))
        message.observed_at.FromDatetime(observation.observed_at)
        yield message
