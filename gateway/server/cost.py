"""What work would cost: the items of a would-be create, their durations from the upstream, and
their prices (gateway.upstream.prices); the balance, as the proto says it.

`Work` is a create reduced to what prices it: the kind, the model and each item's URL and
speaker setting. It is built from an EstimateCost request, a CreateBatch request (`batch_work`)
or a single create (`single_work`), so that an estimate and a guard on a create price the same
way. A standard batch's items are the ones its manifest had when it was uploaded through this
gateway (`manifest_items`, kept in gateway.state.manifest_items): the upstream has no read of
them. `estimate` reads one duration per distinct URL, at most MAX_DURATION_READS at once, each on
the call's deadline, and fails as the first failed read does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract.errors import GatewayError, Reason
from gateway.state.manifest_items import ManifestItem, ManifestItems, ManifestStoreUnavailable
from gateway.upstream import CallOptions, UpstreamClient, prices
from gateway.upstream.money_models import Balance

MAX_DURATION_READS: Final = 8
"""Duration reads one estimate has in flight at once: a 500-item estimate neither floods the
upstream nor takes the whole connection pool."""

_KINDS: Final = {
    pb.COSTED_WORK_EXPRESS_BATCH: prices.Kind.EXPRESS,
    pb.COSTED_WORK_STANDARD_BATCH: prices.Kind.STANDARD,
    pb.COSTED_WORK_SINGLE_TRANSCRIPTION: prices.Kind.SINGLE,
}


@dataclass(frozen=True)
class Item:
    """One transcription to price."""

    audio_url: str
    client_item_id: str
    speaker_labels: bool


@dataclass(frozen=True)
class Work:
    """A would-be create, as far as its price goes."""

    kind: prices.Kind
    model: str
    items: tuple[Item, ...]


def _labels(message: batch_pb2.AudioSource | batch_pb2.BatchInfo) -> bool | None:
    """The speaker setting's price effect; None when `message` sets none."""
    which = message.WhichOneof("speakers")
    if which is None:
        return None
    return prices.speaker_labels(message.num_speakers, message.auto_detect_speakers)


def _work(
    kind: prices.Kind, info: batch_pb2.BatchInfo, sources: list[batch_pb2.AudioSource]
) -> Work:
    """The item's own speaker setting wins, else the batch's, else one speaker (the upstream's
    rule: docs/sandbox.md)."""
    default = _labels(info) or False
    items = []
    for source in sources:
        own = _labels(source)
        items.append(Item(source.audio_url, source.client_item_id, default if own is None else own))
    return Work(kind, info.model, tuple(items))


async def request_work(
    request: pb.EstimateCostRequest, tenant: str, manifests: ManifestItems
) -> Work:
    """The work an EstimateCost request describes (validated: `work` is a known kind; a
    `batch_file_id` only with a standard batch), a manifest's as `manifest_work` finds it."""
    kind = _KINDS[request.work]
    if request.batch_file_id:
        return await manifest_work(kind, request.info, request.batch_file_id, tenant, manifests)
    return _work(kind, request.info, list(request.audio_sources))


async def batch_work(
    request: pb.CreateBatchRequest, mode: int, tenant: str, manifests: ManifestItems
) -> Work:
    """The work of a validated CreateBatch. A standard batch is priced from its manifest's items
    as this gateway remembered them at upload (`manifest_work`)."""
    if mode != batch_pb2.PROCESSING_MODE_EXPRESS:
        return await manifest_work(
            prices.Kind.STANDARD, request.info, request.batch_file_id, tenant, manifests
        )
    return _work(prices.Kind.EXPRESS, request.info, list(request.audio_sources))


async def manifest_work(
    kind: prices.Kind,
    info: batch_pb2.BatchInfo,
    batch_file_id: str,
    tenant: str,
    manifests: ManifestItems,
) -> Work:
    """The work of a batch of the manifest `batch_file_id` with `info`'s settings (an item's own
    speaker setting wins, as in `_work`). FAILED_PRECONDITION, COST_UNKNOWN when this gateway
    does not know the manifest; UNAVAILABLE, BUDGET_STORE_UNAVAILABLE when the shared store
    cannot be read (fail closed: nothing is sent)."""
    try:
        items = await manifests.lookup(tenant, batch_file_id)
    except ManifestStoreUnavailable as exc:
        raise GatewayError(
            grpc.StatusCode.UNAVAILABLE,
            Reason.BUDGET_STORE_UNAVAILABLE,
            "the shared store of uploaded manifests (Redis) cannot be reached, so this standard "
            "batch cannot be priced: nothing was sent; retry later",
        ) from exc
    if items is None:
        raise GatewayError(
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.COST_UNKNOWN,
            f"manifest {batch_file_id} cannot be priced: it was not uploaded through this "
            "gateway (UploadManifest; with --redis-url, through any of its replicas), was made "
            "from an RSS feed, or is older than this gateway remembers; upload its items "
            "through the gateway again (UploadManifest) and use the new batch_file_id, or "
            "create the batch on a gateway without --balance-preflight and "
            "--caller-daily-audio-hours",
        )
    default = _labels(info) or False
    return Work(
        kind,
        info.model,
        tuple(
            Item(i.audio_url, i.client_item_id, default if i.labels is None else i.labels)
            for i in items
        ),
    )


def manifest_items(request: pb.UploadManifestRequest) -> list[ManifestItem]:
    """The priced items of a validated UploadManifest (typed items, or JSONL lines whose keys
    and types the validation checked)."""
    if request.WhichOneof("content") != "jsonl":
        return [
            ManifestItem(s.audio_url, s.client_item_id, _labels(s)) for s in request.items.items
        ]
    items = []
    for raw in request.jsonl.split("\n"):
        if not raw.strip():
            continue
        line = json.loads(raw)
        speakers, auto = line.get("num_speakers"), line.get("auto_detect_speakers")
        given = speakers is not None or auto is not None
        labels = prices.speaker_labels(speakers, bool(auto)) if given else None
        items.append(ManifestItem(line["audio_url"], line.get("client_item_id") or "", labels))
    return items


def single_work(info: batch_pb2.BatchInfo, audio_url: str) -> Work:
    """The work of a single transcription of `audio_url` with `info`'s settings
    (CreateTranscription)."""
    return _work(prices.Kind.SINGLE, info, [batch_pb2.AudioSource(audio_url=audio_url)])


async def estimate(
    client: UpstreamClient, work: Work, options: Callable[[], CallOptions]
) -> pb.EstimateCostResponse:
    """Each item's duration and price, and the totals. `options()` gives each upstream read its
    own options (the call's credential and deadline)."""
    urls = list(dict.fromkeys(item.audio_url for item in work.items))
    gate = asyncio.Semaphore(MAX_DURATION_READS)

    async def duration(url: str) -> float:
        async with gate:
            answer = await client.get_duration(url, opts=options())
            return answer.duration_seconds

    try:
        async with asyncio.TaskGroup() as group:
            tasks = {url: group.create_task(duration(url)) for url in urls}
    except ExceptionGroup as failed:  # the others were cancelled: the first failure is the answer
        raise failed.exceptions[0] from None
    response = pb.EstimateCostResponse()
    for item in work.items:
        seconds = tasks[item.audio_url].result()
        rate = prices.cents_per_hour(work.kind, work.model, item.speaker_labels)
        cost = prices.cost_cents(seconds, rate)
        response.items.append(
            pb.ItemCost(
                audio_url=item.audio_url,
                client_item_id=item.client_item_id,
                duration_seconds=seconds,
                cents_per_hour=rate,
                cost_cents=cost,
                speaker_labels=item.speaker_labels,
            )
        )
        response.total_cost_cents += cost
        response.total_duration_seconds += seconds
    return response


def balance(answer: Balance) -> pb.Balance:
    """The upstream's Balance (cents) as the proto's."""
    return pb.Balance(
        total_balance_cents=answer.total_balance,
        available_balance_cents=answer.available_balance,
        pending_balance_cents=answer.pending_balance,
        all_time_deposits_cents=answer.all_time_deposits,
        all_time_spend_cents=answer.all_time_spend,
    )
