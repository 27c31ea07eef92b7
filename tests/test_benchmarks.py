"""The benchmarks' own helpers, which no other test runs: `make bench` is not part of `make test`, so a change
that breaks it would otherwise go unseen until someone measures (no timing is asserted here)."""

from __future__ import annotations

from benchmarks.run import dev_questions, holds_date
from bot import Bot


def test_the_shipped_rows_pick_the_questions_holding_a_date(bot: Bot) -> None:
    # make bench stopped at its first row: it read the date roles from a field the knowledge no longer has
    assert holds_date(bot, "有効期限は2025年1月16日です。いつまで更新できますか？")
    assert not holds_date(bot, "更新料金はいくらですか？")
    questions = dev_questions()
    assert 0 < sum(holds_date(bot, q) for q in questions) < len(questions)
