"""Off-topics: questions that borrow the FAQ's words but are about something else get the honest fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import Bot, ConfigError, InputError, Settings, core, load_bot
from bot.confidence import FEATURES, features
from bot.knowledge import load_knowledge
from bot.text import FugashiTokenizer

from .conftest import FIXTURES, ROOT, TODAY

OFF_TOPICS = """\
off_topics:
  - id: weather
    about: weather
    phrasings: [今日の天気は？, 明日は雨が降りますか]
  - id: auctions
    about: other sellers
    phrasings: [ネットオークションの返金はいつ, オークションで落札した商品が届かない]
"""


def _faq(tmp_path: Path, off_topics: str | None) -> Path:
    faq = tmp_path / "faq"
    shutil.copytree(FIXTURES / "faq", faq)
    if off_topics is not None:
        (faq / "off-topics.yaml").write_text(off_topics, encoding="utf-8")
    return faq


def _shop(tmp_path: Path, tokenizer: FugashiTokenizer, off_topics: str | None) -> Bot:
    rules = tmp_path / "rules"  # no rules: the shop's entries are answered by their text alone
    rules.mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "facts.yaml", rules)
    return load_bot(Settings(faq_dir=_faq(tmp_path, off_topics), rules_dir=rules), tokenizer=tokenizer)


@pytest.fixture()
def shop(tmp_path: Path, tokenizer: FugashiTokenizer) -> tuple[Bot, Bot]:
    """The fixture shop without and with off-topics."""
    return _shop(tmp_path / "plain", tokenizer, None), _shop(tmp_path / "guarded", tokenizer, OFF_TOPICS)


def test_a_borrowed_word_no_longer_gets_an_answer(shop: tuple[Bot, Bot]) -> None:
    plain, guarded = shop
    question = "オークションの返金はいつになりますか"
    assert plain.evidence(question, today=TODAY).ranked[0].id == "refund"  # 返金 alone carries it there
    assert guarded.evidence(question, today=TODAY).off_topic
    answer = guarded.ask(question, today=TODAY)
    assert answer.intent is None
    assert answer.confidence == 0.0
    assert answer.suggestions == ()  # nothing about the shop's refunds is offered for an auction question
    assert "サポート窓口" in answer.answer  # the contact, as in every fallback


def test_the_faq_own_words_still_reach_the_entry(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    # these share words with the auction off-topic but have none of its own (オークション, 落札)
    for question, entry in (("返金の方法を知りたい", "refund"), ("商品がまだ届かない", "delivery")):
        evidence = guarded.evidence(question, today=TODAY)
        assert not evidence.off_topic
        assert [m.id for m in evidence.ranked][0] == entry
        assert "auctions" not in [m.id for m in evidence.ranked]


def test_one_everyday_word_an_off_topic_uses_does_not_claim_an_explained_question(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    # 高齢, 母, ネット and 良い are words no entry uses; only ネット is in an off-topic (ネットオークション)
    question = "高齢の母がネットで注文した商品が届きません。どうすればいいですか"
    evidence = guarded.evidence(question, today=TODAY)
    assert "ネット" in evidence.unknown and len(set(evidence.unknown)) == 4
    assert not evidence.off_topic
    assert guarded.ask(question, today=TODAY).intent == "delivery"
    # when the off-topic's words are a fair share of the strange ones, it still claims the question
    assert guarded.evidence("ネットオークションで買った商品が届かない", today=TODAY).off_topic


def test_an_off_topic_far_below_the_entry_claims_none_of_its_words(
        tmp_path: Path, tokenizer: FugashiTokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    moving = OFF_TOPICS + ("  - id: moving\n    about: moving house\n"
                           "    phrasings: [引っ越しの前に市役所で転出届を書いて出す手続き]\n")
    guarded = _shop(tmp_path, tokenizer, moving)
    question = "返金の方法はどこに書いてある？"  # 書く is a word no entry uses, and the moving off-topic has it
    evidence = guarded.evidence(question, today=TODAY)
    assert "書く" in evidence.unknown and "書く" in guarded.index.words("moving")
    assert not evidence.off_topic
    assert guarded.ask(question, today=TODAY).intent == "refund"
    # it is the floor that keeps the claim out: without it the moving off-topic, far down, takes the question
    score = {m.id: m.score for m in guarded.index.search(question, limit=6)}
    assert "moving" in score and score["moving"] < core._OFF_TOPIC_CLAIM * score["refund"]
    monkeypatch.setattr(core, "_OFF_TOPIC_CLAIM", 0.0)
    assert guarded.evidence(question, today=TODAY).off_topic


def test_a_part_the_product_declares_is_not_a_strange_word(tmp_path: Path, tokenizer: FugashiTokenizer) -> None:
    perks = OFF_TOPICS + "  - id: perks\n    about: member perks\n    phrasings: [プレミアム会員の特典の使い方]\n"
    question = "プレミアム会員ですが、返金の方法は？"  # no entry says プレミアム会員; a perks off-topic does
    plain = _shop(tmp_path / "plain", tokenizer, perks)
    assert {"プレミアム", "会員"} <= set(plain.evidence(question, today=TODAY).unknown)
    assert plain.ask(question, today=TODAY).intent is None  # the off-topic claims the two strange words
    # the same shop declaring the membership as a part of itself: its name is the shop's word, not a strange one
    declared = _shop(tmp_path / "declared", tokenizer, perks)
    shop_yaml = tmp_path / "declared" / "faq" / "shop.yaml"
    shop_yaml.write_text(shop_yaml.read_text(encoding="utf-8").replace(
        "  contact:", "  subproducts: [プレミアム会員]\n  contact:", 1), encoding="utf-8")
    declared.reload()
    evidence = declared.evidence(question, today=TODAY)
    assert evidence.unknown == [] and not evidence.off_topic
    assert declared.ask(question, today=TODAY).intent == "refund"


NOTICE_QUESTIONS = [
    "更新のお知らせメールが何度も届くので止めたい", "更新したのに更新のお知らせメールが届く",
    "更新のお知らせメールは何度届く", "更新のお知らせメールの宛先", "更新のお知らせメールの内容",
    "何度も届いた更新のお知らせメールが見つからない", "更新のお知らせメールが何度も届くのは不具合ですか",
    "更新のお知らせメールが何度も届く理由",
]
NOTICES = (
    "product: {id: shop, name: テストショップ, aliases: [テストショップ], contact: サポート窓口へ。}\n"
    "entries:\n"
    + "".join(f"  - {{id: notice-{i}, section: メール, question: {q}, answer: 案内のとおりです。}}\n"
              for i, q in enumerate(NOTICE_QUESTIONS))
)
ACME = ("off_topics:\n  - {id: acme, about: another shop, phrasings: "
        "[Acme の会員登録とポイントカードの作り方と店舗の場所と営業時間を知りたい]}\n")


def _written(tmp_path: Path, tokenizer: FugashiTokenizer, entries: str, off_topics: str) -> Bot:
    """A bot over one product file and one off-topics file, written here, with no rules but the facts."""
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "shop.yaml").write_text(entries, encoding="utf-8")
    (tmp_path / "faq" / "off-topics.yaml").write_text(off_topics, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "facts.yaml", tmp_path / "rules")
    return load_bot(Settings(faq_dir=tmp_path / "faq", rules_dir=tmp_path / "rules"), tokenizer=tokenizer)


def test_an_off_topic_below_the_top_five_still_claims_a_name(
        tmp_path: Path, tokenizer: FugashiTokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = _written(tmp_path, tokenizer, NOTICES, ACME)
    question = "Acmeの更新のお知らせメールが何度も届く"  # the notices share all of it but Acme
    ranking = [m.id for m in bot.index.search(question, limit=12)]
    assert ranking.index("acme") >= core._CLAIM_NEAR
    evidence = bot.evidence(question, today=TODAY)
    assert evidence.unknown == ["acme"] and evidence.off_topic
    assert bot.ask(question, today=TODAY).intent is None
    # an everyday word it shares from that far down claims nothing: 営業 is not a name in Latin letters
    sales = "営業から更新のお知らせメールが何度も届く"
    assert [m.id for m in bot.index.search(sales, limit=12)].index("acme") >= core._CLAIM_NEAR
    evidence = bot.evidence(sales, today=TODAY)
    assert evidence.unknown == ["営業"] and not evidence.off_topic
    # the depth is what finds it: ranked five deep, as before, the question went to a notice entry
    monkeypatch.setattr(core, "_RANK_DEPTH", 5)
    assert not bot.evidence(question, today=TODAY).off_topic


def test_off_topics_are_never_listed_or_searched(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    assert [e.id for e in guarded.knowledge.entries] == ["refund", "delivery", "password"]
    assert {t.id for t in guarded.knowledge.off_topics} == {"weather", "auctions"}
    hits = guarded.search("オークションの返金")
    assert hits and all(h.entry.id in {"refund", "delivery", "password"} for h in hits)


def test_an_agent_naming_an_off_topic_is_told_what_it_is(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    with pytest.raises(InputError, match="'weather' is an off-topic"):
        guarded.ask("明日は雨？", today=TODAY, intent="weather")


def test_a_pending_question_is_not_filled_by_an_off_topic(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    answer = guarded.ask("明日は雨が降りますか", today=TODAY, session_id="s-1")
    assert answer.intent is None


def test_shipped_off_topics_are_refused_and_do_not_take_entries(bot: Bot) -> None:
    taken = [(t.id, p, got) for t in bot.knowledge.off_topics for p in t.phrasings
             if (got := bot.ask(p, today=TODAY).intent) is not None]
    assert taken == []
    assert len(bot.knowledge.off_topics) >= 5


def test_an_off_topic_far_ahead_of_the_entries_claims_the_question(bot: Bot) -> None:
    # uninstalling is not in the documents; no-reinstall only mentions it (更新後にアンインストールして…)
    evidence = bot.evidence("アンインストールしたい", today=TODAY)
    top, entry = evidence.ranked[0], next(m for m in evidence.ranked if m.id == "no-reinstall")
    assert top.id == "pc-and-virus-help" and top.unexplained == entry.unexplained
    assert evidence.off_topic and bot.ask("アンインストールしたい", today=TODAY).intent is None
    assert bot.ask("更新後にアンインストールしてもう一度入れる必要はある？", today=TODAY).intent == "no-reinstall"


@pytest.mark.parametrize("question", ["期限が切れそうなんですけど更新できますか",
                                      "期限が6月30日ってはがきに書いてあったんですけど本当にそうなのか確かめる方法は？"])
def test_an_off_topic_does_not_claim_a_question_by_its_manner_words(bot: Bot, question: str) -> None:
    # 「パスポートの有効期限が切れそう」 is an off-topic phrasing: its そう once claimed these questions
    assert not bot.evidence(question, today=TODAY).off_topic


def test_thanks_after_an_answer_get_a_courtesy_back_not_no_answer(bot: Bot) -> None:
    first = bot.ask("更新後に再インストールは必要？", today=TODAY, session_id="thanks-1")
    assert first.intent == "no-reinstall"
    thanks = bot.ask("ありがとうございました！", today=TODAY, session_id="thanks-1")
    reply = next(t.reply for t in bot.knowledge.off_topics if t.id == "thanks")
    assert (thanks.intent, thanks.answer, thanks.suggestions) == (None, reply, ())
    assert core.FALLBACK not in thanks.answer
    hello = bot.ask("こんにちは", today=TODAY)
    assert hello.intent is None and hello.answer.startswith("こんにちは。")


@pytest.mark.parametrize("question", ["ありがとうございます。更新料金はいくらですか", "更新後に再インストールは必要？"])
def test_a_question_that_thanks_too_is_answered(bot: Bot, question: str) -> None:
    answer = bot.ask(question, today=TODAY)
    assert answer.intent is not None and not answer.answer.startswith("どういたしまして")


def test_an_off_topic_without_a_reply_still_says_it_has_no_answer(shop: tuple[Bot, Bot]) -> None:
    _, guarded = shop
    answer = guarded.ask("今日の天気は？", today=TODAY)
    assert answer.intent is None and answer.answer.startswith(core.FALLBACK)


def test_an_off_topic_reply_may_not_be_blank(tmp_path: Path) -> None:
    text = "off_topics:\n  - id: thanks\n    about: x\n    reply: '  '\n    phrasings: [ありがとう]\n"
    assert _problems(tmp_path, text) == ["faq/off-topics.yaml:4: off_topics[0].reply: is blank: leave it out for "
                                         "the usual \"no confident answer\""]


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_knowledge(_faq(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_a_phrasing_cannot_be_both_answered_and_off_topic(tmp_path: Path) -> None:
    text = "off_topics:\n  - id: mine\n    about: x\n    phrasings: [返金 方法]\n"
    assert _problems(tmp_path, text) == [
        "faq/off-topics.yaml:2: mine.phrasings: phrasing '返金 方法' is also a phrasing of entry 'refund' "
        "(hint: a question is either answered or off-topic, not both)"]


def test_an_off_topic_id_cannot_reuse_an_entry_id(tmp_path: Path) -> None:
    text = "off_topics:\n  - id: refund\n    about: x\n    phrasings: [別の店の返品]\n"
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and "off-topic id 'refund' is already used" in problems[0]
    assert problems[0].startswith("faq/off-topics.yaml:2:")


def test_an_off_topic_needs_phrasings(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "off_topics:\n  - id: empty\n    about: x\n    phrasings: []\n")
    assert len(problems) == 1 and problems[0].startswith("faq/off-topics.yaml:4: off_topics[0].phrasings")
    problems = _problems(tmp_path / "2", "off_topics:\n  - id: blank\n    about: x\n    phrasings: ['  ']\n")
    assert problems == ["faq/off-topics.yaml:2: off_topics[0].phrasings: needs at least one phrasing that is "
                        "not blank"]


CARDS = (
    "product: {id: shop, name: テストショップ, aliases: [テストショップ], contact: サポート窓口へ。}\n"
    "entries:\n"
    "  - {id: card-expiry, section: カード, question: ポイントカードの有効期限はいつまでですか,\n"
    "     answer: 最後のご利用から1年です。}\n"
    "  - {id: member-card, section: 会員, question: 会員証を再発行したい, answer: 期限が切れていても再発行できます。}\n"
)
OTHER_CARDS = "off_topics:\n" + "".join(
    f"  - {{id: other-{i}, about: other shops' cards, phrasings: [ほかの店のポイントカード{what}]}}\n"
    for i, what in enumerate(["を作りたい", "をなくした", "の使える店舗", "の会員登録"]))


def test_off_topics_taken_out_of_the_top_five_leave_the_entries_a_second(
        tmp_path: Path, tokenizer: FugashiTokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = _written(tmp_path, tokenizer, CARDS, OTHER_CARDS)
    question = "ポイントカードの有効期限"
    ranking = [m.id for m in bot.index.search(question, limit=12)]
    assert ranking[0] == "card-expiry" and ranking.index("member-card") >= 5  # four off-topics in between
    evidence = bot.evidence(question, today=TODAY)
    assert not evidence.off_topic
    assert [m.id for m in evidence.ranked] == ["card-expiry", "member-card"]
    margin = features(evidence.ranked)[FEATURES.index("margin")]
    assert 0.0 < margin < 1.0
    # ranked five deep, the off-topics taken out left the first entry alone, and its margin looked perfect
    monkeypatch.setattr(core, "_RANK_DEPTH", 5)
    alone = bot.evidence(question, today=TODAY).ranked
    assert [m.id for m in alone] == ["card-expiry"] and features(alone)[FEATURES.index("margin")] == 1.0


OTHER_SHOPS = OFF_TOPICS + (
    "  - id: other-shops\n    about: other shops\n    phrasings: [ほかの通販サイトの注文]\n"
    "    names: [メガマート, MegaMart]\n"
)


def test_a_question_naming_another_shop_is_refused_however_close_it_follows_an_entry(
        tmp_path: Path, tokenizer: FugashiTokenizer) -> None:
    bot = _shop(tmp_path, tokenizer, OTHER_SHOPS)
    question = "メガマートで返金してもらえますか？"  # refund's question word for word, but for another shop
    assert _shop(tmp_path / "plain", tokenizer, OFF_TOPICS).ask(question, today=TODAY).intent == "refund"
    evidence = bot.evidence(question, today=TODAY)
    assert evidence.off_topic
    answer = bot.ask(question, today=TODAY, product="shop")  # the widget's product field does not make it ours
    assert answer.intent is None and answer.confidence == 0.0 and answer.suggestions == ()
    # in kana, and in Latin letters as a whole word only
    assert bot.evidence("めがまーとの商品はいつ届きますか", today=TODAY).off_topic
    assert bot.evidence("megamartの返金", today=TODAY).off_topic
    assert not bot.evidence("megamartsの返金", today=TODAY).off_topic
    # naming the shop as well, the question is ranked as before
    assert bot.ask("メガマートからテストショップに乗り換えたら返金してもらえますか", today=TODAY).intent == "refund"


def test_an_off_topic_name_may_neither_name_a_product_nor_sit_in_an_entry(tmp_path: Path) -> None:
    head = "off_topics:\n  - id: others\n    about: x\n    phrasings: [ほかの店のこと]\n"
    assert _problems(tmp_path, head + "    names: [テストショップ]\n") == [
        "faq/off-topics.yaml:2: others.names: name 'テストショップ' overlaps the name 'テストショップ' of product "
        "'shop' (hint: a question naming it is that product's)"]
    assert _problems(tmp_path / "2", head + "    names: [方法]\n") == [
        "faq/off-topics.yaml:2: others.names: name '方法' is in the phrasing '返金 方法' of entry 'refund' "
        "(hint: a question naming it is refused: take it out of one of them)"]


def test_shipped_other_vendors_are_refused_and_ours_are_not(bot: Bot) -> None:
    reinstall = "{}を更新したら、アプリを入れ直す必要がありますか？"
    for question in (reinstall.format("マカフィー"), "ESET をまだ半年残っているうちに更新すると損？"):
        assert bot.ask(question, today=TODAY, product="virusbuster").intent is None
    assert bot.ask(reinstall.format("ウイルスバスター"), today=TODAY).intent == "no-reinstall"
    # reset is not ESET
    assert not bot.evidence("Adobe Sign のトランザクションが reset されるのはいつ？", today=TODAY).off_topic
