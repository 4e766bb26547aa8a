"""Injected faults: queued rules that make the next matching /v1 requests fail, lag or drop."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.utils import formatdate
from typing import Any

from sofer_sandbox.errors import Loc, SchemaErrors, bad_request, schema_error
from sofer_sandbox.fields import opt_bool, opt_enum, opt_int, opt_str

RETRY_AFTER_FORMATS = ("seconds", "date", "ms", "both")


@dataclass
class FaultRule:
    """One rule: what to do, to how many more requests, and which ones."""

    count: int = 1
    status: int | None = None
    retry_after: float | None = None
    retry_after_format: str = "seconds"
    delay: float = 0.0
    path_prefix: str = "/v1/"
    method: str | None = None
    drop: bool = False
    body: str | None = None
    after: bool = False
    """Act first, then misbehave: the request is served (a batch is created, ...) and only its
    answer is delayed by `delay` or lost (`drop`): the upstream acted, then the answer was lost."""

    @property
    def answers(self) -> bool:
        """Whether the rule answers itself (else, after any delay, the request goes through)."""
        return self.status is not None or self.body is not None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this rule applies to."""
        return path.startswith(self.path_prefix) and self.method in (None, method)

    def retry_headers(self, now_epoch: float) -> dict[str, str]:
        """The Retry-After family of headers, in the rule's format (none without retry_after)."""
        if self.retry_after is None:
            return {}
        headers = {}
        if self.retry_after_format in ("seconds", "both"):
            headers["Retry-After"] = str(math.ceil(self.retry_after))
        if self.retry_after_format == "date":
            headers["Retry-After"] = formatdate(now_epoch + self.retry_after, usegmt=True)
        if self.retry_after_format in ("ms", "both"):
            headers["retry-after-ms"] = str(math.ceil(self.retry_after * 1000))
        return headers

    def to_json(self) -> dict[str, Any]:
        """The rule as the admin API shows it."""
        return asdict(self)


def _opt_number(obj: Mapping[str, Any], key: str, errors: SchemaErrors) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        errors.add(("body", key), "Input should be a number >= 0", "float_type")
        return None
    return float(value)


def parse_rule(value: Any) -> FaultRule:
    """A rule from the admin API's JSON, or the 422/400 that says what is wrong with it."""
    loc: Loc = ("body",)
    if not isinstance(value, dict):
        raise schema_error(loc, "Input should be a valid object", "model_type")
    obj: Mapping[str, Any] = value
    errors = SchemaErrors()
    status = opt_int(obj, "status", loc, errors)
    count = opt_int(obj, "count", loc, errors)
    method = opt_str(obj, "method", loc, errors)
    rule = FaultRule(
        count=1 if count is None else count,
        status=status,
        retry_after=_opt_number(obj, "retry_after", errors),
        retry_after_format=opt_enum(obj, "retry_after_format", RETRY_AFTER_FORMATS, loc, errors)
        or "seconds",
        delay=_opt_number(obj, "delay", errors) or 0.0,
        path_prefix=opt_str(obj, "path_prefix", loc, errors) or "/v1/",
        method=method.upper() if method else None,
        drop=bool(opt_bool(obj, "drop", loc, errors)),
        body=opt_str(obj, "body", loc, errors),
        after=bool(opt_bool(obj, "after", loc, errors)),
    )
    errors.raise_if_any()
    if rule.count < 1:
        raise bad_request("count must be at least 1")
    if status is not None and not 200 <= status <= 599:
        raise bad_request("status must be an HTTP status between 200 and 599")
    if rule.body is not None and rule.status is None:
        rule.status = 200
    if not (rule.answers or rule.drop or rule.delay):
        raise bad_request("a fault needs at least one of status, body, drop or delay")
    if rule.after and (rule.answers or not (rule.drop or rule.delay)):
        raise bad_request(
            "after: true serves the request first, then delays or drops its answer: it takes "
            "delay and/or drop, and no status or body"
        )
    if not rule.path_prefix.startswith("/"):
        raise bad_request("path_prefix must start with '/'")
    return rule


class FaultQueue:
    """Rules in the order they were added; a request consumes one use of the first match."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Queue a rule after the existing ones."""
        self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule, with one use consumed (and removed when used up)."""
        for rule in self._rules:
            if rule.matches(method, path):
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def rules(self) -> list[dict[str, Any]]:
        """The queued rules with their remaining counts."""
        return [rule.to_json() for rule in self._rules]

    def clear(self) -> int:
        """Drop every rule; how many there were."""
        cleared = len(self._rules)
        self._rules.clear()
        return cleared
