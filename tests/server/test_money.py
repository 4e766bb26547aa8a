"""GetBalance, EstimateCost and the balance pre-flight, end to end: the real gateway in front of
the real sandbox, whose balance and durations are the upstream's."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    detail,
    error_info,
    express,
    fault,
    field_violations,
    finished_batch,
    rpc_error,
    source,
    stats,
)
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Stub
from tests.helpers.sandbox_http import audio_seconds, set_balance

DURATION = "POST /v1/utils/duration"


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items finish only when the test moves the sandbox's clock."""
    return SandboxConfig(item_seconds=5.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


async def _balance(stub: Any) -> pb.Balance:
    answer = await stub.GetBalance(pb.GetBalanceRequest(), metadata=bearer())
    balance: pb.Balance = answer.balance
    return balance


async def test_balance_is_the_upstream_balance_in_cents(stub: Stub, sandbox: SandboxServer) -> None:
    """GetBalance answers the key's balance in cents, field for field as the upstream has it."""
    await set_balance(sandbox.url, 12_345)
    balance = await _balance(stub)
    assert balance.total_balance_cents == 12_345
    assert balance.available_balance_cents == 12_345
    assert balance.pending_balance_cents == 0
    assert balance.all_time_deposits_cents >= 12_345


async def test_balance_of_a_key_without_account_is_not_found(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A key without an account gets NOT_FOUND, reason ACCOUNT_NOT_FOUND."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10.0) as http:
        (await http.delete("/_sandbox/balance", headers={"authorization": f"Bearer {TOKEN}"}))
    error = await rpc_error(stub.GetBalance(pb.GetBalanceRequest(), metadata=bearer()))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(error).reason == "ACCOUNT_NOT_FOUND"


async def test_estimate_prices_each_item_by_the_documented_table(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Each item's duration comes from the upstream and its price from the table: express
    $1.20/h, +$0.30/h with speaker labels (the item's own setting, else the batch's), each item
    rounded up to a whole cent; a URL given twice is read once."""
    urls = [source(1).audio_url, source(2).audio_url]
    request = pb.EstimateCostRequest(
        work=pb.COSTED_WORK_EXPRESS_BATCH,
        info=batch_pb2.BatchInfo(num_speakers=2),
        audio_sources=[source(1), source(2, num_speakers=1), source(1, client_item_id="again")],
    )
    answer = await stub.EstimateCost(request, metadata=bearer())
    seconds = [await audio_seconds(sandbox.url, url) for url in urls]
    rates = [150, 120, 150]
    durations = [seconds[0], seconds[1], seconds[0]]
    expected = [-(-int(d) * r // 3600) for d, r in zip(durations, rates, strict=True)]
    assert [i.cents_per_hour for i in answer.items] == rates
    assert [i.duration_seconds for i in answer.items] == durations
    assert [i.cost_cents for i in answer.items] == expected
    assert answer.total_cost_cents == sum(expected)
    assert answer.items[2].client_item_id == "again"
    assert (await stats(sandbox))["requests"][DURATION] == 2 + 2  # two here, two by the test


async def test_an_estimate_reads_at_most_eight_durations_at_once(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Ten distinct URLs are priced in parallel but never more than eight duration reads at
    a time (cost.MAX_DURATION_READS), so one estimate cannot flood the upstream."""
    await fault(sandbox, delay=0.1, count=10, method="POST", path_prefix="/v1/utils/duration")
    request = pb.EstimateCostRequest(
        work=pb.COSTED_WORK_EXPRESS_BATCH, audio_sources=[source(n) for n in range(10)]
    )
    answer = await stub.EstimateCost(request, metadata=bearer())
    assert len(answer.items) == 10
    counts = await stats(sandbox)
    assert counts["requests"][DURATION] == 10
    assert 2 <= counts["peak_in_flight"] <= 8


async def test_estimate_of_a_standard_batch_and_a_single(stub: Stub) -> None:
    """A standard batch item costs $0.90/h and a single transcription $1.20/h (model v0:
    $1.00/h)."""
    standard = await stub.EstimateCost(
        pb.EstimateCostRequest(work=pb.COSTED_WORK_STANDARD_BATCH, audio_sources=[source(3)]),
        metadata=bearer(),
    )
    single = await stub.EstimateCost(
        pb.EstimateCostRequest(
            work=pb.COSTED_WORK_SINGLE_TRANSCRIPTION,
            info=batch_pb2.BatchInfo(model="v0"),
            audio_sources=[source(3)],
        ),
        metadata=bearer(),
    )
    assert standard.items[0].cents_per_hour == 90
    assert single.items[0].cents_per_hour == 100


async def test_estimate_refuses_bad_requests_naming_the_field(stub: Stub) -> None:
    """No kind of work, too many items for a single, and a bad URL are INVALID_ARGUMENT on
    their fields, all at once, before any upstream call."""
    request = pb.EstimateCostRequest(
        audio_sources=[source(1), batch_pb2.AudioSource(audio_url="ftp://x")]
    )
    error = await rpc_error(stub.EstimateCost(request, metadata=bearer()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"work", "audio_sources[1].audio_url"} <= set(field_violations(error))
    request.work = pb.COSTED_WORK_SINGLE_TRANSCRIPTION
    error = await rpc_error(stub.EstimateCost(request, metadata=bearer()))
    assert "audio_sources" in field_violations(error)


async def test_estimate_equals_what_the_sandbox_charges(
    stub: Stub, sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """An express batch estimated, created and finished costs exactly the estimate: the
    balance before minus the balance after."""
    create = express(
        source("cost-a"),
        source("cost-b", auto_detect_speakers=True),
        source("cost-c", num_speakers=3),
        info=batch_pb2.BatchInfo(),
    )
    estimate = await stub.EstimateCost(
        pb.EstimateCostRequest(
            work=pb.COSTED_WORK_EXPRESS_BATCH,
            info=create.info,
            audio_sources=list(create.audio_sources),
        ),
        metadata=bearer(),
    )
    before = await _balance(stub)
    created = await stub.CreateBatch(create, metadata=bearer())
    sandbox_clock.advance(60)
    status = await finished_batch(stub, created.batch_id)
    assert status.completed_count == 3
    after = await _balance(stub)
    assert estimate.total_cost_cents > 0
    assert before.total_balance_cents - after.total_balance_cents == estimate.total_cost_cents
    assert after.pending_balance_cents == 0


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_preflight_refuses_a_create_the_balance_cannot_pay(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With --balance-preflight, a create costing more than the available balance fails
    FAILED_PRECONDITION, INSUFFICIENT_BALANCE, naming the need and the balance, and nothing is
    sent upstream; one the balance covers goes through."""
    await set_balance(sandbox.url, 1)
    before = (await stats(sandbox))["requests"]
    error = await rpc_error(
        stub.CreateBatch(express(source(1), request_id=str(uuid.uuid4())), metadata=bearer())
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "INSUFFICIENT_BALANCE"
    failure = detail(error, error_details_pb2.PreconditionFailure)
    assert failure.violations[0].subject == "available_balance_cents"
    assert "available balance is 1 cents" in failure.violations[0].description
    after = (await stats(sandbox))["requests"]
    assert after.get("POST /v1/transcriptions/batch", 0) == 0
    assert after[DURATION] == before.get(DURATION, 0) + 1
    await set_balance(sandbox.url, 10_000)
    created = await stub.CreateBatch(express(source(1)), metadata=bearer())
    assert created.batch_id


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_preflight_fails_closed_when_the_balance_cannot_be_read(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """When the balance read fails (the upstream answers 503), the create fails UNAVAILABLE
    with that read's reason, and no batch is created."""
    await fault(sandbox, status=503, count=10, path_prefix="/v1/balance")
    error = await rpc_error(stub.CreateBatch(express(source(1)), metadata=bearer()))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(error).reason == "UPSTREAM_UNAVAILABLE"
    assert (await stats(sandbox))["requests"].get("POST /v1/transcriptions/batch", 0) == 0


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_preflight_cannot_price_a_manifest_batch(stub: Stub, sandbox: SandboxServer) -> None:
    """A standard batch of a manifest not uploaded through this gateway cannot be priced:
    with the pre-flight on it fails FAILED_PRECONDITION, COST_UNKNOWN, nothing sent
    (tests/server/test_manifest_cost.py: one uploaded here is priced)."""
    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(),
        processing_mode=batch_pb2.PROCESSING_MODE_STANDARD,
        batch_file_id=str(uuid.uuid4()),
    )
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "COST_UNKNOWN"
    assert (await stats(sandbox))["total"] == 0


async def test_without_guards_a_create_reads_no_duration(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With neither guard, a create costs its POST only: no duration or balance read."""
    await stub.CreateBatch(express(source(1)), metadata=bearer())
    requests = (await stats(sandbox))["requests"]
    assert DURATION not in requests
    assert "GET /v1/balance/" not in requests


async def test_a_duration_read_is_retried_as_a_read_and_a_lasting_failure_fails_the_call(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """The duration POST only reads: one 503 is retried and the estimate answers; when every
    attempt fails, EstimateCost fails UNAVAILABLE (UPSTREAM_UNAVAILABLE, not OUTCOME_UNKNOWN)."""
    request = pb.EstimateCostRequest(
        work=pb.COSTED_WORK_EXPRESS_BATCH, audio_sources=[source(1), source(2)]
    )
    await fault(sandbox, status=503, count=1, path_prefix="/v1/utils/duration")
    answer = await stub.EstimateCost(request, metadata=bearer())
    assert len(answer.items) == 2
    await fault(sandbox, status=503, count=100, path_prefix="/v1/utils/duration")
    error = await rpc_error(stub.EstimateCost(request, metadata=bearer()))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(error).reason == "UPSTREAM_UNAVAILABLE"


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_a_retried_create_is_answered_as_before_not_checked_again(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With --balance-preflight, a create whose cost the balance just covers goes through; its
    retry with the same request_id gets the same batch, although the balance it reserved no
    longer covers a second one; a new create is refused."""
    estimate = await stub.EstimateCost(
        pb.EstimateCostRequest(work=pb.COSTED_WORK_EXPRESS_BATCH, audio_sources=[source(7)]),
        metadata=bearer(),
    )
    await set_balance(sandbox.url, estimate.total_cost_cents)
    request = express(source(7), request_id=str(uuid.uuid4()))
    first = await stub.CreateBatch(request, metadata=bearer())
    again = await stub.CreateBatch(request, metadata=bearer())
    assert again.batch_id == first.batch_id
    assert (await _balance(stub)).available_balance_cents == 0
    error = await rpc_error(
        stub.CreateBatch(express(source(7), request_id=str(uuid.uuid4())), metadata=bearer())
    )
    assert error_info(error).reason == "INSUFFICIENT_BALANCE"


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_preflight_guards_single_transcriptions(stub: Stub, sandbox: SandboxServer) -> None:
    """With --balance-preflight, a CreateTranscription the balance cannot pay fails
    INSUFFICIENT_BALANCE with no POST upstream, and an UploadTranscription (a file has no
    duration the gateway can read) fails COST_UNKNOWN with nothing sent; once the balance
    covers it, the single create goes through."""
    single = pb.CreateTranscriptionRequest(
        request_id=str(uuid.uuid4()),
        info=batch_pb2.BatchInfo(primary_language=batch_pb2.LANGUAGE_HE),
        audio_url="https://cdn.example.com/single-1.mp3",
    )
    await set_balance(sandbox.url, 1)
    error = await rpc_error(stub.CreateTranscription(single, metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "INSUFFICIENT_BALANCE"

    async def upload() -> Any:
        header = pb.UploadTranscriptionHeader(request_id=str(uuid.uuid4()), file_name="a.mp3")
        yield pb.UploadTranscriptionRequest(header=header)
        yield pb.UploadTranscriptionRequest(chunk=b"audio bytes")

    error = await rpc_error(stub.UploadTranscription(upload(), metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "COST_UNKNOWN"
    assert (await stats(sandbox))["requests"].get("POST /v1/transcriptions/", 0) == 0
    await set_balance(sandbox.url, 10_000)
    created = await stub.CreateTranscription(single, metadata=bearer())
    assert created.transcription_id


@pytest.mark.parametrize("gateway_config", [{"balance_preflight": True}], indirect=True)
async def test_preflight_prices_a_batch_of_pages_by_their_resolved_audio(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With --balance-preflight, a CreateBatch whose item names a page is priced by the page's
    audio, once resolved: refused INSUFFICIENT_BALANCE when the balance cannot pay it (no batch
    POST), created once it can."""
    request = express(batch_pb2.AudioSource(page_url="https://youtu.be/priced1"))
    await set_balance(sandbox.url, 1)
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(error).reason == "INSUFFICIENT_BALANCE"
    assert (await stats(sandbox))["requests"].get("POST /v1/transcriptions/batch", 0) == 0
    await set_balance(sandbox.url, 10_000)
    created = await stub.CreateBatch(request, metadata=bearer())
    assert created.batch_id
