"""gunicorn, started from Python so `faqbot serve` is the one way to run in production.

Knowledge reloads never restart workers. gunicorn's own SIGHUP would start new workers that read faq/ and rules/
from disk, and a worker that cannot load them fails to boot, which stops the whole server. Here the master
validates the files on SIGHUP instead and, only when they are valid, forwards the signal to the workers, which
swap the new knowledge in from a background thread (bot/reloader.py) while they go on answering. The workers
start with a copy of the bot the master built from the files it validated. A worker started later (one that
crashed, or timed out) does too while the files are unchanged; otherwise it loads them, and falls back to the
last knowledge the master validated when they are broken, so it always boots.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from ..config import Settings, from_env
from ..core import Bot
from ..errors import ConfigError
from ..knowledge import Knowledge, knowledge_version, load_knowledge
from ..logs import logging_config
from ..reloader import KnowledgeReloader
from ..reloader import log as reload_log
from .hardening import REQUEST_ID_HEADER, SECURITY_HEADERS
from .payload import INTERNAL_ERROR, error_body, reason_code


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], settings: Settings, knowledge: Knowledge) -> None:
        self._options = options
        self.settings = settings
        self.knowledge = knowledge  # the last valid knowledge seen by the master
        # built once, before the workers fork: each starts with a copy instead of loading, checking and
        # indexing the same files again (half a second on this 2-core host, both workers at once)
        self.bot = Bot(knowledge, settings=settings)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        settings = self.settings
        bot = self.bot
        if knowledge_version(settings.faq_dir, settings.rules_dir) == bot.knowledge.version:
            return create_app(bot=bot, settings=settings)  # what loading the files again would give
        # the files changed since: this worker reads them (a later one, started after an edit or a reload)
        refused: ConfigError | None = None
        try:
            knowledge = load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
        except ConfigError as exc:
            knowledge, refused = self.knowledge, exc
        app = create_app(bot=Bot(knowledge, settings=settings), settings=settings)
        if refused is not None:  # logged once the app has set up logging
            reload_log.error("pid %d: the knowledge files are broken; this worker starts with the last valid "
                             "version %s: %s", os.getpid(), knowledge.version, refused,
                             extra={"version": knowledge.version})
        return app

    def run(self) -> None:
        try:
            _Arbiter(self).run()
        except RuntimeError as exc:  # as BaseApplication.run: "Already running on PID …" and the like
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)


class _Arbiter(Arbiter):  # type: ignore[misc]
    def handle_hup(self) -> None:
        """SIGHUP: validate the knowledge once, here; forward the signal to the workers only if it is valid."""
        app: _App = self.app
        settings = app.settings
        try:
            knowledge = load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
        except ConfigError as exc:
            self.log.error("SIGHUP: knowledge refused, the workers keep serving what they have (last valid "
                           "version %s): %s", app.knowledge.version, exc, extra={"version": app.knowledge.version})
            return
        except Exception:
            self.log.exception("SIGHUP: could not read the knowledge, the workers keep serving what they have")
            return
        app.knowledge = knowledge
        self.log.info("SIGHUP: knowledge version %s is valid; %d workers swap it in", knowledge.version,
                      len(self.WORKERS), extra={"version": knowledge.version})
        self.kill_workers(signal.SIGHUP)


class _Logger(Logger):  # type: ignore[misc]
    """gunicorn's logger with no access log: the app writes one JSON line per request itself (bot/logs.py).

    Silencing the gunicorn.access logger is not enough: with a logging config gunicorn still builds every
    request's access-log atoms (headers, times, the request line) and formats them, only to drop the line.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Nothing: see the class."""


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it cannot parse, as the API's JSON error instead of an HTML page.

    Flask never sees these requests: a URL with raw UTF-8 in it (「?q=更新」 not percent-encoded), a broken
    header line, an unknown transfer coding. gunicorn chooses the status and logs the error; this only writes
    `{"error": {"code", "message"}}` with the security headers and gunicorn's message; a bad request line is
    not echoed (gunicorn quotes its bytes as Latin-1, so 更新 would come back as mojibake).
    """
    code, message = reason_code(reason), mesg or reason
    if status_int >= 500:
        code, message = "internal_error", INTERNAL_ERROR
    elif message.startswith("Invalid Request Line"):
        message = ("Invalid request line: it must be `METHOD /path HTTP/1.1`, and characters outside ASCII "
                   "in a URL must be percent-encoded")
    body = error_body(code, message)
    # the headers every response of the app carries, errors included (bot/web/hardening.py): a request id of its
    # own (no header of the request was read), and the resource policy of a same-origin response
    headers = {"Connection": "close", "Content-Type": "application/json", "Content-Length": str(len(body)),
               "Cache-Control": "no-store", **SECURITY_HEADERS, "Cross-Origin-Resource-Policy": "same-origin",
               REQUEST_ID_HEADER: uuid.uuid4().hex}
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


def _post_worker_init(worker: Any) -> None:
    # reload messages go to the app's log handler (bot/logs.py) or else where gunicorn's own go
    if not reload_log.hasHandlers():
        for handler in worker.log.error_log.handlers:
            reload_log.addHandler(handler)
        reload_log.setLevel(logging.INFO)
    # gunicorn leaves SIGHUP at its default (terminate) in workers; here it means "reload the knowledge"
    reloader: KnowledgeReloader = worker.wsgi.extensions["faqbot_reloader"]
    signal.signal(signal.SIGHUP, lambda signum, frame: reloader.request("SIGHUP"))


def run_gunicorn(*, host: str, port: int, workers: int, threads: int, settings: Settings | None = None,
                 knowledge: Knowledge | None = None) -> None:
    """Serve create_app() with sync workers (threads > 1 switches to gthread); the pid goes to settings.pid_file."""
    settings = settings or from_env()
    knowledge = knowledge or load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
    settings.pid_file.parent.mkdir(parents=True, exist_ok=True)
    gunicorn_util.write_error = write_json_error  # inherited by the workers, which fork from this process
    app = _App({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        # JSON lines with masking (bot/logs.py); the app logs each request itself, with its request id
        "accesslog": None,
        "logger_class": _Logger,
        "logconfig_dict": logging_config(),
        "timeout": 30,
        # the longest request line gunicorn reads (its default is 4094 bytes): the agents' look-up sends its query
        # in the URL, and a Japanese character percent-encoded is 9 bytes, so 4094 refused about 450 of them
        "limit_request_line": 8190,
        "graceful_timeout": 10,
        "pidfile": str(settings.pid_file),
        # gunicorn 25+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl), which two
        # servers would fight over, and whose reload restarts workers without validating the knowledge
        "control_socket_disable": True,
        "post_worker_init": _post_worker_init,
    }, settings, knowledge)
    try:
        app.run()
    finally:  # gunicorn writes the pid file before binding and leaves it behind when it exits on a bind error
        _forget_pid(settings.pid_file)


def _forget_pid(pid_file: Path) -> None:
    try:
        if pid_file.read_text(encoding="ascii").strip() == str(os.getpid()):
            pid_file.unlink()
    except (OSError, ValueError):  # gone already, or another server's: leave it
        pass
