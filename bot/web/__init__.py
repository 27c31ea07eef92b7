"""The Flask app factory: every channel is a thin adapter over Bot.ask."""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, request
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from ..config import Settings, from_env
from ..core import Bot, load_bot
from ..errors import InputError
from ..reloader import KnowledgeReloader
from ..state import State, StoreUnavailable, state_from_settings
from .api import bp as api_bp
from .hardening import init_hardening
from .limits import init_limits
from .pages import register_pages
from .payload import INTERNAL_ERROR, PayloadError, error, error_body, reason_code
from .slack import init_slack


def create_app(bot: Bot | None = None, settings: Settings | None = None, state: State | None = None) -> Flask:
    """Build the app; tests pass a bot built from fixture data, and may pass the stores."""
    settings = settings or (bot.settings if bot else from_env())
    state = state or state_from_settings(settings)
    app = Flask(__name__)
    if settings.proxies:  # none in front: the X-Forwarded-* a client sends are its own words, and ignored
        n = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    bot = bot or load_bot(settings)
    bot.sessions = state.sessions  # conversations live where the other shared state lives
    app.extensions["faqbot"] = bot
    app.extensions["faqbot_state"] = state
    app.extensions["faqbot_settings"] = settings
    # SIGHUP (web/server.py) and the shared knowledge generation (checked here, throttled) reload the knowledge
    reloader = KnowledgeReloader(bot, state.generation)
    app.extensions["faqbot_reloader"] = reloader
    if state.generation is not None:  # without one its check has nothing to read: no hook on every request
        app.before_request(reloader.check)
    app.register_blueprint(api_bp)
    register_pages(app, settings, state)
    init_slack(app, settings, state)
    init_hardening(app, settings)
    app.extensions["faqbot_limiter"] = init_limits(app, settings, state.limiter_storage)  # after every route

    @app.before_request
    def _chunked_body_too_large() -> None:
        # werkzeug reads a body sent without Content-Length (chunked) up to MAX_CONTENT_LENGTH and stops there
        # without a word, so 17 KiB of JSON would be refused as bad JSON: say it is too large, as with a length
        if request.content_length is None and request.method == "POST":
            limit = request.max_content_length  # the app's, or a route's own (/slack/events)
            if limit is not None and len(request.get_data(cache=True)) >= limit \
                    and request.environ["wsgi.input"].read(1):
                raise RequestEntityTooLarge()

    @app.errorhandler(PayloadError)
    def _bad_payload(exc: PayloadError) -> tuple[Response, int]:
        return error(exc.code, exc.message, exc.status)

    @app.errorhandler(InputError)
    def _bad_input(exc: InputError) -> tuple[Response, int]:
        # what Bot.ask and parse_facts refuse (empty or too long text, unknown product, intent or fact)
        return error(exc.code, exc.message, 400)

    @app.errorhandler(ParseException)
    @app.errorhandler(NoMoreData)
    def _bad_body(exc: Exception) -> tuple[Response, int]:
        # gunicorn raises these while the view reads a body it cannot frame: a malformed chunk size or
        # terminator, or a client gone before its Content-Length was sent. The client's fault: a 400, and the
        # connection closed, since where the next request would start is unknown
        response, status = error("bad_request", f"the request body could not be read: {type(exc).__name__} "
                                 "(a malformed chunked body, or one shorter than its Content-Length)", 400)
        response.headers["Connection"] = "close"
        return response, status

    @app.errorhandler(StoreUnavailable)
    def _store_down(exc: StoreUnavailable) -> tuple[Response, int]:
        # a request that needs the shared state (a conversation, feedback) while Redis is down: say so, no 500
        app.logger.error("%s %s: %s", request.method, request.path, exc)
        response = jsonify(error={"code": "store_unavailable",
                                  "message": "the shared store is unavailable; please try again in a few seconds"})
        response.headers["Retry-After"] = g.retry_after = "5"  # kept over the rate limiter's (bot/web/hardening.py)
        return response, 503

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> BaseResponse:
        # keep the headers werkzeug chose (Allow on 405, Retry-After on 429), replace only the body
        response = exc.get_response()
        if response.status_code == 500:  # werkzeug's words for an error raised while handling another
            response.data = error_body("internal_error", INTERNAL_ERROR)
        elif isinstance(exc, RequestEntityTooLarge) and request.max_content_length is not None:
            # werkzeug's words ("exceeds the capacity limit") name no limit: say what fits
            response.data = error_body(reason_code(exc.name),
                                       f"the body is over {request.max_content_length:,} bytes, the most this server "
                                       f"reads; a question is at most {settings.max_text_length:,} characters")
        else:
            response.data = error_body(reason_code(exc.name), exc.description or exc.name)
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error")
        return error("internal_error", INTERNAL_ERROR, 500)

    return app
