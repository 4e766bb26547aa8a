"""WatchBatchStatus messages as wire bytes, made once per topic version, not once per watcher.

A message depends on the observation and on what the stream sent before it (its
`changed_transcription_ids`): so watchers that last sent the same version get the same bytes.
They are kept in the observation's memo (gateway.watch.hub), keyed by that earlier version:

- a stream's first message (all ids): once per version, however many streams open on it;
- the diff from the version before: once per version, shared by every watcher that kept up;
- the diff from an older version, for watchers that skipped versions (conflation: slow ones):
  once per (version, version they last sent).

The bytes go out as they are through gateway.server.passthrough.
"""

from __future__ import annotations

from gateway.contract import mapping
from gateway.watch.hub import Observation

_FIRST = 0
"""The memo key of a stream's first message: no version was sent before it (versions are >= 1)."""
_STATES = "states"


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
