"""Conversations from tests/data/conversations.yaml, asked over the HTTP API with a fixed today."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

CASES = yaml.safe_load((Path(__file__).parent / "data" / "conversations.yaml").read_text(encoding="utf-8"))


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_conversation(client: FlaskClient, case: dict[str, Any]) -> None:
    session_id = None
    for n, turn in enumerate(case["turns"], 1):
        payload = {"text": turn["text"], "today": _iso(turn["today"])}
        if session_id:
            payload["session_id"] = session_id
        r = client.post("/api/ask", data=json.dumps(payload), content_type="application/json")
        assert r.status_code == 200
        body = r.get_json()
        session_id = body["session_id"]
        exp = turn["expect"]
        where = f"turn {n} ({turn['text']}): {body['intent']} / {body['rule']}\n{body['answer']}"
        if "intent" in exp:
            assert body["intent"] == exp["intent"], where
        if "rule" in exp:
            assert body["rule"] == exp["rule"], where
        for name, value in (exp.get("computed") or {}).items():
            assert body["computed"].get(name) == _iso(value), f"{name}: {where}"
        for text in exp.get("says", []):
            assert text in body["answer"], f"missing '{text}': {where}"
        if exp.get("follow_up"):
            assert body["follow_up"] and body["follow_up"] in body["answer"], where
