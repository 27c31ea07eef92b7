"""Load and validate `faq/` into frozen dataclasses, collecting every problem."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConfigError, Problem
from .rules import RuleSet, check_examples, load_rules
from .text import Names, normalize
from .yamlsrc import Source, read_yaml, validate

_ID = r"^[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _ProductModel(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    aliases: list[str] = []
    subproducts: list[str] = []
    source: str | None = None
    contact: str = Field(min_length=1)


class _EntryModel(_Strict):
    id: str = Field(pattern=_ID)
    section: str = ""
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    links: list[str] = []
    alternates: list[str] = []


class _FaqFileModel(_Strict):
    product: _ProductModel
    entries: list[_EntryModel] = Field(min_length=1)


class _OffTopicModel(_Strict):
    id: str = Field(pattern=_ID)
    about: str = Field(min_length=1)
    phrasings: list[str] = Field(min_length=1)
    names: list[str] = Field(default_factory=list)
    reply: str | None = Field(default=None, min_length=1)


class _OffTopicFileModel(_Strict):
    off_topics: list[_OffTopicModel] = Field(min_length=1)


class _SynonymFileModel(_Strict):
    synonyms: list[list[str]]


class _FactsFileModel(_Strict):
    date_roles: dict[str, list[str]] = Field(min_length=1)


@dataclass(frozen=True)
class Product:
    """A product the bot knows, with the words that name it and its support contact.

    `aliases` name the product itself (ウイルスバスター, トレンドマイクロ, アドビ, and the apps a VIP licence is for:
    Photoshop): they tell which product a question is about and, that known, nothing about which of its entries
    answers it. `subproducts` name parts or editions of it (Adobe Stock, トータルセキュリティ): they tell the product
    too, and stay topic words. Both are the product's own words: a question naming them brings no word its
    knowledge does not know.
    """

    id: str
    name: str
    aliases: tuple[str, ...]
    contact: str
    source: str | None
    subproducts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: the official answer and the ways customers ask for it."""

    id: str
    product: str
    section: str
    question: str
    answer: str
    links: tuple[str, ...]
    alternates: tuple[str, ...]
    path: str
    line: int | None

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The canonical question first, then every alternate."""
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class OffTopic:
    """Something customers ask that no product's documents answer, with the ways it is asked.

    Matched like an entry, but a question that lands on one gets the honest "I don't know": an
    out-of-scope question that borrows the FAQ's words (運転免許の更新, 電気料金の請求書) then meets
    its own topic instead of the closest FAQ entry.
    """

    id: str
    about: str
    phrasings: tuple[str, ...]
    path: str
    line: int | None
    # other products and vendors (ノートン, Microsoft 365): a question that names one and none of the knowledge's
    # products is about that product, however closely its words follow an entry's
    names: tuple[str, ...] = ()
    # what the bot says to a message that is this and nothing else (「ありがとうございました」「こんにちは」), in place
    # of "no confident answer": a courtesy, never a fact; the answer still has no intent
    reply: str | None = None


@dataclass(frozen=True)
class Knowledge:
    """Everything loaded from disk, validated, with a version derived from the content."""

    products: tuple[Product, ...]
    entries: tuple[Entry, ...]
    synonyms: tuple[tuple[str, str], ...]  # (variant, canonical), longest variant first
    version: str
    rules: RuleSet = field(default_factory=lambda: RuleSet((), {}))
    date_roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    off_topics: tuple[OffTopic, ...] = ()

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id (KeyError if none)."""
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)

    def product(self, product_id: str) -> Product | None:
        """The product with this id, or None."""
        return next((p for p in self.products if p.id == product_id), None)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


@dataclass
class _Loaded:
    """What the files of faq/ gave, and every problem found in them."""

    products: list[Product] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    synonyms: list[tuple[str, str]] = field(default_factory=list)
    off_topics: list[OffTopic] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    digest: bytes = b""


def load_faq(faq_dir: Path) -> _Loaded:
    """Read every YAML file of `faq_dir`: products with entries, synonyms, off-topics; every problem."""
    out = _Loaded()
    files = sorted(faq_dir.glob("*.yaml")) + sorted(faq_dir.glob("*.yml"))
    if not files:
        out.problems.append(Problem(str(faq_dir), None, "", "no knowledge files (*.yaml) found"))
    for path in files:
        name = _display(path, faq_dir)
        out.digest += name.encode() + b"\0" + path.read_bytes() + b"\0"
        src, errs = read_yaml(path, name)
        out.problems += errs
        if src is None:
            continue
        if not isinstance(src.data, dict):
            out.problems.append(Problem(name, 1, "", "expected a mapping with 'product' and 'entries', "
                                        "or 'synonyms', or 'off_topics'"))
            continue
        if "synonyms" in src.data:
            out.problems += _load_synonyms(src, out.synonyms)
        elif "off_topics" in src.data:
            out.problems += _load_off_topics(src, out.off_topics)
        else:
            out.problems += _load_product(src, out.products, out.entries)
    out.problems += _cross_checks(out.products, out.entries, out.synonyms, out.off_topics)
    return out


def _load_off_topics(src: Source, out: list[OffTopic]) -> list[Problem]:
    model, problems = validate(src, _OffTopicFileModel)
    if model is None:
        return problems
    for i, t in enumerate(model.off_topics):
        phrasings = tuple(p for p in (x.strip() for x in t.phrasings) if p)
        if not phrasings:
            problems.append(Problem(src.path, src.line(("off_topics", i)), f"off_topics[{i}].phrasings",
                                    "needs at least one phrasing that is not blank"))
            continue
        names = tuple(n for n in (x.strip() for x in t.names) if n)
        reply = t.reply.strip() if t.reply is not None else None
        if t.reply is not None and not reply:
            problems.append(Problem(src.path, src.line(("off_topics", i, "reply")), f"off_topics[{i}].reply",
                                    "is blank: leave it out for the usual \"no confident answer\""))
            continue
        out.append(OffTopic(t.id, t.about, phrasings, src.path, src.line(("off_topics", i)), names, reply))
    return problems


def _load_synonyms(src: Source, out: list[tuple[str, str]]) -> list[Problem]:
    model, problems = validate(src, _SynonymFileModel)
    if model is None:
        return problems
    for i, group in enumerate(model.synonyms):
        words = [normalize(w) for w in group if normalize(w)]
        if len(words) < 2:
            problems.append(Problem(src.path, src.line(("synonyms", i)), f"synonyms[{i}]",
                                    "a group needs a canonical word and at least one variant"))
            continue
        for variant in words[1:]:
            if len(variant) < 2:
                problems.append(Problem(src.path, src.line(("synonyms", i)), f"synonyms[{i}]",
                                        f"variant '{variant}' is too short to replace safely", "use 2+ characters"))
            elif variant != words[0]:
                out.append((variant, words[0]))
    return problems


def _load_product(src: Source, products: list[Product], entries: list[Entry]) -> list[Problem]:
    model, problems = validate(src, _FaqFileModel)
    if model is None:
        return problems
    p = model.product
    products.append(Product(p.id, p.name, tuple(p.aliases), p.contact, p.source, tuple(p.subproducts)))
    for i, e in enumerate(model.entries):
        entries.append(Entry(
            id=e.id, product=p.id, section=e.section, question=e.question.strip(), answer=e.answer.strip(),
            links=tuple(e.links), alternates=tuple(a for a in (x.strip() for x in e.alternates) if a),
            path=src.path, line=src.line(("entries", i)),
        ))
    return problems


def _cross_checks(products: list[Product], entries: list[Entry], synonyms: list[tuple[str, str]],
                  off_topics: list[OffTopic]) -> list[Problem]:
    problems: list[Problem] = []
    seen_products: dict[str, Product] = {}
    for p in products:
        if p.id in seen_products:
            problems.append(Problem(p.source or p.id, None, "product.id", f"product '{p.id}' is defined twice"))
        seen_products[p.id] = p
    seen: dict[str, Entry] = {}
    owner: dict[str, Entry] = {}
    said: list[tuple[str, str, str]] = []  # (entry id, phrasing, normalised phrasing)
    for e in entries:
        if e.id in seen:
            first = seen[e.id]
            problems.append(Problem(e.path, e.line, "id", f"entry id '{e.id}' is already used",
                                    f"first defined at {first.path}:{first.line}"))
        seen[e.id] = e
        for phrase in e.phrasings:
            key = normalize(phrase)
            said.append((e.id, phrase, key))
            other = owner.get(key)
            if other is not None and other.id != e.id:
                problems.append(Problem(e.path, e.line, f"{e.id}.alternates",
                                        f"phrasing '{phrase}' also belongs to entry '{other.id}'",
                                        "a phrasing must point at one entry"))
            owner[key] = e
    topics: dict[str, OffTopic] = {}
    for t in off_topics:
        if t.id in seen or t.id in topics:
            where = seen[t.id] if t.id in seen else topics[t.id]
            problems.append(Problem(t.path, t.line, "id", f"off-topic id '{t.id}' is already used",
                                    f"first defined at {where.path}:{where.line}"))
        topics[t.id] = t
        for phrase in t.phrasings:
            other = owner.get(normalize(phrase))
            if other is not None:
                problems.append(Problem(t.path, t.line, f"{t.id}.phrasings",
                                        f"phrasing '{phrase}' is also a phrasing of entry '{other.id}'",
                                        "a question is either answered or off-topic, not both"))
        problems += _name_checks(t, products, said)
    variants: dict[str, str] = {}
    for variant, canonical in synonyms:
        if variants.get(variant, canonical) != canonical:
            problems.append(Problem("faq/synonyms.yaml", None, "synonyms",
                                    f"'{variant}' is a variant of both '{variants[variant]}' and '{canonical}'"))
        variants[variant] = canonical
    return problems


def _name_checks(topic: OffTopic, products: list[Product], said: list[tuple[str, str, str]]) -> list[Problem]:
    """An off-topic's name may neither overlap a product's names (a question naming it would be that product's)
    nor appear in an entry's phrasing (a question that follows the phrasing would be refused). `said` holds each
    entry's phrasings as (entry id, phrasing, normalised phrasing)."""
    problems: list[Problem] = []
    if not topic.names:
        return problems
    every = Names(topic.names)
    named = [s for s in said if every.found_in(s[2])]  # most topics' names are in no phrasing
    own_names = [(p.id, a, normalize(a), Names([a])) for p in products for a in (p.name, *p.aliases, *p.subproducts)]
    for name in topic.names:
        names, name_norm = Names([name]), normalize(name)
        if not names:
            problems.append(Problem(topic.path, topic.line, f"{topic.id}.names", f"name '{name}' is blank"))
            continue
        overlapped: set[str] = set()
        for pid, alias, alias_norm, alias_names in own_names:
            if pid not in overlapped and (names.found_in(alias_norm) or alias_names.found_in(name_norm)):
                overlapped.add(pid)
                problems.append(Problem(topic.path, topic.line, f"{topic.id}.names",
                                        f"name '{name}' overlaps the name '{alias}' of product '{pid}'",
                                        "a question naming it is that product's"))
        told: set[str] = set()
        for eid, phrase, key in named:
            if eid not in told and names.found_in(key):
                told.add(eid)
                problems.append(Problem(topic.path, topic.line, f"{topic.id}.names",
                                        f"name '{name}' is in the phrasing '{phrase}' of entry '{eid}'",
                                        "a question naming it is refused: take it out of one of them"))
    return problems


def _read_date_roles(rules_dir: Path) -> tuple[dict[str, list[str]], list[Problem]]:
    path = rules_dir / "facts.yaml"
    name = f"{rules_dir.name}/facts.yaml"
    if not path.exists():
        return {}, [Problem(name, None, "", "missing: it names the roles a date can have (date_roles)")]
    src, problems = read_yaml(path, name)
    if src is None:
        return {}, problems
    model, problems = validate(src, _FactsFileModel)
    return (model.date_roles if model else {}), problems


def load_date_roles(rules_dir: Path) -> dict[str, list[str]]:
    """The cue words of each date role, from rules/facts.yaml; ConfigError when it is missing or wrong."""
    roles, problems = _read_date_roles(rules_dir)
    if problems:
        raise ConfigError(problems)
    return roles


def load_knowledge(faq_dir: Path, rules_dir: Path | None = None, *, run_examples: bool = False) -> Knowledge:
    """Load and validate everything; raise ConfigError listing every problem."""
    loaded = load_faq(faq_dir)
    entries, problems, digest = loaded.entries, list(loaded.problems), loaded.digest
    ruleset = RuleSet((), {})
    roles: dict[str, list[str]] = {}
    if rules_dir is not None:
        roles, errs = _read_date_roles(rules_dir)
        problems += errs
        intents = {e.id: e.product for e in entries}
        rules, comps, examples, errs = load_rules(rules_dir, date_roles=roles, intents=intents,
                                                  intents_complete=not loaded.problems)
        problems += errs
        for path in sorted(rules_dir.glob("*.yaml")):
            digest += path.name.encode() + b"\0" + path.read_bytes()
        ruleset = RuleSet(rules, comps, examples)
        if run_examples and not problems:
            problems += check_examples(ruleset)
    if problems:
        raise ConfigError(problems)
    table = tuple(sorted(set(loaded.synonyms), key=lambda pair: (-len(pair[0]), pair[0])))
    version = hashlib.sha256(digest).hexdigest()[:12]
    return Knowledge(tuple(loaded.products), tuple(entries), table, version, ruleset,
                     tuple((role, tuple(cues)) for role, cues in roles.items()), tuple(loaded.off_topics))
