"""Servers to compare POST /api/ask with, served exactly as `faqbot serve` serves the bot.

`python benchmarks/bare_app.py --port P [--workers N] [--threads N] [--app bare|web]` runs, through
bot.web.server.run_gunicorn (so the gunicorn options, worker class, logging and timeouts are the production
server's own):

- `bare`: a bare Flask endpoint that parses the JSON body and returns a constant JSON answer: the ceiling;
- `web`: the real app (every hook, header, log line and limiter check) whose Bot.ask returns one answer
  computed at start: what the web layer costs without the bot's own work (a diagnostic).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ANSWER = {"answer": "更新方法については以下のページを参照してください。", "intent": "renewal-method",
          "confidence": 0.99}


def create_bare_app() -> Flask:
    """POST /api/ask → a constant JSON; GET /healthz → ok."""
    app = Flask("bare")

    @app.post("/api/ask")
    def ask() -> Any:
        request.get_json(silent=True)
        return jsonify(ANSWER)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--app", choices=["bare", "web"], default="bare")
    a = ap.parse_args()
    from bot.web import server

    if a.app == "bare":
        # the production gunicorn application and options serving another WSGI app (which has no knowledge to
        # reload, so no reload signal to install in its workers)
        server._App.load = lambda self: create_bare_app()  # type: ignore[method-assign]
        server._post_worker_init = lambda worker: None
    else:
        load = server._App.load

        def load_web(self: Any) -> Any:
            app = load(self)
            bot = app.extensions["faqbot"]
            fixed = bot.ask("ウイルスバスターの契約を更新したいんですが、どうすればいいですか", today=date(2025, 5, 15))
            bot.ask = lambda *args, **kwargs: fixed
            return app

        server._App.load = load_web  # type: ignore[method-assign]
    server.run_gunicorn(host=a.host, port=a.port, workers=a.workers, threads=a.threads)


if __name__ == "__main__":
    main()
