"""Settings from the environment: each checked for what it means, a bad one named in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings, from_env

from .conftest import ROOT


def test_no_variables_give_the_defaults() -> None:
    assert from_env({}) == Settings()


def test_values_within_their_meaning_are_read() -> None:
    settings = from_env({"FAQBOT_THRESHOLD": "0.7", "FAQBOT_SUGGESTIONS": "0", "FAQBOT_TIMEZONE": "UTC",
                         "FAQBOT_MAX_TEXT_LENGTH": "200", "FAQBOT_RATE_LIMIT": "off", "FAQBOT_PROXIES": "0",
                         "FAQBOT_CALIBRATION": str(ROOT / "bot" / "calibration.json")})
    assert (settings.threshold, settings.suggestions, settings.timezone) == (0.7, 0, "UTC")
    assert (settings.max_text_length, settings.rate_limit, settings.proxies) == (200, "off", 0)


@pytest.mark.parametrize(("name", "value", "says"), [
    # an unknown zone was a traceback in `ask` and a 500 on every /api/ask without `today`
    ("FAQBOT_TIMEZONE", "Mars/Base", "FAQBOT_TIMEZONE='Mars/Base': no such time zone; expected an IANA name "
                                     "such as 'Asia/Tokyo' or 'UTC'"),
    ("FAQBOT_TIMEZONE", "Asia/Tokio", "FAQBOT_TIMEZONE='Asia/Tokio': no such time zone; expected an IANA name "
                                      "such as 'Asia/Tokyo' or 'UTC' (hint: did you mean 'Asia/Tokyo'?)"),
    ("FAQBOT_TIMEZONE", "../../etc/passwd", "FAQBOT_TIMEZONE='../../etc/passwd': no such time zone"),
    # refused every question: "'text' is longer than -5 characters"
    ("FAQBOT_MAX_TEXT_LENGTH", "-5", "FAQBOT_MAX_TEXT_LENGTH=-5: expected a number of characters from 1 to 100000"),
    ("FAQBOT_MAX_TEXT_LENGTH", "1e3", "FAQBOT_MAX_TEXT_LENGTH='1e3': expected a number of characters from 1"),
    # answered nothing
    ("FAQBOT_THRESHOLD", "7", "FAQBOT_THRESHOLD=7: expected a confidence from 0 to 1 (0: the threshold fitted "
                              "with the calibration)"),
    ("FAQBOT_THRESHOLD", "nan", "FAQBOT_THRESHOLD=nan: expected a confidence from 0 to 1"),
    ("FAQBOT_THRESHOLD", "high", "FAQBOT_THRESHOLD='high': expected a confidence from 0 to 1"),
    ("FAQBOT_MIN_MARGIN", "-0.1", "FAQBOT_MIN_MARGIN=-0.1: expected a relative margin from 0 to 1"),
    ("FAQBOT_MIN_MARGIN_ONE_WORD", "2", "FAQBOT_MIN_MARGIN_ONE_WORD=2: expected a relative margin from 0 to 1"),
    # silently dropped the last two suggestions
    ("FAQBOT_SUGGESTIONS", "-2", "FAQBOT_SUGGESTIONS=-2: expected a number of suggestions from 0 to 10"),
    ("FAQBOT_SESSION_TTL", "0", "FAQBOT_SESSION_TTL=0: expected a number of seconds from 1 to 604800 (a week)"),
    ("FAQBOT_MAX_BODY_BYTES", "10", "FAQBOT_MAX_BODY_BYTES=10: expected a number of bytes from 1024 to 10485760"),
    ("FAQBOT_PROXIES", "9", "FAQBOT_PROXIES=9: expected the number of proxies in front, 0 to 5"),
    ("FAQBOT_RATE_LIMIT", "lots", "FAQBOT_RATE_LIMIT='lots': expected limits such as '60/minute;10/second' or "
                                  "'off'"),
    ("FAQBOT_SLACK_RATE_LIMIT", "20/fortnight", "FAQBOT_SLACK_RATE_LIMIT='20/fortnight': expected limits"),
    ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL='127.0.0.1:6379': Redis URL must specify one of the following "
                                    "schemes"),
    # a typo served a neutral confidence model without a word
    ("FAQBOT_CALIBRATION", "bot/calibration.jsn", "FAQBOT_CALIBRATION='bot/calibration.jsn': no such file; "
                                                  "expected the confidence model `faqbot eval --calibrate` writes"),
])
def test_a_bad_setting_is_named_with_its_value_and_what_is_allowed(name: str, value: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        from_env({name: value})
    assert str(raised.value).startswith(says) and "\n" not in str(raised.value), str(raised.value)


def test_every_bad_setting_is_named_at_once() -> None:
    with pytest.raises(ValueError) as raised:
        from_env({"FAQBOT_THRESHOLD": "7", "FAQBOT_TIMEZONE": "Mars/Base", "FAQBOT_SUGGESTIONS": "-2"})
    assert [line.split(":")[0] for line in str(raised.value).splitlines()] == [
        "FAQBOT_THRESHOLD=7", "FAQBOT_TIMEZONE='Mars/Base'", "FAQBOT_SUGGESTIONS=-2"]


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "not a confidence model: not JSON (Expecting property name"),
    (json.dumps({"weights": {"bias": 1.0}}), 'not a confidence model: expected "weights" with a number for each of '
                                             "bias, score, margin"),
    (json.dumps({"weights": {n: 1.0 for n in ("bias", "score", "margin", "coverage", "reading_coverage", "fuzz",
                                              "unknown", "unknown_name", "terms")}, "threshold": 3}),
     "not a confidence model: its weights must be finite and its threshold from 0 to 1"),
])
def test_a_calibration_that_is_not_a_model_is_named(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        from_env({"FAQBOT_CALIBRATION": str(path)})
    assert str(raised.value).startswith(f"FAQBOT_CALIBRATION={str(path)!r}: {says}"), str(raised.value)


def test_a_calibration_about_to_be_written_need_not_exist(tmp_path: Path) -> None:
    # `faqbot eval --calibrate` writes it
    new = tmp_path / "new.json"
    assert from_env({"FAQBOT_CALIBRATION": str(new)}, new_calibration=True).calibration == new


def test_the_app_refuses_a_bad_setting_before_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    # create_app() reads the environment itself (gunicorn's `bot.web:create_app()`): no app that 500s on every ask
    from bot.web import create_app

    monkeypatch.setenv("FAQBOT_TIMEZONE", "Mars/Base")
    with pytest.raises(ValueError, match=r"^FAQBOT_TIMEZONE='Mars/Base': no such time zone"):
        create_app()
