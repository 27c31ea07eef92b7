"""Score a question set: accuracy, fallback precision/recall, confused intents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .confidence import features, margin_ok
from .core import Bot
from .errors import ConfigError, Problem


@dataclass(frozen=True)
class Case:
    """One labelled question (intent None = out of scope)."""

    text: str
    intent: str | None
    today: date | None = None


@dataclass
class Report:
    """Results of one evaluation run."""

    total: int = 0
    in_scope: int = 0
    out_scope: int = 0
    correct_in: int = 0  # in-scope answered with the right intent
    wrong_in: int = 0  # in-scope answered with a wrong intent
    fallback_in: int = 0  # in-scope that fell back
    correct_out: int = 0  # out-of-scope that fell back
    top1_in: int = 0  # in-scope whose top-ranked intent is right (confident or not)
    confused: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The figures, for --json."""
        fallbacks = self.fallback_in + self.correct_out
        return {
            "total": self.total,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_scope,
            "in_scope_accuracy": _ratio(self.correct_in, self.in_scope),
            "in_scope_top1": _ratio(self.top1_in, self.in_scope),
            "out_of_scope_rejected": _ratio(self.correct_out, self.out_scope),
            "overall_accuracy": _ratio(self.correct_in + self.correct_out, self.total),
            "fallback_precision": _ratio(self.correct_out, fallbacks),
            "fallback_recall": _ratio(self.correct_out, self.out_scope),
            "wrong_answers": self.wrong_in + (self.out_scope - self.correct_out),
            "confused": [{"expected": a, "got": b, "count": n} for (a, b), n in self.confused.most_common(10)],
        }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def load_cases(path: Path) -> list[Case]:
    """Read a YAML list of {text, intent, today?}; bad items raise ConfigError naming them."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read the question set: {exc}")]) from None
    if not isinstance(data, list):
        raise ConfigError([Problem(str(path), 1, "", "expected a list of {text, intent}")])
    cases, problems = [], []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or "intent" not in item:
            problems.append(Problem(str(path), None, f"[{i}]", "each item needs 'text' and 'intent'"))
            continue
        today = item.get("today")
        cases.append(Case(item["text"], item["intent"], date.fromisoformat(str(today)) if today else None))
    if problems:
        raise ConfigError(problems)
    return cases


@dataclass(frozen=True)
class Row:
    """What calibration needs from one case: the evidence, and whether the top intent was right."""

    features: list[float]
    right: bool | None  # None for an out-of-scope question
    margin_ok: bool
    off_topic: bool = False  # an off-topic ranked first: refused whatever the model says


def evaluate(bot: Bot, cases: Sequence[Case], *, today: date) -> tuple[Report, list[Row]]:
    """Ask every case; also return the rows calibration is fitted on."""
    report = Report()
    rows: list[Row] = []
    for case in cases:
        report.total += 1
        ev = bot.evidence(case.text, today=case.today or today)
        top = ev.ranked[0].id if ev.ranked else None
        rows.append(Row(features(ev.ranked, ev.unknown, kana_only=ev.kana_only, terms=ev.terms),
                        None if case.intent is None else top == case.intent,
                        margin_ok(ev.ranked, bot.min_margin(ev.terms)), ev.off_topic))
        got = bot.ask(case.text, today=case.today or today).intent
        if case.intent is None:
            report.out_scope += 1
            if got is None:
                report.correct_out += 1
            else:
                report.confused[("(out of scope)", got)] += 1
                report.errors.append((case.text, None, got))
            continue
        report.in_scope += 1
        report.top1_in += top == case.intent
        if got == case.intent:
            report.correct_in += 1
        elif got is None:
            report.fallback_in += 1
            report.errors.append((case.text, case.intent, None))
        else:
            report.wrong_in += 1
            report.confused[(case.intent, got)] += 1
            report.errors.append((case.text, case.intent, got))
    return report, rows


def format_report(name: str, report: Report, *, show_errors: int = 20) -> str:
    """A plain-text report."""
    d = report.as_dict()
    lines = [
        f"== {name}: {d['total']} questions ({d['in_scope']} in scope, {d['out_of_scope']} out of scope)",
        f"in-scope accuracy        {d['in_scope_accuracy']:.3f}  ({report.correct_in}/{report.in_scope}; "
        f"top-1 before the threshold {d['in_scope_top1']:.3f}; {report.fallback_in} fell back, "
        f"{report.wrong_in} wrong)",
        f"out-of-scope rejected    {d['out_of_scope_rejected']:.3f}  ({report.correct_out}/{report.out_scope})",
        f"overall accuracy         {d['overall_accuracy']:.3f}",
        f"fallback precision       {d['fallback_precision']:.3f}   recall {d['fallback_recall']:.3f}",
        f"confident wrong answers  {d['wrong_answers']}",
    ]
    if report.confused:
        lines.append("most confused (expected -> got):")
        lines += [f"  {n:3d}  {a} -> {b}" for (a, b), n in report.confused.most_common(8)]
    if show_errors and report.errors:
        lines.append(f"errors (first {min(show_errors, len(report.errors))}):")
        lines += [f"  {text!r}: expected {exp}, got {got}" for text, exp, got in report.errors[:show_errors]]
    return "\n".join(lines)
