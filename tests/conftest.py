"""Shared fixtures: the real knowledge base, a tiny fixture one, apps and clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot import Bot, Settings, load_bot
from bot.text import FugashiTokenizer
from bot.web import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = date(2025, 5, 15)


@pytest.fixture(scope="session")
def tokenizer() -> FugashiTokenizer:
    return FugashiTokenizer()


@pytest.fixture(scope="session")
def bot(tokenizer: FugashiTokenizer, tmp_path_factory: pytest.TempPathFactory) -> Bot:
    """The shipped knowledge base; conversations and feedback in a temporary folder, not the checkout's var/."""
    var = tmp_path_factory.mktemp("var")
    return load_bot(Settings(state_file=var / "state.sqlite3", feedback_file=var / "feedback.jsonl"),
                    tokenizer=tokenizer)


@pytest.fixture()
def app(bot: Bot) -> Iterator[Flask]:
    """The app over the shipped knowledge, rate limits off (tests that want one build their own app)."""
    app = create_app(bot=bot, settings=bot.settings.with_overrides(rate_limit="off"))
    app.config["TESTING"] = True
    yield app


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """One real redis-server (loopback, no persistence) for the session."""
    from .redis_server import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture()
def redis_url(redis_server_url: str) -> str:
    """The session's redis-server, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server_url) as client:
        client.flushall()
    return redis_server_url
