from __future__ import annotations

import pytest

from bot.text import FugashiTokenizer, char_ngrams, normalize, replace_synonyms, to_katakana


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２０２４年１２月２５日", "2024年12月25日"),
        ("ＡＢ－２０２４", "ab-2024"),
        ("ｲﾝﾎﾞｲｽ", "インボイス"),
        ("㍻31年", "平成31年"),
        ("  更新   できる？ ", "更新 できる?"),
        ("VIP", "vip"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_to_katakana_leaves_other_scripts() -> None:
    assert to_katakana("こうしん 更新 abc ゔ") == "コウシン 更新 abc ヴ"


def test_char_ngrams_stay_inside_chunks() -> None:
    assert char_ngrams("コウシン リ") == ["コウ", "ウシ", "シン", "リ"]


def test_synonyms_replace_longest_first() -> None:
    table = [("適格請求書方式領収書", "インボイス"), ("適格請求書", "インボイス")]
    assert replace_synonyms("適格請求書方式領収書がほしい", table) == "インボイスがほしい"


def test_tokens_carry_lemma_and_reading(tokenizer: FugashiTokenizer) -> None:
    tokens = tokenizer.tokenize("切れた")
    assert tokens[0].lemma == "切れる"
    # hiragana-only input gets the same reading as the kanji word, which is what lets こうしん meet 更新
    kana = "".join(t.reading for t in tokenizer.tokenize("こうしん"))
    kanji = "".join(t.reading for t in tokenizer.tokenize("更新"))
    assert kana == kanji == "コウシン"


def test_loanword_gloss_is_stripped(tokenizer: FugashiTokenizer) -> None:
    assert [t.lemma for t in tokenizer.tokenize("サブスクリプション")] == ["サブスクリプション"]


def test_synonym_inside_its_canonical_word_does_not_double() -> None:
    table = [("応当日", "契約応当日"), ("アニバーサリー", "契約応当日")]
    assert replace_synonyms("契約応当日と応当日とアニバーサリー", table) == "契約応当日と契約応当日と契約応当日"
