"""The index works on any collection and meets kana, typos and synonyms."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from rapidfuzz import fuzz

from bot import index as index_module
from bot.index import Document, Index, Weights
from bot.text import FugashiTokenizer, char_ngrams

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


def test_every_match_explains_the_question_by_its_own_words(index: Index) -> None:
    # the evidence is worked out when first read: read in any order, each match's is its own document's
    ranked = index.search("更新 返金 天気", limit=10)
    assert [m.id for m in ranked] and len(ranked) == 3
    for m in reversed(ranked):
        assert m.unexplained > 0.0  # each document knows one of the three words
        assert 0.0 < m.coverage < 1.0
        assert 0.0 < m.reading_coverage < 1.0
    by_id = {m.id: m for m in ranked}
    # 更新 and 返金 are each in two phrasings or answers' worth of the collection, 天気 in one: rarer, heavier
    assert by_id["weather"].coverage > by_id["renew"].coverage
    assert by_id["weather"].unexplained < by_id["renew"].unexplained
    full = index.search("ライセンスを更新したい", limit=3)
    assert full[0].id == "renew" and full[0].coverage == pytest.approx(1.0) and full[0].unexplained == 0.0
    assert full[0].to_dict() == {"id": "renew", "score": full[0].score, "question": "ライセンスを更新したい",
                                 "coverage": full[0].coverage, "reading_coverage": full[0].reading_coverage,
                                 "fuzz": full[0].fuzz, "unexplained": 0.0, "probability": full[0].probability}


def test_empty_collection_is_refused(tokenizer: FugashiTokenizer) -> None:
    with pytest.raises(ValueError):
        Index([], tokenizer=tokenizer)


def test_a_document_without_a_question_is_refused(tokenizer: FugashiTokenizer) -> None:
    with pytest.raises(ValueError, match="unasked"):
        Index([Document("asked", ("更新したい",)), Document("unasked", ())], tokenizer=tokenizer)


def test_a_document_scores_by_its_best_phrasing_first_or_not(tokenizer: FugashiTokenizer) -> None:
    docs = [Document("many", ("明日の天気は？", "更新料金はいくらですか", "ライセンスを更新したい")),
            Document("one", ("返金してほしい",))]
    index = Index(docs, tokenizer=tokenizer, weights=Weights(classifier=0.0))
    for question in docs[0].questions:
        best = index.search(question, limit=1)[0]
        assert (best.id, best.question) == ("many", question)


# 84 distinct katakana, and no digit or Latin letter: the fuzzy re-ranking re-codes them into code points 1–84,
# where the digits 0–9 (48–57) would stand for katakana if they were left as they are
KANA = [
    Document("a-row", ("アカサタナハマヤラワ ガザダバパ",)),
    Document("other-rows", ("イキシチニヒミリヰ ギジヂビピ ウクスツヌフムユル グズヅブプ エケセテネヘメレヱ ゲゼデベペ "
                            "オコソトノホモヨロヲ ゴゾドボポ ンッャュョァィゥェォヴー",)),
]


@pytest.mark.parametrize("query", ["アカサタナハマヤラワ 0123456789", "イキシチニ abcdefxyz ギジヂビピ",
                                   "タナハマヤ ラワ ２０２５ ライセンス"])
def test_the_fuzzy_score_is_fuzz_ratio_on_the_readings(tokenizer: FugashiTokenizer, query: str) -> None:
    index = Index(KANA, tokenizer=tokenizer)
    reading = index.analyse(query).reading.replace(" ", "")
    ranked = index.search(query, limit=2)
    assert ranked
    for m in ranked:
        doc = next(d for d in KANA if d.id == m.id)
        closest = max(fuzz.ratio(reading, index.analyse(q).reading.replace(" ", "")) for q in doc.questions)
        assert m.fuzz == pytest.approx(closest / 100.0, abs=1e-6)


# Siblings: what a question about renewing early asks is spread over early's phrasings (期限前, 早め, 残り), while
# fee has one short phrasing with 期限前 and another with 早め, so its best phrasing wins on BM25 alone.
SIBLINGS = [
    Document("early", ("期限前に更新できますか", "早めに更新したい", "残りの期間は無駄になりますか")),
    Document("fee", ("更新料金はいくらですか", "早めに払うと安くなりますか", "期限前の料金")),
    Document("after", ("期限が切れた後に更新できますか", "期限切れ 更新")),
]


def test_the_phrasings_classifier_tells_siblings_apart(tokenizer: FugashiTokenizer) -> None:
    question = "期限前に早めにすると残りはどうなる"
    without = Index(SIBLINGS, tokenizer=tokenizer, weights=Weights(classifier=0.0)).search(question)
    assert without[0].id == "fee"  # the failure the classifier is for
    assert all(m.probability == 0.0 for m in without)
    ranked = Index(SIBLINGS, tokenizer=tokenizer).search(question)
    assert ranked[0].id == "early"
    assert ranked[0].probability > 0.5 > ranked[1].probability


@pytest.mark.parametrize("dense", [True, False])
def test_the_classifier_is_textbook_multinomial_naive_bayes(tokenizer: FugashiTokenizer, dense: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both stored forms give the probabilities of the formula: tf-idf rows, P(d) × Π P(f | d)^x, normalised."""
    if not dense:  # the posting-list form large collections get
        monkeypatch.setattr(index_module, "_DENSE_CELLS", 0)
    alpha = 0.1
    index = Index(SIBLINGS, tokenizer=tokenizer, weights=Weights(classifier_alpha=alpha))

    def feats(text: str) -> list[str]:
        a = index.analyse(text)
        return [*a.terms, *a.pairs, *("~" + g for g in char_ngrams(a.reading))]

    rows = [(d, feats(q)) for d, doc in enumerate(SIBLINGS) for q in doc.questions]
    vocab = sorted({f for _, fs in rows for f in fs})
    col = {f: i for i, f in enumerate(vocab)}
    df = Counter(f for _, fs in rows for f in set(fs))
    idf = np.array([math.log((1 + len(rows)) / (1 + df[f])) + 1 for f in vocab])

    def vector(fs: list[str]) -> np.ndarray:
        x = np.zeros(len(vocab))
        for f, c in Counter(f for f in fs if f in col).items():
            x[col[f]] = 1 + math.log(c)
        x *= idf
        return x / (np.linalg.norm(x) or 1.0)

    counts = np.zeros((len(SIBLINGS), len(vocab)))
    for d, fs in rows:
        counts[d] += vector(fs)
    log_p = np.log((counts + alpha) / (counts + alpha).sum(axis=1, keepdims=True))
    prior = np.log(np.bincount([d for d, _ in rows]) / len(rows))
    question = "早めに更新すると料金は安い？"
    joint = prior + log_p @ vector(feats(question))
    expected = np.exp(joint - joint.max())
    expected /= expected.sum()
    got = {m.id: m.probability for m in index.search(question, limit=3)}
    assert got == pytest.approx({doc.id: p for doc, p in zip(SIBLINGS, expected, strict=True)}, abs=1e-9)


def test_no_classifier_with_one_question_per_document(index: Index, tokenizer: FugashiTokenizer) -> None:
    one_each = [Document(d.id, d.questions[:1], d.answer, d.group) for d in DOCS]
    ranked = Index(one_each, tokenizer=tokenizer).search("更新 返金 天気", limit=3)
    plain = Index(one_each, tokenizer=tokenizer, weights=Weights(classifier=0.0)).search("更新 返金 天気", limit=3)
    assert [(m.id, m.score, m.probability) for m in ranked] == [(m.id, m.score, 0.0) for m in plain]


def test_no_classifier_past_its_collection_size(tokenizer: FugashiTokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "CLASSIFIER_MAX_DOCUMENTS", len(SIBLINGS) - 1)
    assert all(m.probability == 0.0 for m in Index(SIBLINGS, tokenizer=tokenizer).search("期限前に早めに更新"))
