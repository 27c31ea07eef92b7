"""Bot.ask: the one door into the core. Channels parse, call it, render the Answer."""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .confidence import Calibration, is_kana_only, margin_ok
from .config import Settings
from .dates import date_span, read_iso_day
from .errors import InputError, StoreUnavailable
from .facts import Fact, Roles, ahead_roles, as_role, dont_know, extract_facts, reply_years, written_parts
from .facts import tense as facts_tense
from .index import Document, Index, Match
from .knowledge import Entry, Knowledge, load_knowledge
from .logs import personal_spans
from .rules import Decision
from .sessions import MemoryStore, SessionStore
from .text import Analysis, FugashiTokenizer, Names, Tokenizer, normalize, romaji_to_kana, to_katakana
from .yamlsrc import close_match

_log = logging.getLogger(__name__)
FALLBACK = "申し訳ありません。このご質問に確実にお答えできる回答が見つかりませんでした。"
OFF_TOPIC = "~off-topic"  # the index group of faq/'s off-topics: no product id can be spelled like this
# A reply hedged with 「たぶん」「確か」 still gives the date it names: these words are not about another topic
_HEDGES = frozenset({"多分", "確か", "恐らく", "大体", "凡そ"})
# What a reply to the bot's question may say around the fact it gives, and still be only that reply:
# 「2024年4月10日だったと思います」「7月1日です。よろしくお願いします」「…でした、すみません」「…気がします」
_REPLY_WORDS = _HEDGES | {"宜しく", "願う", "有り難い", "済む", "気", "助かる", "嫌",
                          "どうぞ", "何とぞ", "申し上げる", "世話", "疲れ",  # and the courtesy the ranking keeps alone
                          "毎月", "毎年",  # 「毎月1日です」: a date that recurs, as a billing day does
                          "失礼", "御免", "為さる"}  # 「失礼しました、20日です」「ごめんなさい、…」
# what a what-if reply says around its date: 「もし2023年1月1日の場合は？」
_WHAT_IF_WORDS = frozenset({"若し", "場合", "仮"})
_ASKS = re.compile(r"[？?]|(?:です|ます|でしょう)か")  # a sentence that asks: 「…どう決まりますか」
_SUPPOSE = re.compile(r"なら|だったら|でしたら|の場合|としたら|とすると|だと[？?]|では[？?]")
# 「2024年4月10日、いや4月11日でした」: the date after the correction is the one meant
_CORRECTION = re.compile(r"いや|じゃなく|ではなく|でなく|訂正|間違|まちが|誤り|あやまり")
# 「…じゃなくて…」 alone is no negation; 「3月20日の間違いでした」 is no question of its own
_CORRECTION_WORDS = frozenset({"無い", "訂正", "間違える", "間違い", "誤り"})
_CLAIM_NEAR = 5  # off-topics ranked below this many claim only names in Latin letters (ESET, Zoom)
_RANK_DEPTH = 12  # every question is ranked this deep, the index's shortlist (Weights.shortlist), scored in full anyway
_OFF_TOPIC_CLAIM = 0.35  # an off-topic scoring under this share of the best entry's score claims no word
_OFF_TOPIC_LEAD = 1.4  # an off-topic scoring this many times the best entry's score is the closer question
# set phrases that open or close a message (normalised text): 「よろしくお願いいたします」, 「お世話になっております」,
# and those of a message written like an e-mail: 「はじめまして」, 「お忙しいところ恐れ入りますが」,
# 「…いただけますと幸いです」, a sender naming only their post (「経理担当です。」「総務部です。」);
# nothing of what is asked
_COURTESY = re.compile(r"(?:どうぞ|何卒|なにとぞ)?(?:よろしく|宜しく)(?:お願い|おねがい|御願い)?(?:いた|致)?"
                       r"(?:します|申し上げます)?|(?:いつも)?お世話になって(?:おり|い)ます|お世話になります"
                       r"|お疲れ様です|おつかれさまです|はじめまして|初めまして"
                       r"|(?:お忙しいところ|お手数ですが)?(?:恐れ入りますが|恐縮ですが|申し訳ありませんが|申し訳ございませんが)"
                       r"|お忙しいところ|(?:いただけ|頂け)(?:ます|れ)(?:と|ば)幸いです"
                       r"|(?:^|(?<=[。.!?]))\s*[^\s。.!?、]{1,10}(?:担当|部|課|係|室)(?:の[^\s。.!?、]{1,6})?です[。.]")

# after a product's name, words that make it a yardstick (「ウイルスバスターみたいに1年後？」) or a thing set aside
# (「アドビIDじゃなくて」) rather than what the question asks about
_COMPARED = re.compile(r"\s*(?:みたい|のよう|でいう|で言う|と同じ|とおなじ|同様|とは?違|とは?ちが|とは?異な"
                       r"|と比べ|とくらべ|に比べ|にくらべ|と比較|じゃな[いく]|ではな[いく]|でなく)")
_JOINED = re.compile(r"[\sと、,・/&や]*(?:and|及び|および)?[\sと、,・/&や]*")  # between two names asked about together

# Laughter typed after a Japanese word or its question mark (わからんｗ, 詐欺？ｗ, 反映されなくて草, 意味わからん(笑)):
# a tone, never a topic, and a word no entry knows. 草 and 笑 only after kana, so that 雑草 and 苦笑 keep theirs.
_JAPANESE = "\u3040-\u30ff\u4e00-\u9fff"
_LAUGHTER = re.compile(rf"(?<=[{_JAPANESE}?!])w+(?![a-z0-9./])|(?<=[\u3040-\u30ff])(?:笑|草)+(?![{_JAPANESE}])"
                       r"|[(（]笑[)）]")


@dataclass(frozen=True)
class Suggestion:
    """A "もしかして" candidate."""

    intent: str
    question: str
    score: float


@dataclass(frozen=True)
class Answer:
    """What every channel renders."""

    answer: str
    intent: str | None
    confidence: float
    product: str | None
    session_id: str
    version: str
    computed: Mapping[str, Any] = field(default_factory=dict)
    rule: str | None = None
    follow_up: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    links: tuple[str, ...] = ()
    # the dates worth a glance, labelled by the product's rule file (bot/display.py): what the widget and Slack show
    dates: tuple[Mapping[str, Any], ...] = ()
    trace: Mapping[str, Any] | None = None
    # a reply's question in full, where the message answered was no question on its own (「2024年1月16日です」,
    # 「じゃあ3月1日だったら？」, 「わかりません」): the conversation's question, the reply beside it. For a channel
    # that shows an answer apart from its conversation (Slack's share button); not in the JSON, whose client
    # holds the conversation
    asked: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC.md's POST /api/ask."""
        # by hand, not dataclasses.asdict: its deep copy of every value cost 11–29 µs an answer, this 0.6–0.9 µs;
        # every value here is already plain JSON data (tests/test_core.py compares the two field by field)
        data: dict[str, Any] = {
            "answer": self.answer,
            "intent": self.intent,
            "confidence": self.confidence,
            "product": self.product,
            "session_id": self.session_id,
            "version": self.version,
            "computed": dict(self.computed),
            "rule": self.rule,
            "follow_up": self.follow_up,
            "suggestions": [{"intent": s.intent, "question": s.question, "score": s.score}
                            for s in self.suggestions],
            "links": list(self.links),
            "dates": [dict(d) for d in self.dates],
        }
        if self.trace is not None:
            data["trace"] = self.trace
        return data


@dataclass(frozen=True)
class Evidence:
    """What one question gives the decision: its facts, ranking, product and unknown words."""

    facts: list[Fact]
    ranked: list[Match]
    product: str | None
    unknown: list[str]
    kana_only: bool
    terms: int = 0  # distinct content words of the question, dates and order numbers left out
    off_topic: bool = False  # the best match is one of faq/'s off-topics: the question is not for this bot
    name_only: bool = False  # nothing but a product's name (ウイルスバスター): which of its entries is unknowable
    predicate: bool = False  # a verb or adjective: the question asks something (更新したい), not only names a topic
    words: frozenset[str] = frozenset()  # those content words themselves; none in a message of only courtesy


@dataclass(frozen=True)
class Hit:
    """An agents' look-up result: the entry and how well it matched."""

    entry: Entry
    score: float
    matched: str


def today_in(tz: str) -> date:
    """Today's calendar date in the given zone (only entry points call this)."""
    return datetime.now(ZoneInfo(tz)).date()


class _Snapshot:
    """Everything derived from one Knowledge; replaced whole on reload, never changed in place."""

    def __init__(self, knowledge: Knowledge, tokenizer: Tokenizer, settings: Settings) -> None:
        self.knowledge = knowledge
        self.settings = settings
        self.index = Index(
            [Document(e.id, e.phrasings, e.answer, e.product) for e in knowledge.entries]
            + [Document(t.id, t.phrasings, "", OFF_TOPIC) for t in knowledge.off_topics],
            tokenizer=tokenizer,
            synonyms=knowledge.synonyms,
        )
        self.entries = {e.id: e for e in knowledge.entries}
        self.off_topics = frozenset(t.id for t in knowledge.off_topics)
        self.replies = {t.id: t.reply for t in knowledge.off_topics if t.reply}  # 「ありがとう」: a courtesy back
        # each off-topic phrasing's words, read once here rather than whenever an off-topic ranks first
        self.off_topic_words = {p: frozenset(self.index.analyse(p).terms) for t in knowledge.off_topics
                                for p in t.phrasings}
        self.products = [p.id for p in knowledge.products]
        # the FAQ's own words, not the off-topics; a product's names and the parts it declares (Adobe Stock,
        # Acrobat) are its words too, even where no entry happens to use them
        self.vocabulary = self.index.vocabulary(self.products).union(
            *(self.index.analyse(name).terms for p in knowledge.products for name in (p.name, *p.aliases,
                                                                                     *p.subproducts)))
        self.roles = knowledge.roles
        self.aliases = [(p.id, _alias_forms(p.name, *p.aliases, *p.subproducts)) for p in knowledge.products]
        # the product's own names, longest first, blanked from a question about it before ranking (see _rank)
        self.names = {p.id: _alias_forms(p.name, *p.aliases)[::-1] for p in knowledge.products}
        # other products and vendors, declared by the off-topics (see _names_another_product)
        self.other_names = Names(n for t in knowledge.off_topics for n in t.names)

    def detect_products(self, norm: str) -> list[str]:
        """Products named in the normalised text, by alias."""
        kata = to_katakana(norm)
        return [pid for pid, aliases in self.aliases if any(a and (a in norm or a in kata) for a in aliases)]

    def asked_about(self, norm: str, products: Sequence[str]) -> str | None:
        """Of several products a question names, the one it asks about: the last one named, not counting a name
        used as a yardstick or set aside. None when it names fewer than two.

        A customer with both products says what they know of one and asks about the other:
        「アドビVIPは続けるけど、ウイルスバスターの方は今期で更新をやめたい」 asks about ウイルスバスター, and
        「ウイルスバスターにもアドビでいう契約応当日みたいなのある？」 too, although アドビ comes last. Ranked over both
        products, such questions went to the entry sharing the most words with either clause.
        """
        if len(products) < 2:
            return None
        kata = to_katakana(norm)
        owner: list[str | None] = [None] * len(norm)
        for pid, aliases in self.aliases:
            if pid not in products:
                continue
            for alias in aliases:
                for text in (norm, kata):
                    at = text.find(alias)
                    while at >= 0:
                        for i in range(at, at + len(alias)):
                            owner[i] = owner[i] or pid
                        at = text.find(alias, at + 1)
        mentions, end = [], 0  # each product's name as it runs in the text, with where it starts and ends
        for named, run in itertools.groupby(owner):
            start, end = end, end + len(list(run))
            if named is not None:
                mentions.append((named, start, end))
        asked = [m for m in mentions if not _COMPARED.match(norm, m[2])] or mentions
        last = mentions.index(asked[-1])
        if last and mentions[last - 1][0] != asked[-1][0] and _JOINED.fullmatch(norm, mentions[last - 1][2],
                                                                                 asked[-1][1]):
            return None  # 「ウイルスバスターとアドビVIPの違いは？」 asks about both
        return asked[-1][0]

    def rank(self, norm: str, product: str | None, limit: int, off_topics: bool = True,
             analysed: Analysis | None = None) -> tuple[list[Match], str | None, Analysis, bool]:
        """Ranked intents for the normalised text, restricted to the named or detected product when there is
        exactly one, with the off-topics or without. Also the analysis ranked, and whether the question is
        nothing but the product's name. `analysed` is the text's analysis when the caller already has it.
        """
        products = [product] if product else self.detect_products(norm)
        detected = products[0] if len(products) == 1 else self.asked_about(norm, products)
        analysis = None
        if detected:
            # The product's name chose the product; among its entries it only favours those whose phrasings
            # happen to name it (ウイルスバスター更新分の領収書 is a receipt question, not a renewal one), so it is
            # left out, with any other product's it was chosen over. A question that is nothing but the name keeps
            # it, to rank the suggestions.
            names = self.names[detected] if len(products) == 1 else sorted(
                (n for p in products for n in self.names[p]), key=len, reverse=True)
            unnamed = _blank(norm, names)
            if unnamed != norm:
                analysis = self.index.analyse(unnamed)
        name_only = analysis is not None and not analysis.terms
        if analysis is None or name_only:
            # kept: the unknown words are read from the same analysis
            analysis = analysed if analysed is not None else self.index.analyse(norm)
        # naming a product narrows the entries, never the off-topics (ウイルスバスターでウイルスを駆除したい)
        if detected:
            groups: list[str] | None = [detected, OFF_TOPIC] if off_topics else [detected]
        else:
            groups = None if off_topics else self.products
        return self.index.search(analysis, limit=limit, groups=groups), detected, analysis, name_only

    def evidence(self, text: str, today: date, product: str | None) -> Evidence:
        """Facts, the ranking of the text without them, the product, and the words no entry knows."""
        # e-mail addresses, phone and serial numbers are neither facts nor topic words: blank them (same length,
        # so fact spans still point into the question); order numbers stay, the fact reader wants them
        text = "".join(_blank_personal(text))
        facts = extract_facts(text, today=today, roles=self.roles)
        # dates and order numbers say nothing about the topic; ranking them only adds noise
        masked = _mask(text, facts)
        facts = [f for f in facts if f.name != "offset"]  # masked, but from a day not given: no date to decide on
        norm = romaji_to_kana(normalize(masked))  # once: product detection, the name's removal and kana-only read it
        norm, courtesy_only, analysed = self._without_courtesy(norm)
        # as deep as the index's shortlist: an off-topic below the top five may still claim a name (ESET, under
        # four entries that share 更新案内メール), and the off-topics taken out must not leave the entries short:
        # with four off-topics in the top five, the one entry left had no second to measure its margin against
        ranked, detected, analysis, name_only = self.rank(norm, product, _RANK_DEPTH, analysed=analysed)
        unknown = self.index.unknown_terms(analysis, self.vocabulary)
        off_topic = courtesy_only or self._names_another_product(norm) or self._off_topic(ranked, unknown, analysis)
        if not off_topic:
            ranked = [m for m in ranked if m.id not in self.off_topics]
        ranked = ranked[: max(5, self.settings.suggestions + 1)]
        # 「経理担当です。2023年6月30日です」 gives a date and says nothing else: a bare reply to the bot's question
        words = frozenset() if courtesy_only else frozenset(analysis.terms)
        return Evidence(facts, ranked, detected, unknown, is_kana_only(norm), len(words), off_topic, name_only,
                        analysis.predicate, words)

    def _without_courtesy(self, norm: str) -> tuple[str, bool, Analysis | None]:
        """The question without its set phrases of courtesy and its laughter, when something is left to rank, whether
        the message is nothing but courtesy, and the analysis of what is left when it was made.

        「契約応当日はいつですか？よろしくお願いします」 is a question about the anniversary; ranked whole, the
        chit-chat off-topic 「よろしくお願いします」 took it word for word, and a large share of customers' and
        agents' messages open or close that way. Alone, the phrases stay, and the message is chit-chat:
        「はじめまして。経理担当です。」 asks nothing yet, and suggesting FAQ entries for it would be a guess.
        """
        stripped = _COURTESY.sub(" ", _LAUGHTER.sub(" ", norm)).strip()
        if stripped == norm:
            return norm, False, None
        analysis = self.index.analyse(stripped)
        if not analysis.terms:
            return norm, True, None
        return stripped, False, analysis

    def _names_another_product(self, norm: str) -> bool:
        """True when the question names another product or vendor (an off-topic's `names`) and none of ours.

        「マカフィーを更新したら、アプリを入れ直す必要がありますか？」 follows no-reinstall word for word but
        for マカフィー, and the knowledge says nothing about McAfee: ranked, it was answered at 0.998, because the
        one word no entry knows weighs little against eight it does, and the other vendors' off-topic, which
        has the name, scores too far under the entry to claim it. The product field does not count: the widget
        on ウイルスバスター's page sends it with whatever the customer asks. A question naming ours as well
        (「ノートンからウイルスバスターに乗り換えたら…」) is ranked as before.
        """
        return self.other_names.found_in(norm) and not self.detect_products(norm)

    def _off_topic(self, ranked: Sequence[Match], unknown: Sequence[str], analysis: Analysis) -> bool:
        """True when the question is one of the off-topics rather than a question for the FAQ.

        That is when off-topics hold more than a quarter of the question's words that no entry uses
        (車検, Spotify), or one ranks first and either explains more of the question than the best
        entry, or scores 40% more (「アンインストールしたい」 against an entry that mentions
        uninstalling on the way to its own point), or is asked in the question word for word
        (今何時ですか). Otherwise an off-topic only repeats the FAQ's vocabulary: 「領収書がほしい」 is
        as close to 「水道料金の領収書がほしい」 as to the receipt entry, and it is a receipt question.
        The quarter is for the customer who explains: 「年寄りなのでネットのやりとりが苦手です。
        電話で相談できる窓口は？」 brings four words no entry uses, and that one of them (ネット) is
        in an off-topic's phrasing does not make it a question about something else. Nor does an
        off-topic that scores under 35% of the best entry claim anything: in 「問い合わせの電話番号って
        どこに書いてある？」 the one unknown word, 書く, is also in a how-to-use-the-app off-topic
        far down the ranking, and the question is about the phone number. In the question sets the
        wrongful claims came from off-topics at 25-33% of the best entry, the rightful ones (Google
        Workspaceのライセンスを途中で追加したら日割り？) from 39% up. Below the top five, an off-topic
        claims only names in Latin letters: in 「ESETの更新案内メールが何度も届くのはなぜ？」 four entries
        share 更新案内メール and the other vendors' off-topic ranks seventh, but ESET is its word; at that
        depth everyday words it shares (お店, 好き, 書く) claimed questions about the FAQ's own topics.
        """
        if not ranked:
            return False
        strange = set(unknown)
        entry = next((m for m in ranked if m.id not in self.off_topics), None)
        floor = _OFF_TOPIC_CLAIM * entry.score if entry is not None else 0.0
        claimed = {w for at, m in enumerate(ranked) if m.id in self.off_topics and m.score >= floor
                   for w in strange if w in self.index.words(m.id) and (at < _CLAIM_NEAR or _latin_name(w))}
        if len(claimed) > len(strange) / 4:
            return True
        if ranked[0].id not in self.off_topics:
            return False
        return (entry is None or ranked[0].unexplained < entry.unexplained
                or ranked[0].score >= _OFF_TOPIC_LEAD * entry.score
                or self.off_topic_words[ranked[0].question] <= set(analysis.terms))

    def contact_text(self, product: str | None) -> str:
        """The support contact, in the documents' own words."""
        products = [p for p in self.knowledge.products if product in (None, p.id)]
        if len(products) == 1:
            return products[0].contact
        return "\n".join(f"{p.name}: {p.contact}" for p in products)

    def check_product(self, product: str | None) -> None:
        """InputError for a product id the knowledge does not have."""
        if product is not None and self.knowledge.product(product) is None:
            raise InputError("bad_product", f"unknown product '{product}'; known: "
                             + ", ".join(p.id for p in self.knowledge.products))


class Bot:
    """Answers questions from loaded knowledge, which `reload` swaps atomically while serving."""

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        settings: Settings | None = None,
        tokenizer: Tokenizer | None = None,
        sessions: SessionStore | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._tokenizer = tokenizer or FugashiTokenizer()
        self._snap = _Snapshot(knowledge, self._tokenizer, self.settings)
        self.sessions: SessionStore = sessions or MemoryStore(self.settings.session_ttl)
        self.calibration = calibration or Calibration.load(self.settings.calibration)

    @property
    def knowledge(self) -> Knowledge:
        """The knowledge answers come from now."""
        return self._snap.knowledge

    @property
    def tokenizer(self) -> Tokenizer:
        """The analyser, which another Bot over other knowledge can share (it is the costly part to load)."""
        return self._tokenizer

    @property
    def index(self) -> Index:
        """The index of the current knowledge."""
        return self._snap.index

    @property
    def version(self) -> str:
        """The knowledge version answers come from."""
        return self._snap.knowledge.version

    def reload(self, knowledge: Knowledge | None = None) -> str:
        """Load faq/ and rules/ again (running every rule example) and swap them in.

        Raises ConfigError listing every problem, and then the old knowledge goes on serving.
        """
        if knowledge is None:
            knowledge = load_knowledge(self.settings.faq_dir, self.settings.rules_dir, run_examples=True)
        self._snap = _Snapshot(knowledge, self._tokenizer, self.settings)  # one reference swap: atomic
        return knowledge.version

    def evidence(self, text: str, *, today: date, product: str | None = None) -> Evidence:
        """What the confidence model sees for a question (used to fit it)."""
        return self._snap.evidence(text, today, product)

    def ask(
        self,
        text: str,
        *,
        today: date,
        session_id: str | None = None,
        product: str | None = None,
        explain: bool = False,
        facts: Mapping[str, Any] | None = None,
        intent: str | None = None,
        remember: bool = True,
    ) -> Answer:
        """Answer one message of a conversation: match, read facts, decide by rules, compose.

        The agents' what-if passes `facts` (from `parse_facts`; they win over facts read from the text)
        and may name the `intent`, which then skips matching. It also passes `remember=False`: its answers
        start no conversation, so the follow-up question or the dates answered are not stored for a reply.
        """
        text = self._check_text(text)
        snap = self._snap  # one consistent view of the knowledge for the whole answer
        snap.check_product(product)
        if intent is not None and intent in snap.off_topics:
            raise InputError("bad_intent", f"'{intent}' is an off-topic (faq/off-topics.yaml), not an FAQ entry: "
                             "it has no answer, questions about it get the fallback")
        if intent is not None and intent not in snap.entries:
            raise InputError("bad_intent", f"unknown intent '{intent}'"
                             + (f" ({hint})" if (hint := close_match(intent, snap.entries)) else ""))
        chosen = intent
        sid = session_id or uuid.uuid4().hex
        ev = snap.evidence(text, today, product)
        found, ranked, detected, unknown = ev.facts, ev.ranked, ev.product, ev.unknown
        confidence = 0.0 if ev.off_topic else self.calibration.confidence(ranked, unknown, kana_only=ev.kana_only,
                                                                         terms=ev.terms)
        known = {**_facts_dict(found), **(facts or {})}
        threshold = self.settings.threshold or self.calibration.threshold
        confident = (not ev.off_topic and not ev.name_only and bool(ranked) and confidence >= threshold
                     and self._lead(snap, ev, known, today)[1])
        try:
            state = self.sessions.get(sid) if session_id else None
        except StoreUnavailable as exc:
            # the shared store is down: a reply that gives only a fact needs the question it answers, so it is
            # told to try again (503); any other message is answered as a question of its own, nothing kept
            if found and _only_facts(text, ev.words):
                raise
            _log.warning("sessions unavailable, answering without the conversation: %s", exc)
            state = None
        pending = snap.entries.get(state["intent"]) if state and state.get("ask") else None
        if state and pending is not None and chosen is None and not found and dont_know(text):
            self._keep(sid, state)  # still pending, from now: the date, once found, continues it
            return self._not_known(snap, pending, sid, self._trace(snap, explain, today, found, ranked, None, True))
        intent, kept = None, False
        told = found
        # on the topic: no word the knowledge base has never seen (a hedge is no topic) and no off-topic's question
        about_us = not ev.off_topic and not [w for w in unknown if w not in _HEDGES]
        # a reply continues the pending question when it gives an asked fact and is not about something else:
        # neither carrying words the knowledge base has never seen (明日の天気) nor confidently another intent,
        # unless it names the facts asked for (「課金日は7月1日です」 ranks Adobe's proration first on 日 alone,
        # 「契約応当日は…、追加日は…です」 ranks anniversary first) and no other product
        bare_reply = bool(state and state.get("ask") and found and _only_facts(text, ev.words))
        if state and state.get("ask") and (bare_reply or about_us):
            asked, before = state["ask"], _restore(state.get("facts", {}))
            if bare_reply:
                found = _corrected(text, found)
                known = {**_facts_dict(found), **(facts or {})}
            given, reply, wanted = found, known, asked
            if "years" not in before and ("years" in asked or "years" in snap.knowledge.rules.reads(state["intent"])):
                # the bot asked for the years, or the rules of its question read them (its follow-up asks for
                # 「現在の有効期限…と更新する年数」): a bare 「3年」 in the reply gives them (「2025年8月31日と3年」),
                # though in a question of its own it says nothing about renewing
                wanted = [*asked, "years"]
                years = reply_years(text, found) if "years" not in known else None
                if years is not None:
                    given = sorted([*found, years], key=lambda f: f.start)
                    reply = {**known, "years": years.value}
            bare = [f for f in given if f.name in ("date", "invalid_date")]
            said = state.get("tense", 0) if facts_tense(text) == 0 else 0  # the reply's own tense has placed it
            ahead = frozenset(state.get("ahead", ())) | ahead_roles(text, snap.roles)
            filled = _fill_asked(before, reply, bare, wanted, snap.roles, today, said, ahead)
            # the asked facts (or a date that does not exist named as one: 「契約応当日は2月30日です」), or bare years
            named = any(f.name in asked or f.role in asked for f in found) or given is not found
            elsewhere = detected is not None and pending is not None and detected != pending.product
            other = confident and ranked[0].id != state["intent"]
            # ... nor asks a question of its own, with the pending one not even near its ranking: 「月割り開始日は
            # どう決まりますか？ …契約応当日は2025年10月1日です」 names the anniversary a pending Sign question asked
            # for, but asks about proration (「契約応当日は…です。リセット日はいつ？」 ranks the Sign question second)
            anew = other and bool(_ASKS.search(text)) and state["intent"] not in {m.id for m in ranked[:3]}
            # a bare reply says nothing else, so what its dates and 「毎月」 rank first is no question of its own
            if filled is not None and (bare_reply or not other or (named and not elsewhere and not anew)):
                intent, known = state["intent"], filled[0]
                told = [filled[1].get(f, f) for f in given]
        elif (state and state.get("answered") and chosen is None
              and (answered := snap.entries.get(state["intent"])) is not None):  # a reload may have removed it
            # after an answer worked out from a date, 「じゃあ2023年1月1日だったら？」 asks the same question again
            other = confident and ranked[0].id != answered.id
            what_if = _what_if(state, text, found, snap.roles, today)
            # or corrects the date it was worked out from: 「3月20日の間違いでした」
            plain = _only_facts(text, ev.words - _WHAT_IF_WORDS)
            # 「追加日が12月1日ならどうなる？」 ranks add-license-timing first, but its 「なら」 asks the answer again
            # ... but not 「…の場合のSignリセット日は？」 after a 月割り answer: a question of its own, which a
            # confident ranking puts on another entry, with the one answered not even near it
            elsewhere = other and answered.id not in {m.id for m in ranked[:3]}
            supposed = bool(_SUPPOSE.search(text)) and detected in (None, answered.product) and not elsewhere
            # years alone (「5年だったら？」) only as a short reply or a supposition: 「もう5年使っていますが…」 is a
            # question of its own
            years_only = what_if is not None and all(f.name == "years" for f in what_if[1])
            if what_if is not None and (plain or supposed or (not years_only and not other and about_us)):
                intent, told = answered.id, what_if[1]
                known = {**what_if[0], **(facts or {})}
                # 「2026年2月30日だったら？」: the answer before stays the one a next what-if changes
                kept = any(f.name == "invalid_date" for f in told)
        continued = intent is not None
        if chosen is not None:
            intent, confidence = chosen, 1.0
        elif intent is None and confident:
            intent = ranked[0].id
        # no confident intent, or a pending question whose entry a reload removed: say so honestly
        entry = snap.entries.get(intent) if intent else None
        if intent is None or entry is None:
            if state:
                self._keep(sid, None)
            if ev.off_topic and ranked and (courtesy := snap.replies.get(ranked[0].id)) and not found:
                # 「ありがとうございました」 after an answer: a courtesy back, not "no confident answer"
                return Answer(answer=courtesy, intent=None, confidence=round(confidence, 4), product=detected,
                              session_id=sid, version=snap.knowledge.version,
                              trace=self._trace(snap, explain, today, found, ranked))
            # a question an off-topic takes is about something else: no entry is worth suggesting
            return self._fallback(snap, [] if ev.off_topic else ranked, confidence, detected, sid,
                                  self._trace(snap, explain, today, found, ranked))
        # a date named that does not exist, its role still unknown: a rule may ask for it again
        # (「有効期限が2025年2月30日なんですが、まだ更新できますか」 turns on that expiry)
        unreal = next((f.role or "date" for f in told if f.name == "invalid_date"), None)
        if unreal is not None and unreal not in known:
            known = {**known, "unreal_date": unreal}
        decision = snap.knowledge.rules.decide(intent, known, today)
        # what the answer says about a date (clamped, cut at today) is said only where its rules read that date;
        # a date that does not exist is always told
        used = snap.knowledge.rules.reads(intent) | {"invalid_date"}
        if decision.redirect is not None:  # the facts make it another entry's question (the expiry has passed)
            intent, entry = decision.redirect, snap.entries[decision.redirect]
            used |= snap.knowledge.rules.reads(intent)
        # the question places a reply's bare 「12月です」: before today if the expiry has passed (its tense), or
        # after it if the expiry is still to come (「期限前に…」)
        if decision.ask and remember:
            self._keep(sid, {"intent": intent, "ask": list(decision.ask), "facts": _store(known, used),
                             **_placing(text, state if continued else None, snap.roles)})
        elif remember and any(name in snap.roles.names for name in known) and decision.computed:
            # an answer worked out from a date: a what-if reply may change that date (see _what_if)
            self._keep(sid, {"intent": intent, "answered": True, "facts": _store(known, used),
                             **_placing(text, state if continued else None, snap.roles)})
        elif (session_id or state) and not kept:
            self._keep(sid, None)
        trace = self._trace(snap, explain, today, told, ranked, decision, continued)
        # a message that continued the conversation but is no question on its own: what it is shared with
        asked = None
        if continued and chosen is None and state and not (confident and ranked and ranked[0].id == state["intent"]):
            asked = f"{snap.entries[state['intent']].question}（{text}）"
        return Answer(
            answer=_compose(entry, decision, [f.notice for f in told if f.notice and f.name in used]),
            intent=entry.id,
            confidence=round(1.0 if continued else confidence, 4),
            product=entry.product,
            session_id=sid,
            version=snap.knowledge.version,
            computed=decision.computed,
            rule=decision.rule,
            follow_up=decision.follow_up,
            links=entry.links,
            trace=trace,
            dates=tuple(snap.knowledge.rules.display(entry.product).dates(decision.computed)) if decision.computed
            else (),
            asked=asked,
        )

    def _keep(self, sid: str, state: dict[str, Any] | None) -> None:
        """Store (or, with None, end) a conversation. A store that is down loses it: the answer still goes out,
        and a reply to it is told to try again (see ask)."""
        try:
            if state is None:
                self.sessions.delete(sid)
            else:
                self.sessions.put(sid, state)
        except StoreUnavailable as exc:
            _log.warning("sessions unavailable, the conversation is not kept: %s", exc)

    def fact_names(self) -> dict[str, str]:
        """The facts a what-if may set, with their kind: "date", "order_number" or "number"."""
        names = {role: "date" for role in self._snap.roles.names}
        return {**names, "date": "date", "order_number": "order_number", "years": "number", "quantity": "number"}

    def parse_facts(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Facts given as JSON values (dates as YYYY-MM-DD) → the values `ask(facts=...)` takes.

        An order number is read by the same extractor as in a question, so it brings its order_kind.
        """
        kinds = self.fact_names()
        out: dict[str, Any] = {}
        for name, value in raw.items():
            kind = kinds.get(name)
            if kind is None:
                hint = close_match(name, kinds)
                raise InputError("bad_fact", f"unknown fact '{name}'" + (f" ({hint})" if hint else
                                 f"; the facts are {', '.join(sorted(kinds))}"))
            if kind == "date":
                try:
                    out[name] = read_iso_day(value)
                except ValueError as wrong:
                    raise InputError("bad_fact", f"fact '{name}' {wrong}") from None
            elif kind == "number":
                if isinstance(value, float) and value.is_integer():
                    value = int(value)  # JSON has one number type: 3.0 is 3
                # a number of years, as a question can give it (「3年更新」: one or two digits); dates move by it
                top = 100 if name == "years" else 10**9
                if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < top:
                    raise InputError("bad_fact", f"fact '{name}' must be a whole number from 1 to {top - 1:,}")
                out[name] = value
            else:
                read = extract_facts(value, today=date.today(), roles=Roles()) if isinstance(value, str) else []
                order = {f.name: f.value for f in read if f.name in ("order_number", "order_kind")}
                if "order_number" not in order:
                    raise InputError("bad_fact", "fact 'order_number' must be an order number such as "
                                     "AB-20240116123456-123456789")
                out.update(order)
        return out

    def _trace(self, snap: _Snapshot, explain: bool, today: date, facts: Sequence[Fact],
               ranked: Sequence[Match], decision: Decision | None = None,
               continued: bool = False) -> dict[str, Any] | None:
        if not explain:
            return None
        return {
            "today": today.isoformat(),
            "knowledge_version": snap.knowledge.version,
            "facts": [{"name": f.name, "value": _plain(f.value), "span": [f.start, f.end], "text": f.text,
                       **({"note": f.note} if f.note else {}), **({"notice": f.notice} if f.notice else {})}
                      for f in facts],
            "ranking": [m.to_dict() for m in ranked],
            "continued_session": continued,
            "rules": list(decision.trace) if decision else [],
            "rule": decision.rule if decision else None,
        }

    def min_margin(self, terms: int, predicate: bool = False) -> float:
        """The top-2 margin below which a question of `terms` content words is not answered.

        One word and no verb or adjective names a topic (ライセンスのこと), which several entries share: only a
        clear lead answers it. One word with a verb asks something (更新したい, one of renewal-method's own
        phrasings, leads 更新したくない by 6%), and the ordinary margin holds.
        """
        one_word = terms <= 1 and not predicate
        return max(self.settings.min_margin, self.settings.min_margin_one_word if one_word else 0.0)

    def lead(self, ev: Evidence, *, today: date) -> tuple[str | None, bool]:
        """The entry whose answer the best match gives, and whether it leads the second clearly enough."""
        return self._lead(self._snap, ev, _facts_dict(ev.facts), today)

    def _lead(self, snap: _Snapshot, ev: Evidence, known: Mapping[str, Any], today: date) -> tuple[str | None, bool]:
        if not ev.ranked:
            return None, True
        # the rules may hand a match to another entry (rules/: redirect), so the answers are compared, not the
        # matches: 「有効期限は2025年3月1日です。いつまで更新できますか？」 is as near 期限前 as 期限後, and an expiry
        # that has passed makes both the after-expiry answer
        rules = snap.knowledge.rules
        first = rules.answered_by(ev.ranked[0].id, known, today)
        if margin_ok(ev.ranked, self.min_margin(ev.terms, ev.predicate)):
            return first, True
        return first, first == rules.answered_by(ev.ranked[1].id, known, today)

    def _fallback(
        self, snap: _Snapshot, ranked: Sequence[Match], confidence: float, product: str | None, sid: str,
        trace: dict[str, Any] | None,
    ) -> Answer:
        suggestions = tuple(
            Suggestion(m.id, snap.entries[m.id].question, round(confidence * m.score / ranked[0].score, 4))
            for m in ranked[: self.settings.suggestions]
            if m.score >= 0.5 * ranked[0].score
        )
        lines = [FALLBACK]
        if suggestions:
            lines.append("もしかして、次のご質問でしょうか。")
            lines += [f"・{s.question}" for s in suggestions]
        lines.append(snap.contact_text(product))
        return Answer(
            answer="\n".join(lines),
            intent=None,
            confidence=round(confidence, 4),
            product=product,
            session_id=sid,
            version=snap.knowledge.version,
            suggestions=suggestions,
            trace=trace,
        )

    def _not_known(self, snap: _Snapshot, entry: Entry, sid: str, trace: dict[str, Any] | None) -> Answer:
        """The reply to a follow-up that says the customer does not know or remember the fact asked for.

        The entry's own answer, which says how that date is set, without the dates it would compute, and its
        product's contact, where the documents send the customer who needs more. The question stays pending:
        the date, once found, still continues it.
        """
        parts = [entry.answer]
        if entry.links:
            parts.append("\n".join(f"・{title}" for title in entry.links))
        parts.append(snap.contact_text(entry.product))
        return Answer(
            answer="\n\n".join(parts),
            intent=entry.id,
            confidence=1.0,
            product=entry.product,
            session_id=sid,
            version=snap.knowledge.version,
            links=entry.links,
            trace=trace,
            asked=entry.question,  # 「わかりません」 beside it says nothing the answer does not
        )

    def search(self, query: str, *, product: str | None = None, limit: int = 10, name: str = "query") -> list[Hit]:
        """The agents' look-up: ranked entries with full answers. `name` is what errors call the query."""
        query = self._check_text(query, name)
        snap = self._snap
        snap.check_product(product)
        # ranked as a customer's question is, the product's name left out, but never among the off-topics
        ranked = snap.rank(romaji_to_kana(normalize(query)), product, limit, off_topics=False)[0]
        return [Hit(snap.entries[m.id], round(m.score, 4), m.question) for m in ranked]

    def out_of_scope(self, query: str, *, today: date, product: str | None = None) -> bool:
        """Whether the bot, asked `query` by a customer, would refuse it as about something else (the weather,
        ノートン): the agents' look-up still lists the nearest entries, and says so above them."""
        return self._snap.evidence(self._check_text(query, "q"), today, product).off_topic

    def _check_text(self, text: str, name: str = "text") -> str:
        if not isinstance(text, str):
            raise InputError("bad_text", f"'{name}' must be a string")
        cleaned = clean_text(text)
        if not cleaned:
            raise InputError("empty_text", f"'{name}' is empty")
        if len(text) > self.settings.max_text_length:  # as sent: the limit is on what a client may send
            raise InputError("text_too_long", f"'{name}' is longer than {self.settings.max_text_length} characters")
        return cleaned


def clean_text(text: str) -> str:
    """The text a question is answered from: every space a plain one, no control or invisible characters (NUL,
    U+200B), stripped. Python counts the ideographic space (U+3000) and U+00A0 as unprintable: dropped with the
    controls, they glued the words around them (「koushin　no　houhou」 became one word, not romaji)."""
    return "".join(ch if ch in "\n\t" or ch.isprintable() else " " if ch.isspace() else "" for ch in text).strip()


def _blank_personal(text: str) -> list[str]:
    out, pos = [], 0
    for start, end, label in personal_spans(text):
        if label != "[order]":
            out += [text[pos:start], " " * (end - start)]
            pos = end
    out.append(text[pos:])
    return out


def _mask(text: str, facts: Sequence[Fact]) -> str:
    """The text with every fact's span blanked out; an order number leaves the word 注文番号 behind, a quantity
    of a consumable its unit (「5000トランザクション」 is about Sign's transactions, whatever their number)."""
    named = "注文番号" in text  # said already: a second 注文番号 would count the number twice

    def left(f: Fact) -> str:
        if f.name == "order_number" and not named:
            return " 注文番号 "
        unit = _CONSUMABLE_UNIT.search(f.text) if f.name == "quantity" else None
        return f" {unit.group()} " if unit else " "

    out, pos = [], 0
    for start, end, kept in sorted({(f.start, f.end, left(f)) for f in facts if f.name != "order_kind"}):
        if start < pos:
            continue
        out += [text[pos:start], kept]
        pos = end
    out.append(text[pos:])
    return "".join(out)


# the units of a quantity that name what is counted: 「3台」 and 「10ライセンス」 say nothing an entry is about (kept,
# they cost six read questions), Sign's transactions and Stock's credits do
_CONSUMABLE_UNIT = re.compile(r"トランザクション|クレジット")


def _facts_dict(facts: Sequence[Fact]) -> dict[str, Any]:
    """The first value of each fact name (questions rarely give two of one role); a date that does not exist is
    told to the customer (see _compose), never decided on.
    """
    out: dict[str, Any] = {}
    for f in facts:
        if f.name != "invalid_date":
            out.setdefault(f.name, f.value)
    return out


def _only_facts(text: str, words: frozenset[str]) -> bool:
    """Whether a message with facts says nothing else (its content `words`, the facts left out) but a hedge, thanks
    or a correction: a bare reply to the bot's question (「2024年4月10日だったと思います」「7月1日です。よろしくお願い
    します」), which the chit-chat off-topics (思う, ありがとう) must not take for a message of its own.
    """
    return words <= (_REPLY_WORDS | _CORRECTION_WORDS if _CORRECTION.search(text) else _REPLY_WORDS)


def _corrected(text: str, facts: Sequence[Fact]) -> list[Fact]:
    """The facts of a reply without the dates it took back: 「2024年4月10日、いや4月11日でした」 is 2024年4月11日,
    the year said once for both.
    """
    dates = [f for f in facts if f.name == "date"]
    out = list(facts)
    for taken_back, meant in zip(dates, dates[1:], strict=False):
        if not _CORRECTION.search(text, taken_back.end, meant.start):
            continue
        out.remove(taken_back)
        if meant.inferred == "year" and isinstance(meant.value, date) and isinstance(taken_back.value, date):
            try:
                restated = replace(meant, value=meant.value.replace(year=taken_back.value.year), inferred=None,
                                   note=f"year of the date it corrects ({taken_back.text})")
            except ValueError:
                continue  # 2月29日 in a common year: keep the reading from today
            out[out.index(meant)] = restated
    return out


def _fill_asked(before: dict[str, Any], new: dict[str, Any], bare: Sequence[Fact], asked: Sequence[str],
                roles: Roles, today: date, said: int = 0,
                ahead: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[Fact, Fact]] | None:
    """Merge a reply into the facts of a pending question, or None if it gives nothing that was asked.

    `bare` are the reply's dates without a role, in order: they answer the dates the bot asked for and the
    reply did not name, in the order it asked (「2023年6月30日です」; 「2020年5月15日と2023年2月1日」 for the
    Sign order and the anniversary, as its follow-up's example writes them). A date that does not exist
    (2023年2月30日) answers too, and fills nothing: the bot asks again, saying why; named (「追加日は2月30日です」),
    it answers for that role alone, and takes away a date the role had. Also returned: each bare date as the role
    it answered (its value and notice may change: 「2月29日」 as 契約応当日 in 2025). `said` is the question's tense
    and `ahead` the roles whose date the question (or the reply) says is still to come: they place a bare date.
    """
    merged = {**before}
    gave = False
    for name, value in new.items():
        if name == "date":
            continue
        merged[name] = value
        gave = gave or name in asked
    answered: dict[Fact, Fact] = {}
    named = [f for f in bare if f.role is not None]  # dates that do not exist, named 「追加日は2月30日」
    for fact in named:
        merged.pop(str(fact.role), None)
        answered[fact] = fact
        gave = gave or fact.role in asked
    bare = [f for f in bare if f.role is None]
    targets = [a for a in asked if a in roles.names and a not in new and a not in {f.role for f in named}]
    for target, fact in zip(targets, bare, strict=False):  # as many as both give
        # 「3月1日です」 for the 課金日 in May: next year's; 「12月です」 after 「切れた…」 in February: last year's;
        # 「20日です」 after 「来月です」 (the bot asked for the day): next month's
        rough = isinstance(before.get(target), str)
        answered[fact] = given = as_role(_dated_like(fact, before[target]) if rough else fact, target, today, said,
                                         roles=roles, ahead=target in ahead)
        if given.name == target:  # not a date that does not exist
            merged[target] = given.value
        gave = True
    extra = [f for f in bare[len(targets):] if f.name == "date"]
    if extra:
        merged["date"] = extra[0].value
    return (merged, answered) if gave else None


def _placing(text: str, continued: Mapping[str, Any] | None, roles: Roles) -> dict[str, Any]:
    """What a conversation keeps to place a reply's bare date: the question's tense, and the roles whose date it
    says is still to come; for a reply that continued a question, that question's."""
    if continued:
        return {"tense": continued.get("tense", 0), "ahead": continued.get("ahead", [])}
    return {"tense": facts_tense(text), "ahead": sorted(ahead_roles(text, roles))}


def _what_if(state: Mapping[str, Any], text: str, found: Sequence[Fact], roles: Roles,
             today: date) -> tuple[dict[str, Any], list[Fact]] | None:
    """The facts of the question answered before, with what a what-if reply changes, and the facts as told; or None.

    A date named by its role (「追加日が6月1日なら？」) replaces that role's date; a bare one (「じゃあ2023年1月1日
    だったら？」) replaces the answer's date only when it was worked out from one, so there is no guessing which.
    A bare date that does not exist (「2026年2月30日だったら？」) takes that date away: the answer says so, and asks
    for it again where its rules need it (else the answer before stays the one to change); so does one named by
    its role (「追加日が2026年2月30日なら？」). Years (「5年だったら？」) replace the renewal years of an answer that
    read them.
    """
    before = _restore(state.get("facts", {}))
    dated = [name for name in before if name in roles.names]
    named = [f for f in found if f.name in dated or (f.name == "invalid_date" and f.role in dated)]
    bare = [f for f in found if f.name in ("date", "invalid_date") and f not in named]
    years = ([f for f in found if f.name == "years"][:1] or [y for y in [reply_years(text, found)] if y]
             if "years" in before else [])
    merged, told = dict(before), list(years)
    merged.update({f.name: f.value for f in years})
    if named and not bare:
        named = [_dated_like(f, before[str(f.role) if f.name == "invalid_date" else f.name]) for f in named]
        for f in named:
            if f.name == "invalid_date":
                del merged[str(f.role)]
            else:
                merged[f.name] = f.value
        told += named
    elif bare and not named and len(bare) == 1 and len(dated) == 1:
        said = state.get("tense", 0) if facts_tense(text) == 0 else 0
        given = as_role(_dated_like(bare[0], before[dated[0]]), dated[0], today, said, roles=roles)
        if given.name == dated[0]:
            merged[given.name] = given.value
        elif given.name == "invalid_date":
            del merged[dated[0]]
        else:
            return None
        told.append(given)
    elif bare or named:
        return None
    return (merged, sorted(told, key=lambda f: f.start)) if told else None


def _dated_like(fact: Fact, was: Any) -> Fact:
    """A date given without its year (or month) in place of the answer's date, in that date's year (and month):
    after 「2023年3月10日に期限が切れました」, 「3月20日の間違いでした」 and 「20日だったら？」 are 2023年3月20日, as
    within one message (`_corrected`), not a date today places. A date known only to the month gives its month
    too: 「2023年3月です」 then 「10日です」 is 2023年3月10日, 「先月です」 then 「15日です」 last month's 15th.
    A date that does not exist where today placed it may exist there: 「2月29日だったら？」 after a date in 2024 is
    2024年2月29日, though 2025 has no 29th of February.
    """
    if fact.inferred is None:
        return fact
    if isinstance(fact.value, date):
        month: int | None = fact.value.month
        day = fact.value.day
    elif fact.name == "invalid_date" and (parts := written_parts(fact.value)) is not None:
        month, day = parts[1], parts[2]
    else:
        return fact
    span = (was, was) if isinstance(was, date) else date_span(was)
    if span is None or span[0].year != span[1].year:
        return fact
    if fact.inferred == "month" and span[0].month != span[1].month:
        return fact  # 「15日です」 after 「去年です」: which month is not known
    try:
        value = date(span[0].year, month if fact.inferred == "year" and month else span[0].month, day)
    except ValueError:
        return fact  # 2月29日 in a common year, 31日 in a short month: keep the reading from today
    unit = "year" if fact.inferred == "year" else "year and month"
    note = f"{unit} of the date it replaces ({_plain(was)})"
    if fact.name == "invalid_date":  # a date after all: named for its role, if it had one, with nothing to tell
        return replace(fact, name=fact.role or "date", value=value, inferred=None, note=note, notice=None, role=None)
    return replace(fact, value=value, inferred=None, note=note)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _store(facts: Mapping[str, Any], used: Collection[str]) -> dict[str, Any]:
    """Facts as JSON-able values (dates tagged so they come back as dates). An order number is kept only when
    the entry's rules read it: a conversation store is no place for personal data the answer never needed."""
    return {k: {"date": v.isoformat()} if isinstance(v, date) else v for k, v in facts.items()
            if (k not in _PERSONAL_FACTS or k in used) and k != "unreal_date"}  # a reply names the date anew


_PERSONAL_FACTS = frozenset({"order_number", "order_kind"})


def _restore(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {k: date.fromisoformat(v["date"]) if isinstance(v, dict) and "date" in v else v
            for k, v in stored.items()}


def _compose(entry: Entry, decision: Decision, told: Sequence[str] = ()) -> str:
    """Verdict first (what this customer wants to know), then the official text, then the follow-up.

    `told` are what the answer says about the question's own dates (clamped to a month's end, or not existing):
    notes to the verdict; without one, said with the follow-up that asks for the date again, or first.
    """
    parts = []
    if decision.say:
        parts.append(decision.say)
        parts += [f"※ {note}" for note in (*told, *decision.notes)]
    elif told and not decision.follow_up:
        parts += [f"※ {note}" for note in told]
    parts.append(entry.answer)
    if entry.links:
        parts.append("\n".join(f"・{title}" for title in entry.links))
    if decision.follow_up:
        parts.append("".join(told) + decision.follow_up if not decision.say else decision.follow_up)
    return "\n\n".join(parts)


def _latin_name(word: str) -> bool:
    """A word in Latin letters only (eset, zoom, dropbox): in a Japanese question, most likely a name."""
    return word.isascii() and word.isalpha()


def _alias_forms(*aliases: str) -> list[str]:
    """Each alias normalised, and in katakana too, so ういるすばすたー meets ウイルスバスター; shortest first."""
    forms = {normalize(a) for a in aliases} | {to_katakana(normalize(a)) for a in aliases}
    return sorted((f for f in forms if f), key=lambda f: (len(f), f))


def _blank(norm: str, names: Sequence[str]) -> str:
    """The normalised text with each of `names` (longest first) replaced by a space."""
    for name in names:
        if name in norm:
            norm = norm.replace(name, " ")
    return norm


def load_bot(settings: Settings | None = None, **parts: Any) -> Bot:
    """Load knowledge from disk (raising ConfigError on any problem) and build a Bot."""
    settings = settings or Settings()
    return Bot(load_knowledge(settings.faq_dir, settings.rules_dir), settings=settings, **parts)
