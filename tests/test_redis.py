"""Shared state on a real redis-server: stores, two app processes sharing a conversation and a rate limit,
Slack keys, and what a request sees when Redis goes away."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import redis
from flask import Flask, jsonify
from flask.testing import FlaskClient
from slack_sdk.signature import SignatureVerifier

from bot import Bot, Settings
from bot.state import (
    FileFeedbackStore,
    RedisDedupe,
    RedisFeedbackStore,
    RedisGeneration,
    RedisSessionStore,
    SqliteDedupe,
    SqliteSessionStore,
    StoreUnavailable,
    redis_client,
    state_from_settings,
)
from bot.web import create_app
from bot.web.limits import init_limits

from .redis_server import redis_server
from .servers import faqbot_server

TODAY = "2025-05-15"


# --- the stores -------------------------------------------------------------------------------------------


def test_state_from_settings_picks_redis_only_with_a_url(redis_url: str) -> None:
    shared = state_from_settings(Settings(redis_url=redis_url))
    assert isinstance(shared.sessions, RedisSessionStore)
    assert isinstance(shared.dedupe, RedisDedupe)
    assert isinstance(shared.feedback, RedisFeedbackStore)
    assert isinstance(shared.generation, RedisGeneration)
    assert shared.limiter_storage == redis_url
    local = state_from_settings(Settings())
    assert isinstance(local.sessions, SqliteSessionStore) and isinstance(local.dedupe, SqliteDedupe)
    assert isinstance(local.feedback, FileFeedbackStore)
    assert local.generation is None and local.limiter_storage == "memory://"


def test_sessions_are_json_with_a_ttl_and_shared_between_stores(redis_url: str) -> None:
    one = RedisSessionStore(redis_client(redis_url), ttl=90)
    two = RedisSessionStore(redis_client(redis_url), ttl=90)
    state = {"intent": "renew-after-expiry", "ask": ["expiry"], "facts": {"expiry": {"date": "2023-06-30"}}}
    one.put("s1", state)
    assert two.get("s1") == state
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert json.loads(raw.get("faqbot:session:s1") or "") == state
    assert 0 < raw.pttl("faqbot:session:s1") <= 90_000
    two.delete("s1")
    assert one.get("s1") is None and two.get("missing") is None


def test_dedupe_is_atomic_across_stores_and_threads(redis_url: str) -> None:
    stores = [RedisDedupe(redis_client(redis_url)), RedisDedupe(redis_client(redis_url))]
    results: list[bool] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        got = stores[n % 2].first("Ev123", 60)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(results) == [False] * 19 + [True]
    assert stores[1].first("Ev124", 60) is True and stores[0].first("Ev124", 60) is False
    assert 0 < redis.Redis.from_url(redis_url).pttl("faqbot:dedupe:Ev123") <= 60_000


def test_feedback_is_a_capped_list_newest_first(redis_url: str) -> None:
    writer = RedisFeedbackStore(redis_client(redis_url), keep=3)
    reader = RedisFeedbackStore(redis_client(redis_url), keep=3)
    for n in range(5):
        writer.add({"n": n, "vote": "up", "text": "更新料金"})
    assert [r["n"] for r in reader.recent(10)] == [4, 3, 2]
    assert [r["n"] for r in reader.recent(2)] == [4, 3]
    assert redis.Redis.from_url(redis_url).llen("faqbot:feedback") == 3


def test_every_generation_is_new_to_everyone_even_after_redis_lost_its_data(redis_url: str) -> None:
    one, two = RedisGeneration(redis_client(redis_url)), RedisGeneration(redis_client(redis_url))
    first = two.bump()
    assert one.current() == first != ""
    redis.Redis.from_url(redis_url).flushdb()  # a restart without persistence, a failover, an eviction
    assert one.current() == ""
    # a counter would start again at 1, a number the workers had already seen: the next reload reached nobody
    second = two.bump()
    assert one.current() == second and second not in ("", first)


# --- two app processes sharing one Redis ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[tuple[str, int], tuple[str, int]]]:
    """Two separate `faqbot serve` processes (one worker each) on one redis-server, limit 5/minute per client."""
    with redis_server() as url:
        env = {"REDIS_URL": url, "FAQBOT_RATE_LIMIT": "5/minute"}
        with faqbot_server(["--workers", "1"], env=env) as a, faqbot_server(["--workers", "1"], env=env) as b:
            yield a, b


def _post(addr: tuple[str, int], path: str, payload: dict[str, Any],
          client: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    conn = http.client.HTTPConnection(*addr, timeout=30)
    try:
        # ProxyFix trusts one proxy: X-Forwarded-For is the client address the limits count
        conn.request("POST", path, json.dumps(payload, ensure_ascii=False).encode(),
                     {"Content-Type": "application/json", "X-Forwarded-For": client})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(r.read())
    finally:
        conn.close()


def test_a_conversation_started_on_one_process_is_completed_on_the_other(
        pair: tuple[tuple[str, int], tuple[str, int]]) -> None:
    a, b = pair
    status, _, first = _post(a, "/api/ask", {"text": "期限切れてしまったけど、まだ更新まにあう？", "today": TODAY,
                                             "session_id": "two-hosts-1"}, "192.0.2.10")
    assert status == 200, first
    assert first["rule"] == "renew-after-expiry-ask" and first["follow_up"]
    status, _, second = _post(b, "/api/ask", {"text": "2023年6月30日です", "today": TODAY,
                                              "session_id": "two-hosts-1"}, "192.0.2.10")
    assert status == 200, second
    assert second["intent"] == "renew-after-expiry"
    assert second["rule"] == "renew-after-expiry-renewable"
    assert second["computed"]["renewal_deadline"] == "2025-06-30"
    assert "2025年6月30日まで" in second["answer"]


def test_the_rate_limit_is_counted_across_both_processes(pair: tuple[tuple[str, int], tuple[str, int]]) -> None:
    a, b = pair
    question = {"text": "更新料金はいくらですか？", "today": TODAY}
    remaining = []
    for n in range(5):
        status, headers, body = _post((a, b)[n % 2], "/api/ask", question, "198.51.100.23")
        assert status == 200, body
        remaining.append(int(headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]  # one counter, not one per process
    status, headers, body = _post(b, "/api/ask", question, "198.51.100.23")
    assert status == 429
    retry_after = int(headers["retry-after"])
    assert 0 < retry_after <= 60, retry_after  # seconds until the moving window frees a slot
    assert body["error"]["code"] == "too_many_requests" and body["error"]["message"]
    assert headers["content-type"].startswith("application/json")
    status, _, _ = _post(a, "/api/ask", question, "198.51.100.99")  # another client has its own budget
    assert status == 200


# --- Slack: limited per team and user, the body left for the signature check ------------------------------


def _slack_app(limit: str) -> Flask:
    app = Flask(__name__)

    @app.post("/slack/events")
    def events() -> Any:
        from flask import request

        return jsonify(body=request.get_data(as_text=True))  # what Bolt reads to check the signature

    init_limits(app, Settings(slack_rate_limit=limit, rate_limit="off", slack_signing_secret=SLACK_SECRET),
                "memory://")
    return app


SLACK_SECRET = "s3cret"


def _signed(client: FlaskClient, *, data: dict[str, str] | None = None, json_body: Any = None) -> Any:
    """POST /slack/events signed as Slack signs it (only signed requests count against a limit)."""
    body = urlencode(data) if data is not None else json.dumps(json_body)
    ts = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=body)}
    kind = "application/x-www-form-urlencoded" if data is not None else "application/json"
    return client.post("/slack/events", data=body, content_type=kind, headers=headers)


def test_slack_requests_are_limited_per_team_and_user() -> None:
    client = _slack_app("2/minute").test_client()
    command = {"team_id": "T1", "user_id": "U1", "command": "/faq", "text": "更新料金"}
    for _ in range(2):
        r = _signed(client, data=command)
        assert r.status_code == 200
        # the raw form body survived the key function
        assert {k: v[0] for k, v in parse_qs(r.get_json()["body"]).items()} == command
    r = _signed(client, data=command)
    assert r.status_code == 429 and r.headers["Retry-After"]
    # the same address, another user: a budget of its own
    assert _signed(client, data={**command, "user_id": "U2"}).status_code == 200
    # an Events API call for team T1, user U1 shares U1's budget (already spent)
    event = {"team_id": "T1", "event": {"type": "app_mention", "user": "U1", "text": "更新料金"}}
    assert _signed(client, json_body=event).status_code == 429
    event["event"]["user"] = "U3"
    r = _signed(client, json_body=event)
    assert r.status_code == 200 and json.loads(r.get_json()["body"]) == event
    # an interactive action carries team and user inside its JSON payload field
    action = {"payload": json.dumps({"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}})}
    assert _signed(client, data=action).status_code == 429


def test_off_disables_and_a_bad_limit_names_its_variable() -> None:
    client = _slack_app("off").test_client()
    for _ in range(5):
        assert client.post("/slack/events", data={"team_id": "T1", "user_id": "U1"}).status_code == 200
    with pytest.raises(ValueError, match="FAQBOT_SLACK_RATE_LIMIT"):
        _slack_app("twenty a minute")


def test_apps_in_one_process_do_not_share_counters(bot: Bot) -> None:
    settings = bot.settings.with_overrides(rate_limit="1/minute")
    one, two = create_app(bot=bot, settings=settings), create_app(bot=bot, settings=settings)
    payload = {"text": "更新料金はいくらですか？", "today": TODAY}
    assert one.test_client().post("/api/ask", json=payload).status_code == 200
    assert one.test_client().post("/api/ask", json=payload).status_code == 429
    assert two.test_client().post("/api/ask", json=payload).status_code == 200


# --- Redis goes away while serving ------------------------------------------------------------------------


def test_redis_down_answers_questions_without_the_conversation_and_a_bare_reply_gets_503(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    with redis_server() as url:
        app = create_app(bot=bot, settings=bot.settings.with_overrides(redis_url=url, rate_limit="4/minute"))
        client = app.test_client()
        assert client.post("/api/ask", json={"text": "更新料金はいくらですか？", "today": TODAY}).status_code == 200
    # the server is gone now. A widget sends its session id with every message: a question of its own is
    # answered all the same (its follow-up question too, though the reply cannot continue it) ...
    asked = {"text": "期限切れてしまったけど、まだ更新まにあう？", "today": TODAY, "session_id": "down-1"}
    r = client.post("/api/ask", json=asked)
    assert r.status_code == 200 and r.get_json()["rule"] == "renew-after-expiry-ask"
    assert any("sessions unavailable" in rec.getMessage() and "Redis unavailable" in rec.getMessage()
               for rec in caplog.records)
    # ... but a reply that only gives a date needs the question it answers: try again
    r = client.post("/api/ask", json={"text": "2023年6月30日です", "today": TODAY, "session_id": "down-1"})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "store_unavailable" and r.headers["Retry-After"] == "5"  # not the limiter's
    # the limit goes on in this process's memory
    plain = {"text": "更新料金はいくらですか？", "today": TODAY}
    statuses = [client.post("/api/ask", json=plain).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    with pytest.raises(StoreUnavailable):
        RedisSessionStore(redis_client(url), ttl=60).get("down-1")
