"""The JSON API: the response shape of SPEC.md, and 4xx JSON for every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from bot.core import Bot
from bot.web import create_app

ANSWER_KEYS = {"answer", "intent", "confidence", "product", "computed", "rule", "follow_up", "suggestions",
               "session_id", "version", "links"}


def _ask(client: FlaskClient, payload: Any, **kw: Any) -> Any:
    return client.post("/api/ask", data=json.dumps(payload, ensure_ascii=False), content_type="application/json", **kw)


def test_healthz(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_ask_shape_and_unescaped_japanese(client: FlaskClient) -> None:
    r = _ask(client, {"text": "更新したらアプリを入れ直す必要はありますか", "today": "2025-05-15"})
    assert r.status_code == 200
    body = r.get_json()
    assert ANSWER_KEYS <= set(body)
    assert body["intent"] == "no-reinstall"
    assert body["product"] == "virusbuster"
    assert 0.0 <= body["confidence"] <= 1.0
    assert "再インストール" in body["answer"]
    assert "再インストール".encode() in r.data  # ensure_ascii is off: readable UTF-8, not \\u escapes


def test_out_of_scope_is_honest(client: FlaskClient) -> None:
    body = _ask(client, {"text": "明日の東京の天気を教えてください"}).get_json()
    assert body["intent"] is None
    assert "見つかりませんでした" in body["answer"]
    assert "お問い合わせ" in body["answer"] or "問い合わせ" in body["answer"]


def test_session_id_is_returned_and_kept(client: FlaskClient) -> None:
    first = _ask(client, {"text": "更新料はいくら？"}).get_json()
    assert len(first["session_id"]) >= 16
    again = _ask(client, {"text": "更新料はいくら？", "session_id": "abc-123"}).get_json()
    assert again["session_id"] == "abc-123"


def test_explicit_product(client: FlaskClient) -> None:
    body = _ask(client, {"text": "契約応当日はいつですか", "product": "adobe-vip"}).get_json()
    assert body["product"] == "adobe-vip"


BAD_JSON_BODIES = [
    (b"{not json", "bad_json"),
    (b"[1, 2]", "bad_json"),
    (b'"text"', "bad_json"),
    (b"\xff\xfe\x00", "bad_json"),
    (b"", "bad_json"),
]


@pytest.mark.parametrize(("raw", "code"), BAD_JSON_BODIES)
def test_bad_json(client: FlaskClient, raw: bytes, code: str) -> None:
    r = client.post("/api/ask", data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == code


BAD_FIELDS = [
    ({}, "missing_text"),
    ({"text": None}, "missing_text"),
    ({"text": 12}, "bad_text"),
    ({"text": ["更新"]}, "bad_text"),
    ({"text": ""}, "empty_text"),
    ({"text": "   \n\t "}, "empty_text"),
    ({"text": "\x00\x01\x02\x7f"}, "empty_text"),
    ({"text": "あ" * 1001}, "text_too_long"),
    ({"text": "更新", "today": "2025-13-01"}, "bad_today"),
    ({"text": "更新", "today": "2025/05/15"}, "bad_today"),
    ({"text": "更新", "today": "0001-01-01"}, "bad_today"),
    ({"text": "更新", "today": 20250515}, "bad_today"),
    ({"text": "更新", "today": "2025-05-15T00:00"}, "bad_today"),
    ({"text": "更新", "session_id": 5}, "bad_session_id"),
    ({"text": "更新", "session_id": "x" * 101}, "bad_session_id"),
    ({"text": "更新", "session_id": "a\nb"}, "bad_session_id"),
    ({"text": "更新", "product": 3}, "bad_product"),
    ({"text": "更新", "product": "norton"}, "bad_product"),
    ({"text": "更新", "explain": "yes"}, "bad_explain"),
    ({"text": "更新", "colour": "blue"}, "unknown_field"),
]


@pytest.mark.parametrize(("payload", "code"), BAD_FIELDS)
def test_bad_fields(client: FlaskClient, payload: dict[str, Any], code: str) -> None:
    r = _ask(client, payload)
    assert r.status_code == 400, r.data
    error = r.get_json()["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize(("today", "says"), [
    ("2025-02-30", "'today' must be a day of the calendar: 2025-02 has 28 days"),
    ("2024-02-29", None),
    ("2025-04-31", "'today' must be a day of the calendar: 2025-04 has 30 days"),
    ("2201-01-01", "'today' must be a date from 1900 to 2200"),
    ("2025/05/15", "'today' must be a date written YYYY-MM-DD"),
])
def test_bad_today_says_what_is_wrong(client: FlaskClient, today: str, says: str | None) -> None:
    r = _ask(client, {"text": "更新", "today": today})
    if says is None:
        assert r.status_code == 200, r.data
    else:
        assert r.status_code == 400 and r.get_json()["error"]["message"] == says


def test_control_characters_inside_text_are_dropped(client: FlaskClient) -> None:
    r = _ask(client, {"text": "更新料は\x00いくら\x1b？"})
    assert r.status_code == 200


def test_not_json_is_415(client: FlaskClient) -> None:
    r = client.post("/api/ask", data="text=更新", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"


def test_huge_body_is_413(client: FlaskClient) -> None:
    r = _ask(client, {"text": "あ" * 50_000})
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "request_entity_too_large"
    # the message says what fits, not only that something did not
    assert "16,384 bytes" in r.get_json()["error"]["message"] and "1,000 characters" in r.get_json()["error"]["message"]


# half of a UTF-16 pair, escaped on its own: valid JSON, but no UTF-8 can carry it back in a reply or a record
LONE_SURROGATES = [
    ("/api/ask", b'{"text": "hi", "product": "\\ud800"}', 400),
    ("/api/ask", b'{"text": "hi", "\\udfff": 1}', 400),
    ("/api/ask", b'{"text": "\\u66f4\\u65b0\\u6599\\u91d1\\ud83d"}', 200),  # 更新料金 and half an emoji
    ("/api/agent/whatif", b'{"text": "x", "facts": {"\\ud800": "1"}}', 400),
    ("/api/agent/whatif", b'{"text": "x", "intent": "\\ud800"}', 400),
    ("/api/agent/whatif", b'{"text": "x", "product": "\\udc00"}', 400),
    ("/api/feedback", b'{"session_id": "s1", "rating": "up", "comment": "\\ud800"}', 201),
    # the same half written as raw UTF-8 bytes, which Python's JSON reader lets through too: it was a 500 when the
    # feedback file was written
    ("/api/feedback", b'{"session_id": "s1", "rating": "up", "comment": "ok\xed\xa0\x80"}', 201),
    ("/api/ask", b'{"text": "\xe6\x9b\xb4\xe6\x96\xb0\xe6\x96\x99\xe9\x87\x91\xed\xa0\xbd"}', 200),
]


@pytest.mark.parametrize(("path", "body", "status"), LONE_SURROGATES)
def test_a_lone_surrogate_is_read_as_a_replacement_character(client: FlaskClient, path: str, body: bytes,
                                                             status: int) -> None:
    r = client.post(path, data=body, content_type="application/json")
    assert r.status_code == status, r.data
    assert json.loads(r.data)  # the reply is UTF-8 JSON, quoting the field as U+FFFD where it quotes it
    if status == 400:
        assert "\ufffd" in r.get_json()["error"]["message"]


def test_null_is_json_but_not_an_object(client: FlaskClient) -> None:
    r = client.post("/api/ask", data=b"null", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "the body must be a JSON object, not null"


def test_wrong_method_keeps_allow_header(client: FlaskClient) -> None:
    r = client.get("/api/ask")
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]
    assert r.get_json()["error"]["code"] == "method_not_allowed"


def test_unknown_path_is_json_404(client: FlaskClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_faq_lookup(client: FlaskClient) -> None:
    r = client.get("/api/faq", query_string={"q": "インボイス 発行", "limit": "3"})
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert 0 < len(results) <= 3
    assert {"intent", "product", "question", "answer", "score", "links"} <= set(results[0])
    assert any("インボイス" in x["answer"] for x in results)
    scores = [x["score"] for x in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("q", "outside"), [("ノートンの更新料金", True), ("今日の天気は？", True), ("更新料", False),
                                           ("領収書", False)])
def test_faq_lookup_says_when_the_bot_would_refuse_the_question(client: FlaskClient, q: str, outside: bool) -> None:
    body = client.get("/api/faq", query_string={"q": q}).get_json()
    assert body["out_of_scope"] is outside
    assert body["results"]  # the nearest entries are listed all the same
    asked = client.post("/api/ask", json={"text": q, "today": "2025-05-15"}).get_json()
    assert (asked["intent"] is None) if outside else (asked["intent"] is not None)


def test_faq_lookup_product_filter(client: FlaskClient) -> None:
    results = client.get("/api/faq", query_string={"q": "更新", "product": "adobe-vip"}).get_json()["results"]
    assert results and {x["product"] for x in results} == {"adobe-vip"}


@pytest.mark.parametrize(
    ("query", "code"),
    [({"q": ""}, "empty_text"), ({"q": "更新", "limit": "0"}, "bad_limit"), ({"q": "更新", "limit": "x"}, "bad_limit"),
     ({"q": "更新", "product": "nope"}, "bad_product")],
)
def test_faq_lookup_bad_input(client: FlaskClient, query: dict[str, str], code: str) -> None:
    r = client.get("/api/faq", query_string=query)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code


@pytest.mark.parametrize(("q", "code"), [("\x00\x7f", "empty_text"), ("更新" * 501, "text_too_long")])
def test_faq_lookup_errors_name_its_parameter(client: FlaskClient, q: str, code: str) -> None:
    # the look-up's parameter is q: an error about 'text' would send the caller looking for a field it never sent
    error = client.get("/api/faq", query_string={"q": q}).get_json()["error"]
    assert error["code"] == code and error["message"].startswith("'q' is"), error


def test_a_slack_conversation_cannot_be_continued_from_the_api(client: FlaskClient) -> None:
    # slack:T:C:U names a team, channel and person, which are no secret: the API continued their pending question
    r = client.post("/api/ask", json={"text": "2023年6月30日です", "session_id": "slack:T1:C1:U1"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_session_id"
    assert "slack:" in r.get_json()["error"]["message"]



@pytest.mark.parametrize(("path", "body"), [
    ("/api/ask", b'{"text": ' + b"[" * 2000 + b"]" * 2000 + b"}"),
    ("/api/feedback", b'{"session_id": "s1", "rating": "up", "comment": ' + b"[" * 2000 + b"]" * 2000 + b"}"),
    ("/api/agent/whatif", b'{"text": "x", "facts": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2001),
])
def test_json_nested_deeper_than_the_parser_reads_is_a_400(client: FlaskClient, path: str, body: bytes) -> None:
    # 4 KB of brackets took Python's JSON reader past its recursion limit: a RecursionError, a 500
    r = client.post(path, data=body, content_type="application/json")
    assert r.status_code == 400, r.data
    assert r.get_json()["error"] == {"code": "bad_json", "message": "the body is nested too deeply to read"}


def test_retry_after_is_on_the_refusal_only(bot: Bot) -> None:
    # Flask-Limiter writes its window's Retry-After on every answer of a limited route: a client honouring it
    # would wait a minute after a 200
    client = create_app(bot=bot, settings=bot.settings.with_overrides(rate_limit="2/minute")).test_client()
    answered = [client.post("/api/ask", json={"text": "更新料金はいくらですか？"}) for _ in range(2)]
    refused = client.post("/api/ask", json={"text": "更新料金はいくらですか？"})
    assert [r.status_code for r in answered] == [200, 200] and refused.status_code == 429
    assert all("Retry-After" not in r.headers and r.headers["X-RateLimit-Limit"] == "2" for r in answered)
    assert int(refused.headers["Retry-After"]) > 0
