"""Hot reload: the real gunicorn server keeps answering while knowledge is edited and reloaded, refuses broken
knowledge (from `faqbot reload` and from a SIGHUP sent by hand), and a reload reaches other hosts through Redis."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis

from bot import Bot, Settings, load_bot
from bot.reloader import KnowledgeReloader
from bot.state import StoreUnavailable
from bot.text import FugashiTokenizer

from .conftest import ROOT
from .redis_server import redis_server
from .servers import faqbot_server

QUESTION = {"text": "更新料金はいくらですか？", "today": "2025-05-15"}
ENTRY = "renewal-fee"


@pytest.fixture()
def knowledge(tmp_path: Path) -> dict[str, str]:
    """A private copy of faq/ and rules/, and the environment that points the server and the CLI at it."""
    shutil.copytree(ROOT / "faq", tmp_path / "faq")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return {"FAQBOT_FAQ_DIR": str(tmp_path / "faq"), "FAQBOT_RULES_DIR": str(tmp_path / "rules"),
            "FAQBOT_PID_FILE": str(tmp_path / "faqbot.pid")}


def _edit_answer(faq_dir: Path, entry: str, suffix: str) -> None:
    """Append `suffix` to the one-line answer of `entry` in whichever faq/*.yaml holds it."""
    for path in sorted(faq_dir.glob("*.yaml")):
        lines = path.read_text(encoding="utf-8").split("\n")
        starts = [n for n, line in enumerate(lines) if re.fullmatch(rf"\s*- id: {re.escape(entry)}\s*", line)]
        if not starts:
            continue
        n = next(n for n in range(starts[0] + 1, len(lines)) if re.match(r"\s+answer: ", lines[n]))
        assert not re.match(r"\s+answer: [|>]", lines[n]), "the test edits a one-line answer"
        lines[n] += suffix
        path.write_text("\n".join(lines), encoding="utf-8")
        return
    raise AssertionError(f"no entry {entry} in {faq_dir}")


def _break_rules(rules_dir: Path) -> str:
    """Misspell one operator in a rule file; returns the file's original text."""
    path = rules_dir / "virusbuster.yaml"
    original = path.read_text(encoding="utf-8")
    assert "op: on_or_before" in original
    path.write_text(original.replace("op: on_or_before", "op: on_or_befor", 1), encoding="utf-8")
    return original


def _ask(addr: tuple[str, int]) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection(*addr, timeout=30)
    try:
        conn.request("POST", "/api/ask", json.dumps(QUESTION).encode(), {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        return r.status, json.loads(body) if r.status == 200 else {"raw": body.decode(errors="replace")}
    finally:
        conn.close()


def _faqbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Load:
    """Asks one question over and over from a thread, each on a new connection, and keeps every outcome."""

    def __init__(self, addr: tuple[str, int]) -> None:
        self.addr = addr
        self.results: list[tuple[int, str, str]] = []  # (status, version, answer); status 0 = no response
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status, body = _ask(self.addr)
                self.results.append((status, body.get("version", ""), body.get("answer", json.dumps(body))))
            except (OSError, ValueError) as exc:
                self.results.append((0, "", repr(exc)))
            time.sleep(0.005)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def settled_on(self, version: str, count: int = 20) -> bool:
        """The last `count` answers all came from `version`."""
        tail = self.results[-count:]
        return len(tail) == count and all(v == version for _, v, _ in tail)

    def failures(self) -> list[tuple[int, str, str]]:
        return [r for r in self.results if r[0] != 200]


@pytest.fixture()
def server(knowledge: dict[str, str], tmp_path: Path) -> Iterator[tuple[tuple[str, int], Path]]:
    log = tmp_path / "server.log"
    with faqbot_server(["--workers", "2"], env=knowledge, log_path=log) as addr:
        yield addr, log


def test_reload_under_load(server: tuple[tuple[str, int], Path], knowledge: dict[str, str]) -> None:
    addr, log = server
    faq_dir, rules_dir = Path(knowledge["FAQBOT_FAQ_DIR"]), Path(knowledge["FAQBOT_RULES_DIR"])
    master = int(Path(knowledge["FAQBOT_PID_FILE"]).read_text())
    status, first = _ask(addr)
    assert status == 200 and first["intent"] == ENTRY
    v0 = first["version"]

    with Load(addr) as load:
        _wait_for(lambda: len(load.results) >= 10, "the load to start")

        # 1. a valid edit, announced by `faqbot reload`: live in every worker, no request lost
        _edit_answer(faq_dir, ENTRY, "（改訂1）")
        done = _faqbot(knowledge, "reload")
        assert done.returncode == 0, done.stderr
        v1 = re.search(r"version ([0-9a-f]{12})", done.stdout)
        assert v1 and v1[1] != v0 and f"pid {master}" in done.stdout
        v1 = v1[1]
        _wait_for(lambda: load.settled_on(v1), f"every answer to come from {v1}")
        assert all("（改訂1）" in answer for _, v, answer in load.results if v == v1)
        # both workers swapped it in (each logs its own reload), neither was restarted
        _wait_for(lambda: len(set(re.findall(rf"pid (\d+): knowledge reloaded \(SIGHUP\): version {v0} -> {v1}",
                                              log.read_text()))) == 2, "both workers to log the reload")

        # 2. a broken rule file: `faqbot reload` refuses it with file:line and leaves the server alone
        original_rules = _break_rules(rules_dir)
        refused = _faqbot(knowledge, "reload")
        assert refused.returncode == 1
        assert re.search(r"virusbuster\.yaml:\d+: .*unknown operator 'on_or_befor'", refused.stderr), refused.stderr
        assert "nothing was reloaded" in refused.stderr and "SIGHUP" not in refused.stdout

        # 3. the same broken file, SIGHUP sent by hand to the master: refused and logged, old version serving
        mark = len(load.results)
        os.kill(master, signal.SIGHUP)
        _wait_for(lambda: re.search(r"SIGHUP: knowledge refused.*\n?.*virusbuster\.yaml:\d+", log.read_text())
                  is not None, "the master to log the refusal")
        _wait_for(lambda: len(load.results) >= mark + 20, "more answers after the SIGHUP")
        assert {v for _, v, _ in load.results[mark:]} == {v1}
    assert load.failures() == [], load.failures()[:5]
    assert len(load.results) > 50

    # 4. a worker that dies while the files are broken is replaced by one that boots with the last valid version
    workers = [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", log.read_text())]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _wait_for(lambda: len(re.findall(r"Booting worker with pid", log.read_text())) == 3, "a new worker")
    _wait_for(lambda: f"starts with the last valid version {v1}" in log.read_text(), "the new worker's warning")
    answers = [_ask(addr) for _ in range(10)]
    assert [(s, b["version"]) for s, b in answers] == [(200, v1)] * 10

    # 5. the files fixed and edited again, SIGHUP by hand: the new version is live without a restart
    (rules_dir / "virusbuster.yaml").write_text(original_rules, encoding="utf-8")
    _edit_answer(faq_dir, ENTRY, "（改訂2）")
    os.kill(master, signal.SIGHUP)
    with Load(addr) as load:
        _wait_for(lambda: bool(load.results) and load.results[-1][1] not in ("", v1), "a new version")
        v2 = load.results[-1][1]
        _wait_for(lambda: load.settled_on(v2), f"every answer to come from {v2}")
    assert load.failures() == []
    assert v2 not in (v0, v1) and "（改訂2）" in load.results[-1][2]
    assert len(re.findall(r"Booting worker with pid", log.read_text())) == 3  # reloads restart nobody


def test_reload_reaches_every_host_through_redis(knowledge: dict[str, str], tmp_path: Path) -> None:
    faq_dir, rules_dir = Path(knowledge["FAQBOT_FAQ_DIR"]), Path(knowledge["FAQBOT_RULES_DIR"])
    with redis_server() as url:
        env = {**knowledge, "REDIS_URL": url}
        hosts = {k: v for k, v in env.items() if k != "FAQBOT_PID_FILE"}  # each server its own pid file
        with faqbot_server(["--workers", "1"], env=hosts) as a, faqbot_server(["--workers", "1"], env=hosts) as b:
            v0 = {_ask(a)[1]["version"], _ask(b)[1]["version"]}
            assert len(v0) == 1
            # no server behind FAQBOT_PID_FILE: only the generation in Redis tells them
            cli_env = {**env, "FAQBOT_PID_FILE": str(tmp_path / "no-server.pid")}
            _edit_answer(faq_dir, ENTRY, "（全ホスト）")
            done = _faqbot(cli_env, "reload")
            assert done.returncode == 0, done.stderr
            mark = re.search(r"knowledge generation ([0-9a-f]{12}) in Redis", done.stdout)
            assert mark and "SIGHUP" not in done.stdout, done.stdout
            v1 = re.search(r"version ([0-9a-f]{12})", done.stdout)
            assert v1 and v1[1] not in v0
            for host in (a, b):
                _wait_for(lambda host=host: _ask(host)[1]["version"] == v1[1], f"{host} to serve {v1[1]}")
                assert "（全ホスト）" in _ask(host)[1]["answer"]
            # broken knowledge is refused before Redis hears of it
            _break_rules(rules_dir)
            refused = _faqbot(cli_env, "reload")
            assert refused.returncode == 1 and "generation" not in refused.stdout
            assert redis.Redis.from_url(url).get("faqbot:knowledge:generation") == mark[1].encode()
            assert {_ask(a)[1]["version"], _ask(b)[1]["version"]} == {v1[1]}


def test_reload_with_no_server_to_tell_fails(knowledge: dict[str, str]) -> None:
    done = _faqbot(knowledge, "reload")
    assert done.returncode == 1 and "no running server" in done.stderr


# --- the reloader in one process --------------------------------------------------------------------------


class FakeGeneration:
    def __init__(self) -> None:
        self.value = ""
        self.reads = 0
        self.down = False

    def current(self) -> str:
        self.reads += 1
        if self.down:
            raise StoreUnavailable("read knowledge generation: Redis did not answer")
        return self.value

    def bump(self) -> str:
        self.value = f"g{self.reads}"
        return self.value


def test_reloader_keeps_the_old_version_on_broken_files_and_swaps_valid_ones(
        knowledge: dict[str, str], tokenizer: FugashiTokenizer, caplog: pytest.LogCaptureFixture) -> None:
    faq_dir, rules_dir = Path(knowledge["FAQBOT_FAQ_DIR"]), Path(knowledge["FAQBOT_RULES_DIR"])
    bot: Bot = load_bot(Settings(faq_dir=faq_dir, rules_dir=rules_dir), tokenizer=tokenizer)
    reloader = KnowledgeReloader(bot)
    v0 = bot.version
    assert reloader.reload_now("test") and bot.version == v0  # unchanged files: nothing swapped
    original = _break_rules(rules_dir)
    assert not reloader.reload_now("test") and bot.version == v0
    assert re.search(r"refused, still serving version .*virusbuster\.yaml:\d+", caplog.text, re.S)
    (rules_dir / "virusbuster.yaml").write_text(original, encoding="utf-8")
    _edit_answer(faq_dir, ENTRY, "（改訂）")
    assert reloader.reload_now("test") and bot.version != v0
    answer = bot.ask(QUESTION["text"], today=date(2025, 5, 15))
    assert answer.version == bot.version and "（改訂）" in answer.answer


def test_generation_is_read_at_most_once_per_interval(bot: Bot) -> None:
    now = [100.0]
    generation = FakeGeneration()
    reloader = KnowledgeReloader(bot, generation, interval=1.0, clock=lambda: now[0], spawn=lambda poll: poll())
    asked: list[str] = []
    reloader.request = asked.append  # type: ignore[method-assign]
    reads = generation.reads
    for _ in range(50):
        reloader.check()
    assert generation.reads == reads + 1 and asked == []
    mark = generation.bump()
    reloader.check()
    assert asked == []  # still inside the interval
    now[0] += 1.0
    reloader.check()
    assert asked == [f"knowledge generation {mark}"]


def test_a_failing_generation_read_is_asked_less_often(bot: Bot) -> None:
    now = [100.0]
    generation = FakeGeneration()
    reloader = KnowledgeReloader(bot, generation, interval=1.0, clock=lambda: now[0], spawn=lambda poll: poll())
    generation.down = True
    reads, gaps = generation.reads, []
    for _ in range(600):  # ten minutes of a request every second
        before = generation.reads
        reloader.check()
        if generation.reads > before:
            gaps.append(now[0])
        now[0] += 1.0
    waits = [b - a for a, b in zip(gaps, gaps[1:], strict=False)]
    assert waits[:4] == [2.0, 4.0, 8.0, 16.0] and set(waits[5:]) == {30.0}, waits
    assert generation.reads - reads == len(gaps) < 30
    generation.down = False
    now[0] += 30.0
    reloader.check()
    reloader.check()
    assert reloader._next_check == now[0] + 1.0  # back to once a second


def test_a_read_failing_unforeseen_is_still_asked_once_per_interval(bot: Bot) -> None:
    class Broken(FakeGeneration):
        def current(self) -> str:
            if self.reads:
                self.reads += 1
                raise RuntimeError("a bug in the read")  # the thread dies with it; the throttle must hold
            return super().current()

    def run_in_a_dying_thread(poll: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):
            poll()

    now = [100.0]
    generation = Broken()
    reloader = KnowledgeReloader(bot, generation, interval=1.0, clock=lambda: now[0], spawn=run_in_a_dying_thread)
    for _ in range(50):
        reloader.check()
    assert generation.reads == 2  # the worker's own read at start, and one in this interval


def test_no_request_waits_for_a_generation_read(bot: Bot) -> None:
    # a Redis that hangs made every request (/healthz too) wait its timeouts, 3 to 4 s each
    release = threading.Event()

    calls: list[float] = []

    class Hanging(FakeGeneration):
        def current(self) -> str:
            calls.append(time.monotonic())
            if len(calls) > 1:  # the first read is the worker's own, as it starts
                release.wait(10)
            return super().current()

    reloader = KnowledgeReloader(bot, Hanging(), interval=0.0)
    started = time.monotonic()
    for _ in range(20):
        reloader.check()
    waited = time.monotonic() - started
    release.set()
    assert waited < 1.0 and len(calls) == 2, (waited, calls)  # the one read in flight is not asked again


def _app(knowledge: dict[str, str], tmp_path: Path) -> Any:
    from bot.knowledge import load_knowledge
    from bot.web.server import _App

    settings = Settings(faq_dir=Path(knowledge["FAQBOT_FAQ_DIR"]), rules_dir=Path(knowledge["FAQBOT_RULES_DIR"]),
                        state_file=tmp_path / "state.sqlite3", feedback_file=tmp_path / "feedback.jsonl",
                        rate_limit="off")
    return _App({"bind": "127.0.0.1:0"}, settings, load_knowledge(settings.faq_dir, settings.rules_dir,
                                                                   run_examples=True))


def test_workers_start_with_the_masters_bot_while_the_files_are_unchanged(knowledge: dict[str, str],
                                                                         tmp_path: Path) -> None:
    app = _app(knowledge, tmp_path)
    assert app.load().extensions["faqbot"] is app.bot  # a worker forked from the master: nothing loaded again
    _edit_answer(Path(knowledge["FAQBOT_FAQ_DIR"]), ENTRY, "（改訂）")
    bot = app.load().extensions["faqbot"]  # a worker started after an edit reads the files
    assert bot is not app.bot and bot.knowledge.version != app.bot.knowledge.version
    assert "（改訂）" in next(e.answer for e in bot.knowledge.entries if e.id == ENTRY)

