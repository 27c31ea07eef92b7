"""Labels and glance dates come from the rule files: a third product, added as YAML alone, is shown by every channel."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import Bot, Settings, load_bot
from bot.cli import main
from bot.display import Display, Glance, written_number
from bot.errors import ConfigError
from bot.facts import Roles, extract_facts
from bot.knowledge import load_knowledge
from bot.rules import render_value
from bot.text import FugashiTokenizer
from bot.web import create_app
from bot.web.slack import render_answer

from .conftest import ROOT, TODAY

CLOUDSAFE_FAQ = """\
product:
  id: cloudsafe
  name: クラウドセーフ
  aliases: [CloudSafe]
  contact: クラウドセーフ サポート窓口にお問い合わせください。
entries:
  - id: trial-extend
    section: 体験版
    question: 体験版の試用期間はいつまで延長できますか？
    answer: 試用期間の終了日から 30 日以内であれば、試用期間を延長できます。
    alternates: [試用期間を延長したい, 体験版 延長 期限, 試用期間が終わったけど延長できる？]
"""

CLOUDSAFE_RULES = """\
product: cloudsafe
computations:
  extend_by: {add: {date: trial_end, days: 30}}
  days_to_extend: {days_between: {from: today, to: extend_by}}
labels:
  extend_by: 延長できる期限
  days_to_extend: 延長期限までの日数
  extendable: 延長できる
glance:
  - date: extend_by
    counts: {days_to_extend: 'あと{n}日'}
    zero: {days_to_extend: '本日まで'}
    passed: {extendable: false}
rules:
  - id: trial-extend-in-time
    intents: [trial-extend]
    priority: 30
    when: {fact: today, op: on_or_before, ref: extend_by}
    set: {extendable: true}
    say: 試用期間の終了日（{trial_end}）から 30 日以内のため、{extend_by}まで延長できます（あと{days_to_extend}日）。
  - id: trial-extend-too-late
    intents: [trial-extend]
    priority: 20
    when: {fact: today, op: after, ref: extend_by}
    set: {extendable: false}
    say: 試用期間の終了日（{trial_end}）から 30 日を過ぎているため、延長できません。
  - id: trial-extend-ask
    intents: [trial-extend]
    priority: 10
    when: {not: {fact: trial_end, op: exists}}
    ask: [trial_end]
    follow_up: 試用期間の終了日を教えていただければ、延長できる期限をお調べします。
"""

QUESTION = "試用期間の終了日は2025年5月1日です。いつまで延長できますか？"


def _third_product(root: Path) -> tuple[Path, Path]:
    """The shipped knowledge plus CloudSafe: its FAQ file, its rule file, and a date role of its own."""
    faq, rules = root / "faq", root / "rules"
    shutil.copytree(ROOT / "faq", faq)
    shutil.copytree(ROOT / "rules", rules)
    (faq / "cloudsafe.yaml").write_text(CLOUDSAFE_FAQ, encoding="utf-8")
    (rules / "cloudsafe.yaml").write_text(CLOUDSAFE_RULES, encoding="utf-8")
    facts = (rules / "facts.yaml").read_text(encoding="utf-8")
    cues = "[試用期間の終了日, 試用期間の終了, 体験版の期限]"
    facts = facts.replace("date_roles:\n", f"date_roles:\n  trial_end: {cues}\n", 1)
    facts = facts.replace("\nlabels:\n", "\nlabels:\n  trial_end: 試用期間の終了日\n", 1)
    (rules / "facts.yaml").write_text(facts, encoding="utf-8")
    return faq, rules


@pytest.fixture(scope="module")
def third(tokenizer: FugashiTokenizer, tmp_path_factory: pytest.TempPathFactory) -> Bot:
    root = tmp_path_factory.mktemp("third")
    faq, rules = _third_product(root)
    return load_bot(Settings(faq_dir=faq, rules_dir=rules, state_file=root / "state.sqlite3",
                             feedback_file=root / "feedback.jsonl", rate_limit="off",
                             slack_signing_secret="s3cret"), tokenizer=tokenizer)


EXPECTED = {"name": "extend_by", "label": "延長できる期限", "text": "2025年5月31日", "note": "あと16日",
            "passed": False}


def test_a_third_products_dates_are_labelled_by_its_rule_file(third: Bot) -> None:
    app = create_app(bot=third, settings=third.settings)
    body = app.test_client().post("/api/ask", json={"text": QUESTION, "today": TODAY.isoformat()}).get_json()
    assert (body["intent"], body["rule"]) == ("trial-extend", "trial-extend-in-time")
    assert body["dates"] == [EXPECTED]
    late = app.test_client().post("/api/ask", json={"text": QUESTION, "today": "2025-06-01"}).get_json()
    assert late["rule"] == "trial-extend-too-late"
    assert late["dates"] == [{**EXPECTED, "note": None, "passed": True}]


def test_on_the_deadline_day_a_count_says_what_its_file_says_for_zero(third: Bot) -> None:
    # 「あと0日」 reads as a mistake: on the day itself the file's own words for 0 are shown
    on_the_day = third.ask(QUESTION, today=date(2025, 5, 31))
    assert list(on_the_day.dates) == [{**EXPECTED, "note": "本日まで"}]
    assert "2025年5月31日まで延長できます（本日まで）。" in on_the_day.answer  # as the date under it says
    day_before = third.ask(QUESTION, today=date(2025, 5, 30))
    assert list(day_before.dates) == [{**EXPECTED, "note": "あと1日"}]
    assert "（あと1日）" in day_before.answer


def test_an_answer_writes_a_zero_count_as_its_glance_does() -> None:
    glance = Glance("end", "終了日", counts=(("days", "あと{n}日"), ("over", "{n}日超過")), zero={"days": ""})
    start = Glance("start", "開始日", counts=(("wait", "あと{n}日"),), zero={"wait": "本日"})
    display = Display(glance=(glance, start))
    say = "{end}まで（あと{days}日）、開始は{start}（あと{wait}日）、{over}日超過"
    assert display.spoken(say, {"days": 0, "wait": 0, "over": 0}) == "{end}まで、開始は{start}（本日）、{over}日超過"
    assert display.spoken(say, {"days": 3, "wait": False, "over": 0}) == say  # only a count of 0; a flag is no count


def test_a_count_is_written_as_the_answers_write_numbers() -> None:
    glance = Glance("end", "終了日", counts=(("days", "あと{n}日"),), zero={"days": ""})
    display = Display(glance=(glance,))
    assert [d["note"] for d in display.dates({"end": "2052-01-01", "days": 12345})] == ["あと12,345日"]
    assert [d["note"] for d in display.dates({"end": "2052-01-01", "days": "9999/10031"})] == ["あと9999〜10,031日"]
    assert [d["note"] for d in display.dates({"end": "2025-05-15", "days": 0})] == [None]  # '' says nothing
    assert written_number(12345) == render_value(12345) == "12,345"


def test_the_agents_page_gets_a_third_products_labels(third: Bot) -> None:
    app = create_app(bot=third, settings=third.settings)
    data = app.test_client().get("/api/agent/facts").get_json()
    assert {"name": "trial_end", "label": "試用期間の終了日"} in data["fact_labels"]
    assert data["facts"]["trial_end"] == "date"
    (cloudsafe,) = [p for p in data["products"] if p["id"] == "cloudsafe"]
    assert cloudsafe["values"] == [
        {"name": "extend_by", "label": "延長できる期限", "unit": None},
        {"name": "days_to_extend", "label": "延長期限までの日数", "unit": "日"},
        {"name": "extendable", "label": "延長できる", "unit": None},
    ]


def test_slack_and_the_cli_show_a_third_products_dates(third: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = third.ask(QUESTION, today=TODAY)
    message = render_answer(answer, QUESTION, today=TODAY, share=False)
    fields = [f.text for block in message.blocks for f in (getattr(block, "fields", None) or [])]
    assert fields == ["*延長できる期限*\n2025年5月31日（あと16日）"]
    monkeypatch.setenv("FAQBOT_FAQ_DIR", str(third.settings.faq_dir))
    monkeypatch.setenv("FAQBOT_RULES_DIR", str(third.settings.rules_dir))
    result = CliRunner().invoke(main, ["ask", QUESTION, "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "延長できる期限: 2025年5月31日（あと16日）" in result.output


def test_a_glance_date_shown_once_under_one_label(bot: Bot) -> None:
    # anniv and cycle_anniv are both 契約応当日: the same day is shown once, and the counts follow their date
    answer = bot.ask("契約応当日は2025年2月1日、2024年10月16日にライセンスを追加しました。月割りは？",
                     today=date(2024, 10, 1))
    assert [(d["label"], d["text"], d["note"]) for d in answer.dates] == [
        ("契約応当日", "2025年2月1日", None),
        ("支払い対象期間の最終日", "2025年1月31日", None),
        ("月割り開始日", "2024年11月1日", "3か月分"),
        ("無料でご利用いただける最終日", "2024年10月31日", "16日間"),
    ]


# --- the roles' behaviour comes from rules/facts.yaml ---------------------------------------------------------


def test_a_recurring_role_means_the_next_time() -> None:
    # named without a year, a recurring role's date is its next occurrence; any other role's stays in this year
    text = "締め日は3月1日です"
    once = extract_facts(text, today=TODAY, roles=Roles.of({"closing": ["締め日"]}))
    every_year = extract_facts(text, today=TODAY, roles=Roles.of({"closing": ["締め日"]}, recurring=["closing"]))
    assert [(f.name, f.value) for f in once] == [("closing", date(2025, 3, 1))]
    assert [(f.name, f.value) for f in every_year] == [("closing", date(2026, 3, 1))]


def test_a_later_order_takes_the_role_the_file_names() -> None:
    text = "最初の購入は2024年1月10日、2回目の購入は2024年3月5日です"
    roles = {"purchase": ["購入"], "repeat": ["買い増し"]}
    plain = extract_facts(text, today=TODAY, roles=Roles.of(roles))
    later = extract_facts(text, today=TODAY, roles=Roles.of(roles, later_orders={"purchase": "repeat"}))
    assert [f.name for f in plain] == ["purchase", "purchase"]
    assert [(f.name, f.value) for f in later] == [("purchase", date(2024, 1, 10)), ("repeat", date(2024, 3, 5))]


# --- what is wrong in labels and glance is reported with its file and line -------------------------------------


def _problems(tmp_path: Path, rules_text: str, facts_edit: tuple[str, str] | None = None) -> list[str]:
    faq, rules = _third_product(tmp_path)
    (rules / "cloudsafe.yaml").write_text(rules_text, encoding="utf-8")
    if facts_edit:
        path = rules / "facts.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(*facts_edit, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_knowledge(faq, rules)
    return [str(p) for p in info.value.problems]


def _line(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_a_value_without_a_label_is_reported(tmp_path: Path) -> None:
    text = CLOUDSAFE_RULES.replace("  days_to_extend: 延長期限までの日数\n", "")
    assert _problems(tmp_path, text) == [
        f"rules/cloudsafe.yaml:{_line(text, 'labels:')}: labels: no label for 'days_to_extend' (hint: the agents' "
        "page names every value by its label: add them under labels)"]


@pytest.mark.parametrize(("old", "new", "start", "message"), [
    ("  extendable: 延長できる\n", "  extendable: 延長できる\n  extend_until: 延長\n", "  extend_until",
     "labels.extend_until: 'extend_until' is neither a computation nor a key of a rule's set (hint: did you mean "
     "'extend_by'?)"),
    ("  extendable: 延長できる\n", "  extendable: ' '\n", "  extendable",
     "labels.extendable: the label is blank (hint: write the name a person knows the value by: 更新できる期限)"),
    ("  - date: extend_by\n", "  - date: days_to_extend\n", "  - date",
     "glance[0].date: 'days_to_extend' is a number: a glance shows dates (hint: one of: extend_by)"),
    ("    counts: {days_to_extend: 'あと{n}日'}", "    counts: {days_to_extend: 'あと{days}日'}", "    counts",
     "glance[0].counts.days_to_extend: a count's text holds {n} and no other placeholder (hint: e.g. あと{n}日)"),
    ("    counts: {days_to_extend: 'あと{n}日'}\n    zero: {days_to_extend: '本日まで'}",
     "    counts: {extend_by: 'あと{n}日'}", "    counts",
     "glance[0].counts.extend_by: 'extend_by' is not a computed number (hint: one of: days_to_extend)"),
    ("    zero: {days_to_extend: '本日まで'}", "    zero: {days_to_extnd: '本日まで'}", "    zero",
     "glance[0].zero.days_to_extnd: 'days_to_extnd' is not one of this date's counts (hint: did you mean "
     "'days_to_extend'?)"),
    ("    zero: {days_to_extend: '本日まで'}", "    zero: {days_to_extend: 'あと{n}日'}", "    zero",
     "glance[0].zero.days_to_extend: the text for 0 holds no placeholder (hint: e.g. 本日まで)"),
    ("    passed: {extendable: false}", "    passed: {extendible: false}", "    passed",
     "glance[0].passed.extendible: 'extendible' is neither a computation nor a key of a rule's set (hint: did you "
     "mean 'extendable'?)"),
])
def test_what_is_wrong_in_labels_and_glance_is_reported(tmp_path: Path, old: str, new: str, start: str,
                                                        message: str) -> None:
    text = CLOUDSAFE_RULES.replace(old, new, 1)
    assert text != CLOUDSAFE_RULES
    assert _problems(tmp_path, text) == [f"rules/cloudsafe.yaml:{_line(text, start)}: {message}"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("recurring: [billing, anniversary]", "recurring: [billing, aniversary]",
     "recurring[1]: unknown role 'aniversary' (hint: did you mean 'anniversary'?)"),
    ("later_orders: {first_order: added, sign_order: added}", "later_orders: {first_order: addded}",
     "later_orders.first_order: unknown role 'addded' (hint: did you mean 'added'?)"),
    ("  trial_end: 試用期間の終了日\n", "", "labels: no label for 'trial_end' (hint: the agents' page names every "
     "fact by its label: add them under labels)"),
    ("  quantity: 数量\n", "  quantity: 数量\n  quantityy: 数\n",
     "labels.quantityy: unknown fact 'quantityy' (hint: did you mean 'quantity'?)"),
])
def test_what_is_wrong_in_the_facts_file_is_reported(tmp_path: Path, old: str, new: str, message: str) -> None:
    problems = _problems(tmp_path, CLOUDSAFE_RULES, (old, new))
    assert len(problems) == 1 and problems[0].startswith("rules/facts.yaml:")
    assert problems[0].split(": ", 1)[1] == message
