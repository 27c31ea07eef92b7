"""Rate limits (Flask-Limiter): counters in Redis when REDIS_URL is set, so workers and hosts share them."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# The client address comes from ProxyFix (see create_app), never from parsing X-Forwarded-For here.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True, strategy="moving-window")

ASK_LIMIT = "60/minute;10/second"  # a person chatting never comes near this; a script does
FEEDBACK_LIMIT = "30/minute"
SLACK_LIMIT = "20/minute"


def slack_key() -> str:
    """Slack requests all come from Slack's addresses: limit per team and user instead."""
    form = request.form
    team = form.get("team_id", "")
    user = form.get("user_id", "")
    return f"slack:{team}:{user}" if team or user else f"slack:{get_remote_address()}"
