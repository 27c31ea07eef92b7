"""Settings, frozen, from the environment (and CLI flags that override it)."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Mapping
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


def from_env(env: Mapping[str, str] | None = None, *, new_calibration: bool = False) -> Settings:
    """Settings from FAQBOT_* variables, each checked for what it means; a bad one raises ValueError.

    The message has one line per bad variable, naming it, its value and what is allowed, so every entry point
    stops before it starts instead of failing at the first question that needs the value (an unknown time
    zone was a 500 on every request). `new_calibration`: FAQBOT_CALIBRATION is about to be written
    (`faqbot eval --calibrate`), so it need not exist or be a model yet.
    """
    env = os.environ if env is None else env
    base = Settings()
    changes: dict[str, Any] = {}
    wrong: list[str] = []
    for f in fields(Settings):
        name, raw = env_name(f.name), env.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        current = getattr(base, f.name)
        if isinstance(current, Path):
            changes[f.name] = Path(raw)
            continue
        try:
            value = type(current)(raw)
        except ValueError:
            wrong.append(f"{name}={raw!r}: expected {_NUMBERS[f.name][2]}")
            continue
        if f.name in _NUMBERS:
            low, high, expected = _NUMBERS[f.name]
            if not low <= value <= high:  # also refuses nan, which float() reads
                wrong.append(f"{name}={raw.strip()}: expected {expected}")
                continue
        elif f.name in _TEXTS and (why := _TEXTS[f.name](value)):
            wrong.append(f"{name}={raw!r}: {why}")
            continue
        changes[f.name] = value
    if not new_calibration:
        wrong += _check_calibration(changes.get("calibration", base.calibration), env.get("FAQBOT_CALIBRATION"))
    if wrong:
        raise ValueError("\n".join(wrong))
    return replace(base, **changes)


# what each number may be: outside these the bot runs but never does what the README says (a negative longest
# question refuses every question, a threshold above 1 answers none, a negative count drops suggestions)
_NUMBERS: dict[str, tuple[float, float, str]] = {
    "threshold": (0.0, 1.0, "a confidence from 0 to 1 (0: the threshold fitted with the calibration)"),
    "min_margin": (0.0, 1.0, "a relative margin from 0 to 1"),
    "min_margin_one_word": (0.0, 1.0, "a relative margin from 0 to 1"),
    "max_text_length": (1, 100_000, "a number of characters from 1 to 100000"),
    "max_body_bytes": (1024, 10 * 1024 * 1024, "a number of bytes from 1024 to 10485760 (10 MiB)"),
    "session_ttl": (1, 7 * 24 * 3600, "a number of seconds from 1 to 604800 (a week)"),
    # the index ranks twelve intents deep (core._RANK_DEPTH); 0 leaves the fallback without もしかして
    "suggestions": (0, 10, "a number of suggestions from 0 to 10"),
    "proxies": (0, 5, "the number of proxies in front, 0 to 5"),
}


def _check_timezone(name: str) -> str | None:
    """What is wrong with a time zone name, or None; the zone is looked up on every request without `today`."""
    from zoneinfo import ZoneInfo, available_timezones

    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found (a KeyError), not a name (../x, /etc/x), a folder (Asia)
        hint = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        return ("no such time zone; expected an IANA name such as 'Asia/Tokyo' or 'UTC'"
                + (f" (hint: did you mean '{hint[0]}'?)" if hint else ""))
    return None


def limit_problem(value: str) -> str | None:
    """What is wrong with a Flask-Limiter limit string, or None; web/limits.py reads it when the app is built."""
    from limits import parse_many

    if value.strip().lower() == "off":
        return None
    try:
        if parse_many(value):
            return None
    except ValueError:
        pass
    return "expected limits such as '60/minute;10/second' or 'off'"


def _check_redis_url(url: str) -> str | None:
    """A REDIS_URL redis-py cannot read fails here, in one sentence, not as a worker's traceback at boot."""
    from redis.connection import parse_url

    try:
        parse_url(url)  # type: ignore[no-untyped-call]
    except ValueError as exc:
        return f"{exc} (e.g. redis://127.0.0.1:6379/0)"
    return None


_TEXTS: dict[str, Callable[[str], str | None]] = {
    "timezone": _check_timezone,
    "rate_limit": limit_problem,
    "slack_rate_limit": limit_problem,
    "redis_url": _check_redis_url,
}


def _check_calibration(path: Path, given: str | None) -> list[str]:
    """The confidence model's problem, as one line, or none.

    Calibration.load falls back to a neutral model when it cannot read the file, which suits a bot built in
    code; from the settings, a misspelt path would serve that model without a word, so it is read here first.
    """
    from .confidence import Calibration

    shown = f"FAQBOT_CALIBRATION={given!r}" if given else f"FAQBOT_CALIBRATION (unset, so {str(path)!r})"
    try:
        model = Calibration.read(path)
    except ValueError as exc:
        return [f"{shown}: {exc}"]
    if not all(math.isfinite(w) for w in model.weights) or not 0 <= model.threshold <= 1:
        return [f"{shown}: not a confidence model: its weights must be finite and its threshold from 0 to 1"]
    return []
