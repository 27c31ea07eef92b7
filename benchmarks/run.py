"""make bench: one table of speed and scale figures, every ratio measured in the same run.

Rows: in-process Bot.ask on the shipped knowledge (all of tests/data/dev.yaml, and its questions holding a date),
Bot.ask on generated collections of 1,000 / 10,000 / 100,000 entries (benchmarks/generated.py) with their
build times, process start to first answer (in-process and over HTTP), the RSS of each gunicorn worker, and
POST /api/ask under `faqbot serve` against a bare Flask endpoint served the same way, both loaded by wrk from
a second process on 127.0.0.1. Writes benchmarks/results/latest.json. Timings are medians and p99s over every
call; the machine is shared, so read ratios measured side by side rather than absolute figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from benchmarks import generated, loadgen  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import Bot  # noqa: E402
from bot.facts import extract_facts  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.text import FugashiTokenizer  # noqa: E402

TODAY = date(2025, 5, 15)
RESULTS = ROOT / "benchmarks" / "results"
SIZES = (1_000, 10_000, 100_000)

# Targets from issue #5 (item 1).
ASK_MEDIAN_MS = 0.5
ASK_P99_MS = 5.0
ASK_100K_MEDIAN_MS = 3.0
HTTP_RATIO = 0.5
FIRST_ANSWER_S = 2.0

FIRST_QUESTION = "ウイルスバスターの契約を更新したいんですが、どうすればいいですか"


@dataclass
class Row:
    """One line of the table."""

    name: str
    measured: str
    target: str = ""
    ok: bool | None = None  # None: reported, no target

    @property
    def status(self) -> str:
        """PASS, MISS, or blank when the row has no target."""
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Report:
    """Every row, and the raw numbers behind them for latest.json."""

    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, measured: str, target: str = "", ok: bool | None = None) -> None:
        """Add a row and echo it, so a long run shows progress."""
        self.rows.append(Row(name, measured, target, ok))
        print(f"  {name}: {measured}" + (f"  [{target}: {self.rows[-1].status}]" if target else ""), flush=True)


# --- timing helpers ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def time_calls(fn: Callable[[str], object], texts: Sequence[str], rounds: int, seed: int = 1) -> list[float]:
    """Seconds per call of fn(text): one untimed warm-up pass, then `rounds` passes in shuffled order."""
    for text in texts:
        fn(text)
    rng = random.Random(seed)
    samples: list[float] = []
    order = list(texts)
    gc.collect()
    for _ in range(rounds):
        rng.shuffle(order)
        for text in order:
            start = time.perf_counter()
            fn(text)
            samples.append(time.perf_counter() - start)
    return samples


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """Median, p99 and max in milliseconds, with the number of calls."""
    return {"median_ms": 1000 * statistics.median(samples), "p99_ms": 1000 * percentile(samples, 99),
            "max_ms": 1000 * max(samples), "calls": len(samples)}


# --- the environment --------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    """Cores, CPU, Python, package versions, wrk, the commit and the load when the run started."""
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    packages = {}
    for name in ("fugashi", "unidic-lite", "bm25s", "numpy", "rapidfuzz", "ja-timex", "flask", "gunicorn"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "?"
    try:
        wrk = subprocess.run([loadgen.wrk_path(), "--version"], capture_output=True, text=True, timeout=10)
        wrk_version = (wrk.stdout or wrk.stderr).split("[")[0].strip()
    except (RuntimeError, OSError, subprocess.SubprocessError):
        wrk_version = "missing"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "wrk": wrk_version,
        "commit": commit.stdout.strip(),
        "load_average": os.getloadavg(),
    }


# --- in-process --------------------------------------------------------------------------------


def dev_questions() -> list[str]:
    """Every question of tests/data/dev.yaml (development data: never holdout)."""
    cases = yaml.safe_load((ROOT / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))
    return [c["text"] for c in cases]


def holds_date(bot: Bot, text: str) -> bool:
    """Whether the bot reads a date in the text (the questions the date extractor really works on)."""
    return any(isinstance(f.value, date) for f in extract_facts(text, today=TODAY, roles=bot.knowledge.roles))


def bench_shipped(report: Report, bot: Bot, rounds: int) -> None:
    """Bot.ask over the development questions, all of them and those holding a date."""
    texts = dev_questions()
    dated = [t for t in texts if holds_date(bot, t)]

    def ask(text: str) -> object:
        return bot.ask(text, today=TODAY)

    every = summary_ms(time_calls(ask, texts, rounds))
    with_dates = summary_ms(time_calls(ask, dated, rounds * 3))
    report.raw["ask_shipped"] = {**every, "questions": len(texts), "entries": len(bot.knowledge.entries)}
    report.raw["ask_shipped_dates"] = {**with_dates, "questions": len(dated)}
    report.add(f"ask shipped median ({len(bot.knowledge.entries)} entries, {len(texts)} dev questions)",
               f"{every['median_ms']:.3f} ms", f"≤ {ASK_MEDIAN_MS} ms", every["median_ms"] <= ASK_MEDIAN_MS)
    report.add("ask shipped p99", f"{every['p99_ms']:.3f} ms", f"≤ {ASK_P99_MS} ms", every["p99_ms"] <= ASK_P99_MS)
    report.add(f"ask shipped with dates median / p99 ({len(dated)} questions)",
               f"{with_dates['median_ms']:.3f} / {with_dates['p99_ms']:.3f} ms", f"p99 ≤ {ASK_P99_MS} ms",
               with_dates["p99_ms"] <= ASK_P99_MS)


def localgov_queries() -> list[dict[str, Any]]:
    """LocalgovFAQ's development queries with their judged ids (never the test split)."""
    lines = (generated.DEFAULT_DATA / "queries_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def success_at(bot: Bot, queries: Sequence[dict[str, Any]], k: int) -> float:
    """Share of LocalgovFAQ queries with an entry made from a judged FAQ item in the top k."""
    sources = {e.id: generated.sources_of(e.section) for e in bot.knowledge.entries}
    hits = 0
    for q in queries:
        gold = {int(g) for g in q["gold"]}
        hits += any(sources[m.id] & gold for m in bot.index.search(q["query"], limit=k))
    return hits / len(queries)


def scale_queries(bot: Bot) -> list[str]:
    """LocalgovFAQ's development queries, the dev questions holding a date, and a sixth of the other ones."""
    local = [q["query"] for q in localgov_queries()]
    texts = dev_questions()
    dated = [t for t in texts if holds_date(bot, t)]
    others = [t for t in texts if t not in dated][::6]
    return local + dated + others


def bench_scale(report: Report, shipped: Bot, sizes: Sequence[int], rounds: int) -> None:
    """Build a Bot over each generated collection and time Bot.ask on it."""
    settings = Settings()
    base = load_knowledge(settings.faq_dir, settings.rules_dir)
    faq = generated.load_faq()
    queries = scale_queries(shipped)
    judged = localgov_queries()
    tokenizer = FugashiTokenizer()
    first: float | None = None
    for n in sizes:
        knowledge = generated.knowledge_of_size(base, n, faq)
        phrasings = sum(len(e.phrasings) for e in knowledge.entries)
        gc.collect()
        start = time.perf_counter()
        bot = Bot(knowledge, settings=settings, tokenizer=tokenizer)
        build_s = time.perf_counter() - start

        def ask(text: str, bot: Bot = bot) -> object:
            return bot.ask(text, today=TODAY)

        res = summary_ms(time_calls(ask, queries, rounds))
        first = first or res["median_ms"]
        growth = res["median_ms"] / first
        sr1, sr5 = success_at(bot, judged, 1), success_at(bot, judged, 5)
        report.raw[f"ask_{n}"] = {**res, "entries": n, "phrasings": phrasings, "queries": len(queries),
                                  "build_s": build_s, "growth_vs_first": growth, "localgov_sr1": sr1,
                                  "localgov_sr5": sr5}
        label = f"{n // 1000}k"
        target, ok = (f"median ≤ {ASK_100K_MEDIAN_MS} ms", res["median_ms"] <= ASK_100K_MEDIAN_MS) if n >= 100_000 \
            else ("", None)
        grew = f" (×{growth:.2f} the {sizes[0] // 1000}k median)" if n != sizes[0] else ""
        report.add(f"ask {label} median / p99{grew}",
                   f"{res['median_ms']:.3f} / {res['p99_ms']:.3f} ms", target, ok)
        report.add(f"index build {label} ({phrasings:,} phrasings) · LocalgovFAQ dev SR@1 / SR@5",
                   f"{build_s:.1f} s · {sr1:.3f} / {sr5:.3f}")
        del bot, knowledge
        gc.collect()


# --- start to first answer ------------------------------------------------------------------

_FIRST_ANSWER = """
import time
from datetime import date
from bot.core import load_bot
answer = load_bot().ask("ウイルスバスターの更新方法を教えて", today=date(2025, 5, 15))
assert answer.intent, answer
print(time.time())
"""


def bench_first_answer_inprocess(runs: int) -> list[float]:
    """Seconds from spawning `python -c` to its first answer (the child reports the wall clock)."""
    out = []
    for _ in range(runs):
        start = time.time()
        done = subprocess.run([sys.executable, "-c", _FIRST_ANSWER], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, check=True)
        out.append(float(done.stdout.strip().splitlines()[-1]) - start)
    return out


@contextmanager
def serving(cmd: Sequence[str], port: int) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Run a server command; yields the process and the spawn time once /healthz answers. Always stopped.

    Rate limits are off (wrk is one client) and the pid and state files are the run's own.
    """
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp, tempfile.TemporaryFile() as log:
        env = loadgen.quiet_env(FAQBOT_PID_FILE=str(Path(tmp) / "server.pid"),
                                FAQBOT_STATE_FILE=str(Path(tmp) / "state.sqlite3"))
        start = time.monotonic()
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                loadgen.wait_healthy(port, proc, timeout=60)
            except RuntimeError as exc:
                log.seek(0)
                raise RuntimeError(f"{exc}\n{log.read().decode(errors='replace')[-3000:]}") from None
            yield proc, start
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def faqbot_cmd(port: int, workers: int, threads: int) -> list[str]:
    """`faqbot serve` as `make run` starts it."""
    return [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--threads", str(threads)]


def bare_cmd(port: int, workers: int, threads: int, app: str = "bare") -> list[str]:
    """The bare Flask endpoint (or the web layer alone, app="web") under the same gunicorn options."""
    return [sys.executable, str(ROOT / "benchmarks" / "bare_app.py"), "--port", str(port),
            "--workers", str(workers), "--threads", str(threads), "--app", app]


def bench_first_answer_http(runs: int, workers: int, threads: int) -> list[float]:
    """Seconds from spawning `faqbot serve` to the first answer of POST /api/ask."""
    out = []
    for _ in range(runs):
        port = loadgen.free_port()
        with serving(faqbot_cmd(port, workers, threads), port) as (_, start):
            status, body = loadgen.post_json(port, "/api/ask", {"text": FIRST_QUESTION, "today": "2025-05-15"})
            out.append(time.monotonic() - start)
            if status != 200 or not body.get("intent"):
                raise RuntimeError(f"first answer was {status}: {body}")
    return out


# --- HTTP -----------------------------------------------------------------------------------------


def make_defaults() -> tuple[int, int]:
    """WORKERS and THREADS as `make run` sets them (the Makefile's defaults)."""
    text = (ROOT / "Makefile").read_text()

    def value(name: str, default: int) -> int:
        found = re.search(rf"^{name}\s*\?=\s*(\d+)", text, re.MULTILINE)
        return int(found.group(1)) if found else default

    return value("WORKERS", 2), value("THREADS", 1)


def http_bodies() -> list[dict[str, object]]:
    """The POST /api/ask bodies wrk sends in turn: every development question (dates, follow-ups asked,
    out of scope and all, in the proportions of tests/data/dev.yaml)."""
    return [{"text": q, "today": "2025-05-15"} for q in dev_questions()]


def bench_http(report: Report, workers: int, threads: int, seconds: int, rounds: int, connections: int) -> None:
    """faqbot serve, the bare endpoint and the web layer alone, all up at once, wrk runs interleaved round by
    round; the CPU the workers spent per request; then the faqbot workers' memory."""
    bodies = http_bodies()
    ports = {name: loadgen.free_port() for name in ("faqbot", "bare", "web")}
    cmds = {"faqbot": faqbot_cmd(ports["faqbot"], workers, threads),
            "bare": bare_cmd(ports["bare"], workers, threads),
            "web": bare_cmd(ports["web"], workers, threads, app="web")}
    runs: dict[str, list[loadgen.WrkResult]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    with serving(cmds["faqbot"], ports["faqbot"]) as (bot_proc, _), \
            serving(cmds["bare"], ports["bare"]) as (bare_proc, _), \
            serving(cmds["web"], ports["web"]) as (web_proc, _):
        urls = {name: f"http://127.0.0.1:{port}/api/ask" for name, port in ports.items()}
        for url in urls.values():  # warm-up: every worker has answered every question
            loadgen.run_wrk(url, bodies, connections=connections, seconds=2)
        workers_of = {name: loadgen.children(proc.pid)
                      for name, proc in (("faqbot", bot_proc), ("bare", bare_proc), ("web", web_proc))}
        for _ in range(rounds):
            for name, url in urls.items():
                before = loadgen.cpu_seconds(workers_of[name])
                result = loadgen.run_wrk(url, bodies, connections=connections, seconds=seconds)
                runs[name].append(result)
                cpu[name].append(1000 * (loadgen.cpu_seconds(workers_of[name]) - before) / max(result.requests, 1))
        memory = [loadgen.memory_kib(pid) for pid in workers_of["faqbot"]]
    med = {name: {
        "rps": statistics.median(r.rps for r in rs),
        "p50_ms": statistics.median(r.p50_ms for r in rs),
        "p99_ms": statistics.median(r.p99_ms for r in rs),
        "errors": sum(r.socket_errors for r in rs),
        "non2xx": sum(r.non2xx for r in rs),
        "worker_cpu_ms_per_request": statistics.median(cpu[name]),
        "runs": [asdict(r) for r in rs],
    } for name, rs in runs.items()}
    ratios = [b.rps / a.rps for a, b in zip(runs["bare"], runs["faqbot"], strict=True) if a.rps]
    ratio = statistics.median(ratios)
    web_ratio = statistics.median(b.rps / a.rps for a, b in zip(runs["bare"], runs["web"], strict=True) if a.rps)
    report.raw["http"] = {**med, "ratio": ratio, "ratios": ratios, "web_layer_ratio": web_ratio, "workers": workers,
                          "threads": threads, "connections": connections, "seconds": seconds, "rounds": rounds,
                          "questions": len(bodies)}
    report.raw["rss_workers_kib"] = memory
    shape = f"{workers}×{threads}, c={connections}"
    for name, label in (("faqbot", "HTTP POST /api/ask"), ("bare", "HTTP bare Flask"),
                        ("web", "HTTP /api/ask with Bot.ask stubbed (diagnostic)")):
        m = med[name]
        errors = f", {m['errors']} errors, {m['non2xx']} non-2xx" if m["errors"] or m["non2xx"] else ""
        report.add(f"{label} ({shape}) req/s · p50 / p99 · worker CPU/req",
                   f"{m['rps']:,.0f} · {m['p50_ms']:.1f} / {m['p99_ms']:.1f} ms · "
                   f"{m['worker_cpu_ms_per_request']:.2f} ms{errors}")
    report.add(f"HTTP ratio /api/ask ÷ bare (median of {rounds} side-by-side pairs)",
               f"{ratio:.2f} ({', '.join(f'{r:.2f}' for r in ratios)})", f"≥ {HTTP_RATIO:.2f}", ratio >= HTTP_RATIO)
    report.add("HTTP ratio with Bot.ask stubbed ÷ bare (the web layer's ceiling)", f"{web_ratio:.2f}")
    if memory:
        rss = [m["rss"] / 1024 for m in memory]
        pss = [m.get("pss", 0) / 1024 for m in memory]
        report.add("RSS per worker after load (PSS)", " · ".join(f"{r:.0f} MiB ({p:.0f})" for r, p in zip(
            rss, pss, strict=True)))


# --- the table ------------------------------------------------------------------------------------


def print_table(report: Report, env: dict[str, Any]) -> None:
    """The one table, with the environment above it."""
    pk = env["packages"]
    print()
    print(f"faqbot benchmarks · {env['cores']} cores ({env['cpu']}) · Python {env['python']} · {env['platform']}")
    print("  " + ", ".join(f"{k} {v}" for k, v in pk.items()) + f" · wrk {env['wrk']} · commit {env['commit']}"
          + " · load average at start " + "/".join(f"{x:.2f}" for x in env["load_average"]))
    print()
    widths = [max(len(r.name) for r in report.rows), max(len(r.measured) for r in report.rows),
              max(len(r.target) for r in report.rows)]
    head = ("metric", "measured", "target", "")
    print(f"| {head[0]:<{widths[0]}} | {head[1]:<{widths[1]}} | {head[2]:<{widths[2]}} | status |")
    print(f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|{'-' * (widths[2] + 2)}|--------|")
    for r in report.rows:
        print(f"| {r.name:<{widths[0]}} | {r.measured:<{widths[1]}} | {r.target:<{widths[2]}} | {r.status:<6} |")
    missed = [r.name for r in report.rows if r.ok is False]
    print()
    print("all targets met" if not missed else f"targets missed: {'; '.join(missed)}")


def run_all(report: Report, a: argparse.Namespace, sizes: Sequence[int], workers: int, threads: int) -> None:
    """Every row: in-process, the generated collections, start to first answer, then HTTP unless skipped."""
    print("in-process, shipped knowledge", flush=True)
    bot = Bot(load_knowledge(Settings().faq_dir, Settings().rules_dir), tokenizer=FugashiTokenizer())
    bench_shipped(report, bot, a.rounds)
    if sizes:
        print("in-process, generated collections", flush=True)
        bench_scale(report, bot, sizes, max(2, a.rounds // 3))
    print("start to first answer", flush=True)
    first = bench_first_answer_inprocess(5)
    report.raw["first_answer_inprocess_s"] = first
    report.add("start → first answer, in-process (python -c, median of 5)", f"{statistics.median(first):.2f} s",
               f"≤ {FIRST_ANSWER_S:.0f} s", statistics.median(first) <= FIRST_ANSWER_S)
    if not a.skip_http:
        first_http = bench_first_answer_http(3, workers, threads)
        report.raw["first_answer_http_s"] = first_http
        report.add("start → first answer, HTTP (faqbot serve, median of 3)", f"{statistics.median(first_http):.2f} s",
                   f"≤ {FIRST_ANSWER_S:.0f} s", statistics.median(first_http) <= FIRST_ANSWER_S)
        print("HTTP", flush=True)
        bench_http(report, workers, threads, a.http_seconds, a.http_rounds, a.connections)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(str(n) for n in SIZES), help="generated collection sizes")
    ap.add_argument("--rounds", type=int, default=10, help="timed passes over the shipped questions")
    ap.add_argument("--http-seconds", type=int, default=10, help="length of each wrk run")
    ap.add_argument("--http-rounds", type=int, default=3, help="side-by-side pairs of wrk runs")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, help="gunicorn workers of every server (default: the Makefile's WORKERS)")
    ap.add_argument("--threads", type=int, help="threads per worker, 1 for sync (default: the Makefile's THREADS)")
    ap.add_argument("--skip-http", action="store_true", help="in-process rows only")
    ap.add_argument("--only", choices=["http"], help="only these rows: `http` runs the three servers under wrk "
                    "(POST /api/ask, bare Flask, Bot.ask stubbed) and nothing else")
    ap.add_argument("--json", type=Path, default=RESULTS / "latest.json")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",") if s]
    env = environment()
    report = Report(raw={"environment": env})
    t0 = time.monotonic()
    workers, threads = make_defaults()
    workers, threads = a.workers or workers, a.threads or threads
    if a.only == "http":
        print("HTTP", flush=True)
        bench_http(report, workers, threads, a.http_seconds, a.http_rounds, a.connections)
    else:
        run_all(report, a, sizes, workers, threads)
    report.raw["rows"] = [asdict(r) | {"status": r.status} for r in report.rows]
    report.raw["seconds"] = time.monotonic() - t0
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(report.raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_table(report, env)
    where = a.json.relative_to(ROOT) if a.json.is_relative_to(ROOT) else a.json
    print(f"\n({report.raw['seconds']:.0f} s; raw numbers in {where})")


if __name__ == "__main__":
    main()
