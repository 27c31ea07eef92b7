"""The benchmarks' own helpers, which no other test runs: `make bench` is not part of `make test`, so a change
that breaks it would otherwise go unseen until someone measures (no timing is asserted here)."""

from __future__ import annotations

import pytest

from benchmarks.run import dev_questions, holds_date
from bot import Bot


def test_the_shipped_rows_pick_the_questions_holding_a_date(bot: Bot) -> None:
    # make bench stopped at its first row: it read the date roles from a field the knowledge no longer has
    assert holds_date(bot, "有効期限は2025年1月16日です。いつまで更新できますか？")
    assert not holds_date(bot, "更新料金はいくらですか？")
    questions = dev_questions()
    assert 0 < sum(holds_date(bot, q) for q in questions) < len(questions)


# the benchmark's own score.py (read-only, in ../shared) reads its query files without closing them
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_localgovfaq_dev_ranks_better_with_the_word_vectors() -> None:
    # The vectors are what lifts LocalgovFAQ past issue #2's bar (README, "Quality, measured"); a broken hash, a
    # missing install step or a weight lost in a refactor would drop dev back to the lexical matcher's 0.617.
    from benchmarks.localgovfaq import DEFAULT_DATA, run
    from bot.index import Weights

    if not (DEFAULT_DATA / "score.py").exists():
        pytest.skip(f"LocalgovFAQ is not beside the checkout ({DEFAULT_DATA})")
    with_vectors = run("dev", DEFAULT_DATA, quiet=True)["MRR"]
    without = run("dev", DEFAULT_DATA, Weights(vectors=0.0), quiet=True)["MRR"]
    assert with_vectors >= 0.625
    assert with_vectors - without >= 0.008
