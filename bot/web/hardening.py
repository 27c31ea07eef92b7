"""Security headers, Content-Security-Policy, CORS for the widget's endpoints, request ids and JSON logs."""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, g, request
from flask.logging import default_handler
from werkzeug.wrappers import Response

from ..config import Settings
from ..core import Answer
from ..logs import ensure_logging, mask, personal_spans, request_id_var

# No inline script or style anywhere: the pages load their code from /static, so an injected
# <script> or style attribute does nothing. data: images are allowed for small inline icons.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The widget script is embedded in customers' sites and calls these two from their origin. Both take
# no cookie and no credential, so any origin may call them (Allow-Origin: *, never with credentials);
# the rate limits per client address protect them as they protect same-origin calls.
CORS_PATHS = frozenset({"/api/ask", "/api/feedback"})
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-Request-ID",
    "Access-Control-Expose-Headers": "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset",
    "Access-Control-Max-Age": "600",
}
REQUEST_ID_HEADER = "X-Request-ID"
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Endpoints whose 200 body is an Answer: its intent, confidence and version go into the request's log line.
_ANSWER_PATHS = frozenset({"/api/ask", "/api/agent/whatif"})
# The customer's question goes into the log masked and cut to this many characters (see README: Logs).
QUESTION_LOG_CHARS = 100

_log = logging.getLogger("bot.web.requests")

_Header = tuple[str, str, str]  # name, value, lower-case name


def _headers(items: dict[str, str]) -> tuple[_Header, ...]:
    return tuple((name, value, name.lower()) for name, value in items.items())


_CORS = _headers(CORS_HEADERS)
_NO_STORE = _headers({"Cache-Control": "no-store"})


@functools.cache
def _defaults(cross_origin: bool, secure: bool) -> tuple[_Header, ...]:
    """The headers a response gets unless its view set them: built once for each of the four kinds."""
    hsts = {"Strict-Transport-Security": "max-age=31536000"} if secure else {}
    return _headers(SECURITY_HEADERS | hsts
                    | {"Cross-Origin-Resource-Policy": "cross-origin" if cross_origin else "same-origin"})


def init_hardening(app: Flask, settings: Settings) -> None:
    """Add security headers to every response and structured logging with a request id."""
    ensure_logging()
    app.logger.removeHandler(default_handler)  # Flask's plain-text handler would print every line twice
    # first of all before_request functions, so a request refused early (a 429) still has its id and clock
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def request_id() -> str:
    """The caller's X-Request-ID when it is sane (1-64 of A-Z a-z 0-9 . _ -, not shaped like a phone, order
    number or e-mail address), else a new uuid4 hex."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # a request id is logged unmasked (it must stay readable to correlate lines): one shaped like a phone or
    # order number (09012345678) would carry personal data past the masking, so it is replaced too; a long
    # hex id has a serial number's shape and is what request ids usually are, so that shape is let through
    if not _GOOD_REQUEST_ID.fullmatch(given) or any(label != "[serial]" for _, _, label in personal_spans(given)):
        return uuid.uuid4().hex
    return given


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = rid = request_id()
    g.request_id_token = request_id_var.set(rid)


def _finish(response: Response) -> Response:
    if "request_id" not in g:  # a before_request that ran before ours refused the request
        _start()
    path = request.path
    cors = path in CORS_PATHS
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    # set whatever the view said: the request id, CORS on the widget's endpoints, no-store on JSON
    forced: list[_Header] = [(REQUEST_ID_HEADER, g.request_id, "x-request-id")]
    if cors:
        forced += _CORS
    if response.mimetype == "application/json":
        forced += _NO_STORE
    missing = [(name, value) for name, value, low in forced if low not in present]
    for name, value, low in forced:
        if low in present:
            headers[name] = value
    # the widget script is loaded by customers' pages; everything else is for this origin only
    cross_origin = cors or path.startswith("/static/")
    missing += [(name, value) for name, value, low in _defaults(cross_origin, request.is_secure)
                if low not in present]
    headers.extend(missing)
    # Flask-Limiter (headers_enabled) writes its window's Retry-After on every answer of a limited route, and over
    # the 503's own: a client honouring it would wait a minute after a 200. It belongs on the 429 only, and the 503
    # keeps the few seconds it asked for. (Flask-Limiter's after_request runs before this one: registered later.)
    if response.status_code != 429 and "Retry-After" in headers:
        if retry := g.get("retry_after"):
            headers["Retry-After"] = retry
        else:
            del headers["Retry-After"]
    _log_request(response)
    return response


def _forget(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


def _log_request(response: Response) -> None:
    status = response.status_code
    level = logging.ERROR if status >= 500 else logging.INFO
    if not _log.isEnabledFor(level):
        return
    method, path = request.method, request.path
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
        "remote_addr": request.remote_addr,
    }
    try:
        fields.update(_details(response, path, status))
    except Exception:  # a log field must never turn an answer into an error
        _log.debug("could not read the log details", exc_info=True)
    # made and handled directly: Logger.log would also walk the stack for the caller's file and line, which
    # the line does not show
    _log.handle(_log.makeRecord(_log.name, level, __file__, 0, "%s %s %s", (method, path, status), None,
                                extra=fields))


def _details(response: Response, path: str, status: int) -> dict[str, Any]:
    """What the request asked and what it got, read from the already parsed bodies."""
    out: dict[str, Any] = {}
    if path == "/api/faq":
        question = request.args.get("q")
    elif path in _ANSWER_PATHS and status < 400 and request.is_json:
        body = request.get_json(silent=True)  # cached by the view: no second parse
        question = body.get("text") if isinstance(body, dict) else None
    else:
        question = None
    if isinstance(question, str):
        out["question_chars"] = len(question)
        out["question"] = _short(mask(question))
    answer = g.get("answer")
    if isinstance(answer, Answer):  # set by the view: no second parse of the JSON it just wrote
        out.update(intent=answer.intent, confidence=answer.confidence, rule=answer.rule, version=answer.version)
        return out
    if status < 400 or response.mimetype != "application/json" or response.is_streamed:
        return out
    data = response.get_json(silent=True)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        out["error"] = data["error"].get("code")
    return out


def _short(text: str) -> str:
    return text if len(text) <= QUESTION_LOG_CHARS else text[:QUESTION_LOG_CHARS] + "…"
