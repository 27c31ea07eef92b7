"""JSON API: /healthz, POST /api/ask, GET /api/faq."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from ..core import Bot, today_in
from ..errors import InputError
from .payload import error, json_object, parse_day
from .slack import SLACK_SESSIONS

bp = Blueprint("api", __name__)

_ASK_KEYS = {"text", "today", "session_id", "product", "explain"}


def _bot() -> Bot:
    bot: Bot = current_app.extensions["faqbot"]
    return bot


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.post("/api/ask")
def ask() -> tuple[Response, int]:
    args = _ask_args(json_object(_ASK_KEYS))
    bot = _bot()
    today = args.pop("today") or today_in(bot.settings.timezone)
    answer = bot.ask(args.pop("text"), today=today, **args)
    g.answer = answer  # for the request log
    return jsonify(answer.to_dict()), 200


def _ask_args(payload: dict[str, Any]) -> dict[str, Any]:
    text = payload.get("text")
    if text is None:
        raise InputError("missing_text", "'text' is required")
    if not isinstance(text, str):
        raise InputError("bad_text", "'text' must be a string")
    today = payload.get("today")
    if today is not None:
        today = parse_day(today)
    session_id = payload.get("session_id")
    if session_id is not None and (
        not isinstance(session_id, str) or not 0 < len(session_id) <= 100 or not session_id.isprintable()
    ):
        raise InputError("bad_session_id", "'session_id' must be a string of 1 to 100 printable characters")
    if session_id is not None and session_id.startswith(SLACK_SESSIONS):
        # a Slack conversation's id names its team, channel and user, which are no secret: the API would
        # otherwise continue (and use up) a person's pending question in Slack
        raise InputError("bad_session_id", f"'session_id' may not start with '{SLACK_SESSIONS}' (Slack's "
                                           "conversations): use the id an answer gave, or leave it out")
    product = payload.get("product")
    if product is not None and not isinstance(product, str):
        raise InputError("bad_product", "'product' must be a string")
    explain = payload.get("explain", False)
    if not isinstance(explain, bool):
        raise InputError("bad_explain", "'explain' must be true or false")
    return {"text": text, "today": today, "session_id": session_id, "product": product or None, "explain": explain}


@bp.get("/api/faq")
def faq() -> tuple[Response, int]:
    q = request.args.get("q", "")
    if not q.strip():
        return error("empty_text", "'q' is empty: give the words to look up, e.g. /api/faq?q=更新料", 400)
    product = request.args.get("product") or None
    raw_limit = request.args.get("limit", "10")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 50:  # int("²") fails
        return error("bad_limit", "'limit' must be a whole number from 1 to 50", 400)
    bot = _bot()
    hits = bot.search(q, product=product, limit=int(raw_limit), name="q")
    outside = bot.out_of_scope(q, today=today_in(bot.settings.timezone), product=product)
    results = [
        {
            "intent": h.entry.id,
            "product": h.entry.product,
            "section": h.entry.section,
            "question": h.entry.question,
            "answer": h.entry.answer,
            "links": list(h.entry.links),
            "matched": h.matched,
            "score": h.score,
        }
        for h in hits
    ]
    return jsonify(query=q, results=results, out_of_scope=outside), 200
