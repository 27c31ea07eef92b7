"""The index works on any collection and meets kana, typos and synonyms."""

from __future__ import annotations

import pytest

from bot.index import Document, Index
from bot.text import FugashiTokenizer

DOCS = [
    Document("renew", ("ライセンスを更新したい", "更新 方法"), "更新はマイページから行えます。", "a"),
    Document("refund", ("返金してほしい", "払い戻し"), "返金はできません。", "a"),
    Document("weather", ("明日の天気は？",), "晴れです。", "b"),
]


@pytest.fixture(scope="module")
def index(tokenizer: FugashiTokenizer) -> Index:
    return Index(DOCS, tokenizer=tokenizer, synonyms=[("払い戻し", "返金")])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("更新の方法を教えて", "renew"),
        ("こうしん したい", "renew"),  # hiragana only: matched through readings
        ("ﾗｲｾﾝｽ 更新", "renew"),  # half-width katakana
        ("払い戻しできますか", "refund"),
        ("天気", "weather"),
    ],
)
def test_top_match(index: Index, query: str, expected: str) -> None:
    assert index.search(query, limit=1)[0].id == expected


def test_groups_restrict(index: Index) -> None:
    ids = [m.id for m in index.search("天気 更新", groups=["a"])]
    assert ids[0] == "renew" and "weather" not in ids


def test_cutoff_and_limit(index: Index) -> None:
    everything = index.search("更新 返金 天気", limit=10)
    assert len(everything) == 3
    assert len(index.search("更新 返金 天気", limit=2)) == 2
    assert all(m.score >= everything[1].score for m in index.search("更新 返金 天気", cutoff=everything[1].score))


def test_nothing_matches(index: Index) -> None:
    assert index.search("！？") == []
    assert index.search("zzzz qqqq") == []


def test_coverage_drops_for_unknown_words(index: Index) -> None:
    known = index.search("ライセンスを更新したい")[0]
    unknown = index.search("ノートンのライセンスを更新したい")[0]
    assert known.coverage == pytest.approx(1.0)
    assert unknown.coverage < 0.8


def test_empty_collection_is_refused(tokenizer: FugashiTokenizer) -> None:
    with pytest.raises(ValueError):
        Index([], tokenizer=tokenizer)
