"""openapi.yaml against the running app: schemathesis generates valid and invalid requests for every
operation (except Slack's, which needs signed requests; see the spec) and runs all its checks on the answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, settings

from bot import Bot
from bot.web import create_app
from tests.servers import ROOT

SPEC_PATH = ROOT / "openapi.yaml"
CONFIG = schemathesis.config.SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
NOT_FUZZED = {
    "/slack/events",  # every generated request would lack Slack's signature: see the spec
    "/static/faqbot-widget.js",  # a file with no input; the in-process client leaves its stream open
}


@pytest.fixture()
def api_app(bot: Bot, tmp_path: Path) -> Iterator[Flask]:
    """The real app, rate limits off (schemathesis sends hundreds of requests), feedback in a temporary file."""
    app = create_app(bot=bot, settings=bot.settings.with_overrides(rate_limit="off",
                                                                   feedback_file=tmp_path / "feedback.jsonl"))
    app.config["TESTING"] = True
    yield app


# The app is a fixture (built per test from the session's bot), handed to each call: schemathesis's
# from_fixture loader fails under pytest 9 ('Function' object has no attribute '_nodeid').
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG).exclude(path=sorted(NOT_FUZZED))


@schema.parametrize()
@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_api_conforms_to_openapi(case: schemathesis.Case, api_app: Flask) -> None:
    case.call_and_validate(app=api_app)


def test_every_route_is_in_the_spec(api_app: Flask) -> None:
    routes = {(rule.rule, method) for rule in api_app.url_map.iter_rules()
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"} if not rule.rule.startswith("/static/")}
    documented = {(path, method.upper()) for path, ops in SPEC["paths"].items() for method in ops
                  if not path.startswith("/static/")}
    assert routes == documented


def test_the_widget_script_is_documented_and_served(api_app: Flask) -> None:
    assert "/static/faqbot-widget.js" in SPEC["paths"]
    with api_app.test_client().get("/static/faqbot-widget.js") as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"


def test_enumerations_match_the_knowledge(bot: Bot) -> None:
    """The spec lists products, intents and fact names: adding an FAQ entry means adding its id here too."""
    schemas = SPEC["components"]["schemas"]
    products = {p.id for p in bot.knowledge.products}
    assert set(schemas["ProductId"]["enum"]) == products, "openapi.yaml ProductId"
    assert set(schemas["ProductOrEmpty"]["enum"]) == products | {""}, "openapi.yaml ProductOrEmpty"
    assert set(schemas["IntentId"]["enum"]) == {e.id for e in bot.knowledge.entries}, "openapi.yaml IntentId"
    facts = bot.fact_names()
    assert set(schemas["FactName"]["enum"]) == set(facts), "openapi.yaml FactName"
    assert set(schemas["Facts"]["properties"]) == set(facts), "openapi.yaml Facts"
    for name, kind in facts.items():
        prop = schemas["Facts"]["properties"][name]
        expected = {"date": {"$ref": "#/components/schemas/Day"}, "number": "integer", "order_number": "string"}[kind]
        assert prop == expected if kind == "date" else prop["type"] == expected, name


def test_request_bodies_match_the_handlers_fields() -> None:
    from bot.web import agent, api, feedback

    schemas = SPEC["components"]["schemas"]
    assert set(schemas["AskRequest"]["properties"]) == api._ASK_KEYS
    assert set(schemas["FeedbackRequest"]["properties"]) == set(feedback.FIELDS)
    assert set(schemas["WhatifRequest"]["properties"]) == set(agent.WHATIF_FIELDS)


# Cases schemathesis found (each was a 500 or a contract breach), kept so they stay fixed whatever it draws.
FOUND = [
    ("POST", "/api/agent/whatif", {"text": "更新", "intent": "renew-after-expiry", "facts": {"expiry": "9999-12-31"}},
     400, "bad_fact"),  # was a 500: the renewal deadline overflowed the calendar
    ("POST", "/api/agent/whatif", {"text": "更新", "intent": "payment-reflection", "facts": {"payment": "0001-01-01"}},
     400, "bad_fact"),  # was a 500
    ("POST", "/api/agent/whatif", {"text": "更新", "intent": "renew-early", "facts": {"years": 3.0}},
     200, None),  # JSON has one number type: 3.0 is the integer 3
    ("GET", "/api/faq?q=更新&limit=²", None, 400, "bad_limit"),  # was a 500: "²".isdigit() but int("²") fails
    ("POST", "/api/ask", {"text": "更新", "today": "2024-W03-2"}, 400, "bad_today"),  # an ISO week date
    ("POST", "/api/ask", {"text": "更新\u0085" + "*" * 999}, 400, "text_too_long"),  # 1,001 sent, 1,000 kept
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), FOUND)
def test_cases_schemathesis_found(api_app: Flask, method: str, path: str, body: dict[str, Any] | None, status: int,
                                  code: str | None) -> None:
    response = api_app.test_client().open(path, method=method, json=body)
    assert response.status_code == status, response.get_json()
    if code:
        assert response.get_json()["error"]["code"] == code
