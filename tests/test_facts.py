"""Tables for bot.facts: date forms, roles, order numbers, years, quantities and negatives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import facts as facts_module
from bot.errors import ConfigError
from bot.facts import Fact, Roles, as_role, dont_know, extract_facts, reply_years, tense
from bot.knowledge import load_date_roles

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2025, 5, 15)  # a Thursday
ROLES = load_date_roles(ROOT / "rules")
DATE_NAMES = {"date", *ROLES.names}


def facts(text: str, today: date = TODAY) -> list[Fact]:
    return extract_facts(text, today=today, roles=ROLES)


def dates(text: str, today: date = TODAY) -> list[tuple[str, date | str]]:
    """Every date read, a month-only one as its "YYYY-MM"."""
    return [(f.name, f.value) for f in facts(text, today) if f.name in DATE_NAMES and isinstance(f.value, date | str)]


def only_date(text: str, today: date = TODAY) -> Fact:
    found = [f for f in facts(text, today) if f.name in DATE_NAMES]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Western calendar in every usual spelling.
        ("2024年1月16日です", date(2024, 1, 16)),
        ("2024/1/16です", date(2024, 1, 16)),
        ("2024-01-16です", date(2024, 1, 16)),
        ("2024.1.16です", date(2024, 1, 16)),
        # typed compactly, or with the era's kanji initial (ja-timex reads neither; R6.1.16 it does)
        ("20240116です", date(2024, 1, 16)),
        ("令6.1.16です", date(2024, 1, 16)),
        ("平31.1.16", date(2019, 1, 16)),
        ("2024/01/16 10:00に", date(2024, 1, 16)),
        ("２０２４年１月１６日", date(2024, 1, 16)),
        ("２０２４／１／１６", date(2024, 1, 16)),
        ("2024 年 3 月 31 日", date(2024, 3, 31)),
        # 和暦, including 元年 and the Latin-letter and ligature forms.
        ("令和6年1月16日に注文", date(2024, 1, 16)),
        ("令和元年5月1日から", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(2019 - 30, 1, 8)),
        ("R6.1.16", date(2024, 1, 16)),
        ("R6/1/16", date(2024, 1, 16)),
        ("H31.4.30", date(2019, 4, 30)),
        ("㋿6年1月16日", date(2024, 1, 16)),
        ("令和６年１月１６日", date(2024, 1, 16)),
        # Kanji numerals.
        ("二〇二三年十月一日に申し込みました", date(2023, 10, 1)),
        ("十二月二十五日に届きました", date(2024, 12, 25)),
        # Relative to today.
        ("昨日注文しました", date(2025, 5, 14)),
        ("一昨日", date(2025, 5, 13)),
        # The kana spellings ja-timex does not know.
        ("おとといに振り込みました", date(2025, 5, 13)),
        ("おとつい", date(2025, 5, 13)),
        ("さきおととい", date(2025, 5, 12)),
        ("あさって", date(2025, 5, 17)),
        ("しあさってに課金されます", date(2025, 5, 18)),
        ("今日", date(2025, 5, 15)),
        ("本日入金しました", date(2025, 5, 15)),
        ("明日", date(2025, 5, 16)),
        ("3日後に届く予定", date(2025, 5, 18)),
        ("10日前", date(2025, 5, 5)),
        ("2週間後", date(2025, 5, 29)),
        ("2年前に契約したプランです", date(2023, 5, 15)),
        ("先月", "2025-04"),  # a calendar month, not a day in it
        ("1ヶ月前", date(2025, 4, 15)),
        ("半年前", date(2024, 11, 15)),
        # What ja-timex splits in two, composed here.
        ("去年の4月に買いました", "2024-04"),
        ("去年4月1日に", date(2024, 4, 1)),
        ("来年の1月16日", date(2026, 1, 16)),
        ("来年3月末", date(2026, 3, 31)),
        ("来月の10日までに返品できますか", date(2025, 6, 10)),
        ("先月の15日", date(2025, 4, 15)),
        # 「N年前の今日」 is one date: today that many years (or months) ago.
        ("2年前の今日に切れました", date(2023, 5, 15)),
        ("3か月前の今日", date(2025, 2, 15)),
        ("去年の今日", date(2024, 5, 15)),
        ("先月の今日", date(2025, 4, 15)),
        ("先月末に入金しました", date(2025, 4, 30)),
        ("今月末", date(2025, 5, 31)),
        ("来月末", date(2025, 6, 30)),
        ("先月の末", date(2025, 4, 30)),
        ("先週の金曜日に問い合わせました", date(2025, 5, 9)),
        ("先週金曜日", date(2025, 5, 9)),
        ("来週の月曜", date(2025, 5, 19)),
        ("今週の金曜", date(2025, 5, 16)),
        # Month ends and months without a day.
        ("2024年3月末", date(2024, 3, 31)),
        ("2024年2月末", date(2024, 2, 29)),
        ("2023年6月", "2023-06"),
        ("5月頃", "2025-05"),
        # A part of a month, a week or a year is the days it can be, never one invented day.
        ("5月中旬", "2025-05-11/2025-05-20"),
        ("5月の半ば", "2025-05-11/2025-05-20"),
        ("2024年5月上旬", "2024-05-01/2024-05-10"),
        ("5月初め", "2025-05-01/2025-05-10"),
        ("2月下旬", "2025-02-21/2025-02-28"),
        ("2024年2月下旬", "2024-02-21/2024-02-29"),
        ("4月の終わり頃に切れました", "2025-04-21/2025-04-30"),
        ("先月中旬", "2025-04-11/2025-04-20"),
        ("先月の初め", "2025-04-01/2025-04-10"),
        ("先週入金しました", "2025-05-05/2025-05-11"),  # Monday to Sunday
        ("来週", "2025-05-19/2025-05-25"),
        ("去年", "2024-01-01/2024-12-31"),
        ("昨年の秋に買いました", "2024-09-01/2024-11-30"),  # a season of a named year is its three months
        ("2024年の夏に切れました", "2024-06-01/2024-08-31"),
        ("2024年夏頃に切れました", "2024-06-01/2024-08-31"),  # ja-timex reads 2024年夏 as the year alone
        ("令和6年の春", "2024-03-01/2024-05-31"),
        ("来年の秋", "2026-09-01/2026-11-30"),
        ("去年の冬に切れました", "2024-01-01/2024-12-31"),  # 冬 spans two years: the season is not read
        ("年末に切れます", "2025-12-21/2025-12-31"),  # no year: this year's last ten days
        ("年末に切れました", "2024-12-21/2024-12-31"),  # ... or last year's, when they have passed
        ("年末、12月28日に切れます", date(2025, 12, 28)),  # the day named beside it wins
        ("2026年 年末に切れます", "2026-12-21/2026-12-31"),  # a year before it, a space apart
        ("2026年、年末に切れます", "2026-12-21/2026-12-31"),
        ("2026年年末", "2026-12-21/2026-12-31"),
        ("来年初め", "2026-01-01/2026-01-10"),  # a year's first ten days
        ("昨年末に切れました", "2024-12-21/2024-12-31"),  # 年末 is a year's last ten days; 月末 is a day
        ("去年の年末", "2024-12-21/2024-12-31"),
        ("去年の終わり頃", "2024-12-21/2024-12-31"),
        ("2024年末", "2024-12-21/2024-12-31"),
        ("2024年の年末", "2024-12-21/2024-12-31"),
        ("おととしに切れました", "2023-01-01/2023-12-31"),
        ("今月中旬に入金しました", "2025-05-11/2025-05-15"),  # past tense: not the days still to come
        ("今月の終わりに入金予定です", "2025-05-21/2025-05-31"),
        ("先月の終わり", "2025-04-21/2025-04-30"),
        ("先週の半ばです", "2025-05-05/2025-05-11"),  # the week's seven days already hold its middle
        # The tense moves a year taken from today only when the whole month, or the part of it, is on the wrong side.
        ("5月に切れます", "2025-05-15/2025-05-31"),  # this year's: 5月15日-31日 are still ahead
        ("5月下旬に切れます", "2025-05-21/2025-05-31"),
        ("5月上旬に切れます", "2026-05-01/2026-05-10"),
        ("5月下旬に切れました", "2024-05-21/2024-05-31"),
        ("5月中旬に切れました", "2025-05-11/2025-05-15"),  # partly past: this year's, up to today
        ("5月中旬に切れます", "2025-05-15/2025-05-20"),
        ("5月中旬です", "2025-05-11/2025-05-20"),  # no tense: every day of it
        ("今月中に切れます", "2025-05-15/2025-05-31"),
        ("5月上旬に切れました", "2025-05-01/2025-05-10"),  # wholly past already: nothing to cut
        ("12月下旬に注文しました", "2024-12-21/2024-12-31"),  # past tense: last year's December
        # A の between the year and the month, or the month and the day, is one date.
        ("2024年4月の10日に切れました", date(2024, 4, 10)),
        ("2024年の4月10日に切れました", date(2024, 4, 10)),
        ("去年の4月の10日", date(2024, 4, 10)),
        ("4月の10日間", "2025-04"),  # a duration, not a day
        # Two-digit years are this century.
        ("24年3月31日", date(2024, 3, 31)),
        ("99年3月1日", date(1999, 3, 1)),
    ],
)
def test_date_forms(text: str, expected: date | str) -> None:
    assert only_date(text).value == expected


def test_a_rough_date_the_tense_cuts_to_today_is_today() -> None:
    # On 5月20日, 「5月中旬に切れます」 can only be today: one date, not a span of one day.
    found = dates("5月中旬に有効期限が切れます", today=date(2025, 5, 20))
    assert found == [("expiry", date(2025, 5, 20))]
    told = only_date("5月中旬に有効期限が切れます", date(2025, 5, 20)).notice
    assert told == "これからのことですので、「5月中旬」は今日（2025年5月20日）としてお答えしています。"


@pytest.mark.parametrize(("text", "notice"), [
    ("今年の春に期限が切れました",
     "過去のことですので、「今年の春」は今日（2025年5月15日）までの日としてお答えしています。"),
    ("今月中に切れます", "これからのことですので、「今月中」は今日（2025年5月15日）以降の日としてお答えしています。"),
    ("4月中旬に切れました", None),  # wholly past: nothing was cut
])
def test_the_customer_is_told_why_a_rough_date_ends_or_starts_today(text: str, notice: str | None) -> None:
    assert only_date(text).notice == notice


@pytest.mark.parametrize(
    ("text", "expected", "note"),
    [
        ("先月", "2025-04", "day not given (先月)"),
        ("1ヶ月前", date(2025, 4, 15), "approximate (1ヶ月前)"),
        ("2年前", date(2023, 5, 15), "approximate (2年前)"),
        ("昨日", date(2025, 5, 14), None),
        ("2023年6月", "2023-06", "day not given"),
        ("去年の4月", "2024-04", "day not given"),
        ("5月に切れました", "2025-05-01/2025-05-15", "day not given; only the days up to today"),
        ("6月に切れました", "2024-06", "moved to the previous year"),
        ("24年3月31日", date(2024, 3, 31), "two-digit year read as 2024"),
        ("1月16日", date(2025, 1, 16), "year inferred from today"),
        ("3月31日が有効期限です", date(2025, 3, 31), "year inferred from today"),
        ("有効期限まであと30日です", date(2025, 6, 14), "30 days from today"),  # a count, not the 30th
        ("残り 10日で切れます", date(2025, 5, 25), "10 days from today"),
        # Past tense: a date after today moves to last year.
        (
            "12月25日に注文しました",
            date(2024, 12, 25),
            "year inferred from today, moved to the previous year (past context)",
        ),
        ("有効期限は8月1日でした", date(2024, 8, 1), "moved to the previous year"),
        ("6月1日に切れた", date(2024, 6, 1), "moved to the previous year"),
        # ...but a past date stays in this year.
        ("3月31日に期限が切れました", date(2025, 3, 31), "year inferred from today"),
        # Future context: a date before today moves to next year.
        (
            "1月16日に課金される予定です",
            date(2026, 1, 16),
            "year inferred from today, moved to the next year (future context)",
        ),
        ("2月1日までに解約したい", date(2026, 2, 1), "moved to the next year"),
        ("12月31日までに更新する予定", date(2025, 12, 31), "year inferred from today"),
        ("期限は年明けの1月10日です", date(2026, 1, 10), "moved to the next year"),
        ("年明けの1月10日に切れました", date(2025, 1, 10), "year inferred from today"),  # the verb after decides
        # A day alone takes this month, with the same tense rule.
        ("毎月20日に課金されます", date(2025, 5, 20), "month inferred from today"),
        ("10日までに払います", date(2025, 6, 10), "moved to the next month"),
        ("28日に振り込みました", date(2025, 4, 28), "moved to the previous month"),
    ],
)
def test_date_notes(text: str, expected: date | str, note: str | None) -> None:
    fact = only_date(text)
    assert fact.value == expected
    if note is None:
        assert fact.note is None
    else:
        assert fact.note is not None and note in fact.note


@pytest.mark.parametrize(("text", "today", "expected"), [
    # no tense: a date this year's calendar puts far away is the near one of the year before or after
    ("初回注文は12月1日です", date(2026, 1, 15), date(2025, 12, 1)),  # was 2026-12-01, eleven months ahead
    ("入金日は12月28日です", date(2026, 1, 5), date(2025, 12, 28)),
    ("有効期限は1月10日です。期限が切れる前に更新したい", date(2025, 12, 20), date(2026, 1, 10)),
    ("1月です", date(2025, 12, 20), "2026-01"),
    # neither near: this year's, as before (「12月1日」 in May)
    ("有効期限は12月1日です", TODAY, date(2025, 12, 1)),
    ("有効期限は1月15日です", date(2025, 10, 1), date(2025, 1, 15)),
    # a tense still decides: 「1月10日に切れました」 in December is this January's
    ("1月10日に切れました", date(2025, 12, 20), date(2025, 1, 10)),
])
def test_a_date_without_year_or_tense_is_the_one_nearer_today(text: str, today: date, expected: date | str) -> None:
    assert only_date(text, today).value == expected


@pytest.mark.parametrize(("text", "today", "expected"), [
    # 「…した場合」 supposes: no past tense moving the date back a year
    ("8月1日に入金した場合、いつ反映されますか", date(2025, 7, 20), ("payment", date(2025, 8, 1))),
    ("10月1日にライセンスを追加した場合の月割りは？", date(2025, 9, 20), ("added", date(2025, 10, 1))),
    ("8月1日に入金しました。いつ反映されますか", date(2025, 7, 20), ("payment", date(2024, 8, 1))),
])
def test_a_supposition_is_not_past(text: str, today: date, expected: tuple[str, date]) -> None:
    fact = only_date(text, today)
    assert (fact.name, fact.value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # 「3年前払い」 is three years paid ahead, not three years ago
    ("3年前払いのVIPでSignを2025年6月1日に買いました", [("sign_order", date(2025, 6, 1))]),
    ("3年前納で契約しています", []),
    ("3年前に期限が切れました", [("expiry", date(2022, 5, 15))]),
])
def test_a_prepaid_term_is_no_date(text: str, expected: list[tuple[str, date]]) -> None:
    assert dates(text) == expected


def test_a_role_asked_about_names_no_date_given() -> None:
    # 「いつ期限切れになりますか」 asks for the expiry: the order's date in the clause before is not it
    text = "組織が2021年6月1日にさらに2000トランザクションを注文した場合、いつ期限切れになりますか？"
    assert dates(text, date(2021, 6, 1)) == [("date", date(2021, 6, 1))]
    # stated, the cue one comma-clause away still names it
    assert dates("有効期限は、2023年6月30日です") == [("expiry", date(2023, 6, 30))]


@pytest.mark.parametrize(("text", "today", "expected"), [
    # words saying the expiry is still to come (rules/facts.yaml: ahead): next year's, once this year's has passed
    ("有効期限は3月10日です。期限前でも更新できますか", TODAY, date(2026, 3, 10)),
    ("有効期限は3月10日です。早めに更新したら残りの期間はどうなりますか", TODAY, date(2026, 3, 10)),
    ("期限は3月です。今のうちに更新しておきたい", TODAY, "2026-03"),
    ("有効期限は12月1日です。期限前に更新できる？", date(2025, 1, 15), date(2025, 12, 1)),  # not the nearer 2024's
])
def test_a_question_saying_the_expiry_is_ahead_places_its_date(text: str, today: date, expected: date | str) -> None:
    fact = only_date(text, today)
    assert fact.name == "expiry" and fact.value == expected
    assert (fact.note or "").startswith("year inferred from today, moved to the next year (the question says it is "
                                        "still to come)")


@pytest.mark.parametrize(("text", "expected"), [
    ("有効期限は6月10日です。期限前でも更新できますか", date(2025, 6, 10)),  # ahead already
    ("3月10日に期限が切れました。期限前に更新しておけばよかった", date(2025, 3, 10)),  # its own tense places it
    ("有効期限は2025年3月10日です。期限前でも更新できますか", date(2025, 3, 10)),  # a year written is taken as said
    # no word says it is ahead: the date without year or tense, as ever
    ("有効期限は3月10日です。更新できますか", date(2025, 3, 10)),
    # the words speak of the expiry, not of the payment
    ("入金日は3月10日です。期限前に更新できましたか", date(2025, 3, 10)),
])
def test_a_date_the_ahead_words_do_not_move(text: str, expected: date) -> None:
    fact = only_date(text)
    assert fact.value == expected
    assert "still to come" not in (fact.note or "")


@pytest.mark.parametrize(("text", "expected"), [
    # 過ぎたら / 過ぎても / 過ぎる are not past: they moved a coming expiry a year back
    ("有効期限が8月31日を過ぎたら更新できなくなりますか", date(2025, 8, 31)),
    ("8月31日を過ぎても更新できますか", date(2025, 8, 31)),
    ("8月31日に期限が過ぎています", date(2024, 8, 31)),
    ("8月31日で期限過ぎのライセンス", date(2024, 8, 31)),
])
def test_only_a_finished_past_counts_as_past(text: str, expected: date) -> None:
    assert only_date(text).value == expected


@pytest.mark.parametrize(("text", "expected"), [("まだ切れていません。8月31日までです", 1), ("期限は過ぎていません", 1),
                                               ("期限が過ぎてしまいました", -1), ("期限を過ぎても更新できますか", 0)])
def test_not_yet_expired_is_the_future(text: str, expected: int) -> None:
    assert tense(text) == expected


def test_range_end_takes_the_year_and_month_of_its_start() -> None:
    assert [value for _, value in dates("12月1日から3日まで")] == [date(2025, 12, 1), date(2025, 12, 3)]
    assert [value for _, value in dates("2024年12月20日〜1月5日")] == [date(2024, 12, 20), date(2025, 1, 5)]


@pytest.mark.parametrize(
    "text",
    [
        "3日以内に届きますか",
        "2年以内なら更新できますか",
        "2 週間かかります",
        "2週間ほどかかります",
        "3ヶ月以内",
        "10日分の料金",
        "24年",
        "2024年",
        "2024年度の契約",
        "2月30日に期限が切れます",
        "2024年2月30日",
        "4月31日",
        "13月5日",
        "電話番号は03-1234-5678です",
        "090-1234-5678に電話しました",
        "0120-123-456",
        "1,500円です",
        "20241315",  # eight digits that are no date
        "12345678",
        "一日中つながりません",
        "第一日曜日",
        "今月",
        "今年",
        "3時間前",
        "有効期限はいつですか",
        "年末年始も問い合わせできますか",  # a holiday period, not the year's end of an expiry
        "年末調整に領収書は使えますか",
        "学年末に切れます",  # a school year ends in March
        "今月の夏",
        "",
    ],
)
def test_not_a_date(text: str) -> None:
    assert dates(text) == []


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("期限の2か月前に1年更新しました", "2か月前"),
        ("契約応当日の1か月前にライセンスを追加したら", "1か月前"),
        ("有効期限の1週間前に更新", "1週間前"),
        ("更新してから3日後に入金しました", "3日後"),
        ("期限が切れる2か月前に更新", "2か月前"),
        ("初回注文の12か月後が契約応当日ですか", "12か月後"),
        ("その3日後に入金しました", "3日後"),
    ],
)
def test_a_span_from_a_day_not_given_is_no_date(text: str, offset: str) -> None:
    # 「期限の2か月前」 is two months before the expiry, which the text does not give: never two months before today
    found = facts(text)
    assert dates(text) == []
    assert [(f.name, f.text) for f in found if f.name == "offset"] == [("offset", offset)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3か月前に更新しました", [("date", date(2025, 2, 15))]),
        ("期限は2か月前に切れました", [("expiry", date(2025, 3, 15))]),
        ("今から3日後に更新します", [("date", date(2025, 5, 18))]),
        ("また3日後に問い合わせます", [("date", date(2025, 5, 18))]),
        ("ほんの3日前に更新しました", [("date", date(2025, 5, 12))]),
        ("たった3日前に更新しました", [("date", date(2025, 5, 12))]),
        # from the day the text gives just before it
        ("2025年3月31日の2か月前に更新した", [("date", date(2025, 3, 31)), ("date", date(2025, 1, 31))]),
    ],
)
def test_a_span_from_today_or_from_a_given_day_is_a_date(text: str, expected: list[tuple[str, date]]) -> None:
    assert dates(text) == expected


def test_year_zero_is_never_produced() -> None:
    for text in ["24年3月31日", "6年1月16日", "0024年3月31日", "1899年1月1日", "2200年1月1日"]:
        assert all(value.year >= 1900 for _, value in dates(text)), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("有効期限は2023年6月30日です", [("expiry", date(2023, 6, 30))]),
        ("2023年6月30日が有効期限です", [("expiry", date(2023, 6, 30))]),
        ("2024/3/31に期限が切れました", [("expiry", date(2024, 3, 31))]),
        ("有効期限は、2023年6月30日です", [("expiry", date(2023, 6, 30))]),
        ("2023年6月30日、有効期限が切れました", [("expiry", date(2023, 6, 30))]),
        ("有効期限が2023年6月30日のライセンスを追加したい", [("expiry", date(2023, 6, 30))]),
        ("2024年1月16日に初回注文しました", [("first_order", date(2024, 1, 16))]),
        ("初回注文日は2024年1月16日です", [("first_order", date(2024, 1, 16))]),
        ("最初の注文が令和6年1月16日", [("first_order", date(2024, 1, 16))]),
        ("契約応当日は2025年1月16日です", [("anniversary", date(2025, 1, 16))]),
        ("2025年1月16日がアニバーサリーです", [("anniversary", date(2025, 1, 16))]),
        ("2018年10月1日にライセンスを追加しました", [("added", date(2018, 10, 1))]),
        ("ライセンスの追加日は2018年10月1日", [("added", date(2018, 10, 1))]),
        ("課金日は2025年6月1日です", [("billing", date(2025, 6, 1))]),
        ("2025年6月1日に引き落としされます", [("billing", date(2025, 6, 1))]),
        ("あんしん自動更新の課金日は6月1日です", [("billing", date(2025, 6, 1))]),
        ("5月10日に振り込みました", [("payment", date(2025, 5, 10))]),
        ("入金したのは2025年5月1日です", [("payment", date(2025, 5, 1))]),
        ("昨日入金しました", [("payment", date(2025, 5, 14))]),
        ("先月末に支払いました", [("payment", date(2025, 4, 30))]),
        ("先月末に支払った", [("payment", date(2025, 4, 30))]),
        ("2024年1月16日にSignトランザクションを注文", [("sign_order", date(2024, 1, 16))]),
        ("Signの最初の注文は2020年5月15日", [("sign_order", date(2020, 5, 15))]),
        ("2024年1月16日に買いました", [("date", date(2024, 1, 16))]),
        # Two dates, two roles, in both word orders.
        (
            "契約応当日が2019年2月16日で2018年10月1日にライセンスを追加した場合の料金は？",
            [("anniversary", date(2019, 2, 16)), ("added", date(2018, 10, 1))],
        ),
        (
            "2018年10月1日にライセンスを追加しました。契約応当日は2019年2月16日です",
            [("added", date(2018, 10, 1)), ("anniversary", date(2019, 2, 16))],
        ),
        (
            "2019年2月16日が契約応当日で、2018年10月1日に追加しました",
            [("anniversary", date(2019, 2, 16)), ("added", date(2018, 10, 1))],
        ),
        (
            "追加は2018年10月1日で応当日は2019年2月16日",
            [("added", date(2018, 10, 1)), ("anniversary", date(2019, 2, 16))],
        ),
        (
            "契約応当日は2019年2月16日で追加日は2018年10月1日です",
            [("anniversary", date(2019, 2, 16)), ("added", date(2018, 10, 1))],
        ),
        (
            "2024年1月16日に初回注文し、契約応当日は2025年1月16日です",
            [("first_order", date(2024, 1, 16)), ("anniversary", date(2025, 1, 16))],
        ),
        (
            "2018年10月1日に追加して2019年2月16日まで使えますか",
            [("added", date(2018, 10, 1)), ("date", date(2019, 2, 16))],
        ),
        (
            "Signの最初の注文は2020年5月15日、契約応当日は2023年2月1日です。2021年6月1日に2,000件追加しました",
            [
                ("sign_order", date(2020, 5, 15)),
                ("anniversary", date(2023, 2, 1)),
                ("added", date(2021, 6, 1)),
            ],
        ),
        # A later Sign order is an added one, not a second first order; AD日 is the anniversary.
        (
            "2020年5月15日にSignを初めて注文し、2021年6月1日にSignを追加注文しました。AD日は2023年2月1日です",
            [
                ("sign_order", date(2020, 5, 15)),
                ("added", date(2021, 6, 1)),
                ("anniversary", date(2023, 2, 1)),
            ],
        ),
        # Two Sign orders named alike: only the earlier can be the first, whichever is said first
        (
            "2021年6月1日に2,000件注文したSignトランザクションの失効日は？最初のSign注文は2020年5月15日、契約応当日は2023年2月1日",
            [
                ("added", date(2021, 6, 1)),
                ("sign_order", date(2020, 5, 15)),
                ("anniversary", date(2023, 2, 1)),
            ],
        ),
        # 「期限前に」 places the renewal before the deadline; it names no date from the clause before it
        ("去年パソコンに入れたウイルスバスター、期限前に更新できる？", [("date", "2024-01-01/2024-12-31")]),
        ("2025年6月30日の期限前に更新できる？", [("expiry", date(2025, 6, 30))]),
        # The whole 「2年前の今日」 takes the role, not 今日 alone.
        ("2年前の今日に有効期限が切れました。更新できますか", [("expiry", date(2023, 5, 15))]),
        # A month without a day stays a month.
        ("2023年5月に有効期限が切れました。更新できますか", [("expiry", "2023-05")]),
        ("先月に有効期限が切れました", [("expiry", "2025-04")]),
        ("有効期限が去年の12月に切れてます", [("expiry", "2024-12")]),
        ("今月中旬に有効期限が切れました", [("expiry", "2025-05-11/2025-05-15")]),  # past: up to today
        # A billing date or an anniversary named without a year is its next occurrence, whatever the tense...
        ("課金日は3月1日です", [("billing", date(2026, 3, 1))]),
        ("3月1日に課金されました", [("billing", date(2026, 3, 1))]),
        ("課金日は5月15日です", [("billing", date(2025, 5, 15))]),
        ("課金日は3月です", [("billing", "2026-03")]),
        ("課金日は3月上旬です", [("billing", "2026-03-01/2026-03-10")]),
        ("課金日は5月中旬です", [("billing", "2025-05-11/2025-05-20")]),  # today is in it: this year's
        ("5月中旬に課金されました", [("billing", "2025-05-11/2025-05-20")]),  # not cut by the tense: it recurs
        ("1日に引き落としされました", [("billing", date(2025, 6, 1))]),
        (
            "契約応当日は3月15日です。明日ライセンスを追加したら何か月分請求されますか",
            [("anniversary", date(2026, 3, 15)), ("added", date(2025, 5, 16))],
        ),
        # ...and with its year it is what it says.
        ("課金日は2025年3月1日でした", [("billing", date(2025, 3, 1))]),
        # An expiry without a year keeps this year unless the tense moves it: it does not recur.
        ("有効期限は3月1日です", [("expiry", date(2025, 3, 1))]),
        ("3月1日に有効期限が切れます", [("expiry", date(2026, 3, 1))]),
        # Lengths of time counted back from today, which ja-timex reads in part: every unit counts
        ("有効期限は2年と1日前に切れました", [("expiry", date(2023, 5, 14))]),
        ("有効期限は2年3か月前に切れました", [("expiry", date(2023, 2, 15))]),
        ("2週間と3日前に期限が切れた", [("expiry", date(2025, 4, 28))]),
        # 「切れて10日です」 is ten days since, not the 10th
        ("有効期限が切れて10日です", [("expiry", date(2025, 5, 5))]),
        ("有効期限が切れてから2年と1日です", [("expiry", date(2023, 5, 14))]),
        ("期限が切れて1か月たちます", [("expiry", date(2025, 4, 15))]),
        # one unit before 前 stays ja-timex's, and a date's 日 is no length
        ("有効期限は3日前に切れました", [("expiry", date(2025, 5, 12))]),
        ("有効期限は10日に切れました", [("expiry", date(2025, 5, 10))]),
    ],
)
def test_roles(text: str, expected: list[tuple[str, date | str]]) -> None:
    assert dates(text) == expected


def test_no_roles_means_plain_dates() -> None:
    found = extract_facts("有効期限は2023年6月30日です", today=TODAY, roles=Roles())
    assert [(f.name, f.value) for f in found] == [("date", date(2023, 6, 30))]


def test_roles_come_from_the_mapping() -> None:
    found = extract_facts("締め日は2023年6月30日です", today=TODAY, roles=Roles.of({"closing": ["締め日"]}))
    assert [(f.name, f.value) for f in found] == [("closing", date(2023, 6, 30))]


def test_spans_point_into_the_original_text() -> None:
    text = "ｶﾞｲﾄﾞ通り、有効期限は２０２４年１月１６日でした"
    (fact,) = facts(text)
    assert fact.text == "２０２４年１月１６日"
    assert text[fact.start : fact.end] == fact.text


@pytest.mark.parametrize("word", ["おととい", "さきおととい", "しあさって"])
def test_kana_day_words_span_the_whole_word(word: str) -> None:
    text = f"はい、{word}に振り込みました"
    (fact,) = facts(text)
    assert (fact.name, fact.text, text[fact.start : fact.end]) == ("payment", word, word)


def order(text: str) -> tuple[str, str, str] | None:
    found = {f.name: f for f in facts(text)}
    if "order_number" not in found:
        return None
    number = found["order_number"]
    assert found["order_kind"].start == number.start
    assert text[number.start : number.end] == number.text
    return str(number.value), str(found["order_kind"].value), number.text


VALID = "AB-20240115123456-123456789"


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        (f"注文番号{VALID}の件です", VALID, "date"),
        (f"注文番号は {VALID} です", VALID, "date"),
        ("注文番号ＡＢ－２０２４０１１５１２３４５６－１２３４５６７８９の件", VALID, "date"),
        ("ab-20240115123456-123456789", VALID, "date"),
        ("ａｂ－２０２４０１１５１２３４５６－１２３４５６７８９", VALID, "date"),
        ("AB - 20240115123456 - 123456789", VALID, "date"),
        ("AB-70240115123456-123456789のインボイス", "AB-70240115123456-123456789", "seven"),
        ("XY-72000000000000-000000001", "XY-72000000000000-000000001", "seven"),
        ("AB-20241315123456-123456789", "AB-20241315123456-123456789", "other"),
        # any real date is the document's 「日付から始まる」, within the years the bot reads dates in
        ("AB-19991231123456-123456789", "AB-19991231123456-123456789", "date"),
        ("AB-18991231123456-123456789", "AB-18991231123456-123456789", "other"),
        ("AB-20230229123456-123456789", "AB-20230229123456-123456789", "other"),
        ("AB-20240229123456-123456789", "AB-20240229123456-123456789", "date"),
        ("AB-30240115123456-123456789", "AB-30240115123456-123456789", "other"),
    ],
)
def test_order_numbers(text: str, number: str, kind: str) -> None:
    found = order(text)
    assert found is not None
    assert found[:2] == (number, kind)


@pytest.mark.parametrize("dash", ["-", "‐", "‑", "‒", "–", "—", "―", "−", "ー", "－", "ｰ"])  # noqa: RUF001
def test_order_number_dash_variants(dash: str) -> None:
    text = f"注文番号AB{dash}20240115123456{dash}123456789について"
    assert order(text) == (VALID, "date", f"AB{dash}20240115123456{dash}123456789")


@pytest.mark.parametrize(
    "text",
    [
        "AB-2024011512345-12345678 のインボイス",
        "注文番号AB-202401151234567-1234567890です",
        "AB 20240115123456 123456789",
        "AB20240115123456123456789",
        "注文番号AB-20240115123456です",
        "ABC-20240115123456-123456789",
        "注文番号AB-1234-5678のインボイスは？",
    ],
)
def test_malformed_order_numbers_are_invalid(text: str) -> None:
    found = order(text)
    assert found is not None
    number, kind, raw = found
    assert kind == "invalid"
    assert number == raw


@pytest.mark.parametrize(
    "text", ["電話は03-1234-5678です", "ID12345678", "Windows10", "1,500円", "20240115", "VB 2025 100件", "PC-9801"]
)
def test_not_an_order_number(text: str) -> None:
    assert order(text) is None


def test_order_number_digits_are_not_dates_or_quantities() -> None:
    found = facts(f"{VALID}の2024年1月16日の注文で5000件")
    assert [f.name for f in found] == ["order_number", "order_kind", "date", "quantity"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3年更新にしたい", 3),
        ("2年分まとめて払う", 2),
        ("1年版を使っています", 1),
        ("3年で更新すると有効期限はいつ", 3),
        ("3年契約", 3),
        ("2年間延長", 2),
        ("三年版", 3),
        ("十年更新", 10),
        ("更新は3年にしたい", 3),
        ("更新期間は2年", 2),
        ("３年更新", 3),
        # A reply that is only a number of years (the bot asked 「何年分更新しますか」).
        ("2年で", 2),
        ("3年でお願いします", 3),
        ("２年です。", 2),
    ],
)
def test_years(text: str, expected: int) -> None:
    assert [f.value for f in facts(text) if f.name == "years"] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "2年以内なら更新できますか",
        "2年前に更新しました",
        "2年後に更新",
        "2024年に更新",
        "2024年版",
        "令和3年版",
        "3年ぶりに更新",
        "11年版",
        "24年3月31日に更新",
        "契約して2年。",
        "24年で",
    ],
)
def test_not_years(text: str) -> None:
    assert [f for f in facts(text) if f.name == "years"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5000件", 5000),
        ("5,000 トランザクション", 5000),
        ("2000トランザクション", 2000),
        ("Signトランザクションを2,000件追加", 2000),
        ("１万件", 10000),
        ("3台", 3),
    ],
)
def test_quantity(text: str, expected: int) -> None:
    assert [f.value for f in facts(text) if f.name == "quantity"] == [expected]


def test_facts_are_in_text_order() -> None:
    text = "2024年1月16日に3年版を5000件と、注文番号AB-70240115123456-123456789"
    found = facts(text)
    assert [f.name for f in found] == ["date", "years", "quantity", "order_number", "order_kind"]
    assert [f.start for f in found] == sorted(f.start for f in found)


@pytest.mark.parametrize(
    "text", ["有効期限はいつですか", "5000件の更新について", "注文番号AB-20240115123456-123456789"]
)
def test_texts_without_date_words_skip_ja_timex(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str, today: date) -> list[object]:
        raise AssertionError("ja-timex should not run")

    monkeypatch.setattr(facts_module, "_run_timex", fail)
    assert dates(text) == []


def test_date_roles_read_from_the_shipped_file() -> None:
    assert dict(ROLES.cues)["expiry"][0] == "有効期限"
    assert {"expiry", "first_order", "anniversary", "added", "billing", "payment", "sign_order"} <= set(ROLES.names)
    assert ROLES.recurring == {"billing", "anniversary"}
    assert dict(ROLES.later_orders) == {"first_order": "added", "sign_order": "added"}


def test_date_roles_file_without_the_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text("roles: []\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_date_roles(tmp_path)


PIECES = list(
    "0123456789０１２３４５６７８９年月日の前後以内末週先来去今昨一二三十〇令和平成元ＡＢab-ー－‐/. 、。？"
) + [
    "ｶﾞ",
    "\u3099",
    "㋿",
    "㍻",
    "期限",
    "追加",
    "応当日",
    "件",
    "トランザクション",
    "更新",
    "版",
    "20240115123456",
    "123456789",
]
JAPANESE = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JAPANESE, st.text(max_size=60)))
def test_any_text_gives_consistent_spans(text: str) -> None:
    for fact in facts(text):
        assert 0 <= fact.start < fact.end <= len(text)
        assert text[fact.start : fact.end] == fact.text


@pytest.mark.parametrize(
    ("text", "today", "expected", "notice"),
    [
        # A recurring date named without a year on a day its year lacks: the next occurrence, on the month's end.
        ("契約応当日が2月29日です", TODAY, ("anniversary", date(2026, 2, 28)),
         "2026年2月には29日がないため、月末の2026年2月28日としています。"),
        ("課金日は2月29日です", TODAY, ("billing", date(2026, 2, 28)), "月末の2026年2月28日"),
        ("課金日は2月29日です", date(2027, 5, 1), ("billing", date(2028, 2, 29)), None),  # a leap year has it
        ("2月29日に課金される予定です", date(2024, 5, 15), ("billing", date(2025, 2, 28)), "月末の2025年2月28日"),
        # a leap year's 2/29 that moves on to a common year says so too
        ("契約応当日は2月29日です", date(2024, 5, 15), ("anniversary", date(2025, 2, 28)), "月末の2025年2月28日"),
        ("31日に課金されます", date(2025, 4, 15), ("billing", date(2025, 4, 30)), "2025年4月には31日がないため"),
        # 「去年の今日」 on a leap day: its last day, said the way the rules' clamping notes say it
        ("去年の今日に有効期限が切れました", date(2024, 2, 29), ("expiry", date(2023, 2, 28)),
         "2024年2月29日の1年前に同じ日付がないため、その月の末日の2023年2月28日としています。"),
        ("3か月前の今日", date(2025, 5, 31), ("date", date(2025, 2, 28)), "3か月前に同じ日付がないため"),
        ("去年の今日", TODAY, ("date", date(2024, 5, 15)), None),
        # and so do 「1年前」「1か月前」, counted from today the same way
        ("1年前に期限が切れました", date(2024, 2, 29), ("expiry", date(2023, 2, 28)),
         "2024年2月29日の1年前に同じ日付がないため、その月の末日の2023年2月28日としています。"),
        ("1か月前に期限が切れました", date(2025, 3, 31), ("expiry", date(2025, 2, 28)), "1か月前に同じ日付がないため"),
        ("1か月前に期限が切れました", date(2025, 3, 15), ("expiry", date(2025, 2, 15)), None),
        # and the time since it ended, counted back the same way
        ("有効期限が切れて1か月です", date(2025, 3, 31), ("expiry", date(2025, 2, 28)),
         "2025年3月31日の1か月前に同じ日付がないため、その月の末日の2025年2月28日としています。"),
        ("有効期限が切れて1年です", date(2024, 2, 29), ("expiry", date(2023, 2, 28)), "2024年2月29日の1年前に"),
        ("有効期限は1年と1か月前に切れました", date(2025, 3, 31), ("expiry", date(2024, 2, 29)), "13か月前に"),
        ("有効期限が切れて1か月です", date(2025, 3, 15), ("expiry", date(2025, 2, 15)), None),
        ("有効期限が切れて10日です", date(2025, 3, 31), ("expiry", date(2025, 3, 21)), None),
        # a day the month it names lacks, for a recurring date: that month's last day, not this month's day
        ("課金日は来月31日です", TODAY, ("billing", date(2025, 6, 30)), "2025年6月には31日がないため"),
        ("課金日は来年の2月29日です", TODAY, ("billing", date(2026, 2, 28)), "2026年2月には29日がないため"),
        ("課金日は先月31日でした", TODAY, ("billing", date(2025, 5, 31)), None),  # passed: the next 31st
    ],
)
def test_clamped_dates_carry_a_notice(text: str, today: date, expected: tuple[str, date], notice: str | None) -> None:
    (fact,) = [f for f in facts(text, today) if f.name in DATE_NAMES]
    assert (fact.name, fact.value) == expected
    if notice is None:
        assert fact.notice is None
    else:
        assert fact.notice is not None and notice in fact.notice


@pytest.mark.parametrize(
    ("text", "value", "notice"),
    [
        ("2023年2月30日に有効期限が切れました", "2023-02-30", "2023年2月30日という日付はありません。"),
        ("2023/2/30", "2023-02-30", "2023年2月30日という日付はありません。"),
        ("令和5年2月29日", "2023-02-29", "2023年2月29日という日付はありません。"),
        ("2023年4月31日", "2023-04-31", "2023年4月31日という日付はありません。"),
        ("2023年13月1日に有効期限が切れました", "2023-13-01", "2023年13月1日という日付はありません。"),
        ("２０２３年１３月１日", "2023-13-01", "2023年13月1日という日付はありません。"),
        ("2023-13-01", "2023-13-01", "2023年13月1日という日付はありません。"),
        ("2024年0月1日", "2024-00-01", "2024年0月1日という日付はありません。"),
        ("2023年2月32日に切れました", "2023-02-32", "2023年2月32日という日付はありません。"),  # not 2023年2月
        ("13月5日", "--13-05", "13月5日という日付はありません。"),
        ("2月30日に期限が切れます", "--02-30", "2月30日という日付はありません。"),
        # no year given, and the one it was read in has no such day: only that is said, the rest is asked
        ("2月29日に有効期限が切れました", "--02-29", "2月29日は、うるう年（2024年、2028年など）にしかありません。"),
        ("契約応当日は2月30日です", "--02-30", "2月30日という日付はありません。"),  # recurring, but no year has it
        # a day counted from today's month or year that its month lacks: said, not dropped
        ("有効期限は先月の31日でした", "---31", "2025年4月には31日がありません。"),
        ("有効期限は今年の2月29日でした", "--02-29", "2月29日は、うるう年（2024年、2028年など）にしかありません。"),
        ("来年の2月30日に切れます", "--02-30", "2月30日という日付はありません。"),
    ],
)
def test_a_date_that_does_not_exist_is_told(text: str, value: str, notice: str) -> None:
    found = facts(text)
    assert [f.name for f in found if f.name in DATE_NAMES] == []  # never decided on
    (bad,) = [f for f in found if f.name == "invalid_date"]
    assert (bad.value, bad.notice) == (value, notice)
    assert text[bad.start : bad.end] == bad.text


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("契約応当日は2月30日です", "anniversary"),
        ("2023年2月30日に有効期限が切れました", "expiry"),
        ("追加日が2025年2月30日なら？", "added"),
        ("2023/2/30", None),
    ],
)
def test_a_date_that_does_not_exist_keeps_the_role_it_was_named_for(text: str, role: str | None) -> None:
    (bad,) = [f for f in facts(text) if f.name == "invalid_date"]
    assert bad.role == role


@pytest.mark.parametrize("text", ["電話は03-1234-5678です", "0120-123-456", "1234-56-78", "2024年1月16日", "3年15日"])
def test_no_invalid_date_where_none_is_written(text: str) -> None:
    assert [f for f in facts(text) if f.name == "invalid_date"] == []


def test_a_date_read_without_a_role_takes_the_one_asked() -> None:
    (leap,) = facts("2月29日です")
    assert leap.name == "invalid_date"
    as_anniversary = as_role(leap, "anniversary", TODAY, roles=ROLES)
    assert (as_anniversary.name, as_anniversary.value) == ("anniversary", date(2026, 2, 28))
    assert as_anniversary.notice is not None and "月末の2026年2月28日" in as_anniversary.notice
    # an expiry does not recur: 2025 has no 2/29, and that is said
    assert as_role(leap, "expiry", TODAY, roles=ROLES) == leap
    (plain,) = facts("3月1日です")
    billing, expiry = (as_role(plain, role, TODAY, roles=ROLES).value for role in ("billing", "expiry"))
    assert (billing, expiry) == (date(2026, 3, 1), date(2025, 3, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年8月31日と3年", 3),
        ("2025年8月31日 3年", 3),
        ("3年、2025年8月31日", 3),
        ("2025年8月31日で3年", 3),
        ("2025年8月31日、3年です", 3),
        ("有効期限は令和7年8月31日、三年で", 3),
        ("2年間", 2),
        ("2年前に買った", None),
        ("2年以内です", None),
        ("2025年8月31日", None),
        ("令和3年", None),
        ("1年半", None),
        ("11年", None),
    ],
)
def test_years_in_a_reply_that_was_asked_for_them(text: str, expected: int | None) -> None:
    found = facts(text)
    years = [f for f in found if f.name == "years"] or [f for f in [reply_years(text, found)] if f is not None]
    assert [f.value for f in years] == ([expected] if expected is not None else [])
    assert all(text[f.start : f.end] == f.text for f in years)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("わからない", True),
        ("わかりません", True),
        ("分かりません。", True),
        ("覚えていません", True),
        ("覚えてない", True),
        ("すみません、ちょっとわからないです", True),
        ("忘れてしまいました", True),
        ("日付はわからないです…", True),
        ("不明です", True),
        ("確認できません", True),
        ("更新方法がわからない", False),  # a question of its own
        ("わからないので教えてください", False),
        ("2024年1月16日です", False),
        ("わかりました", False),
    ],
)
def test_a_reply_saying_it_is_not_known(text: str, expected: bool) -> None:
    assert dont_know(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("有効期限が切れたライセンスは更新できますか", -1),
    ("有効期限が切れました。更新できますか", -1),  # the last sentence with a tense
    ("来月有効期限が切れます。更新できますか", 1),
    ("更新できますか", 0),
])
def test_the_tense_of_a_message(text: str, expected: int) -> None:
    assert tense(text) == expected
