"""Fair shares per caller: how many unary calls and watches one caller may hold at once.

A caller is who the call came from (`caller_of`): the caller token's or client certificate's
identity when the gateway authenticated it ("token:<hash prefix>", "cert:<subject>"), else a
hash prefix of the bearer token the call spends ("tenant:<12 hex>"), never the token itself.

`--max-calls-per-caller` bounds a caller's unary RPCs in progress (queued for a concurrency slot
or working), `--max-watches-per-caller` its open WatchBatchStatus streams; 0 turns either off.
The frame (gateway.server.frame) holds one unit (a `Lease`) for the whole call, taken after the
credential and the request are checked and before the limiter's slot or the hub's watch is, and
given back however the call ends (answer, error, cancel, deadline, shutdown). Past the limit the
call is refused RESOURCE_EXHAUSTED (CALLER_QUOTA_EXCEEDED, a QuotaFailure naming the caller's
quota) before it has done anything: one caller at its share never takes the room another caller
needs.

The counts are per process (N per replica) and live in one event loop; the bookkeeping never
awaits, so no lock is needed. A caller that holds nothing has no entry: memory follows the
callers active now, not every caller ever seen.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import grpc
import structlog

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.contract.errors import GatewayError, Reason

log = structlog.get_logger("gateway.access.caller_quota")


class Kind(enum.StrEnum):
    """What a caller holds; the values are the metrics' `kind` label."""

    CALLS = "calls"
    WATCHES = "watches"


_FLAG = {Kind.CALLS: "--max-calls-per-caller", Kind.WATCHES: "--max-watches-per-caller"}
_HELD = {Kind.CALLS: "calls in progress", Kind.WATCHES: "open watches"}
_WAIT = {
    Kind.CALLS: "wait for one of them to finish",
    Kind.WATCHES: "close one, or poll GetBatchStatus",
}


def caller_of(credential: Credential) -> str:
    """Who a call counts against: the authenticated caller, else a hash prefix of the token
    (the tenant key's first 12 characters: stable, not reversible, never the token)."""
    return credential.caller or f"tenant:{credential.tenant[:12]}"


class Lease:
    """One unit of a caller's share; `release` gives it back, once (later calls do nothing)."""

    __slots__ = ("_held", "_quota", "caller", "kind")

    def __init__(self, quota: CallerQuota, kind: Kind, caller: str) -> None:
        self._quota = quota
        self._held = True
        self.kind = kind
        self.caller = caller

    def release(self) -> None:
        """Give the unit back (idempotent)."""
        if self._held:
            self._held = False
            self._quota._give_back(self.kind, self.caller)


class CallerQuota:
    """The units each caller holds now, per kind, against `max_calls` and `max_watches`
    (0: that kind is not limited, nor counted). `on_refused(kind)` is told of each refusal."""

    def __init__(
        self,
        max_calls: int = 0,
        max_watches: int = 0,
        *,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        if max_calls < 0 or max_watches < 0:
            raise ValueError("max_calls and max_watches must be at least 0")
        self.limits = {Kind.CALLS: max_calls, Kind.WATCHES: max_watches}
        self._counts: dict[Kind, dict[str, int]] = {Kind.CALLS: {}, Kind.WATCHES: {}}
        self._on_refused = on_refused
        self.refused = {Kind.CALLS: 0, Kind.WATCHES: 0}
        """Refusals so far, by kind (for logs and tests; metrics count through the hook)."""

    @classmethod
    def from_config(
        cls, config: GatewayConfig, *, on_refused: Callable[[str], None] | None = None
    ) -> CallerQuota:
        """The shares of `--max-calls-per-caller` and `--max-watches-per-caller`. Warns when a
        share is no smaller than the process-wide limit it sits under: then one caller can
        still fill that limit, and the share protects nobody."""
        quota = cls(
            config.max_calls_per_caller, config.max_watches_per_caller, on_refused=on_refused
        )
        calls, watches = quota.limits[Kind.CALLS], quota.limits[Kind.WATCHES]
        if calls and calls >= config.max_concurrent_calls:
            log.warning(
                "--max-calls-per-caller is not below --max-concurrent-calls: one caller can "
                "still take every concurrency slot",
                max_calls_per_caller=calls,
                max_concurrent_calls=config.max_concurrent_calls,
            )
        if watches and watches >= config.max_watches:
            log.warning(
                "--max-watches-per-caller is not below --max-watches: one caller can still "
                "take every watch of the process",
                max_watches_per_caller=watches,
                max_watches=config.max_watches,
            )
        return quota

    def acquire(self, kind: Kind, credential: Credential) -> Lease | None:
        """Take one unit of `kind` for the call's caller, to `release` however the call ends;
        None when `kind` is off (nothing is counted then). Raises GatewayError
        (RESOURCE_EXHAUSTED, CALLER_QUOTA_EXCEEDED), taking nothing, when the caller already
        holds its share."""
        limit = self.limits[kind]
        if not limit:
            return None
        caller = caller_of(credential)
        counts = self._counts[kind]
        held = counts.get(caller, 0)
        if held >= limit:
            raise self._refuse(kind, caller, limit)
        counts[caller] = held + 1
        return Lease(self, kind, caller)

    def held(self, kind: Kind, caller: str) -> int:
        """Units of `kind` that `caller` (a `caller_of` identity) holds now."""
        return self._counts[kind].get(caller, 0)

    def total(self, kind: Kind) -> int:
        """Units of `kind` held now, by every caller."""
        return sum(self._counts[kind].values())

    def _give_back(self, kind: Kind, caller: str) -> None:
        """A lease ended; a caller left with nothing is forgotten."""
        counts = self._counts[kind]
        held = counts.get(caller, 0)
        if held <= 1:
            counts.pop(caller, None)
        else:
            counts[caller] = held - 1

    def _refuse(self, kind: Kind, caller: str, limit: int) -> GatewayError:
        self.refused[kind] += 1
        if self._on_refused is not None:
            self._on_refused(kind.value)
        flag, held = _FLAG[kind], _HELD[kind]
        return GatewayError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            Reason.CALLER_QUOTA_EXCEEDED,
            f"caller {caller} already has {limit} {held}, its share on this gateway "
            f"({flag} {limit}): {_WAIT[kind]}, then retry",
            quota_subject=f"caller {caller}: {held}",
            quota_description=f"at most {limit} {held} per caller on each gateway process "
            f"({flag} {limit})",
        )
