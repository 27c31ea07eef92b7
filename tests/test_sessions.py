"""Session stores: expiry, bounded size, copies not shared references; the SQLite file shared by workers."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.sessions import MemoryStore
from bot.state import SqliteFile, SqliteSessionStore, StoreUnavailable

from .servers import faqbot_server


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_expires_after_ttl() -> None:
    clock = Clock()
    store = MemoryStore(ttl=60, clock=clock)
    store.put("a", {"intent": "x"})
    clock.now = 59.9
    assert store.get("a") == {"intent": "x"}
    clock.now = 60.0
    assert store.get("a") is None


def test_bounded_drops_oldest() -> None:
    store = MemoryStore(ttl=60, clock=Clock(), max_items=2)
    for key in "abc":
        store.put(key, {"k": key})
    assert store.get("a") is None and store.get("c") == {"k": "c"}


def test_returns_copies() -> None:
    store = MemoryStore(ttl=60, clock=Clock())
    state = {"facts": 1}
    store.put("a", state)
    state["facts"] = 2
    got = store.get("a")
    assert got == {"facts": 1}
    assert got is not None
    got["facts"] = 3
    assert store.get("a") == {"facts": 1}


def test_sqlite_sessions_are_shared_through_the_file_and_expire(tmp_path: Path) -> None:
    clock = Clock()
    worker_a = SqliteSessionStore(SqliteFile(tmp_path / "state.sqlite3", clock=clock), ttl=60)
    worker_b = SqliteSessionStore(SqliteFile(tmp_path / "state.sqlite3", clock=clock), ttl=60)
    worker_a.put("s1", {"intent": "renew-after-expiry", "ask": ["expiry"], "facts": {"d": {"date": "2024-01-16"}}})
    assert worker_b.get("s1") == {"intent": "renew-after-expiry", "ask": ["expiry"],
                                  "facts": {"d": {"date": "2024-01-16"}}}
    clock.now = 59.9
    assert worker_b.get("s1") is not None
    clock.now = 60.0
    assert worker_a.get("s1") is None and worker_b.get("s1") is None
    worker_b.put("s2", {"intent": "x"})
    worker_a.delete("s2")
    assert worker_b.get("s2") is None


def test_an_unwritable_state_file_is_a_store_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the folder should be")
    store = SqliteSessionStore(SqliteFile(tmp_path / "not-a-dir" / "state.sqlite3"), ttl=60)
    with pytest.raises(StoreUnavailable, match="not-a-dir"):
        store.put("s1", {"intent": "x"})


def test_a_follow_up_reaching_another_worker_continues_without_redis(tmp_path: Path) -> None:
    """Two server processes sharing only FAQBOT_STATE_FILE, as the workers of one host do."""
    env = {"FAQBOT_STATE_FILE": str(tmp_path / "state.sqlite3"), "REDIS_URL": "",
           "FAQBOT_FEEDBACK_FILE": str(tmp_path / "feedback.jsonl")}
    with faqbot_server(["--workers", "1"], env=env) as a, faqbot_server(["--workers", "1"], env=env) as b:
        first = _ask(a, {"text": "期限切れてしまったけど、まだ更新まにあう？", "today": "2025-05-15",
                         "session_id": "one-host-1"})
        assert first["rule"] == "renew-after-expiry-ask" and first["follow_up"]
        second = _ask(b, {"text": "2023年6月30日です", "today": "2025-05-15", "session_id": "one-host-1"})
        assert second["intent"] == "renew-after-expiry"
        assert second["computed"]["renewal_deadline"] == "2025-06-30"


def _ask(server: tuple[str, int], payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"http://{server[0]}:{server[1]}/api/ask",
                                     data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body
