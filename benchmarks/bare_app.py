"""A bare Flask endpoint, served exactly as `faqbot serve` serves the bot: the ceiling for POST /api/ask.

It parses the JSON body and returns a constant JSON answer. `python benchmarks/bare_app.py --port P
[--workers N] [--threads N]` runs it through bot.web.server.run_gunicorn, so the gunicorn options
(worker class, workers, threads, logging, timeouts) are the production server's own.
"""

from __future__ import annotations

import argparse
import sys
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
    a = ap.parse_args()
    from bot.web import server

    # the production server's gunicorn application and options, serving another WSGI app (which has no
    # knowledge to reload, so no reload signal to install in its workers)
    server._App.load = lambda self: create_bare_app()
    server._post_worker_init = lambda worker: None
    server.run_gunicorn(host=a.host, port=a.port, workers=a.workers, threads=a.threads)


if __name__ == "__main__":
    main()
