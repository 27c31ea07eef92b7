"""Score a question set: accuracy, fallback precision/recall, confused intents."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .confidence import ARRIVAL_REJECTION, READ_REJECTION, Calibration, choose_threshold, features, fit, rates
from .core import Bot, clean_text
from .dates import read_iso_day
from .errors import ConfigError, Problem
from .knowledge import load_knowledge
from .yamlsrc import close_match, read_yaml, validate


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


_CASE_KEYS = {"text", "intent", "today", "product"}  # product: whose answer it is, for the reader only


def load_cases(path: Path, intents: Collection[str] | None = None, *, max_length: int | None = None
               ) -> list[Case]:
    """Read a YAML list of {text, intent, today?}; every bad item raises ConfigError naming its file and line.

    With `intents` (the knowledge's entry ids) a case naming any other intent is refused, with the nearest id:
    the knowledge could never give it, so the case would be scored wrong whatever the bot answered. With
    `max_length` (FAQBOT_MAX_TEXT_LENGTH) a longer question is refused too: asking it would stop the run there.
    """
    src, problems = read_yaml(path)
    if src is None:
        raise ConfigError(problems, "the question set")
    if not isinstance(src.data, list):
        raise ConfigError([Problem(src.path, 1, "", "expected a list of {text, intent}")], "the question set")
    if not src.data:  # a report of nothing reads as a pass: a truncated file, or the wrong one
        raise ConfigError([Problem(src.path, 1, "", "no questions: expected a list of {text, intent}")],
                          "the question set")
    cases = []
    for i, item in enumerate(src.data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or "intent" not in item:
            problems.append(Problem(src.path, src.line((i,)), f"[{i}]", "each item needs 'text' and 'intent'"))
            continue
        for key in item.keys() - _CASE_KEYS:  # a misspelt today: would be scored against the run's day instead
            problems.append(Problem(src.path, src.line((i, key)), f"[{i}].{key}", f"unknown key '{key}'",
                                    close_match(str(key), _CASE_KEYS)))
        text = item["text"]
        if not text.strip():
            problems.append(Problem(src.path, src.line((i, "text")), f"[{i}].text", "the question is empty"))
        elif not clean_text(text):
            problems.append(Problem(src.path, src.line((i, "text")), f"[{i}].text",
                                    f"the question is empty: it holds only invisible characters {text[:20]!r}"))
        if max_length is not None and len(text) > max_length:
            problems.append(Problem(src.path, src.line((i, "text")), f"[{i}].text",
                                    f"the question is {len(text):,} characters long; the bot takes at most "
                                    f"{max_length:,} (FAQBOT_MAX_TEXT_LENGTH)"))
        intent, today = item["intent"], item.get("today")
        if intent is not None and not isinstance(intent, str):
            problems.append(Problem(src.path, src.line((i, "intent")), f"[{i}].intent",
                                    f"expected an entry id or null, got {intent!r}"))
        elif intent is not None and intents is not None and intent not in intents:
            problems.append(Problem(src.path, src.line((i, "intent")), f"[{i}].intent",
                                    f"unknown intent '{intent}'", close_match(intent, intents)))
        if isinstance(today, datetime):  # YAML reads 2025-05-15 10:00 as a datetime; a case's day is a date
            today = today.date()
        if today is not None:  # a date YAML read, or anything else (0, '', false): each must read as a day
            try:
                today = read_iso_day(today.isoformat() if isinstance(today, date) else str(today))
            except ValueError as wrong:
                problems.append(Problem(src.path, src.line((i, "today")), f"[{i}].today", f"'{today}' {wrong}"))
                continue
        cases.append(Case(text, intent, today))
    if problems:
        raise ConfigError(problems, "the question set")
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
        # scored on the text ask answers: a NUL inside 更新料金 split the word for the ranking, not for the answer
        text, day = clean_text(case.text), case.today or today
        ev = bot.evidence(text, today=day)
        top, clear = bot.lead(ev, today=day)  # the answer the best match gives, after the rules
        rows.append(Row(features(ev.ranked, ev.unknown, kana_only=ev.kana_only, terms=ev.terms),
                        None if case.intent is None else top == case.intent, clear, ev.off_topic))
        got = bot.ask(text, today=day).intent
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


class _Arrival(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: str = Field(min_length=1)
    knowledge: str = Field(pattern=r"^[0-9a-f]{7,40}$")


class _Arrivals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arrivals: list[_Arrival] = Field(min_length=1)


@dataclass(frozen=True)
class Arrival:
    """A question set and the commit whose knowledge it was first measured against, before anyone read it."""

    questions: Path
    knowledge: str  # a git commit


def load_arrivals(path: Path) -> list[Arrival]:
    """Read an arrivals file ({arrivals: [{questions, knowledge}]}); problems raise ConfigError with lines.

    `questions` is relative to the file's folder. Every problem is reported at once, with its line.
    """
    src, problems = read_yaml(path)
    if src is None:
        raise ConfigError(problems, "the arrivals file")
    model, problems = validate(src, _Arrivals)
    if model is None:
        raise ConfigError(problems, "the arrivals file")
    arrivals = [Arrival(path.parent / a.questions, a.knowledge) for a in model.arrivals]
    missing = [Problem(str(path), src.line(("arrivals", i, "questions")), f"arrivals[{i}].questions",
                       f"no such question set: {a.questions} (beside this file)")
               for i, a in enumerate(model.arrivals) if not (path.parent / a.questions).is_file()]
    if missing:
        raise ConfigError(missing, "the arrivals file")
    return arrivals


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)


def knowledge_at(commit: str, inside: Path, dest: Path) -> tuple[Path, Path | None]:
    """Write faq/ and rules/ as they were at `commit` of the clone holding `inside` under `dest`.

    Returns the two folders (rules None where the commit had none). ConfigError when git cannot say.
    """
    def refuse(run: subprocess.CompletedProcess[bytes], otherwise: str) -> ConfigError:
        why = run.stderr.decode("utf-8", "replace").strip().splitlines() or [otherwise]
        return ConfigError([Problem(str(inside), None, commit, f"cannot read the knowledge at {commit}: {why[-1]}",
                                    "the commit must be in this clone's history (git fetch --unshallow)")],
                           "the arrivals file")

    found = _git(inside, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise refuse(found, "not inside a git clone")
    top = Path(found.stdout.decode().strip())
    listed = _git(top, "ls-tree", "--name-only", commit, "--", "faq", "rules")
    folders = [name.decode() for name in listed.stdout.split()]
    if listed.returncode != 0 or "faq" not in folders:
        raise refuse(listed, "it has no faq/ folder")
    run = _git(top, "archive", "--format=tar", commit, "--", *folders)
    if run.returncode != 0:
        raise refuse(run, f"git archive exited {run.returncode}")
    with tarfile.open(fileobj=io.BytesIO(run.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "faq", (dest / "rules" if "rules" in folders else None)


def arrival_rows(bot: Bot, arrivals: Sequence[Arrival], *, today: date) -> list[list[Row]]:
    """Each set's rows against the knowledge (faq/ and rules/ at the top of the git clone holding the set) it
    arrived to, read with today's matcher and `bot`'s tokenizer.

    These are the only honest rows for the out-of-scope side: once a set's misses are read, off-topic
    phrasings written from them make its out-of-scope questions easy, which the next set's are not.
    """
    out = []
    for arrival in arrivals:
        with tempfile.TemporaryDirectory(prefix="faqbot-arrival-") as tmp:
            faq_dir, rules_dir = knowledge_at(arrival.knowledge, arrival.questions.parent, Path(tmp))
            try:
                # labels came later than most arrivals, and name values to people: scoring intents needs none
                knowledge = load_knowledge(faq_dir, rules_dir, require_labels=False)
            except ConfigError as exc:  # today's validation may refuse what an old commit held: say which one
                raise ConfigError(exc.problems, f"the knowledge at {arrival.knowledge}, which "
                                  f"{arrival.questions.name} arrived to") from None
            then = Bot(knowledge, settings=bot.settings, tokenizer=bot.tokenizer, calibration=bot.calibration)
            out.append(evaluate(then, load_cases(arrival.questions, max_length=bot.settings.max_text_length),
                                 today=today)[1])
    return out


def calibrate_rows(fitted: Sequence[Row], chosen_on: Sequence[Row], min_rejection: float
                   ) -> tuple[Calibration, float, float]:
    """The model fitted on `fitted`, its threshold the lowest that refuses `min_rejection` of `chosen_on`'s
    out-of-scope questions; also the in-scope accuracy and the rejection that threshold gives there.

    A question an off-topic takes is refused before the model is asked, so it does not teach the model.
    """
    taught = [r for r in fitted if not r.off_topic]
    if not taught:
        raise ValueError("no question to fit the model on (every one was taken by an off-topic)")
    model = Calibration(fit([r.features for r in taught], [bool(r.right) for r in taught]).weights)
    threshold, accuracy, rejection = choose_threshold(_judged(model, chosen_on), min_rejection)
    return Calibration(model.weights, threshold), accuracy, rejection


def _judged(model: Calibration, rows: Sequence[Row]) -> list[tuple[float, bool, bool | None]]:
    """(confidence, margin_ok, right) of each row, as choose_threshold and rates read them; an off-topic's
    question is refused whatever the model says."""
    return [(model.probability(r.features), r.margin_ok and not r.off_topic, r.right) for r in rows]


def scored(model: Calibration, rows: Sequence[Row]) -> tuple[float, float]:
    """In-scope accuracy and out-of-scope rejection of `model` (with its threshold) on `rows`."""
    return rates(_judged(model, rows), model.threshold)


@dataclass(frozen=True)
class LeftOut:
    """One arrival scored by models that never saw it: today's rule (fitted on the read sets and the other
    arrivals, threshold chosen on those arrivals) and the old one (fitted and thresholded on the read sets)."""

    name: str
    threshold: float
    in_scope: float
    out_of_scope: float
    old_threshold: float
    old_in_scope: float
    old_out_of_scope: float


def leave_out(read: Mapping[str, Sequence[Row]], arrived: Mapping[str, Sequence[Row]]) -> list[LeftOut]:
    """Each arrival left out in turn: its own rows, as it arrived and as read later (same name), are out of
    both the fit and the threshold's choice, so its figures are what the next blind set can expect."""
    out = []
    for name, rows in arrived.items():
        others_read = [r for n, found in read.items() if n != name for r in found]
        others_arrived = [r for n, found in arrived.items() if n != name for r in found]
        new = calibrate_rows(others_read + others_arrived, others_arrived, ARRIVAL_REJECTION)[0]
        old = calibrate_rows(others_read, others_read, READ_REJECTION)[0]
        out.append(LeftOut(name, new.threshold, *scored(new, rows), old.threshold, *scored(old, rows)))
    return out


def format_leave_out(results: Sequence[LeftOut]) -> str:
    """The left-out table as Markdown (the README's), with the means and the sets under the bar of 0.90."""
    lines = ["| blind set, as it arrived | threshold chosen without it | in scope | out of scope "
             "| the old rule, left out the same way |", "|---|---:|---:|---:|---|"]
    lines += [f"| {r.name.removesuffix('.yaml')} | {r.threshold:.2f} | {r.in_scope:.3f} | {r.out_of_scope:.3f} "
              f"| {r.old_in_scope:.3f} / {r.old_out_of_scope:.3f} |" for r in results]
    if results:
        def mean(values: list[float]) -> float:
            return sum(values) / len(values)
        lines.append(f"| mean | | {mean([r.in_scope for r in results]):.3f} "
                     f"| {mean([r.out_of_scope for r in results]):.3f} "
                     f"| {mean([r.old_in_scope for r in results]):.3f} / "
                     f"{mean([r.old_out_of_scope for r in results]):.3f} |")
        lines.append(f"{len(results)} arrivals; under 0.90 in scope: {sum(r.in_scope < 0.9 for r in results)}, "
                     f"out of scope: {sum(r.out_of_scope < 0.9 for r in results)}")
    return "\n".join(lines)
