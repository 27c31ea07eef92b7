"""Pure calendar arithmetic for the policies; `today` is always the caller's."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

__all__ = [
    "Shifted",
    "add_days",
    "add_months",
    "add_years",
    "date_span",
    "day_before",
    "days_between",
    "format_date_ja",
    "format_month_ja",
    "format_span_ja",
    "month_end_note",
    "next_anniversary",
    "next_day_of_month",
    "sign_reset_schedule",
    "shifted_to_month_end_note",
    "sign_reset_tranches",
    "span_ja",
    "span_unit",
    "whole_months_between",
]


@dataclass(frozen=True)
class Shifted:
    """A date moved by months or years, and whether its day was clamped."""

    date: date
    clamped: bool


def _month_length(year: int, month: int) -> int:
    """Number of days in the given month."""
    return calendar.monthrange(year, month)[1]


def add_years(d: date, years: int) -> Shifted:
    """Move `d` by whole years, clamping 2/29 to 2/28 in common years."""
    shifted = d + relativedelta(years=years)
    return Shifted(shifted, shifted.day != d.day)


def add_months(d: date, months: int) -> Shifted:
    """Move `d` by whole months, clamping to the last day of a shorter month."""
    # One relativedelta from the original anchor: chaining +1 month twice
    # from 1/31 would give 3/29 instead of 3/31.
    shifted = d + relativedelta(months=months)
    return Shifted(shifted, shifted.day != d.day)


def add_days(d: date, days: int) -> date:
    """Move `d` by a number of days."""
    return d + timedelta(days=days)


def day_before(d: date) -> date:
    """The day before `d`."""
    return d - timedelta(days=1)


def next_day_of_month(d: date, day: int) -> Shifted:
    """First date on or after `d` whose day of month is `day`, clamped in short months."""
    if not 1 <= day <= 31:
        raise ValueError(f"day of month must be 1..31, got {day}")
    length = _month_length(d.year, d.month)
    if min(day, length) >= d.day:
        return Shifted(d.replace(day=min(day, length)), day > length)
    first_of_next = d.replace(day=1) + relativedelta(months=1)
    length = _month_length(first_of_next.year, first_of_next.month)
    return Shifted(first_of_next.replace(day=min(day, length)), day > length)


def next_anniversary(anniversary: date, after: date) -> date:
    """The first yearly recurrence of `anniversary` strictly after `after` (earlier or later years alike)."""
    # Counted from the stated date each time, so a 2/29 anniversary is 2/28 in common years and 2/29 again in leap ones.
    years = after.year - anniversary.year - 1
    while (candidate := add_years(anniversary, years).date) <= after:
        years += 1
    return candidate


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end`; negative when `end` is earlier."""
    delta = relativedelta(end, start)
    return delta.years * 12 + delta.months


def days_between(start: date, end: date) -> int:
    """Days from `start` to `end` (`end - start`)."""
    return (end - start).days


def sign_reset_schedule(first_sign_order: date, anniversary: date, order: date | None = None) -> list[date]:
    """Expiry dates of the Sign tranches of an order under an extended prepaid term."""
    return [reset.date for reset in sign_reset_tranches(first_sign_order, anniversary, order)]


def sign_reset_tranches(first_sign_order: date, anniversary: date, order: date | None = None) -> list[Shifted]:
    """The dates of `sign_reset_schedule`, each with whether it was clamped to its month's end."""
    placed = first_sign_order if order is None else order
    resets: list[Shifted] = []
    step = 1
    while True:
        # Each reset is counted from the first Sign order, never from the
        # previous reset, so a 1/31 anchor stays on month ends.
        reset = add_months(first_sign_order, 12 * step)
        if reset.date >= anniversary:
            break
        resets.append(reset)
        step += 1
    resets.append(Shifted(anniversary, False))
    return [reset for reset in resets if reset.date > placed]


_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
FIRST_YEAR, LAST_YEAR = 1900, 2200  # policies add years to these dates; 9999-12-31 + 2 years would overflow


def read_iso_day(value: object) -> date:
    """A date written exactly YYYY-MM-DD in years 1900-2200 (fromisoformat alone takes 2024-W03-2 and 20250515).

    ValueError says what is wrong, as a predicate for the caller to put after the field's name:
    「must be a day of the calendar: 2025-02 has 28 days」 for 2025-02-30.
    """
    if not isinstance(value, str) or not (written := _ISO_DAY.fullmatch(value)):
        raise ValueError("must be a date written YYYY-MM-DD")
    year, month, day = map(int, written.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"must be a date from {FIRST_YEAR} to {LAST_YEAR}")
    if not 1 <= month <= 12:
        raise ValueError(f"must be a day of the calendar: there is no month {written[2]}")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise ValueError(f"must be a day of the calendar: {year}-{month:02} has {days} days")
    return date(year, month, day)


def parse_iso_day(value: object) -> date | None:
    """`read_iso_day`, or None where it would say what is wrong."""
    try:
        return read_iso_day(value)
    except ValueError:
        return None


def format_date_ja(d: date) -> str:
    """Write a date the Japanese way, e.g. 2025年1月16日."""
    return f"{d.year}年{d.month}月{d.day}日"


def format_month_ja(d: date) -> str:
    """Write the month of a date the Japanese way, e.g. 2025年1月."""
    return f"{d.year}年{d.month}月"


# The answer says when a date was moved to its month's last day (relativedelta's rule); one wording for the
# rules' computations and the dates read from a question.
def span_ja(years: int, months: int) -> str:
    """A shift as it was written: 2年, or in months when months are part of it (12か月, 18か月)."""
    return f"{years}年" if years and not months else f"{12 * years + months}か月"


def shifted_to_month_end_note(start: date, spans: Sequence[str], moved: Sequence[date]) -> str:
    """「2024年2月29日の12か月後に同じ日付がないため、その月の末日の2025年2月28日としています。」"""
    return (f"{format_date_ja(start)}の{'、'.join(spans)}に同じ日付がないため、"
            f"その月の末日の{'、'.join(format_date_ja(d) for d in moved)}としています。")


def month_end_note(day: int, moved: date, *, with_year: bool) -> str:
    """「2月には29日がないため、月末の2025年2月28日としています。」 (the month's year too, with_year)."""
    month = format_month_ja(moved) if with_year else f"{moved.month}月"
    return f"{month}には{day}日がないため、月末の{format_date_ja(moved)}としています。"


_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def date_span(value: object) -> tuple[date, date] | None:
    """The first and last day a date known only roughly can be, else None.

    Two forms: a month written YYYY-MM (2023年5月, 先月), and an interval written YYYY-MM-DD/YYYY-MM-DD, ISO 8601
    style (5月中旬, 先週, 去年), whose first day is not after its last.
    """
    if not isinstance(value, str):
        return None
    if match := _ISO_MONTH.fullmatch(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            return None
        return date(year, month, 1), date(year, month, _month_length(year, month))
    low_text, slash, high_text = value.partition("/")
    low, high = parse_iso_day(low_text), parse_iso_day(high_text)
    if not slash or low is None or high is None or low > high:
        return None
    return low, high


def span_unit(low: date, high: date) -> str:
    """What a span covers: 年 (one whole year), 月 (one whole month), or "" (a stretch of days)."""
    if low.day != 1 or high != high + relativedelta(day=31):
        return ""
    if low.year == high.year and (low.month, high.month) == (1, 12):
        return "年"
    return "月" if (low.year, low.month) == (high.year, high.month) else ""


def format_span_ja(low: date, high: date) -> str:
    """A span the way it was likely given: 2024年 (a whole year), 2025年5月 (a whole month), else its two ends."""
    unit = span_unit(low, high)
    if unit == "年":
        return f"{low.year}年"
    if unit == "月":
        return format_month_ja(low)
    return f"{format_date_ja(low)}〜{format_date_ja(high)}"
