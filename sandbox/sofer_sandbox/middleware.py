"""The sandbox's outer layer for /v1 requests: counting, injected faults, then the rate limit."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Sequence

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sofer_sandbox.auth import bearer_token
from sofer_sandbox.faults import FaultRule
from sofer_sandbox.ratelimit import retry_after_headers
from sofer_sandbox.runtime import Runtime

HEALTH_PATH = "/v1/health/"
# How long a dropped request waits for the server to notice its closed connection.
_DROP_WAIT_SECONDS = 5.0


class PathTemplates:
    """Maps a request path to the spec's path template ("/v1/.../{batch_id}/status")."""

    def __init__(self, templates: Sequence[tuple[str, str]]) -> None:
        self._patterns = [
            (method, template, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"))
            for method, template in templates
        ]

    def template(self, method: str, path: str) -> str:
        """The template of the first route that matches (by method first), else the raw path."""
        for wanted in (method, None):
            for route_method, template, pattern in self._patterns:
                if (wanted is None or route_method == wanted) and pattern.match(path):
                    return template
        return path


class SandboxMiddleware:
    """Counts each /v1 request, applies the first matching fault rule, then the rate limit."""

    def __init__(self, app: ASGIApp, runtime: Runtime, templates: PathTemplates) -> None:
        self.app = app
        self.runtime = runtime
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        self.runtime.stats.count(method, self.templates.template(method, path))
        with self.runtime.stats.serving():
            await self._serve(method, path, scope, receive, send)

    async def _serve(
        self, method: str, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        fault = self.runtime.faults.take(method, path)
        if fault is not None and fault.after:
            await self._act_then_misbehave(fault, scope, receive, send)
            return
        if fault is not None:
            if fault.delay:
                await self.runtime.delay(fault.delay)
            if fault.drop:
                await self._drop(scope, receive, send)
                return
            if fault.answers:
                await _fault_response(fault)(scope, receive, send)
                return
        limited = self._rate_limited(scope, path)
        if limited is not None:
            await limited(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _act_then_misbehave(
        self, fault: FaultRule, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Serve the request in full (its effects happen), hold its answer back, then delay it
        or drop the connection instead of sending it."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault.delay:
            await self.runtime.delay(fault.delay)
        if fault.drop:
            await self._drop(scope, receive, send)
            return
        for message in held:
            await send(message)

    def _rate_limited(self, scope: Scope, path: str) -> Response | None:
        limiter = self.runtime.limiter
        token = bearer_token(scope["headers"])
        if limiter is None or token is None or path == HEALTH_PATH:
            return None
        wait = limiter.check(hashlib.sha256(token.encode()).hexdigest())
        if wait is None:
            return None
        headers = retry_after_headers(wait)
        return JSONResponse(
            {"detail": f"Rate limit exceeded; retry after {headers['Retry-After']} s"},
            status_code=429,
            headers=headers,
        )

    async def _drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        dropper = self.runtime.dropper
        if dropper is not None and dropper(scope):
            # Return only once the server has seen the connection go, so it logs nothing.
            async with asyncio.timeout(_DROP_WAIT_SECONDS):
                while (await receive())["type"] != "http.disconnect":
                    pass
            return
        # No handle on the connection (the app runs under another server): start an answer
        # and abandon it, which makes any ASGI server close the connection mid-response.
        await send({"type": "http.response.start", "status": 200, "headers": []})


def _fault_response(rule: FaultRule) -> Response:
    status = rule.status if rule.status is not None else 200
    headers = rule.retry_headers(time.time())
    if rule.body is not None:
        return Response(
            rule.body, status_code=status, headers=headers, media_type="application/json"
        )
    return JSONResponse(
        {"detail": f"sandbox fault: injected HTTP {status}"}, status_code=status, headers=headers
    )
