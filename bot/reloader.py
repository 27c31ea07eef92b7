"""Knowledge reloads in a serving process: validate faq/ and rules/, swap them in, never stop answering.

A reload runs in a background thread; requests keep getting the old snapshot until `Bot.reload` swaps the new
one in with one reference assignment. Invalid knowledge is refused with every problem logged (file:line), and
the old version goes on serving. Reloads are asked for by SIGHUP (see web/server.py) or, across hosts, by the
knowledge generation in Redis, which `check` has read at most once per interval, in the background: a request
never waits for Redis on its behalf, and a Redis that fails is asked less and less often (up to every 30 s).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from .core import Bot
from .errors import ConfigError
from .knowledge import load_knowledge
from .state import Generation, StoreUnavailable

log = logging.getLogger("bot.reload")


class KnowledgeReloader:
    """Reloads one Bot's knowledge when asked, one reload at a time."""

    def __init__(self, bot: Bot, generation: Generation | None = None, *, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 spawn: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._bot = bot
        self._generation = generation
        self._interval = interval
        self._clock = clock
        self._spawn = spawn or _in_thread
        self._lock = threading.Lock()
        self._running = False
        self._again: str | None = None
        self._next_check = 0.0
        self._polling = False
        self._failures = 0
        self._seen: str | None = None
        self._store_down = False
        if generation is not None:
            try:
                self._seen = generation.current()  # this process just loaded what that generation announced
            except StoreUnavailable:
                self._seen = None  # learnt at the first check that reaches Redis

    def request(self, reason: str) -> None:
        """Start a reload in the background (or one more after the running one) and return at once."""
        with self._lock:
            if self._running:
                self._again = reason  # files may have changed after the running reload read them
                return
            self._running = True
        threading.Thread(target=self._run, args=(reason,), name="faqbot-reload", daemon=True).start()

    def _run(self, reason: str) -> None:
        while True:
            try:
                self.reload_now(reason)
            finally:
                with self._lock:
                    again, self._again = self._again, None
                    if again is None:
                        self._running = False
            if again is None:
                return
            reason = again

    def reload_now(self, reason: str) -> bool:
        """Validate faq/ and rules/ (running every rule example) and swap them in if they changed.

        Returns False, logging every problem, when they are invalid; the old knowledge then goes on serving.
        """
        old = self._bot.version
        settings = self._bot.settings
        try:
            knowledge = load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
        except ConfigError as exc:
            log.error("pid %d: knowledge reload (%s) refused, still serving version %s: %s",
                      os.getpid(), reason, old, exc, extra={"version": old})
            return False
        except Exception:  # an unreadable file, a bug: the reload fails, serving must not
            log.exception("pid %d: knowledge reload (%s) failed, still serving version %s", os.getpid(), reason, old,
                          extra={"version": old})
            return False
        if knowledge.version == old:
            log.info("pid %d: knowledge reload (%s): version %s unchanged", os.getpid(), reason, old,
                     extra={"version": old})
            return True
        self._bot.reload(knowledge)
        log.info("pid %d: knowledge reloaded (%s): version %s -> %s", os.getpid(), reason, old, knowledge.version,
                 extra={"version": knowledge.version, "old_version": old})
        return True

    def check(self) -> None:
        """Before a request: have the shared generation read (at most once per interval, one read at a time,
        off the request's thread); reload when it moved. Returns at once, whatever Redis does.
        """
        if self._generation is None or self._clock() < self._next_check:
            return
        with self._lock:
            if self._polling:
                return
            self._polling = True
        # throttled here, before the read: a read that fails in a way nobody foresaw still waits its interval
        self._next_check = self._clock() + self._interval
        self._spawn(self._poll)

    def _poll(self) -> None:
        assert self._generation is not None
        try:
            current = self._generation.current()
        except StoreUnavailable as exc:
            # a Redis that hangs takes its timeouts each time: ask it less often, up to every 30 s
            self._failures += 1
            self._next_check = self._clock() + min(30.0, self._interval * 2 ** self._failures)
            if not self._store_down:
                self._store_down = True
                log.warning("pid %d: cannot read the knowledge generation: %s", os.getpid(), exc)
            return
        else:
            self._failures = 0
        finally:
            with self._lock:
                self._polling = False
        if self._store_down:
            self._store_down = False
            log.info("pid %d: the knowledge generation is readable again", os.getpid())
        if current != self._seen:
            first = self._seen is None
            self._seen = current
            self.request("first generation seen" if first else f"knowledge generation {current}")


def _in_thread(poll: Callable[[], None]) -> None:
    threading.Thread(target=poll, name="faqbot-generation", daemon=True).start()
