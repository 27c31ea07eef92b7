"""A search index over any FAQ collection: BM25 for recall, rapidfuzz to re-rank a shortlist."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from .text import Analysis, Tokenizer, analyse, char_ngrams, normalize, synonym_replacer

Scorer = Callable[..., float]


@dataclass(frozen=True)
class Document:
    """One FAQ item: its id, the ways it is asked (canonical first), its answer, its group (product)."""

    id: str
    questions: tuple[str, ...]
    answer: str = ""
    group: str = ""


@dataclass(frozen=True)
class Weights:
    """How the signals combine; tuned on development data only (LocalgovFAQ dev and the bot's dev set)."""

    lemma: float = 1.0  # question lemmas, best phrasing
    reading: float = 0.3  # question reading bigrams, best phrasing
    answer: float = 1.0  # answer lemmas, divided by sqrt(phrasings per document)
    answer_pairs: float = 0.2  # answer lemma pairs, scaled like `answer`
    fuzz: float = 0.2  # reading similarity to the closest phrasing, shortlist only
    k1: float = 1.2
    b: float = 0.75
    answer_k1: float = 1.5
    answer_b: float = 0.75
    shortlist: int = 12


@dataclass(frozen=True)
class Match:
    """A ranked document with the evidence behind its score."""

    id: str
    score: float
    question: str
    coverage: float
    reading_coverage: float
    fuzz: float


class _Field:
    """One BM25 field: the bm25s retriever plus document frequencies for normalisation."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float, b: float) -> None:
        self.n = len(docs)
        self.df: Counter[str] = Counter()
        for terms in docs:
            self.df.update(set(terms))
        self._zeros = np.zeros(self.n, dtype=np.float32)
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        if self.df:  # bm25s cannot index a collection without a single term
            self.bm25.index([list(t) for t in docs], show_progress=False)

    def idf(self, term: str) -> float:
        """Lucene BM25 idf; an unseen term gets the highest idf, which is what lowers coverage."""
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        """The idf of each distinct term."""
        return {t: self.idf(t) for t in dict.fromkeys(terms)}

    def scores(self, terms: Sequence[str]) -> tuple[NDArray[np.float32], float]:
        """BM25 scores of every document, and the normaliser (sum of the query terms' idf)."""
        unique = list(dict.fromkeys(terms))
        norm = sum(self.idf(t) for t in unique)
        known = [t for t in unique if t in self.df]
        if not known or norm == 0.0:
            return self._zeros, norm or 1.0
        return self.bm25.get_scores(known), norm


class Index:
    """Ranks documents for a question. Knows nothing of products: any id/question/answer list works."""

    def __init__(
        self,
        docs: Sequence[Document],
        *,
        tokenizer: Tokenizer,
        synonyms: Sequence[tuple[str, str]] = (),
        weights: Weights | None = None,
        scorer: Scorer = fuzz.ratio,
    ) -> None:
        if not docs:
            raise ValueError("an index needs at least one document")
        self.docs = tuple(docs)
        self.weights = weights or Weights()
        self._tokenizer = tokenizer
        self._synonyms = synonym_replacer(synonyms)
        self._scorer = scorer
        w = self.weights
        phr_terms: list[tuple[str, ...]] = []
        phr_grams: list[list[str]] = []
        self._phr_text: list[str] = []
        self._phr_reading: list[str] = []
        phr_doc: list[int] = []
        starts: list[int] = []
        ans_terms: list[tuple[str, ...]] = []
        ans_pairs: list[tuple[str, ...]] = []
        self._doc_terms: list[frozenset[str]] = []
        self._doc_grams: list[frozenset[str]] = []
        for d, doc in enumerate(self.docs):
            starts.append(len(phr_doc))
            all_terms: set[str] = set()
            all_grams: set[str] = set()
            for q in doc.questions:
                a = self.analyse(q)
                grams = char_ngrams(a.reading)
                phr_terms.append(a.terms)
                phr_grams.append(grams)
                self._phr_text.append(q)
                self._phr_reading.append(a.reading.replace(" ", ""))
                phr_doc.append(d)
                all_terms.update(a.terms)
                all_grams.update(grams)
            self._doc_terms.append(frozenset(all_terms))
            self._doc_grams.append(frozenset(all_grams))
            answer = self.analyse(doc.answer) if doc.answer else Analysis((), "")
            ans_terms.append(answer.terms)
            ans_pairs.append(answer.pairs)
        self._starts = np.asarray(starts, dtype=np.int64)
        self._ends = [*starts[1:], len(phr_doc)]  # phrasings of document d are [starts[d], ends[d])
        self._groups = np.asarray([doc.group for doc in self.docs])
        self._lemma = _Field(phr_terms, w.k1, w.b)
        self._reading = _Field(phr_grams, w.k1, w.b)
        self._answer = _Field(ans_terms, w.answer_k1, w.answer_b)
        self._answer_pairs = _Field(ans_pairs, w.answer_k1, w.answer_b)
        # The best of many phrasings already says how people ask, so the answer (one text, often sharing
        # vocabulary with its neighbours) should vouch less; with one question per document it counts fully.
        self._answer_scale = 1.0 / math.sqrt(max(len(phr_doc) / len(self.docs), 1.0))

    def analyse(self, text: str) -> Analysis:
        """Normalise, apply synonyms, tokenise."""
        norm = self._synonyms(normalize(text))
        return analyse(self._tokenizer.tokenize(norm))

    def unknown_terms(self, text: str | Analysis) -> list[str]:
        """Content words of `text` (or of its analysis) that no document's questions or answer use."""
        a = text if isinstance(text, Analysis) else self.analyse(text)
        return [t for t in a.terms if t not in self._lemma.df and t not in self._answer.df]

    def search(
        self,
        text: str | Analysis,
        *,
        limit: int = 5,
        cutoff: float = 0.0,
        groups: Collection[str] | None = None,
    ) -> list[Match]:
        """The best `limit` documents scoring at least `cutoff`, best first (text, or its `analyse`)."""
        w = self.weights
        a = text if isinstance(text, Analysis) else self.analyse(text)
        grams = char_ngrams(a.reading)
        lem, lem_norm = self._lemma.scores(a.terms)
        rd, rd_norm = self._reading.scores(grams)
        phr = (w.lemma / lem_norm) * lem + (w.reading / rd_norm) * rd
        doc_scores = np.maximum.reduceat(phr, self._starts)
        if w.answer:
            ans, ans_norm = self._answer.scores(a.terms)
            doc_scores += (self._answer_scale * w.answer / ans_norm) * ans
        if w.answer_pairs and a.pairs:
            ap, ap_norm = self._answer_pairs.scores(a.pairs)
            doc_scores += (self._answer_scale * w.answer_pairs / ap_norm) * ap
        if groups is not None:
            doc_scores = np.where(np.isin(self._groups, list(groups)), doc_scores, -1.0)
        k = min(max(w.shortlist, limit), len(self.docs))
        top = np.argpartition(-doc_scores, k - 1)[:k] if k < len(self.docs) else np.arange(len(self.docs))
        top = top[doc_scores[top] > 0.0]
        if top.size == 0:
            return []
        query_reading = a.reading.replace(" ", "")
        term_idf = self._lemma.idfs(a.terms)  # once per query, not once per shortlisted document
        gram_idf = self._reading.idfs(grams)
        matches: list[Match] = []
        for d in top.tolist():
            lo, hi = int(self._starts[d]), self._ends[d]
            best_fuzz, best_p = self._best_fuzzy(query_reading, lo, hi, phr)
            score = float(doc_scores[d]) + w.fuzz * best_fuzz
            if score < cutoff:
                continue
            matches.append(Match(
                id=self.docs[d].id,
                score=score,
                question=self._phr_text[best_p],
                coverage=_coverage(term_idf, self._doc_terms[d]),
                reading_coverage=_coverage(gram_idf, self._doc_grams[d]),
                fuzz=best_fuzz,
            ))
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]

    def _best_fuzzy(self, query: str, lo: int, hi: int, phr: NDArray[np.floating]) -> tuple[float, int]:
        """Fuzzy similarity (0..1) of the query's reading to the document's closest phrasing."""
        if not query:
            return 0.0, lo + int(np.argmax(phr[lo:hi]))
        found = process.extractOne(query, self._phr_reading[lo:hi], scorer=self._scorer)
        if found is None:
            return 0.0, lo + int(np.argmax(phr[lo:hi]))
        return float(found[1]) / 100.0, lo + int(found[2])


def _coverage(idf: dict[str, float], have: frozenset[str]) -> float:
    """The idf-weighted share of the query's terms that the document has."""
    total = sum(idf.values())
    if total == 0.0:
        return 0.0
    return sum(v for t, v in idf.items() if t in have) / total
