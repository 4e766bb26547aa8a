"""Test helpers for code that uses the upstream client: a manual clock and a scripted upstream.

`Script` is a handler for `httpx.MockTransport` (the one place the project allows a fake
upstream: narrow unit tests of the client's policy); everything else tests against the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

Answer = httpx.Response | Exception


class FakeTime:
    """A monotonic clock and a wall clock that move only when the code under test sleeps."""

    def __init__(self, now: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.now = now
        self.wall = wall
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """Monotonic seconds (what deadlines are measured on)."""
        return self.now

    def wall_clock(self) -> float:
        """Epoch seconds (what an HTTP-date Retry-After is measured from)."""
        return self.wall

    def advance(self, seconds: float) -> None:
        """Let time pass, as a slow upstream would."""
        self.now += seconds
        self.wall += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait and let that much time pass, instantly."""
        self.sleeps.append(seconds)
        self.advance(seconds)


def reply(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None) -> Answer:
    """A response with a JSON body (or raw text when `body` is a str)."""
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, content=json.dumps(body or {}).encode(), headers=headers)


class Script:
    """Answers requests in order from its answers (the last one repeats) and records them.

    An answer that is an exception is raised, as the transport would raise it.
    """

    def __init__(self, *answers: Answer) -> None:
        if not answers:
            raise ValueError("Script needs at least one answer")
        self._answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def transport(self) -> httpx.MockTransport:
        """A MockTransport answering with this script."""
        return httpx.MockTransport(self)

    def timeouts(self) -> list[dict[str, float]]:
        """The httpx timeouts each request was sent with."""
        return [dict(request.extensions["timeout"]) for request in self.requests]
