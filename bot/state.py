"""State shared by every channel: conversations, Slack de-duplication, feedback.

Without REDIS_URL, conversations and de-duplication live in a SQLite file that the workers of one
host share (a follow-up may reach any worker), and feedback in a JSON Lines file. With REDIS_URL the
same interfaces live in Redis so several hosts share them too (see `state_from_settings`). Every Redis
key starts with `faqbot:`.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .config import Settings
from .errors import StoreUnavailable as StoreUnavailable  # re-exported: the web layer and the CLI catch it from here
from .sessions import SessionStore

PREFIX = "faqbot:"
GENERATION_KEY = PREFIX + "knowledge:generation"


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


class SqliteFile:
    """One SQLite file shared by the worker processes of one host (WAL, one connection per process)."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, expires REAL NOT NULL, state TEXT NOT NULL)",
    )

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, sweep_every: int = 1000) -> None:
        self._path = path
        self._clock = clock
        self._sweep_every = sweep_every
        self._calls = 0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def run(self, what: str, sql: str, args: tuple[Any, ...], *, sweep: str | None = None
            ) -> tuple[list[Any], int]:
        """One statement under the lock → (its rows, its row count); expired rows of `sweep` go now and then.

        The rows are fetched before the lock is released: a half-read SELECT keeps its read transaction
        open, and a write from another thread on the same connection then fails at once with
        "database is locked" instead of waiting.
        """
        with self._lock:
            try:
                conn = self._connection()
                cursor = conn.execute(sql, args)
                rows, count = cursor.fetchall(), cursor.rowcount
                self._calls += 1
                if sweep and self._calls % self._sweep_every == 0:
                    conn.execute(f"DELETE FROM {sweep} WHERE expires <= ?", (self._clock(),))
                return rows, count
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"state file {self._path} ({what}): {exc}") from exc

    def now(self) -> float:
        return self._clock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # connections must not cross a fork
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, timeout=2.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # no fsync per commit (WAL still keeps the file consistent, and a crashed worker loses nothing): a
            # power cut may forget the last conversations and de-duplication keys, state that lives 30-60 minutes
            # anyway. With fsync, each follow-up question's session write took ~260 µs (100 µs of CPU), 10 times
            # as long, holding the lock every thread of the worker waits on.
            conn.execute("PRAGMA synchronous=NORMAL")
            # rows are read by key, one at a time: a small page cache does, and it keeps a worker's memory flat
            # while the file grows (SQLite's default cache, 2 MiB a connection, filled up under the load test)
            conn.execute("PRAGMA cache_size=-256")
            for statement in self._SCHEMA:
                conn.execute(statement)
            self._conn, self._pid = conn, os.getpid()
        return self._conn


class SqliteDedupe:
    """De-duplication shared by the workers of one host.

    One upsert decides atomically: it inserts a new key, or takes over an expired one, and otherwise
    changes nothing, so two workers never both see a key first.
    """

    def __init__(self, db: SqliteFile) -> None:
        self._db = db

    def first(self, key: str, ttl: float) -> bool:
        now = self._db.now()
        changed = self._db.run(
            "de-duplication",
            "INSERT INTO seen (key, expires) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE seen.expires <= ?",
            (key, now + ttl, now), sweep="seen")[1]
        return bool(changed == 1)


class SqliteSessionStore:
    """Conversations shared by the workers of one host, each kept `ttl` seconds after its last write."""

    def __init__(self, db: SqliteFile, ttl: float) -> None:
        self._db = db
        self._ttl = ttl

    def get(self, session_id: str) -> dict[str, Any] | None:
        rows, _ = self._db.run("session read", "SELECT state FROM sessions WHERE id = ? AND expires > ?",
                               (session_id, self._db.now()))
        if not rows:
            return None
        try:
            state = json.loads(rows[0][0])
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def put(self, session_id: str, state: dict[str, Any]) -> None:
        self._db.run("session write", "INSERT OR REPLACE INTO sessions (id, expires, state) VALUES (?, ?, ?)",
                     (session_id, self._db.now() + self._ttl, json.dumps(state, ensure_ascii=False)),
                     sweep="sessions")

    def delete(self, session_id: str) -> None:
        self._db.run("session delete", "DELETE FROM sessions WHERE id = ?", (session_id,))


def sqlite_stores(path: Path, session_ttl: float) -> tuple[SqliteSessionStore, SqliteDedupe]:
    """The host-local session store and de-duplication, sharing one file."""
    db = SqliteFile(path)
    return SqliteSessionStore(db, session_ttl), SqliteDedupe(db)


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


class Generation(Protocol):
    """A mark of the latest knowledge release shared by every host: `faqbot reload` sets a new one, workers
    watch for a change ("" before the first)."""

    def current(self) -> str: ...

    def bump(self) -> str: ...


def redis_client(url: str) -> redis.Redis:
    """One client (a thread-safe connection pool) with short timeouts and a single immediate retry.

    redis-py's default retries three times with backoff of up to ten seconds; a request waiting that long for a
    store that is down is worse than a prompt 503.
    """
    return redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=1.0,
        retry=Retry(NoBackoff(), 1), health_check_interval=30,
    )


class _RedisStore:
    """Translates redis-py's errors into StoreUnavailable, naming what was being done."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def _call(self, what: str, fn: Callable[[redis.Redis], Any]) -> Any:
        try:
            return fn(self._client)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unavailable ({what}): {exc}") from exc


class RedisSessionStore(_RedisStore):
    """Sessions as JSON values under faqbot:session:<id>, expiring `ttl` seconds after the last write."""

    def __init__(self, client: redis.Redis, ttl: float) -> None:
        super().__init__(client)
        self._ttl_ms = max(1, int(ttl * 1000))

    def get(self, session_id: str) -> dict[str, Any] | None:
        raw = self._call("read session", lambda r: r.get(PREFIX + "session:" + session_id))
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None  # not ours or torn: treat as no conversation rather than fail the request
        return value if isinstance(value, dict) else None

    def put(self, session_id: str, state: dict[str, Any]) -> None:
        data = json.dumps(state, ensure_ascii=False)
        self._call("write session", lambda r: r.set(PREFIX + "session:" + session_id, data, px=self._ttl_ms))

    def delete(self, session_id: str) -> None:
        self._call("delete session", lambda r: r.delete(PREFIX + "session:" + session_id))


class RedisDedupe(_RedisStore):
    """`SET faqbot:dedupe:<key> 1 NX PX ttl`: atomic, so two workers never both see a key first."""

    def first(self, key: str, ttl: float) -> bool:
        ms = max(1, int(ttl * 1000))
        return bool(self._call("de-duplicate", lambda r: r.set(PREFIX + "dedupe:" + key, 1, nx=True, px=ms)))


class RedisFeedbackStore(_RedisStore):
    """Feedback in a capped list (newest first): LPUSH then LTRIM to the newest `keep` records, in one MULTI."""

    KEY = PREFIX + "feedback"

    def __init__(self, client: redis.Redis, *, keep: int = 10_000) -> None:
        super().__init__(client)
        self._keep = keep

    def add(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)

        def push(r: redis.Redis) -> None:
            with r.pipeline(transaction=True) as pipe:
                pipe.lpush(self.KEY, line)
                pipe.ltrim(self.KEY, 0, self._keep - 1)
                pipe.execute()

        self._call("store feedback", push)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        raw: list[str] = self._call("read feedback", lambda r: r.lrange(self.KEY, 0, min(limit, self._keep) - 1))
        out = []
        for line in raw:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out


class RedisGeneration(_RedisStore):
    """The knowledge generation in faqbot:knowledge:generation: a fresh random mark set by `faqbot reload`.

    Not a counter: a Redis that lost its data (restarted without persistence, flushed, failed over) would count
    again from 1, a number the workers have already seen, and the next reload would reach nobody.
    """

    def current(self) -> str:
        return str(self._call("read knowledge generation", lambda r: r.get(GENERATION_KEY)) or "")

    def bump(self) -> str:
        mark = secrets.token_hex(6)
        self._call("bump knowledge generation", lambda r: r.set(GENERATION_KEY, mark))
        return mark


@dataclass(frozen=True)
class State:
    """The stores one app uses, where Flask-Limiter keeps its counters, and the shared knowledge generation."""

    sessions: SessionStore
    dedupe: Dedupe
    feedback: FeedbackStore
    limiter_storage: str = "memory://"
    generation: Generation | None = None  # None: one host, reloads arrive by SIGHUP only


def state_from_settings(settings: Settings) -> State:
    """Host-local stores (a SQLite file, feedback in a JSON Lines file); Redis ones when settings.redis_url is set."""
    if settings.redis_url:
        client = redis_client(settings.redis_url)
        return State(
            sessions=RedisSessionStore(client, settings.session_ttl),
            dedupe=RedisDedupe(client),
            feedback=RedisFeedbackStore(client),
            limiter_storage=settings.redis_url,
            generation=RedisGeneration(client),
        )
    sessions, dedupe = sqlite_stores(settings.state_file, settings.session_ttl)
    return State(sessions=sessions, dedupe=dedupe, feedback=FileFeedbackStore(settings.feedback_file))
