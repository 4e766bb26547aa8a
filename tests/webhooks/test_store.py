"""The in-memory webhook store: one lane per (endpoint, batch), cursors moved by its holder."""

from __future__ import annotations

from gateway.webhooks.store import MAX_ATTEMPTS_KEPT, Attempt, Endpoint, MemoryWebhookStore


def endpoint(endpoint_id: str = "e1") -> Endpoint:
    return Endpoint(endpoint_id, "https://h.example/x", (), "whsec_AAAA", 1.0)


async def test_a_lease_is_exclusive_and_only_its_holder_moves_the_cursor() -> None:
    """While one holder has an (endpoint, batch) lease another cannot take it or move the
    cursor; once released, the other can."""
    now = [0.0]
    store = MemoryWebhookStore(clock=lambda: now[0])
    assert await store.acquire("e1", "b1", "a", ttl=30)
    assert not await store.acquire("e1", "b1", "b", ttl=30)
    assert not await store.advance("e1", "b1", "b", "5-0")
    assert await store.advance("e1", "b1", "a", "5-0")
    await store.release("e1", "b1", "a")
    assert await store.acquire("e1", "b1", "b", ttl=30)
    assert await store.cursor("e1", "b1") == "5-0"


async def test_an_expired_lease_is_taken_over() -> None:
    """A holder that stopped renewing (it died) loses the lease once it expires."""
    now = [0.0]
    store = MemoryWebhookStore(clock=lambda: now[0])
    assert await store.acquire("e1", "b1", "dead", ttl=30)
    now[0] = 31.0
    assert await store.acquire("e1", "b1", "alive", ttl=30)
    assert not await store.advance("e1", "b1", "dead", "1-0")


async def test_a_replayed_add_answers_the_first_endpoint_and_attempts_are_bounded() -> None:
    """Adding an id that exists answers the stored endpoint (its secret); only the newest
    MAX_ATTEMPTS_KEPT attempts are kept, newest first."""
    store = MemoryWebhookStore()
    first = await store.add("t", endpoint())
    again = await store.add("t", Endpoint("e1", "https://h.example/x", (), "whsec_BBBB", 2.0))
    assert again.secret == first.secret
    for i in range(MAX_ATTEMPTS_KEPT + 5):
        await store.record("e1", Attempt("m", str(i), "batch.updated", "b", float(i)))
    kept = await store.attempts("e1")
    assert len(kept) == MAX_ATTEMPTS_KEPT
    assert kept[0].event_id == str(MAX_ATTEMPTS_KEPT + 4)
    assert await store.remove("t", "e1")
    assert await store.endpoints("t") == []
