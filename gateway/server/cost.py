"""What work would cost: the items of a would-be create, their durations from the upstream, and
their prices (gateway.upstream.prices); the balance, as the proto says it.

`Work` is a create reduced to what prices it: the kind, the model and each item's URL and
speaker setting. It is built from an EstimateCost request, a CreateBatch request (`batch_work`)
or a single create (`single_work`), so that an estimate and a guard on a create price the same
way. `estimate` reads one duration per distinct URL, at most MAX_DURATION_READS at once, each on
the call's deadline, and fails as the first failed read does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

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


def request_work(request: pb.EstimateCostRequest) -> Work:
    """The work an EstimateCost request describes (validated: `work` is a known kind)."""
    return _work(_KINDS[request.work], request.info, list(request.audio_sources))


def batch_work(request: pb.CreateBatchRequest, mode: int) -> Work | None:
    """The work of a validated CreateBatch; None for a standard batch (a manifest's items are
    not to be read upstream, so it cannot be priced)."""
    if mode != batch_pb2.PROCESSING_MODE_EXPRESS:
        return None
    return _work(prices.Kind.EXPRESS, request.info, list(request.audio_sources))


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
