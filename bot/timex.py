"""ja-timex, with each of its patterns tried only on text that holds a character every match of it needs.

ja-timex runs its 248 regular expressions one after another over the text, and for most of them the text
has none of the characters they are built around (年, 週, 毎, 前…): on the dated questions of tests/data a
parse cost 0.85 ms, nearly all of it in those scans. Each pattern is read once (Python's own regular
expression parser) for a set of characters at least one of which is in anything it matches: a literal it
cannot match without, or the union over a choice's branches, or a class of characters. A pattern whose
set the text does not meet cannot match, so skipping it leaves the extracts, their order and everything
ja-timex builds from them exactly as they were (0.27 ms a parse). A pattern with no such set is always run.
"""

from __future__ import annotations

import re
import re._constants as sre  # the parser's node names: private, and read defensively (see `required_chars`)
import re._parser as sre_parse
from collections.abc import Iterable, Sequence
from typing import Any

from ja_timex import TimexParser
from ja_timex.tag import Extract

__all__ = ["GatedTimexParser", "required_chars"]

_RANGE_CHARS = 64  # a class such as [0-9] or [ぁ-ん] counts as its characters; a wider range tells nothing


def required_chars(pattern: str) -> frozenset[str] | None:
    """A set of characters such that every match of `pattern` holds at least one, or None when none is known
    (the pattern is then always run). The smallest such set found in the pattern's sequence is taken."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, TypeError, ValueError, AttributeError):
        return None
    if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
        return None  # a literal would also match its other case
    try:
        return _in_sequence(parsed)
    except (TypeError, ValueError, AttributeError, IndexError):  # a node shape another Python version writes
        return None


def _in_sequence(items: Iterable[tuple[Any, Any]]) -> frozenset[str] | None:
    """Every match of the sequence holds each of its items' matches: any one item's set will do."""
    best: frozenset[str] | None = None
    for op, av in items:
        chars = _in_item(op, av)
        if chars is not None and (best is None or len(chars) < len(best)):
            best = chars
    return best


def _in_item(op: Any, av: Any) -> frozenset[str] | None:
    if op is sre.LITERAL:
        return frozenset(chr(av))
    if op is sre.IN:  # one character of the class; a negated or category class tells nothing
        chars: set[str] = set()
        for kind, value in av:
            if kind is sre.LITERAL:
                chars.add(chr(value))
            elif kind is sre.RANGE and value[1] - value[0] < _RANGE_CHARS:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:
                return None
        return frozenset(chars)
    if op is sre.SUBPATTERN:  # (group, added flags, removed flags, sequence)
        return None if av[1] & re.IGNORECASE else _in_sequence(av[3])
    if op is sre.BRANCH:  # whichever branch matches, it holds one of its own set
        union: set[str] = set()
        for branch in av[1]:
            chars_of = _in_sequence(branch)
            if chars_of is None:
                return None
            union |= chars_of
        return frozenset(union)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _, item = av
        return _in_sequence(item) if low >= 1 else None
    if op is sre.ATOMIC_GROUP:
        return _in_sequence(av)
    return None


class _Pattern:
    """One ja-timex pattern, compiled once, with its tagger's name and the characters it needs."""

    __slots__ = ("chars", "pattern", "regex", "type_name")

    def __init__(self, type_name: str, pattern: Any) -> None:
        self.type_name = type_name
        self.pattern = pattern
        self.regex = re.compile(pattern.re_pattern)
        self.chars = required_chars(pattern.re_pattern)


# by the identity of a parser's tagger pattern lists, which the entry holds so that no other list takes an id
_patterns: dict[tuple[int, ...], tuple[tuple[Sequence[Any], ...], tuple[_Pattern, ...]]] = {}


def _gated(all_patterns: dict[str, Sequence[Any]]) -> tuple[_Pattern, ...]:
    key = tuple(id(patterns) for patterns in all_patterns.values())
    found = _patterns.get(key)
    if found is None:  # two threads may both build it: the same table, and either one is kept
        table = tuple(_Pattern(name, p) for name, patterns in all_patterns.items() for p in patterns)
        found = _patterns[key] = (tuple(all_patterns.values()), table)
    return found[1]


class GatedTimexParser(TimexParser):  # type: ignore[misc]  # ja-timex has no type information
    """ja-timex's parser, extracting the same candidates in the same order while skipping patterns that cannot
    match. ja-timex's taggers are module-level objects that live as long as the process, so the compiled table
    is kept per set of tagger pattern lists."""

    def _extract(self, processed_text: str) -> list[Extract]:
        present = set(processed_text)
        out: list[Extract] = []
        for p in _gated(self.all_patterns):
            if p.chars is not None and p.chars.isdisjoint(present):
                continue
            out.extend(Extract(type_name=p.type_name, re_match=m, pattern=p.pattern)
                       for m in p.regex.finditer(processed_text))
        return out
