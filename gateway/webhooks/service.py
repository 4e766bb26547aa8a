"""The webhooks of a gateway: endpoints per tenant, their RPCs, and the batches they follow.

`Webhooks` is what the servicer's webhook methods call (they hold no policy) and what a create
tells about its batch (`follow`). Events exist only while a poller observes the batch: a batch
created through the gateway while its tenant has an endpoint (or that names `webhook_url`) gets a
background watch of the hub (gateway.watch.hub) until it is terminal, with the creating call's
credential, held in this process's memory only (never in Redis or the logs). When this replica
dies, polling resumes once any watcher or call of the tenant on another replica watches the
batch; events already in the log are still delivered by any replica (docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import grpc
import structlog
from google.protobuf import timestamp_pb2
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.access.credentials import Credential
from gateway.contract.errors import GatewayError, Reason
from gateway.events.log import EventLog
from gateway.events.model import changes
from gateway.upstream import BatchStatusResponse
from gateway.validation import Violation
from gateway.validation.rules import Reason as FieldReason
from gateway.watch.hub import StatusHub
from gateway.watch.subjects import TRANSCRIPTIONS
from gateway.webhooks import addresses, signing
from gateway.webhooks.deliveries import Deliveries
from gateway.webhooks.store import (
    MAX_ENDPOINTS_PER_TENANT,
    Attempt,
    Endpoint,
    StoreUnavailable,
    WebhookStore,
)

log = structlog.get_logger("gateway.webhooks.service")

P = ParamSpec("P")
T = TypeVar("T")


def _answering(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """The store's StoreUnavailable as the RPCs' UNAVAILABLE, WEBHOOK_STORE_UNAVAILABLE."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except StoreUnavailable as exc:
            raise GatewayError(
                grpc.StatusCode.UNAVAILABLE,
                Reason.WEBHOOK_STORE_UNAVAILABLE,
                "the webhooks' shared store (Redis) cannot be reached: retry (a create with the "
                "same request_id answers the same endpoint)",
            ) from exc

    return run


DEFAULT_GRACE_SECONDS = 24 * 3600
MAX_FOLLOWED = 10_000
"""Batches this replica follows for webhooks at once (each holds a watch of the hub)."""
_IDS = uuid.UUID("8f0e4c52-5a1e-4c1b-9a57-6a3e0c7d2b10")
"""Namespace of the endpoint ids derived from (tenant, request_id): a replay finds its endpoint."""


class Webhooks:
    """Endpoints, their RPCs, and the batches followed for them (see the module)."""

    def __init__(
        self,
        store: WebhookStore,
        deliveries: Deliveries,
        hub: StatusHub,
        policy: addresses.Policy,
        events: EventLog,
    ) -> None:
        """`events` is the log the hub appends batches' events to; single transcriptions'
        events are appended to it here."""
        self.store = store
        self.events = events
        self.deliveries = deliveries
        self.hub = hub
        self.policy = policy
        self._followed: dict[tuple[str, str], asyncio.Task[None]] = {}

    @property
    def followed(self) -> int:
        """Batches this replica watches for webhooks now."""
        return len(self._followed)

    async def close(self) -> None:
        tasks = list(self._followed.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.deliveries.close()

    async def check_url(self, url: str, field: str) -> None:
        """The delivery rules for `url` (scheme, addresses now): INVALID_ARGUMENT, reason
        WEBHOOK_URL_NOT_ALLOWED, a violation on `field` naming the rule."""
        try:
            await addresses.check(url, self.policy)
        except addresses.RefusedAddress as exc:
            violation = Violation(field, FieldReason(exc.rule), str(exc))
            raise GatewayError(
                grpc.StatusCode.INVALID_ARGUMENT,
                Reason.WEBHOOK_URL_NOT_ALLOWED,
                f"{field} {exc}",
                violations=(violation,),
            ) from exc

    @_answering
    async def create(
        self,
        credential: Credential,
        request_id: str,
        url: str,
        types: tuple[str, ...],
        *,
        batch_id: str = "",
        field: str = "url",
        rpc: str = "CreateWebhook",
    ) -> Endpoint:
        """Register an endpoint (or, for a `request_id` of `rpc` seen before, answer the one
        it made: ALREADY_EXISTS REQUEST_ID_REUSED when it differs)."""
        tenant = credential.tenant
        await self.check_url(url, field)
        endpoint_id = (
            str(uuid.uuid5(_IDS, f"{tenant}:{rpc}:{request_id.lower()}"))
            if request_id
            else str(uuid.uuid4())
        )
        scope = self.store.scope(tenant)
        mine = await self.store.endpoints(scope)
        if not any(e.id == endpoint_id for e in mine) and len(mine) >= MAX_ENDPOINTS_PER_TENANT:
            raise GatewayError(
                grpc.StatusCode.FAILED_PRECONDITION,
                Reason.WEBHOOK_LIMIT_REACHED,
                f"a tenant may register at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints: "
                "delete one first",
            )
        made = Endpoint(
            endpoint_id,
            url,
            types,
            signing.new_secret(),
            self.deliveries.wall(),
            batch_id=batch_id,
        )
        endpoint = await self.store.add(scope, made)
        if (endpoint.url, endpoint.types, endpoint.batch_id) != (url, types, batch_id):
            raise GatewayError(
                grpc.StatusCode.ALREADY_EXISTS,
                Reason.REQUEST_ID_REUSED,
                "request_id was already used for another webhook: use a new request_id",
            )
        return endpoint

    @_answering
    async def endpoints(self, credential: Credential) -> list[Endpoint]:
        return await self.store.endpoints(self.store.scope(credential.tenant))

    @_answering
    async def endpoint(self, credential: Credential, endpoint_id: str) -> Endpoint:
        """The tenant's endpoint, or NOT_FOUND (WEBHOOK_NOT_FOUND)."""
        for endpoint in await self.endpoints(credential):
            if endpoint.id == endpoint_id.lower():
                return endpoint
        raise GatewayError(
            grpc.StatusCode.NOT_FOUND,
            Reason.WEBHOOK_NOT_FOUND,
            f"no webhook {endpoint_id} for this credential",
        )

    @_answering
    async def attempts(self, credential: Credential, endpoint_id: str) -> list[Attempt]:
        """The endpoint's recent attempts, newest first (NOT_FOUND for another's)."""
        endpoint = await self.endpoint(credential, endpoint_id)
        return await self.store.attempts(endpoint.id)

    @_answering
    async def delete(self, credential: Credential, endpoint_id: str) -> None:
        endpoint = await self.endpoint(credential, endpoint_id)
        await self.store.remove(self.store.scope(credential.tenant), endpoint.id)

    @_answering
    async def rotate(
        self, credential: Credential, endpoint_id: str, grace_seconds: int
    ) -> Endpoint:
        endpoint = await self.endpoint(credential, endpoint_id)
        rotated = dataclasses.replace(
            endpoint,
            secret=signing.new_secret(),
            previous_secret=endpoint.secret,
            previous_until=self.deliveries.wall() + grace_seconds,
        )
        if not await self.store.put(self.store.scope(credential.tenant), rotated):
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                Reason.WEBHOOK_NOT_FOUND,
                f"no webhook {endpoint_id} for this credential",
            )
        return rotated

    @_answering
    async def created(
        self, credential: Credential, request_id: str, url: str, created_id: str, rpc: str
    ) -> Endpoint | None:
        """A CreateBatch or CreateTranscription (`rpc`) made `created_id`: its `webhook_url`'s
        endpoint, scoped to it (the same on a replay of `request_id`; None without a URL), and
        a watch of it when its tenant has endpoints."""
        endpoint = None
        if url:
            endpoint = await self.create(
                credential, request_id, url, (), batch_id=created_id, field="webhook_url", rpc=rpc
            )
        single = rpc == "CreateTranscription"
        await self.follow(credential, created_id, named=bool(url), single=single)
        return endpoint

    async def follow(
        self, credential: Credential, batch_id: str, *, named: bool, single: bool = False
    ) -> None:
        """A batch (a `single` transcription) was created: watch it until it ends when its
        tenant has endpoints (or it named one: `named`), so that its events are observed,
        logged and delivered."""
        tenant = credential.tenant
        key = (tenant, batch_id)
        if key in self._followed:
            return
        try:
            if not named and not await self.store.endpoints(self.store.scope(tenant)):
                return
        except StoreUnavailable:  # best effort: the create itself succeeded
            log.warning("webhooks: the store is unavailable; a new batch is not followed")
            return
        if len(self._followed) >= MAX_FOLLOWED:
            log.warning("webhooks: too many batches followed; this one is not", batch_id=batch_id)
            return
        watch = self._watch_single if single else self._watch
        task = asyncio.create_task(watch(credential, batch_id), name="webhook watch")
        self._followed[key] = task
        task.add_done_callback(lambda _: self._followed.pop(key, None))

    async def _watch(self, credential: Credential, batch_id: str) -> None:
        try:
            async for observation in self.hub.watch(credential, batch_id):
                if observation.terminal:
                    return
        except GatewayError as exc:
            log.info("webhooks: the batch's watch ended", batch_id=batch_id, code=exc.code.name)

    async def _watch_single(self, credential: Credential, transcription_id: str) -> None:
        """A single transcription's watch, which logs its events itself: the hub logs batches
        only. Its log is the transcription's id's (a batch of one); only its transcription
        events are logged (the batch of one's own adds nothing)."""
        previous: BatchStatusResponse | None = None
        tenant = credential.tenant
        try:
            watch = self.hub.watch_subject(credential, transcription_id, TRANSCRIPTIONS)
            async for observation in watch:
                made = [
                    event
                    for event in changes(previous, observation.status, observation.observed_at)
                    if event.type != batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED
                ]
                previous = observation.status
                if made:
                    await self.events.append(tenant, transcription_id, made)
                if observation.terminal:
                    return
        except GatewayError as exc:
            log.info(
                "webhooks: the transcription's watch ended",
                transcription_id=transcription_id,
                code=exc.code.name,
            )


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def delivery_message(attempt: Attempt) -> pb.WebhookDelivery:
    message = pb.WebhookDelivery(
        message_id=attempt.webhook_id,
        event_id=attempt.event_id,
        event_type=attempt.event_type,
        batch_id=attempt.batch_id,
        attempt_time=timestamp(attempt.at),
        status_code=attempt.status_code,
        error=attempt.error,
    )
    if attempt.next_retry_at:
        message.next_retry_time.CopyFrom(timestamp(attempt.next_retry_at))
    return message


def webhook_message(endpoint: Endpoint) -> pb.Webhook:
    """The endpoint as the RPCs show it: never its secret."""
    message = pb.Webhook(
        webhook_id=endpoint.id,
        url=endpoint.url,
        event_types=list(endpoint.types),
        batch_id=endpoint.batch_id,
        create_time=timestamp(endpoint.created_at),
        disabled_reason=endpoint.disabled,
    )
    if endpoint.previous_secret:
        message.previous_secret_expire_time.CopyFrom(timestamp(endpoint.previous_until))
    return message
