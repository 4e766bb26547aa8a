"""Test helpers for code that uses the upstream client: a scripted upstream (and, from
tests.helpers.clock, the manual clock `FakeTime`).

`Script` is a handler for `httpx.MockTransport` (the one place the project allows a fake
upstream: narrow unit tests of the client's policy); everything else tests against the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.helpers.clock import FakeTime

__all__ = ["Answer", "FakeTime", "Script", "reply"]

Answer = httpx.Response | Exception


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
