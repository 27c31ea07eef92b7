from __future__ import annotations

import pytest

from bot.text import (
    FugashiTokenizer,
    Names,
    analyse,
    char_ngrams,
    normalize,
    replace_synonyms,
    romaji_to_kana,
    to_katakana,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２０２４年１２月２５日", "2024年12月25日"),
        ("ＡＢ－２０２４", "ab-2024"),
        ("ｲﾝﾎﾞｲｽ", "インボイス"),
        ("㍻31年", "平成31年"),
        ("  更新   できる？ ", "更新 できる?"),
        ("VIP", "vip"),
        ("I don’t want it", "i don't want it"),
        ("インスト-ルし直す", "インストールし直す"),
        ("メ－ルが届かない", "メールが届かない"),
        ("ユ-ザ-", "ユーザー"),
        ("ウイルスバスター-更新", "ウイルスバスター-更新"),
        ("アドビ-VIP", "アドビ-vip"),
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


def test_half_width_kana_meets_a_hiragana_variant() -> None:
    # ｺｳｼﾝﾘｮｳ normalises to katakana; the table spells kana-only variants in hiragana
    table = [("こうしんりょう", "更新料")]
    assert replace_synonyms(normalize("ｺｳｼﾝﾘｮｳ ﾈﾀﾞﾝ"), table) == "更新料 ネダン"
    assert replace_synonyms("こうしんりょう", table) == "更新料"


def test_english_variant_only_where_a_word_starts() -> None:
    table = [("how much", "幾ら"), ("paid", "入金")]
    assert replace_synonyms("how much is it", table) == "幾ら is it"
    assert replace_synonyms("更新how much", table) == "更新幾ら"  # no space needed after Japanese
    assert replace_synonyms("show much, prepaid", table) == "show much, prepaid"


def test_english_question_words_carry_no_topic(tokenizer: FugashiTokenizer) -> None:
    terms = analyse(tokenizer.tokenize(normalize("How do I get a refund? I don't want it")))
    assert terms.terms == ("refund",)


def test_english_negated_auxiliaries_carry_no_topic(tokenizer: FugashiTokenizer) -> None:
    # MeCab cuts hasn't into hasn ' t: the stem alone must not count as an unknown word of the question
    terms = analyse(tokenizer.tokenize(normalize("The expiry hasn't changed and it wasn't renewed")))
    assert terms.terms == ("expiry", "changed", "renewed")


@pytest.mark.parametrize(("text", "expected"), [("期限が切れそうなんですけど", ("期限", "切れる")),
                                               ("本当にそうなのか確かめたい", ("本当", "確かめる")),
                                               ("更新できないかもしれない", ("更新", "出来る"))])
def test_manner_and_hedges_carry_no_topic(tokenizer: FugashiTokenizer, text: str, expected: tuple[str, ...]) -> None:
    # そう (切れそう, そうなのか) and かもしれない are in no entry: as words they let an off-topic with
    # 「…切れそう」 claim 「期限が切れそうなんですけど更新できますか」
    assert analyse(tokenizer.tokenize(normalize(text))).terms == expected


def test_until_when_and_since_when_are_words_of_their_own(tokenizer: FugashiTokenizer) -> None:
    # a deadline and a start ask different things; the bare いつ stays, so いつになる still meets いつまでになる
    until = analyse(tokenizer.tokenize(normalize("いつまで更新できる？")))
    since = analyse(tokenizer.tokenize(normalize("いつから更新できる？")))
    assert until.terms == ("何時", "何時まで", "更新", "出来る")
    assert since.terms == ("何時", "何時から", "更新", "出来る")
    assert until.pairs == since.pairs == ("更新+出来る",)
    assert analyse(tokenizer.tokenize(normalize("どこまで使える"))).terms == ("何処", "何処まで", "使う")
    assert analyse(tokenizer.tokenize(normalize("いつ更新する"))).terms == ("何時", "更新")


@pytest.mark.parametrize(
    ("norm", "expected"),
    [
        ("koushin houhou", "こうしん ほうほう"),
        ("ryoushuusho hakkou chuumon bangou", "りょうしゅうしょ はっこう ちゅうもん ばんごう"),
        ("kousin dekitaka kakunin shitai", "こうしん できたか かくにん したい"),  # kunrei spelling
        ("ウイルスバスター jidou koushin kaiyaku", "ウイルスバスター じどう こうしん かいやく"),
        # English holds a word that is not romaji; one word alone may be a name
        ("how to renew", "how to renew"),
        ("tell me a joke", "tell me a joke"),
        ("amazonプライムの返金", "amazonプライムの返金"),
        ("koushin", "koushin"),
        ("adobe sign の期限", "adobe sign の期限"),
    ],
)
def test_romaji_runs_become_kana(norm: str, expected: str) -> None:
    assert romaji_to_kana(norm) == expected


def test_names_are_found_whole_and_in_any_kana() -> None:
    names = Names(["ESET", "ノートン", "Microsoft 365", " "])
    assert names.found_in("esetの更新") and names.found_in("のーとんの更新") and names.found_in("microsoft 365を解約")
    assert not names.found_in("resetの日") and not names.found_in("ノートの更新")
    assert not names.found_in("microsoft 3650") and not Names([" ", ""]) and not Names([]).found_in("eset")
