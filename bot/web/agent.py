"""The agents' API: the what-if calculator and the lists its form is built from."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify

from ..core import Bot, today_in
from ..errors import InputError
from .payload import json_object, parse_day

bp = Blueprint("agent", __name__, url_prefix="/api/agent")

WHATIF_FIELDS = ("text", "today", "product", "intent", "facts")


def _bot() -> Bot:
    bot: Bot = current_app.extensions["faqbot"]
    return bot


@bp.get("/facts")
def facts() -> Response:
    """The facts a what-if may set (name → kind), the products and the intents, for the form; how every fact and
    every product's computed value is named (rules/*.yaml `labels`), as lists: JSON objects lose their order."""
    bot = _bot()
    knowledge = bot.knowledge

    def values(product: str) -> list[dict[str, Any]]:
        display = knowledge.rules.display(product)
        return [{"name": name, "label": label, "unit": display.units.get(name)} for name, label in display.labels]

    return jsonify(
        facts=bot.fact_names(),
        fact_labels=[{"name": name, "label": label} for name, label in knowledge.fact_labels],
        products=[{"id": p.id, "name": p.name, "values": values(p.id)} for p in knowledge.products],
        intents=[{"id": e.id, "question": e.question, "product": e.product} for e in knowledge.entries],
        version=bot.version,
    )


@bp.post("/whatif")
def whatif() -> tuple[Response, int]:
    """A question answered as of a given day with the facts an agent states; the answer carries its trace."""
    payload = json_object(WHATIF_FIELDS)
    bot = _bot()
    text = payload.get("text")
    if text is None:
        raise InputError("missing_text", "'text' is required")
    if not isinstance(text, str):
        raise InputError("bad_text", "'text' must be a string")
    today = parse_day(payload["today"]) if payload.get("today") is not None else today_in(bot.settings.timezone)
    product = _optional_str(payload, "product")
    intent = _optional_str(payload, "intent")
    raw_facts = payload.get("facts")
    if raw_facts is None:
        raw_facts = {}
    if not isinstance(raw_facts, dict):
        raise InputError("bad_facts", "'facts' must be an object of fact name → value, e.g. "
                         '{"expiry": "2024-06-30"}')
    answer = bot.ask(text, today=today, product=product, explain=True, facts=bot.parse_facts(raw_facts),
                     intent=intent, remember=False)  # each what-if stands alone: no conversation is kept
    g.answer = answer  # for the request log
    return jsonify(answer.to_dict()), 200


def _optional_str(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"bad_{name}", f"'{name}' must be a string")
    return value or None
