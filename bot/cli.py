"""faqbot serve | reload | ask | search | check | eval. Errors become messages and exit codes, never tracebacks."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .config import Settings, from_env
from .core import Bot, load_bot, today_in
from .dates import read_iso_day
from .display import labelled
from .errors import BotError, ConfigError, InputError, Problem, StoreUnavailable
from .knowledge import Knowledge, load_knowledge

if TYPE_CHECKING:  # evaluate is imported only by the eval command, which needs it
    from .evaluate import Case, Row


def _settings(*, new_calibration: bool = False) -> Settings:
    """The settings, every one checked: a bad one stops the command here, in a line naming it (exit 1)."""
    try:
        return from_env(new_calibration=new_calibration)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _bot(settings: Settings | None = None) -> Bot:
    try:
        return load_bot(settings or _settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _day(value: str | None, settings: Settings) -> date:
    if value is None:
        return today_in(settings.timezone)
    try:
        return read_iso_day(value)
    except ValueError as wrong:
        raise click.BadParameter(f"'{value}' {wrong}", param_hint="--today") from None


@click.group()
def main() -> None:
    """faqbot: a Japanese FAQ and support chatbot for subscription contracts and renewals."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1),
              help="threads per worker (more than 1: gthread workers, which idle browser connections cannot block)")
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead of gunicorn")
def serve(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Serve the chat widget, agents' page and API."""
    from .web.limits import check_limits

    settings = _settings()
    try:
        check_limits(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    knowledge = _validated(settings)  # fail fast, before forking, when the knowledge is broken
    _check_free(host, port)
    if dev:
        from .web import create_app

        create_app(bot=Bot(knowledge, settings=settings), settings=settings).run(host=host, port=port, debug=True)
        return
    from .web.server import run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers, threads=threads, settings=settings, knowledge=knowledge)


def _check_free(host: str, port: int) -> None:
    """Refuse a port another program holds, in a sentence, before gunicorn retries five times in log lines."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        raise click.BadParameter(f"cannot resolve '{host}': {exc}", param_hint="--host") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror} (another server? "
                                       "choose another --port)") from None


@main.command()
def reload() -> None:
    """Validate faq/ and rules/, then have the running server swap them in without a restart.

    Invalid knowledge is refused here, with every problem, and the server is not touched. Valid knowledge is
    announced by SIGHUP to the server in FAQBOT_PID_FILE and, with REDIS_URL, by the knowledge generation in
    Redis, which every worker on every host watches.
    """
    settings = _settings()
    try:
        k = load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
    except ConfigError as exc:
        raise click.ClickException(f"{exc}\nnothing was reloaded: the server goes on with the knowledge it has") \
            from None
    click.echo(f"valid: {len(k.products)} products, {len(k.entries)} entries, {len(k.rules.rules)} rules, "
               f"{len(k.rules.examples)} rule examples passed (version {k.version})")
    told = False
    pid = _server_pid(settings.pid_file)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            raise click.ClickException(f"cannot signal the server (pid {pid}, from {settings.pid_file}): {exc}") \
                from None
        click.echo(f"sent SIGHUP to the faqbot server (pid {pid}, from {settings.pid_file}): "
                   "its workers swap the new knowledge in")
        told = True
    if settings.redis_url:
        from .state import RedisGeneration, redis_client

        try:
            generation = RedisGeneration(redis_client(settings.redis_url)).bump()
        except StoreUnavailable as exc:
            if not told:
                raise click.ClickException(f"{exc}: no server was told") from None
            click.echo(f"warning: {exc}: servers on other hosts were not told", err=True)
        else:
            click.echo(f"knowledge generation {generation} in Redis: every worker on every host reloads "
                       "within about a second of its next request")
            told = True
    if not told:
        raise click.ClickException(f"no running server: {settings.pid_file} names none and REDIS_URL is not set")


def _validated(settings: Settings) -> Knowledge:
    try:
        return load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _server_pid(pid_file: Path) -> int | None:
    """The pid in gunicorn's pid file if that process is alive; None when there is no server."""
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        click.echo(f"note: {pid_file} is stale (no process {pid})", err=True)
        return None
    except PermissionError:
        pass  # alive, another user's: the SIGHUP below says so if it fails
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (not Linux), or gone since: kill's own check stands
        return pid
    args = command.split(b"\0")
    ours = b"gunicorn" in command or b"bot" in args or any(Path(a.decode(errors="replace")).name == "faqbot"
                                                           for a in args)  # faqbot serve, python -m bot serve
    if not ours:
        # a stale pid file whose number a new, unrelated process has taken: SIGHUP would end that process
        shown = command.replace(b"\0", b" ").decode(errors="replace").strip()[:80]
        click.echo(f"note: {pid_file} is stale (process {pid} is not a faqbot server: {shown})", err=True)
        return None
    return pid


@main.command()
@click.argument("text")
@click.option("--today", help="as-of date YYYY-MM-DD (default: today in Asia/Tokyo)")
@click.option("--product", help="restrict to one product id")
@click.option("--session", "session_id", help="session id to continue")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON")
@click.option("--explain", is_flag=True, help="include the trace")
def ask(text: str, today: str | None, product: str | None, session_id: str | None, as_json: bool,
        explain: bool) -> None:
    """Answer one question."""
    settings = _settings()
    bot = _bot(settings)
    try:
        answer = bot.ask(text, today=_day(today, settings), product=product, session_id=session_id,
                         explain=explain)
    except InputError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(answer.answer)
    if answer.dates:
        click.echo("")
        for label, text in map(labelled, answer.dates):
            click.echo(f"{label}: {text}")
    meta: dict[str, Any] = {"intent": answer.intent, "confidence": answer.confidence}
    if answer.rule:
        meta["rule"] = answer.rule
    click.echo("\n[" + ", ".join(f"{k}={v}" for k, v in meta.items()) + "]", err=True)
    if explain and answer.trace:
        click.echo(json.dumps(answer.trace, ensure_ascii=False, indent=1, default=str))


@main.command()
@click.argument("query")
@click.option("--product", help="only this product id")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
def search(query: str, product: str | None, limit: int) -> None:
    """The agents' look-up: ranked canned answers."""
    bot = _bot()
    try:
        hits = bot.search(query, product=product, limit=limit)
    except InputError as exc:
        raise click.ClickException(exc.message) from None
    if not hits:
        click.echo("no match")
    for n, hit in enumerate(hits, 1):
        click.echo(f"{n}. [{hit.score:.3f}] {hit.entry.id} ({hit.entry.product}) {hit.entry.question}")
        click.echo("   " + hit.entry.answer.replace("\n", "\n   "))


@main.command()
def check() -> None:
    """Validate faq/ and rules/ and run the examples in rule files."""
    from .knowledge import load_knowledge

    settings = _settings()
    try:
        k = load_knowledge(settings.faq_dir, settings.rules_dir, run_examples=True)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"ok: {len(k.products)} products, {len(k.entries)} entries, "
               f"{sum(len(e.alternates) for e in k.entries)} alternates, {len(k.synonyms)} synonyms, "
               f"{len(k.rules.rules)} rules, {len(k.rules.examples)} rule examples passed (version {k.version})")


@main.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--today", help="as-of date for cases without one (default: today)")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="write the figures here")
@click.option("--errors", default=20, show_default=True, type=click.IntRange(min=0),
              help="how many errors to list (0: none)")
@click.option("--calibrate", is_flag=True, help="fit the confidence model on FILE and save it (dev data only!)")
@click.option("--arrivals", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="with --calibrate or --leave-out: question sets and the commits they were first measured at "
                   "(tests/data/arrivals.yaml); the threshold is chosen on them")
@click.option("--leave-out", is_flag=True,
              help="with --arrivals: score each arrival with a model fitted and thresholded without it (and "
                   "without FILE of the same name); saves nothing")
def eval_cmd(files: tuple[Path, ...], today: str | None, json_out: Path | None, errors: int,
             calibrate: bool, arrivals: Path | None, leave_out: bool) -> None:
    """Score question sets (YAML lists of {text, intent}) and print a report."""
    from .evaluate import evaluate, format_report, load_cases

    if calibrate and leave_out:
        raise click.UsageError("--calibrate and --leave-out do not go together")
    if leave_out and arrivals is None:
        raise click.UsageError("--leave-out needs --arrivals")
    if arrivals and not (calibrate or leave_out):
        raise click.UsageError("--arrivals goes with --calibrate or --leave-out")
    if leave_out and json_out:
        raise click.UsageError("--json writes a report's figures; --leave-out prints its table only")
    _check_distinct(files)
    settings = _settings(new_calibration=calibrate)  # --calibrate writes FAQBOT_CALIBRATION: it may be new
    if json_out:
        _check_writable(json_out)  # before the slow part, not after it
    if calibrate:
        _check_writable(settings.calibration, "FAQBOT_CALIBRATION")
    day = _day(today, settings)
    bot = _bot(settings)
    intents = {e.id for e in bot.knowledge.entries}
    by_file: dict[Path, list[Case]] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            by_file[file] = load_cases(file, intents, max_length=settings.max_text_length)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise click.ClickException(str(ConfigError(problems, "the question set" + ("s" if len(files) > 1 else ""))))
    if leave_out and arrivals:
        _leave_out(bot, by_file, arrivals, day)
        return
    cases = [case for found in by_file.values() for case in found]
    if calibrate:
        _calibrate(bot, settings, files, cases, arrivals, day)
    report, _ = evaluate(bot, cases, today=day)
    click.echo(format_report(" + ".join(f.name for f in files), report, show_errors=errors))
    if json_out:
        try:
            json_out.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write --json {json_out}: {exc.strerror or exc}") from None


def _check_distinct(files: tuple[Path, ...]) -> None:
    """Refuse a question set given twice: its questions would be scored once, under a title naming it twice."""
    seen: dict[Path, Path] = {}
    for file in files:
        first = seen.setdefault(file.resolve(), file)
        if first is not file:
            same = f"'{file}' is given twice" if str(first) == str(file) else f"'{file}' is '{first}' again"
            raise click.BadParameter(f"{same}: give each question set once", param_hint="'FILE...'")


def _check_writable(path: Path, what: str = "--json") -> None:
    """Refuse an output file that could not be written, so a long evaluation is not lost at its end."""
    folder = path.parent
    if path.is_dir():  # click refuses a folder for --json; FAQBOT_CALIBRATION comes from the environment
        why = "it is a folder"
    elif not folder.exists():
        why = f"no such folder {folder}"
    elif not folder.is_dir():
        why = f"{folder} is not a folder"
    elif not os.access(path if path.exists() else folder, os.W_OK):
        why = "permission denied"
    else:
        return
    raise click.ClickException(f"cannot write {what} {path}: {why}")


def _arrived(bot: Bot, arrivals: Path, day: date) -> list[tuple[str, list[Row]]]:
    """Each arrival's name and rows, asked of the knowledge at its commit."""
    from .evaluate import arrival_rows, load_arrivals

    try:
        found = load_arrivals(arrivals)
        return list(zip([a.questions.name for a in found], arrival_rows(bot, found, today=day), strict=True))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _calibrate(bot: Bot, settings: Settings, files: tuple[Path, ...], cases: list[Case], arrivals: Path | None,
               day: date) -> None:
    """Fit the confidence model on the read sets (and the arrivals), choose its threshold, save it."""
    from .confidence import ARRIVAL_REJECTION, READ_REJECTION
    from .evaluate import calibrate_rows, evaluate

    _, rows = evaluate(bot, cases, today=day)
    note = f"{' + '.join(f.name for f in files)}, {len(rows)} questions"
    chosen_on, goal = rows, READ_REJECTION
    if arrivals:
        arrived = [r for _, found in _arrived(bot, arrivals, day) for r in found]
        rows, chosen_on, goal = rows + arrived, arrived, ARRIVAL_REJECTION
        note += f"; threshold from {len(arrived)} questions as they arrived ({arrivals.name})"
    try:
        model, accuracy, rejection = calibrate_rows(rows, chosen_on, goal)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        model.save(settings.calibration, note=note)
    except OSError as exc:
        raise click.ClickException(f"cannot write FAQBOT_CALIBRATION {settings.calibration}: "
                                   f"{exc.strerror or exc}") from None
    bot.calibration = model
    click.echo(f"calibration written to {settings.calibration}: threshold {model.threshold:.2f} "
               f"(out-of-scope rejection {rejection:.3f}, in-scope accuracy {accuracy:.3f} "
               f"{'on the sets as they arrived' if arrivals else 'on these files'})")


def _leave_out(bot: Bot, by_file: dict[Path, list[Case]], arrivals: Path, day: date) -> None:
    """Print each arrival's figures under models that never saw it (README, "Measured quality")."""
    from .evaluate import evaluate, format_leave_out, leave_out

    arrived = dict(_arrived(bot, arrivals, day))
    if len(arrived) < 2:
        raise click.ClickException(f"--leave-out needs at least two question sets in {arrivals.name}: each is "
                                   "scored by a model fitted and thresholded on the others")
    read = {f.name: evaluate(bot, cases, today=day)[1] for f, cases in by_file.items()}
    try:
        click.echo(format_leave_out(leave_out(read, arrived)))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def run() -> None:
    """Console-script entry: BotErrors become one-line messages."""
    try:
        main()
    except BotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
