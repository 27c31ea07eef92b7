"""bot.timex: ja-timex with each pattern tried only where the text holds a character its matches need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ja_timex.number_normalizer import NumberNormalizer
from ja_timex.timex import TimexParser

from bot.facts import _MAYBE_DATE
from bot.timex import GatedTimexParser, required_chars

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[0-9]+年", {"年"}),  # the smallest set of the sequence: 年 rather than the ten digits
        ("[0-9]+", set("0123456789")),
        ("(前|まえ)", {"前", "ま"}),  # either branch: one character of each
        ("(?P<year>[0-9]+)年(?P<half>半)?(前|まえ)", {"年"}),
        ("[ヶか]?月", {"月"}),
        ("x{2,3}|y", {"x", "y"}),
        ("(?:毎)+", {"毎"}),
    ],
)
def test_required_chars(pattern: str, expected: set[str]) -> None:
    assert required_chars(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "(前)?",  # optional: matches the empty string
        "a*",
        "[^年]",  # a negated class holds no character in particular
        r"\d",  # nor does a category
        "(?i)abc",  # a literal would match its other case too
        "(?i:a)b?",
        "[一-龥]",  # a range too wide to list
        "(前|.)",  # one branch needs nothing in particular
        "(",  # not a pattern at all
    ],
)
def test_no_required_chars(pattern: str) -> None:
    assert required_chars(pattern) is None


def test_every_ja_timex_pattern_has_a_set() -> None:
    patterns = [p.re_pattern for group in TimexParser().all_patterns.values() for p in group]
    assert len(patterns) > 200
    assert [p for p in patterns if required_chars(p) is None] == []


def _signature(parser: TimexParser, text: str) -> list[tuple[Any, ...]]:
    return [(t.type, t.value, t.text, t.raw_span, t.span, t.mod, repr(t.parsed), t.range_start, t.range_end)
            for t in parser.parse(text)]


def _texts(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


@pytest.mark.parametrize(
    "text",
    [
        "3日まえに期限が切れました",  # reltime's まえ, the second branch of (前|まえ)
        "2年半後に更新します",
        "毎月10日に課金されます",  # the set tagger's 毎月 takes the span before the date's 10日
        "年に2回、週に3日",
        "2024/6/30まで、10:30から",
        "令和6年6月30日の1ヶ月前",
        "七月三十一日から二週間",
        "来週の金曜日、再来月、おととい",
        "約1か月半ほど前、西暦2025年",
        "",
    ],
)
def test_same_timexes_as_ja_timex(text: str) -> None:
    assert _signature(GatedTimexParser(number_normalizer=NumberNormalizer()), text) == _signature(
        TimexParser(number_normalizer=NumberNormalizer()), text)


def test_same_timexes_over_every_dated_text_of_the_test_data() -> None:
    texts = sorted({t for path in sorted(DATA.rglob("*.yaml"))
                    for t in _texts(yaml.safe_load(path.read_text(encoding="utf-8"))) if _MAYBE_DATE.search(t)})
    assert len(texts) > 1000
    differ = [t for t in texts if _signature(GatedTimexParser(number_normalizer=NumberNormalizer()), t)
              != _signature(TimexParser(number_normalizer=NumberNormalizer()), t)]
    assert differ == []
