"""The bounded load test: 64 connections for 30 s on POST /api/ask through the real gunicorn server.

wrk (Debian package `wrk`) loads `faqbot serve` from a second process with a mix of everyday questions,
questions holding dates, questions the bot does not know and follow-ups continuing a session. Every
response must be 2xx with no socket error, and no worker may grow: each worker's RSS is read after a
warm-up that has sent every question, and again after the 30 s. A worker that has seen every question has
touched every page it needs (the MeCab dictionary pages, the index, the caches), so what it adds after
that is a leak. The tolerance, 4 MiB per worker, leaves room for the allocator's arenas and SQLite's page
cache of the shared session store (2 MiB at most by default); growth measured here was 0.1-0.25 MiB. Each
worker answers about 10,000 requests in the 30 s, so keeping even 400 bytes per request fails the test.
Long by design (about 40 s); it asserts no timing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchmarks.loadgen import WRK_PACKAGE, children, memory_kib, run_wrk
from tests.servers import faqbot_server

CONNECTIONS = 64
SECONDS = 30
WARM_UP_SECONDS = 5
GROWTH_KIB = 4 * 1024

TODAY = "2025-05-15"
BODIES: list[dict[str, object]] = [
    {"text": "ウイルスバスターの契約を更新したいんですが、どうすればいいですか", "today": TODAY},
    {"text": "あんしん自動更新を解約したい", "today": TODAY, "session_id": "@SID@"},
    {"text": "課金日は7月1日です", "today": TODAY, "session_id": "@SID@"},  # the follow-up of the one before
    {"text": "2023年6月30日に期限が切れたけど、まだ更新できる？", "today": TODAY},
    {"text": "ノートンの更新料金を教えて", "today": TODAY},  # another company's product: out of scope
    {"text": "領収書を発行してほしい"},  # no today: the server's own date
    {"text": "有効期限が2025年3月31日なんですが、今月中に更新しても大丈夫ですか", "today": TODAY},
    {"text": "明日の天気を教えて", "today": TODAY},  # out of scope
    {"text": "Adobe VIP で 2024年8月31日に初回注文しました。契約応当日はいつですか", "today": TODAY},
    {"text": "有効期限を確認したい", "today": TODAY, "session_id": "@SID@"},
]


def _workers() -> dict[int, int]:
    """RSS (KiB) of each gunicorn worker of the server this test started (its master is our child)."""
    masters = [pid for pid in children(os.getpid()) if b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(masters) == 1, f"expected one faqbot serve process, found {masters}"
    return {pid: memory_kib(pid)["rss"] for pid in children(masters[0])}


def test_64_connections_for_30_seconds_give_no_error_and_no_memory_growth() -> None:
    if shutil.which("wrk") is None:
        pytest.fail(f"the load test needs wrk: apt-get install {WRK_PACKAGE} (or `make sysdeps`)")
    with faqbot_server(env={"FAQBOT_RATE_LIMIT": "off"}) as (host, port):
        url = f"http://{host}:{port}/api/ask"
        # two warm-up runs: a gthread worker keeps the connections it accepted, so one run can leave a worker
        # lightly used, and its first busy seconds in the measured run would read as growth
        warm_runs = [run_wrk(url, BODIES, connections=CONNECTIONS, seconds=WARM_UP_SECONDS) for _ in range(2)]
        before = _workers()
        run = run_wrk(url, BODIES, connections=CONNECTIONS, seconds=SECONDS)
        after = _workers()

    for warm in warm_runs:
        assert warm.socket_errors == 0 and warm.non2xx == 0, f"errors while warming up: {warm}"
    assert run.requests > 0, f"wrk completed no request: {run}"
    assert run.socket_errors == 0, f"{run.socket_errors} socket errors (connect/read/write/timeout): {run}"
    assert run.non2xx == 0, f"{run.non2xx} of {run.requests} responses were not 2xx: {run}"
    assert before, "no gunicorn worker found"
    assert after.keys() == before.keys(), f"workers were replaced under load: {sorted(before)} → {sorted(after)}"
    growth = {pid: after[pid] - before[pid] for pid in before}
    assert max(growth.values()) < GROWTH_KIB, (
        f"worker RSS grew by {growth} KiB over {run.requests} requests (before {before}, after {after})"
    )
