"""The rate budget's policy (gateway.upstream.rate_schedule) on a clock of plain numbers: the
burst, the rate, priority order then FIFO, refusals at once past the deadline, and pauses."""

from __future__ import annotations

import pytest

from gateway.upstream.config import Priority
from gateway.upstream.rate_schedule import Schedule, TokenBucket, Waiter

CREATE, READ, POLL = Priority.CREATE, Priority.READ, Priority.POLL
FAR = 1e9  # a deadline that never matters


def schedule(rate: float = 5.0, burst: float = 5.0, now: float = 0.0) -> Schedule:
    return Schedule(TokenBucket.full(rate, burst, now))


def queued(s: Schedule, priority: Priority, deadline: float, now: float) -> Waiter:
    admission = s.admit(priority, deadline, now)
    assert admission.waiter is not None, admission
    return admission.waiter


def test_a_full_bucket_grants_its_burst_at_once_then_one_token_per_interval() -> None:
    """Five requests go at once from a full bucket of five; the sixth waits 1/rate."""
    s = schedule(rate=5.0, burst=5.0)
    assert all(s.admit(READ, FAR, 0.0).granted for _ in range(5))
    sixth = queued(s, READ, FAR, 0.0)
    assert s.next_wake(0.0) == pytest.approx(0.2)
    assert s.pump(0.1) == ([], [])
    assert s.pump(0.2) == ([sixth], [])


def test_the_burst_caps_what_an_idle_bucket_saves() -> None:
    """A bucket idle for a minute holds its burst, not a minute's worth of tokens."""
    s = schedule(rate=5.0, burst=3.0)
    assert all(s.admit(READ, FAR, 60.0).granted for _ in range(3))
    assert not s.admit(READ, FAR, 60.0).granted


def test_waiters_are_served_in_priority_order_then_first_come_first_served() -> None:
    """With the bucket empty, a poll, two reads and a create queue up; tokens go to the create,
    then the reads in arrival order, then the poll."""
    s = schedule(rate=1.0, burst=1.0)
    assert s.admit(READ, FAR, 0.0).granted
    poll = queued(s, POLL, FAR, 0.0)
    read_1 = queued(s, READ, FAR, 0.0)
    read_2 = queued(s, READ, FAR, 0.0)
    create = queued(s, CREATE, FAR, 0.0)
    order = [s.pump(float(t))[0] for t in range(1, 5)]
    assert order == [[create], [read_1], [read_2], [poll]]


def test_a_lower_priority_never_takes_a_token_while_a_higher_one_waits() -> None:
    """A poll arriving when a token is due but a read waits for it is queued behind the read;
    a create arriving then takes it at once (nobody of its priority waits)."""
    s = schedule(rate=1.0, burst=1.0)
    assert s.admit(READ, FAR, 0.0).granted
    read = queued(s, READ, FAR, 0.0)
    assert s.admit(POLL, FAR, 1.0).waiter is not None  # the token at 1.0 is the read's
    assert s.admit(CREATE, FAR, 1.0).granted  # ... unless a create comes first
    assert s.pump(1.0) == ([], [])
    assert s.pump(2.0)[0] == [read]


def test_a_request_whose_turn_comes_after_its_deadline_is_refused_at_once() -> None:
    """Ten reads queue behind an empty bucket at 5/s; an eleventh with a 1 s deadline would
    get its token at 2.2 s, so it is refused now, told to retry in 2.2 s, and never queued."""
    s = schedule(rate=5.0, burst=5.0)
    for _ in range(5):
        s.admit(READ, FAR, 0.0)
    for _ in range(10):
        queued(s, READ, FAR, 0.0)
    admission = s.admit(READ, 1.0, 0.0)
    assert not admission.granted
    assert admission.waiter is None
    assert admission.retry_after == pytest.approx(2.2)
    assert len(s.queue) == 10


def test_a_create_fits_where_a_read_with_the_same_deadline_does_not() -> None:
    """The queue ahead is counted by priority: the same 1 s deadline refuses a read behind ten
    reads but admits a create, which goes before them."""
    s = schedule(rate=5.0, burst=5.0)
    for _ in range(5):
        s.admit(READ, FAR, 0.0)
    for _ in range(10):
        queued(s, READ, FAR, 0.0)
    assert s.admit(READ, 1.0, 0.0).retry_after is not None
    create = queued(s, CREATE, 1.0, 0.0)
    assert s.pump(0.2)[0] == [create]


def test_a_newcomer_of_higher_priority_refuses_the_waiters_it_pushes_past_their_deadline() -> None:
    """A poll with 0.5 s left would be served at 0.2 s; two creates arriving push it to
    0.6 s, so it is refused then and there, not left to time out."""
    s = schedule(rate=5.0, burst=1.0)
    assert s.admit(READ, FAR, 0.0).granted
    poll = queued(s, POLL, 0.5, 0.0)
    assert queued(s, CREATE, FAR, 0.0) is not None
    admission = s.admit(CREATE, FAR, 0.0)
    assert admission.waiter is not None
    assert [(w, round(after, 3)) for w, after in admission.bumped] == [(poll, 0.6)]
    assert poll not in s.queue


def test_a_pause_gives_nobody_a_token_until_it_ends() -> None:
    """A 2 s pause stops a full bucket: nothing before 2 s, one token at 2 s, the next 1/rate
    later (the tokens saved before the pause are gone)."""
    s = schedule(rate=5.0, burst=5.0)
    fresh, refused = s.pause(2.0, 0.0)
    assert fresh
    assert refused == []
    assert not s.admit(CREATE, FAR, 0.0).granted
    assert s.pump(1.9) == ([], [])
    assert s.next_wake(1.9) == pytest.approx(2.0)
    assert len(s.pump(2.0)[0]) == 1
    assert s.admit(READ, FAR, 2.0).waiter is not None
    assert s.next_wake(2.0) == pytest.approx(2.2)


def test_a_pause_refuses_at_once_the_waiters_it_pushes_past_their_deadline() -> None:
    """A read waiting with 1 s left is refused when a 5 s pause begins, told to retry when the
    pause ends; one with 10 s left keeps waiting."""
    s = schedule(rate=5.0, burst=1.0)
    assert s.admit(READ, FAR, 0.0).granted
    short = queued(s, READ, 1.0, 0.0)
    long = queued(s, READ, 10.0, 0.0)
    fresh, refused = s.pause(5.0, 0.1)
    assert fresh
    assert [(w, round(after, 3)) for w, after in refused] == [(short, 4.9)]
    assert s.queue == [long]


def test_a_pause_is_never_shortened_and_its_extension_is_no_new_pause() -> None:
    """A second 429 asking for less does not end the pause early; one asking for more extends
    it, and neither counts as a new pause."""
    bucket = TokenBucket.full(5.0, 5.0, 0.0)
    assert bucket.pause(5.0, 0.0)
    assert not bucket.pause(3.0, 1.0)
    assert bucket.paused_for(1.0) == pytest.approx(4.0)
    assert not bucket.pause(8.0, 2.0)
    assert bucket.paused_for(2.0) == pytest.approx(6.0)
    assert bucket.pause(9.0, 8.5)  # after it ended: a new one


def test_a_mirror_of_the_shared_bucket_estimates_from_what_redis_said() -> None:
    """Synced to "0.5 tokens, paused 1 s more", a mirror puts the first token at the pause's
    end and the next at 1/rate after it."""
    bucket = TokenBucket.full(5.0, 5.0, 0.0)
    bucket.sync(0.5, 1.0, 10.0)
    assert bucket.ready_at(1, 10.0) == pytest.approx(11.1)
    bucket.sync(0.5, 0.0, 20.0)
    assert bucket.ready_at(1, 20.0) == pytest.approx(20.1)
    assert bucket.ready_at(2, 20.0) == pytest.approx(20.3)


def test_the_shared_schedule_queues_or_refuses_but_never_takes_a_token_itself() -> None:
    """With `may_take=False` (the token is the shared bucket's to give), even a full mirror
    only queues the request; the async layer grants the head when Redis hands one out."""
    s = schedule()
    admission = s.admit(READ, FAR, 0.0, may_take=False)
    assert admission.waiter is not None
    assert s.grant_head() is admission.waiter
    assert s.grant_head() is None


def test_a_waiter_that_leaves_is_forgotten() -> None:
    """A cancelled caller's place goes to the next in line."""
    s = schedule(rate=1.0, burst=1.0)
    s.admit(READ, FAR, 0.0)
    gone = queued(s, READ, FAR, 0.0)
    stays = queued(s, READ, FAR, 0.0)
    s.remove(gone)
    assert s.pump(1.0)[0] == [stays]
