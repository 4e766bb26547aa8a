"""The callers' daily audio accounts (gateway.state.audio_budget), in memory and on a real
Redis shared by two connections (two replicas)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.state.audio_budget import (
    AudioBudgets,
    BudgetStoreUnavailable,
    MemoryAudioBudgets,
    RedisAudioBudgets,
)
from tests.helpers.redis_server import RedisConnections, RedisServer

DAY = "2026-12-08"


async def _check_account(budgets: AudioBudgets) -> None:
    assert (await budgets.reserve("c", DAY, "a", 600, 1000)).granted
    again = await budgets.reserve("c", DAY, "a", 600, 1000)
    assert again.granted
    assert again.total_ms == 600
    refused = await budgets.reserve("c", DAY, "b", 600, 1000)
    assert not refused.granted
    assert refused.total_ms == 600
    assert (await budgets.reserve("other", DAY, "b", 600, 1000)).granted  # callers apart
    assert (await budgets.reserve("c", "2026-12-09", "b", 600, 1000)).granted  # days apart
    await budgets.release("c", DAY, "a")
    await budgets.release("c", DAY, "a")  # once only
    assert (await budgets.reserve("c", DAY, "b", 1000, 1000)).total_ms == 1000


async def test_memory_account() -> None:
    """A reservation counts once per key, refuses past the limit, is given back once; callers
    and days are separate."""
    await _check_account(MemoryAudioBudgets())


async def test_redis_account(redis_connections: RedisConnections) -> None:
    """The same rules on Redis."""
    await _check_account(RedisAudioBudgets(await redis_connections.connect()))


async def test_redis_replicas_racing_never_pass_the_limit(
    redis_connections: RedisConnections,
) -> None:
    """Two replicas reserving at once for one caller: exactly as many fit as the limit holds."""
    replicas = [RedisAudioBudgets(await redis_connections.connect()) for _ in range(2)]
    outcomes = await asyncio.gather(
        *(replicas[i % 2].reserve("c", DAY, f"k{i}", 300, 1000) for i in range(40))
    )
    assert sum(o.granted for o in outcomes) == 3
    assert max(o.total_ms for o in outcomes) == 900


async def test_redis_down_refuses_to_count(
    redis_connections: RedisConnections, redis_server: RedisServer
) -> None:
    """Without Redis a reservation raises BudgetStoreUnavailable (the create is not sent
    uncounted); a release that fails keeps the audio counted, and raises nothing."""
    budgets = RedisAudioBudgets(await redis_connections.connect())
    redis_server.stop()
    with pytest.raises(BudgetStoreUnavailable):
        await budgets.reserve("c", DAY, "a", 1, 10)
    await budgets.release("c", DAY, "a")
