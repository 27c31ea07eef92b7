"""The customers' chat widget (/), the agents' look-up page (/agent) and their APIs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from ..config import Settings
from ..core import Bot
from ..state import State
from . import agent, feedback
from .payload import error

bp = Blueprint("pages", __name__)

_STATIC = Path(__file__).resolve().parent / "static"
# the agents' API and the look-up it uses; the customers' endpoints never need the token
_AGENT_PATHS = ("/api/faq", "/api/agent/")


def _bot() -> Bot:
    bot: Bot = current_app.extensions["faqbot"]
    return bot


@bp.get("/")
def chat() -> str:
    """The chat widget on a page of its own (the same script customers embed)."""
    return render_template("chat.html", static_version=current_app.config["FAQBOT_STATIC_VERSION"])


@bp.get("/agent")
def agent_page() -> str:
    """The agents' look-up; with AGENT_TOKEN set it asks for the token before it calls the API."""
    settings: Settings = current_app.extensions["faqbot_settings"]
    return render_template("agent.html", static_version=current_app.config["FAQBOT_STATIC_VERSION"],
                           token_required=bool(settings.agent_token))


@bp.get("/api/contact")
def contact() -> Response:
    """Each product's support contact in the documents' words (the widget's 有人サポート button)."""
    response = jsonify(contacts=[{"product": p.id, "name": p.name, "contact": p.contact}
                                 for p in _bot().knowledge.products])
    # public text read by the widget embedded on customers' sites: a simple GET, no credentials
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def register_pages(app: Flask, settings: Settings, state: State) -> None:
    """Mount the pages, /api/feedback and the agents' API; guard the agents' API with AGENT_TOKEN."""
    app.config["FAQBOT_STATIC_VERSION"] = _static_version()
    app.register_blueprint(bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(agent.bp)
    if settings.agent_token:
        app.before_request(_token_guard(settings.agent_token))


def _token_guard(token: str) -> Callable[[], tuple[Response, int] | None]:
    expected = token.encode()

    def require_agent_token() -> tuple[Response, int] | None:
        path = request.path
        if path != _AGENT_PATHS[0] and not path.startswith(_AGENT_PATHS[1]):
            return None
        # the scheme is case-insensitive (RFC 7235 §2.1: bearer, BEARER); the token is compared in constant time
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if hmac.compare_digest(given.encode("utf-8", "replace"), expected) and scheme.lower() == "bearer":
            return None
        response, status = error("unauthorized", "this API needs the agents' token: Authorization: Bearer <token>",
                                 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="faqbot-agent"'
        return response, status

    return require_agent_token


def _static_version() -> str:
    """A short digest of the static files, so a deploy's new script is not served from a stale cache."""
    digest = hashlib.sha256()
    for path in sorted(_STATIC.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
