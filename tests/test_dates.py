"""Tables and properties for bot.dates: month ends, leap days and the seed examples."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dates import (
    Shifted,
    add_days,
    add_months,
    add_years,
    date_span,
    day_before,
    days_between,
    format_date_ja,
    format_month_ja,
    format_span_ja,
    next_anniversary,
    next_day_of_month,
    sign_reset_schedule,
    sign_reset_tranches,
    whole_months_between,
)

# Leaves room for +/- 100 years and a month of slack on either side.
dates = st.dates(min_value=date(1901, 1, 1), max_value=date(9890, 12, 31))
months = st.integers(min_value=-1200, max_value=1200)


@pytest.mark.parametrize(
    ("anchor", "n", "expected", "clamped"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29), True),
        (date(2023, 1, 31), 1, date(2023, 2, 28), True),
        (date(2024, 1, 31), 2, date(2024, 3, 31), False),
        (date(2024, 1, 31), 12, date(2025, 1, 31), False),
        (date(2024, 1, 31), -2, date(2023, 11, 30), True),
        (date(2024, 2, 29), 1, date(2024, 3, 29), False),
        (date(2024, 2, 29), 12, date(2025, 2, 28), True),
        (date(2024, 2, 29), 48, date(2028, 2, 29), False),
        (date(2024, 3, 31), 1, date(2024, 4, 30), True),
        (date(2024, 3, 31), 12, date(2025, 3, 31), False),
        (date(2024, 3, 31), -1, date(2024, 2, 29), True),
        (date(2024, 12, 31), 1, date(2025, 1, 31), False),
        (date(2024, 12, 31), 2, date(2025, 2, 28), True),
        (date(2024, 12, 31), 12, date(2025, 12, 31), False),
        (date(2024, 1, 16), 12, date(2025, 1, 16), False),
    ],
)
def test_add_months(anchor: date, n: int, expected: date, clamped: bool) -> None:
    assert add_months(anchor, n) == Shifted(expected, clamped)


@pytest.mark.parametrize(
    ("anchor", "n", "expected", "clamped"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28), True),
        (date(2024, 2, 29), 2, date(2026, 2, 28), True),
        (date(2024, 2, 29), 4, date(2028, 2, 29), False),
        (date(2024, 2, 29), -1, date(2023, 2, 28), True),
        (date(2024, 1, 31), 1, date(2025, 1, 31), False),
        (date(2024, 3, 31), 2, date(2026, 3, 31), False),
        (date(2024, 12, 31), 4, date(2028, 12, 31), False),
        (date(2023, 6, 30), 2, date(2025, 6, 30), False),
    ],
)
def test_add_years(anchor: date, n: int, expected: date, clamped: bool) -> None:
    assert add_years(anchor, n) == Shifted(expected, clamped)


def test_chained_months_differ_from_one_step() -> None:
    # The reason every policy adds to the original anchor.
    chained = add_months(add_months(date(2024, 1, 31), 1).date, 1).date
    assert chained == date(2024, 3, 29)
    assert add_months(date(2024, 1, 31), 2).date == date(2024, 3, 31)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 3, 1), date(2024, 2, 29)),
        (date(2023, 3, 1), date(2023, 2, 28)),
        (date(2025, 1, 1), date(2024, 12, 31)),
        (date(2024, 5, 1), date(2024, 4, 30)),
        (date(2025, 1, 16), date(2025, 1, 15)),
        (date(2025, 2, 28), date(2025, 2, 27)),
    ],
)
def test_day_before(d: date, expected: date) -> None:
    assert day_before(d) == expected


def test_add_days() -> None:
    assert add_days(date(2024, 12, 31), 1) == date(2025, 1, 1)
    assert add_days(date(2025, 1, 16), 14) == date(2025, 1, 30)
    assert add_days(date(2024, 3, 1), -1) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("d", "day", "expected", "clamped"),
    [
        (date(2024, 2, 1), 29, date(2024, 2, 29), False),
        (date(2024, 2, 1), 30, date(2024, 2, 29), True),
        (date(2024, 2, 1), 31, date(2024, 2, 29), True),
        (date(2023, 2, 1), 29, date(2023, 2, 28), True),
        (date(2023, 2, 1), 30, date(2023, 2, 28), True),
        (date(2023, 2, 1), 31, date(2023, 2, 28), True),
        (date(2023, 2, 28), 31, date(2023, 2, 28), True),
        (date(2024, 1, 31), 30, date(2024, 2, 29), True),
        (date(2024, 1, 31), 31, date(2024, 1, 31), False),
        (date(2024, 4, 1), 31, date(2024, 4, 30), True),
        (date(2024, 12, 20), 16, date(2025, 1, 16), False),
        (date(2018, 10, 1), 16, date(2018, 10, 16), False),
        (date(2018, 10, 16), 16, date(2018, 10, 16), False),
    ],
)
def test_next_day_of_month(d: date, day: int, expected: date, clamped: bool) -> None:
    assert next_day_of_month(d, day) == Shifted(expected, clamped)


@pytest.mark.parametrize("day", [0, 32, -1])
def test_next_day_of_month_rejects_impossible_days(day: int) -> None:
    with pytest.raises(ValueError):
        next_day_of_month(date(2024, 1, 1), day)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2018, 10, 16), date(2019, 2, 16), 4),
        (date(2024, 1, 31), date(2024, 2, 28), 0),
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2023, 4, 1), date(2024, 3, 31), 11),
        (date(2024, 2, 29), date(2025, 2, 28), 12),
        (date(2019, 2, 16), date(2018, 10, 16), -4),
        (date(2024, 1, 16), date(2024, 1, 16), 0),
    ],
)
def test_whole_months_between(start: date, end: date, expected: int) -> None:
    assert whole_months_between(start, end) == expected


def test_adobe_seed_examples() -> None:
    assert add_months(date(2024, 1, 16), 12) == Shifted(date(2025, 1, 16), False)
    anniversary, added = date(2019, 2, 16), date(2018, 10, 1)
    start = next_day_of_month(added, anniversary.day)
    assert start == Shifted(date(2018, 10, 16), False)
    assert whole_months_between(start.date, anniversary) == 4
    assert days_between(added, start.date) == 15
    assert day_before(anniversary) == date(2019, 2, 15)


@pytest.mark.parametrize(
    ("first", "anniversary", "order", "expected"),
    [
        (
            date(2020, 5, 15),
            date(2023, 2, 1),
            None,
            [date(2021, 5, 15), date(2022, 5, 15), date(2023, 2, 1)],
        ),
        (date(2020, 5, 15), date(2023, 2, 1), date(2021, 6, 1), [date(2022, 5, 15), date(2023, 2, 1)]),
        (date(2020, 5, 15), date(2023, 2, 1), date(2022, 5, 15), [date(2023, 2, 1)]),
        (date(2020, 5, 15), date(2023, 2, 1), date(2023, 2, 1), []),
        # A reset that falls on the anniversary is not listed twice.
        (date(2020, 5, 15), date(2022, 5, 15), None, [date(2021, 5, 15), date(2022, 5, 15)]),
        # Counted from the anchor: 2/29 → 2/28 in common years, back to 2/29 in 2028.
        (
            date(2024, 2, 29),
            date(2029, 1, 1),
            None,
            [date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29), date(2029, 1, 1)],
        ),
        (date(2024, 6, 1), date(2025, 2, 1), None, [date(2025, 2, 1)]),
    ],
)
def test_sign_reset_schedule(first: date, anniversary: date, order: date | None, expected: list[date]) -> None:
    assert sign_reset_schedule(first, anniversary, order) == expected


def test_sign_reset_tranches_say_which_days_were_clamped() -> None:
    assert sign_reset_tranches(date(2024, 2, 29), date(2028, 3, 1)) == [
        Shifted(date(2025, 2, 28), True), Shifted(date(2026, 2, 28), True), Shifted(date(2027, 2, 28), True),
        Shifted(date(2028, 2, 29), False), Shifted(date(2028, 3, 1), False),
    ]
    assert sign_reset_tranches(date(2024, 2, 29), date(2028, 3, 1), date(2026, 6, 1)) == [
        Shifted(date(2027, 2, 28), True), Shifted(date(2028, 2, 29), False), Shifted(date(2028, 3, 1), False),
    ]
    assert not any(t.clamped for t in sign_reset_tranches(date(2020, 5, 15), date(2023, 2, 1)))


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 1, 16), "2025年1月16日"),
        (date(2024, 12, 31), "2024年12月31日"),
        (date(2019, 5, 1), "2019年5月1日"),
    ],
)
def test_format_date_ja(d: date, expected: str) -> None:
    assert format_date_ja(d) == expected


@given(dates, months)
def test_add_months_day_never_grows_and_clamps_only_when_changed(d: date, n: int) -> None:
    shifted = add_months(d, n)
    assert shifted.date.day <= d.day
    assert shifted.clamped == (shifted.date.day != d.day)
    if shifted.clamped:
        assert shifted.date.day == calendar.monthrange(shifted.date.year, shifted.date.month)[1]


@given(dates, months)
def test_add_months_lands_in_the_right_month(d: date, n: int) -> None:
    shifted = add_months(d, n).date
    assert shifted.year * 12 + shifted.month == d.year * 12 + d.month + n


@given(dates, st.integers(min_value=-100, max_value=100))
def test_add_years_is_twelve_months(d: date, n: int) -> None:
    assert add_years(d, n) == add_months(d, 12 * n)


@given(dates, st.integers(min_value=1, max_value=31))
def test_next_day_of_month_properties(d: date, day: int) -> None:
    result = next_day_of_month(d, day).date
    assert d <= result < d + timedelta(days=32)
    assert result.day == min(day, calendar.monthrange(result.year, result.month)[1])


@given(dates, months)
def test_whole_months_between_inverts_add_months(d: date, n: int) -> None:
    shifted = add_months(d, n)
    if not shifted.clamped:
        assert whole_months_between(d, shifted.date) == n


@given(dates, dates)
def test_days_between_is_antisymmetric(a: date, b: date) -> None:
    assert days_between(a, b) == -days_between(b, a)
    assert add_days(a, days_between(a, b)) == b


@given(dates)
def test_day_before_is_one_day(d: date) -> None:
    assert days_between(day_before(d), d) == 1


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_format_date_ja_round_trips(d: date) -> None:
    match = re.fullmatch(r"([1-9][0-9]*)年([1-9][0-9]?)月([1-9][0-9]?)日", format_date_ja(d))
    assert match is not None
    assert date(int(match[1]), int(match[2]), int(match[3])) == d


@pytest.mark.parametrize(
    ("anniversary", "after", "expected"),
    [
        (date(2019, 2, 16), date(2018, 10, 1), date(2019, 2, 16)),  # the seed: the stated one
        (date(2025, 3, 15), date(2023, 1, 10), date(2023, 3, 15)),  # stated years ahead: the first one after
        (date(2019, 2, 16), date(2019, 2, 20), date(2020, 2, 16)),  # stated before: the next year's
        (date(2025, 3, 15), date(2025, 3, 15), date(2026, 3, 15)),  # on the day itself: the next one
        (date(2025, 3, 15), date(2025, 3, 14), date(2025, 3, 15)),
        (date(2024, 2, 29), date(2024, 3, 1), date(2025, 2, 28)),  # clamped in common years...
        (date(2024, 2, 29), date(2027, 3, 1), date(2028, 2, 29)),  # ...and the 29th again in leap ones
    ],
)
def test_next_anniversary(anniversary: date, after: date, expected: date) -> None:
    assert next_anniversary(anniversary, after) == expected


@given(dates, dates)
def test_next_anniversary_is_within_the_year_after(anniversary: date, after: date) -> None:
    found = next_anniversary(anniversary, after)
    assert after < found <= add_years(after, 1).date + timedelta(days=1)
    assert (found.month, found.day) == (anniversary.month, anniversary.day) or found.day == 28


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-05", (date(2023, 5, 1), date(2023, 5, 31))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2023-13", None),
        ("2023-5", None),
        ("2023-05-01", None),
        ("AB-2023-05", None),
        (date(2023, 5, 1), None),
        (202305, None),
        # An interval, ISO 8601 style: 5月中旬, 先週, 去年.
        ("2025-05-11/2025-05-20", (date(2025, 5, 11), date(2025, 5, 20))),
        ("2024-01-01/2024-12-31", (date(2024, 1, 1), date(2024, 12, 31))),
        ("2025-05-11/2025-05-11", (date(2025, 5, 11), date(2025, 5, 11))),
        ("2025-05-20/2025-05-11", None),  # backwards
        ("2025-05-11/", None),
        ("2025-05-11/2025-02-30", None),
        ("2025-05/2025-06", None),
        ("1800-01-01/1800-12-31", None),
    ],
)
def test_date_span(value: object, expected: tuple[date, date] | None) -> None:
    assert date_span(value) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (date(2024, 1, 1), date(2024, 12, 31), "2024年"),
        (date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        (date(2025, 5, 11), date(2025, 5, 20), "2025年5月11日〜2025年5月20日"),
        (date(2024, 1, 1), date(2025, 12, 31), "2024年1月1日〜2025年12月31日"),  # two years are no one year
        (date(2025, 4, 1), date(2025, 5, 31), "2025年4月1日〜2025年5月31日"),
    ],
)
def test_format_span_ja(low: date, high: date, expected: str) -> None:
    assert format_span_ja(low, high) == expected


def test_format_month_ja() -> None:
    assert format_month_ja(date(2025, 1, 16)) == "2025年1月"
