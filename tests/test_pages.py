"""The pages (/ and /agent) and their APIs through Flask's test client: feedback, what-if, contact, AGENT_TOKEN."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot import Bot
from bot.web import create_app

from .conftest import TODAY

TOKEN = "agent-s3cret-token"


def _app(bot: Bot, tmp_path: Path, **overrides: Any) -> Flask:
    settings = bot.settings.with_overrides(feedback_file=tmp_path / "feedback.jsonl", rate_limit="off", **overrides)
    app = create_app(bot=bot, settings=settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def page_app(bot: Bot, tmp_path: Path) -> Iterator[Flask]:
    yield _app(bot, tmp_path)


@pytest.fixture()
def pc(page_app: Flask) -> FlaskClient:
    return page_app.test_client()


@pytest.fixture()
def guarded(bot: Bot, tmp_path: Path) -> FlaskClient:
    """A client of an app with AGENT_TOKEN set."""
    return _app(bot, tmp_path, agent_token=TOKEN).test_client()


def _post(client: FlaskClient, path: str, payload: Any, **kw: Any) -> Any:
    return client.post(path, data=json.dumps(payload, ensure_ascii=False), content_type="application/json", **kw)


class _Page(HTMLParser):
    """What a page's markup holds: its tags with attributes, and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "style" in a or tag == "style" or any(k.startswith("on") for k in a):
            self.inline.append(f"<{tag} {a}>")
        self._in_script = tag == "script"
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"script body: {data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


# --- pages ---------------------------------------------------------------------------------------------------


def test_chat_page_markup(pc: FlaskClient) -> None:
    r = pc.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = _parse(r.get_data(as_text=True))
    assert page.find("html")[0]["lang"] == "ja"
    logs = page.find("div", role="log")
    assert len(logs) == 1 and logs[0]["aria-live"] == "polite"  # the live region is there before any message
    textarea = page.find("textarea")[0]
    assert page.find("label", **{"for": str(textarea["id"])}), "the question box has a label"
    assert page.find("button", type="submit"), "a visible send button"
    assert page.inline == [], "the CSP forbids inline script, style and event handlers"


def test_page_assets_are_served(pc: FlaskClient) -> None:
    for path in ("/", "/agent"):
        page = _parse(pc.get(path).get_data(as_text=True))
        assets = [a["src"] for a in page.find("script")] + [a["href"] for a in page.find("link")]
        assert len(assets) >= 3
        for url in assets:
            assert url and url.startswith("/static/"), url  # same origin: no CDN
            r = pc.get(url)
            assert r.status_code == 200, url
            r.close()


def test_agent_page_markup(pc: FlaskClient, guarded: FlaskClient) -> None:
    page = _parse(pc.get("/agent").get_data(as_text=True))
    assert page.find("body")[0]["data-token-required"] == "false"
    assert page.inline == []
    assert page.find("input", id="search-q") and page.find("form", id="whatif-form")
    r = guarded.get("/agent")
    assert r.status_code == 200  # the page holds no data: its API asks for the token
    assert _parse(r.get_data(as_text=True)).find("body")[0]["data-token-required"] == "true"


def test_contact_is_the_documents_text(pc: FlaskClient, bot: Bot) -> None:
    r = pc.get("/api/contact")
    assert r.status_code == 200
    assert r.get_json()["contacts"] == [{"product": p.id, "name": p.name, "contact": p.contact}
                                        for p in bot.knowledge.products]
    assert r.headers["Access-Control-Allow-Origin"] == "*"  # the widget embedded on another site reads it


# --- feedback ------------------------------------------------------------------------------------------------


def _stored(app: Flask) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = app.extensions["faqbot_state"].feedback.recent(10)
    return records


def test_feedback_is_stored(page_app: Flask, bot: Bot) -> None:
    client = page_app.test_client()
    answer = _post(client, "/api/ask", {"text": "更新料はいくら？", "today": TODAY.isoformat()}).get_json()
    r = _post(client, "/api/feedback", {"session_id": answer["session_id"], "intent": answer["intent"],
                                        "rating": "down", "comment": "  料金が載っていない  ",
                                        "version": answer["version"]})
    assert r.status_code == 201 and r.get_json() == {"status": "stored"}
    [record] = _stored(page_app)
    assert record["session_id"] == answer["session_id"]
    assert record["intent"] == answer["intent"] and record["rating"] == "down"
    assert record["comment"] == "料金が載っていない"
    assert record["version"] == answer["version"]
    assert record["time"].endswith("+00:00")  # UTC
    assert "更新料" not in json.dumps(record, ensure_ascii=False)  # the question itself is not kept


def test_a_feedback_comment_is_stored_masked(page_app: Flask) -> None:
    # kept for months in the feedback store, where nobody looks for personal data to delete
    comment = "taro@example.com 090-1234-5678 AB-20240116123456-123456789 に連絡ください"
    r = _post(page_app.test_client(), "/api/feedback", {"session_id": "s-2", "intent": None, "rating": "down",
                                                        "comment": comment})
    assert r.status_code == 201
    [record] = _stored(page_app)
    assert record["comment"] == "[email] [phone] [order] に連絡ください"


def test_feedback_defaults(page_app: Flask, bot: Bot) -> None:
    r = _post(page_app.test_client(), "/api/feedback", {"session_id": "s-1", "intent": None, "rating": "up"})
    assert r.status_code == 201
    [record] = _stored(page_app)
    assert record["intent"] is None and record["version"] == bot.version and "comment" not in record


@pytest.mark.parametrize(("payload", "code"), [
    ({"intent": None, "rating": "up"}, "missing_session_id"),
    ({"session_id": "", "rating": "up"}, "bad_session_id"),
    ({"session_id": "x" * 101, "rating": "up"}, "bad_session_id"),
    ({"session_id": "a\nb", "rating": "up"}, "bad_session_id"),
    ({"session_id": 5, "rating": "up"}, "bad_session_id"),
    ({"session_id": "s"}, "missing_rating"),
    ({"session_id": "s", "rating": "👍"}, "bad_rating"),
    ({"session_id": "s", "rating": True}, "bad_rating"),
    ({"session_id": "s", "rating": "up", "intent": 3}, "bad_intent"),
    ({"session_id": "s", "rating": "up", "intent": ""}, "bad_intent"),
    ({"session_id": "s", "rating": "up", "comment": "あ" * 501}, "bad_comment"),
    ({"session_id": "s", "rating": "up", "comment": ["x"]}, "bad_comment"),
    ({"session_id": "s", "rating": "up", "version": 1}, "bad_version"),
    ({"session_id": "s", "rating": "up", "question": "更新料"}, "unknown_field"),
    ([1, 2], "bad_json"),
])
def test_feedback_refuses_bad_input(pc: FlaskClient, page_app: Flask, payload: Any, code: str) -> None:
    r = _post(pc, "/api/feedback", payload)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert _stored(page_app) == []


def test_feedback_comment_at_the_limit(pc: FlaskClient) -> None:
    assert _post(pc, "/api/feedback", {"session_id": "s", "rating": "up", "comment": "あ" * 500}).status_code == 201


def test_feedback_needs_json(pc: FlaskClient) -> None:
    r = pc.post("/api/feedback", data="session_id=s&rating=up", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = pc.post("/api/feedback", data="{nope", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"
    assert pc.get("/api/feedback").status_code == 405


# --- the agents' API ------------------------------------------------------------------------------------------


def test_agent_facts_lists_the_form(pc: FlaskClient, bot: Bot) -> None:
    body = pc.get("/api/agent/facts").get_json()
    assert body["facts"] == bot.fact_names()
    assert [(p["id"], p["name"]) for p in body["products"]] == [(p.id, p.name) for p in bot.knowledge.products]
    # every computed value is labelled, in its rule file's order, and a count of days has its unit
    (vb,) = [p for p in body["products"] if p["id"] == "virusbuster"]
    assert [v["name"] for v in vb["values"]][:3] == ["renewal_deadline", "days_left", "days_over"]
    assert {"name": "days_left", "label": "期限までの日数", "unit": "日"} in vb["values"]
    assert [f["name"] for f in body["fact_labels"]][:2] == ["expiry", "first_order"]
    assert [i["id"] for i in body["intents"]] == [e.id for e in bot.knowledge.entries]
    assert all(set(i) == {"id", "question", "product"} for i in body["intents"])


def test_whatif_computes_with_the_agents_facts(pc: FlaskClient) -> None:
    r = _post(pc, "/api/agent/whatif", {"text": "期限が切れても更新できますか", "today": "2025-05-15",
                                        "facts": {"expiry": "2023-06-30"}})
    assert r.status_code == 200
    body = r.get_json()
    assert body["intent"] == "renew-after-expiry"
    assert body["computed"]["renewal_deadline"] == "2025-06-30" and body["computed"]["days_left"] == 46
    assert "2025年6月30日" in body["answer"]
    assert body["trace"]["today"] == "2025-05-15"
    assert body["trace"]["rule"] == body["rule"] == "renew-after-expiry-renewable"


@pytest.mark.parametrize("facts", [{"expiry": "2023-06-30"}, {}])  # an answer worked out from a date; a follow-up
def test_whatif_keeps_no_conversation(pc: FlaskClient, bot: Bot, facts: dict[str, str]) -> None:
    body = _post(pc, "/api/agent/whatif", {"text": "期限が切れても更新できますか", "today": "2025-05-15",
                                           "facts": facts}).get_json()
    assert body["computed"].get("renewal_deadline") if facts else body["follow_up"]
    assert bot.sessions.get(body["session_id"]) is None
    customer = _post(pc, "/api/ask", {"text": "期限が切れても更新できますか", "today": "2025-05-15"}).get_json()
    assert bot.sessions.get(customer["session_id"]) is not None  # the customer's question waits for the date


def test_whatif_as_of_another_day(pc: FlaskClient) -> None:
    body = _post(pc, "/api/agent/whatif", {"text": "期限が切れても更新できますか", "today": "2025-07-01",
                                           "facts": {"expiry": "2023-06-30"}}).get_json()
    assert body["rule"] == "renew-after-expiry-too-late" and body["computed"]["renewable"] is False


def test_whatif_named_intent_and_order_number(pc: FlaskClient) -> None:
    body = _post(pc, "/api/agent/whatif", {"text": "領収書", "intent": "invoice-by-order-number",
                                           "facts": {"order_number": "AB-72024011612345-123456789"}}).get_json()
    assert body["intent"] == "invoice-by-order-number"
    assert body["computed"]["order_kind"] == "seven"


def test_whatif_adobe_dates(pc: FlaskClient) -> None:
    body = _post(pc, "/api/agent/whatif", {"text": "契約応当日はいつですか", "product": "adobe-vip",
                                           "today": "2025-05-15", "facts": {"first_order": "2024-01-16"}}).get_json()
    assert body["product"] == "adobe-vip"
    assert body["computed"]["anniversary_from_order"] == "2025-01-16"


@pytest.mark.parametrize(("payload", "code"), [
    ({}, "missing_text"),
    ({"text": 1}, "bad_text"),
    ({"text": "  "}, "empty_text"),
    ({"text": "更新", "today": "2025/05/15"}, "bad_today"),
    ({"text": "更新", "facts": ["expiry"]}, "bad_facts"),
    ({"text": "更新", "facts": {"expiry": "2023-02-30"}}, "bad_fact"),
    ({"text": "更新", "facts": {"expirey": "2023-06-30"}}, "bad_fact"),
    ({"text": "更新", "facts": {"years": "3"}}, "bad_fact"),
    # was a 500: 100,000 years moved the expiry out of the calendar; a question can give 1 to 99
    ({"text": "更新", "intent": "renew-early", "facts": {"expiry": "2025-08-01", "years": 100000}}, "bad_fact"),
    ({"text": "更新", "facts": {"order_number": "12345"}}, "bad_fact"),
    ({"text": "更新", "intent": "renew-after-expiri"}, "bad_intent"),
    ({"text": "更新", "intent": 7}, "bad_intent"),
    ({"text": "更新", "product": "norton"}, "bad_product"),
    ({"text": "更新", "explain": False}, "unknown_field"),
])
def test_whatif_refuses_bad_input(pc: FlaskClient, payload: dict[str, Any], code: str) -> None:
    r = _post(pc, "/api/agent/whatif", payload)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] == code


def test_whatif_says_which_day_does_not_exist(pc: FlaskClient) -> None:
    r = _post(pc, "/api/agent/whatif", {"text": "更新", "facts": {"added": "2025-02-30"}})
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "fact 'added' must be a day of the calendar: 2025-02 has 28 days"


def test_whatif_needs_json(pc: FlaskClient) -> None:
    r = pc.post("/api/agent/whatif", data="text=x", content_type="text/plain")
    assert r.status_code == 415


# --- AGENT_TOKEN ------------------------------------------------------------------------------------------------


AGENT_CALLS = [("GET", "/api/faq?q=インボイス", None), ("GET", "/api/agent/facts", None),
               ("POST", "/api/agent/whatif", {"text": "更新できますか"})]


@pytest.mark.parametrize(("method", "path", "body"), AGENT_CALLS)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                    "Bearer ", "Bearer トークン", "bearer wrong-token", f"Bearers {TOKEN}",
                                    TOKEN, f"Bearer{TOKEN}"])
def test_agent_api_refuses_without_the_token(guarded: FlaskClient, method: str, path: str, body: Any,
                                             header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = guarded.open(path, method=method, headers=headers, json=body)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), AGENT_CALLS)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])  # case-insensitive: RFC 7235 §2.1
def test_agent_api_with_the_token(guarded: FlaskClient, method: str, path: str, body: Any, scheme: str) -> None:
    r = guarded.open(path, method=method, headers={"Authorization": f"{scheme} {TOKEN}"}, json=body)
    assert r.status_code == 200


def test_customer_endpoints_need_no_token(guarded: FlaskClient) -> None:
    assert guarded.get("/").status_code == 200
    assert guarded.get("/api/contact").status_code == 200
    assert _post(guarded, "/api/ask", {"text": "更新料はいくら？"}).status_code == 200
    assert _post(guarded, "/api/feedback", {"session_id": "s", "rating": "up"}).status_code == 201


def test_no_token_configured_means_open(pc: FlaskClient) -> None:
    assert pc.get("/api/faq?q=インボイス").status_code == 200
    assert pc.get("/api/agent/facts").status_code == 200



# Computations whose value is a date (or a list of dates) that the answer computed, not one the customer stated.
_DATE_OPS = {"add", "day_before", "next_day_of_month", "next_anniversary", "sign_schedule"}


def test_every_computed_date_is_shown_at_a_glance(bot: Bot) -> None:
    # a date left out of a product's glance is dropped from the widget's panel and from Slack's fields
    # (later_sign_expiries was, when the later Sign order came in); the loader checks every value has a label
    for product, comps in bot.knowledge.rules.computations.items():
        names = {name for name, comp in comps.items() if comp.op in _DATE_OPS}
        shown = {item.name for item in bot.knowledge.rules.display(product).glance}
        assert names - shown == set(), product
    assert "later_sign_expiries" in {item.name for item in bot.knowledge.rules.display("adobe-vip").glance}
