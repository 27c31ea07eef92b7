"""Settings, frozen, from the environment (and CLI flags that override it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Every knob of the bot. Each field maps to an environment variable FAQBOT_<NAME> (see README)."""

    faq_dir: Path = _ROOT / "faq"
    rules_dir: Path = _ROOT / "rules"
    calibration: Path = Path(__file__).resolve().parent / "calibration.json"
    threshold: float = 0.0  # 0 = use the threshold fitted with the calibration
    min_margin: float = 0.02  # chosen on the arrivals: 0.04 refused 5 more right answers, no more wrong ones
    min_margin_one_word: float = 0.10  # a one-word question (ライセンス) names a topic: answer a clear lead only
    max_text_length: int = 1000
    max_body_bytes: int = 16 * 1024
    session_ttl: int = 1800
    timezone: str = "Asia/Tokyo"
    suggestions: int = 3
    # Flask-Limiter limits per client address (behind ProxyFix) and per Slack team+user; "off" disables
    rate_limit: str = "60/minute;10/second"
    slack_rate_limit: str = "20/minute"
    # reverse proxies in front of the server whose X-Forwarded-* are trusted (ProxyFix); 0 when clients reach
    # gunicorn directly, or each could choose the address its limit is counted by
    proxies: int = 1
    # conversations and Slack de-duplication when REDIS_URL is not set, shared by the workers of one host
    state_file: Path = _ROOT / "var" / "state.sqlite3"
    feedback_file: Path = _ROOT / "var" / "feedback.jsonl"
    # written by `faqbot serve` (the gunicorn master's pid); `faqbot reload` sends SIGHUP to it
    pid_file: Path = _ROOT / "var" / "faqbot.pid"
    # these four are read from the names other tools use, without the FAQBOT_ prefix (see _PLAIN_NAMES)
    redis_url: str = ""
    agent_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_bot_token: str = field(default="", repr=False)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_PLAIN_NAMES = {
    "redis_url": "REDIS_URL",
    "agent_token": "AGENT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_bot_token": "SLACK_BOT_TOKEN",
}


def env_name(name: str) -> str:
    """The environment variable of a Settings field."""
    return _PLAIN_NAMES.get(name, f"FAQBOT_{name.upper()}")


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from FAQBOT_* variables; unknown or malformed values raise ValueError naming the variable."""
    env = os.environ if env is None else env
    base = Settings()
    changes: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        current = getattr(base, f.name)
        try:
            changes[f.name] = type(current)(raw) if not isinstance(current, Path) else Path(raw)
        except ValueError as exc:
            raise ValueError(f"{env_name(f.name)}={raw!r}: expected {type(current).__name__}") from exc
    if not 0 <= changes.get("proxies", 0) <= 5:
        raise ValueError(f"FAQBOT_PROXIES={changes['proxies']!r}: expected the number of proxies in front, 0 to 5")
    if changes.get("redis_url"):
        _check_redis_url(changes["redis_url"])
    return replace(base, **changes)


def _check_redis_url(url: str) -> None:
    """A REDIS_URL redis-py cannot read fails here, in one sentence, not as a worker's traceback at boot."""
    from redis.connection import parse_url

    try:
        parse_url(url)  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise ValueError(f"REDIS_URL={url!r}: {exc} (e.g. redis://127.0.0.1:6379/0)") from None
