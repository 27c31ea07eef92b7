"""gunicorn, started from Python so `faqbot serve` is the one way to run in production."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app()


def run_gunicorn(*, host: str, port: int, workers: int, threads: int) -> None:
    """Serve create_app() with sync workers (threads > 1 switches to gthread)."""
    _App({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-",
        "timeout": 30,
        "graceful_timeout": 10,
    }).run()
