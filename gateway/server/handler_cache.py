"""Wrapped method handlers made once per method, not once per call.

The server hands an interceptor the same handler object for a method on every call (the
generated code builds them once), so what an interceptor makes of it can be made once too:
`HandlerCache.get` rebuilds only when the handler it is given is a different object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class HandlerCache:
    """What `make(handler)` returned, by method, for the handler it was made from."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, Any]] = {}

    def get(self, method: str, handler: Any, make: Callable[[Any], Any]) -> Any:
        """`make(handler)`, made once per (method, handler object)."""
        made = self._made.get(method)
        if made is None or made[0] is not handler:
            made = self._made[method] = (handler, make(handler))
        return made[1]
