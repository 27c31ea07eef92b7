"""Rule files: validation with file/line/hint, the shipped examples, and the engine's semantics."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot import Bot, Settings
from bot.errors import ConfigError
from bot.knowledge import load_knowledge
from bot.rules import RuleSet, check_examples
from bot.text import FugashiTokenizer

from .conftest import ROOT

GOOD = """\
product: virusbuster
computations:
  deadline: {add: {date: expiry, years: 2}}
rules:
  - id: ok
    intents: [renew-after-expiry]
    priority: 10
    when: {fact: today, op: on_or_before, ref: deadline}
    say: '{deadline}まで'
"""


def _rules_dir(tmp_path: Path, text: str | None = None, name: str = "virusbuster.yaml") -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    shutil.copy(ROOT / "rules" / "facts.yaml", d / "facts.yaml")
    if text is not None:
        (d / name).write_text(_labelled(text), encoding="utf-8")
    return d


def _labelled(text: str) -> str:
    """A rule file with a label for every value it computes or sets, added after its last line (so the lines these
    tests expect stay where they are): labels are tested in test_display.py, the rules' semantics here."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(data, dict) or "labels" in data:
        return text
    names = [*(data.get("computations") or {})]
    for rule in data.get("rules") or []:
        if isinstance(rule, dict) and isinstance(rule.get("set"), dict):
            names += [n for n in rule["set"] if n not in names]
    names = [n for n in names if isinstance(n, str)]
    if not names:
        return text
    return text + ("" if text.endswith("\n") else "\n") + "labels: {" + ", ".join(f"{n}: 値" for n in names) + "}\n"


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_knowledge(ROOT / "faq", _rules_dir(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_shipped_rules_load_and_every_example_passes() -> None:
    k = load_knowledge(ROOT / "faq", ROOT / "rules", run_examples=True)
    assert len(k.rules.examples) >= 20
    assert check_examples(k.rules) == []


def test_every_spec_policy_with_a_computation_has_rules() -> None:
    k = load_knowledge(ROOT / "faq", ROOT / "rules")
    for intent in ["renew-after-expiry", "renew-early", "auto-renew-cancel", "payment-reflection",
                   "invoice-by-order-number", "anniversary", "license-term", "proration", "coverage-period",
                   "sign-reset"]:
        assert k.rules.for_intent(intent), intent


def test_every_rule_is_reachable_by_some_example_or_is_a_follow_up() -> None:
    k = load_knowledge(ROOT / "faq", ROOT / "rules")
    covered = {ex.expect.get("rule") for ex in k.rules.examples}
    # a redirect rule is reached when an example expects its hand-over (its `rule` is the other entry's)
    covered |= {step["by"] for ex in k.rules.examples if ex.expect.get("redirect")
                for step in k.rules.decide(ex.intent, ex.facts, ex.today).trace if "redirect" in step}
    unreached = [r.id for r in k.rules.rules if r.id not in covered and not r.ask]
    assert unreached == [], "rules with no example: " + ", ".join(unreached)


def test_good_file_loads(tmp_path: Path) -> None:
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, GOOD))
    decision = k.rules.decide("renew-after-expiry", {"expiry": date(2024, 2, 29)}, date(2025, 1, 1))
    assert decision.rule == "ok"
    assert decision.say == "2026年2月28日まで"
    assert decision.computed == {"deadline": "2026-02-28"}
    assert decision.notes and "末日" in decision.notes[0]  # clamping is said


def test_typo_in_fact_name(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("date: expiry", "date: expirey"))
    assert problems == ["rules/virusbuster.yaml:3: computations.deadline.add: unknown fact 'expirey' "
                        "(hint: did you mean 'expiry'?)"]


def test_unknown_operator(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("op: on_or_before", "op: on_or_befor"))
    assert problems == ["rules/virusbuster.yaml:8: rules[0].when.op: unknown operator 'on_or_befor' "
                        "(hint: did you mean 'on_or_before'?)"]


def test_unknown_computation_operator(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("{add:", "{ad:"))
    assert problems == ["rules/virusbuster.yaml:3: computations.deadline: unknown operator 'ad' "
                        "(hint: did you mean 'add'?)"]


def test_unknown_placeholder_and_intent(tmp_path: Path) -> None:
    text = GOOD.replace("'{deadline}まで'", "'{dedline}まで'").replace("[renew-after-expiry]", "[renew-after-expire]")
    problems = _problems(tmp_path, text)
    assert "rules/virusbuster.yaml:6: rules[0].intents: unknown intent 'renew-after-expire' " \
           "(hint: did you mean 'renew-after-expiry'?)" in problems
    assert "rules/virusbuster.yaml:9: rules[0].say: unknown placeholder '{dedline}' " \
           "(hint: did you mean 'deadline'?)" in problems


@pytest.mark.parametrize(("template", "says"), [
    ("'{deadline'", "malformed template: expected '}' before end of string"),
    ("'{deadline}まで}'", "malformed template: Single '}' encountered in format string"),
    ("'{deadline!z}まで'", "malformed template: '{deadline!z}' takes no conversion or format"),
    ("'{deadline:%Y}まで'", "malformed template: '{deadline:%Y}' takes no conversion or format"),
    ("'{0}まで'", "malformed template: '{0}' is not a placeholder name"),
])
def test_a_malformed_template_is_a_problem_with_its_line_not_a_crash(tmp_path: Path, template: str,
                                                                     says: str) -> None:
    problems = _problems(tmp_path, GOOD.replace("'{deadline}まで'", template))
    assert problems == [f"rules/virusbuster.yaml:9: rules[0].say: {says} "
                        "(hint: write a placeholder as {name}, a brace of the text as {{ or }})"]


def test_bad_yaml(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD + "  - id: [unclosed\n")
    assert len(problems) == 1
    assert problems[0].startswith("rules/virusbuster.yaml:11: invalid YAML:"), problems


def test_broken_faq_file_is_reported_once_not_again_by_every_rule(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", faq)
    path = faq / "virusbuster.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("- id: renew-after-expiry"))
    lines[at] = "- id: [renew-after-expiry\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_knowledge(faq, ROOT / "rules")
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith("faq/virusbuster.yaml:"), problems
    # with the knowledge files whole, a rule's unknown intent is still reported (test_unknown_placeholder_and_intent)


def test_unknown_rule_key(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("priority: 10", "priorty: 10"))
    assert "rules/virusbuster.yaml:7: rules[0].priorty: unknown key (hint: did you mean 'priority'?)" in problems


def test_cycle_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("  deadline: {add: {date: expiry, years: 2}}",
                        "  deadline: {add: {date: other, years: 2}}\n  other: {day_before: deadline}")
    assert any("cycle" in p for p in _problems(tmp_path, text))


def test_broken_example_fails_check(tmp_path: Path) -> None:
    text = GOOD + ("examples:\n"
                   "  - {intent: renew-after-expiry, today: 2025-01-01, facts: {expiry: 2024-01-31},\n"
                   "     expect: {rule: ok, computed: {deadline: 2026-02-01}}}\n")
    with pytest.raises(ConfigError) as info:
        load_knowledge(ROOT / "faq", _rules_dir(tmp_path, text), run_examples=True)
    assert [str(p) for p in info.value.problems] == [
        "rules/virusbuster.yaml:11: example: expected deadline = 2026-02-01, got 2026-01-31"]


@pytest.mark.parametrize(
    ("condition", "facts", "held"),
    [
        ("{all: [{fact: years, op: gte, value: 2}, {fact: years, op: lt, value: 4}]}", {"years": 3}, True),
        ("{any: [{fact: years, op: eq, value: 1}, {fact: years, op: eq, value: 3}]}", {"years": 3}, True),
        ("{not: {fact: years, op: exists}}", {"years": 3}, False),
        ("{not: {fact: years, op: exists}}", {}, True),
        ("{fact: years, op: in, value: [1, 2]}", {"years": 3}, False),
        ("{fact: order_number, op: matches, value: '^AB-'}", {"order_number": "AB-1"}, True),
        ("{fact: order_number, op: ne, value: x}", {}, False),  # a missing fact never satisfies a comparison
        ("{fact: expiry, op: before, value: 2024-01-01}", {"expiry": date(2023, 12, 31)}, True),
        ("{fact: expiry, op: after, value: '2024-01-01'}", {"expiry": date(2023, 12, 31)}, False),
    ],
)
def test_condition_operators(tmp_path: Path, condition: str, facts: dict[str, object], held: bool) -> None:
    text = f"""\
product: virusbuster
rules:
  - id: r
    intents: [renew-early]
    priority: 1
    when: {condition}
    say: はい
"""
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, text))
    assert (k.rules.decide("renew-early", facts, date(2025, 1, 1)).rule == "r") is held


def test_priority_decides_and_trace_says_why(tmp_path: Path) -> None:
    text = """\
product: virusbuster
rules:
  - {id: low, intents: [renew-early], priority: 1, say: low}
  - {id: high, intents: [renew-early], priority: 9, when: {fact: years, op: exists}, say: high}
"""
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, text))
    decision = k.rules.decide("renew-early", {}, date(2025, 1, 1))
    assert decision.rule == "low"
    assert [t["rule"] for t in decision.trace if "rule" in t] == ["high", "low"]
    assert decision.trace[0]["held"] is False
    assert decision.trace[0]["conditions"] == [{"fact": "years", "op": "exists", "value": True, "held": False}]
    assert k.rules.decide("renew-early", {"years": 2}, date(2025, 1, 1)).rule == "high"


def test_the_trace_shows_the_constants_a_computation_adds() -> None:
    k = load_knowledge(ROOT / "faq", ROOT / "rules")
    decision = k.rules.decide("renew-after-expiry", {"expiry": date(2023, 6, 30)}, date(2025, 5, 15))
    steps = next(t["computations"] for t in decision.trace if "computations" in t)
    deadline = next(s for s in steps if s["name"] == "renewal_deadline")
    assert deadline == {"name": "renewal_deadline", "op": "add", "inputs": {"expiry": "2023-06-30"},
                        "value": "2025-06-30", "constants": {"years": 2}}


REDIRECT = GOOD + """\
  - id: hand-over
    intents: [renew-before-expiry]
    priority: 10
    when: {fact: expiry, op: before, ref: today}
    redirect: renew-after-expiry
"""


def test_a_redirect_rule_hands_the_question_to_the_other_entry(tmp_path: Path) -> None:
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, REDIRECT))
    decision = k.rules.decide("renew-before-expiry", {"expiry": date(2024, 1, 10)}, date(2025, 1, 1))
    assert decision.redirect == "renew-after-expiry"
    assert decision.rule == "ok" and decision.say == "2026年1月10日まで"  # the other entry's rules decided
    assert {"redirect": "renew-after-expiry", "by": "hand-over"} in decision.trace
    still = k.rules.decide("renew-before-expiry", {"expiry": date(2025, 3, 1)}, date(2025, 1, 1))
    assert still.redirect is None and still.rule is None  # not expired: the entry answers as it is


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    redirect: renew-after-expiry", "    redirect: renew-after-expiri"),
         "rules/virusbuster.yaml:14: rules[1].redirect: unknown intent 'renew-after-expiri' "
         "(hint: did you mean 'renew-after-expiry'?)"),
        (("    redirect: renew-after-expiry", "    redirect: anniversary"),
         "rules/virusbuster.yaml:14: rules[1].redirect: intent 'anniversary' belongs to product 'adobe-vip'"),
        (("    redirect: renew-after-expiry", "    redirect: renew-after-expiry\n    say: x"),
         "rules/virusbuster.yaml:10: rules[1]: a 'redirect' rule hands the question over: no 'say', 'ask' or "
         "'follow_up'"),
        (("    intents: [renew-before-expiry]", "    intents: [renew-after-expiry]"),
         "rules/virusbuster.yaml:10: redirect: 'renew-after-expiry' has redirect rules of its own; redirect "
         "to the entry that answers"),
    ],
    ids=["unknown-intent", "other-product", "redirect-and-say", "chain"],
)
def test_a_bad_redirect_is_refused_with_its_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert _problems(tmp_path, REDIRECT.replace(*change)) == [expected]


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_knowledge(ROOT / "faq", ROOT / "rules").rules


TODAY = date(2025, 5, 15)


def test_a_month_whose_day_changes_the_verdict_is_asked_for(shipped: RuleSet) -> None:
    # expired on 5/1-5/14: past the 2 years; on 5/15-5/31: still renewable. No day is invented.
    decision = shipped.decide("renew-after-expiry", {"expiry": "2023-05"}, TODAY)
    assert decision.rule == "renew-after-expiry-ask" and decision.ask == ("expiry",)
    assert decision.say is None
    assert (decision.follow_up or "").startswith("2023年5月の何日かによって、お答えが変わります。有効期限の日付")
    assert decision.trace[0]["rules_by_day"] == ["renew-after-expiry-renewable", "renew-after-expiry-too-late"]


def test_a_month_ending_on_the_deadline_day_is_still_answered_as_a_month(shipped: RuleSet) -> None:
    # on 2025-06-01 an expiry in 2023年6月 is renewable whatever its day (until 6/1 to 6/30): no day-one rule of
    # its own may split the month (a last-day rule did, and the month was asked for its day)
    decision = shipped.decide("renew-after-expiry", {"expiry": "2023-06"}, date(2025, 6, 1))
    assert decision.rule == "renew-after-expiry-renewable"
    assert decision.computed["days_left"] == "0/29"


def test_a_month_whose_day_does_not_change_the_verdict_is_answered_as_a_month(shipped: RuleSet) -> None:
    decision = shipped.decide("renew-after-expiry", {"expiry": "2025-04"}, TODAY)  # 先月
    assert decision.rule == "renew-after-expiry-renewable"
    assert decision.say == "有効期限（2025年4月）から 2 年以内のため、2027年4月まで更新できます（あと686〜715日）。"
    assert decision.notes[0].startswith("2025年4月と、月までのご指定でしたので")
    assert decision.computed == {"renewal_deadline": "2027-04-01/2027-04-30", "days_left": "686/715",
                                 "renewable": True, "expired": True}
    late = shipped.decide("renew-after-expiry", {"expiry": "2023-01"}, TODAY)
    assert late.rule == "renew-after-expiry-too-late"
    assert late.say is not None and "（2025年1月まで、104〜134日超過）" in late.say


def test_a_span_of_days_is_decided_like_a_month(shipped: RuleSet) -> None:
    # 「2023年5月下旬」: every day of it is still within the 2 years, so the answer holds for the span
    decision = shipped.decide("renew-after-expiry", {"expiry": "2023-05-21/2023-05-31"}, TODAY)
    assert decision.rule == "renew-after-expiry-renewable"
    assert decision.say == ("有効期限（2023年5月21日〜2023年5月31日）から 2 年以内のため、"
                            "2025年5月21日〜2025年5月31日まで更新できます（あと6〜16日）。")
    assert decision.notes[0].startswith("日付までのご指定ではありませんでしたので、2023年5月21日〜2023年5月31日の")
    assert decision.computed["renewal_deadline"] == "2025-05-21/2025-05-31"
    # 「5月中旬」 this year: expired on some of its days, not on others: asked, the span named
    asked = shipped.decide("renew-after-expiry", {"expiry": "2025-05-11/2025-05-20"}, TODAY)
    assert asked.rule == "renew-after-expiry-ask" and asked.ask == ("expiry",)
    assert (asked.follow_up or "").startswith("2025年5月11日〜2025年5月20日の何日かによって、お答えが変わります。")
    # 「去年」: a whole year, named as the year
    year = shipped.decide("renew-after-expiry", {"expiry": "2024-01-01/2024-12-31"}, TODAY)
    assert year.say is not None and year.say.startswith("有効期限（2024年）から 2 年以内のため、2026年まで更新できます")
    assert year.notes[0].startswith("2024年と、年までのご指定でしたので、その年のどの日でも")


def test_a_day_specific_note_is_dropped_for_a_month(shipped: RuleSet) -> None:
    # only 2/29 + 2 years is clamped; saying so would name a day the customer never gave
    decision = shipped.decide("renew-after-expiry", {"expiry": "2024-02"}, TODAY)
    assert decision.rule == "renew-after-expiry-renewable"
    assert len(decision.notes) == 1 and "29日" not in decision.notes[0]


def test_exact_dates_rule_asks_rather_than_giving_a_range(shipped: RuleSet) -> None:
    decision = shipped.decide("auto-renew-cancel", {"billing": "2025-06"}, TODAY)
    assert decision.rule == "auto-renew-cancel-ask" and decision.ask == ("billing",)
    assert decision.follow_up is not None and decision.follow_up.startswith("2025年6月の何日かによって、お答えする日付")
    # a month wholly past: too late whatever the day, and no deadline to act by is printed as a range
    late = shipped.decide("auto-renew-cancel", {"billing": "2025-03"}, TODAY)
    assert late.rule == "auto-renew-cancel-late"


def test_a_month_the_rule_does_not_read_changes_nothing(shipped: RuleSet) -> None:
    exact = shipped.decide("proration", {"anniversary": date(2019, 2, 16), "added": date(2018, 10, 1)}, TODAY)
    with_month = shipped.decide("proration", {"anniversary": date(2019, 2, 16), "added": date(2018, 10, 1),
                                              "date": "2024-03"}, TODAY)
    assert with_month.say == exact.say and with_month.notes == exact.notes


def test_a_month_without_an_asking_rule_asks_in_general_words(shipped: RuleSet) -> None:
    # 期限前の更新 with 「今月」's expiry: passed or not depends on the day, and the entry has no rule that asks
    decision = shipped.decide("renew-before-expiry", {"expiry": "2025-05"}, TODAY)
    assert decision.rule is None and decision.redirect is None and decision.ask == ("expiry",)
    assert decision.follow_up == ("2025年5月の何日かによって、お答えが変わります。"
                                  "日付まで教えていただければ、お調べします。")


@pytest.mark.parametrize(
    ("anniversary", "added", "rule", "months", "period", "free"),
    [
        # the seed
        (date(2019, 2, 16), date(2018, 10, 1), "proration-computed", 4, "2018年10月16日から2019年2月15日まで",
         "2018年10月1日から2018年10月15日までの15日間"),
        # within the month before the anniversary: nothing to bill before it, the days until it are free
        (date(2025, 2, 16), date(2025, 2, 1), "proration-at-anniversary", 0, None,
         "2025年2月1日から2025年2月15日までの15日間"),
        # on the anniversary's (clamped) day of the month: no 0-day free period
        (date(2025, 3, 30), date(2025, 2, 28), "proration-computed-no-free-days", 1,
         "2025年2月28日から2025年3月29日まで", None),
        # more than a year before a stated anniversary: to the first anniversary after it
        (date(2025, 3, 15), date(2023, 1, 10), "proration-computed", 2, "2023年1月15日から2023年3月14日まで",
         "2023年1月10日から2023年1月14日までの5日間"),
        # on the anniversary: a full year
        (date(2025, 3, 15), date(2025, 3, 15), "proration-computed-no-free-days", 12,
         "2025年3月15日から2026年3月14日まで", None),
        # after the stated anniversary: to next year's
        (date(2019, 2, 16), date(2019, 2, 20), "proration-computed", 11, "2019年3月16日から2020年2月15日まで",
         "2019年2月20日から2019年3月15日までの24日間"),
    ],
)
def test_proration_periods_are_possible(shipped: RuleSet, anniversary: date, added: date, rule: str, months: int,
                                        period: str | None, free: str | None) -> None:
    decision = shipped.decide("proration", {"anniversary": anniversary, "added": added}, TODAY)
    assert decision.rule == rule and decision.computed["billed_months"] == months
    assert 0 <= months <= 12
    say = decision.say or ""
    assert (period is None or period in say) and (free is None or free in say)
    assert "0日間" not in say and "0か月分" not in say
    if free is None:
        assert "無料" not in say


def test_a_recurring_anniversary_says_which_one_it_used(shipped: RuleSet) -> None:
    decision = shipped.decide("proration", {"anniversary": date(2025, 3, 15), "added": date(2023, 1, 10)}, TODAY)
    assert decision.say is not None and decision.say.startswith("契約応当日が2023年3月15日、")
    assert decision.notes == ("契約応当日は毎年3月15日に巡ってくるため、2023年1月10日より後の最初の契約応当日の"
                              "2023年3月15日で計算しています。",)


def test_the_computed_dates_are_the_ones_the_answer_names(shipped: RuleSet) -> None:
    # the widget, Slack and the agents' page show `computed`: the stated anniversary two years on would contradict
    # the answer's 契約応当日 and 支払い対象期間
    decision = shipped.decide("proration", {"anniversary": date(2025, 3, 15), "added": date(2023, 1, 10)}, TODAY)
    assert decision.say is not None
    shown = {v for v in decision.computed.values() if isinstance(v, str)}
    assert shown == {"2023-03-15", "2023-03-14", "2023-01-15", "2023-01-14"}
    for day in shown:
        y, m, d = (int(p) for p in day.split("-"))
        assert f"{y}年{m}月{d}日" in decision.say


@pytest.mark.parametrize(("intent", "facts", "rule"), [
    ("proration", {}, "proration-ask"),  # its condition reads anniv, which nothing could work out
    ("proration", {"added": date(2018, 10, 1)}, "proration-ask-anniversary"),
])
def test_what_could_not_be_worked_out_is_left_out_of_computed(shipped: RuleSet, intent: str,
                                                             facts: dict[str, date], rule: str) -> None:
    # computed said {"anniv": null}: a client reading computed saw a fact with no value
    decision = shipped.decide(intent, facts, TODAY)
    assert decision.rule == rule and None not in decision.computed.values(), decision.computed


def test_a_rules_file_that_is_not_regular_is_one_problem_and_a_lock_file_none(tmp_path: Path) -> None:
    d = _rules_dir(tmp_path, GOOD)
    (d / "loop.yaml").symlink_to("loop.yaml")  # read_bytes raised OSError (ELOOP) outside any error handling
    (d / ".#virusbuster.yaml").symlink_to("user@host.1234:1700000000")  # Emacs's lock: not a rules file at all
    assert _problems_in(d) == ["rules/loop.yaml: not a regular file: a symbolic link that loops ('loop.yaml') "
                               "(hint: move it out of the folder, or rename it so it does not end in .yaml)"]


def _problems_in(rules: Path, *, run_examples: bool = False) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_knowledge(ROOT / "faq", rules, run_examples=run_examples)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(("condition", "expected"), [
    # each of these was loaded, then failed while answering: "cannot compare expiry=… after 'tomorrow'"
    ("{fact: expiry, op: after, value: tomorrow}",
     "rules[0].when.value: 'expiry' is a date, and 'tomorrow' is not a date (must be a date written YYYY-MM-DD) "
     "(hint: write a date as 2025-06-30, or compare with another date: ref: today)"),
    ("{fact: expiry, op: eq, value: '2025-02-30'}",
     "rules[0].when.value: 'expiry' is a date, and '2025-02-30' is not a date (must be a day of the calendar: "
     "2025-02 has 28 days) (hint: write a date as 2025-06-30, or compare with another date: ref: today)"),
    ("{fact: deadline, op: lt, value: 2}",
     "rules[0].when.value: 'deadline' is a date, and '2' is not a date (must be a date written YYYY-MM-DD) "
     "(hint: write a date as 2025-06-30, or compare with another date: ref: today)"),
    ("{fact: expiry, op: in, value: [2024-01-01, soon]}",
     "rules[0].when.value[1]: 'expiry' is a date, and 'soon' is not a date (must be a date written YYYY-MM-DD) "
     "(hint: write a date as 2025-06-30, or compare with another date: ref: today)"),
    ("{fact: years, op: gte, value: three}",
     "rules[0].when.value: 'years' is a number, and 'three' is not a number (hint: write a number: 3)"),
    ("{fact: years, op: before, value: 2024-01-01}",
     "rules[0].when.op: 'before' compares dates, and 'years' is a number (hint: use eq, lt, gt …)"),
    ("{fact: expiry, op: before, ref: years}",
     "rules[0].when.ref: 'expiry' is a date and 'years' is a number: they do not compare"),
    ("{fact: order_kind, op: eq, value: 7}",
     "rules[0].when.value: 'order_kind' is text, and '7' is not text (hint: quote it: '7')"),
    ("{fact: unreal_date, op: eq, value: expiri}",
     "rules[0].when.value: 'unreal_date' is the role of a date, and 'expiri' is not the role of a date "
     "(hint: did you mean 'expiry'?)"),
], ids=["date-after-word", "no-such-day", "computed-date-lt-number", "date-in-list", "years-gte-word",
        "years-before", "date-before-years", "order-kind-number", "unreal-date-typo"])
def test_a_value_that_does_not_fit_the_fact_is_refused_at_load(tmp_path: Path, condition: str,
                                                               expected: str) -> None:
    text = GOOD.replace("{fact: today, op: on_or_before, ref: deadline}", condition)
    assert _problems(tmp_path, text) == [f"rules/virusbuster.yaml:8: {expected}"]


@pytest.mark.parametrize(("add", "expected"), [
    ("{date: years, years: 2}", "'date' needs a date, and 'years' is a number"),
    ("{date: expiry, years: expiry}", "'years' needs a number, and 'expiry' is a date"),
])
def test_a_computation_reading_a_fact_of_the_wrong_kind_is_refused(tmp_path: Path, add: str, expected: str) -> None:
    problems = _problems(tmp_path, GOOD.replace("{date: expiry, years: 2}", add))
    assert problems == [f"rules/virusbuster.yaml:3: computations.deadline.add: {expected}"]


def test_quoted_dates_in_a_list_are_dates(tmp_path: Path) -> None:
    text = GOOD.replace("{fact: today, op: on_or_before, ref: deadline}",
                        "{fact: expiry, op: in, value: ['2024-01-31', 2024-02-29]}")
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, text))
    assert k.rules.decide("renew-after-expiry", {"expiry": date(2024, 1, 31)}, date(2025, 1, 1)).rule == "ok"


def test_a_date_out_of_the_calendar_cannot_be_computed_and_the_rule_does_not_fire(tmp_path: Path) -> None:
    # it raised RuleError ("year 102023 is out of range") while answering: an HTTP 500
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, GOOD.replace("years: 2", "years: 100000")))
    decision = k.rules.decide("renew-after-expiry", {"expiry": date(2023, 6, 30)}, date(2025, 5, 15))
    assert decision.rule is None
    steps = next(t["computations"] for t in decision.trace if "computations" in t)
    assert steps == [{"name": "deadline", "op": "add", "inputs": {"expiry": "2023-06-30"}, "value": None,
                      "constants": {"years": 100000}, "failed": "year 102023 is out of range"}]


def test_the_answer_still_comes_back_when_a_date_cannot_be_computed(tmp_path: Path,
                                                                    tokenizer: FugashiTokenizer) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "virusbuster.yaml"
    text = path.read_text(encoding="utf-8")
    assert "renewal_deadline: {add: {date: expiry, years: 2}}" in text
    path.write_text(text.replace("renewal_deadline: {add: {date: expiry, years: 2}}",
                                 "renewal_deadline: {add: {date: expiry, years: 100000}}"), encoding="utf-8")
    settings = Settings(rules_dir=rules, state_file=tmp_path / "state.sqlite3", feedback_file=tmp_path / "f.jsonl")
    bot = Bot(load_knowledge(ROOT / "faq", rules), settings=settings, tokenizer=tokenizer)
    answer = bot.ask("2023年6月30日に期限が切れたけど、まだ更新できる？", today=TODAY)
    assert answer.intent == "renew-after-expiry" and answer.rule is None
    assert "有効期間が切れて 2 年以内の場合" in answer.answer  # the entry's own text, without a computed deadline


ASKS = GOOD + """\
  - id: asks
    intents: [renew-after-expiry]
    priority: 5
    ask: [FACT]
    follow_up: 教えてください
"""


@pytest.mark.parametrize(("fact", "hint"), [
    ("date", "a reply's dates fill the roles asked: ask for the role (expiry, billing)"),
    ("today", "today is always known"),
    ("unreal_date", "it names the role of a date that does not exist: ask for that role (expiry) again"),
    ("order_kind", "ask for order_number: its kind is read from it"),
])
def test_asking_for_a_fact_no_reply_can_give_is_refused(tmp_path: Path, fact: str, hint: str) -> None:
    # the follow-up could never be answered: every reply would be taken for a new question
    assert _problems(tmp_path, ASKS.replace("FACT", fact)) == [
        f"rules/virusbuster.yaml:13: rules[1].ask: '{fact}' cannot be asked for: no reply fills it (hint: {hint})"]


@pytest.mark.parametrize("fact", ["expiry", "billing", "years", "quantity", "order_number"])
def test_a_reply_can_give_the_date_roles_and_read_values(tmp_path: Path, fact: str) -> None:
    load_knowledge(ROOT / "faq", _rules_dir(tmp_path, ASKS.replace("FACT", fact)))


def test_a_second_rules_file_for_a_product_is_refused(tmp_path: Path) -> None:
    # it replaced the computations of the first (whose examples then failed oddly), or added rules unseen
    d = _rules_dir(tmp_path, GOOD)
    (d / "virusbuster-extra.yaml").write_text(
        "# more rules\nproduct: virusbuster\nrules:\n  - {id: extra, intents: [renew-early], priority: 1, say: x}\n",
        encoding="utf-8")
    assert _problems_in(d) == ["rules/virusbuster-extra.yaml:2: product: product 'virusbuster' already has rules in "
                               "rules/virusbuster.yaml (hint: put a product's rules, computations and examples in "
                               "one file)"]


EXAMPLE = GOOD + """\
examples:
  - intent: renew-after-expiry
    today: 2025-01-01
    facts: {expiry: 2024-01-31}
    expect: {rule: ok, computed: {deadline: 2026-01-31}, say: [2026年1月31日まで]}
"""


def test_the_example_file_passes(tmp_path: Path) -> None:
    k = load_knowledge(ROOT / "faq", _rules_dir(tmp_path, EXAMPLE), run_examples=True)
    assert k.rules.examples[0].facts == {"expiry": date(2024, 1, 31)}


@pytest.mark.parametrize(("change", "expected"), [
    # a quoted date the calendar does not have stopped `faqbot check` with a ValueError
    (("{expiry: 2024-01-31}", "{expiry: '2023-02-30'}"),
     "rules/virusbuster.yaml:13: examples[0].facts.expiry: '2023-02-30' is not a date (must be a day of the "
     "calendar: 2023-02 has 28 days) (hint: write a date as 2025-06-30)"),
    # the typos below passed, and the example tested something else or nothing
    (("  - intent: renew-after-expiry", "  - intent: renew-after-expiri"),
     "rules/virusbuster.yaml:11: examples[0].intent: unknown intent 'renew-after-expiri' "
     "(hint: did you mean 'renew-after-expiry'?)"),
    (("  - intent: renew-after-expiry", "  - intent: anniversary"),
     "rules/virusbuster.yaml:11: examples[0].intent: intent 'anniversary' belongs to product 'adobe-vip'"),
    (("{expiry: 2024-01-31}", "{expirie: 2024-01-31}"),
     "rules/virusbuster.yaml:13: examples[0].facts.expirie: unknown fact 'expirie' (hint: did you mean 'expiry'?)"),
    (("{expiry: 2024-01-31}", "{expiry: 2024-01-31, years: three}"),
     "rules/virusbuster.yaml:13: examples[0].facts.years: 'three' is not a number (hint: write a number: 3)"),
    (("{expiry: 2024-01-31}", "{expiry: 2024-01-31, today: 2025-01-01}"),
     "rules/virusbuster.yaml:13: examples[0].facts.today: today is the example's own key "
     "(hint: write today: beside facts)"),
    (("{rule: ok,", "{rul: ok,"),
     "rules/virusbuster.yaml:14: examples[0].expect.rul: unknown key (hint: did you mean 'rule'?)"),
    (("say: [2026年1月31日まで]", "sya: [zzz]"),
     "rules/virusbuster.yaml:14: examples[0].expect.sya: unknown key (hint: did you mean 'say'?)"),
    (("computed: {deadline:", "computed: {dedline:"),
     "rules/virusbuster.yaml:14: examples[0].expect.computed.dedline: 'dedline' is never computed "
     "(hint: did you mean 'deadline'?)"),
    # a string was checked letter by letter: any answer holding 2, 0, 年 … passed
    (("say: [2026年1月31日まで]", "say: 2026年1月31日まで"),
     "rules/virusbuster.yaml:14: examples[0].expect.say: expected a list "
     "(hint: write a list, even of one item: [like this])"),
], ids=["no-such-day", "unknown-intent", "other-products-intent", "unknown-fact", "years-not-a-number",
        "today-in-facts", "expect-rul", "expect-sya", "unknown-computed", "say-as-a-string"])
def test_an_example_is_checked_strictly(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert _problems_in(_rules_dir(tmp_path, EXAMPLE.replace(*change)), run_examples=True) == [expected]
