"""Slack: requests really signed with the signing secret, answered by slack_bolt behind /slack/events.

Outgoing calls (chat.postMessage, response_url) go to a fake Slack on a loopback port that records them,
so the tests see the HTTP calls the app would make to slack.com. The slash command, a bad signature and
a retried event also go over real HTTP to the gunicorn server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from flask import Flask, request
from flask.testing import FlaskClient
from slack_sdk.signature import SignatureVerifier

from bot import Bot, Settings
from bot.core import today_in
from bot.dates import format_date_ja
from bot.state import SqliteDedupe, SqliteFile, state_from_settings
from bot.web import create_app
from bot.web.slack import API_URL_ENV, escape, plain_text, share_value

from .redis_server import redis_server
from .servers import ROOT, faqbot_server

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "test-bot-token"  # a stand-in: nothing checks its shape, and it must not look like a real xoxb token
BOT_USER = "U0BOT"
FORM = "application/x-www-form-urlencoded"
UNSURE = "ライセンスのこと"  # too vague to answer: the bot offers もしかして suggestions instead


class FakeSlack:
    """Slack's Web API and response_url endpoints on 127.0.0.1, recording every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get_content_type() == "application/json":
                    payload = json.loads(raw or "{}")
                else:
                    payload = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                with fake._changed:
                    fake.calls.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": payload})
                    fake._changed.notify_all()
                if self.path.startswith("/api/"):
                    reply = json.dumps({"ok": True, "channel": payload.get("channel"), "ts": f"{time.time():.6f}"})
                    self._send(200, "application/json", reply)
                else:
                    self._send(200, "text/plain", "ok")  # what Slack's response_url answers

            def _send(self, status: int, ctype: str, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.base + "/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex}"

    def matching(self, pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._changed:
            return [c for c in self.calls if pred(c)]

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], count: int = 1,
                 timeout: float = 10) -> list[dict[str, Any]]:
        """The calls matching `pred` once there are `count` of them (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if pred(c)]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                self._changed.wait(left)
        assert len(found) >= count, f"expected {count} call(s) to the fake Slack, saw: {self.calls}"
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def signed(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: X-Slack-Request-Timestamp and the v0 HMAC-SHA256 signature of the body."""
    ts = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


def command_body(text: str, *, user: str = "U123", channel: str = "C123", response_url: str = "",
                 command: str = "/faq") -> str:
    return urllib.parse.urlencode({
        "token": "deprecated", "team_id": "T123", "team_domain": "example", "channel_id": channel,
        "channel_name": "support", "user_id": user, "user_name": "tanaka", "command": command, "text": text,
        "api_app_id": "A123", "response_url": response_url or "http://127.0.0.1:9/unused",
        "trigger_id": "1.2.3",
    })


def mention_body(text: str, *, event_id: str, user: str = "U123", ts: str = "1731000000.000100",
                 **event: Any) -> str:
    return json.dumps({
        "token": "deprecated", "team_id": "T123", "api_app_id": "A123", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T123", "user_id": BOT_USER, "is_bot": True}],
        "event": {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts,
                  "channel": "C123", "event_ts": ts, **event},
    }, ensure_ascii=False)


def direct_body(text: str, *, event_id: str, ts: str, user: str = "U123", channel: str = "D123",
                **event: Any) -> str:
    """A message.im event: a message in the bot's direct-message conversation, with no mention."""
    return json.dumps({
        "token": "deprecated", "team_id": "T123", "api_app_id": "A123", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T123", "user_id": BOT_USER, "is_bot": True}],
        "event": {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts,
                  "channel": channel, "event_ts": ts, **event},
    }, ensure_ascii=False)


def action_body(action_id: str, value: str, response_url: str, *, user: str = "U123") -> str:
    payload = {
        "type": "block_actions", "team": {"id": "T123", "domain": "example"},
        "user": {"id": user, "username": "tanaka", "team_id": "T123"}, "api_app_id": "A123",
        "token": "deprecated", "trigger_id": "1.2.3", "response_url": response_url,
        "container": {"type": "message", "message_ts": "1731000000.000200", "channel_id": "C123",
                      "is_ephemeral": True},
        "channel": {"id": "C123", "name": "support"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": "1731000001.000300"}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """Every text in a Block Kit message, one per line (section text and fields, context, buttons)."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        for element in block.get("elements", []):
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else text)
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture()
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    try:
        yield fake
    finally:
        fake.close()


def slack_settings(bot: Bot, tmp: Path, **changes: Any) -> Settings:
    """Slack configured, no rate limits, var/ files (feedback, the de-duplication file) under `tmp`."""
    return replace(bot.settings, **{"slack_signing_secret": SECRET, "slack_bot_token": TOKEN, "rate_limit": "off",
                                    "slack_rate_limit": "off", "feedback_file": tmp / "feedback.jsonl",
                                    "state_file": tmp / "state.sqlite3", **changes})


@pytest.fixture()
def slack_app(bot: Bot, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Flask:
    monkeypatch.setenv(API_URL_ENV, fake_slack.api_url)
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path))
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def slack(slack_app: Flask) -> FlaskClient:
    return slack_app.test_client()


def post(client: FlaskClient, body: str, *, ctype: str = FORM, headers: dict[str, str] | None = None,
         **sign: Any) -> Any:
    return client.post("/slack/events", data=body.encode(), content_type=ctype,
                       headers={**signed(body, **sign), **(headers or {})})


def label(bot: Bot, name: str) -> str:
    """How the Virus Buster rule file labels a computed value."""
    return dict(bot.knowledge.rules.display("virusbuster").labels)[name]


# --- the slash command ------------------------------------------------------------------------------


def test_faq_command_answers_ephemerally_with_block_kit(slack: FlaskClient, bot: Bot) -> None:
    question = "2023年6月30日に有効期限が切れましたが、まだ更新できますか？"
    response = post(slack, command_body(question))
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral"
    expected = bot.ask(question, today=today_in(bot.settings.timezone))
    assert expected.intent is not None and expected.computed["renewal_deadline"]
    texts = block_texts(reply["blocks"])
    deadline = format_date_ja(date.fromisoformat(expected.computed["renewal_deadline"]))
    # the computed date, in a fields block, labelled by the rule file, with its count of days; the question is
    # asked as of the real today, so the deadline may have passed
    computed = expected.computed
    gone = "（過ぎています）" if computed["renewable"] is False else ""
    days = f"あと{computed['days_left']}日" if "days_left" in computed else f"{computed['days_over']}日超過"
    assert f"*{label(bot, 'renewal_deadline')}{gone}*\n{deadline}（{days}）" in texts
    assert escape(expected.answer.split("\n\n")[0]) in texts  # the verdict, in the answer section
    for title in expected.links:
        assert f"・{title}" in texts  # link titles as text
    assert "http" not in json.dumps(reply["blocks"])  # and no URL that the documents do not give
    share = [b for b in buttons(reply["blocks"]) if b["action_id"] == "faq_share"]
    assert len(share) == 1 and share[0]["text"]["text"] == "チャンネルに共有"
    assert json.loads(share[0]["value"]) == {"q": question, "a": expected.answer,
                                             "d": today_in(bot.settings.timezone).isoformat()}


def test_a_date_known_only_roughly_is_a_field_too(slack: FlaskClient, bot: Bot) -> None:
    # a season gives a span of expiries, so the deadline is a span: it is shown as the answer writes it
    question = "去年の秋に有効期限が切れましたが、まだ更新できますか？"
    expected = bot.ask(question, today=today_in(bot.settings.timezone))
    low, _, high = str(expected.computed["renewal_deadline"]).partition("/")
    assert high, expected.computed
    written = f"{format_date_ja(date.fromisoformat(low))}〜{format_date_ja(date.fromisoformat(high))}"
    assert written in expected.answer
    texts = block_texts(post(slack, command_body(question)).get_json()["blocks"])
    days = str(expected.computed["days_left"]).replace("/", "〜")
    assert f"*{label(bot, 'renewal_deadline')}*\n{written}（あと{days}日）" in texts, texts


def test_empty_faq_command_gets_help(slack: FlaskClient) -> None:
    reply = post(slack, command_body("  ")).get_json()
    assert reply["response_type"] == "ephemeral"
    assert "/faq 質問" in block_texts(reply["blocks"])
    assert not buttons(reply["blocks"])


def test_question_markup_is_escaped_in_mrkdwn(slack: FlaskClient) -> None:
    # Slack sends & < > of what the user typed as &amp; &lt; &gt;; the reply must keep them escaped
    typed = "<script>alert(1)</script>& <!channel> 更新料金はいくらですか？"
    sent = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    reply = post(slack, command_body(sent)).get_json()
    shown = [b for b in reply["blocks"] if b["type"] != "actions"]  # a button's value is data, never displayed
    everything = json.dumps({"text": reply["text"], "blocks": shown}, ensure_ascii=False)
    assert "<script>" not in everything and "<!channel>" not in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp; &lt;!channel&gt;" in block_texts(reply["blocks"])


def test_raw_markup_in_a_command_is_escaped_too(slack: FlaskClient) -> None:
    reply = post(slack, command_body("<script>&更新料金")).get_json()
    texts = block_texts(reply["blocks"])
    assert "&lt;script&gt;&amp;更新料金" in texts and "<script>" not in texts


def test_low_confidence_offers_suggestion_buttons(slack: FlaskClient, bot: Bot) -> None:
    question = UNSURE
    expected = bot.ask(question, today=today_in(bot.settings.timezone))
    assert expected.intent is None and expected.suggestions
    reply = post(slack, command_body(question)).get_json()
    shown = buttons(reply["blocks"])
    assert [b["value"] for b in shown] == [s.intent for s in expected.suggestions]
    assert all(b["action_id"] != "faq_share" for b in shown)  # nothing worth sharing


def test_follow_up_continues_across_commands(slack: FlaskClient, bot: Bot) -> None:
    first = post(slack, command_body("有効期限が過ぎたライセンスは更新できますか")).get_json()
    asked = bot.ask("有効期限が過ぎたライセンスは更新できますか", today=today_in(bot.settings.timezone))
    assert asked.follow_up and escape(asked.follow_up) in block_texts(first["blocks"])
    assert not buttons(first["blocks"])  # a question back is not an answer to share
    second = post(slack, command_body("2024年1月16日")).get_json()
    assert "2026年1月16日" in block_texts(second["blocks"])  # expiry + 2 years, from the first turn's intent
    other_user = post(slack, command_body("2024年1月16日", user="U999")).get_json()
    assert "2026年1月16日" not in block_texts(other_user["blocks"])  # someone else's conversation
    # shared, the reply alone (「2024年1月16日」) would mean nothing to the channel: it goes with its question
    share = next(b for b in buttons(second["blocks"]) if b["action_id"] == "faq_share")
    entry = next(e for e in bot.knowledge.entries if e.id == asked.intent)
    assert json.loads(share["value"])["q"] == f"{entry.question}（2024年1月16日）"
    own = post(slack, command_body("2023年6月30日に有効期限が切れましたが、まだ更新できますか？")).get_json()
    share = next(b for b in buttons(own["blocks"]) if b["action_id"] == "faq_share")
    assert json.loads(share["value"])["q"] == "2023年6月30日に有効期限が切れましたが、まだ更新できますか？"


def shared_question(reply: dict[str, Any]) -> str:
    return str(json.loads(next(b for b in buttons(reply["blocks"]) if b["action_id"] == "faq_share")["value"])["q"])


def test_a_reply_is_shared_with_the_question_it_answers_after_a_redirect_or_a_what_if(slack: FlaskClient,
                                                                                     bot: Bot) -> None:
    # both were shared as the bare reply: the answer came from another entry (a past expiry makes renewing early
    # the question of renewing after it), or from the conversation's answer before (a what-if)
    today = today_in(bot.settings.timezone)
    early = bot.ask("期限前に更新すると有効期限はどうなりますか", today=today)
    assert (early.intent, bool(early.follow_up)) == ("renew-early", True)
    post(slack, command_body("期限前に更新すると有効期限はどうなりますか", user="U321"))
    expiry = (today - timedelta(days=30)).isoformat()
    redirected = post(slack, command_body(expiry, user="U321")).get_json()
    assert "FAQ: renew-after-expiry" in block_texts(redirected["blocks"])
    question = next(e.question for e in bot.knowledge.entries if e.id == "renew-early")
    assert shared_question(redirected) == f"{question}（{expiry}）"
    what_if = post(slack, command_body("じゃあ2020年1月1日だったら？", user="U321")).get_json()
    assert "FAQ: renew-after-expiry" in block_texts(what_if["blocks"])
    question = next(e.question for e in bot.knowledge.entries if e.id == "renew-after-expiry")
    assert shared_question(what_if) == f"{question}（じゃあ2020年1月1日だったら？）"
    # 「わかりません」 to the question back: the entry's answer without dates, shared with its question alone
    post(slack, command_body("期限前に更新すると有効期限はどうなりますか", user="U322"))
    unknown = post(slack, command_body("わかりません", user="U322")).get_json()
    assert shared_question(unknown) == next(e.question for e in bot.knowledge.entries if e.id == "renew-early")


def test_too_long_question_gets_a_polite_ephemeral_message(slack: FlaskClient, bot: Bot) -> None:
    response = post(slack, command_body("更" * (bot.settings.max_text_length + 1)))
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral" and "受け付けられませんでした" in reply["text"]


# --- signatures ---------------------------------------------------------------------------------------


def test_bad_signature_is_401(slack: FlaskClient) -> None:
    response = post(slack, command_body("更新料金"), secret="not-the-secret")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"


def test_stale_timestamp_is_401_even_when_signed(slack: FlaskClient) -> None:
    body = command_body("更新料金")
    assert post(slack, body, timestamp=int(time.time()) - 6 * 60).status_code == 401
    assert post(slack, body, timestamp=int(time.time()) - 4 * 60).status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": "12.5", "X-Slack-Signature": "v0=00"},
    {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
])
def test_missing_or_malformed_signature_headers_are_401(slack: FlaskClient, headers: dict[str, str]) -> None:
    response = slack.post("/slack/events", data=command_body("更新料金"), content_type=FORM, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"


def test_body_changed_after_signing_is_401(slack: FlaskClient) -> None:
    body = command_body("更新料金")
    response = slack.post("/slack/events", data=command_body("解約したい"), content_type=FORM, headers=signed(body))
    assert response.status_code == 401


NOT_OBJECTS = [("{not json", "application/json"), ("payload=%7Bnot+json", FORM), ("[1,2]", "application/json"),
               ("null", "application/json"), ('"x"', "application/json"), ("123", "application/json"),
               ("payload=null", FORM), ("payload=%5B1%5D", FORM), ('{"type":"event_callback","event":"str"}',
                                                                     "application/json")]


@pytest.mark.parametrize(("body", "ctype"), NOT_OBJECTS)
def test_signed_garbage_is_a_4xx_json_error(slack: FlaskClient, body: str, ctype: str) -> None:
    response = post(slack, body, ctype=ctype)
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()["error"]) == {"code", "message"}


@pytest.mark.parametrize(("body", "ctype"), NOT_OBJECTS)
def test_unsigned_garbage_is_401_never_a_500(slack: FlaskClient, body: str, ctype: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    # Bolt parsed the body before checking the signature: [1,2] without the secret was a 500 and a traceback
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"}
    response = slack.post("/slack/events", data=body, content_type=ctype, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_signature"
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text


def test_get_is_405_with_allow(slack: FlaskClient) -> None:
    response = slack.get("/slack/events")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_url_verification_echoes_the_challenge(slack: FlaskClient) -> None:
    body = json.dumps({"token": "deprecated", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = post(slack, body, ctype="application/json")
    assert response.status_code == 200
    assert response.get_json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_raw_body_survives_a_hook_that_reads_the_form(bot: Bot, tmp_path: Path) -> None:
    # a before_request hook parsing request.form (a rate-limit key, a logger) must not empty the signed body
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path))
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.form.get("user_id", "")) and None)
    response = post(app.test_client(), command_body("更新料金はいくらですか？"))
    assert seen == ["U123"]
    assert response.status_code == 200 and response.get_json()["response_type"] == "ephemeral"


def test_not_configured_is_a_clear_503(bot: Bot) -> None:
    app = create_app(bot=bot, settings=replace(bot.settings, slack_signing_secret="", rate_limit="off"))
    response = app.test_client().post("/slack/events", data=command_body("更新料金"), content_type=FORM,
                                      headers=signed(command_body("更新料金")))
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "slack_not_configured" and "SLACK_SIGNING_SECRET" in error["message"]


# --- app mentions, retries, buttons ----------------------------------------------------------------------


def test_app_mention_is_answered_in_its_thread(slack: FlaskClient, fake_slack: FakeSlack, bot: Bot) -> None:
    question = "あんしん自動更新を止めたいです。課金日は2025年7月1日です"
    response = post(slack, mention_body(question, event_id="Ev1", ts="1731000000.000100"),
                    ctype="application/json")
    assert response.status_code == 200
    posted = fake_slack.wait_for(lambda c: c["path"] == "/api/chat.postMessage")
    assert len(posted) == 1
    call = posted[0]
    assert call["auth"] == f"Bearer {TOKEN}"
    assert call["body"]["channel"] == "C123" and call["body"]["thread_ts"] == "1731000000.000100"
    expected = bot.ask(question, today=today_in(bot.settings.timezone))
    assert expected.intent is not None
    assert escape(expected.answer.split("\n\n")[0]) in block_texts(call["body"]["blocks"])
    assert not fake_slack.matching(lambda c: c["path"] == "/api/auth.test")  # authorize needs no network


def test_mention_inside_a_thread_replies_to_that_thread(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    body = mention_body("更新料金はいくらですか？", event_id="Ev2", ts="1731000009.000900",
                        thread_ts="1731000000.000100")
    assert post(slack, body, ctype="application/json").status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == "/api/chat.postMessage")[0]
    assert call["body"]["thread_ts"] == "1731000000.000100"


def test_retried_event_is_acknowledged_and_answered_once(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    body = mention_body("更新料金はいくらですか？", event_id="EvRetry", ts="1731000000.000111")
    assert post(slack, body, ctype="application/json").status_code == 200
    fake_slack.wait_for(lambda c: c["body"].get("thread_ts") == "1731000000.000111")
    retry = post(slack, body, ctype="application/json",
                 headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    # a later event is answered: once it is, the retry (acknowledged before it) would have been too
    sentinel = mention_body("更新料金はいくらですか？", event_id="EvAfter", ts="1731000000.000222")
    post(slack, sentinel, ctype="application/json")
    fake_slack.wait_for(lambda c: c["body"].get("thread_ts") == "1731000000.000222")
    time.sleep(0.2)
    assert len(fake_slack.matching(lambda c: c["body"].get("thread_ts") == "1731000000.000111")) == 1


@pytest.mark.parametrize("event", [
    {"bot_id": "B0OTHER"},  # another bot
    {"user": BOT_USER},  # this bot's own message mentioning itself
    {"subtype": "message_changed"},
])
def test_bot_mentions_are_not_answered(slack: FlaskClient, fake_slack: FakeSlack, event: dict[str, str]) -> None:
    ignored = mention_body("更新料金はいくらですか？", event_id=f"EvBot{uuid.uuid4().hex}", ts="1731000000.000333",
                           **event)
    assert post(slack, ignored, ctype="application/json").status_code == 200
    sentinel = mention_body("更新料金はいくらですか？", event_id=f"EvHuman{uuid.uuid4().hex}", ts="1731000000.000444")
    post(slack, sentinel, ctype="application/json")
    fake_slack.wait_for(lambda c: c["body"].get("thread_ts") == "1731000000.000444")
    time.sleep(0.2)
    assert not fake_slack.matching(lambda c: c["body"].get("thread_ts") == "1731000000.000333")


def test_a_direct_message_is_answered_there_and_its_follow_up_needs_no_mention(
        slack: FlaskClient, fake_slack: FakeSlack) -> None:
    def answer(body: str, nth: int) -> dict[str, Any]:
        assert post(slack, body, ctype="application/json").status_code == 200
        return fake_slack.wait_for(lambda c: c["body"].get("channel") == "D123", count=nth)[nth - 1]["body"]

    asked = answer(direct_body("有効期限が過ぎたライセンスは更新できますか", event_id="EvD1",
                               ts="1731000600.000100"), 1)
    assert asked.get("thread_ts") is None  # answered in the conversation itself, not in a thread
    assert "有効期限の日付" in block_texts(asked["blocks"]) and "を付けて" not in block_texts(asked["blocks"])
    replied = answer(direct_body("2024年1月16日", event_id="EvD2", ts="1731000700.000100"), 2)
    assert "2026年1月16日" in block_texts(replied["blocks"])  # expiry + 2 years: the question before, continued
    assert not buttons(replied["blocks"])  # nobody else to share with
    empty = answer(direct_body("", event_id="EvD3", ts="1731000800.000100", subtype="file_share"), 3)
    assert "質問をそのまま送ってください" in block_texts(empty["blocks"])
    # 「スレッドで返信」 to the bot's question back continues the conversation, and is answered in the thread
    answer(direct_body("有効期限が過ぎたライセンスは更新できますか", event_id="EvD4", ts="1731000900.000100"), 4)
    in_thread = answer(direct_body("2024年1月16日", event_id="EvD5", ts="1731000950.000100",
                                   thread_ts="1731000900.000200"), 5)
    assert in_thread["thread_ts"] == "1731000900.000200" and "2026年1月16日" in block_texts(in_thread["blocks"])


def test_the_bots_own_direct_message_echoes_are_not_rate_limited(bot: Bot, tmp_path: Path) -> None:
    # each answer in a DM comes back as a message.im event under the bot's user: counted, they used up its bucket
    client = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="1/minute")).test_client()
    for n in range(3):
        echo = direct_body("回答です", event_id=f"EvEcho{n}", ts=f"1731001000.00010{n}", user=BOT_USER,
                           bot_id="B0SELF")
        assert post(client, echo, ctype="application/json").status_code == 200
    person = [post(client, direct_body("更新料金は？", event_id=f"EvPerson{n}", ts=f"1731001100.00010{n}"),
                   ctype="application/json").status_code for n in range(2)]
    assert person == [200, 429]  # a person's messages are still limited


@pytest.mark.parametrize("event", [
    {"bot_id": "B0SELF", "user": BOT_USER},  # the bot's own answer arrives as a message.im event too
    {"channel_type": "channel", "channel": "C777"},  # a channel's message, were the app subscribed to them
    {"subtype": "message_changed"},
])
def test_messages_not_for_the_bot_get_no_answer(slack: FlaskClient, fake_slack: FakeSlack,
                                                event: dict[str, str]) -> None:
    ignored = direct_body("更新料金はいくらですか？", event_id=f"EvDX{uuid.uuid4().hex}", ts="1731000900.000100",
                          **{"channel": "D999", **event})
    assert post(slack, ignored, ctype="application/json").status_code == 200
    sentinel = direct_body("更新料金はいくらですか？", event_id=f"EvDY{uuid.uuid4().hex}", ts="1731000900.000200",
                           channel="D888")
    post(slack, sentinel, ctype="application/json")
    fake_slack.wait_for(lambda c: c["body"].get("channel") == "D888")
    time.sleep(0.2)
    assert not fake_slack.matching(lambda c: c["body"].get("channel") in ("D999", "C777"))


def test_share_button_posts_the_answer_in_the_channel(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    reply = post(slack, command_body("2023年6月30日に有効期限が切れましたが、まだ更新できますか？")).get_json()
    share = next(b for b in buttons(reply["blocks"]) if b["action_id"] == "faq_share")
    url = fake_slack.response_url()
    response = post(slack, action_body("faq_share", share["value"], url))
    assert response.status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert call["body"]["response_type"] == "in_channel" and call["body"]["replace_original"] is False
    shared = json.loads(share["value"])
    texts = block_texts(call["body"]["blocks"])
    assert "<@U123> さんが共有しました" in texts and escape(shared["a"]) in texts
    assert not buttons(call["body"]["blocks"])


def test_suggestion_button_answers_that_question(slack: FlaskClient, fake_slack: FakeSlack, bot: Bot) -> None:
    reply = post(slack, command_body(UNSURE)).get_json()
    first = buttons(reply["blocks"])[0]
    url = fake_slack.response_url()
    assert post(slack, action_body(first["action_id"], first["value"], url)).status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert call["body"]["replace_original"] is True and call["body"]["response_type"] == "ephemeral"
    entry = next(e for e in bot.knowledge.entries if e.id == first["value"])
    texts = block_texts(call["body"]["blocks"])
    assert escape(entry.answer.split("\n")[0]) in texts and f"FAQ: {entry.id}" in texts


def test_a_mention_also_sent_to_the_channel_is_answered(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    # 「チャンネルにも投稿する」 gives the app_mention the subtype thread_broadcast: it was dropped in silence
    body = mention_body("更新料金はいくらですか？", event_id="EvBroadcast", ts="1731000000.000777",
                        thread_ts="1731000000.000700", subtype="thread_broadcast")
    assert post(slack, body, ctype="application/json").status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == "/api/chat.postMessage")[0]
    assert call["body"]["thread_ts"] == "1731000000.000700" and "更新" in call["body"]["text"]


def test_a_long_mention_is_told_it_is_too_long_in_japanese(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    # 4,000 characters with their rich_text blocks (about 24 KB) were refused with a 413, which Slack retried
    text = "更新料金について" * 500
    body = json.loads(mention_body(text, event_id="EvLong", ts="1731000000.000888"))
    body["event"]["blocks"] = [{"type": "rich_text", "elements": [{"type": "rich_text_section",
                                                                    "elements": [{"type": "text", "text": text}]}]}]
    raw = json.dumps(body, ensure_ascii=False)
    assert len(raw.encode()) > 16384
    assert post(slack, raw, ctype="application/json").status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == "/api/chat.postMessage")[0]
    said = call["body"]["text"]
    assert "1,000文字以内でお送りください" in said and "4,000文字" in said and "'text'" not in said, said


def test_a_long_command_is_answered_not_refused(slack: FlaskClient) -> None:
    response = post(slack, command_body("更新" * 1000))  # over 16 KiB once URL-encoded
    assert response.status_code == 200
    assert "1,000文字以内でお送りください" in response.get_json()["text"]


@pytest.mark.parametrize("text", ["\u200b", " \u200b\ufeff "])
def test_zero_width_characters_alone_get_the_help(slack: FlaskClient, text: str) -> None:
    reply = post(slack, command_body(text)).get_json()
    assert "/faq 質問" in block_texts(reply["blocks"]) and "'text'" not in reply["text"]


def test_a_bare_mention_gets_help_written_for_a_thread(slack: FlaskClient, fake_slack: FakeSlack) -> None:
    body = mention_body("", event_id="EvBare", ts="1731000000.000999")
    assert post(slack, body, ctype="application/json").status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == "/api/chat.postMessage")[0]
    texts = block_texts(call["body"]["blocks"])
    # posted where everyone reads it: not the /faq help's 「回答はあなただけに表示されます」
    assert f"<@{BOT_USER}> のあとに質問を書いてください" in texts and "あなただけ" not in texts


def test_a_follow_up_in_a_thread_says_to_mention_the_bot_and_stays_in_that_thread(
        slack: FlaskClient, fake_slack: FakeSlack) -> None:
    def answer(body: str, ts: str, nth: int = 1) -> str:
        assert post(slack, body, ctype="application/json").status_code == 200
        call = fake_slack.wait_for(lambda c: c["body"].get("thread_ts") == ts, count=nth)[nth - 1]
        return block_texts(call["body"]["blocks"])

    asked = answer(mention_body("有効期限が過ぎたライセンスは更新できますか", event_id="EvT1", ts="1731000100.000100"),
                   "1731000100.000100")
    assert f"このスレッドで <@{BOT_USER}> を付けてお答えください" in asked
    # a new top-level mention elsewhere in the channel is a new conversation, answered in its own thread
    elsewhere = answer(mention_body("2024年1月16日", event_id="EvT2", ts="1731000200.000100"), "1731000200.000100")
    assert "2026年1月16日" not in elsewhere
    replied = answer(mention_body("2024年1月16日", event_id="EvT3", ts="1731000300.000100",
                                  thread_ts="1731000100.000100"), "1731000100.000100", nth=2)
    assert "2026年1月16日" in replied  # expiry + 2 years, the thread's own question


def test_a_suggestion_clicked_on_a_public_answer_does_not_rewrite_it(slack: FlaskClient,
                                                                    fake_slack: FakeSlack) -> None:
    reply = post(slack, command_body(UNSURE)).get_json()
    first = buttons(reply["blocks"])[0]
    url = fake_slack.response_url()
    body = urllib.parse.parse_qs(action_body(first["action_id"], first["value"], url, user="UOTHER"))
    payload = json.loads(body["payload"][0])
    payload["container"]["is_ephemeral"] = False  # a mention's answer, in a thread everyone reads
    assert post(slack, urllib.parse.urlencode({"payload": json.dumps(payload)})).status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert call["body"]["replace_original"] is False and call["body"]["response_type"] == "ephemeral"


def test_an_answer_names_the_knowledge_version(slack: FlaskClient, bot: Bot) -> None:
    reply = post(slack, command_body("更新料金はいくらですか？")).get_json()
    assert f"版: {bot.version}" in block_texts(reply["blocks"])


def test_share_value_fits_slack_limit() -> None:
    long_answer = "更新\n\"期限\"" * 800
    value = share_value("質問" * 300, long_answer)
    assert len(value) <= 2000
    data = json.loads(value)
    assert data["a"].endswith("…") and long_answer.startswith(data["a"][:-1])


def test_sqlite_dedupe_is_shared_through_its_file_and_expires(tmp_path: Path) -> None:
    now = [1000.0]
    a = SqliteDedupe(SqliteFile(tmp_path / "state.sqlite3", clock=lambda: now[0]))
    b = SqliteDedupe(SqliteFile(tmp_path / "state.sqlite3", clock=lambda: now[0]))  # as another worker would
    assert a.first("slack:event:Ev1", ttl=60) is True
    assert b.first("slack:event:Ev1", ttl=60) is False
    assert a.first("slack:event:Ev1", ttl=60) is False
    assert b.first("slack:event:Ev2", ttl=60) is True
    now[0] += 61
    assert b.first("slack:event:Ev1", ttl=60) is True  # expired: seen afresh, once
    assert a.first("slack:event:Ev1", ttl=60) is False


def test_sqlite_dedupe_under_concurrent_claims(tmp_path: Path) -> None:
    stores = [SqliteDedupe(SqliteFile(tmp_path / "state.sqlite3")) for _ in range(4)]
    wins: list[bool] = []
    lock = threading.Lock()

    def claim(store: SqliteDedupe) -> None:
        for n in range(50):
            won = store.first(f"k{n}", ttl=60)
            with lock:
                wins.append(won)

    workers = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert len(wins) == 200 and wins.count(True) == 50


def test_the_states_dedupe_is_used(bot: Bot, tmp_path: Path) -> None:
    class Recording:
        def __init__(self) -> None:
            self.keys: list[str] = []

        def first(self, key: str, ttl: float) -> bool:
            self.keys.append(key)
            return len(self.keys) == 1

    recording = Recording()
    settings = slack_settings(bot, tmp_path)
    state = replace(state_from_settings(settings), dedupe=recording)
    app = create_app(bot=bot, settings=settings, state=state)
    body = mention_body("更新料金はいくらですか？", event_id="EvShared", ts="1731000000.000555")
    client = app.test_client()
    for retry in ("", "1"):
        response = post(client, body, ctype="application/json", headers={"X-Slack-Retry-Num": retry} if retry else {})
        assert response.status_code == 200
    assert recording.keys == ["slack:event:EvShared", "slack:event:EvShared"]


def test_slack_rate_limit_is_per_team_and_user_and_keeps_the_signed_body(bot: Bot, tmp_path: Path) -> None:
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="2/minute"))
    client = app.test_client()
    for _ in range(2):  # 200s: the limiter read the team and user without emptying the body Bolt verifies
        response = post(client, command_body("更新料金はいくらですか？"))
        assert response.status_code == 200 and response.get_json()["response_type"] == "ephemeral"
    limited = post(client, command_body("更新料金はいくらですか？"))
    # a slash command answered other than 200 shows a bare "failed" in Slack: the limit is said in words
    assert limited.status_code == 200 and "Retry-After" in limited.headers
    assert limited.get_json()["response_type"] == "ephemeral" and "もう一度お試しください" in limited.get_json()["text"]
    assert "更新料" not in json.dumps(limited.get_json(), ensure_ascii=False)  # not answered
    other = post(client, command_body("更新料金はいくらですか？", user="U456")).get_json()
    assert "もう一度お試しください" not in other["text"]  # another person's limit is their own


def test_unsigned_requests_never_count_against_the_team_and_user_they_name(bot: Bot, tmp_path: Path) -> None:
    # team and user ids are no secret: twenty unsigned posts naming U123 used up U123's limit on every host
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="2/minute"))
    client = app.test_client()
    for _ in range(5):
        forged = client.post("/slack/events", data=command_body("更新料金はいくらですか？"), content_type=FORM,
                             headers=signed(command_body("更新料金はいくらですか？"), secret="not-the-secret"))
        assert forged.status_code == 401
        bare = client.post("/slack/events", data=command_body("x"), content_type=FORM)
        assert bare.status_code == 401
    answered = post(client, command_body("更新料金はいくらですか？")).get_json()
    assert "もう一度お試しください" not in answered["text"], answered["text"]


def test_a_limited_event_is_refused_without_a_retry(bot: Bot, tmp_path: Path) -> None:
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="1/minute"))
    client = app.test_client()
    first = post(client, mention_body("更新料金は？", event_id="EvL1"), ctype="application/json")
    second = post(client, mention_body("更新料金は？", event_id="EvL2"), ctype="application/json")
    assert first.status_code == 200 and second.status_code == 429
    # Slack retries what is not 200, and every retry would be counted and refused again
    assert second.headers["X-Slack-No-Retry"] == "1" and "Retry-After" in second.headers


def test_a_limited_button_is_told_why_through_its_response_url(bot: Bot, fake_slack: FakeSlack,
                                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a button answered 429 showed only Slack's warning sign: the person pressing it was never told to wait
    monkeypatch.setenv(API_URL_ENV, fake_slack.api_url)
    client = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="1/minute")).test_client()
    reply = post(client, command_body(UNSURE)).get_json()
    first = buttons(reply["blocks"])[0]
    url = fake_slack.response_url()
    pressed = post(client, action_body(first["action_id"], first["value"], url))
    assert pressed.status_code == 200 and "Retry-After" in pressed.headers
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert call["body"]["response_type"] == "ephemeral" and call["body"]["replace_original"] is False
    assert "秒ほどおいて、もう一度お試しください" in call["body"]["text"]
    # a response_url nobody answers: the 429 itself, as before, and no retry asked for
    again = post(client, action_body(first["action_id"], first["value"], "http://127.0.0.1:9/gone"))
    assert again.status_code == 429 and again.headers["X-Slack-No-Retry"] == "1"


def test_manifest_matches_the_app(slack_app: Flask, fake_slack: FakeSlack) -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    # without the messages tab a person cannot write to the app at all
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert settings["interactivity"]["is_enabled"] is True and settings["socket_mode_enabled"] is False
    commands = manifest["features"]["slash_commands"]
    urls = [c["url"] for c in commands] + [settings["event_subscriptions"]["request_url"],
                                           settings["interactivity"]["request_url"]]
    routes = {r.rule for r in slack_app.url_map.iter_rules() if "POST" in (r.methods or ())}
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "https" and parts.path in routes, url
    client = slack_app.test_client()
    for command in commands:  # every command the manifest declares is one the app answers
        reply = post(client, command_body("更新料金はいくらですか？", command=command["command"])).get_json()
        assert reply["response_type"] == "ephemeral" and reply["blocks"]


@pytest.mark.parametrize("raw, expected", [
    (f"<@{BOT_USER}> 更新料金", "更新料金"),
    ("<#C123|support> で聞いた件", "#support で聞いた件"),
    ("<https://example.com|ここ> を見た", "ここ を見た"),
    ("&lt;b&gt; &amp;amp;", "<b> &amp;"),
    ("<!here> 至急", "至急"),
])
def test_plain_text_reads_slack_markup(raw: str, expected: str) -> None:
    assert plain_text(raw) == expected


# --- over real HTTP, against the gunicorn server ---------------------------------------------------------


@pytest.fixture(scope="module")
def http_fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(scope="module")
def slack_server(http_fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # two sync workers (the default), no REDIS_URL: a retry may reach the worker that did not see the event
    var = tmp_path_factory.mktemp("var")
    env = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, API_URL_ENV: http_fake_slack.api_url,
           "FAQBOT_RATE_LIMIT": "off", "FAQBOT_SLACK_RATE_LIMIT": "off",
           "FAQBOT_FEEDBACK_FILE": str(var / "feedback.jsonl")}
    with faqbot_server(["--workers", "2"], env=env) as (host, port):
        yield f"http://{host}:{port}/slack/events"


def http_post(url: str, body: str, *, ctype: str = FORM, headers: dict[str, str] | None = None,
              **sign: Any) -> tuple[int, dict[str, Any], float]:
    """POST over a real socket: (status, JSON body, seconds until the whole response was read)."""
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": ctype, **signed(body, **sign), **(headers or {})})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    return status, json.loads(data or b"{}"), time.monotonic() - start


def test_http_faq_command_is_answered_within_slacks_3_seconds(slack_server: str, bot: Bot) -> None:
    # the server answers as of the real today: an expiry still ahead (one that has passed is the after-expiry
    # question, and no new expiry is computed from it)
    expiry = today_in(bot.settings.timezone) + timedelta(days=100)
    new_expiry = expiry + relativedelta(years=3)
    question = f"有効期限は{format_date_ja(expiry)}です。今3年分更新したら、新しい期限はいつになりますか"
    status, reply, seconds = http_post(slack_server, command_body(question))
    assert status == 200
    assert seconds < 3.0, f"Slack gives up after 3 s; the answer took {seconds:.2f} s"
    assert reply["response_type"] == "ephemeral"
    expected = bot.ask(question, today=today_in(bot.settings.timezone))
    assert expected.computed.get("new_expiry") == new_expiry.isoformat()
    assert f"*{label(bot, 'new_expiry')}*\n{format_date_ja(new_expiry)}" in block_texts(reply["blocks"])


def test_http_bad_and_stale_signatures_are_401(slack_server: str) -> None:
    status, reply, _ = http_post(slack_server, command_body("更新料金"), secret="wrong")
    assert status == 401 and reply["error"]["code"] == "invalid_signature"
    status, reply, _ = http_post(slack_server, command_body("更新料金"), timestamp=int(time.time()) - 301)
    assert status == 401 and reply["error"]["code"] == "invalid_signature"


def test_http_retried_events_are_answered_once(slack_server: str, http_fake_slack: FakeSlack) -> None:
    fake = http_fake_slack
    # several events, each retried three times (Slack's schedule): with two workers, some retries land on
    # the worker that did not take the first delivery
    threads = [f"1731000100.{n:06d}" for n in range(8)]
    for ts in threads:
        body = mention_body("更新料金はいくらですか？", event_id=f"Ev{uuid.uuid4().hex}", ts=ts)
        status, _, seconds = http_post(slack_server, body, ctype="application/json")
        assert status == 200 and seconds < 3.0
        for attempt in (1, 2, 3):
            status, _, _ = http_post(slack_server, body, ctype="application/json", headers={
                "X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"})
            assert status == 200
    sentinel = mention_body("更新料金はいくらですか？", event_id=f"Ev{uuid.uuid4().hex}", ts="1731000199.000000")
    http_post(slack_server, sentinel, ctype="application/json")
    fake.wait_for(lambda c: c["body"].get("thread_ts") == "1731000199.000000")
    for ts in threads:
        fake.wait_for(lambda c, ts=ts: c["body"].get("thread_ts") == ts)
    time.sleep(0.3)
    answered = [c["body"]["thread_ts"] for c in fake.matching(lambda c: c["body"].get("thread_ts") in threads)]
    assert sorted(answered) == threads  # each exactly once


def test_http_retry_reaching_another_host_is_answered_once_through_redis(http_fake_slack: FakeSlack,
                                                                         tmp_path: Path) -> None:
    # two servers sharing only REDIS_URL (each its own var/, as two hosts): the retry reaches the other one
    fake = http_fake_slack
    with redis_server() as url:
        env = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, API_URL_ENV: fake.api_url,
               "FAQBOT_RATE_LIMIT": "off", "FAQBOT_SLACK_RATE_LIMIT": "off", "REDIS_URL": url}
        env_a = {**env, "FAQBOT_FEEDBACK_FILE": str(tmp_path / "a" / "feedback.jsonl")}
        env_b = {**env, "FAQBOT_FEEDBACK_FILE": str(tmp_path / "b" / "feedback.jsonl")}
        with faqbot_server(["--workers", "1"], env=env_a) as a, faqbot_server(["--workers", "1"], env=env_b) as b:
            first, other = (f"http://{h}:{p}/slack/events" for h, p in (a, b))
            body = mention_body("更新料金はいくらですか？", event_id=f"Ev{uuid.uuid4().hex}", ts="1731000300.000100")
            assert http_post(first, body, ctype="application/json")[0] == 200
            fake.wait_for(lambda c: c["body"].get("thread_ts") == "1731000300.000100")
            status, _, _ = http_post(other, body, ctype="application/json", headers={"X-Slack-Retry-Num": "1"})
            assert status == 200
            sentinel = mention_body("更新料金はいくらですか？", event_id=f"Ev{uuid.uuid4().hex}",
                                    ts="1731000300.000200")
            http_post(other, sentinel, ctype="application/json")
            fake.wait_for(lambda c: c["body"].get("thread_ts") == "1731000300.000200")
            time.sleep(0.2)
            assert len(fake.matching(lambda c: c["body"].get("thread_ts") == "1731000300.000100")) == 1


# --- what the review of 2026-11-24 found ------------------------------------------------------------------------


@pytest.mark.parametrize("limits", ["off", "20/minute"])
def test_a_body_that_is_not_utf8_is_unsigned_not_a_500(bot: Bot, tmp_path: Path, fake_slack: FakeSlack,
                                                      monkeypatch: pytest.MonkeyPatch, limits: str) -> None:
    # slack_sdk decodes the body to check its signature: one stray byte, with no secret, was a 500 and a traceback
    monkeypatch.setenv(API_URL_ENV, fake_slack.api_url)
    app = create_app(bot=bot, settings=slack_settings(bot, tmp_path, rate_limit=limits, slack_rate_limit=limits))
    client = app.test_client()
    response = client.post("/slack/events", data=b'{"a":"\xff"}', content_type="application/json",
                           headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                    "X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_signature"
    assert post(client, command_body("更新料金はいくらですか？")).status_code == 200


def test_a_button_payload_without_its_button_is_a_bad_request(slack: FlaskClient) -> None:
    payload = json.loads(urllib.parse.parse_qs(action_body("faq_share", "{}", "http://127.0.0.1:9/x"))["payload"][0])
    payload["actions"] = []  # Bolt read the first of them: a 500
    response = post(slack, urllib.parse.urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body", [
    json.dumps({"token": "x", "team_id": "T123", "api_app_id": "A123", "type": "event_callback",
                "event_id": "EvReaction", "event_time": 1731000000,
                "event": {"type": "reaction_added", "user": "U123", "reaction": "eyes", "event_ts": "1.2"}}),
    action_body("an_old_button", "x", "http://127.0.0.1:9/x"),
])
def test_a_signed_request_nothing_handles_is_acknowledged(slack: FlaskClient, body: str) -> None:
    # a 404 is a failure to Slack, which sends the same event three more times
    ctype = "application/json" if body.startswith("{") else FORM
    assert post(slack, body, ctype=ctype).status_code == 200


def test_a_stale_suggestion_on_a_public_answer_does_not_rewrite_it(slack: FlaskClient,
                                                                  fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    payload = json.loads(urllib.parse.parse_qs(action_body("faq_suggest_0", "renamed-entry", url))["payload"][0])
    payload["container"]["is_ephemeral"] = False  # a mention's answer, in a thread everyone reads
    assert post(slack, urllib.parse.urlencode({"payload": json.dumps(payload)})).status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert "この候補は現在の FAQ にありません" in call["body"]["text"]
    assert call["body"]["replace_original"] is False and call["body"]["response_type"] == "ephemeral"


def test_a_suggestion_clicked_in_a_thread_continues_in_that_thread(slack: FlaskClient, fake_slack: FakeSlack,
                                                                   bot: Bot) -> None:
    # the click's question back (the first order's day) was kept under the channel's conversation, and the reply
    # in the thread, which belongs to the thread's, was answered as a new question
    thread = "1731000400.000100"
    url = fake_slack.response_url()
    payload = json.loads(urllib.parse.parse_qs(action_body("faq_suggest_0", "anniversary", url))["payload"][0])
    payload["container"].update(is_ephemeral=False, thread_ts=thread)
    payload["message"] = {"type": "message", "user": BOT_USER, "ts": "1731000400.000200", "thread_ts": thread}
    assert post(slack, urllib.parse.urlencode({"payload": json.dumps(payload)})).status_code == 200
    asked = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    assert f"このスレッドで <@{BOT_USER}> を付けてお答えください" in block_texts(asked["body"]["blocks"])
    reply = mention_body("2024年1月16日です", event_id="EvClickReply", ts="1731000400.000300", thread_ts=thread)
    assert post(slack, reply, ctype="application/json").status_code == 200
    call = fake_slack.wait_for(lambda c: c["body"].get("thread_ts") == thread)[0]
    expected = bot.ask("契約応当日はいつですか？初回注文は2024年1月16日です", today=today_in(bot.settings.timezone))
    assert expected.computed.get("anniversary_from_order") == "2025-01-16"
    assert "2025年1月16日" in block_texts(call["body"]["blocks"])


def test_a_suggestion_clicked_in_a_direct_message_continues_the_direct_conversation(
        slack: FlaskClient, fake_slack: FakeSlack) -> None:
    # it was answered as in a channel: a share button, 「@faqbot を付けてお答えください」, and a conversation kept
    # under the thread, while a direct message's reply, mention or not, continues the DM's own
    thread = "1731001000.000100"
    url = fake_slack.response_url()
    payload = json.loads(urllib.parse.parse_qs(action_body("faq_suggest_0", "anniversary", url))["payload"][0])
    payload["container"].update(is_ephemeral=False, channel_id="D123", thread_ts=thread)
    payload["channel"] = {"id": "D123", "name": "directmessage"}
    payload["message"] = {"type": "message", "user": BOT_USER, "ts": "1731001000.000200", "thread_ts": thread}
    assert post(slack, urllib.parse.urlencode({"payload": json.dumps(payload)})).status_code == 200
    asked = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]["body"]
    assert "初回注文" in block_texts(asked["blocks"]) and "を付けて" not in block_texts(asked["blocks"])
    # an ordinary message in the DM, kept in its history: an ephemeral one was gone when the page reloaded
    assert asked["response_type"] == "in_channel" and asked["replace_original"] is False
    reply = direct_body("2024年1月16日です", event_id="EvDMClick", ts="1731001100.000100", thread_ts=thread)
    assert post(slack, reply, ctype="application/json").status_code == 200
    answered = fake_slack.wait_for(lambda c: c["body"].get("channel") == "D123")[0]["body"]
    assert "2025年1月16日" in block_texts(answered["blocks"]) and not buttons(answered["blocks"])


def test_what_people_wrote_is_plain_text_not_mrkdwn(slack: FlaskClient) -> None:
    # in mrkdwn 「*至急*」 was bold and 「~できる~」 struck through, in the reply and in what was shared
    question = "*至急* _更新_ ~できる~ 更新料金はいくらですか？"
    reply = post(slack, command_body(question)).get_json()
    assert reply["blocks"][0]["elements"] == [{"type": "plain_text", "text": f"質問: {question}", "emoji": False}]
    sections = [b for b in reply["blocks"] if b["type"] == "section" and "text" in b]
    assert sections and all(b["text"]["type"] == "plain_text" for b in sections)


def test_a_shared_answer_says_the_day_it_was_worked_out_for(slack: FlaskClient, fake_slack: FakeSlack,
                                                            bot: Bot) -> None:
    # 「あと46日」 goes stale in the channel: the day it counts from goes with it
    reply = post(slack, command_body("2023年6月30日に有効期限が切れましたが、まだ更新できますか？")).get_json()
    share = next(b for b in buttons(reply["blocks"]) if b["action_id"] == "faq_share")
    url = fake_slack.response_url()
    assert post(slack, action_body("faq_share", share["value"], url)).status_code == 200
    call = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path)[0]
    today = format_date_ja(today_in(bot.settings.timezone))
    assert f"基準日: {today}" in block_texts(call["body"]["blocks"])
    old = json.dumps({"q": "質問", "a": "回答"}, ensure_ascii=False)  # a button made before: no day, still shared
    assert post(slack, action_body("faq_share", old, url)).status_code == 200
    later = fake_slack.wait_for(lambda c: c["path"] == urllib.parse.urlsplit(url).path, count=2)[1]
    assert "回答" in block_texts(later["body"]["blocks"]) and "基準日" not in block_texts(later["body"]["blocks"])


def test_without_a_bot_token_the_operator_is_told(bot: Bot, tmp_path: Path, fake_slack: FakeSlack,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(API_URL_ENV, fake_slack.api_url)
    with caplog.at_level(logging.WARNING, logger="faqbot.slack"):
        app = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_bot_token=""))
    assert any("SLACK_BOT_TOKEN is not set" in r.getMessage() for r in caplog.records)
    client = app.test_client()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="faqbot.slack"):
        body = mention_body("更新料金はいくらですか？", event_id="EvNoToken", ts="1731000500.000100")
        assert post(client, body, ctype="application/json").status_code == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("was not answered" in r.getMessage()
                                                      for r in caplog.records):
            time.sleep(0.05)
    assert any("channel C123 was not answered: SLACK_BOT_TOKEN is not set" in r.getMessage() for r in caplog.records)
    assert not fake_slack.matching(lambda c: c["path"] == "/api/chat.postMessage")


def test_signed_bodies_of_odd_shapes_are_refused_or_ignored_never_a_500(
        bot: Bot, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a signed body is Slack's word, but its shape is still checked: with the rate limit on, the limiter reads the
    # event before Bolt does, and a list where the user id goes (or brackets past the JSON reader's depth) was a 500
    monkeypatch.setenv(API_URL_ENV, fake_slack.api_url)
    client = create_app(bot=bot, settings=slack_settings(bot, tmp_path, slack_rate_limit="20/minute")).test_client()
    deep = '{"type": "event_callback", "event": ' + "[" * 2000 + "]" * 2000 + "}"
    assert post(client, deep, ctype="application/json").status_code == 400
    listed = json.loads(mention_body("更新料金は？", event_id="EvOdd"))
    listed["event"]["user"] = ["U123"]
    listed["authorizations"] = [{"user_id": ["B1"], "is_bot": True}]
    response = post(client, json.dumps(listed), ctype="application/json")
    assert response.status_code < 500, response.data
