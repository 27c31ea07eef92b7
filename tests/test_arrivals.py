"""Calibration on question sets as they arrived: each set asked of the knowledge at the commit it names."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot import Bot, Settings, load_bot
from bot.cli import main
from bot.errors import ConfigError
from bot.evaluate import Row, arrival_rows, evaluate, leave_out, load_arrivals, load_cases
from bot.text import FugashiTokenizer

from .conftest import FIXTURES, ROOT, TODAY

QUESTIONS = [{"text": "商品はいつ届きますか？", "intent": "delivery"},
             {"text": "返金してもらえますか？", "intent": "refund"},
             {"text": "明日の天気は？", "intent": None}]


def _git(repo: Path, *args: str) -> str:
    run = subprocess.run(["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.invalid",
                          *args], capture_output=True, text=True, check=True)
    return run.stdout.strip()


@pytest.fixture()
def clone(tmp_path: Path) -> tuple[Path, str]:
    """A git clone whose first commit's knowledge lacks the delivery entry, which the working tree has."""
    repo = tmp_path / "clone"
    shutil.copytree(FIXTURES / "faq", repo / "faq")
    (repo / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "facts.yaml", repo / "rules")  # the date roles; no product rules
    shop = repo / "faq" / "shop.yaml"
    full = shop.read_text(encoding="utf-8")
    data = yaml.safe_load(full)
    data["entries"] = [e for e in data["entries"] if e["id"] != "delivery"]
    shop.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (repo / "tests").mkdir()
    (repo / "tests" / "questions.yaml").write_text(yaml.safe_dump(QUESTIONS, allow_unicode=True), encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "knowledge without delivery")
    first = _git(repo, "rev-parse", "HEAD")
    shop.write_text(full, encoding="utf-8")
    (repo / "tests" / "arrivals.yaml").write_text(
        f"arrivals:\n  - questions: questions.yaml\n    knowledge: {first}\n", encoding="utf-8")
    return repo, first


def test_arrival_rows_use_the_knowledge_of_their_commit(clone: tuple[Path, str], tokenizer: FugashiTokenizer
                                                        ) -> None:
    repo, _ = clone
    bot = load_bot(Settings(faq_dir=repo / "faq", rules_dir=repo / "rules"), tokenizer=tokenizer)
    now = evaluate(bot, load_cases(repo / "tests" / "questions.yaml"), today=TODAY)[1]
    (then,) = arrival_rows(bot, load_arrivals(repo / "tests" / "arrivals.yaml"), today=TODAY)
    assert [r.right for r in now] == [True, True, None]
    # the delivery question arrived when no entry answered it; the refund one was answered then too
    assert [r.right for r in then] == [False, True, None]
    assert bot.knowledge.entries[1].id == "delivery"  # the bot itself still has today's knowledge


def test_calibrate_chooses_the_threshold_on_the_arrivals(clone: tuple[Path, str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = clone
    saved = tmp_path / "calibration.json"
    monkeypatch.setenv("FAQBOT_FAQ_DIR", str(repo / "faq"))
    monkeypatch.setenv("FAQBOT_RULES_DIR", str(repo / "rules"))
    monkeypatch.setenv("FAQBOT_CALIBRATION", str(saved))
    result = CliRunner().invoke(main, ["eval", str(repo / "tests" / "questions.yaml"), "--today", "2025-05-15",
                                       "--calibrate", "--arrivals", str(repo / "tests" / "arrivals.yaml")])
    assert result.exit_code == 0, result.output
    assert "on the sets as they arrived" in result.output
    note = json.loads(saved.read_text(encoding="utf-8"))["fitted_on"]
    assert note == "questions.yaml, 3 questions; threshold from 3 questions as they arrived (arrivals.yaml)"


@pytest.mark.parametrize(("flags", "expected"), [
    (["--arrivals", "ARRIVALS"], "--arrivals goes with --calibrate or --leave-out"),
    (["--leave-out"], "--leave-out needs --arrivals"),
    (["--leave-out", "--calibrate", "--arrivals", "ARRIVALS"], "--calibrate and --leave-out do not go together"),
    (["--leave-out", "--json", "out.json", "--arrivals", "ARRIVALS"], "--leave-out prints its table only"),
])
def test_arrivals_without_calibrate_or_leave_out_are_refused(clone: tuple[Path, str], flags: list[str],
                                                             expected: str) -> None:
    repo, _ = clone
    flags = [str(repo / "tests" / "arrivals.yaml") if f == "ARRIVALS" else f for f in flags]
    result = CliRunner().invoke(main, ["eval", str(repo / "tests" / "questions.yaml"), *flags])
    assert result.exit_code == 2 and expected in result.output


def _rows(seed: int, n: int = 60) -> list[Row]:
    """Rows of made-up evidence: in scope and right where the score is high, out of scope a quarter of the time."""
    import random
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        score = rng.random()
        right = None if rng.random() < 0.25 else score + rng.gauss(0, 0.2) > 0.4
        rows.append(Row([1.0, score, rng.random(), score, score, score, 0.0, 0.0, 1.0], right, True))
    return rows


def test_leave_out_scores_each_arrival_without_its_own_rows() -> None:
    read = {"a.yaml": _rows(1), "b.yaml": _rows(2), "c.yaml": _rows(3)}
    arrived = {"a.yaml": _rows(4), "b.yaml": _rows(5), "c.yaml": _rows(6)}
    before = {r.name: r for r in leave_out(read, arrived)}
    assert set(before) == {"a.yaml", "b.yaml", "c.yaml"}
    # a's read rows made misleading (every high score wrong) and its arrival rows too: nothing about a changes
    # except what a's own arrival scores, while the models b and c are scored by learn from them
    poison = [Row([1.0, 0.95, 0.9, 0.95, 0.95, 0.95, 0.0, 0.0, 1.0], False, True) for _ in range(200)]
    after = {r.name: r for r in leave_out({**read, "a.yaml": poison}, arrived)}
    assert after["a.yaml"] == before["a.yaml"]
    assert after["b.yaml"] != before["b.yaml"] and after["c.yaml"] != before["c.yaml"]


def test_leave_out_prints_a_row_for_each_arrival(clone: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, first = clone
    (repo / "tests" / "more.yaml").write_text(yaml.safe_dump(
        [{"text": "返品したらお金は戻りますか？", "intent": "refund"}, {"text": "今日の晩ご飯は？", "intent": None}],
        allow_unicode=True), encoding="utf-8")
    arrivals = repo / "tests" / "arrivals.yaml"
    arrivals.write_text(arrivals.read_text(encoding="utf-8") + f"  - questions: more.yaml\n    knowledge: {first}\n",
                        encoding="utf-8")
    monkeypatch.setenv("FAQBOT_FAQ_DIR", str(repo / "faq"))
    monkeypatch.setenv("FAQBOT_RULES_DIR", str(repo / "rules"))
    files = [str(repo / "tests" / name) for name in ("questions.yaml", "more.yaml")]
    result = CliRunner().invoke(main, ["eval", *files, "--today", "2025-05-15", "--leave-out", "--arrivals",
                                       str(arrivals)])
    assert result.exit_code == 0, result.output
    rows = [line.split(" | ")[0] for line in result.output.splitlines() if line.startswith("| ")]
    assert rows == ["| blind set, as it arrived", "| questions", "| more", "| mean"]
    assert "2 arrivals" in result.output


def test_leave_out_needs_two_arrivals(clone: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = clone
    monkeypatch.setenv("FAQBOT_FAQ_DIR", str(repo / "faq"))
    monkeypatch.setenv("FAQBOT_RULES_DIR", str(repo / "rules"))
    result = CliRunner().invoke(main, ["eval", str(repo / "tests" / "questions.yaml"), "--today", "2025-05-15",
                                       "--leave-out", "--arrivals", str(repo / "tests" / "arrivals.yaml")])
    assert result.exit_code == 1 and "needs at least two question sets in arrivals.yaml" in result.output


def test_a_commit_outside_the_history_is_named(clone: tuple[Path, str], bot: Bot) -> None:
    repo, _ = clone
    arrivals = repo / "tests" / "arrivals.yaml"
    arrivals.write_text("arrivals:\n  - questions: questions.yaml\n    knowledge: 0123456789abcdef\n",
                        encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        arrival_rows(bot, load_arrivals(arrivals), today=TODAY)
    assert "cannot read the knowledge at 0123456789abcdef" in str(caught.value)
    assert "git fetch --unshallow" in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("arrivals:\n  - questions: questions.yaml\n    knowlege: abc1234\n", "arrivals.yaml:3: arrivals[0].knowlege"),
    ("arrivals:\n  - questions: missing.yaml\n    knowledge: abc1234\n", "no such question set: missing.yaml"),
    ("arrivals:\n  - questions: questions.yaml\n    knowledge: HEAD~1\n", "knowledge"),
    ("arrivals: [\n", "invalid YAML"),
])
def test_a_bad_arrivals_file_is_reported_with_its_line(clone: tuple[Path, str], text: str, expected: str) -> None:
    repo, _ = clone
    arrivals = repo / "tests" / "arrivals.yaml"
    arrivals.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_arrivals(arrivals)
    assert expected in str(caught.value) and "in the arrivals file" in str(caught.value)


def test_knowledge_older_than_labels_is_still_scored(clone: tuple[Path, str], bot: Bot) -> None:
    # labels name values to people, and came after most arrivals: their commits are scored by intent all the same
    # (make calibrate stopped at the first arrival once labels were required)
    repo, _ = clone
    facts = repo / "rules" / "facts.yaml"
    data = yaml.safe_load(facts.read_text(encoding="utf-8"))
    del data["labels"]
    facts.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (repo / "rules" / "shop.yaml").write_text(
        "product: shop\ncomputations:\n  refund_by: {add: {date: first_order, days: 30}}\nrules:\n"
        "  - id: refund-by\n    intents: [refund]\n    priority: 10\n    when: {fact: first_order, op: exists}\n"
        "    say: '{refund_by}まで返金できます。'\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "rules before labels")
    unlabelled = _git(repo, "rev-parse", "HEAD")
    arrivals = repo / "tests" / "arrivals.yaml"
    arrivals.write_text(f"arrivals:\n  - questions: questions.yaml\n    knowledge: {unlabelled}\n", encoding="utf-8")
    (then,) = arrival_rows(bot, load_arrivals(arrivals), today=TODAY)
    assert [r.right for r in then] == [True, True, None]
    with pytest.raises(ConfigError, match="no label for"):  # served, the same files are refused
        load_bot(Settings(faq_dir=repo / "faq", rules_dir=repo / "rules"))


def test_old_knowledge_today_refuses_is_named_with_its_commit(clone: tuple[Path, str], bot: Bot) -> None:
    repo, _ = clone
    shop = repo / "faq" / "shop.yaml"
    shop.write_text(shop.read_text(encoding="utf-8").replace("    answer: 原則として返金はできません。\n", ""),
                    encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "an entry without its answer")
    broken = _git(repo, "rev-parse", "HEAD")
    arrivals = repo / "tests" / "arrivals.yaml"
    arrivals.write_text(f"arrivals:\n  - questions: questions.yaml\n    knowledge: {broken}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        arrival_rows(bot, load_arrivals(arrivals), today=TODAY)
    assert f"in the knowledge at {broken}, which questions.yaml arrived to" in str(caught.value)
    assert "answer" in str(caught.value)
