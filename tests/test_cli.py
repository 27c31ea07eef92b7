"""The CLI: answers, look-ups, checks and evaluation; errors as messages and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

from .conftest import ROOT


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_ask_json(runner: CliRunner) -> None:
    question = "2023年6月30日に期限が切れたけど更新できる？"
    result = runner.invoke(main, ["ask", question, "--today", "2025-05-15", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["intent"] == "renew-after-expiry"
    assert body["computed"]["renewal_deadline"] == "2025-06-30"
    assert "2025年6月30日まで更新できます" in body["answer"]


def test_ask_explain_shows_facts_rules_and_computations(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "2023年6月30日に期限が切れたけど更新できる？", "--today", "2025-05-15",
                                  "--json", "--explain"])
    trace = json.loads(result.output)["trace"]
    assert trace["facts"][0] == {"name": "expiry", "value": "2023-06-30", "span": [0, 10], "text": "2023年6月30日"}
    tried = [t for t in trace["rules"] if "rule" in t]
    # the rules are tried by priority: the years rule (45) and not-expired (40) fail before renewable holds
    assert [t["rule"] for t in tried][:2] == ["renew-with-years-new-expiry", "renew-after-expiry-not-expired"]
    assert not tried[0]["held"] and not tried[1]["held"]
    assert tried[2]["rule"] == "renew-after-expiry-renewable" and tried[2]["held"]
    steps = next(t["computations"] for t in trace["rules"] if "computations" in t)
    assert {"name": "renewal_deadline", "op": "add", "inputs": {"expiry": "2023-06-30"},
            "value": "2025-06-30", "constants": {"years": 2}} in steps


@pytest.mark.parametrize(("option", "value"), [("--port", "99999"), ("--port", "-1"), ("--workers", "0"),
                                             ("--threads", "0")])
def test_serve_refuses_a_port_or_a_count_it_cannot_use(runner: CliRunner, option: str, value: str) -> None:
    # --port 99999 ended in an OverflowError traceback; --workers 0 bound the port and answered nothing
    result = runner.invoke(main, ["serve", option, value])
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_a_port_in_use_in_one_sentence(runner: CliRunner, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # gunicorn retried five times in JSON log lines, then left its pid file naming a dead process
    monkeypatch.setenv("FAQBOT_PID_FILE", str(tmp_path / "faqbot.pid"))
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        result = runner.invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: cannot serve on 127.0.0.1:{port}: Address already in use "
                             "(another server? choose another --port)\n")
    assert not (tmp_path / "faqbot.pid").exists()


def test_gunicorn_failing_to_bind_leaves_no_pid_file(tmp_path: Path) -> None:
    # a port taken between the CLI's check and gunicorn's bind: gunicorn writes the pid file, then exits
    pid_file = tmp_path / "faqbot.pid"
    script = ("import sys; from bot.config import from_env; from bot.web.server import run_gunicorn\n"
              "run_gunicorn(host='127.0.0.1', port=int(sys.argv[1]), workers=1, threads=1, settings=from_env())")
    with socket.create_server(("127.0.0.1", 0)) as held:
        run = subprocess.run([sys.executable, "-c", script, str(held.getsockname()[1])], cwd=ROOT,
                             env={**os.environ, "FAQBOT_PID_FILE": str(pid_file)}, capture_output=True, timeout=60)
    assert run.returncode == 1 and b"Can't connect" in run.stderr, run.stderr[-2000:]
    assert not pid_file.exists(), pid_file.read_text()


def test_ask_bad_today(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "更新", "--today", "tomorrow"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


@pytest.mark.parametrize(("today", "says"), [
    ("2025-02-30", "'2025-02-30' must be a day of the calendar: 2025-02 has 28 days"),
    ("2025-13-01", "'2025-13-01' must be a day of the calendar: there is no month 13"),
    ("1899-12-31", "'1899-12-31' must be a date from 1900 to 2200"),
    ("20250515", "'20250515' must be a date written YYYY-MM-DD"),  # date.fromisoformat takes it
])
def test_ask_today_says_what_is_wrong(runner: CliRunner, today: str, says: str) -> None:
    result = runner.invoke(main, ["ask", "更新", "--today", today])
    assert result.exit_code == 2 and says in result.output, result.output


def test_ask_empty_text(runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "   "])
    assert result.exit_code == 1 and "'text' is empty" in result.output
    assert "Traceback" not in result.output


def test_search_empty_query(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", " "])
    assert result.exit_code == 1 and "'query' is empty" in result.output, result.output


def test_search(runner: CliRunner) -> None:
    result = runner.invoke(main, ["search", "インボイス", "--limit", "2"])
    assert result.exit_code == 0
    assert result.output.startswith("1. [")
    assert "インボイス" in result.output


def test_check_passes_on_the_shipped_knowledge(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "rule examples passed" in result.output


def _check_with_edit(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                     old: str, new: str) -> str:
    """Run `faqbot check` on a copy of rules/ with one edit; return its output (exit code 1 expected)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setenv("FAQBOT_RULES_DIR", str(tmp_path / "rules"))
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    return result.output


def test_check_reports_a_broken_rule_file(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = _check_with_edit(runner, tmp_path, monkeypatch, "virusbuster.yaml",
                              "{add: {date: expiry, years: 2}}", "{add: {date: expirydate, years: 2}}")
    assert "rules/virusbuster.yaml:" in output
    assert "unknown fact 'expirydate' (hint: did you mean 'expiry'?)" in output


def test_check_fails_on_a_broken_example(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = _check_with_edit(runner, tmp_path, monkeypatch, "adobe-vip.yaml",
                              "anniversary_from_order: 2025-01-16,", "anniversary_from_order: 2025-01-17,")
    assert "expected anniversary_from_order = 2025-01-17, got 2025-01-16" in output


def test_bad_setting_is_named(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_THRESHOLD", "high")
    result = runner.invoke(main, ["ask", "更新"])
    assert result.exit_code == 1 and "FAQBOT_THRESHOLD='high'" in result.output


@pytest.mark.parametrize(("name", "value", "command"), [
    # ask ended in a ZoneInfoNotFoundError traceback; serve started, and answered 500 to every /api/ask
    ("FAQBOT_TIMEZONE", "Mars/Base", ["ask", "更新料金"]),
    ("FAQBOT_TIMEZONE", "Mars/Base", ["serve", "--port", "8661"]),
    ("FAQBOT_TIMEZONE", "Mars/Base", ["reload"]),
    ("FAQBOT_MAX_TEXT_LENGTH", "-5", ["ask", "更新料金"]),  # every question was "longer than -5 characters"
    ("FAQBOT_THRESHOLD", "7", ["search", "更新料金"]),  # nothing was ever answered
    ("FAQBOT_SUGGESTIONS", "-2", ["check"]),  # check said ok; two suggestions were dropped
    ("FAQBOT_CALIBRATION", "bot/calibration.jsn", ["check"]),  # a typo served a neutral model without a word
])
def test_a_bad_setting_stops_every_command_in_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                       name: str, value: str, command: list[str]) -> None:
    monkeypatch.setenv(name, value)
    result = runner.invoke(main, command)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith(f"Error: {name}=") and value in result.output, result.output
    assert result.output.count("\n") == 1  # one line: the variable, its value and what is allowed


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["reload"]])
def test_a_malformed_redis_url_is_named_before_anything_starts(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                                command: list[str]) -> None:
    # serve bound its port and then every worker failed to boot with a traceback; reload printed a ValueError's
    monkeypatch.setenv("REDIS_URL", "127.0.0.1:6379")
    result = runner.invoke(main, command)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("Error: REDIS_URL='127.0.0.1:6379': Redis URL must specify one of the "
                                    "following schemes (redis://, rediss://, unix://)"), result.output


def test_eval_prints_report_and_writes_json(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n- {text: 今日の天気は？, intent: null}\n",
                     encoding="utf-8")
    out = tmp_path / "report.json"
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "fallback precision" in result.output and "in-scope accuracy" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["total"] == 2 and figures["in_scope"] == 1


def test_eval_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新}\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases)])
    assert result.exit_code == 1 and "each item needs 'text' and 'intent'" in result.output


def test_eval_json_into_a_missing_folder_is_refused_before_evaluating(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n", encoding="utf-8")
    out = tmp_path / "no-such-dir" / "report.json"
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15", "--json", str(out)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output == f"Error: cannot write --json {out}: no such folder {out.parent}\n"


def test_eval_refuses_an_unknown_intent_with_its_line_and_the_nearest_id(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n- text: 更新方法\n  intent: renewal-methd\n",
                     encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 1, result.output
    assert result.output == ("Error: 1 problem in the question set:\n"
                             f"  {cases}:3: [1].intent: unknown intent 'renewal-methd' "
                             "(hint: did you mean 'renewal-method'?)\n")


def test_eval_refuses_unknown_keys_and_empty_questions_with_their_lines(runner: CliRunner, tmp_path: Path) -> None:
    # a misspelt today: would be scored against the run's day without a word; a blank question scores nothing
    cases = tmp_path / "cases.yaml"
    cases.write_text("- text: 期限は？\n  intent: null\n  tody: 2025-05-15\n- {text: '  ', intent: null}\n"
                     "- {text: 更新方法, intent: renewal-method, product: virusbuster}\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 1, result.output
    assert result.output == ("Error: 2 problems in the question set:\n"
                             f"  {cases}:3: [0].tody: unknown key 'tody' (hint: did you mean 'today'?)\n"
                             f"  {cases}:4: [1].text: the question is empty\n")


def test_eval_names_the_question_set_when_its_yaml_is_broken(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n- {text: [更新, intent: x}\n",
                     encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: 1 problem in the question set:\n  {cases}:2: invalid YAML: ")
    assert "knowledge" not in result.output


def test_eval_bad_today_in_a_case(runner: CliRunner, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新, intent: null, today: tomorrow}\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{cases}:1: [0].today: 'tomorrow' must be a date written YYYY-MM-DD" in result.output


@pytest.mark.parametrize(("line", "says"), [
    ("- {text: 更新, intent: null, today: 2025-02-30}", "1: invalid YAML: 2025-02-30 is not a day of the calendar"),
    ("- {text: 更新, intent: null, today: 1800-01-01}", "1: [0].today: '1800-01-01' must be a date from 1900 to 2200"),
])
def test_eval_impossible_today_in_a_case(runner: CliRunner, tmp_path: Path, line: str, says: str) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(line + "\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{cases}:{says}" in result.output


def test_eval_refuses_questions_the_bot_would_refuse_with_their_lines(runner: CliRunner, tmp_path: Path) -> None:
    # the run stopped at them, partway, with "error: 'text' is longer than 1000 characters" and no file or line
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n"
                     f"- {{text: {'あ' * 1001}, intent: null}}\n"
                     '- {text: "\\u200b", intent: null}\n', encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output == ("Error: 2 problems in the question set:\n"
                             f"  {cases}:2: [1].text: the question is 1,001 characters long; the bot takes at "
                             "most 1,000 (FAQBOT_MAX_TEXT_LENGTH)\n"
                             f"  {cases}:3: [2].text: the question is empty: it holds only invisible characters "
                             "'\\u200b'\n")


def test_eval_refuses_a_question_set_without_questions(runner: CliRunner, tmp_path: Path) -> None:
    # "0 questions", exit 0: nothing measured read as a pass
    cases = tmp_path / "cases.yaml"
    cases.write_text("[]\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 1, result.output
    assert result.output == ("Error: 1 problem in the question set:\n"
                             f"  {cases}:1: no questions: expected a list of {{text, intent}}\n")


@pytest.mark.parametrize("today", ["0", "''", "false"])
def test_eval_refuses_a_today_that_is_no_day(runner: CliRunner, tmp_path: Path, today: str) -> None:
    # today: 0 was ignored, and the case scored against the run's day
    cases = tmp_path / "cases.yaml"
    cases.write_text(f"- {{text: 更新料はいくらですか, intent: renewal-fee, today: {today}}}\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 1, result.output
    assert f"{cases}:1: [0].today: '" in result.output and "must be a date written YYYY-MM-DD" in result.output


def test_eval_refuses_a_negative_error_count(runner: CliRunner, tmp_path: Path) -> None:
    # printed "errors (first -1):"
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 今日の天気は？, intent: renewal-fee}\n", encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15", "--errors", "-1"])
    assert result.exit_code == 2 and "Invalid value for '--errors': -1 is not in the range x>=0" in result.output


def test_eval_refuses_a_question_set_given_twice(runner: CliRunner, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # its questions were counted once, under the title "one.yaml + one.yaml"
    (tmp_path / "one.yaml").write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["eval", "one.yaml", "one.yaml"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for 'FILE...': 'one.yaml' is given twice: give each question set once" in result.output
    result = runner.invoke(main, ["eval", "one.yaml", f"../{tmp_path.name}/one.yaml"])
    assert result.exit_code == 2, result.output
    assert f"'../{tmp_path.name}/one.yaml' is 'one.yaml' again" in result.output


def test_eval_ranks_the_text_ask_answers(runner: CliRunner, tmp_path: Path) -> None:
    # ask drops the NUL, eval ranked it: the answer was right, "top-1 before the threshold 0.000"
    cases = tmp_path / "cases.yaml"
    cases.write_text('- {text: "更新\\0料金", intent: renewal-fee}\n', encoding="utf-8")
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15"])
    assert result.exit_code == 0, result.output
    assert "in-scope accuracy        1.000  (1/1; top-1 before the threshold 1.000;" in result.output


def test_eval_calibrate_into_a_missing_folder_is_refused_before_evaluating(runner: CliRunner, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {text: 更新料はいくらですか, intent: renewal-fee}\n", encoding="utf-8")
    target = tmp_path / "no-such-dir" / "calibration.json"
    monkeypatch.setenv("FAQBOT_CALIBRATION", str(target))
    result = runner.invoke(main, ["eval", str(cases), "--today", "2025-05-15", "--calibrate"])
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: cannot write FAQBOT_CALIBRATION {target}: no such folder {target.parent}\n"


def test_reload_never_signals_a_process_that_took_a_stale_pid(runner: CliRunner, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # the master killed with -9, its pid reused: SIGHUP, whose default is to terminate, ended an unrelated process
    other = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "faqbot.pid").write_text(str(other.pid))
        monkeypatch.setenv("FAQBOT_PID_FILE", str(tmp_path / "faqbot.pid"))
        monkeypatch.delenv("REDIS_URL", raising=False)
        result = runner.invoke(main, ["reload"])
        assert result.exit_code == 1 and "is not a faqbot server: sleep 60" in result.output, result.output
        assert other.poll() is None  # still running
    finally:
        other.kill()
        other.wait()

