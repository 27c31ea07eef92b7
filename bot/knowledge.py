"""Load and validate `faq/` into frozen dataclasses, collecting every problem."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConfigError, Problem
from .facts import Roles
from .rules import VALUE_FACTS, RuleSet, check_examples, load_rules
from .text import Names, normalize, to_katakana
from .yamlsrc import Source, close_match, dotted, knowledge_files, parse_yaml, read_file, read_yaml, validate

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
    recurring: list[str] = []
    later_orders: dict[str, str] = {}
    ahead: dict[str, list[str]] = {}
    labels: dict[str, str] = {}


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
    path: str = ""  # the faq/ file that defines it, and the line of its `product:`
    line: int | None = None


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
    roles: Roles = Roles()
    off_topics: tuple[OffTopic, ...] = ()
    # how each fact is named to people (rules/facts.yaml `labels`), in the file's order
    fact_labels: tuple[tuple[str, str], ...] = ()

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


class _Synonym(NamedTuple):
    """One variant of a synonym group, and where it is written."""

    variant: str
    canonical: str
    path: str
    line: int | None


class _Name(NamedTuple):
    """One name of a product (its name, an alias or a subproduct), and where it is written."""

    product: str
    name: str
    key: str  # product.aliases[2]
    path: str
    line: int | None


@dataclass
class _Loaded:
    """What the files of faq/ gave, and every problem found in them."""

    products: list[Product] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    synonyms: list[_Synonym] = field(default_factory=list)
    off_topics: list[OffTopic] = field(default_factory=list)
    names: list[_Name] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    digest: bytes = b""


def load_faq(faq_dir: Path) -> _Loaded:
    """Read every YAML file of `faq_dir`: products with entries, synonyms, off-topics; every problem."""
    out = _Loaded()
    files = knowledge_files(faq_dir, "*.yaml", "*.yml")
    if not files:
        out.problems.append(Problem(str(faq_dir), None, "", "no knowledge files (*.yaml) found"))
    for path in files:
        name = _display(path, faq_dir)
        raw, errs = read_file(path, name)  # the bytes hashed are the bytes parsed
        out.problems += errs
        if raw is None:
            continue
        out.digest += _faq_digest(name, raw)
        src, errs = parse_yaml(raw, name)
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
            out.problems += _load_product(src, out.products, out.entries, out.names)
    out.problems += _cross_checks(out.products, out.entries, out.synonyms, out.off_topics)
    out.problems += _product_name_checks(out.names)
    return out


def _load_off_topics(src: Source, out: list[OffTopic]) -> list[Problem]:
    model, problems = validate(src, _OffTopicFileModel)
    if model is None:
        return problems
    for i, t in enumerate(model.off_topics):
        if not t.about.strip():
            problems.append(Problem(src.path, src.line(("off_topics", i, "about")), f"off_topics[{i}].about",
                                    "is blank", "say what the questions are about, for whoever edits them next"))
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


def _load_synonyms(src: Source, out: list[_Synonym]) -> list[Problem]:
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
                out.append(_Synonym(variant, words[0], src.path, src.line(("synonyms", i))))
    return problems


# A link is the title of a page the documents name (契約更新前のよくある質問): the bot never gives a URL it was not
# given, so a URL here would be one invented while editing
_URL = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)", re.IGNORECASE)


def _load_product(src: Source, products: list[Product], entries: list[Entry], names: list[_Name]) -> list[Problem]:
    model, problems = validate(src, _FaqFileModel)
    if model is None:
        return problems
    p = model.product

    def blank(loc: tuple[str | int, ...], key: str, hint: str) -> None:
        problems.append(Problem(src.path, src.line(loc), key, "is blank", hint))

    # min_length lets '   ' through, which would answer with nothing (an entry) or give no contact (a product)
    if not p.contact.strip():
        blank(("product", "contact"), "product.contact",
              "the support contact in the documents' words: the bot gives it when it cannot answer")
    for kind, said in (("name", [p.name]), ("aliases", p.aliases), ("subproducts", p.subproducts)):
        for j, word in enumerate(said):
            loc: tuple[str | int, ...] = ("product", kind) if kind == "name" else ("product", kind, j)
            key = "product.name" if kind == "name" else f"product.{kind}[{j}]"
            if word.strip():
                names.append(_Name(p.id, word, key, src.path, src.line(loc)))
            else:
                blank(loc, key, "the product's name as its documents write it" if kind == "name" else "take it out")
    products.append(Product(p.id, p.name, tuple(p.aliases), p.contact, p.source, tuple(p.subproducts),
                            src.path, src.line(("product",))))
    for i, e in enumerate(model.entries):
        if not e.question.strip():
            blank(("entries", i, "question"), f"entries[{i}].question", "the question as the document asks it")
        if not e.answer.strip():
            blank(("entries", i, "answer"), f"entries[{i}].answer", "the document's answer, word for word")
        for j, link in enumerate(e.links):
            if not link.strip():
                blank(("entries", i, "links", j), f"entries[{i}].links[{j}]", "a page title, or leave it out")
            elif _URL.search(unicodedata.normalize("NFKC", link)):
                problems.append(Problem(src.path, src.line(("entries", i, "links", j)), f"entries[{i}].links[{j}]",
                                        f"'{link}' holds a URL: links hold page titles only",
                                        "write the page's title as the document names it (契約更新前のよくある"
                                        "質問): the bot never gives a URL"))
        entries.append(Entry(
            id=e.id, product=p.id, section=e.section, question=e.question.strip(), answer=e.answer.strip(),
            links=tuple(e.links), alternates=tuple(a for a in (x.strip() for x in e.alternates) if a),
            path=src.path, line=src.line(("entries", i)),
        ))
    return problems


def _cross_checks(products: list[Product], entries: list[Entry], synonyms: list[_Synonym],
                  off_topics: list[OffTopic]) -> list[Problem]:
    problems: list[Problem] = []
    seen_products: dict[str, Product] = {}
    for p in products:
        if p.id in seen_products:
            was = seen_products[p.id]
            problems.append(Problem(p.path, p.line, "product.id", f"product '{p.id}' is defined twice",
                                    f"first defined at {was.path}:{was.line}; one file per product"))
            continue
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
            if not key:  # a blank question, reported where it is
                continue
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
    groups: dict[str, _Synonym] = {}  # each variant's first group
    for syn in synonyms:
        group = groups.setdefault(syn.variant, syn)
        if group.canonical != syn.canonical:
            problems.append(Problem(syn.path, syn.line, "synonyms",
                                    f"'{syn.variant}' is a variant of both '{group.canonical}' and '{syn.canonical}'",
                                    f"the group of '{group.canonical}' is at {group.path}:{group.line}; "
                                    "keep the word in one group"))
    return problems


def _product_name_checks(names: list[_Name]) -> list[Problem]:
    """No name of a product may overlap another product's, in the forms the matcher looks for them (normalised,
    and in katakana): a question naming it would name both, and a new product with `aliases: [ウイルスバスター]`
    took Virus Buster's questions over.

    Of two products that clash, the one with fewer names in the clash is reported, each of those names once
    (the later file when they have as many): the new product's `ウイルスバスター`, not the eight names of
    ウイルスバスター that contain it or read like it.
    """
    forms = [(n, {f for f in (normalize(n.name), to_katakana(normalize(n.name))) if f}) for n in names]
    clashes: dict[tuple[str, str], list[tuple[_Name, _Name]]] = {}  # (earlier product, later) → (its name, theirs)
    for i, (later, mine) in enumerate(forms):
        for earlier, theirs in forms[:i]:
            if earlier.product != later.product and any(a in b or b in a for a in mine for b in theirs):
                clashes.setdefault((earlier.product, later.product), []).append((earlier, later))
                clashes.setdefault((later.product, earlier.product), []).append((later, earlier))
    problems: list[Problem] = []
    for (_product, other), pairs in clashes.items():
        ours, others = {n for n, _m in pairs}, {m for _n, m in pairs}
        first_ours, first_others = min(map(names.index, ours)), min(map(names.index, others))
        if (len(ours), -first_ours) > (len(others), -first_others):
            continue  # the other product's names are reported
        for name in sorted(ours, key=names.index):
            hit = [m for n, m in pairs if n == name]
            same = [m for m in hit if normalize(m.name) == normalize(name.name)]
            said = (f"is also a name of product '{other}'" if same else
                    f"overlaps '{hit[0].name}', a name of product '{other}'")
            problems.append(Problem(name.path, name.line, name.key,
                                    f"'{name.name}' {said} ({(same or hit)[0].path}:{(same or hit)[0].line})",
                                    "a question naming it would be about both products: give each product "
                                    "names of its own"))
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


class _FactsFile(NamedTuple):
    roles: Roles
    labels: dict[str, str]


def _read_facts_file(rules_dir: Path, require_labels: bool = True) -> tuple[_FactsFile, list[Problem]]:
    """rules/facts.yaml: the date roles with their cue words, which of them recur, the role of a later order,
    the words saying a role's date is still to come, and every fact's label (required unless `require_labels` is
    false); what is wrong in it, each with its line."""
    path = rules_dir / "facts.yaml"
    name = f"{rules_dir.name}/facts.yaml"
    empty = _FactsFile(Roles(), {})
    if not path.exists():
        return empty, [Problem(name, None, "", "missing: it names the roles a date can have (date_roles)")]
    src, problems = read_yaml(path, name)
    if src is None:
        return empty, problems
    model, problems = validate(src, _FactsFileModel)
    if model is None:
        return empty, problems

    def bad(loc: tuple[str | int, ...], message: str, hint: str | None = None) -> None:
        problems.append(Problem(name, src.line(loc), dotted(loc), message, hint))

    roles = model.date_roles
    for role in roles:
        if role in _NOT_ROLES:
            bad(("date_roles", role), f"'{role}' is the name of a fact that is not a date's role",
                "name the role after what the date is (expiry, billing): a rule reading "
                f"'{role}' could not tell the two apart")
    for i, role in enumerate(model.recurring):
        if role not in roles:
            bad(("recurring", i), f"unknown role '{role}'", close_match(role, roles))
    for first, later in model.later_orders.items():
        for at, role in ((first, first), (first, later)):
            if role not in roles:
                bad(("later_orders", at), f"unknown role '{role}'", close_match(role, roles))
    for role in model.ahead:
        if role not in roles:
            bad(("ahead", role), f"unknown role '{role}'", close_match(role, roles))
        elif role in model.recurring:
            bad(("ahead", role), f"'{role}' is recurring: a date of it named without a year is already its next one")
    named = dict.fromkeys((*roles, *_NOT_ROLES))  # every fact name, in the order the missing labels are listed
    for fact, label in model.labels.items():
        if fact not in named:
            bad(("labels", fact), f"unknown fact '{fact}'", close_match(fact, named))
        elif not label.strip():
            bad(("labels", fact), "the label is blank", "write the name a person knows the fact by: 有効期限")
    unlabelled = [fact for fact in named if fact not in model.labels]
    if unlabelled and require_labels:
        bad(("labels",) if "labels" in src.data else (), "no label for " + ", ".join(f"'{f}'" for f in unlabelled),
            "the agents' page names every fact by its label: add them under labels")
    labels = {fact: label.strip() for fact, label in model.labels.items()}
    return _FactsFile(Roles.of(roles, model.recurring, model.later_orders, model.ahead), labels), problems


# the names bot/facts.py gives facts that are not a date's role (years: 「3年」, invalid_date: 2月30日, offset:
# 期限の2か月前); a role called `years` made 「有効期限は…」 a number of years, and crashed the rule comparing it
_NOT_ROLES = (*VALUE_FACTS, "invalid_date", "offset")


def load_date_roles(rules_dir: Path) -> Roles:
    """The date roles of rules/facts.yaml; ConfigError when the file is missing or wrong."""
    facts, problems = _read_facts_file(rules_dir)
    if problems:
        raise ConfigError(problems)
    return facts.roles


def _faq_digest(name: str, raw: bytes) -> bytes:
    return name.encode() + b"\0" + raw + b"\0"


def _rules_digest(path: Path, raw: bytes | None) -> bytes:
    return path.name.encode() + b"\0" + (raw or b"")


def _version(digest: bytes) -> str:
    return hashlib.sha256(digest).hexdigest()[:12]


def knowledge_version(faq_dir: Path, rules_dir: Path | None = None) -> str | None:
    """The version `load_knowledge` would give the files as they are now, read but not parsed (a millisecond
    against a load's few hundred): whether the knowledge on disk is still one already loaded. None when a
    knowledge file cannot be read, which loading would refuse."""
    digest = b""
    for path in knowledge_files(faq_dir, "*.yaml", "*.yml"):
        raw, _ = read_file(path)
        if raw is None:
            return None
        digest += _faq_digest(_display(path, faq_dir), raw)
    if rules_dir is not None:
        for path in knowledge_files(rules_dir, "*.yaml"):
            raw, _ = read_file(path)
            if raw is None:
                return None
            digest += _rules_digest(path, raw)
    return _version(digest)


def load_knowledge(faq_dir: Path, rules_dir: Path | None = None, *, run_examples: bool = False,
                   require_labels: bool = True) -> Knowledge:
    """Load and validate everything; raise ConfigError listing every problem.

    `require_labels` false lets values go without labels, as rule files older than labels did: for scoring
    an old commit's knowledge by intent (`faqbot eval --arrivals`), never for serving.
    """
    loaded = load_faq(faq_dir)
    entries, problems, digest = loaded.entries, list(loaded.problems), loaded.digest
    ruleset = RuleSet((), {})
    facts = _FactsFile(Roles(), {})
    if rules_dir is not None:
        facts, errs = _read_facts_file(rules_dir, require_labels)
        problems += errs
        intents = {e.id: e.product for e in entries}
        rules, comps, examples, displays, errs = load_rules(rules_dir, date_roles=facts.roles.names, intents=intents,
                                                  intents_complete=not loaded.problems, require_labels=require_labels)
        problems += errs
        for path in knowledge_files(rules_dir, "*.yaml"):
            raw, _ = read_file(path)  # one that cannot be read is reported by load_rules
            digest += _rules_digest(path, raw)
        ruleset = RuleSet(rules, comps, examples, displays)
        if run_examples and not problems:
            problems += check_examples(ruleset)
    if problems:
        raise ConfigError(problems)
    pairs = {(syn.variant, syn.canonical) for syn in loaded.synonyms}
    table = tuple(sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0])))
    version = _version(digest)
    return Knowledge(tuple(loaded.products), tuple(entries), table, version, ruleset,
                     facts.roles, tuple(loaded.off_topics), tuple(facts.labels.items()))
