"""How a product's computed values are named to people, from its rule file's `labels` and `glance`.

The agents' page labels every value with these; the widget and Slack show the `glance` dates under an answer.
Nothing here knows a product: a new rule file brings its own labels, and every channel shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .dates import date_span, format_date_ja, format_span_ja, parse_iso_day

# the unit a count is written with, by the operator that computes it
UNITS = {"days_between": "日", "months_between": "か月"}


@dataclass(frozen=True)
class Glance:
    """A date shown under an answer: its label, the counts written beside it, and when it has passed.

    `counts` are (value, template) pairs, the template holding {n}: (days_left, あと{n}日); `zero` is what a count
    says when it is 0 (days_left: 本日まで, never あと0日), an empty text saying nothing. `passed` is the outcome
    that makes it a deadline gone (renewable: false): the date is then shown as passed, not as one to meet.
    """

    name: str
    label: str
    counts: tuple[tuple[str, str], ...] = ()
    passed: Mapping[str, Any] = field(default_factory=dict)
    zero: Mapping[str, str] = field(default_factory=dict)

    def notes(self, computed: Mapping[str, Any]) -> list[str]:
        """The counts an answer computed, written: あと46日; 本日まで where the count is 0 and the file says so."""
        out = []
        for name, template in self.counts:
            value = computed.get(name)
            if self._zero(name, value):
                text = self.zero[name]
            elif (n := _count(value)) is not None:
                text = template.replace("{n}", n)
            else:
                continue
            if text:
                out.append(text)
        return out

    def _zero(self, name: str, value: Any) -> bool:
        """True when the count `name` is 0 (a number, not False) and the file writes its zero (本日まで)."""
        return name in self.zero and value == 0 and not isinstance(value, bool)

    def spoken(self, say: str, values: Mapping[str, Any]) -> str:
        """A rule's `say` in which a count written as this glance writes it (あと{days_left}日) and now 0 reads as
        the glance's zero (本日まで), so the answer and the date under it agree; an empty zero drops the count and
        the parentheses around it."""
        for name, template in self.counts:
            value = values.get(name)
            if not self._zero(name, value):
                continue
            count = template.replace("{n}", "{" + name + "}")
            zero = self.zero[name]
            say = say.replace(f"（{count}）", f"（{zero}）" if zero else "").replace(count, zero)
        return say


@dataclass(frozen=True)
class Display:
    """One product's labels (every computed value and outcome, in its file's order), units and glance dates."""

    labels: tuple[tuple[str, str], ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    glance: tuple[Glance, ...] = ()

    def spoken(self, say: str, values: Mapping[str, Any]) -> str:
        """A rule's `say` with its glance counts at 0 written as the glance writes them (see Glance.spoken)."""
        for item in self.glance:
            say = item.spoken(say, values)
        return say

    def dates(self, computed: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The glance dates an answer computed, in order, each once: name, label, the date written the Japanese way
        (2025年6月30日, a span as 2027年4月 or its two ends), a note of its counts (あと46日) and whether it passed.

        A label and date seen already are not repeated (an anniversary stated and the same one computed).
        """
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for item in self.glance:
            text = written(computed.get(item.name))
            if text is None or (item.label, text) in seen:
                continue
            seen.add((item.label, text))
            notes = item.notes(computed)
            passed = bool(item.passed) and all(computed.get(k) == v for k, v in item.passed.items())
            out.append({"name": item.name, "label": item.label, "text": text, "note": "・".join(notes) or None,
                        "passed": passed})
        return out


def written(value: Any) -> str | None:
    """A computed date as an answer writes it: 2025年1月16日; a span (a date known to its month) as 2027年4月 or
    2026年9月1日〜2026年11月30日; a list of dates joined by 、. None for what is not a date."""
    if isinstance(value, list | tuple):
        parts = [written(v) for v in value]
        return "、".join(p for p in parts if p is not None) if parts and None not in parts else None
    if (day := value if isinstance(value, date) else parse_iso_day(value)) is not None:
        return format_date_ja(day)
    span = date_span(value)
    return format_span_ja(*span) if span is not None else None


def _count(value: Any) -> str | None:
    """A count as written beside its date: 46, 12,345, or 686〜715 where it varies with a day not given ("686/715")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return written_number(value)
    low, _, high = str(value).partition("/") if isinstance(value, str) else ("", "", "")
    return f"{written_number(int(low))}〜{written_number(int(high))}" if low.isdigit() and high.isdigit() else None


def written_number(n: int) -> str:
    """A number as answers write it, in their text and beside a date: 10,000 and over with commas."""
    return f"{n:,}" if abs(n) >= 10_000 else str(n)


def labelled(item: Mapping[str, Any]) -> tuple[str, str]:
    """One of `Display.dates` as a plain-text channel writes it: a deadline gone is labelled so
    (更新できる期限（過ぎています）), and the note follows the date (2025年6月30日（あと46日）)."""
    label = f"{item['label']}（過ぎています）" if item["passed"] else item["label"]
    return label, f"{item['text']}（{item['note']}）" if item["note"] else item["text"]
