"""Single transcriptions (CreateTranscription, UploadTranscription): one upstream create per
(credential, request_id), even across a crash of the gateway.

The upstream lets the caller choose a transcription's id (`info.id`) and refuses an id it has
already with 409. So the id is derived from the tenant key and the request_id (a UUIDv5,
`transcription_id_for`): a retry sends the same id, and a 409 means "made already", which the
gateway then reads back (GET .../status), checks against the request (title, language), and
answers as a replay. The idempotency store (gateway.state.idempotency) still runs the create
once per request_id while this process (or, with Redis, the cluster) remembers it; where it
cannot tell the outcome (a gateway killed mid-create, a record in doubt or gone, Redis out of
reach) the derived id makes finding out safe, so the gateway sends the create again instead of
answering OUTCOME_UNKNOWN. Without a request_id the upstream picks the id: no retry safety.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract import mapping
from gateway.contract.errors import GatewayError, Reason
from gateway.server.frame import Call
from gateway.state.idempotency import Idempotency
from gateway.upstream import CallOptions, UpstreamClient, UpstreamError
from gateway.upstream.errors import Conflict
from gateway.upstream.singles import TranscriptionRequest, TranscriptionRequestInfo

NAMESPACE = uuid.UUID("6f2c3c8e-2f6b-5a59-9a52-3e1f0d9b7c41")
"""The UUIDv5 namespace of derived transcription ids (fixed: changing it breaks retries)."""
DEFAULT_TITLE = "Untitled"
"""The upstream's title for a transcription created without one."""
REPLAYED_KEY = "idempotent-replayed"
"""Trailing metadata of a create answered with a transcription made earlier (as the other
creates' replays)."""


def transcription_id_for(tenant: str, request_id: str) -> str:
    """The transcription id a (tenant, request_id) creates: the same on every retry, every
    replica and after any restart; another tenant's, or another request_id's, differs."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}\n{request_id.lower()}"))


@dataclass(frozen=True)
class Created:
    """A create's outcome: the transcription's id, and whether it existed already."""

    transcription_id: str
    found: bool = False


Guard = Callable[[Callable[[], Awaitable[Created]]], Awaitable[Created]]
"""Runs a create's send if the spending guards let it through (gateway.server.spend_guard: the
balance pre-flight and the callers' daily audio budgets)."""


async def _unguarded(send: Callable[[], Awaitable[Created]]) -> Created:
    return await send()


def upload_fingerprint(header: pb.UploadTranscriptionHeader, file_sha256: bytes) -> str:
    """The idempotency fingerprint of an upload: a digest of its header but the request_id,
    and of the file (a retry must send the same settings and bytes)."""
    unkeyed = pb.UploadTranscriptionHeader()
    unkeyed.CopyFrom(header)
    unkeyed.ClearField("request_id")
    digest = hashlib.sha256(unkeyed.SerializeToString(deterministic=True))
    digest.update(file_sha256)
    return digest.hexdigest()


def settings(info: batch_pb2.BatchInfo, *, title: str = "") -> TranscriptionRequestInfo:
    """The upstream `info` of `info` (an empty title takes `title`), without an id yet."""
    batch = mapping.info_body(info)
    fields = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    if not fields.get("title") and title:
        fields["title"] = title
    return TranscriptionRequestInfo(**fields)


async def create(
    client: UpstreamClient,
    idempotency: Idempotency,
    call: Call,
    rpc: str,
    request_id: str,
    payload: str,
    request: TranscriptionRequest,
    *,
    create_seconds: float,
    guard: Guard = _unguarded,
) -> str:
    """Create the transcription `request` describes, once per (credential, request_id); its id.

    `guard` runs the create's send (inside the idempotent create: a replay is not checked or
    counted again; a send that only finds out an earlier try's outcome is not guarded again).
    Sets the `idempotent-replayed` trailer when the transcription existed already."""
    if not request_id:
        call.in_doubt = lambda: call.options.attempts > 0

        async def send_unkeyed() -> Created:
            made = await client.create_transcription(request, opts=call.options)
            return Created(made)

        return (await guard(send_unkeyed)).transcription_id
    tenant = call.credential.tenant
    transcription_id = transcription_id_for(tenant, request_id)
    call.note(transcription_id=transcription_id)
    request = dataclasses.replace(
        request, info=dataclasses.replace(request.info, id=transcription_id)
    )
    options = CallOptions(
        token=call.options.token,
        deadline=time.monotonic() + create_seconds,
        request_id=call.request_id,
    )
    call.tracked.append(options)
    call.in_doubt = lambda: True  # the create runs on (or is in flight) for this request_id
    try:
        created, replayed = await idempotency.run(
            tenant,
            rpc,
            request_id,
            payload,
            lambda: guard(lambda: _send_or_find(client, request, options)),
            wait_until=call.options.deadline,
            slot=call.slot,
        )
    except (GatewayError, UpstreamError) as exc:
        if not _resolvable(exc):
            raise
        # The outcome of an earlier try is unknown (a crash, a lost answer, Redis out of reach):
        # with the derived id, sending again finds it rather than making a second one.
        call.note(outcome_resolved="true")
        created, replayed = await _send_or_find(client, request, call.tracked_options()), False
    if created.found or replayed:
        call.set_trailing_metadata(((REPLAYED_KEY, "true"),))
        call.note(idempotent_replay="true")
    return created.transcription_id


def _resolvable(exc: GatewayError | UpstreamError) -> bool:
    """An error that only says an earlier create's outcome is unknown (or the store cannot
    tell): resolved by sending again with the derived id. Not a deadline of this call."""
    if isinstance(exc, UpstreamError):
        return exc.outcome_unknown
    if exc.code is not grpc.StatusCode.UNAVAILABLE:
        return False
    return exc.reason in (Reason.OUTCOME_UNKNOWN, Reason.IDEMPOTENCY_STORE_UNAVAILABLE)


async def _send_or_find(
    client: UpstreamClient, request: TranscriptionRequest, options: CallOptions
) -> Created:
    """POST the create; on 409 (the derived id exists) read it back and check it is this
    request's (ALREADY_EXISTS, REQUEST_ID_REUSED, when its title or language differ)."""
    transcription_id = request.info.id
    assert transcription_id is not None  # only creates with a derived id come here
    try:
        return Created(await client.create_transcription(request, opts=options))
    except Conflict:
        pass
    info = await client.get_transcription_status(transcription_id, opts=options.fresh())
    wanted_title = request.info.title or DEFAULT_TITLE
    wanted_language = request.info.primary_language
    differs = []
    if info.title != wanted_title:
        differs.append(f"title {info.title!r}, not {wanted_title!r}")
    if wanted_language is not None and str(info.primary_language) != str(wanted_language):
        differs.append(f"language {info.primary_language!s}, not {wanted_language!s}")
    if differs:
        raise GatewayError(
            grpc.StatusCode.ALREADY_EXISTS,
            Reason.REQUEST_ID_REUSED,
            f"this request_id already made transcription {transcription_id}, with "
            f"{' and '.join(differs)}: use a new request_id for a new transcription",
            {"transcription_id": transcription_id},
        )
    return Created(transcription_id, found=True)
