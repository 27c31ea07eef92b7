"""POST /api/feedback: the customer's 👍/👎 on one answer, stored in the shared FeedbackStore."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..core import Bot
from ..logs import mask
from ..state import State
from .payload import PayloadError, json_object, short_text

bp = Blueprint("feedback", __name__)

FIELDS = ("session_id", "intent", "rating", "comment", "version")
MAX_COMMENT = 500


@bp.post("/api/feedback")
def feedback() -> tuple[Response, int]:
    """Store one rating; only what the widget sends is kept (never the question text)."""
    record = _record(json_object(FIELDS))
    state: State = current_app.extensions["faqbot_state"]
    state.feedback.add(record)
    return jsonify(status="stored"), 201


def _record(payload: dict[str, Any]) -> dict[str, Any]:
    session_id = short_text(payload, "session_id", limit=100, required=True)
    intent = short_text(payload, "intent", limit=100)
    rating = payload.get("rating")
    if rating is None:
        raise PayloadError("missing_rating", "'rating' is required: \"up\" or \"down\"")
    if rating not in ("up", "down"):
        raise PayloadError("bad_rating", "'rating' must be \"up\" or \"down\"")
    comment = payload.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise PayloadError("bad_comment", f"'comment' must be a string of at most {MAX_COMMENT} characters")
    bot: Bot = current_app.extensions["faqbot"]
    # the version of the answer being rated, as the widget got it; the serving one when it did not say
    version = short_text(payload, "version", limit=64) or bot.version
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "session_id": session_id,
        "intent": intent,
        "rating": rating,
        "version": version,
    }
    if comment and comment.strip():
        # kept for months (10,000 records) where no one expects personal data: masked as the logs are
        record["comment"] = mask(comment.strip())
    return record
