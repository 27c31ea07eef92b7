"""Conversation state between turns: in memory by default, behind a small interface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class SessionStore(Protocol):
    """Keeps a JSON-able mapping per session id for `ttl` seconds after its last write."""

    def get(self, session_id: str) -> dict[str, Any] | None: ...

    def put(self, session_id: str, state: dict[str, Any]) -> None: ...

    def delete(self, session_id: str) -> None: ...


class MemoryStore:
    """Per-process store with expiry; fine for one worker, replaced by Redis for several."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic, max_items: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_items
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(session_id)
            if item is None:
                return None
            if item[0] <= self._clock():
                del self._items[session_id]
                return None
            return dict(item[1])

    def put(self, session_id: str, state: dict[str, Any]) -> None:
        with self._lock:
            now = self._clock()
            if len(self._items) >= self._max:
                # drop expired first, then the oldest, so memory stays bounded under floods of new ids
                for key in [k for k, (exp, _) in self._items.items() if exp <= now]:
                    del self._items[key]
                while len(self._items) >= self._max:
                    del self._items[next(iter(self._items))]
            self._items.pop(session_id, None)
            self._items[session_id] = (now + self._ttl, dict(state))

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)
