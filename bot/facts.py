"""Facts from a Japanese question: dates and their roles, order numbers, years, quantities."""

from __future__ import annotations

import bisect
import calendar
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Literal

import pendulum
from dateutil.relativedelta import relativedelta
from ja_timex.number_normalizer import NumberNormalizer

from bot.dates import (
    FIRST_YEAR,
    LAST_YEAR,
    date_span,
    format_date_ja,
    month_end_note,
    shifted_to_month_end_note,
    span_ja,
)
from bot.timex import GatedTimexParser

__all__ = ["Fact", "Roles", "ahead_roles", "as_role", "dont_know", "extract_facts", "reply_years", "tense"]


@dataclass(frozen=True)
class Roles:
    """What rules/facts.yaml says of dates: the cue words of each role, the roles whose date comes round again,
    and the role an order after a first order takes.

    `recurring` roles (課金日 every term, 契約応当日 every year), named without a year (or month), mean the next time,
    whatever the tense: 「3月1日に課金されました」 in May is next year's billing. `later_orders` maps a first order's
    role to the role of an order after it: 「2021年6月1日に注文したSignトランザクション…最初のSign注文は2020年5月15日」
    names two Sign orders, and only the earlier can be the first.
    """

    cues: tuple[tuple[str, tuple[str, ...]], ...] = ()
    recurring: frozenset[str] = frozenset()
    later_orders: tuple[tuple[str, str], ...] = ()
    ahead: tuple[tuple[str, tuple[str, ...]], ...] = ()  # words saying a date of the role is still to come

    @classmethod
    def of(cls, cues: Mapping[str, Sequence[str]], recurring: Iterable[str] = (),
           later_orders: Mapping[str, str] | None = None, ahead: Mapping[str, Sequence[str]] | None = None) -> Roles:
        """Roles from plain tables, as rules/facts.yaml gives them."""
        return cls(tuple((role, tuple(words)) for role, words in cues.items()), frozenset(recurring),
                   tuple((later_orders or {}).items()),
                   tuple((role, tuple(words)) for role, words in (ahead or {}).items()))

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The roles, in the file's order."""
        return tuple(role for role, _ in self.cues)


@dataclass(frozen=True)
class Fact:
    """One fact read from a question, with its span in the original text."""

    name: str
    value: date | int | str
    start: int
    end: int
    text: str
    note: str | None = None
    inferred: Literal["year", "month"] | None = None  # a date's unit taken from today, not from the text
    notice: str | None = None  # what the answer tells the customer about it: a day clamped, a date that does not exist
    role: str | None = None  # the role a date that does not exist was named for (「追加日は2月30日です」: added)
    tense: int = 0  # for a date whose year came from today: the tense that placed it, -1 past, +1 future, 0 none


def extract_facts(text: str, *, today: date, roles: Roles) -> list[Fact]:
    """Read dates (with roles), order numbers, renewal years and quantities from `text`.

    A date given only to the month (2023年5月, 先月, 去年の12月) has the value "YYYY-MM", never an invented day;
    one given as part of a month, a week or a year (5月中旬, 先週, 去年) is the span "YYYY-MM-DD/YYYY-MM-DD".
    Where today falls within such a date, the tense cuts it to the days before or after today.
    A date that does not exist (2023年2月30日, 13月1日) is the fact `invalid_date`, written as far as it was given
    ("2023-02-30", "--02-30"), with a notice saying so and the role it was named for, if any: no rule reads it,
    the answer tells it, and a conversation knows which of its dates it was meant to be.
    A span counted from a day the text does not give (期限の2か月前, 更新してから3日後) is the fact `offset`, its
    text: no date, since today is not that day, but no topic word either (the matcher masks it like a date).
    """
    norm = _normalize(text)
    work = norm.text
    found: list[Fact] = []  # spans in the normalised text until the end, text filled in there

    # Order numbers go first and are blanked out, so their 14 digits can never
    # be read as a date, a year or a quantity.
    for match in _ORDER.finditer(work):
        letters, digits, tail = match.group(1, 2, 3)
        found.append(Fact("order_number", f"{letters.upper()}-{digits}-{tail}", match.start(), match.end(), ""))
        kind = _order_kind(digits)
        why = "the 14 digits start with neither a date (YYYYMMDD) nor 7" if kind == "other" else None
        found.append(Fact("order_kind", kind, match.start(), match.end(), "", why))
        work = _blank(work, match.start(), match.end())
    for match in _ORDER_LIKE.finditer(work):
        raw = text[norm.starts[match.start()] : norm.ends[match.end() - 1]]
        found.append(Fact("order_number", raw, match.start(), match.end(), "",
                          "not in the format: 2 letters - 14 digits - 9 digits"))
        found.append(Fact("order_kind", "invalid", match.start(), match.end(), ""))
        work = _blank(work, match.start(), match.end())

    items: list[_DateHit | _Impossible] = []
    if _MAYBE_DATE.search(work):
        dates, offsets = _find_dates(work, today)
        items = _out_of_range(work, dates)  # 13月1日, 2月32日: ja-timex reads no day in them
        # 「期限の2か月前」: a span from a day the text does not give; no date, but no topic word either
        found += [Fact("offset", work[start:end], start, end, "", "from a day the text does not give")
                  for start, end in offsets]
    names = _assign_roles(work, [(item.start, item.end) for item in items], _cue_matcher(roles.cues))
    for item, name in zip(items, names, strict=True):
        if isinstance(item, _Impossible):
            hit = _recur(item, today) if name in roles.recurring else None
            if hit is None:
                found.append(Fact("invalid_date", item.value, item.start, item.end, "", "no such date", item.inferred,
                                  item.notice, role=name))
                continue
            item = hit
        elif name in roles.recurring and item.inferred:
            item = _next_occurrence(item, today)
        elif name not in roles.recurring:
            item = _cut_by_tense(item, work, today)
        found.append(Fact(name or "date", _rough_value(item), item.start, item.end, "", item.note, item.inferred,
                          item.notice, tense=item.tense))
    found = _later_orders(found, roles.later_orders)
    if any(f.inferred == "year" for f in found):
        # 「有効期限は3月10日です。期限前でも更新できますか」 in May: next March's expiry
        ahead = _ahead_in(work, roles)
        found = [_presumed_ahead(f, today) if f.name in ahead else f for f in found]

    taken = [(f.start, f.end) for f in found]
    for start, end, kind, amount in _numbers(work):
        if not any(start < t_end and t_start < end for t_start, t_end in taken):
            found.append(Fact(kind, amount, start, end, ""))

    facts = []
    for f in sorted(found, key=lambda f: (f.start, f.end)):
        o_start, o_end = norm.starts[f.start], norm.ends[f.end - 1]
        facts.append(replace(f, start=o_start, end=o_end, text=text[o_start:o_end]))
    return facts


def tense(text: str) -> int:
    """The tense of a message: its last sentence that has one; -1 past (切れました), +1 future, 0 neither."""
    norm = _normalize(text).text
    ends = [i for i, ch in enumerate(norm) if ch in _SENTENCE_BREAK] + [len(norm)]
    for end in reversed(ends):
        if (found := _tense(norm, end, end)) != 0:
            return found
    return 0


def ahead_roles(text: str, roles: Roles) -> frozenset[str]:
    """The roles whose dates `text` says are still to come (rules/facts.yaml: ahead): 「期限前でも更新できますか」
    says so of the expiry."""
    return _ahead_in(_normalize(text).text, roles)


def _ahead_in(text: str, roles: Roles) -> frozenset[str]:
    return frozenset(role for _, _, role in _cue_matcher(roles.ahead).roles(text))


def as_role(fact: Fact, role: str, today: date, question_tense: int = 0, *, roles: Roles,
            ahead: bool = False) -> Fact:
    """A date read without a role, once a conversation gives it one: a recurring date (課金日, 契約応当日) whose
    year came from today is its next occurrence, as if the role had been named with it. So is a 2月29日 read in
    a common year (an `invalid_date` until then), clamped to the month's end where the year has no 29th.
    Any other date keeps its value, placed by the question's tense, or, with neither tense, `ahead` when the
    question said that the role's date is still to come; a date that does not exist stays one.
    """
    if fact.name == "invalid_date":
        parts = written_parts(fact.value)
        if role not in roles.recurring or fact.inferred is None or parts is None:
            return fact
        bad = _Impossible(fact.start, fact.end, *parts, fact.inferred)
        hit = _recur(bad, today)
        return fact if hit is None else replace(fact, name=role, value=hit.value, note=hit.note, notice=hit.notice)
    if fact.inferred is None:
        return replace(fact, name=role)
    if role not in roles.recurring:
        # 「12月です」 after 「有効期限が切れたライセンスは…」 in February: the question's tense places it
        placed = _placed_by_tense(replace(fact, name=role, tense=fact.tense or question_tense), today,
                                  question_tense)
        return _presumed_ahead(placed, today) if ahead else placed
    if isinstance(fact.value, date):
        hit = _next_occurrence(_DateHit(fact.start, fact.end, fact.value, fact.note, inferred=fact.inferred), today)
        return replace(fact, name=role, value=hit.value, note=hit.note, notice=hit.notice)
    # 「3月です」 asked for the 課金日 in May: next year's March, as 「課金日は3月です」 is
    span = date_span(fact.value)
    if span is None:
        return replace(fact, name=role)
    month_only = "/" not in str(fact.value)  # date_span reads "YYYY-MM" or "low/high"
    rough = _DateHit(fact.start, fact.end, span[0], fact.note, month_only=month_only, inferred=fact.inferred,
                     span=None if month_only else span)
    hit = _next_occurrence(rough, today)
    return replace(fact, name=role, value=_rough_value(hit), note=hit.note)


def _presumed_ahead(fact: Fact, today: date) -> Fact:
    """A date whose year came from today, and no tense, read in the next year once all of it has passed: for a
    question that says the date is still to come. In May, 「有効期限は3月10日です。期限前でも更新できますか」
    asks about next March's expiry; 「3月10日に切れました」 or a year written stays as said."""
    if fact.tense:
        return fact
    return _placed_by_tense(fact, today, 1, "the question says it is still to come")


def _placed_by_tense(fact: Fact, today: date, said: int, why: str = "the question's tense") -> Fact:
    """A date whose year came from today, moved a year when all of it is on the wrong side of the tense said."""
    if fact.inferred != "year" or not said:
        return fact
    span = (fact.value, fact.value) if isinstance(fact.value, date) else date_span(fact.value)
    if span is None:
        return fact
    step = -1 if said < 0 and span[0] > today else 1 if said > 0 and span[1] < today else 0
    if not step:
        return fact
    shift = relativedelta(years=step)
    value: date | str
    if isinstance(fact.value, date):
        value = fact.value + shift
    elif "/" not in str(fact.value):  # a month, "YYYY-MM"
        value = f"{span[0].year + step:04d}-{span[0].month:02d}"
    else:
        end = span[1] + shift
        if span[1] == span[1] + relativedelta(day=31):
            end += relativedelta(day=31)  # a month's last day stays its last: 2025年2月28日 → 2024年2月29日
        value = f"{(span[0] + shift).isoformat()}/{end.isoformat()}"
    direction = "previous" if step < 0 else "next"
    note = f"year inferred from today, moved to the {direction} year ({why})"
    return replace(fact, value=value, note=note)


def _rough_value(hit: _DateHit) -> date | str:
    """A date as a fact's value: a span as "YYYY-MM-DD/YYYY-MM-DD", a month as "YYYY-MM", else the date."""
    if hit.span is not None:
        return f"{hit.span[0].isoformat()}/{hit.span[1].isoformat()}"  # the rules try every day of it
    if hit.month_only:
        return f"{hit.value.year:04d}-{hit.value.month:02d}"  # the rules read YYYY-MM as "some day of that month"
    return hit.value


# --- normalisation ----------------------------------------------------------


@dataclass(frozen=True)
class _Normalized:
    """NFKC text with, for each of its characters, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


# Half-width and spacing voiced marks join the kana before them under NFKC.
_JOINERS = frozenset("\uff9e\uff9f\u3099\u309a")
_DIGITS = frozenset("0123456789")
_DATE_UNITS = frozenset("年月日")
_YEAR_MONTH = frozenset("年月")
_SPACES = re.compile(r"\s+")
# 「2024年の4月10日」「4月の10日」: ja-timex reads only the month (or guesses the year) across the の, so it is dropped
# where a month or a day follows it; 「4月の10日間」 is a duration and keeps it.
_DATE_NO = re.compile(
    r"(?<=[0-9]年)の(?=[0-9]{1,2}月)|(?<=[0-9]月)の(?=[0-9]{1,2}日(?!間|前|後|以内|ほど|くらい|ぐらい))"
)


def _normalize(text: str) -> _Normalized:
    """NFKC-normalise `text` piece by piece, keeping a map back to original offsets."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    if unicodedata.is_normalized("NFKC", text):
        chars, starts, ends = list(text), list(range(len(text))), list(range(1, len(text) + 1))
    else:
        i = 0
        while i < len(text):
            j = i + 1
            while j < len(text) and (unicodedata.combining(text[j]) or text[j] in _JOINERS):
                j += 1
            for ch in unicodedata.normalize("NFKC", text[i:j]):
                chars.append(ch)
                starts.append(i)
                ends.append(j)
            i = j
    # ja-timex reads 「2024年3月31日」 but not 「2024 年 3 月 31 日」, so drop the
    # spaces between a number and 年/月/日 (and after 年/月 before a number).
    joined = "".join(chars)
    drop: set[int] = set()
    for gap in _SPACES.finditer(joined):
        before = joined[gap.start() - 1] if gap.start() else ""
        after = joined[gap.end()] if gap.end() < len(joined) else ""
        if (before in _DIGITS and after in _DATE_UNITS) or (before in _YEAR_MONTH and after in _DIGITS):
            drop.update(range(gap.start(), gap.end()))
    drop.update(m.start() for m in _DATE_NO.finditer(joined))
    if drop:
        kept = [k for k in range(len(chars)) if k not in drop]
        chars = [chars[k] for k in kept]
        starts = [starts[k] for k in kept]
        ends = [ends[k] for k in kept]
    # ja-timex reads R6.3.31 and 2024/03/31 but not 令6.3.31 or 20240331: the era's initial stands in for its
    # kanji (one character for one), and slashes go between a compact date's parts (at the digits' offsets)
    joined = "".join(chars)
    for era in _ERA_INITIAL.finditer(joined):
        chars[era.start()] = _ERA_LETTERS[era.group()]
    for compact in reversed(list(_COMPACT_DATE.finditer(joined))):
        for cut in (compact.start() + 6, compact.start() + 4):
            chars.insert(cut, "/")
            starts.insert(cut, starts[cut])
            ends.insert(cut, ends[cut - 1])
    return _Normalized("".join(chars), tuple(starts), tuple(ends))


_ERA_LETTERS = {"令": "R", "平": "H", "昭": "S"}
_ERA_INITIAL = re.compile(r"[令平昭](?=[0-9]{1,2}[./][0-9]{1,2}[./][0-9]{1,2}(?![0-9]))")
# 20240331: a year from 1900 to 2099, a month and a day, alone (an order number's 14 digits are not one)
_COMPACT_DATE = re.compile(r"(?<![0-9A-Za-z/.-])(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])")


def _blank(text: str, start: int, end: int) -> str:
    """Hide text[start:end] from later readers without moving any offset."""
    return text[:start] + "□" * (end - start) + text[end:]


# --- order numbers ------------------------------------------------------------

# NFKC folds the full-width hyphen to "-", but leaves the other dash look-alikes
# (U+2010-2015, U+2212) and IME's prolonged sound mark (U+30FC) alone.
_DASH = "[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d]"
_SEP = rf"\s*{_DASH}\s*"
# Lookarounds, not \b: kanji are \w, so \b fails in 「注文番号AB-…」.
_ORDER = re.compile(rf"(?<![A-Za-z0-9])([A-Za-z]{{2}}){_SEP}([0-9]{{14}}){_SEP}([0-9]{{9}})(?![0-9])")
_ORDER_LIKE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{1,4}}(?:{_SEP}|\s*)[0-9]{{6,}}(?:(?:{_SEP}|\s+)[0-9]{{3,}})+(?![0-9])"
    rf"|(?<![A-Za-z0-9])[A-Za-z]{{2}}{_SEP}[0-9]{{12,}}(?![0-9])"
    # 「AB-1234-5678」: too short, but written as an order number is, so the answer explains the format
    rf"|(?<![A-Za-z0-9])[A-Za-z]{{2}}{_SEP}[0-9]{{3,}}(?:{_SEP}[0-9]{{3,}})+(?![0-9])"
    rf"|(?<![A-Za-z0-9])[A-Za-z]{{2}}[0-9]{{20,}}(?![0-9])"
)


def _order_kind(digits: str) -> str:
    """Which invoice route the 14 digits of a well-formed order number take: "other" when the document names none."""
    if digits.startswith("7"):
        return "seven"
    try:
        written = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return "other"
    return "date" if FIRST_YEAR <= written.year <= LAST_YEAR else "other"


# --- ja-timex adapter -------------------------------------------------------------


@dataclass(frozen=True)
class _Timex:
    """The parts of one ja-timex expression that the composition layer needs."""

    kind: Literal["date", "shift", "weekday"]
    start: int
    end: int
    text: str  # ja-timex's digit-normalised text, e.g. 「24年3月31日」
    year: int | None = None
    month: int | None = None
    day: int | None = None
    era: bool = False
    mod: str | None = None
    sign: int = 0
    years: float = 0.0
    months: float = 0.0
    weeks: float = 0.0
    days: float = 0.0
    half: bool = False
    units: tuple[str, ...] = ()  # which of year/month/week/day ja-timex wrote, even as 0 (今月 = P0M)
    weekday: int = 0


_WEEKDAYS = "月火水木金土日"
_TOKYO = pendulum.timezone("Asia/Tokyo")  # looked up once: the lookup costs more than a parse step
# 「99999年前」 is no date a customer means, and would overflow date arithmetic.
_MAX_SHIFT = 1000
_SHIFT_MODS = {"BEFORE": -1, "AFTER": 1, "NOW": 0}


def _int_or_none(value: object) -> int | None:
    """ja-timex writes unknown parts as XX/XXXX; read the rest as int."""
    # More than four digits is no calendar part, and would overflow date().
    if isinstance(value, str) and value.isdigit() and len(value) <= 4:
        return int(value)
    return None


def _run_timex(text: str, today: date) -> list[_Timex]:
    """Run ja-timex on `text` and keep only date-like expressions, in text order."""
    reference = pendulum.datetime(today.year, today.month, today.day, 12, tz=_TOKYO)
    # A fresh NumberNormalizer per call: ja-timex's default one is a shared
    # module-level instance that keeps per-parse state (not thread-safe).
    parser = GatedTimexParser(number_normalizer=NumberNormalizer(), reference=reference)
    try:
        raw = parser.parse(text)
    except Exception:  # ja-timex is third-party code fed arbitrary user text
        return []
    out: list[_Timex] = []
    for timex in raw:
        span = timex.raw_span or timex.span
        start, end = int(span[0]), int(span[1])
        parsed = timex.parsed or {}
        if timex.type == "DATE":
            if "weekday" in parsed and parsed["weekday"] in _WEEKDAYS:
                out.append(_Timex("weekday", start, end, timex.text, weekday=_WEEKDAYS.index(parsed["weekday"])))
            elif not {"fiscal_year", "ac_century", "bc_century"} & parsed.keys():
                out.append(
                    _Timex(
                        "date",
                        start,
                        end,
                        timex.text,
                        year=_int_or_none(parsed.get("calendar_year")),
                        month=_int_or_none(parsed.get("calendar_month")),
                        day=_int_or_none(parsed.get("calendar_day")),
                        era="wareki_prefix" in parsed,
                        mod=timex.mod,
                    )
                )
        elif timex.type == "DURATION" and timex.mod in _SHIFT_MODS:
            written = tuple(key for key in ("year", "month", "week", "day") if parsed.get(key))
            try:
                units = {key: float(parsed.get(key) or 0) for key in ("year", "month", "week", "day")}
            except ValueError:
                continue
            if max(units.values()) > _MAX_SHIFT:
                continue
            out.append(
                _Timex(
                    "shift",
                    start,
                    end,
                    timex.text,
                    sign=_SHIFT_MODS[timex.mod],
                    years=units["year"],
                    months=units["month"],
                    weeks=units["week"],
                    days=units["day"],
                    half=bool(parsed.get("half_suffix")),
                    units=written,
                )
            )
    out.sort(key=lambda item: item.start)
    return out


# --- dates: composition and sanity checks ------------------------------------------------

# A cheap gate: ja-timex costs ~0.3 ms, and most questions hold no date at all.
_MAYBE_DATE = re.compile(
    r"[0-9]\s*[年月日/.\-週ヶヵかカケ箇]|[〇一二三四五六七八九十]\s*[年月日ヶヵか週]|令和|平成|昭和|大正|元年"
    r"|昨日|一昨日|今日|本日|明日|明後日|昨年|去年|今年|来年|再来年|一昨年|おととい|おとつい|おととし|しあさって|あさって"
    r"|先月|今月|来月|再来月|先々月|先週|今週|来週|再来週|半年|年末"
)
_JOIN = re.compile(r"\s*の?\s*")
# What places a relative span (2か月前, 3日後) after another day than today: 「期限の」「更新してから」「切れる」
# (never ほんの, たった or また, which say how long ago: 「ほんの3日前に」)
_ANCHOR = re.compile(r"(?:(?<!ほん)の|から|より|(?<!ま)(?<!たっ)[るた])\s*$")
_FROM_NOW = re.compile(r"(?:今日|きょう|本日|現在|今)\s*$")  # 「今日の2日前」「今から3日後」 are today's
# A season of a named year (2024年の夏, 去年の秋) as its months; 冬 is left unread, as it spans two years.
_SEASONS = {"春": (3, 5), "夏": (6, 8), "秋": (9, 11)}
_SEASON = "|".join(_SEASONS)
_MONTH_EDGE = re.compile(rf"\s*の?\s*(年末|末|初め|初旬|頭|終わり|おわり|{_SEASON})")  # after a relative month or year
_YEAR_SEASON = re.compile(rf"\s*の?\s*({_SEASON})")
# 「年末に切れます」 with no year: this year's last ten days, or last year's by the tense; not 年末年始 (a holiday
# period) nor 年末調整 (a tax procedure), and not after a year, which ja-timex reads (2024年末, 去年の年末)
_BARE_YEAR_END = re.compile(r"(?<![0-9〇一二三四五六七八九十年の学])年末(?!年始|調整)")  # not 学年末 (March)
_NEAR_YEAR_END = 8  # characters: 「年末、12月28日です」 names the day, and the 年末 only places it
# The part of a month a date names, as the days it can be: 5月中旬 is the 11th to the 20th.
_PARTS = {"上旬": (1, 10), "初旬": (1, 10), "初め": (1, 10), "はじめ": (1, 10), "始め": (1, 10), "頭": (1, 10),
          "中旬": (11, 20), "半ば": (11, 20), "なかば": (11, 20),
          "下旬": (21, 31), "終わり": (21, 31), "おわり": (21, 31)}
_PART_AFTER = re.compile(r"\s*の?\s*(" + "|".join(_PARTS) + ")")  # after 今月, which ja-timex reads alone
_PART_OF_MONTH = re.compile("月" + _PART_AFTER.pattern)  # within or after a month's expression
_WITHIN = re.compile(r"\s*(?:中|いっぱい)(?!旬)")  # 「今月中に」「今月いっぱいで」: some day of the month
_PART_OF_WEEK = re.compile(r"\s*の?\s*(?:初め|はじめ|半ば|なかば|終わり|おわり)")
_ABOUT = re.compile(r"\s*(頃|ごろ|ころ|くらい|ぐらい|前後)")
_RANGE_GAP = re.compile(r"\s*(?:から|〜|~|" + _DASH + r")\s*")
# 「3日以内」「10日分」: ja-timex reads a day of the month, but these are durations.
_NOT_A_DAY = re.compile(
    r"\s*(?:以内|以上|以下|未満|間|程度|ほど|くらい|ぐらい|位|前後|弱|強|経|たっ|過ぎ|すぎ|目|分|近く|余り|あまり|超|おき|ごと|毎|ずつ|[0-9])"
)
_SENTENCE_BREAK = "。?!\n"
_PREPAID = re.compile(r"払|納")  # 前払い, 前納 after 「3年」: a prepaid term
_PAST = re.compile(
    r"(?:ました|でした|だった|かった|った|した|いた|んだ|れた|きた|けた|えた|めた|ぎた|びた|てた|済み|済ん"
    # not 過ぎたら, 過ぎても; nor 「入金した場合」, a supposition, not something done
    r"|過ぎ(?!る|れば|たら|ても|ない|ませ|ず|て(?:い)?(?:ない|ません)))(?![らいりめだしく]|\s*場合)"
)
# 年明け (after New Year) said of a date with no verb after it (「期限は年明けの1月10日です」) is the coming one
_FUTURE = re.compile(
    r"予定|までに|次回|次の|今度|予約|年明け|される|されます|迎え(?!た|まし)|切れる|切れます|切れそう"
    r"|満了する|満了します|になる|になります|来る|くる"
    r"|(?:切れ|過ぎ|失効し|終わっ|終了し|満了し)て(?:い)?(?:ない|ません)"  # まだ切れていません: it is still ahead
)


# Dates outside these years are misreadings (ja-timex's 「24年」 is the year 24).
_FIRST_YEAR, _LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class _DateHit:
    """A resolved date with its span in the normalised text."""

    start: int
    end: int
    value: date  # the first of the month when `month_only`, the first day of `span` when there is one
    note: str | None
    month_only: bool = False
    inferred: Literal["year", "month"] | None = None  # the unit taken from today, not from the text
    notice: str | None = None  # for the customer: the day was clamped to the month's end
    span: tuple[date, date] | None = None  # known only to lie in these days (5月中旬, 先週, 去年), both included
    tense: int = 0  # the tense around a date whose year or month came from today (see Fact.tense)


@dataclass(frozen=True)
class _Impossible:
    """A date whose day its month does not have (2023年2月30日, 13月1日), or not in the year or month it was read
    in (2月29日 in a common year): told to the customer, never decided on.
    """

    start: int
    end: int
    year: int | None  # None when not written
    month: int | None  # None when not written
    day: int
    inferred: Literal["year", "month"] | None = None  # the year (or month) it was read in came from today
    tried: date | None = None  # the first of the month it was read in, when `inferred`
    relative: bool = False  # that month was named from today (来月の31日, 今年の2月29日), not left out

    @property
    def value(self) -> str:
        """As far as it was given, ISO 8601 style: 2023-02-30, --02-30 (no year), ---31 (a day alone)."""
        year = f"{self.year:04d}" if self.year is not None else "-"
        month = f"{self.month:02d}-" if self.month is not None else "-"
        return f"{year}-{month}{self.day:02d}"

    @property
    def notice(self) -> str:
        """What the answer says: the date does not exist, or not in the year (or month) it was read in."""
        if self.tried is not None and _exists_ever(self.month, self.day):
            if self.month is None:
                return f"{self.tried.year}年{self.tried.month}月には{self.day}日がありません。"
            # only 2月29日 gets here: the year it was read in is today's or the tense's, never the customer's
            before = next(y for y in range(self.tried.year, 0, -1) if calendar.isleap(y))
            after = next(y for y in range(self.tried.year + 1, 9999) if calendar.isleap(y))
            return f"{self.month}月{self.day}日は、うるう年（{before}年、{after}年など）にしかありません。"
        written = "".join(f"{n}{unit}" for n, unit in ((self.year, "年"), (self.month, "月")) if n is not None)
        return f"{written}{self.day}日という日付はありません。"


def _exists_ever(month: int | None, day: int) -> bool:
    """Whether some year (and month, when `month` is None) has this day: 2月29日 yes, 2月30日 and 13月1日 no."""
    if month is None:
        return 1 <= day <= 31
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2000, month)[1]  # 2000: a leap year


_ISO_PARTS = re.compile(r"(?:([0-9]{4})|-)-(?:([0-9]{2})-|-)([0-9]{2})")  # _Impossible.value read back


def written_parts(value: object) -> tuple[int | None, int | None, int] | None:
    """An `invalid_date` fact's value read back: year and month as far as they were written, and the day."""
    parts = _ISO_PARTS.fullmatch(str(value))
    if parts is None:
        return None
    year, month, day = parts.groups()
    return int(year) if year else None, int(month) if month else None, int(day)


# ja-timex knows 一昨日 and 明々後日 but not their everyday kana spellings; each is given to it as the kanji word,
# padded with spaces to the kana's length so offsets hold, and the expression then covers the whole kana word.
_KANA_DAYS = {"さきおととい": "一昨々日", "おととい": "一昨日", "おとつい": "一昨日", "しあさって": "明々後日",
              "あさって": "明後日", "おととし": "一昨年"}
_KANA_DAY = re.compile("|".join(sorted(_KANA_DAYS, key=len, reverse=True)))


# A length of time counted back from today that ja-timex misreads: two or more units before 前 (「2年と1日前」
# gave 1日前, 「2年3か月前」 nothing), or the time since something ended (「切れて10日です」 gave the 10th).
_UNIT = r"([0-9]{1,3})\s*(年間?|[かヵヶケカ箇]\s*月間?|週間|日間?)"
_SPAN_UNIT = re.compile(r"(?<![0-9.,/])" + _UNIT)
_SPAN_NEXT = re.compile(r"\s*(?:と|、|,)?\s*" + _UNIT)  # the next unit of the same length: 「2年と1日」
_SPAN_AGO = re.compile(r"\s*(?:ほど|くらい|ぐらい|位)?\s*前")
_SINCE_END = re.compile(r"(?:切れ|過ぎ|失効し|終了し|終わっ)て(?:から)?\s*(?:もう|すでに|既に)?\s*$")
_SPAN_SINCE = re.compile(r"\s*(?:ほど|くらい|ぐらい|位)?\s*(?:が)?\s*(?:です|経|たち|たっ|経過|になり|になる|過ぎ)")


def _spans_back(text: str, today: date) -> list[_DateHit]:
    """The days that lengths of time counted back from today name: 「2年と1日前」「切れてから2年と1日です」."""
    hits = []
    pos = 0
    while (first := _SPAN_UNIT.search(text, pos)) is not None:
        units: dict[str, int] = {}
        end = first.start()
        match: re.Match[str] | None = first
        while match is not None and match.group(2)[0] not in units:
            units[match.group(2)[0]] = int(match.group(1))
            end = match.end()
            match = _SPAN_NEXT.match(text, end)
        pos = end
        ago = _SPAN_AGO.match(text, end)
        since = _SINCE_END.search(text, max(0, first.start() - 12), first.start()) and _SPAN_SINCE.match(text, end)
        if not ((ago and len(units) > 1) or since):
            continue
        months = units.get("年", 0) * 12 + sum(n for unit, n in units.items() if unit in "かヵヶケカ箇")
        back = relativedelta(months=months, weeks=units.get("週", 0), days=units.get("日", 0))
        try:
            value = today - back
        except (ValueError, OverflowError):
            continue
        span = text[first.start():ago.end() if ago else end]
        notice = None
        if months and value.day != today.day and not (units.get("週") or units.get("日")):
            # 「切れて1か月です」 on 3月31日: no 31st in February, so its last day, said as 「1か月前」 says it
            years = units.get("年", 0)
            notice = shifted_to_month_end_note(today, [span_ja(years, months - 12 * years) + "前"], [value])
        hits.append(_DateHit(first.start(), ago.end() if ago else end, value,
                             f"approximate ({span})" if months or "週" in units else None, notice=notice))
    return hits


def _kana_days(text: str) -> tuple[str, dict[int, int]]:
    """`text` with the kana day words in kanji, and the span of each one replaced (start → end)."""
    spans: dict[int, int] = {}

    def swap(match: re.Match[str]) -> str:
        spans[match.start()] = match.end()
        return _KANA_DAYS[match.group()].ljust(len(match.group()))

    return _KANA_DAY.sub(swap, text), spans


def _find_dates(text: str, today: date) -> tuple[list[_DateHit | _Impossible], list[tuple[int, int]]]:
    """Resolve ja-timex expressions to dates, composing the pairs ja-timex splits; also the dates that do not exist.
    Apart, the spans of relative expressions placed after a day the text does not give (期限の2か月前).
    """
    hits = _spans_back(text, today)
    for back in hits:  # ja-timex reads only 1日前 of 「2年と1日前」, and 「10日」 of 「切れて10日です」 as a day
        text = _blank(text, back.start, back.end)
    swapped, spans = _kana_days(text)
    items = _run_timex(swapped, today)
    if spans:
        items = [replace(item, end=max(item.end, spans.get(item.start, 0))) for item in items]
    impossible: list[_Impossible] = []
    offsets: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        item = items[i]
        if item.kind == "shift" and _PREPAID.match(text, item.end) and item.text.endswith("前"):
            pass  # 「3年前払い」: three years paid ahead, not three years ago
        elif item.kind == "shift":
            nxt = items[i + 1] if i + 1 < len(items) else None
            if nxt is not None and _JOIN.fullmatch(text, item.end, nxt.start):
                consumed, hit = _compose(item, nxt, today)
                if consumed:
                    if isinstance(hit, _Impossible):
                        impossible.append(hit)
                    elif hit is not None:
                        hits.append(hit)
                    i += 2
                    continue
            edge = _MONTH_EDGE.match(text, item.end)
            hit = _edge_of_period(item, edge, today) if edge else None
            within = _WITHIN.match(text, item.end)
            if hit is None and _only(item, "month") and (within or _PART_AFTER.match(text, item.end)):
                base = _base(item, today)  # 「今月中旬」「今月中」: ja-timex reads 今月 alone, which names no day
                end = within.end() if within else item.end
                hit = _DateHit(item.start, end, base.replace(day=1), "day not given", True) if base else None
            if hit is None:
                anchor = _ANCHOR.search(text, max(0, item.start - 8), item.start)
                if anchor is None or _FROM_NOW.search(text, max(0, anchor.start() - 3), anchor.start()):
                    hit = _shift_today(item, today)
                elif hits and _JOIN.fullmatch(text, hits[-1].end, anchor.start()) and not hits[-1].month_only:
                    # 「2025年3月31日の2か月前」: two months before that day
                    hit = _shift_today(item, hits[-1].value)
                else:  # 「期限の2か月前」「更新してから3日後」「切れる1週間前」: from a day not given, never today
                    offsets.append((item.start, item.end))
            if hit is not None:
                hits.append(hit)
        elif item.kind == "date":
            read = _absolute(item, text, today, hits[-1] if hits else None)
            if isinstance(read, _Impossible):
                impossible.append(read)
            elif read is not None:
                hits.append(read)
        i += 1
    taken = [(hit.start, hit.end) for hit in hits] + [(bad.start, bad.end) for bad in impossible]
    for match in _BARE_YEAR_END.finditer(text):
        if not any(start < match.end() + _NEAR_YEAR_END and match.start() - _NEAR_YEAR_END < end
                   for start, end in taken):
            hits.append(_bare_year_end(match, text, today))
    hits.sort(key=lambda hit: hit.start)
    hits = [_part_of_month(hit, text, today) if hit.month_only else hit for hit in hits]
    # 「5月15日頃」「3月の終わり頃」: the hedge belongs to the date, not to the words of the question; so does the
    # part of a week (先週の半ば), which the week's seven days already hold
    hits = [replace(hit, end=part.end()) if hit.span and (part := _PART_OF_WEEK.match(text, hit.end)) else hit
            for hit in hits]
    hits = [replace(hit, end=about.end()) if (about := _ABOUT.match(text, hit.end)) else hit for hit in hits]
    return [hit for hit in hits if _FIRST_YEAR <= hit.value.year <= _LAST_YEAR] + impossible, offsets


def _part_of_month(hit: _DateHit, text: str, today: date) -> _DateHit:
    """A month named with its part (5月中旬, 先月の初め, 4月下旬) as the days that part can be.

    A year taken from today is checked again against the tense with the part known: on 5月15日,
    「5月上旬に切れます」 is next year's, though 「5月に切れます」 is this year's.
    """
    match = _PART_OF_MONTH.search(text, hit.start, min(len(text), hit.end + 6))
    if match is None or match.start() >= hit.end or not _JOIN.fullmatch(text, hit.end, max(hit.end, match.start(1))):
        return hit
    first, last = _PARTS[match.group(1)]
    month = hit.value
    notes = [n for n in (hit.note or "").split("; ") if n and n != "day not given"]
    tense = hit.tense
    if hit.inferred == "year":
        tense = _tense(text, hit.start, match.end())
        step = 0
        if tense < 0 and month.replace(day=first) > today:
            step = -1
        elif tense > 0 and month + relativedelta(day=last) < today:
            step = 1
        if step:
            month += relativedelta(years=step)
            moved = f"year inferred from today, moved to the {'previous' if step < 0 else 'next'} year"
            notes = [moved, *(n for n in notes if not n.startswith("year inferred"))]
    low, high = month.replace(day=first), month + relativedelta(day=last)
    note = "; ".join([*notes, f"part of the month ({match.group(1)})"])
    return replace(hit, end=max(hit.end, match.end()), value=low, note=note, month_only=False, span=(low, high),
                   tense=tense)


# 「2023年13月1日」「13月1日」「2023-13-01」: ja-timex reads no date in them, or only the year and the day
_WRITTEN_DATE = re.compile(
    r"(?<![0-9])(?:([0-9]{4})\s*年\s*)?([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日"
    r"|(?<![0-9])([0-9]{4})\s*([/.\-])\s*([0-9]{1,2})\s*\5\s*([0-9]{1,2})(?![0-9])"
)


def _out_of_range(text: str, read: list[_DateHit | _Impossible]) -> list[_DateHit | _Impossible]:
    """`read` with the dates written with a month or day no calendar has, in text order.

    ja-timex reads no date in 「2023年13月1日」 or 「2023-13-01」, and only the month in 「2023年2月32日」: such a month
    gives way to the date that does not exist.
    """
    for match in _WRITTEN_DATE.finditer(text):
        over = [item for item in read if match.start() < item.end and item.start < match.end()]
        if not all(isinstance(item, _DateHit) and item.month_only for item in over):
            continue
        year_text, month_text, day_text = match.group(1, 2, 3) if match.group(2) else match.group(4, 6, 7)
        year, month, day = int(year_text) if year_text else None, int(month_text), int(day_text)
        if year is not None and not _FIRST_YEAR <= year <= _LAST_YEAR:
            continue  # a code or a count, not a year someone means
        try:
            date(year or 2000, month, day)  # 2000: any day some year has is a date, whoever reads it
        except ValueError:
            read = [item for item in read if item not in over]
            read.append(_Impossible(match.start(), match.end(), year, month, day))
    return sorted(read, key=lambda item: item.start)


def _whole(value: float) -> int | None:
    """`value` as an int when it has no fraction."""
    return int(value) if value == int(value) else None


def _base(shift: _Timex, today: date) -> date | None:
    """`today` moved by a whole-unit relative expression such as 去年 or 来月."""
    parts = [_whole(v) for v in (shift.years, shift.months, shift.weeks, shift.days)]
    if any(part is None for part in parts) or shift.half:
        return None
    years, months, weeks, days = (part or 0 for part in parts)
    sign = shift.sign
    try:
        return today + relativedelta(years=sign * years, months=sign * months, weeks=sign * weeks, days=sign * days)
    except (ValueError, OverflowError):
        return None  # before year 1 or after 9999


def _only(shift: _Timex, unit: str) -> bool:
    """Whether `shift` counts in `unit` alone: year, month, week or day."""
    return shift.units == (unit,)


def _compose(shift: _Timex, part: _Timex, today: date) -> tuple[bool, _DateHit | _Impossible | None]:
    """Join 「去年の4月」「来月の10日」「先週の金曜日」; (consumed, hit). A day the month it names does not have
    (「先月の31日」 in March, 「今年の2月29日」 in a common year) is a date that does not exist, told as one."""
    base = _base(shift, today)
    if base is None:
        return False, None
    note: str | None = None
    notice: str | None = None
    month_only = False
    try:
        if part.kind == "shift" and part.sign == 0 and _only(part, "day"):
            # 「2年前の今日」「先月の今日」: the same day that many years or months ago, one date
            value = base
            if value.day != today.day:
                note = f"no day {today.day} in that month: its last day"
                span = span_ja(int(shift.years), int(shift.months)) + ("前" if shift.sign < 0 else "後")
                notice = shifted_to_month_end_note(today, [span], [value])
        elif part.kind == "weekday" and _only(shift, "week"):
            # Weeks start on Monday in Japanese business usage.
            value = base - timedelta(days=base.weekday()) + timedelta(days=part.weekday)
        elif part.kind == "date" and part.year is None and part.month is not None and _only(shift, "year"):
            value, note = _fill_day(base.year, part.month, part.day, part.mod)
            month_only = _month_only(part.day, part.mod)
        elif (
            part.kind == "date"
            and part.year is None
            and part.month is None
            and part.day is not None
            and _only(shift, "month")
        ):
            value, note = _fill_day(base.year, base.month, part.day, part.mod)
        else:
            return False, None
    except ValueError:
        # the month (or the year) came from today: _Impossible's notice names the month, or the leap years
        if _only(shift, "year"):
            return True, _Impossible(shift.start, part.end, None, part.month, part.day or 0, "year",
                                     base.replace(month=part.month or 1, day=1), relative=True)
        return True, _Impossible(shift.start, part.end, None, None, part.day or 0, "month", base.replace(day=1),
                                 relative=True)
    return True, _DateHit(shift.start, part.end, value, note, month_only, notice=notice)


def _edge_of_period(shift: _Timex, edge: re.Match[str], today: date) -> _DateHit | None:
    """「先月末」「今月末」「来年初め」「去年の秋」: ja-timex drops the 末, 初め or season after a relative month or
    year (a season only after a year).
    """
    base = _base(shift, today)
    if base is None:
        return None
    word = edge.group(1)
    if word in _SEASONS and not _only(shift, "year"):
        return None
    if _only(shift, "month") and word != "年末":
        if word == "末":  # 月末 is the month's last day, as in 月末締め
            return _DateHit(shift.start, edge.end(), base + relativedelta(day=31), None)
        return _DateHit(shift.start, shift.end, base.replace(day=1), "day not given", True)  # then _part_of_month
    if _only(shift, "year"):
        return _part_of_year(shift.start, edge.end(), base.year, word)
    return None


def _part_of_year(start: int, end: int, year: int, word: str) -> _DateHit:
    """「去年の年末」「昨年末」「去年の終わり」「来年初め」: a year's last ten days, or its first ten;
    「去年の秋」「2024年の夏」: the season's three months.
    """
    if word in _SEASONS:
        first, last = _SEASONS[word]
        days = (date(year, first, 1), date(year, last, 1) + relativedelta(day=31))
        return _DateHit(start, end, days[0], f"season of the year ({word}): {first}月〜{last}月", span=days)
    if word in ("末", "年末", "終わり", "おわり"):
        days = (date(year, 12, 21), date(year, 12, 31))
        return _DateHit(start, end, days[0], f"part of the year ({word}): 12月下旬", span=days)
    days = (date(year, 1, 1), date(year, 1, 10))
    return _DateHit(start, end, days[0], f"part of the year ({word}): 1月上旬", span=days)


def _bare_year_end(match: re.Match[str], text: str, today: date) -> _DateHit:
    """「年末に切れます」: this year's last ten days; last year's when the question says they have passed."""
    year, note = today.year, "year inferred from today"
    tense = _tense(text, match.start(), match.end())
    if tense < 0 and date(year, 12, 21) > today:
        year, note = year - 1, "year inferred from today, moved to the previous year (past context)"
    hit = _part_of_year(match.start(), match.end(), year, "年末")
    return replace(hit, note=f"{note}; {hit.note}", inferred="year", tense=tense)


def _shift_today(shift: _Timex, today: date) -> _DateHit | None:
    """A standalone relative date: 昨日, 3日後, 先月 (approximate), 2年前."""
    if shift.sign == 0:
        # 今日/本日 name a day; 今月/今年/今週 alone do not.
        return _DateHit(shift.start, shift.end, today, None) if _only(shift, "day") else None
    if not (shift.years or shift.months or shift.weeks or shift.days):
        return None  # hours or minutes only: not a calendar date
    total_months = shift.years * 12 + shift.months + (6 if shift.half and shift.years else 0)
    days = shift.weeks * 7 + shift.days + (15 if shift.half and shift.months and not shift.years else 0)
    whole_months = int(total_months)
    days += (total_months - whole_months) * 30
    delta = relativedelta(months=shift.sign * whole_months, days=shift.sign * round(days))
    try:
        value = today + delta
    except (ValueError, OverflowError):
        return None
    if _CALENDAR_MONTH.fullmatch(shift.text):
        # 先月 names a calendar month, not 「1か月前」's day about a month ago
        return _DateHit(shift.start, shift.end, value.replace(day=1), f"day not given ({shift.text})", True)
    if _CALENDAR_WEEK.fullmatch(shift.text):
        # 先週 names a week, Monday to Sunday in Japanese business usage, not the day 7 days ago
        monday = value - timedelta(days=value.weekday())
        week = (monday, monday + timedelta(days=6))
        return _DateHit(shift.start, shift.end, monday, f"day not given ({shift.text})", span=week)
    if _CALENDAR_YEAR.fullmatch(shift.text):
        # 去年 names a calendar year, not the day a year ago
        year = (date(value.year, 1, 1), date(value.year, 12, 31))
        return _DateHit(shift.start, shift.end, year[0], f"day not given ({shift.text})", span=year)
    exact = total_months == 0 and shift.weeks == 0
    notice = None
    if whole_months and not days and value.day != today.day and total_months == whole_months:
        # 「1年前」 on 2024年2月29日: no 29th that February, so its last day, said as 「2年前の今日」 says it
        span = span_ja(int(shift.years), int(shift.months)) + ("前" if shift.sign < 0 else "後")
        notice = shifted_to_month_end_note(today, [span], [value])
    return _DateHit(shift.start, shift.end, value, None if exact else f"approximate ({shift.text})", notice=notice)


_CALENDAR_MONTH = re.compile(r"先々?月|再?来月|前月|翌月")
_CALENDAR_WEEK = re.compile(r"先々?週|再?来週|前週|翌週")
_CALENDAR_YEAR = re.compile(r"去年|昨年|一昨年|おととし|再?来年|前年|翌年")


def _month_only(day: int | None, mod: str | None) -> bool:
    """Whether a date with these parts names a month (2023年5月, 5月頃, 5月中旬), not a day (5月末).

    A part of the month (中旬, 初め) is made a span of days by `_part_of_month`.
    """
    return day is None and mod != "END"


def _fill_day(year: int, month: int, day: int | None, mod: str | None) -> tuple[date, str | None]:
    """A date from its parts; a missing day becomes the 1st (or the month end for 末); see `_month_only`."""
    if day is not None:
        return date(year, month, day), ("approximate (頃)" if mod == "APPROX" else None)
    if mod == "END":
        return date(year, month, 1) + relativedelta(day=31), None
    return date(year, month, 1), "day not given"


def _tense(text: str, start: int, end: int) -> int:
    """-1 for past-tense context around a date, +1 for future, 0 when unclear."""
    s_start = max(text.rfind(ch, 0, start) for ch in _SENTENCE_BREAK) + 1
    ends = [i for i in (text.find(ch, end) for ch in _SENTENCE_BREAK) if i >= 0]
    s_end = min(ends) if ends else len(text)
    # The verb after the date decides; the words before it only if none follows.
    for pattern_text, pick_last in ((text[end:s_end], False), (text[s_start:start], True)):
        best: tuple[int, int] | None = None
        for pattern, sign in ((_PAST, -1), (_FUTURE, 1)):
            matches = list(pattern.finditer(pattern_text))
            if not matches:
                continue
            match = matches[-1] if pick_last else matches[0]
            key = -match.start() if pick_last else match.start()
            if best is None or key < best[0]:
                best = (key, sign)
        if best is not None:
            return best[1]
    return 0


def _absolute(item: _Timex, text: str, today: date, previous: _DateHit | None) -> _DateHit | _Impossible | None:
    """A calendar date from ja-timex, with the sanity checks it lacks."""
    notes: list[str] = []
    year, month, day = item.year, item.month, item.day
    if year is not None and not item.era and year < 100:
        digits = re.match(r"[0-9]+", item.text)
        if digits is None or len(digits.group()) != 2:
            return None
        # ja-timex reads 「24年」 as the year 0024.
        year = 2000 + year if 2000 + year <= today.year + 20 else 1900 + year
        notes.append(f"two-digit year read as {year}")
    if year is not None and not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    if month is None and day is None:
        if year is not None and item.mod == "END":
            return _part_of_year(item.start, item.end, year, "年末")  # 「2024年末」
        if year is not None and (edge := _YEAR_END.match(text, item.end)):
            return _part_of_year(item.start, edge.end(), year, "年末")  # 「2024年の年末」
        if year is not None and item.text[-1:] in _SEASONS:  # 「2024年夏」, which ja-timex reads as a year
            return _part_of_year(item.start, item.end, year, item.text[-1])
        if year is not None and (season := _YEAR_SEASON.match(text, item.end)):
            return _part_of_year(item.start, season.end(), year, season.group(1))  # 「2024年の夏」
        return None  # a bare year is not a date
    ranged = previous is not None and bool(_RANGE_GAP.fullmatch(text, previous.end, item.start))
    if month is None:
        if year is None and day is not None and (left := _DAYS_LEFT.search(text, 0, item.start)):
            # 「有効期限まであと30日」 counts days from today; it is not the 30th of a month
            return _DateHit(left.start(), item.end, today + timedelta(days=day), f"{day} days from today")
        if _NOT_A_DAY.match(text, item.end) or _not_a_day_before(text, item.start):
            return None
        if year is None:
            return _inferred(item, text, today, previous if ranged else None, month_too=True)
        return None
    if year is None:
        return _inferred(item, text, today, previous if ranged else None, month_too=False)
    try:
        value, note = _fill_day(year, month, day, item.mod)
    except ValueError:  # 2月30日 and the like: the answer says so
        return _Impossible(item.start, item.end, year, month, day) if day is not None else None
    if note:
        notes.append(note)
    return _DateHit(item.start, item.end, value, "; ".join(notes) or None, _month_only(day, item.mod))


_DAYS_LEFT = re.compile(r"(?:あと|残り|のこり)\s*$")
_YEAR_END = re.compile(r"[\s、,]*(?:の\s*)?(?:年\s*)?末")  # 2024年末, 2024年の年末, 2024年 年末, 2024年、年末


def _not_a_day_before(text: str, start: int) -> bool:
    """「第1日曜」「一日中」「13月5日」: a day number that is not a day of the month."""
    before = text[max(0, start - 3) : start]
    if before.endswith("第") or re.search(r"[0-9]\s*月\s*$", before):
        return True
    return text.startswith("一日", start) and not before.endswith("月")


def _inferred(
    item: _Timex, text: str, today: date, previous: _DateHit | None, *, month_too: bool
) -> _DateHit | _Impossible | None:
    """Fill the missing year (and month) from a preceding range start or from today and the tense."""
    unit: Literal["year", "month"] = "month" if month_too else "year"
    month = item.month or today.month
    if previous is not None:
        anchor = previous.value
        month = anchor.month if month_too else month
        try:
            value, note = _fill_day(anchor.year, month, item.day, item.mod)
        except ValueError:
            return _missing_day(item, anchor.year, month, unit)
        if value < anchor:
            value = value + relativedelta(months=1) if month_too else value + relativedelta(years=1)
        return _DateHit(item.start, item.end, value, note, _month_only(item.day, item.mod))
    try:
        value, note = _fill_day(today.year, month, item.day, item.mod)
        missing = False
    except ValueError:
        if not 1 <= month <= 12:
            return None
        # 2月29日 in 2025, 31日 in April: the tense may still move it to a year or month that has the day
        value, note, missing = date(today.year, month, 1) + relativedelta(day=item.day or 1), None, True
    step = relativedelta(months=1) if month_too else relativedelta(years=1)
    notes = [f"{unit} inferred from today"]
    tense = _tense(text, item.start, item.end)
    moved: date | None = None
    last = value + relativedelta(day=31) if _month_only(item.day, item.mod) else value
    if tense < 0 and value > today:
        moved, why = value - step, "past context"
    elif tense > 0 and last < today:
        moved, why = value + step, "future context"  # a month goes to the next year only once all of it has passed
    elif not tense and unit == "year" and (near := _nearer_year(value, last, today)):
        moved, why = value + relativedelta(years=near), "no tense, and nearer to today"
    if moved is not None:
        direction = "previous" if moved < value else "next"
        try:
            # Re-build from parts so 2/29 or the 31st is re-checked in the new year or month.
            value, _ = _fill_day(moved.year, moved.month, item.day, item.mod)
        except ValueError:
            return _missing_day(item, moved.year, moved.month, unit)
        notes[0] = f"{unit} inferred from today, moved to the {direction} {unit} ({why})"
    elif missing:
        return _missing_day(item, today.year, month, unit)
    if note:
        notes.append(note)
    return _DateHit(item.start, item.end, value, "; ".join(notes), _month_only(item.day, item.mod), unit,
                    tense=tense)


_FAR, _NEAR = relativedelta(months=6), relativedelta(months=3)


def _nearer_year(first: date, last: date, today: date) -> int:
    """-1 or +1 when a date named without a year and without a tense is far from today this year but near it in
    the year before or after: 「12月1日」 said on 1月15日 is six weeks ago, 「1月10日」 on 12月20日 three weeks ahead.
    0 otherwise: 「12月1日」 said in May stays this year's, as it always was."""
    if today - _FAR <= last and first <= today + _FAR:
        return 0
    for step in (-1, 1):
        shift = relativedelta(years=step)
        if today - _NEAR <= last + shift and first + shift <= today + _NEAR:
            return step
    return 0


def _missing_day(item: _Timex, year: int, month: int, unit: Literal["year", "month"]) -> _Impossible | None:
    """A day the year or month it was read in does not have (2月29日 in 2025, 31日 in April)."""
    if item.day is None or not 1 <= month <= 12:
        return None
    return _Impossible(item.start, item.end, None, None if unit == "month" else month, item.day, unit,
                       date(year, month, 1))


def _later_orders(found: list[Fact], later_orders: Iterable[tuple[str, str]]) -> list[Fact]:
    """`found` with every date but the earliest of a first-order role given the later orders' role, when the
    text names no such order of its own."""
    for role, later in later_orders:
        orders = [f for f in found if f.name == role]
        if len(orders) < 2 or any(f.name == later for f in found):
            continue
        first = min(orders, key=lambda f: str(f.value)[:10])
        found = [replace(f, name=later) if f.name == role and f is not first else f for f in found]
    return found


def _next_occurrence(hit: _DateHit, today: date) -> _DateHit:
    """A recurring date whose year (or month) came from today, moved on to its next occurrence on or after today."""
    step = relativedelta(years=1) if hit.inferred == "year" else relativedelta(months=1)
    # counted from the original each time, so a 31st stays the 31st where the month has one
    last = hit.span[1] if hit.span else hit.value + relativedelta(day=31) if hit.month_only else hit.value
    for times in range(3):
        if last + step * times >= today:
            break
    if times == 0:
        return hit
    value = hit.value + step * times
    note = f"{hit.inferred} inferred from today, moved to its next occurrence (a recurring date)"
    if hit.span:
        return replace(hit, value=value, note=note, span=(value, hit.span[1] + step * times))
    notice = None if hit.month_only or value.day == hit.value.day else _clamped(value, hit.value.day)
    return replace(hit, value=value, note=note, notice=notice)


def _cut_by_tense(hit: _DateHit, text: str, today: date) -> _DateHit:
    """A rough date that holds today, cut by the tense to the days it can be: on 5月15日, 「今月中旬に切れました」
    is 5月11日〜15日, 「今月中に切れます」 5月15日〜31日. A date that comes round again (課金日) is not cut: its tense
    speaks of the last time, and the rules want the next.
    """
    if hit.span is not None:
        low, high = hit.span
    elif hit.month_only:
        low, high = hit.value, hit.value + relativedelta(day=31)
    else:
        return hit
    if not low <= today <= high:
        return hit
    tense = _tense(text, hit.start, hit.end)
    if tense < 0 and today < high:
        high, why = today, "up to today (past tense)"
    elif tense > 0 and low < today:
        low, why = today, "from today on (future tense)"
    else:
        return hit
    notes = [n for n in (hit.note or "").split("; ") if n and (low != high or not n.startswith("day not given"))]
    note = "; ".join([*notes, f"only the days {why}"])
    # the customer is told why the days they named end (or start) today
    said, day = text[hit.start : hit.end].strip(), format_date_ja(today)
    why_ja = "過去のことですので" if tense < 0 else "これからのことですので"
    if low == high:
        notice = f"{why_ja}、「{said}」は今日（{day}）としてお答えしています。"
    else:
        notice = f"{why_ja}、「{said}」は今日（{day}）{'まで' if tense < 0 else '以降'}の日としてお答えしています。"
    return replace(hit, value=low, note=note, month_only=False, span=None if low == high else (low, high),
                   notice=" ".join(n for n in (hit.notice, notice) if n))


def _recur(bad: _Impossible, today: date) -> _DateHit | None:
    """A recurring date read in a year (or month) without its day: its next occurrence on or after today, on the
    month's last day where the day is missing (2月29日 → 2026年2月28日), or None for a day no year has (2月30日).
    """
    if bad.inferred is None or not _exists_ever(bad.month, bad.day):
        return None
    first = date(today.year, bad.month or today.month, 1)
    step = relativedelta(years=1) if bad.inferred == "year" else relativedelta(months=1)
    value = first + relativedelta(day=bad.day)  # relativedelta's day= stops at the month's last day
    if bad.relative and bad.tried is not None and bad.tried + relativedelta(day=bad.day) >= today:
        value = bad.tried + relativedelta(day=bad.day)  # 「来月31日」 in May: June's last day, not May 31
    elif value < today:
        value = first + step + relativedelta(day=bad.day)
    note = f"{bad.inferred} inferred from today, moved to its next occurrence (a recurring date)"
    return _DateHit(bad.start, bad.end, value, note, inferred=bad.inferred,
                    notice=_clamped(value, bad.day) if value.day != bad.day else None)


def _clamped(value: date, day: int) -> str:
    """The notice for a recurring date on a day its month does not have, worded as the rules' clamping notes."""
    return month_end_note(day, value, with_year=True)


# --- roles ----------------------------------------------------------------------------

_CLAUSE_BREAK = "。、,?!;\n"
# A cue followed by は/が names the date after it: 「…で、追加日は2018年10月1日」.
_TOPIC = re.compile(r"\s*(?:日付|日時|期日|日)?\s*(?:は|が|:|=|として|も)")
_AFTER_BONUS = 2  # a cue right after the date (「…に初回注文」) beats one a little closer before it
# 「期限前に」「期限内に」「期限までに」 place something relative to the date; they name it only with the date
# in their own clause (「6月30日の期限前に」), never from the next one: 「去年パソコンに入れた、期限前に更新できる？」
_RELATIVE = re.compile(r"\s*(?:前|内|まで)")
# 「…注文した場合、いつ期限切れになりますか」: a cue asked about names the date wanted, not one of those given
_ASKED = re.compile(r"(?:いつ|何日)\s*(?:に|が|の|頃|ごろ)?\s*$")


_SCRIPT_BOUNDARY = re.compile(r"(?<=[A-Za-z0-9])(?=[^A-Za-z0-9])|(?<=[^A-Za-z0-9])(?=[A-Za-z0-9])")


@dataclass(frozen=True)
class _CueMatcher:
    """One compiled pattern for every cue word, and the role each cue names."""

    pattern: re.Pattern[str] | None
    role_of: Mapping[str, str]

    def roles(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Each cue in `text` with its span and the role it names (spaces inside a cue are looked up without)."""
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text):
            if role := self.role_of.get(_SPACES.sub("", match.group().casefold())):
                yield match.start(), match.end(), role


@lru_cache(maxsize=16)
def _cue_matcher(roles: tuple[tuple[str, tuple[str, ...]], ...]) -> _CueMatcher:
    """Compile the cue words, longest first so 有効期限 wins over 期限."""
    role_of: dict[str, str] = {}
    written: dict[str, str] = {}
    for role, cues in roles:
        for cue in cues:
            folded = unicodedata.normalize("NFKC", cue).casefold().strip()
            key = _SPACES.sub("", folded)
            if key:
                role_of.setdefault(key, role)
                written.setdefault(key, folded)
    if not role_of:
        return _CueMatcher(None, role_of)
    # People type 「Sign の注文」 as often as 「Signの注文」: spaces may sit where the
    # cue has one or where Latin meets kana/kanji; matches are looked up without them.
    alternatives = []
    for key in sorted(role_of, key=len, reverse=True):
        parts = [p for chunk in _SPACES.split(written[key]) for p in _SCRIPT_BOUNDARY.split(chunk)]
        alternatives.append(r"\s*".join(re.escape(part) for part in parts if part))
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    return _CueMatcher(pattern, role_of)


def _assign_roles(text: str, spans: Sequence[tuple[int, int]], matcher: _CueMatcher) -> list[str | None]:
    """The role of each date span: the nearest cue in its clause, preferring one right after it."""
    roles: list[str | None] = [None] * len(spans)
    if not spans or matcher.pattern is None:
        return roles
    cues = [(start, end, role) for start, end, role in matcher.roles(text)
            if not any(start < e and s < end for s, e in spans)]
    breaks = [i for i, ch in enumerate(text) if ch in _CLAUSE_BREAK]

    def clause(pos: int) -> int:
        return bisect.bisect_right(breaks, pos)

    in_clause: dict[int, list[int]] = {}
    for index, (start, _) in enumerate(spans):
        in_clause.setdefault(clause(start), []).append(index)

    # (score, role) candidates per date; lower score wins.
    candidates: list[list[tuple[int, str]]] = [[] for _ in spans]
    orphans: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, role in cues:
        dates = in_clause.get(clause(start))
        if not dates:
            if not _RELATIVE.match(text, end) and not _ASKED.search(text, max(0, start - 4), start):
                orphans.setdefault(clause(start), []).append((start, end, role))
            continue
        before = [d for d in dates if spans[d][1] <= start]
        after = [d for d in dates if spans[d][0] >= end]
        if before and (not after or not _TOPIC.match(text, end)):
            target = before[-1]
            candidates[target].append((start - spans[target][1] - _AFTER_BONUS, role))
        elif after:
            target = after[0]
            candidates[target].append((spans[target][0] - end, role))
    for index, options in enumerate(candidates):
        if options:
            roles[index] = min(options, key=lambda option: option[0])[1]
            continue
        # 「有効期限は、2023年6月30日です」: look one comma-clause away when that clause has no date.
        start, end = spans[index]
        here = clause(start)
        nearby: list[tuple[int, str]] = []
        if here > 0 and text[breaks[here - 1]] in "、," and (here - 1) not in in_clause:
            nearby += [(start - c_end, role) for _, c_end, role in orphans.get(here - 1, [])]
        if here < len(breaks) and text[breaks[here]] in "、," and (here + 1) not in in_clause:
            nearby += [(c_start - end, role) for c_start, _, role in orphans.get(here + 1, [])]
        if nearby:
            roles[index] = min(nearby, key=lambda option: option[0])[1]
    return roles


# --- renewal years and quantities -------------------------------------------------------

_KANJI_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")}
_NUM = r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})"
# A number of years standing alone: not the end of a longer number, a code (Win10年) or an era's year (令和3年).
_ALONE = r"(?<![0-9.,/〇一二三四五六七八九十])(?<![A-Za-z])(?<!令和)(?<!平成)(?<!昭和)(?<!大正)"
# 「3年更新」「2年分」「1年版」「3年で更新」; never 「2年以内」「2年前」 or a date's 「2024年」.
_YEARS_AFTER = re.compile(
    _ALONE
    + _NUM
    + r"\s*年(?:間)?(?=\s*(?:更新|分|版|契約|ライセンス|プラン|パック|延長|コース|用|継続|ごと|毎"
    r"|で(?:更新|契約|延長|申し込|購入)|の(?:更新|契約|延長|ライセンス|プラン|パック)))"
)
# 「更新は3年」「延長期間を2年に」
_YEARS_BEFORE = re.compile(
    r"(?:更新|延長|契約)(?:期間|年数)?\s*(?:は|を|が|:)?\s*"
    + _NUM
    + r"\s*年(?:間)?(?![0-9]|\s*(?:以内|以上|以下|前|後|度|月|目|半|ぶり))"
)
# A whole message that is only a number of years answers the bot's 「何年更新しますか」: 「2年で」「3年でお願いします」.
_YEARS_REPLY = re.compile(
    r"\s*"
    + _NUM
    + r"\s*年(?:間)?(?=(?:分)?\s*(?:で|に|です)?\s*(?:お願い(?:します)?|します|してください)?\s*[。.!?]*\s*\Z)"
)
_QUANTITY = re.compile(
    r"(?<![0-9.,])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\s*(万|千))?\s*"
    r"(?:件|トランザクション|クレジット|ライセンス|シート|ユーザー|ユーザ|台|個)"
)


def _kanji_number(text: str) -> int | None:
    """1..99 written as digits or simple kanji numerals (三, 十, 二十)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return _KANJI_DIGITS.get(tens, 1 if not tens else 0) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    if len(text) == 1:
        return _KANJI_DIGITS.get(text)
    return None


def _numbers(text: str) -> Iterable[tuple[int, int, str, int]]:
    """Renewal years and quantities as (start, end, name, value) in normalised offsets."""
    seen: list[tuple[int, int]] = []
    reply = _YEARS_REPLY.match(text)
    for match in [reply] if reply else [*_YEARS_AFTER.finditer(text), *_YEARS_BEFORE.finditer(text)]:
        value = _kanji_number(match.group(1))
        start, end = match.start(1), match.end()
        if value is not None and 1 <= value <= 10 and not any(start < e and s < end for s, e in seen):
            seen.append((start, end))
            yield start, end, "years", value
    for match in _QUANTITY.finditer(text):
        value = int(match.group(1).replace(",", ""))
        value *= {"万": 10000, "千": 1000}.get(match.group(2) or "", 1)
        if value > 0:
            yield match.start(), match.end(), "quantity", value


# A number of years anywhere in a reply to a question that asked for it: 「2025年8月31日と3年」「3年、2025年8月31日」.
# Never a date's year (2025年, 令和3年), nor a span placed in time or measured (2年前, 2年以内, 3年ぶり, 1年半).
_YEARS_BARE = re.compile(
    _ALONE
    + _NUM
    + r"\s*年(?:間)?(?![0-9〇一二三四五六七八九十]|\s*(?:以内|以上|以下|未満|前|後|度|月|目|半|ぶり|振り|経|たっ"
    r"|過ぎ|すぎ|ほど|程度|くらい|ぐらい|位|近く|余り|あまり|超|弱|強))"
)


def reply_years(text: str, facts: Sequence[Fact]) -> Fact | None:
    """The renewal years in a reply to a question asking for them, written with no word around them; None if none.

    Only for such a reply: in a question, 「3年」 alone says nothing about renewing (契約して3年になります).
    """
    norm = _normalize(text)
    for match in _YEARS_BARE.finditer(norm.text):
        value = _kanji_number(match.group(1))
        start, end = norm.starts[match.start(1)], norm.ends[match.end() - 1]
        if value is None or not 1 <= value <= 10 or any(start < f.end and f.start < end for f in facts):
            continue
        return Fact("years", value, start, end, text[start:end])
    return None


# 「わからない」「覚えていません」「すみません、ちょっとわかりません」: a reply saying the customer does not know (or no
# longer remembers, or cannot check) what the bot asked, and nothing else.
_FILLER = (r"(?:すみません|すいません|ごめんなさい|申し訳(?:ありません|ございません)|ちょっと|えっと|えーと|うーん"
           r"|ん+ー*|あー|いや|いえ|正直|今は|いまは|今|まだ|残念ながら|それが|それは|それも|どちらも|両方とも?"
           r"|(?:その)?(?:日付|日にち|年数|期限|有効期限|日)(?:は|が|も)|いつ(?:だった)?か(?:は|が|も)?)")
_NOT_KNOWN = (r"(?:(?:わから|分から|判ら|解ら|わかん|知ら|しら|覚えて(?:い)?|おぼえて(?:い)?|確認でき|確認して(?:い)?"
              r"|把握して(?:い)?|調べられ)(?:ない|なかった|なくて|ず)"
              r"|(?:わかり|分かり|判り|解り|知り|しり|覚えて(?:い)?|おぼえて(?:い)?|確認でき|確認して(?:い)?"
              r"|把握して(?:い)?|調べられ)ません(?:でした)?"
              r"|(?:忘れ|わすれ)(?:た|ました|て(?:しまい|しまっ|ちゃい|ちゃっ)?(?:た|ました))|不明|分からん|わからん)")
_DONT_KNOW = re.compile(
    rf"(?:{_FILLER}[、,。.…!?\s]*)*{_NOT_KNOWN}(?:です|んです|のです)?(?:が|けど|けれど(?:も)?|ね|よ|な)?[、,。.…!?\s]*"
)


def dont_know(text: str) -> bool:
    """Whether a reply says only that the customer does not know or remember (わからない, 覚えていません)."""
    return _DONT_KNOW.fullmatch(unicodedata.normalize("NFKC", text).strip()) is not None
