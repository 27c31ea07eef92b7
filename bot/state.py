"""State shared by every channel: conversations, Slack de-duplication, feedback.

In-process defaults here; with REDIS_URL set the same interfaces live in Redis so several
workers and hosts share them (see `state_from_settings`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .config import Settings
from .sessions import MemoryStore, SessionStore


class Dedupe(Protocol):
    """Remembers keys for a while: `first(key)` is True only the first time a key is seen."""

    def first(self, key: str, ttl: float) -> bool: ...


class FeedbackStore(Protocol):
    """Keeps 👍/👎 records (JSON-able mappings) and returns the newest."""

    def add(self, record: dict[str, Any]) -> None: ...

    def recent(self, limit: int) -> list[dict[str, Any]]: ...


class MemoryDedupe:
    """Per-process de-duplication with expiry, bounded in size."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_items: int = 100_000) -> None:
        self._clock = clock
        self._max = max_items
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first(self, key: str, ttl: float) -> bool:
        with self._lock:
            now = self._clock()
            expires = self._seen.get(key)
            if expires is not None and expires > now:
                return False
            if len(self._seen) >= self._max:
                for old in [k for k, exp in self._seen.items() if exp <= now]:
                    del self._seen[old]
                while len(self._seen) >= self._max:
                    del self._seen[next(iter(self._seen))]
            self._seen.pop(key, None)
            self._seen[key] = now + ttl
            return True


class FileFeedbackStore:
    """Feedback appended to a JSON Lines file (one record a line), so it survives restarts."""

    def __init__(self, path: Path, *, keep: int = 1000) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._keep = keep

    def add(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as out:
                out.write(line)  # one write of one line: appends from several processes do not interleave

    def recent(self, limit: int) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        newest: deque[dict[str, Any]] = deque(maxlen=min(limit, self._keep))
        with self._lock, self._path.open(encoding="utf-8") as src:
            for line in src:
                try:
                    newest.append(json.loads(line))
                except ValueError:
                    continue  # a torn last line after a crash is skipped, not fatal
        return list(reversed(newest))


@dataclass(frozen=True)
class State:
    """The stores one app uses, and where Flask-Limiter keeps its counters."""

    sessions: SessionStore
    dedupe: Dedupe
    feedback: FeedbackStore
    limiter_storage: str = "memory://"


def state_from_settings(settings: Settings) -> State:
    """In-process stores (feedback in a file); Redis-backed ones when settings.redis_url is set."""
    return State(
        sessions=MemoryStore(settings.session_ttl),
        dedupe=MemoryDedupe(),
        feedback=FileFeedbackStore(settings.feedback_file),
    )
