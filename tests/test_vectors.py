"""Word vectors: spaCy's key hash, converting the pinned wheel's table, lookups, and how the Index uses them."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import msgpack
import numpy as np
import pytest

from bot import index as index_module
from bot import vectors
from bot.index import Document, Index, Weights
from bot.vectors import WordVectors, convert, spacy_hash


def test_spacy_hash_is_spacys():
    # spaCy's documentation: nlp.vocab.strings["coffee"] → 3197928453018144401 (a 6-byte word: the tail alone)
    assert spacy_hash("coffee") == 3197928453018144401


@pytest.mark.parametrize(("word", "expected"), [
    # from a separate C implementation of MurmurHash64A (seed 1), written from the published algorithm
    ("", 14313749767032693980),
    ("abcdefgh", 17751780907874141760),  # one whole block, no tail
    ("abcdefghi", 13885881106499164936),
    ("abcdefghijklmnop", 12213882378445362951),
    ("abcdefghijklmnopq", 2395869216546743846),
    ("ペット", 8351742367282208350),  # 9 bytes of UTF-8
    ("請求書", 5800290576913949237),
])
def test_spacy_hash_of_every_length(word, expected):
    assert spacy_hash(word) == expected


def _wheel(tmp_path: Path, words: dict[str, list[float]], others: tuple[str, ...] = (), hash_=spacy_hash) -> Path:
    """A zip laid out as the ja_ginza wheel's vocab: strings, spaCy-keyed rows, a numpy table."""
    table = np.asarray(list(words.values()), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, table)
    key2row = {hash_(w): i for i, w in enumerate(words)}
    path = tmp_path / vectors.WHEEL
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(vectors._VOCAB + "vectors", buf.getvalue())
        z.writestr(vectors._VOCAB + "key2row", msgpack.packb(key2row))
        z.writestr(vectors._VOCAB + "strings.json", json.dumps([*words, *others], ensure_ascii=False))
    return path


def _table(dims: int = vectors.DIMENSIONS) -> dict[str, list[float]]:
    axis = np.eye(3, dims)
    return {"犬": list(3.0 * axis[0]), "ペット": list(axis[0] + 0.5 * axis[1]), "請求書": list(axis[2])}


def test_convert_keys_every_word_and_scales_rows_to_one(tmp_path):
    folder = tmp_path / "out"
    assert convert(_wheel(tmp_path, _table(), others=("NOUN",)), folder) == 3
    wv = WordVectors.load(folder)
    assert wv.row("犬") == 0 and wv.row("ペット") == 1 and wv.row("請求書") == 2
    assert wv.row("NOUN") is None and wv.row("猫") is None
    assert np.allclose(np.linalg.norm(wv.vectors, axis=1), 1.0)
    pet = wv.embed(["ペット", "猫"], lambda w: 1.0)  # 猫 has no vector: the mean is ペット's alone
    assert pet is not None and float(pet @ wv.vectors[0]) == pytest.approx(2 / 5**0.5)
    assert wv.embed(["猫"], lambda w: 1.0) is None


def test_convert_refuses_a_table_keyed_by_another_hash(tmp_path):
    wheel = _wheel(tmp_path, _table(), hash_=lambda w: hash(w) & ((1 << 64) - 1))
    with pytest.raises(ValueError, match="found a vector"):
        convert(wheel, tmp_path / "out")
    assert not (tmp_path / "out" / "keys.npy").exists()


def test_convert_refuses_other_dimensions(tmp_path):
    with pytest.raises(ValueError, match="2 dimensions, expected 300"):
        convert(_wheel(tmp_path, _table(dims=2)), tmp_path / "out")


def test_install_checks_the_wheels_hash(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        vectors.install(tmp_path / "out", _wheel(tmp_path, _table()))
    assert not (tmp_path / "out").exists()


def test_install_replaces_an_incomplete_folder_whole_and_then_has_nothing_to_do(tmp_path, monkeypatch):
    wheel = _wheel(tmp_path, _table())
    monkeypatch.setattr(vectors, "SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    folder = tmp_path / "vectors"
    folder.mkdir()
    np.save(folder / "vectors.npy", np.zeros((1, vectors.DIMENSIONS), dtype=np.float32))  # a set cut short
    assert not vectors.installed(folder)
    vectors.install(folder, wheel)
    assert sorted(p.name for p in folder.iterdir()) == ["keys.npy", "meta.json", "rows.npy", "vectors.npy"]
    assert WordVectors.load(folder).row("ペット") == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no building folder left
    stamp = (folder / "meta.json").stat().st_mtime_ns
    vectors.install(folder, tmp_path / "no-such.whl")  # installed already: the wheel is not even read
    assert (folder / "meta.json").stat().st_mtime_ns == stamp


def test_a_set_whose_meta_does_not_describe_it_is_not_loaded(tmp_path):
    folder = tmp_path / "out"
    convert(_wheel(tmp_path, _table()), folder)
    np.save(folder / "rows.npy", np.zeros(2, dtype=np.uint16))  # another conversion's rows
    with pytest.raises(FileNotFoundError, match="does not describe"):
        WordVectors.load(folder)


def test_missing_vectors_say_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="make install"):
        WordVectors.load(tmp_path / "nowhere")


def test_installed_vectors_place_related_words_near():
    wv = vectors.shared()  # what make install wrote

    def cos(a: str, b: str) -> float:
        ra, rb = wv.row(a), wv.row(b)
        assert ra is not None and rb is not None, (a, b)
        return float(wv.vectors[ra] @ wv.vectors[rb])

    assert cos("犬", "ペット") > cos("犬", "請求書") + 0.3
    assert cos("延長", "更新") > cos("猫", "更新")


class _Refusing(WordVectors):
    def __init__(self) -> None:
        self.vectors = np.zeros((1, vectors.DIMENSIONS), dtype=np.float32)

    def embed(self, *args, **kwargs):
        raise AssertionError("vectors used where the collection has its own phrasings")


@pytest.fixture(scope="module")
def tokenizer():
    from bot.text import FugashiTokenizer

    return FugashiTokenizer()


ONE_EACH = [
    Document("dog", ("犬の登録の手続き",), "飼い犬の登録は生活衛生課で受け付けます。"),
    Document("bulky", ("粗大ごみの手続き",), "粗大ごみは事前の申し込みが必要です。"),
]


def test_vectors_break_a_lexical_tie_on_one_question_each(tokenizer):
    question = "ペットの手続きを知りたい"  # 手続き in both; ペット in neither's text
    plain = Index(ONE_EACH, tokenizer=tokenizer, weights=Weights(vectors=0.0)).search(question)
    ranked = Index(ONE_EACH, tokenizer=tokenizer).search(question)
    assert [m.id for m in ranked][0] == "dog"
    assert ranked[0].score - ranked[1].score > abs(plain[0].score - plain[1].score)


def test_a_collection_with_its_own_phrasings_goes_without(tokenizer):
    docs = [Document(d.id, (*d.questions, d.questions[0] + "について", d.questions[0] + "を教えて"), d.answer)
            for d in ONE_EACH]
    index = Index(docs, tokenizer=tokenizer, vectors=_Refusing())
    assert index.search("ペットの手続きを知りたい")  # ranks, and never asks the vectors


def test_one_question_each_uses_the_vectors_it_is_given(tokenizer):
    with pytest.raises(AssertionError, match="vectors used"):
        Index(ONE_EACH, tokenizer=tokenizer, vectors=_Refusing())


def test_a_collection_larger_than_an_faq_goes_without(tokenizer, monkeypatch):
    monkeypatch.setattr(index_module, "VECTORS_MAX_DOCUMENTS", len(ONE_EACH) - 1)
    assert Index(ONE_EACH, tokenizer=tokenizer, vectors=_Refusing()).search("ペットの手続きを知りたい")


def test_a_question_without_a_word_that_has_a_vector_ranks_by_its_words(tokenizer, tmp_path):
    folder = tmp_path / "out"
    convert(_wheel(tmp_path, _table()), folder)  # vectors for 犬, ペット and 請求書 only
    question = "粗大ごみの手続きを知りたい"
    ranked = Index(ONE_EACH, tokenizer=tokenizer, vectors=WordVectors.load(folder)).search(question)
    plain = Index(ONE_EACH, tokenizer=tokenizer, weights=Weights(vectors=0.0)).search(question)
    assert [(m.id, m.score) for m in ranked] == [(m.id, m.score) for m in plain]


def test_without_installed_vectors_it_ranks_by_words_and_says_so(tokenizer, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(vectors, "default_dir", lambda: tmp_path / "nowhere")
    monkeypatch.setattr(vectors, "_shared", None)
    question = "ペットの手続きを知りたい"
    ranked = Index(ONE_EACH, tokenizer=tokenizer).search(question)
    plain = Index(ONE_EACH, tokenizer=tokenizer, weights=Weights(vectors=0.0)).search(question)
    assert [(m.id, m.score) for m in ranked] == [(m.id, m.score) for m in plain]
    assert "ranking without word vectors" in caplog.text and "make install" in caplog.text
