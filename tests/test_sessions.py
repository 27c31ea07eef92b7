"""Session store: expiry, bounded size, copies not shared references."""

from __future__ import annotations

from bot.sessions import MemoryStore


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
