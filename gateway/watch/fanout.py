"""WatchBatchStatus messages as wire bytes, made once per topic version, not once per watcher.

A message depends on the observation and on what the stream sent before it (its
`changed_transcription_ids`): so watchers that last sent the same version get the same bytes.
They are kept in the observation's memo (gateway.watch.hub), keyed by that earlier version:

- a stream's first message (all ids): once per version, however many streams open on it;
- the diff from the version before: once per version, shared by every watcher that kept up;
- the diff from an older version, for watchers that skipped versions (conflation: slow ones):
  once per (version, version they last sent).

With the stream's events and resume token (`with_events`), for every stream at the log's
position the observation started from, the bytes are made once per version as well; a stream
that skipped versions (or resumed from a token) gets its events read from the log and
appended (`tail`, gateway.watch.resume).

The bytes go out as they are through gateway.server.passthrough.
"""

from __future__ import annotations

from collections.abc import Sequence

from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.contract import mapping
from gateway.events import positions
from gateway.watch.hub import Observation

_FIRST = 0
"""The memo key of a stream's first message: no version was sent before it (versions are >= 1)."""
_STATES = "states"
_EVENTS = "events"


def message_bytes(observation: Observation, previous: Observation | None) -> bytes:
    """The serialized WatchBatchStatusResponse for `observation` on a stream whose previous
    message was made of `previous` (None: this is its first message)."""
    key = _FIRST if previous is None else previous.version
    cached = observation.memo.get(key)
    if isinstance(cached, bytes):
        return cached
    message = mapping.watch_message(
        observation.status,
        observation.observed_at,
        None if previous is None else _states(previous),
    )
    data: bytes = message.SerializeToString()
    observation.memo[key] = data
    return data


def _states(observation: Observation) -> dict[str, str]:
    """The observation's transcription states, for diffs against it (made once)."""
    states = observation.memo.get(_STATES)
    if not isinstance(states, dict):
        states = observation.memo[_STATES] = mapping.transcription_states(observation.status)
    return states


def with_events(observation: Observation, previous: Observation | None, batch_id: str) -> bytes:
    """`message_bytes` with the stream's events and resume token for a stream at the log's
    position before `observation` (`observation.since`): its own events (none on a first
    message) and the token of its position. Made once per (version, previous version) as well:
    every stream that kept up sends the same bytes."""
    key = (_EVENTS, _FIRST if previous is None else previous.version)
    cached = observation.memo.get(key)
    if isinstance(cached, bytes):
        return cached
    events = () if previous is None else (observation.events or ())
    data = message_bytes(observation, previous) + tail(batch_id, events, observation.position)
    observation.memo[key] = data
    return data


def tail(batch_id: str, events: Sequence[batch_pb2.BatchEvent], position: str) -> bytes:
    """The events and resume token of a WatchBatchStatus message, serialized on their own: a
    message's bytes followed by these parse as the message with them (protobuf merges
    concatenated messages; these fields are only here)."""
    part = pb.WatchBatchStatusResponse(
        events=events, resume_token=positions.make_token(batch_id, position) if position else ""
    )
    data: bytes = part.SerializeToString()
    return data
