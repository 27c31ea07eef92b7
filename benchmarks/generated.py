"""Generated FAQ collections of any size, built from LocalgovFAQ's question/answer text with variations.

Each generated entry takes one of LocalgovFAQ's 1,786 FAQ items (sometimes two, joined as one compound
question), puts it in one of a few dozen offices (the group, as a product is in the shipped knowledge),
and varies the wording the way people do: polite and plain endings, particles, word order, a leading
「すみません、」. Every phrasing is distinct, so 100,000 entries are 100,000 different questions whose
answers carry the office's name. Only the FAQ side of LocalgovFAQ is used; its queries stay queries.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from bot.knowledge import Entry, Knowledge, Product

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "localgovfaq"

SOURCE = "localgovfaq:"


class Generated(NamedTuple):
    """One generated entry, with the LocalgovFAQ ids it was made from."""

    group: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    sources: tuple[int, ...]


def sources_of(section: str) -> set[int]:
    """The LocalgovFAQ ids named by a generated entry's section ("" for the shipped entries)."""
    return {int(x) for x in section.removeprefix(SOURCE).split("+")} if section.startswith(SOURCE) else set()


_PLACES = (
    "北", "南", "東", "西", "中央", "港", "緑", "青葉", "若葉", "桜", "旭", "栄", "泉", "高台", "川辺", "山手",
    "浜", "朝日", "松原", "本町", "新町", "大野", "小林", "森下", "宮前", "平和台", "駅前", "城山", "梅園", "竹林",
)
_OFFICES = ("区役所", "支所", "市民センター", "出張所")
_ENDINGS = (
    ("を知りたい。", ("を教えてください。", "について知りたいです。", "を教えて", "はどうなっていますか？",
                    "を確認したい")),
    ("知りたい。", ("知りたいです。", "教えてください。", "教えて。", "を調べたい。")),
    ("ですか？", ("でしょうか？", "ですか。", "？", "ですかね？")),
    ("ますか？", ("ますでしょうか？", "ますか。", "る？")),
    ("たい。", ("たいです。", "たいのですが。", "たいんだけど")),
)
_PARTICLES = (("は", "って"), ("を", "は"), ("が", "は"), ("に", "へ"), ("の", "での"))
_OPENERS = ("", "", "", "すみません、", "質問です。", "あの、", "急ぎで、", "初めてなのですが、")


def load_faq(data: Path = DEFAULT_DATA) -> list[tuple[int, str, str]]:
    """LocalgovFAQ's FAQ items as (id, question, answer), answers with their line-break marks as newlines."""
    rows = [json.loads(line) for line in (data / "faq.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [(int(r["id"]), r["question"].strip(), r["answer"].replace("＜改＞", "\n").strip()) for r in rows]


def _vary(question: str, rng: random.Random, opener: bool = True) -> str:
    """One way a person might write the same question (an opener such as 「すみません、」 only at the start)."""
    q = question
    for old, news in _ENDINGS:
        if q.endswith(old) and rng.random() < 0.7:
            q = q[: -len(old)] + rng.choice(news)
            break
    if rng.random() < 0.4:
        old, new = rng.choice(_PARTICLES)
        spots = [m.start() for m in re.finditer(old, q)]
        if spots:
            at = rng.choice(spots)
            q = q[:at] + new + q[at + len(old) :]
    return (rng.choice(_OPENERS) if opener else "") + q


def _offices() -> list[tuple[str, str]]:
    """(group id, office name) for every place and kind of office."""
    return [(f"o{p:02d}{k}", f"{place}{office}")
            for p, place in enumerate(_PLACES) for k, office in enumerate(_OFFICES)]


def generate(faq: list[tuple[int, str, str]], n: int, seed: int = 5) -> Iterator[Generated]:
    """`n` distinct entries; the same seed gives the same ones."""
    rng = random.Random(seed)
    offices = _offices()
    seen: set[str] = set()
    made = 0
    while made < n:
        source, question, answer = faq[rng.randrange(len(faq))]
        sources: tuple[int, ...] = (source,)
        group, office = offices[rng.randrange(len(offices))]
        if rng.random() < 0.15:  # a compound question: two topics in one message
            other, other_q, other_a = faq[rng.randrange(len(faq))]
            question = question.rstrip("。？?") + "。また、" + other_q
            answer = answer + "\n" + other_a
            sources += (other,)
        where = rng.random()
        if where < 0.45:
            text = f"{office}の{_vary(question, rng, opener=False)}"
        elif where < 0.7:
            text = f"{_vary(question, rng)}（{office}）"
        else:
            text = _vary(question, rng)
        if text in seen:
            continue
        seen.add(text)
        alternates = tuple(dict.fromkeys(a for a in (_vary(question, rng) for _ in range(rng.randrange(3)))
                                         if a not in seen))
        seen.update(alternates)
        made += 1
        yield Generated(group, text, alternates, f"{office}の窓口でご案内しています。\n{answer}", sources)


def knowledge_of_size(base: Knowledge, n: int, faq: list[tuple[int, str, str]]) -> Knowledge:
    """The shipped knowledge (its rules, synonyms and date roles) padded to `n` entries with generated ones.

    A generated entry's section names the LocalgovFAQ items it was made from ("localgovfaq:12+345"), so
    LocalgovFAQ's judged queries can score a ranking over the whole collection.
    """
    extra = max(0, n - len(base.entries))
    entries = list(base.entries)
    groups: set[str] = set()
    for i, g in enumerate(generate(faq, extra)):
        groups.add(g.group)
        entries.append(Entry(id=f"gen-{i:06d}", product=g.group, section=f"{SOURCE}{'+'.join(map(str, g.sources))}",
                             question=g.question, answer=g.answer, links=(), alternates=g.alternates,
                             path="<generated>", line=None))
    names = dict(_offices())
    products = list(base.products) + [
        Product(g, names[g], (), f"{names[g]}の窓口へお問い合わせください。", None) for g in sorted(groups)
    ]
    # the shipped off-topics belong to the two products, not to a collection of city FAQs
    return replace(base, products=tuple(products), entries=tuple(entries), off_topics=(),
                   version=f"{base.version}+gen{n}")
