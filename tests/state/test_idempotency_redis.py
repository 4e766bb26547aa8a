"""Idempotency on Redis (--redis-url): one upstream create per (credential, request_id) across
replicas, restarts and kill -9, nothing secret in Redis, and a Redis outage that never risks a
duplicate. Real redis-server (tests/helpers/redis_server.py), real gateways, one sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import uuid
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from gateway.access.credentials import Credential
from gateway.config import ConfigError, GatewayConfig
from gateway.server.process import Gateway
from gateway.state.redis_client import KEY_SECRET_ENV
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    batch_request,
    eventually,
    fault,
    rpc_error,
    stats,
    upstream_count,
)
from tests.helpers.gateways import Gateways, Running
from tests.helpers.processes import start_serve
from tests.helpers.redis_server import SECRET, RedisServer, free_port

Stub = pb_grpc.BatchTranscriptionServiceStub
POST_BATCH = "/v1/transcriptions/batch"
CREATE = "POST /v1/transcriptions/batch"


pytestmark = pytest.mark.usefixtures("key_secret")


@pytest.fixture
def shared(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """The test's gateway settings, on the test's Redis."""
    return dataclasses.replace(gateway_config, redis_url=redis_server.url)


async def batches(sandbox: SandboxServer) -> int:
    """Batches the sandbox really made."""
    created: dict[str, int] = (await stats(sandbox)).get("created", {})
    return created.get("batches", 0)


async def posts(sandbox: SandboxServer) -> int:
    """POSTs of a batch the sandbox received."""
    return await upstream_count(sandbox, CREATE)


# -- one create across replicas -----------------------------------------------------------------


async def test_same_request_id_on_three_gateways_at_once_makes_one_batch(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """The same request_id on three replicas at the same moment, while the upstream is slow:
    one upstream POST, and all three callers get that one batch."""
    group = [await gateways.start(shared) for _ in range(3)]
    await fault(sandbox, delay=1.0, count=1, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            r.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=20)
            for r in group
        )
    )
    assert len({a.batch_id for a in answers}) == 1
    assert await batches(sandbox) == 1
    assert await posts(sandbox) == 1


async def test_a_waiter_on_another_gateway_is_bounded_by_its_deadline(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A duplicate on a second replica whose deadline passes while the first replica's create
    is still upstream ends DEADLINE_EXCEEDED (OUTCOME_UNKNOWN) in time; once the create has
    ended, its retry gets the batch, and only one POST was made."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    await fault(sandbox, delay=3.0, count=1, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    owner = asyncio.ensure_future(
        first.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=20)
    )
    await eventually(lambda: posts(sandbox), lambda n: n == 1)
    error = await rpc_error(
        second.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=1.0)
    )
    assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, "OUTCOME_UNKNOWN")
    created = await owner
    retry = await second.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert retry == created
    assert await posts(sandbox) == 1


async def test_a_retry_on_another_gateway_gets_the_first_batch_marked_replayed(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A create on one replica, its retry on another: the first batch, one POST, and the
    retry marked `idempotent-replayed: true`."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request_id = str(uuid.uuid4())
    created = await first.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    call = second.stub.CreateBatch(batch_request(request_id.upper()), metadata=bearer())
    assert await call == created
    assert ("idempotent-replayed", "true") in tuple(await call.trailing_metadata() or ())
    assert await posts(sandbox) == 1


async def test_manifest_upload_is_shared_across_gateways(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """UploadManifest with one request_id on two replicas: one manifest, the same answer."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request = pb.UploadManifestRequest(
        request_id=str(uuid.uuid4()), jsonl='{"audio_url": "https://e.com/a.mp3"}'
    )
    one = await first.stub.UploadManifest(request, metadata=bearer())
    two = await second.stub.UploadManifest(request, metadata=bearer())
    assert two == one
    requests: dict[str, int] = (await stats(sandbox))["requests"]
    assert requests.get("POST /v1/transcriptions/batch-files") == 1


async def test_records_survive_a_gateway_restart(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A gateway restarted (a deploy) still knows the request_ids it answered: the retry gets
    the first batch, with no second POST."""
    before = await gateways.start(shared)
    request_id = str(uuid.uuid4())
    created = await before.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    await before.gateway.stop(0)
    after = await gateways.start(shared)
    assert await after.stub.CreateBatch(batch_request(request_id), metadata=bearer()) == created
    assert await batches(sandbox) == 1


async def test_request_id_reused_across_gateways(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A request_id used on one replica, then with another payload on a second: ALREADY_EXISTS
    (REQUEST_ID_REUSED), and nothing sent upstream for it."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request_id = str(uuid.uuid4())
    await first.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    error = await rpc_error(
        second.stub.CreateBatch(
            batch_request(request_id, "https://e.com/other.mp3"), metadata=bearer()
        )
    )
    assert_error(error, grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    assert await posts(sandbox) == 1


async def test_tenants_never_share_records_in_redis(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """Another credential with the same request_id on another replica gets its own batch."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request_id = str(uuid.uuid4())
    mine = await first.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    theirs = await second.stub.CreateBatch(batch_request(request_id), metadata=bearer(OTHER_TOKEN))
    assert theirs.batch_id != mine.batch_id
    assert await batches(sandbox) == 2


async def test_a_definite_failure_is_not_kept(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A create the upstream refused (400) did not happen: its retry, on another replica, is
    sent again and makes the batch."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    await fault(sandbox, status=400, count=1, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    error = await rpc_error(first.stub.CreateBatch(batch_request(request_id), metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    answer = await second.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert answer.batch_id
    assert await posts(sandbox) == 2
    assert await batches(sandbox) == 1


async def test_an_outcome_in_doubt_is_repeated_on_every_gateway(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A POST answered 500 may have made the batch: the retry on another replica gets the same
    OUTCOME_UNKNOWN, with the upstream's words, instead of a second create."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    await fault(sandbox, status=500, count=1, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    one = await rpc_error(first.stub.CreateBatch(batch_request(request_id), metadata=bearer()))
    two = await rpc_error(second.stub.CreateBatch(batch_request(request_id), metadata=bearer()))
    for error in (one, two):
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert two.details() == one.details()
    assert await posts(sandbox) == 1


async def test_replicas_with_one_api_key_agree_without_an_explicit_secret(
    gateway_config: GatewayConfig,
    redis_server: RedisServer,
    sandbox: SandboxServer,
    gateways: Gateways,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without SOFER_GATEWAY_REDIS_KEY_SECRET the secret comes from the configured key, which
    replicas share: a retry on the other replica still finds the record."""
    monkeypatch.delenv(KEY_SECRET_ENV)
    config = dataclasses.replace(gateway_config, redis_url=redis_server.url, api_key=TOKEN)
    first, second = [await gateways.start(config) for _ in range(2)]
    request_id = str(uuid.uuid4())
    created = await first.stub.CreateBatch(batch_request(request_id))
    assert await second.stub.CreateBatch(batch_request(request_id)) == created
    assert await batches(sandbox) == 1


# -- kill -9 --------------------------------------------------------------------------------


async def test_kill_9_in_the_middle_of_a_create_never_makes_a_second_batch(
    sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """A `serve` process killed (SIGKILL) after the upstream made the batch but before its
    answer came; a new process on the same Redis; the retry with the same request_id answers
    OUTCOME_UNKNOWN (the batch may exist: check before creating again), never a second POST."""
    flags = ("--upstream-url", sandbox.url, "--redis-url", redis_server.url)
    env = {KEY_SECRET_ENV: SECRET}
    await fault(sandbox, after=True, delay=5, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    doomed, address = await start_serve(*flags, env=env)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            first = asyncio.ensure_future(
                Stub(channel).CreateBatch(batch_request(request_id), metadata=bearer(), timeout=30)
            )
            await eventually(lambda: batches(sandbox), lambda n: n == 1)
            doomed.kill()
            await doomed.wait()
            with pytest.raises(grpc.aio.AioRpcError):
                await first
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()
    successor, address = await start_serve(*flags, env=env)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = Stub(channel)
            for _ in range(2):  # the retry, and the retry of the retry: the same answer
                error = await rpc_error(
                    stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=30)
                )
                assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    finally:
        successor.kill()
        await successor.wait()
    assert await posts(sandbox) == 1
    assert await batches(sandbox) == 1


# -- nothing secret in Redis -------------------------------------------------------------------


async def test_redis_holds_no_credential(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis_server: RedisServer,
) -> None:
    """After creates by two tenants, no key or value in Redis holds a token, or a plain hash of
    one that a guess could be checked against: tenants appear only as keyed hashes."""
    gateway = (await gateways.start(shared)).stub
    for token in (TOKEN, OTHER_TOKEN):
        await gateway.CreateBatch(batch_request(str(uuid.uuid4())), metadata=bearer(token))
    await fault(sandbox, status=500, count=1, method="POST", path_prefix=POST_BATCH)
    await rpc_error(gateway.CreateBatch(batch_request(str(uuid.uuid4())), metadata=bearer()))
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        stored: list[bytes] = []
        async for key in client.scan_iter():
            stored.append(key)
            stored.append(await client.dump(key) or b"")
    finally:
        await client.aclose()
    records = [k for k in stored if k.startswith(b"sgw:idem:")]
    assert len(records) == 3
    for token in (TOKEN, OTHER_TOKEN):
        forbidden = [
            token.encode(),
            hashlib.sha256(token.encode()).hexdigest().encode(),
            Credential(token, "caller").tenant.encode(),
        ]
        for blob in stored:
            for secret in forbidden:
                assert secret not in blob


# -- Redis unavailable ------------------------------------------------------------------------


def events(out: io.StringIO, prefix: str) -> list[dict[str, Any]]:
    """The log lines whose event starts with `prefix`."""
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return [line for line in lines if str(line.get("event", "")).startswith(prefix)]


async def test_redis_down_fails_creates_with_a_request_id_and_rejoins(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis_server: RedisServer,
    logs: io.StringIO,
) -> None:
    """Redis stopped: a create with a request_id fails UNAVAILABLE (IDEMPOTENCY_STORE_UNAVAILABLE)
    before anything is sent, reads and creates without a request_id still work, the gateway
    stays SERVING and says so once in its log and in `redis_available`; Redis back: creates
    with a request_id work again."""
    running = await gateways.start(shared)
    stub = running.stub
    batch = await stub.CreateBatch(batch_request(str(uuid.uuid4())), metadata=bearer())
    assert available(running) is True
    redis_server.stop()
    for _ in range(3):
        error = await rpc_error(
            stub.CreateBatch(batch_request(str(uuid.uuid4())), metadata=bearer(), timeout=10)
        )
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "IDEMPOTENCY_STORE_UNAVAILABLE")
    assert await posts(sandbox) == 1
    status = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer()
    )
    assert status.batch_status.batch_id == batch.batch_id
    assert (await stub.CreateBatch(batch_request(""), metadata=bearer())).batch_id
    assert available(running) is False
    health = health_pb2_grpc.HealthStub(running.channel)
    checked = await health.Check(health_pb2.HealthCheckRequest(service=""))
    assert checked.status == health_pb2.HealthCheckResponse.SERVING
    assert len(events(logs, "redis unavailable")) == 1
    redis_server.start()
    await eventually(lambda: _is(available(running)), bool)
    request_id = str(uuid.uuid4())
    created = await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert await stub.CreateBatch(batch_request(request_id), metadata=bearer()) == created
    assert len(events(logs, "redis available again")) == 1


def available(running: Running) -> bool | None:
    """What the gateway says of its Redis (`Gateway.redis_available`)."""
    return running.gateway.redis_available


async def _is(value: bool | None) -> bool:
    return bool(value)


async def test_local_fallback_serves_creates_while_redis_is_down(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis_server: RedisServer,
) -> None:
    """With --idempotency-fallback local, Redis down: creates with a request_id go on, kept in
    the gateway's memory (a retry on the same gateway gets the first batch)."""
    running = await gateways.start(dataclasses.replace(shared, idempotency_fallback="local"))
    redis_server.stop()
    request_id = str(uuid.uuid4())
    created = await running.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    again = await running.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert again == created
    assert await batches(sandbox) == 1
    assert available(running) is False


async def test_a_gateway_starts_while_redis_is_down(
    gateway_config: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A gateway whose Redis is not there yet starts and serves reads; its creates with a
    request_id fail IDEMPOTENCY_STORE_UNAVAILABLE until Redis answers."""
    config = dataclasses.replace(gateway_config, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    running = await gateways.start(config)
    assert available(running) is False
    error = await rpc_error(
        running.stub.CreateBatch(batch_request(str(uuid.uuid4())), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "IDEMPOTENCY_STORE_UNAVAILABLE")
    assert (await running.stub.CreateBatch(batch_request(""), metadata=bearer())).batch_id


async def test_redis_restarted_under_traffic_never_doubles_a_create(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis_server: RedisServer,
) -> None:
    """Two replicas creating (each request_id retried until it succeeds) and reading while
    Redis stops and starts again: reads never fail, creates fail only with
    IDEMPOTENCY_STORE_UNAVAILABLE, and every request_id makes exactly one batch."""
    group = [await gateways.start(shared) for _ in range(2)]
    seed = await group[0].stub.CreateBatch(batch_request(""), metadata=bearer())
    outcomes: dict[str, set[str]] = {}
    refused: list[str] = []
    reads: list[int] = []
    done = asyncio.Event()

    async def creating(stub: Stub) -> None:
        while not done.is_set():
            request_id = str(uuid.uuid4())
            outcomes[request_id] = set()
            for _ in range(200):
                try:
                    answer = await stub.CreateBatch(
                        batch_request(request_id), metadata=bearer(), timeout=10
                    )
                except grpc.aio.AioRpcError as error:
                    assert_error(
                        error, grpc.StatusCode.UNAVAILABLE, "IDEMPOTENCY_STORE_UNAVAILABLE"
                    )
                    refused.append(request_id)
                    await asyncio.sleep(0.05)
                    continue
                outcomes[request_id].add(answer.batch_id)
                break

    async def reading(stub: Stub) -> None:
        while not done.is_set():
            await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=seed.batch_id), metadata=bearer(), timeout=10
            )
            reads.append(1)
            await asyncio.sleep(0.02)

    traffic = [asyncio.ensure_future(f(r.stub)) for r in group for f in (creating, reading)]
    try:
        await eventually(_count(outcomes), lambda n: n >= 4)
        redis_server.stop()
        await eventually(_length(refused), lambda n: n >= 2)
        reads_during_outage = len(reads)
        redis_server.start()
        created_before = len(outcomes)
        await eventually(_count(outcomes), lambda n: n >= created_before + 4)
    finally:
        done.set()
        await asyncio.gather(*traffic)
    assert reads_during_outage > 0
    assert all(len(ids) == 1 for ids in outcomes.values()), outcomes
    assert await batches(sandbox) == len(outcomes) + 1  # + the seed


def _count(outcomes: dict[str, set[str]]) -> Any:
    async def probe() -> int:
        return sum(1 for ids in outcomes.values() if ids)

    return probe


def _length(items: list[str]) -> Any:
    async def probe() -> int:
        return len(items)

    return probe


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"idempotency_fallback": "sometimes"}, "--idempotency-fallback"),
        ({"redis_url": "http://127.0.0.1:1/"}, "--redis-url"),
    ],
)
async def test_bad_redis_settings_stop_the_start(
    gateway_config: GatewayConfig, changes: dict[str, Any], named: str
) -> None:
    """A fallback that is not 'fail' or 'local', or a URL that is not Redis's: the gateway does
    not start, and the error names the flag."""
    config = dataclasses.replace(gateway_config, **changes)
    with pytest.raises(ConfigError, match=named):
        await Gateway(config).start()


async def test_redis_needs_a_key_secret_without_an_api_key(
    gateway_config: GatewayConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--redis-url on a gateway with no SOFER_API_KEY and no SOFER_GATEWAY_REDIS_KEY_SECRET: it
    does not start, and says which variable to set."""
    monkeypatch.delenv(KEY_SECRET_ENV)
    config = dataclasses.replace(gateway_config, redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ConfigError, match=KEY_SECRET_ENV):
        await Gateway(config).start()
