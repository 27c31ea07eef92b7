"""Decision rules from YAML: a small closed grammar, compiled once, evaluated with a trace."""

from __future__ import annotations

import itertools
import math
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import dates
from .display import UNITS, Display, Glance, written_number
from .errors import Problem, RuleError
from .yamlsrc import Loc, Source, close_match, dotted, knowledge_files, read_yaml, validate

# Facts that are not dates, plus the as-of date; date roles come from rules/facts.yaml. `unreal_date` is the role
# (or "date") of a date named that does not exist (有効期限が2025年2月30日): a rule may ask for that date again.
VALUE_FACTS = ("date", "order_number", "order_kind", "years", "quantity", "today", "unreal_date")
CONDITION_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "matches", "exists",
                 "before", "after", "on_or_before", "on_or_after")
COMPUTE_OPS = ("add", "day_before", "next_day_of_month", "next_anniversary", "months_between", "days_between",
               "first_of", "sign_schedule")
_ADD_UNITS = ("years", "months", "days")
_DATE_OPS = ("before", "after", "on_or_before", "on_or_after")
# What each value fact holds, so that a rule comparing it is checked at load and never fails while answering
# (expiry after 'tomorrow' did, with an HTTP 500). Date roles and `date` are dates; `unreal_date` is the role of a
# date that does not exist (expiry), or "date".
_VALUE_KINDS = {"date": "date", "today": "date", "years": "number", "quantity": "number", "order_number": "text",
                "order_kind": "text", "unreal_date": "role"}
_COMPUTED_KINDS = {"add": "date", "day_before": "date", "next_day_of_month": "date", "next_anniversary": "date",
                   "months_between": "number", "days_between": "number", "sign_schedule": "dates"}
_KIND_WORDS = {"date": "a date", "number": "a number", "text": "text", "role": "the role of a date",
               "dates": "a list of dates"}
# The value facts a reply to a follow-up fills, besides the date roles (bot/core.py `_fill_asked`): an order number,
# 「3年」, 「10ライセンス」. A rule asking for another can never be answered: the conversation would ask forever.
_ASKABLE_VALUES = ("order_number", "years", "quantity")
_NOT_ASKABLE = {
    "date": "a reply's dates fill the roles asked: ask for the role (expiry, billing)",
    "today": "today is always known",
    "unreal_date": "it names the role of a date that does not exist: ask for that role (expiry) again",
    "order_kind": "ask for order_number: its kind is read from it",
}


class _Missing:
    """A value a rule needs but the question did not give."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _RuleModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    intents: list[str] = Field(min_length=1)
    priority: int
    when: Any = None
    say: str | None = None
    ask: list[str] = []
    follow_up: str | None = None
    redirect: str | None = None  # the facts say the question is this other entry's: its rules decide
    set: dict[str, str | int | bool] = {}  # plain values the outcome reports in `computed` (e.g. renewable)
    exact_dates: bool = False  # its dates are a deadline to act by: a month-only date gets no ranges, it is asked for
    description: str | None = None


class _ExpectModel(_Strict):
    rule: str | None = None  # null: no rule fires
    redirect: str | None = None
    computed: dict[str, Any] = {}
    say: list[str] = []  # words the answer says, each checked whole: a bare string was checked letter by letter
    ask: list[str] = []


class _ExampleModel(_Strict):
    intent: str
    today: date
    facts: dict[str, Any] = {}
    expect: _ExpectModel


class _GlanceModel(_Strict):
    date: str  # a computed date, shown with its label
    counts: dict[str, str] = {}  # a number shown beside the date: {days_left: あと{n}日}
    zero: dict[str, str] = {}  # a count's text when it is 0, on the day: {days_left: 本日まで}; '' says nothing
    passed: dict[str, str | int | bool] = {}  # the outcome that makes the date one gone: {renewable: false}


class _RuleFileModel(_Strict):
    product: str
    computations: dict[str, dict[str, Any]] = {}
    rules: list[_RuleModel] = Field(min_length=1)
    examples: list[_ExampleModel] = []
    labels: dict[str, str] = {}
    glance: list[_GlanceModel] = []


# ---------------------------------------------------------------- compiled forms


@dataclass(frozen=True)
class Computation:
    """A named value derived from facts: one operator and its arguments (names or numbers)."""

    name: str
    op: str
    args: Mapping[str, Any]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """all / any / not over leaves {fact, op, value | ref}."""

    kind: str  # all | any | not | leaf
    children: tuple[Condition, ...] = ()
    fact: str = ""
    op: str = ""
    value: Any = None
    ref: str | None = None

    def names(self) -> set[str]:
        """Every fact or computation the condition reads."""
        found = {self.fact} if self.kind == "leaf" else set()
        if self.ref:
            found.add(self.ref)
        for child in self.children:
            found |= child.names()
        return found


@dataclass(frozen=True)
class Rule:
    """One decision: when it applies, what it says or which facts it asks for."""

    id: str
    product: str
    intents: tuple[str, ...]
    priority: int
    when: Condition | None
    say: str | None
    ask: tuple[str, ...]
    follow_up: str | None
    path: str
    line: int | None
    sets: Mapping[str, str | int | bool] = field(default_factory=dict)
    redirect: str | None = None
    exact_dates: bool = False

    def template_names(self) -> set[str]:
        """Placeholders used in `say` and `follow_up`."""
        return _placeholders(self.say) | _placeholders(self.follow_up)


@dataclass(frozen=True)
class Example:
    """Given facts and today, a rule file promises this outcome."""

    intent: str
    today: date
    facts: Mapping[str, Any]
    expect: Mapping[str, Any]
    path: str
    line: int | None


@dataclass(frozen=True)
class Decision:
    """What the rules decided for one intent and set of facts.

    `redirect` names the entry that answers instead of the one asked, when a rule found the facts belong to
    it (期限前の更新 with an expiry date that has passed); `rule`, `say` and the rest are then that entry's.
    """

    rule: str | None
    say: str | None = None
    ask: tuple[str, ...] = ()
    follow_up: str | None = None
    computed: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    trace: tuple[Mapping[str, Any], ...] = ()
    redirect: str | None = None


# ---------------------------------------------------------------- loading


def _placeholders(template: str | None) -> set[str]:
    if not template:
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _template_error(template: str) -> str | None:
    """What makes `template` unusable by str.format with the rules' values, if anything: an unmatched brace, a
    placeholder that is not a plain name ({0}, {a.b}), a conversion or a format spec ({days_left!z})."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:  # "expected '}' before end of string", "Single '}' encountered in format string"
        return f"malformed template: {exc}"
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier():
            return f"malformed template: '{{{name}}}' is not a placeholder name"
        if conversion or spec:
            return (f"malformed template: '{{{name}"
                    f"{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' "
                    "takes no conversion or format")
    return None


def load_rules(
    rules_dir: Path, *, date_roles: Iterable[str], intents: Mapping[str, str], intents_complete: bool = True,
    require_labels: bool = True,
) -> tuple[list[Rule], dict[str, dict[str, Computation]], list[Example], dict[str, Display], list[Problem]]:
    """Read every rule file; `intents` maps each known intent to its product.

    When the knowledge files had problems (`intents_complete` false), a name missing from `intents` may be one
    that failed to load, so unknown products and intents are not reported: one broken file, not thirty lines.
    Without `require_labels`, a value with no label is no problem (rule files older than labels, scored by
    `faqbot eval --arrivals`, which reads intents and never shows a value to anyone).
    """
    roles = tuple(date_roles)
    facts = set(roles) | set(VALUE_FACTS)
    askable = set(roles) | set(_ASKABLE_VALUES)
    rules: list[Rule] = []
    computations: dict[str, dict[str, Computation]] = {}
    examples: list[Example] = []
    displays: dict[str, Display] = {}
    parsed, problems = _rule_files(rules_dir)
    for src, model in parsed:
        name = src.path
        comps, errs = _compile_computations(src, model.computations, facts)
        problems += errs
        computations[model.product] = comps
        known = facts | set(model.computations)  # a broken computation was reported once already
        kinds = _kinds(roles, comps)
        problems += _computation_kind_problems(src, comps, kinds)
        products = set(intents.values())
        if model.product not in products and intents_complete:
            problems.append(Problem(name, src.line(("product",)), "product", f"unknown product '{model.product}'",
                                    close_match(model.product, products)))
        for i, r in enumerate(model.rules):
            loc: Loc = ("rules", i)
            for j, intent in enumerate(r.intents):
                if intent not in intents:
                    if intents_complete:
                        problems.append(Problem(name, src.line((*loc, "intents", j)), f"rules[{i}].intents",
                                                f"unknown intent '{intent}'", close_match(intent, intents)))
                elif intents[intent] != model.product:
                    problems.append(Problem(name, src.line((*loc, "intents", j)), f"rules[{i}].intents",
                                            f"intent '{intent}' belongs to product '{intents[intent]}'"))
            when = None
            if r.when is not None:
                when, errs = _compile_condition(src, r.when, (*loc, "when"), known, kinds, roles)
                problems += errs
            if r.redirect is not None:
                if r.say is not None or r.ask or r.follow_up is not None:
                    problems.append(Problem(name, src.line(loc), f"rules[{i}]",
                                            "a 'redirect' rule hands the question over: no 'say', 'ask' or "
                                            "'follow_up'"))
                if r.redirect not in intents:
                    if intents_complete:
                        problems.append(Problem(name, src.line((*loc, "redirect")), f"rules[{i}].redirect",
                                                f"unknown intent '{r.redirect}'", close_match(r.redirect, intents)))
                elif intents[r.redirect] != model.product:
                    problems.append(Problem(name, src.line((*loc, "redirect")), f"rules[{i}].redirect",
                                            f"intent '{r.redirect}' belongs to product '{intents[r.redirect]}'"))
            elif r.say is None and not r.ask:
                problems.append(Problem(name, src.line(loc), f"rules[{i}]",
                                        "a rule needs 'say', 'ask' or 'redirect'"))
            if r.ask and not r.follow_up:
                problems.append(Problem(name, src.line(loc), f"rules[{i}]", "'ask' needs a 'follow_up' question"))
            for j, fact in enumerate(r.ask):
                if fact not in facts:
                    problems.append(Problem(name, src.line((*loc, "ask", j)), f"rules[{i}].ask",
                                            f"unknown fact '{fact}'", close_match(fact, facts)))
                elif fact not in askable:
                    problems.append(Problem(name, src.line((*loc, "ask", j)), f"rules[{i}].ask",
                                            f"'{fact}' cannot be asked for: no reply fills it", _NOT_ASKABLE.get(
                                                fact, "ask for " + ", ".join(sorted(askable)))))
            for key in ("say", "follow_up"):
                template = getattr(r, key)
                if template and (wrong := _template_error(template)):
                    problems.append(Problem(name, src.line((*loc, key)), f"rules[{i}].{key}", wrong,
                                            "write a placeholder as {name}, a brace of the text as {{ or }}"))
                    continue
                for ph in sorted(_placeholders(template)):
                    if ph not in known:
                        problems.append(Problem(name, src.line((*loc, key)), f"rules[{i}].{key}",
                                                f"unknown placeholder '{{{ph}}}'", close_match(ph, known)))
            rules.append(Rule(r.id, model.product, tuple(r.intents), r.priority, when, r.say, tuple(r.ask),
                              r.follow_up, name, src.line(loc), dict(r.set), r.redirect, r.exact_dates))
        reported = known | {key for r in model.rules for key in r.set}  # what an answer's `computed` may hold
        for i, ex in enumerate(model.examples):
            given, errs = _example_facts(src, i, ex, model.product, intents if intents_complete else None,
                                         roles, kinds, reported)
            problems += errs
            examples.append(Example(ex.intent, ex.today, given, ex.expect.model_dump(exclude_unset=True), name,
                                    src.line(("examples", i))))
        outcomes = {key: None for r in model.rules for key in r.set if key not in facts}  # facts: facts.yaml's labels
        display, errs = _display(src, model, comps, outcomes, kinds, require_labels)
        problems += errs
        displays[model.product] = display
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(Problem(rule.path, rule.line, "id", f"rule id '{rule.id}' is already used",
                                    f"first defined at {seen[rule.id].path}:{seen[rule.id].line}"))
        seen[rule.id] = rule
    redirected = _redirecting(rules)
    for rule in rules:
        if rule.redirect in redirected:  # one hand-over at most: no chains, no loops
            problems.append(Problem(rule.path, rule.line, "redirect",
                                    f"'{rule.redirect}' has redirect rules of its own; redirect to the entry "
                                    "that answers"))
    for example in examples:
        expected = example.expect.get("rule")
        if expected is not None and expected not in seen:
            problems.append(Problem(example.path, example.line, "expect.rule", f"unknown rule '{expected}'",
                                    close_match(str(expected), seen)))
    return rules, computations, examples, displays, problems


def _display(src: Source, model: _RuleFileModel, comps: Mapping[str, Computation], outcomes: Mapping[str, None],
             kinds: Mapping[str, str | None], require_labels: bool = True) -> tuple[Display, list[Problem]]:
    """A rule file's `labels` and `glance`, checked: every computation and outcome (a key of a rule's `set`) has a
    label, since the agents' page shows them all; a glance date is a date, its counts numbers, each template {n}."""
    problems: list[Problem] = []

    def bad(loc: Loc, message: str, hint: str | None = None) -> None:
        problems.append(Problem(src.path, src.line(loc), dotted(loc), message, hint))

    # what an answer's `computed` holds, in file order; a computation that failed to compile was reported already
    named = {**{name: None for name in model.computations}, **outcomes}
    for name, label in model.labels.items():
        if name not in named:
            bad(("labels", name), f"'{name}' is neither a computation nor a key of a rule's set",
                close_match(name, named))
        elif not label.strip():
            bad(("labels", name), "the label is blank", "write the name a person knows the value by: 更新できる期限")
    unlabelled = [name for name in named if name not in model.labels]
    if unlabelled and require_labels:
        bad(("labels",) if model.labels else ("computations",),
            "no label for " + ", ".join(f"'{name}'" for name in unlabelled),
            "the agents' page names every value by its label: add them under labels")
    glance: list[Glance] = []
    for i, item in enumerate(model.glance):
        loc: Loc = ("glance", i)
        if item.date not in comps or kinds.get(item.date) not in ("date", "dates"):
            what = f"is {_KIND_WORDS[k]}" if item.date in comps and (k := kinds.get(item.date)) else \
                "is not computed here"
            bad((*loc, "date"), f"'{item.date}' {what}: a glance shows dates",
                _one_of(item.date, [n for n in comps if kinds.get(n) in ("date", "dates")]))
            continue
        label = model.labels.get(item.date, "").strip()
        if not label:
            continue  # reported above where labels are required; an arrival read for scoring shows no dates
        for name, template in item.counts.items():
            if kinds.get(name) != "number":
                bad((*loc, "counts", name), f"'{name}' is not a computed number",
                    _one_of(name, [n for n in comps if kinds.get(n) == "number"]))
            elif (wrong := _template_error(template)) or _placeholders(template) != {"n"}:
                bad((*loc, "counts", name), wrong or "a count's text holds {n} and no other placeholder",
                    "e.g. あと{n}日")
        for name, text in item.zero.items():
            if name not in item.counts:
                bad((*loc, "zero", name), f"'{name}' is not one of this date's counts",
                    _one_of(name, list(item.counts)))
            elif (wrong := _template_error(text)) or _placeholders(text):
                bad((*loc, "zero", name), wrong or "the text for 0 holds no placeholder", "e.g. 本日まで")
        for name in item.passed:
            if name not in named:
                bad((*loc, "passed", name), f"'{name}' is neither a computation nor a key of a rule's set",
                    close_match(name, named))
        glance.append(Glance(item.date, label, tuple(item.counts.items()), dict(item.passed), dict(item.zero)))
    labels = tuple((name, label.strip()) for name, label in model.labels.items() if name in named)
    units = {name: UNITS[comp.op] for name, comp in comps.items() if comp.op in UNITS}
    return Display(labels, units, tuple(glance)), problems


def _one_of(name: str, valid: Sequence[str]) -> str | None:
    """A hint: the nearest valid name, else all of them (a file's few dates or counts)."""
    return close_match(name, valid) or ("one of: " + ", ".join(valid) if valid else None)


def _rule_files(rules_dir: Path) -> tuple[list[tuple[Source, _RuleFileModel]], list[Problem]]:
    """Every rule file that parses, one per product, and the problems of the others.

    A second file for a product (rules/virusbuster-extra.yaml) replaced the first's computations, and the first's
    examples then failed on them: it is refused, and the product's own file (rules/virusbuster.yaml) is kept.
    """
    parsed: list[tuple[Source, _RuleFileModel]] = []
    problems: list[Problem] = []
    for path in knowledge_files(rules_dir, "*.yaml"):
        name = f"{rules_dir.name}/{path.name}"
        src, errs = read_yaml(path, name)
        problems += errs
        if src is None or (isinstance(src.data, dict) and "date_roles" in src.data):
            continue  # facts.yaml is read by the knowledge loader
        if not isinstance(src.data, dict):
            problems.append(Problem(name, 1, "", "expected a mapping with 'product' and 'rules'"))
            continue
        model, errs = validate(src, _RuleFileModel)
        problems += errs
        if model is not None:
            parsed.append((src, model))
    # the file named after its product first, then the others in name order
    parsed.sort(key=lambda pair: Path(pair[0].path).stem != pair[1].product)
    owners: dict[str, str] = {}
    kept: list[tuple[Source, _RuleFileModel]] = []
    for src, model in parsed:
        if model.product in owners:
            problems.append(Problem(src.path, src.line(("product",)), "product",
                                    f"product '{model.product}' already has rules in {owners[model.product]}",
                                    "put a product's rules, computations and examples in one file"))
            continue
        owners[model.product] = src.path
        kept.append((src, model))
    kept.sort(key=lambda pair: pair[0].path)
    return kept, problems


def _example_facts(src: Source, i: int, ex: _ExampleModel, product: str, intents: Mapping[str, str] | None,
                   roles: Sequence[str], kinds: Mapping[str, str | None],
                   reported: set[str]) -> tuple[dict[str, Any], list[Problem]]:
    """An example's facts as the rules get them (a quoted '2024-01-16' as a date), and every problem in it.

    A typo made an example test something else, or nothing: `facts: {expirie: …}` left the expiry out, and a
    quoted '2023-02-30' stopped `faqbot check` with a traceback. `intents` is None when the knowledge files had
    problems (an intent may be missing because its file failed).
    """
    problems: list[Problem] = []

    def bad(at: Loc, key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(src.path, src.line(("examples", i, *at)), f"examples[{i}].{key}", message, hint))

    facts = {*roles, *VALUE_FACTS}
    if intents is not None and ex.intent not in intents:
        bad(("intent",), "intent", f"unknown intent '{ex.intent}'", close_match(ex.intent, intents))
    elif intents is not None and intents[ex.intent] != product:
        bad(("intent",), "intent", f"intent '{ex.intent}' belongs to product '{intents[ex.intent]}'")
    given: dict[str, Any] = {}
    for name, value in ex.facts.items():
        if name == "today":
            bad(("facts", name), f"facts.{name}", "today is the example's own key", "write today: beside facts")
        elif name not in facts:
            bad(("facts", name), f"facts.{name}", f"unknown fact '{name}'", close_match(name, facts))
        elif kinds.get(name) == "date" and dates.date_span(value) is not None:
            given[name] = value  # known to the month or to a span of days (2023-05, 2023-05-21/2023-05-31)
        else:
            read, wrong, hint = _literal(kinds.get(name), value, roles)
            if wrong:
                bad(("facts", name), f"facts.{name}", f"'{value}' {wrong}", hint)
            else:
                given[name] = read
    exp = ex.expect
    if exp.redirect is not None and intents is not None and exp.redirect not in intents:
        bad(("expect", "redirect"), "expect.redirect", f"unknown intent '{exp.redirect}'",
            close_match(exp.redirect, intents))
    for name in exp.computed:
        if name not in reported:
            bad(("expect", "computed", name), f"expect.computed.{name}", f"'{name}' is never computed",
                close_match(name, reported) or "a fact, a computation, or a key of a rule's set")
    for j, name in enumerate(exp.ask):
        if name not in facts:
            bad(("expect", "ask", j), "expect.ask", f"unknown fact '{name}'", close_match(name, facts))
    return given, problems


def _redirecting(rules: Iterable[Rule]) -> frozenset[str]:
    """The intents that have a redirect rule."""
    return frozenset(intent for rule in rules if rule.redirect for intent in rule.intents)


def _compile_computations(
    src: Source, raw: Mapping[str, Mapping[str, Any]], facts: set[str]
) -> tuple[dict[str, Computation], list[Problem]]:
    problems: list[Problem] = []
    comps: dict[str, Computation] = {}
    names = facts | set(raw)

    def bad(loc: Loc, key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(src.path, src.line(loc), key, message, hint))

    for name, spec in raw.items():
        loc: Loc = ("computations", name)
        key = f"computations.{name}"
        if name in facts:
            bad(loc, key, f"'{name}' is already a fact name", "choose another name")
            continue
        if not isinstance(spec, dict) or len(spec) != 1:
            bad(loc, key, "expected exactly one operator", "one of: " + ", ".join(COMPUTE_OPS))
            continue
        op, args = next(iter(spec.items()))
        if op not in COMPUTE_OPS:
            bad(loc, key, f"unknown operator '{op}'", close_match(op, COMPUTE_OPS))
            continue
        inputs, normalised, message = _computation_args(op, args)
        if message:
            bad((*loc, op), f"{key}.{op}", message)
            continue
        for ref in inputs:
            if ref not in names:
                bad((*loc, op), f"{key}.{op}", f"unknown fact '{ref}'", close_match(ref, names))
        comps[name] = Computation(name, op, normalised, tuple(inputs))
    # a cycle would recurse forever at run time
    for name in comps:
        if _cyclic(name, comps, set()):
            bad(("computations", name), f"computations.{name}", "computations refer to each other in a cycle")
    return comps, problems


def _cyclic(name: str, comps: Mapping[str, Computation], stack: set[str]) -> bool:
    if name in stack:
        return True
    comp = comps.get(name)
    if comp is None:
        return False
    return any(_cyclic(ref, comps, stack | {name}) for ref in comp.inputs)


def _kinds(roles: Iterable[str], comps: Mapping[str, Computation]) -> dict[str, str | None]:
    """What each fact and computation holds ("date", "number", "text", "role", "dates"); None where it depends
    (first_of over a date and a number) or could not be worked out (a cycle, reported once already)."""
    kinds: dict[str, str | None] = {**{role: "date" for role in roles}, **_VALUE_KINDS}

    def kind(name: str, stack: frozenset[str]) -> str | None:
        if name in kinds or name not in comps or name in stack:
            return kinds.get(name)
        comp = comps[name]
        if comp.op == "first_of":
            found = {kind(n, stack | {name}) for n in comp.inputs}
            return found.pop() if len(found) == 1 else None
        return _COMPUTED_KINDS[comp.op]

    for name in comps:
        kinds[name] = kind(name, frozenset())
    return kinds


def _computation_kind_problems(src: Source, comps: Mapping[str, Computation],
                               kinds: Mapping[str, str | None]) -> list[Problem]:
    """Every argument of a computation is a date, but add's years, months and days, which are numbers:
    {add: {date: years}} failed while answering."""
    problems: list[Problem] = []
    for comp in comps.values():
        if comp.op == "first_of":
            continue
        for key, value in comp.args.items():
            want = "number" if key in _ADD_UNITS else "date"
            if isinstance(value, str) and (have := kinds.get(value)) is not None and have != want:
                problems.append(Problem(src.path, src.line(("computations", comp.name, comp.op)),
                                        f"computations.{comp.name}.{comp.op}",
                                        f"'{key}' needs {_KIND_WORDS[want]}, and '{value}' is {_KIND_WORDS[have]}"))
    return problems


def _literal(kind: str | None, value: Any, roles: Iterable[str]) -> tuple[Any, str | None, str | None]:
    """A value written in a rule file as the fact of this kind holds it (a quoted '2024-01-01' as a date), or what
    it is not, with a hint: 'tomorrow' is not a date, 'three' not a number of years."""
    if kind == "date":
        if isinstance(value, datetime):  # 2024-01-01 10:00: a date never equals it, and compares with it not at all
            return value, "is a date and time", "write the date alone: 2025-06-30"
        if isinstance(value, date):
            return value, None, None
        try:
            return dates.read_iso_day(value), None, None
        except ValueError as wrong:
            return value, f"is not a date ({wrong})", "write a date as 2025-06-30"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return value, "is not a number", "write a number: 3"
    if kind == "text" and not isinstance(value, str):
        return value, "is not text", f"quote it: '{value}'"
    if kind == "role" and value not in (valid := {*roles, "date"}):
        return value, "is not the role of a date", close_match(str(value), valid) or "a role of rules/facts.yaml"
    if kind == "dates":
        return value, "is compared with a list of dates", "test the list with 'exists'"
    return value, None, None


def _computation_args(op: str, args: Any) -> tuple[list[str], dict[str, Any], str | None]:
    """Check an operator's arguments; return the names it reads, the arguments, or a message."""
    if op == "day_before":
        return ([args], {"date": args}, None) if isinstance(args, str) else ([], {}, "expects a fact name")
    if op == "first_of":
        if isinstance(args, list) and args and all(isinstance(a, str) for a in args):
            return list(args), {"names": list(args)}, None
        return [], {}, "expects a list of fact names"
    if not isinstance(args, dict):
        return [], {}, "expects a mapping of arguments"
    shapes: dict[str, tuple[set[str], set[str]]] = {  # required, optional
        "add": ({"date"}, set(_ADD_UNITS)),
        "next_day_of_month": ({"date", "day_of"}, set()),
        "next_anniversary": ({"date", "after"}, set()),
        "months_between": ({"from", "to"}, set()),
        "days_between": ({"from", "to"}, set()),
        "sign_schedule": ({"first", "anniversary"}, {"order"}),
    }
    required, optional = shapes[op]
    missing = required - set(args)
    extra = set(args) - required - optional
    if missing:
        return [], {}, "missing argument(s): " + ", ".join(sorted(missing))
    if extra:
        return [], {}, "unknown argument(s): " + ", ".join(sorted(extra)) + "; expected " + \
            ", ".join(sorted(required | optional))
    if op == "add" and not set(args) & set(_ADD_UNITS):
        return [], {}, "add needs years, months or days"
    inputs = []
    for key, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return [], {}, f"'{key}' must be a fact name or a whole number"
        if isinstance(value, int) and key not in _ADD_UNITS:
            return [], {}, f"'{key}' must be a fact name"
        if isinstance(value, str):
            inputs.append(value)
    return inputs, dict(args), None


def _compile_condition(src: Source, raw: Any, loc: Loc, known: set[str], kinds: Mapping[str, str | None],
                       roles: Sequence[str]) -> tuple[Condition | None, list[Problem]]:
    def bad(message: str, hint: str | None = None, at: Loc = loc) -> tuple[None, list[Problem]]:
        return None, [Problem(src.path, src.line(at), dotted(at), message, hint)]

    if not isinstance(raw, dict):
        return bad("a condition is a mapping: all / any / not, or {fact, op, value}")
    if set(raw) & {"all", "any", "not"}:
        if len(raw) != 1:
            return bad("all / any / not must stand alone in their mapping")
        kind, body = next(iter(raw.items()))
        items = [body] if kind == "not" else body
        if kind != "not" and (not isinstance(body, list) or not body):
            return bad(f"'{kind}' takes a non-empty list of conditions")
        children, problems = [], []
        for i, item in enumerate(items):
            child_loc: Loc = (*loc, kind) if kind == "not" else (*loc, kind, i)
            child, errs = _compile_condition(src, item, child_loc, known, kinds, roles)
            problems += errs
            if child is not None:
                children.append(child)
        if problems:
            return None, problems
        return Condition(kind, tuple(children)), []
    allowed = {"fact", "op", "value", "ref"}
    extra = set(raw) - allowed
    if extra:
        word = sorted(extra)[0]
        return bad(f"unknown key '{word}'", close_match(word, [*allowed, "all", "any", "not"]))
    fact, op = raw.get("fact"), raw.get("op")
    if not isinstance(fact, str):
        return bad("a condition needs 'fact'")
    if fact not in known:
        return bad(f"unknown fact '{fact}'", close_match(fact, known), (*loc, "fact"))
    if op not in CONDITION_OPS:
        return bad(f"unknown operator '{op}'", close_match(str(op), CONDITION_OPS) or
                   "one of: " + ", ".join(CONDITION_OPS), (*loc, "op"))
    ref = raw.get("ref")
    if ref is not None and ref not in known:
        return bad(f"unknown fact '{ref}'", close_match(str(ref), known), (*loc, "ref"))
    if op == "exists":
        value = raw.get("value", True)
        if not isinstance(value, bool):
            return bad("'exists' takes value true or false")
        return Condition("leaf", fact=fact, op=op, value=value), []
    if ("value" in raw) == (ref is not None):
        return bad(f"'{op}' needs exactly one of 'value' or 'ref'")
    value = raw.get("value")
    if op == "in" and ref is None and not isinstance(value, list):
        return bad("'in' takes a list value")
    if op == "matches":
        try:
            re.compile(str(value))
        except re.error as exc:
            return bad(f"bad regular expression: {exc}")
        return Condition("leaf", fact=fact, op=op, value=value, ref=ref), []
    # checked here, not while answering: {fact: expiry, op: after, value: 'tomorrow'} failed on every question
    # that gave an expiry; `before`..`on_or_after` compare dates, the others values of the fact's own kind
    kind = kinds.get(fact)
    if op in _DATE_OPS and kind is not None and kind != "date":
        return bad(f"'{op}' compares dates, and '{fact}' is {_KIND_WORDS[kind]}", "use eq, lt, gt …", (*loc, "op"))
    want = "date" if op in _DATE_OPS else kind
    if ref is not None:
        other = kinds.get(ref)
        if op != "in" and want is not None and other is not None and other != want:
            return bad(f"'{fact}' is {_KIND_WORDS[want]} and '{ref}' is {_KIND_WORDS[other]}: they do not compare",
                       None, (*loc, "ref"))
        return Condition("leaf", fact=fact, op=op, ref=ref), []
    literals: list[tuple[int | None, Any]] = [*enumerate(value or ())] if op == "in" else [(None, value)]
    read = []
    for j, item in literals:
        where = (*loc, "value") if j is None else (*loc, "value", j)
        as_held, wrong, hint = _literal(want, item, roles)
        if wrong:
            if want == "date" and hint:
                hint += ", or compare with another date: ref: today"
            return bad(f"'{fact}' is {_KIND_WORDS[str(want)]}, and '{item}' {wrong}", hint, where)
        read.append(as_held)
    return Condition("leaf", fact=fact, op=op, value=read if op == "in" else read[0]), []


# ---------------------------------------------------------------- evaluation


def _as_comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Dates compare with ISO strings written in YAML (2024-01-16)."""
    if isinstance(a, date) and isinstance(b, str):
        b = date.fromisoformat(b)
    elif isinstance(b, date) and isinstance(a, str):
        a = date.fromisoformat(a)
    return a, b


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "lt": lambda a, b: bool(a < b),
    "lte": lambda a, b: bool(a <= b),
    "gt": lambda a, b: bool(a > b),
    "gte": lambda a, b: bool(a >= b),
    "before": lambda a, b: bool(a < b),
    "after": lambda a, b: bool(a > b),
    "on_or_before": lambda a, b: bool(a <= b),
    "on_or_after": lambda a, b: bool(a >= b),
    "in": lambda a, b: a in b,
    "matches": lambda a, b: re.search(str(b), str(a)) is not None,
}


class _Env:
    """Facts plus lazily computed values, remembering what was computed and any month-end clamping."""

    def __init__(self, facts: Mapping[str, Any], comps: Mapping[str, Computation]) -> None:
        self.facts = dict(facts)
        self.comps = comps
        self.values: dict[str, Any] = {}
        self.notes: dict[str, str] = {}
        self.steps: list[dict[str, Any]] = []
        self.read: set[str] = set()  # filled by _ReadingEnv only
        self.failed: dict[str, str] = {}  # values that cannot be computed, and why (a date past 9999)

    def get(self, name: str) -> Any:
        if name in self.facts:
            return self.facts[name]
        if name in self.values:
            return self.values[name]
        comp = self.comps.get(name)
        if comp is None:
            return MISSING
        value = self._compute(comp)
        self.values[name] = value
        step = {"name": name, "op": comp.op, "inputs": self._inputs(comp), "value": _jsonable(value)}
        constants = {k: v for k, v in comp.args.items() if isinstance(v, int)}  # add's years/months/days
        if constants:
            step["constants"] = constants
        if name in self.failed:
            step["failed"] = self.failed[name]
        self.steps.append(step)
        return value

    def _inputs(self, comp: Computation) -> dict[str, Any]:
        """The trace's list of a computation's inputs, also those first_of never needed."""
        return {n: _jsonable(self.get(n)) for n in comp.inputs}

    def _compute(self, comp: Computation) -> Any:
        a = comp.args
        if comp.op == "first_of":
            return next((v for v in (self.get(n) for n in a["names"]) if v is not MISSING), MISSING)
        args = {k: (self.get(v) if isinstance(v, str) else v) for k, v in a.items()}
        if any(v is MISSING for v in args.values()):
            return MISSING
        try:
            return self._apply(comp, args)
        except (OverflowError, ValueError) as exc:
            # a date the calendar cannot hold ({add: {date: expiry, years: 100000}}: year 102025 is out of range)
            # cannot be computed, like a missing one: the rule reading it does not fire and the answer still comes
            self.failed[comp.name] = str(exc)
            return MISSING
        except (TypeError, AttributeError) as exc:
            raise RuleError(f"computation '{comp.name}' ({comp.op}) failed on {args}: {exc}") from exc

    def _apply(self, comp: Computation, args: Mapping[str, Any]) -> Any:
        op = comp.op
        if op == "add":
            start: date = args["date"]
            years, months, days = (int(args.get(u, 0)) for u in _ADD_UNITS)
            shifted = dates.add_months(start, 12 * years + months)
            if shifted.clamped:
                span = dates.span_ja(years, months) + "後"
                self.notes[comp.name] = dates.shifted_to_month_end_note(start, [span], [shifted.date])
            return dates.add_days(shifted.date, days)
        if op == "day_before":
            return dates.day_before(args["date"])
        if op == "next_day_of_month":
            result = dates.next_day_of_month(args["date"], args["day_of"].day)
            if result.clamped:
                self.notes[comp.name] = dates.month_end_note(args["day_of"].day, result.date, with_year=False)
            return result.date
        if op == "next_anniversary":
            stated: date = args["date"]
            recurrence = dates.next_anniversary(stated, args["after"])
            if recurrence != stated:
                self.notes[comp.name] = (f"契約応当日は毎年{stated.month}月{stated.day}日に巡ってくるため、"
                                         f"{dates.format_date_ja(args['after'])}より後の最初の契約応当日の"
                                         f"{dates.format_date_ja(recurrence)}で計算しています。")
            return recurrence
        if op == "months_between":
            return dates.whole_months_between(args["from"], args["to"])
        if op == "days_between":
            return dates.days_between(args["from"], args["to"])
        if op == "sign_schedule":
            first: date = args["first"]
            # the note is about the reset cycle, which a later order shares (同じリセット日と同じ更新周期): both
            # schedules of one answer say it in the same words, and it is said once
            cycle = dates.sign_reset_tranches(first, args["anniversary"])
            clamped = [t.date for t in cycle if t.clamped]
            if clamped:  # each reset is 12k months after the first order, in its month: k is the years between
                spans = [f"{12 * (d.year - first.year)}か月後" for d in clamped]
                self.notes[comp.name] = dates.shifted_to_month_end_note(first, spans, clamped)
            return dates.sign_reset_schedule(first, args["anniversary"], args.get("order"))
        raise RuleError(f"unknown operator {op}")

    def test(self, cond: Condition, trace: list[dict[str, Any]]) -> bool:
        if cond.kind == "all":
            return all(self.test(c, trace) for c in cond.children)
        if cond.kind == "any":
            return any(self.test(c, trace) for c in cond.children)
        if cond.kind == "not":
            return not self.test(cond.children[0], trace)
        left = self.get(cond.fact)
        if cond.op == "exists":
            held = (left is not MISSING) == bool(cond.value)
            trace.append({"fact": cond.fact, "op": "exists", "value": cond.value, "held": held})
            return held
        right = self.get(cond.ref) if cond.ref else cond.value
        if left is MISSING or right is MISSING:
            trace.append({"fact": cond.fact, "op": cond.op, "held": False,
                          "missing": cond.fact if left is MISSING else cond.ref})
            return False
        try:
            held = _OPS[cond.op](*_as_comparable(left, right))
        except (TypeError, ValueError) as exc:
            raise RuleError(f"cannot compare {cond.fact}={left!r} {cond.op} {right!r}: {exc}") from exc
        trace.append({"fact": cond.fact, "op": cond.op, "against": cond.ref or _jsonable(cond.value),
                      "left": _jsonable(left), "right": _jsonable(right), "held": held})
        return held


class _ReadingEnv(_Env):
    """An _Env that also records every name the decision looked up (first_of no further than the first known).

    Used only when a date is known to its month (RuleSet._decide_months): a month-only date that the decision
    never reads cannot change it. Every other decision runs on the plain _Env, so the hot path pays nothing.
    """

    def __init__(self, facts: Mapping[str, Any], comps: Mapping[str, Computation]) -> None:
        super().__init__(facts, comps)
        self._deps: dict[str, set[str]] = {}  # what each computed value was computed from
        self._reading: list[set[str]] = []  # the values being computed, innermost last, collect what they look up
        self._tracing = 0  # > 0 while the trace lists a computation's inputs, which the decision may not read

    def get(self, name: str) -> Any:
        self._note(name, *self._deps.get(name, ()))
        if name in self.facts or name in self.values or name not in self.comps:
            return super().get(name)
        self._reading.append(set())
        try:
            value = super().get(name)
        finally:
            self._deps[name] = self._reading.pop()
        self._note(*self._deps[name])
        return value

    def _inputs(self, comp: Computation) -> dict[str, Any]:
        # looked up apart from the decision: what the trace lists is not what the decision read
        outer, self._reading = self._reading, []
        self._tracing += 1
        try:
            return super()._inputs(comp)
        finally:
            self._tracing -= 1
            self._reading = outer

    def _note(self, *names: str) -> None:
        """Record names as read by the values being computed and, outside the trace, by the decision."""
        if not self._tracing:
            self.read.update(names)
        for reading in self._reading:
            reading.update(names)


def _jsonable(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def render_value(value: Any) -> str:
    """How a value reads in an answer: dates the Japanese way, lists joined with 、."""
    if isinstance(value, date):
        return dates.format_date_ja(value)
    if isinstance(value, list):
        return "、".join(render_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return written_number(value)
    return str(value)


_NO_DISPLAY = Display()


class RuleSet:
    """Rules grouped by intent, highest priority first."""

    def __init__(self, rules: Sequence[Rule], computations: Mapping[str, Mapping[str, Computation]],
                 examples: Sequence[Example] = (), displays: Mapping[str, Display] | None = None) -> None:
        self.rules = tuple(rules)
        self.computations = computations
        self.examples = tuple(examples)
        self.displays = dict(displays or {})
        self._by_intent: dict[str, list[Rule]] = {}
        self._redirecting = _redirecting(rules)
        self._reads: dict[str, frozenset[str]] = {}
        for rule in sorted(rules, key=lambda r: -r.priority):
            for intent in rule.intents:
                self._by_intent.setdefault(intent, []).append(rule)

    def display(self, product: str) -> Display:
        """How the product's computed values are named to people (no labels for a product without rules)."""
        return self.displays.get(product) or _NO_DISPLAY

    def for_intent(self, intent: str) -> list[Rule]:
        """The rules that apply to an intent, in the order they are tried."""
        return self._by_intent.get(intent, [])

    def reads(self, intent: str) -> frozenset[str]:
        """Every fact the intent's rules read, in their conditions and texts, directly or through computations."""
        found = self._reads.get(intent)
        if found is None:
            rules = self.for_intent(intent)
            comps = self.computations.get(rules[0].product, {}) if rules else {}
            names = set().union(*(r.template_names() | (r.when.names() if r.when else set()) for r in rules))
            facts: set[str] = set()
            while names:
                name = names.pop()
                if name in comps:
                    names.update(n for n in comps[name].inputs if n not in facts)
                else:
                    facts.add(name)
            found = self._reads[intent] = frozenset(facts)
        return found

    def answered_by(self, intent: str, facts: Mapping[str, Any], today: date) -> str:
        """The entry that answers a question matched to `intent`: itself, unless a redirect rule hands it over."""
        if intent not in self._redirecting:
            return intent
        return self.decide(intent, facts, today).redirect or intent

    def decide(self, intent: str, facts: Mapping[str, Any], today: date) -> Decision:
        """Try the intent's rules by priority; the first whose conditions hold (and whose text can be filled) wins.

        A `redirect` rule that wins hands the question to another entry, whose rules then decide. A date fact
        given only to the month ("YYYY-MM"), or known only to lie in a span ("YYYY-MM-DD/YYYY-MM-DD": 5月中旬, 先週,
        去年), is tried on every day of it: see `_decide_months`.
        """
        months = {name: span for name, value in facts.items() if (span := dates.date_span(value)) is not None}
        if months:
            return self._decide_months(intent, facts, today, months)
        return self._outcome(intent, facts, today).decision

    def _decide_months(self, intent: str, facts: Mapping[str, Any], today: date,
                       months: Mapping[str, tuple[date, date]]) -> Decision:
        """Decide for a date known only to its month (or to a span of days) without inventing its day.

        When every day of the month gives the same rule, that rule answers: the month is written as a month,
        values that depend on the day as ranges (「2027年4月」, 「686〜715日」), with a note saying so. When the
        day changes the outcome, the month fact counts as missing: the rule that asks for it asks, saying why.
        """
        names = sorted(months)
        first = self._outcome(intent, {**facts, **{n: months[n][0] for n in names}}, today, reading=True)
        if not first.reads & set(names):
            return first.decision  # the rules never read the rough date (a how-to question): its day changes nothing
        choices = [[months[n][0] + timedelta(days=i) for i in range((months[n][1] - months[n][0]).days + 1)]
                   for n in names]
        if math.prod(len(days) for days in choices) > _MAX_DAY_TRIALS:
            choices = [list(months[n]) for n in names]  # several month-only dates: their first and last days
        later = itertools.islice(itertools.product(*choices), 1, None)  # the first days are `first`
        outcomes = [first, *(self._outcome(intent, {**facts, **dict(zip(names, days, strict=True))}, today,
                                           reading=True) for days in later)]
        shown = "、".join(dates.format_span_ja(*months[n]) for n in names)
        verdicts = {(o.decision.rule, o.decision.redirect) for o in outcomes}
        trace = {"month_only": {n: facts[n] for n in names}, "rules_by_day": sorted(str(r) for r, _ in verdicts)}
        if len(verdicts) == 1:
            merged = _merge_days(outcomes, months, shown)
            if merged is not None:
                return replace(merged, trace=(trace, *merged.trace))
        without = {k: v for k, v in facts.items() if k not in months}
        asked = self._outcome(intent, without, today).decision
        why = f"{shown}の何日かによって、お答え{'する日付' if len(verdicts) == 1 else ''}が変わります。"
        if asked.ask and asked.follow_up:
            return replace(asked, follow_up=why + asked.follow_up, trace=(trace, *asked.trace))
        return Decision(rule=None, ask=tuple(names), follow_up=why + "日付まで教えていただければ、お調べします。",
                        trace=(trace, *asked.trace))

    def _outcome(self, intent: str, facts: Mapping[str, Any], today: date, *, reading: bool = False) -> _Outcome:
        """The decision for exact facts, with a redirect followed (and, `reading`, the names it read)."""
        outcome = self._decide(intent, facts, today, reading)
        decision = outcome.decision
        if decision.redirect is None:
            return outcome
        after = self._decide(decision.redirect, facts, today, reading)  # validation allows no second redirect
        handed = {"redirect": decision.redirect, "by": decision.rule}
        return replace(after, decision=replace(after.decision, redirect=decision.redirect,
                                               trace=(*decision.trace, handed, *after.decision.trace)))

    def _decide(self, intent: str, facts: Mapping[str, Any], today: date, reading: bool = False) -> _Outcome:
        rules = self.for_intent(intent)
        if not rules:
            return _Outcome(Decision(rule=None))
        env = (_ReadingEnv if reading else _Env)({**facts, "today": today}, self.computations.get(rules[0].product, {}))
        trace: list[Mapping[str, Any]] = []
        for rule in rules:
            checks: list[dict[str, Any]] = []
            held = env.test(rule.when, checks) if rule.when is not None else True
            missing = sorted(n for n in rule.template_names() if env.get(n) is MISSING) if held else []
            trace.append({"rule": rule.id, "priority": rule.priority, "held": held and not missing,
                          "conditions": checks, **({"missing": missing} if missing else {})})
            if not held or missing:
                continue
            used = sorted(rule.template_names() | (rule.when.names() if rule.when else set()))
            # what could not be worked out (an anniversary the question lacks) is left out, never null
            computed = {n: _jsonable(v) for n in used if (n in env.comps or n in env.values)
                        and (v := env.get(n)) is not MISSING and v is not None}
            computed.update(rule.sets)
            raw = {n: env.get(n) for n in rule.template_names()}
            values = {n: render_value(v) for n, v in raw.items()}
            notes = tuple(dict.fromkeys(env.notes[n] for n in used if n in env.notes))  # each said once
            decision = Decision(
                rule=rule.id,
                say=self.display(rule.product).spoken(rule.say, raw).format(**values) if rule.say else None,
                ask=rule.ask,
                follow_up=rule.follow_up.format(**values) if rule.follow_up else None,
                computed=computed,
                notes=notes,
                trace=(*trace, {"computations": env.steps}),
                redirect=rule.redirect,
            )
            return _Outcome(decision, rule, raw, frozenset(env.read))
        return _Outcome(Decision(rule=None, trace=(*trace, {"computations": env.steps})))


_MAX_DAY_TRIALS = 400  # one month-only date is tried on each of its days; more than one, on their first and last


@dataclass(frozen=True)
class _Outcome:
    """A decision with what produced it: the rule, the raw values of its placeholders, every name it read."""

    decision: Decision
    rule: Rule | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    reads: frozenset[str] = frozenset()  # every fact and computation looked up on the way to the decision


def _merge_days(outcomes: Sequence[_Outcome], months: Mapping[str, tuple[date, date]], shown: str) -> Decision | None:
    """One decision from the same rule tried on every day of a month, or None when a value cannot be a range."""
    first = outcomes[0]
    rule = first.rule
    if rule is None:
        return None
    rendered: dict[str, str] = {}
    ranged = False
    for name in sorted(rule.template_names()):
        seen = [o.values[name] for o in outcomes]
        if name in months:
            rendered[name] = dates.format_span_ja(*months[name])
        elif all(v == seen[0] for v in seen):
            rendered[name] = render_value(seen[0])
        elif (text := _render_range(seen)) is not None:
            rendered[name], ranged = text, True
        else:
            return None
    computed: dict[str, Any] = {}
    for name, value in first.decision.computed.items():
        seen = [o.decision.computed.get(name) for o in outcomes]
        if all(v == value for v in seen):
            computed[name] = value
        elif (span := _json_range(seen)) is not None:
            computed[name] = span
        else:
            return None
    note = _span_note(shown, [months[n] for n in sorted(months)])
    if ranged and rule.exact_dates:
        return None
    if ranged:
        note += "日によって変わる日付や日数は、月または幅でお示ししています。"
    common = tuple(n for n in first.decision.notes if all(n in o.decision.notes for o in outcomes))
    return replace(
        first.decision,
        say=rule.say.format(**rendered) if rule.say else None,
        follow_up=rule.follow_up.format(**rendered) if rule.follow_up else None,
        computed=computed,
        notes=(note, *common),
    )


def _span_note(shown: str, spans: Sequence[tuple[date, date]]) -> str:
    """Why the answer holds for any day: 「2025年4月と、月までのご指定でしたので、その月のどの日でも…」."""
    units = {dates.span_unit(*span) for span in spans}
    if len(units) == 1 and (unit := units.pop()):
        return f"{shown}と、{unit}までのご指定でしたので、その{unit}のどの日でも当てはまる内容でお答えしています。"
    return f"日付までのご指定ではありませんでしたので、{shown}のどの日でも当てはまる内容でお答えしています。"


def _render_range(values: Sequence[Any]) -> str | None:
    """Dates or whole numbers that vary with an unknown day, as text: 2027年4月, 2025年4月15日〜2025年5月14日, 9〜38."""
    if all(isinstance(v, date) for v in values):
        return dates.format_span_ja(min(values), max(values))  # a whole month or year is written as one
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"{render_value(min(values))}〜{render_value(max(values))}"
    return None


def _json_range(values: Sequence[Any]) -> str | None:
    """JSON-ready dates (YYYY-MM-DD) or whole numbers that vary with an unknown day, as "low/high" (ISO 8601 style)."""
    if all(isinstance(v, str) and _ISO.match(v) for v in values) or all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"{min(values)}/{max(values)}"
    return None


def check_examples(ruleset: RuleSet) -> list[Problem]:
    """Run every example of every rule file; each mismatch is a Problem."""
    problems: list[Problem] = []
    for ex in ruleset.examples:
        try:
            got = ruleset.decide(ex.intent, ex.facts, ex.today)  # a quoted date was made a date at load
        except RuleError as exc:
            problems.append(Problem(ex.path, ex.line, "example", str(exc)))
            continue
        exp = ex.expect
        if "redirect" in exp and exp["redirect"] != got.redirect:
            problems.append(Problem(ex.path, ex.line, "example",
                                    f"expected a hand-over to {exp['redirect']}, got {got.redirect}"))
        if "rule" in exp and exp["rule"] != got.rule:
            problems.append(Problem(ex.path, ex.line, "example", f"expected rule {exp['rule']}, got {got.rule}"))
        for name, value in (exp.get("computed") or {}).items():
            want = _jsonable(value)
            if got.computed.get(name) != want:
                problems.append(Problem(ex.path, ex.line, "example",
                                        f"expected {name} = {want}, got {got.computed.get(name)}"))
        for text in exp.get("say") or []:
            if text not in (got.say or ""):
                problems.append(Problem(ex.path, ex.line, "example", f"expected the answer to say '{text}'",
                                        f"it said: {got.say}"))
        if "ask" in exp and list(exp["ask"] or []) != list(got.ask):
            problems.append(Problem(ex.path, ex.line, "example",
                                    f"expected to ask for {exp['ask']}, got {list(got.ask)}"))
    return problems


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
