"""JSON API: /healthz, POST /api/ask, GET /api/faq."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..core import Bot, today_in
from ..errors import InputError
from ..yamlsrc import close_match

bp = Blueprint("api", __name__)

_ASK_KEYS = {"text", "today", "session_id", "product", "explain"}
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _bot() -> Bot:
    bot: Bot = current_app.extensions["faqbot"]
    return bot


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.post("/api/ask")
def ask() -> tuple[Response, int]:
    if not request.is_json:
        return _error("unsupported_media_type", "Content-Type must be application/json", 415)
    payload = request.get_json(silent=True)
    if payload is None:
        return _error("bad_json", "the body is not valid JSON", 400)
    if not isinstance(payload, dict):
        return _error("bad_json", "the body must be a JSON object", 400)
    try:
        args = _ask_args(payload)
        bot = _bot()
        today = args.pop("today") or today_in(bot.settings.timezone)
        answer = bot.ask(args.pop("text"), today=today, **args)
    except InputError as exc:
        return _error(exc.code, exc.message, 400)
    return jsonify(answer.to_dict()), 200


def _ask_args(payload: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(payload) - _ASK_KEYS)
    if unknown:
        hint = close_match(unknown[0], _ASK_KEYS)
        raise InputError("unknown_field", f"unknown field(s): {', '.join(unknown)}"
                         + (f" ({hint})" if hint else f"; the fields are {', '.join(sorted(_ASK_KEYS))}"))
    text = payload.get("text")
    if text is None:
        raise InputError("missing_text", "'text' is required")
    if not isinstance(text, str):
        raise InputError("bad_text", "'text' must be a string")
    today = payload.get("today")
    if today is not None:
        today = _parse_day(today)
    session_id = payload.get("session_id")
    if session_id is not None and (
        not isinstance(session_id, str) or not 0 < len(session_id) <= 100 or not session_id.isprintable()
    ):
        raise InputError("bad_session_id", "'session_id' must be a string of 1 to 100 printable characters")
    product = payload.get("product")
    if product is not None and not isinstance(product, str):
        raise InputError("bad_product", "'product' must be a string")
    explain = payload.get("explain", False)
    if not isinstance(explain, bool):
        raise InputError("bad_explain", "'explain' must be true or false")
    return {"text": text, "today": today, "session_id": session_id, "product": product or None, "explain": explain}


def _parse_day(value: Any) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):  # fromisoformat also takes 2024-W03-2
        raise InputError("bad_today", "'today' must be a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InputError("bad_today", "'today' must be a date written YYYY-MM-DD") from None
    if not 1900 <= day.year <= 2200:
        raise InputError("bad_today", "'today' must be between 1900 and 2200")
    return day


@bp.get("/api/faq")
def faq() -> tuple[Response, int]:
    q = request.args.get("q", "")
    if not q.strip():
        return _error("empty_text", "'q' is empty: give the words to look up, e.g. /api/faq?q=更新料", 400)
    product = request.args.get("product") or None
    raw_limit = request.args.get("limit", "10")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 50:  # int("²") fails
        return _error("bad_limit", "'limit' must be a whole number from 1 to 50", 400)
    try:
        hits = _bot().search(q, product=product, limit=int(raw_limit))
    except InputError as exc:
        return _error(exc.code, exc.message, 400)
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
    return jsonify(query=q, results=results), 200
