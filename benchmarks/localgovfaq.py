"""LocalgovFAQ: the product's matcher on an external Japanese FAQ-retrieval benchmark.

Reads ../shared/bench/localgovfaq/ (never copied into this repository) and scores with its own score.py.
Tune on --split dev only; report --split test. The Index runs with its default Weights, the bot's own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "localgovfaq"
sys.path.insert(0, str(ROOT))

from bot.index import Document, Index, Weights  # noqa: E402
from bot.text import FugashiTokenizer  # noqa: E402
from bot.vectors import WordVectors  # noqa: E402


def load_scorer(data: Path) -> ModuleType:
    """Import the benchmark's own score.py."""
    spec = importlib.util.spec_from_file_location("localgov_score", data / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {data / 'score.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(faqs: list[dict[str, Any]], weights: Weights | None = None) -> Index:
    """The same Index the bot uses, over LocalgovFAQ's question/answer pairs."""
    docs = [Document(str(f["id"]), (f["question"],), f["answer"].replace("＜改＞", "\n")) for f in faqs]
    # the installed word vectors, loaded here so that a missing install fails instead of ranking without them
    return Index(docs, tokenizer=FugashiTokenizer(), weights=weights, vectors=WordVectors.load())


def run(split: str, data: Path, weights: Weights | None = None, quiet: bool = False) -> dict[str, Any]:
    """Build, rank every query, score; returns score.py's metrics plus timings."""
    scorer = load_scorer(data)
    faqs, queries = scorer.load(data, split=split)
    t0 = time.perf_counter()
    index = build(faqs, weights)
    build_s = time.perf_counter() - t0

    def rank(query: str) -> list[int]:
        return [int(m.id) for m in index.search(query, limit=10)]

    res: dict[str, Any] = scorer.evaluate(rank, queries)
    res.pop("_rankings", None)
    # a second, separate timing pass: median of 5 repetitions per query, median over queries
    per_query = []
    for q in queries:
        reps = []
        for _ in range(5):
            t = time.perf_counter()
            rank(q["query"])
            reps.append(time.perf_counter() - t)
        per_query.append(statistics.median(reps))
    res["ms_median"] = 1000 * statistics.median(per_query)
    res["build_s"] = build_s
    if not quiet:
        scorer.print_report(f"faqbot Index on LocalgovFAQ ({split})", res)
        print(f"  median of per-query medians: {res['ms_median']:.3f} ms")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "test", "all"], default="test")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path, help="write score.py's metrics here")
    a = ap.parse_args()
    if not (a.data / "score.py").exists():
        raise SystemExit(f"LocalgovFAQ not found at {a.data} (expected ../shared/bench/localgovfaq beside the repo)")
    res = run(a.split, a.data)
    if a.json:
        a.json.write_text(json.dumps({k: v for k, v in res.items() if not k.startswith("_")}, indent=1) + "\n")


if __name__ == "__main__":
    main()
