"""Rate limits (Flask-Limiter), one Limiter per app: counters in Redis when REDIS_URL is set, so workers and
hosts share them; in the app's own memory otherwise (so two apps in one process never share counters).

Limits are attached to endpoints by URL from create_app, after every blueprint is registered, so the modules
that define the routes need not know about rate limits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..config import Settings, env_name, limit_problem
from .payload import loads
from .slack import by_a_bot, signed_by_slack

# (path or path prefix, whether it is a prefix) → the per-client limit; /slack/events gets the Slack one
_CLIENT_PATHS = (("/api/ask", False), ("/api/feedback", False), ("/api/faq", False),
                 ("/api/agent", False), ("/api/agent/", True))
SLACK_PATH = "/slack/events"


def parse_limit(value: str, setting: str) -> str | None:
    """A Flask-Limiter limit string checked now (None for "off"); ValueError naming the variable otherwise."""
    if value.strip().lower() == "off":
        return None
    if why := limit_problem(value):
        raise ValueError(f"{env_name(setting)}={value!r}: {why}")
    return value


def check_limits(settings: Settings) -> None:
    """Raise ValueError for a malformed FAQBOT_RATE_LIMIT or FAQBOT_SLACK_RATE_LIMIT (before serving)."""
    parse_limit(settings.rate_limit, "rate_limit")
    parse_limit(settings.slack_rate_limit, "slack_rate_limit")


def slack_key() -> str:
    """Slack requests all come from Slack's addresses: limit per team and user instead.

    Reads the cached raw body, never `request.form`: parsing the form first would leave Bolt an empty body and
    break its signature check. Commands carry team_id/user_id form fields, interactive actions a JSON `payload`
    field, Events API calls a JSON body with the team and the event's user.
    """
    body = request.get_data(cache=True)
    team = user = ""
    if request.mimetype == "application/json":
        try:
            data = loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            team = _text(data.get("team_id")) or _text(_get(data, "event", "team"))
            user = _text(_get(data, "event", "user"))
    else:
        form = parse_qs(body.decode("utf-8", "replace"))
        team = form.get("team_id", [""])[0]
        user = form.get("user_id", [""])[0]
        if not (team or user) and "payload" in form:
            try:
                payload = loads(form["payload"][0])
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                team = _text(_get(payload, "team", "id"))
                user = _text(_get(payload, "user", "id"))
    return f"slack:{team}:{user}" if team or user else f"slack:{get_remote_address()}"


def init_limits(app: Flask, settings: Settings, storage_uri: str) -> Limiter:
    """Give `app` its own Limiter and apply the settings' limits to the routes registered so far."""
    client_limit = parse_limit(settings.rate_limit, "rate_limit")
    slack_limit = parse_limit(settings.slack_rate_limit, "slack_rate_limit")
    if storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
        # the same short timeouts as the state's Redis client; Flask-Limiter reads these from the config
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
            "socket_connect_timeout": 1.0, "socket_timeout": 1.0, "retry": Retry(NoBackoff(), 1)})
    limiter = Limiter(
        key_func=get_remote_address,  # the client address from ProxyFix (see create_app)
        storage_uri=storage_uri,
        headers_enabled=True,  # X-RateLimit-* on every limited response, Retry-After on the 429
        retry_after="delta-seconds",
        strategy="moving-window",
        key_prefix="faqbot",
        # Redis down: count in this process's memory until it is back (checked with backoff), rather than
        # refuse every request; requests that really need Redis (sessions) get their own 503
        in_memory_fallback_enabled=True,
        enabled=bool(client_limit or slack_limit),  # both "off": no per-request check at all
    )
    limiter.init_app(app)
    # Every limit here is a decorated view's, which its wrapper checks when the view runs. The before_request
    # check Flask-Limiter also installs serves default, application and meta limits, of which there are none:
    # it would only resolve an empty set on every request, those without a limit included.
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # not there when the limiter is disabled
        hooks.remove(limiter._check_request_limit)
    chosen: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {}
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if slack_limit and path == SLACK_PATH:
            # an unsigned request is refused (401) uncounted: the team and user it names are nobody's word, and
            # counting them let anyone use up a chosen person's limit
            chosen[rule.endpoint] = limiter.limit(slack_limit, key_func=slack_key,
                                                  exempt_when=partial(_uncounted, settings.slack_signing_secret or ""))
        elif client_limit and any(path.startswith(p) if prefix else path == p for p, prefix in _CLIENT_PATHS):
            chosen[rule.endpoint] = limiter.limit(client_limit)
    for endpoint, decorator in chosen.items():  # once per endpoint, even when it answers several URLs
        app.view_functions[endpoint] = decorator(app.view_functions[endpoint])
    return limiter


def _uncounted(secret: str) -> bool:
    """Unsigned requests (no secret: Slack is off, its endpoint says so with a 503), and a bot's own messages:
    every answer the bot posts in a direct message comes back as a message.im event under its user, never
    answered, and counting them used up the bot's bucket and sent Slack 429s for its own echoes."""
    return not secret or not signed_by_slack(secret) or _from_a_bot()


def _from_a_bot() -> bool:
    if request.mimetype != "application/json":
        return False
    try:
        data = loads(request.get_data(cache=True))
    except ValueError:
        return False
    event = _get(data, "event")
    return isinstance(event, dict) and by_a_bot(event, data)


def _get(data: dict[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
