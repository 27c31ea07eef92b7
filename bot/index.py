"""A search index over any FAQ collection: BM25 for recall, rapidfuzz to re-rank a shortlist."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

import bm25s
import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from . import vectors as word_vectors
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
    classifier: float = 0.2  # naive Bayes P(document | question) learnt from the phrasings, shortlist only
    classifier_alpha: float = 0.1  # its additive smoothing
    vectors: float = 0.5  # cosine of idf-weighted word vectors, shortlist only, one question a document only
    k1: float = 1.2
    b: float = 0.75
    answer_k1: float = 1.5
    answer_b: float = 0.75
    shortlist: int = 12


class _Explained:
    """How much of one query each document explains, worked out only for the documents asked about.

    A ranking returns a dozen matches, and the confidence reads the coverage of the first alone (the off-topic
    rule the unexplained words of two): computing every match's up front cost 6% of an answer.
    """

    def __init__(self, index: Index, terms: Sequence[str], grams: Sequence[str]) -> None:
        self._index = index
        self._terms = terms
        self._grams = grams

    @cached_property
    def _term_idf(self) -> tuple[dict[str, float], float]:
        """Each query term's idf, and their sum."""
        idf = self._index._lemma.idfs(self._terms)
        return idf, sum(idf.values())

    @cached_property
    def _gram_idf(self) -> tuple[dict[str, float], float]:
        """Each query reading bigram's idf, and their sum."""
        idf = self._index._reading.idfs(self._grams)
        return idf, sum(idf.values())

    def coverage(self, d: int) -> float:
        return _coverage(*self._term_idf, self._index._doc_terms[d])

    def reading_coverage(self, d: int) -> float:
        return _coverage(*self._gram_idf, self._index._doc_grams[d])

    def unexplained(self, d: int) -> float:
        words = self._index._doc_words[d]
        return sum([v for t, v in self._term_idf[0].items() if t not in words])


@dataclass(frozen=True)
class Match:
    """A ranked document with the evidence behind its score (the coverages are worked out when first read)."""

    id: str
    score: float
    question: str
    fuzz: float
    probability: float = 0.0  # the phrasings' classifier: P(this document | question); 0 where it is off
    _doc: int = field(default=-1, repr=False, compare=False)
    _explained: _Explained | None = field(default=None, repr=False, compare=False)

    @cached_property
    def coverage(self) -> float:
        """The idf-weighted share of the query's content words that the document's phrasings use."""
        return self._explained.coverage(self._doc) if self._explained else 0.0

    @cached_property
    def reading_coverage(self) -> float:
        """The same share for the query's reading bigrams."""
        return self._explained.reading_coverage(self._doc) if self._explained else 0.0

    @cached_property
    def unexplained(self) -> float:
        """idf mass of the query's words that the document neither is asked with nor answers."""
        return self._explained.unexplained(self._doc) if self._explained else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The match and all its evidence, as the agents' trace shows it."""
        return {"id": self.id, "score": self.score, "question": self.question, "coverage": self.coverage,
                "reading_coverage": self.reading_coverage, "fuzz": self.fuzz, "unexplained": self.unexplained,
                "probability": self.probability}


_JOIN_POSTINGS = 20_000
# A reading bigram such as デス or シン is in most questions of a large collection: adding its weight to every
# phrasing costs more than the rest of the search together and hardly tells them apart. Past this many
# postings a bigram keeps only its highest-weighted ones (static index pruning). Below it nothing changes, so
# the shipped knowledge and LocalgovFAQ (1,786 entries) rank exactly as with every posting. Measured on the
# generated 100,000-entry collection (benchmarks/run.py, LocalgovFAQ dev queries): SR@1 0.467 → 0.493,
# SR@5 0.533 → 0.533, dev questions' top-1 intent 220 → 221, and the search 35 % faster.
READING_POSTINGS = 4096


@dataclass(frozen=True)
class _Postings:
    """The posting lists of a query's known terms in one field, and the scale the field gives them."""

    lists: tuple[tuple[NDArray[np.int32], NDArray[np.float32]], ...]
    scale: float

    def summed(self, size: int) -> NDArray[np.float32]:
        """scale × Σ BM25 weight per document (float32 throughout: numpy's fast path for ufunc.at)."""
        acc = np.zeros(size, dtype=np.float32)
        if len(self.lists) == 1:
            np.add.at(acc, *self.lists[0])
        elif sum(len(docs) for docs, _ in self.lists) <= _JOIN_POSTINGS:  # one call: the same sums, same order
            if self.lists:
                np.add.at(acc, np.concatenate([d for d, _ in self.lists]), np.concatenate([w for _, w in self.lists]))
        else:  # long lists: copying them together would cost more than the calls
            for docs, weights in self.lists:
                np.add.at(acc, docs, weights)
        acc *= self.scale
        return acc


class _Field:
    """One BM25 field: each term's documents and BM25 weights (computed by bm25s), and document frequencies."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float, b: float, max_postings: int | None = None) -> None:
        self.n = len(docs)
        self.df: Counter[str] = Counter()
        for terms in docs:
            self.df.update(set(terms))
        lists: list[tuple[str, NDArray[np.int32], NDArray[np.float32]]] = []
        if self.df:  # bm25s cannot index a collection without a single term
            bm25 = bm25s.BM25(k1=k1, b=b)
            bm25.index([list(t) for t in docs], show_progress=False)
            data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
            for term, column in bm25.vocab_dict.items():
                if term in self.df:  # not bm25s's own empty token
                    lo, hi = int(indptr[column]), int(indptr[column + 1])
                    docs_of, weights = indices[lo:hi], data[lo:hi]
                    if max_postings is not None and hi - lo > max_postings:
                        keep = np.sort(np.argpartition(-weights, max_postings - 1)[:max_postings])
                        docs_of, weights = docs_of[keep], weights[keep]
                    lists.append((term, docs_of, weights))
        # one compact copy (bm25s's own arrays are not kept), and each term's idf and postings looked up once
        all_docs = np.concatenate([d for _, d, _ in lists]) if lists else np.zeros(0, dtype=np.int32)
        all_weights = np.concatenate([w for _, _, w in lists]) if lists else np.zeros(0, dtype=np.float32)
        self._unseen = self._idf(0)
        self._terms: dict[str, tuple[float, tuple[NDArray[np.int32], NDArray[np.float32]]]] = {}
        at = 0
        for term, d, _ in lists:
            self._terms[term] = (self._idf(self.df[term]), (all_docs[at : at + len(d)], all_weights[at : at + len(d)]))
            at += len(d)

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        """Lucene BM25 idf; an unseen term gets the highest idf, which is what lowers coverage."""
        known = self._terms.get(term)
        return known[0] if known else self._unseen

    def idfs(self, terms: Sequence[str]) -> dict[str, float]:
        """The idf of each distinct term."""
        return {t: self.idf(t) for t in dict.fromkeys(terms)}

    def postings(self, terms: Sequence[str], weight: float) -> _Postings:
        """The query's known terms, scaled by weight / (sum of the idf of the query's terms, known or not)."""
        lists = []
        norm = 0.0
        for term in dict.fromkeys(terms):
            known = self._terms.get(term)
            if known is None:
                norm += self._unseen
            else:
                norm += known[0]
                lists.append(known[1])
        return _Postings(tuple(lists), weight / (norm or 1.0))


def _features(a: Analysis, grams: Sequence[str]) -> list[str]:
    """What the classifier reads: content lemmas, adjacent lemma pairs and reading bigrams (marked apart)."""
    return [*a.terms, *a.pairs, *("~" + g for g in grams)]


class _Classifier:
    """Multinomial naive Bayes over tf-idf features (sublinear tf, smooth idf, l2 rows), one class per document.

    BM25 takes each document by its best phrasing, so the words its phrasings share with a sibling's count as
    much as the few that tell them apart (更新しない vs 更新したい, 追加 日割り vs 追加 いつ). A classifier trained
    on all the phrasings of all documents weighs each word by how it separates them. It is the textbook
    multinomial NB (scikit-learn's MultinomialNB on TfidfVectorizer gives the same probabilities), stored
    sparsely: a feature's log-probability under a document it never occurs in is that document's constant
    log(alpha / total), so only the (feature, document) pairs seen in training are kept, and a query costs its
    features' pairs plus one softmax over the documents.
    """

    def __init__(self, phrasings: Sequence[list[str]], doc_of: Sequence[int], n_docs: int, alpha: float) -> None:
        n = len(phrasings)
        df: Counter[str] = Counter()
        for feats in phrasings:
            df.update(set(feats))
        # each feature's column and idf, looked up once per query feature
        self._known = {f: (i, math.log((1 + n) / (1 + k)) + 1.0) for i, (f, k) in enumerate(df.items())}
        counts: list[dict[int, float]] = [{} for _ in df]
        totals = np.zeros(n_docs, dtype=np.float64)
        for feats, d in zip(phrasings, doc_of, strict=True):
            cols, values = self._vector(feats)
            for col, x in zip(cols.tolist(), values.tolist(), strict=True):
                counts[col][d] = counts[col].get(d, 0.0) + x
                totals[d] += x
        per_class = np.bincount(np.asarray(doc_of, dtype=np.intp), minlength=n_docs).astype(np.float64)
        # log P(d) − Σx·log(total_d + αV): the part of each document's log-likelihood that is not a posting
        self._prior = np.log(per_class / n)
        self._norm = np.log(totals + alpha * len(df))
        lengths = np.fromiter((len(per_doc) for per_doc in counts), dtype=np.intp, count=len(counts))
        docs = np.fromiter((d for per_doc in counts for d in per_doc), dtype=np.intp, count=int(lengths.sum()))
        logs = np.log1p(np.fromiter((x for per_doc in counts for x in per_doc.values()), dtype=np.float64,
                                    count=int(lengths.sum())) / alpha)
        # A small collection (the shipped one: a few thousand features × a few dozen documents) keeps a dense
        # feature × document matrix, so a query is one row gather and one product; a large one keeps every
        # feature's postings in one pair of arrays, a feature's at [start, end), gathered with one index array.
        self._dense: NDArray[np.float64] | None = None
        if len(counts) * n_docs <= _DENSE_CELLS:
            self._dense = np.zeros((len(counts), n_docs), dtype=np.float64)
            self._dense[np.repeat(np.arange(len(counts)), lengths), docs] = logs
        else:
            self._ends = np.cumsum(lengths)
            self._starts = self._ends - lengths
            self._docs, self._logs = docs, logs

    def _vector(self, feats: Sequence[str]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """The known features' columns and tf-idf weights, l2-normalised (unknown features are dropped first)."""
        cols: list[int] = []
        values: list[float] = []
        for f, count in Counter(feats).items():
            known = self._known.get(f)
            if known is not None:
                cols.append(known[0])
                values.append((1.0 + math.log(count)) * known[1])
        x = np.asarray(values, dtype=np.float64)
        length = math.sqrt(float(x @ x)) if values else 0.0
        return np.asarray(cols, dtype=np.intp), (x / length if length else x)

    def probabilities(self, feats: Sequence[str]) -> NDArray[np.float64]:
        """P(document | features) for every document (the class priors alone for no known feature)."""
        cols, x = self._vector(feats)
        jll = self._prior - float(x.sum()) * self._norm
        if cols.size and self._dense is not None:
            jll += x @ self._dense[cols]
        elif cols.size:
            lengths = self._ends[cols] - self._starts[cols]
            at = np.repeat(self._starts[cols] - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
            jll += np.bincount(self._docs[at], weights=self._logs[at] * np.repeat(x, lengths), minlength=len(jll))
        p: NDArray[np.float64] = np.exp(jll - jll.max())
        p /= p.sum()
        return p


_DENSE_CELLS = 2_000_000  # 16 MB of float64 at most

# The classifier learns what tells documents apart from their several phrasings; with one question per
# document (LocalgovFAQ) each class is a single example and BM25 already has everything it would learn.
CLASSIFIER_MIN_PHRASINGS = 2.0
# It is for intent sets, not for search over a large collection: its softmax runs over every document and a
# common feature's postings grow with the collection. On a generated 10,000-entry collection it added 0.7 ms
# to the median answer (0.92 → 1.62 ms) and 2 s to the build, so past this many documents it is left out.
CLASSIFIER_MAX_DOCUMENTS = 5_000
# Word vectors stand in for the phrasings a collection lacks, so they are used where the classifier is not: on
# LocalgovFAQ (one question each) dev MRR went from 0.617 to 0.629, and on the shipped knowledge (eight to sixty
# phrasings an intent, refitted) they put 434 → 458 of the read sets' answers wrong at weight 0.2. A document's
# vector is 1.2 KB, so a collection larger than an FAQ's goes without (memory grows with it, not speed).
VECTORS_MAX_DOCUMENTS = 5_000


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
        vectors: word_vectors.WordVectors | None = None,
    ) -> None:
        """`vectors` default to the installed ones, loaded only where the collection's shape uses them (and none
        when they are not installed: see `vectors.shared`)."""
        if not docs:
            raise ValueError("an index needs at least one document")
        if unasked := [doc.id for doc in docs if not doc.questions]:
            raise ValueError(f"a document needs at least one question: {', '.join(unasked)}")
        self.docs = tuple(docs)
        self.weights = weights or Weights()
        self._tokenizer = tokenizer
        self._synonyms = synonym_replacer(synonyms)
        self._scorer = scorer
        w = self.weights
        phr_terms: list[tuple[str, ...]] = []
        phr_grams: list[list[str]] = []
        # the classifier's features are only collected where it will be trained (a 100k collection has none)
        phrased = sum(len(doc.questions) for doc in self.docs) >= CLASSIFIER_MIN_PHRASINGS * len(self.docs)
        classify = bool(w.classifier) and len(self.docs) <= CLASSIFIER_MAX_DOCUMENTS and phrased
        embed = bool(w.vectors) and len(self.docs) <= VECTORS_MAX_DOCUMENTS and not phrased
        self._vectors = (vectors if vectors is not None else word_vectors.shared()) if embed else None
        phr_feats: list[list[str]] = []
        self._phr_text: list[str] = []
        phr_reading: list[str] = []
        phr_doc: list[int] = []
        starts: list[int] = []
        ans_terms: list[tuple[str, ...]] = []
        ans_pairs: list[tuple[str, ...]] = []
        self._doc_terms: list[frozenset[str]] = []
        self._doc_words: list[frozenset[str]] = []  # the lemmas of its phrasings and of its answer
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
                if classify:
                    phr_feats.append(_features(a, grams))
                self._phr_text.append(q)
                phr_reading.append(a.reading.replace(" ", ""))
                phr_doc.append(d)
                all_terms.update(a.terms)
                all_grams.update(grams)
            self._doc_terms.append(frozenset(all_terms))
            self._doc_grams.append(frozenset(all_grams))
            answer = self.analyse(doc.answer) if doc.answer else Analysis((), "")
            ans_terms.append(answer.terms)
            self._doc_words.append(frozenset(all_terms) | frozenset(answer.terms))
            ans_pairs.append(answer.pairs)
        self._position = {doc.id: d for d, doc in enumerate(self.docs)}
        ends = [*starts[1:], len(phr_doc)]  # phrasings of document d are [starts[d], ends[d])
        # what the fuzzy re-ranking compares: the readings, re-coded a byte a character where the collection allows
        self._byte_code = _ByteCode.of(phr_reading) if scorer is fuzz.ratio else None
        readings = [r.translate(self._byte_code) for r in phr_reading] if self._byte_code else phr_reading
        self._doc_readings = [readings[lo:hi] for lo, hi in zip(starts, ends, strict=True)]
        self._phr_start = np.asarray(starts, dtype=np.intp)  # each document's first phrasing
        self._one_each = len(phr_doc) == len(self.docs)  # one phrasing per document: no best-of to take
        later = np.ones(len(phr_doc), dtype=bool)
        later[self._phr_start] = False
        self._later = np.flatnonzero(later)  # every phrasing but each document's first, and its document
        self._later_doc = np.asarray(phr_doc, dtype=np.intp)[self._later]
        self._group_ids = {g: i for i, g in enumerate(dict.fromkeys(doc.group for doc in self.docs))}
        self._group_of = np.asarray([self._group_ids[doc.group] for doc in self.docs], dtype=np.int32)
        self._lemma = _Field(phr_terms, w.k1, w.b)
        self._reading = _Field(phr_grams, w.k1, w.b, max_postings=READING_POSTINGS)
        self._answer = _Field(ans_terms, w.answer_k1, w.answer_b)
        self._answer_pairs = _Field(ans_pairs, w.answer_k1, w.answer_b)
        # The best of many phrasings already says how people ask, so the answer (one text, often sharing
        # vocabulary with its neighbours) should vouch less; with one question per document it counts fully.
        self._answer_scale = 1.0 / math.sqrt(max(len(phr_doc) / len(self.docs), 1.0))
        self._classifier = _Classifier(phr_feats, phr_doc, len(self.docs), w.classifier_alpha) if classify else None
        if self._vectors is not None:
            df = Counter(chain.from_iterable(self._doc_words))
            n = len(self.docs)
            self._idf: Callable[[str], float] = lambda term: math.log(1.0 + n / (1.0 + df.get(term, 0)))
            self._doc_vectors = np.zeros((n, self._vectors.vectors.shape[1]), dtype=np.float32)
            for d, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
                terms = [*chain.from_iterable(phr_terms[lo:hi]), *ans_terms[d]]
                if (v := self._vectors.embed(terms, self._idf)) is not None:
                    self._doc_vectors[d] = v

    def analyse(self, text: str) -> Analysis:
        """Normalise, apply synonyms, tokenise."""
        norm = self._synonyms(normalize(text))
        return analyse(self._tokenizer.tokenize(norm))

    def unknown_terms(self, text: str | Analysis, known: Collection[str] | None = None) -> list[str]:
        """Content words of `text` (or of its analysis) that no document's questions or answer use.

        `known`, when given, is the vocabulary to judge by instead (see `vocabulary`).
        """
        a = text if isinstance(text, Analysis) else self.analyse(text)
        if known is not None:
            return [t for t in a.terms if t not in known]
        return [t for t in a.terms if t not in self._lemma.df and t not in self._answer.df]

    def vocabulary(self, groups: Collection[str]) -> frozenset[str]:
        """The words the questions and answers of these groups' documents use."""
        return frozenset().union(*(w for w, doc in zip(self._doc_words, self.docs, strict=True) if doc.group in groups))

    def words(self, doc_id: str) -> frozenset[str]:
        """The words of one document's questions and answer (empty for an unknown id)."""
        at = self._position.get(doc_id)
        return self._doc_words[at] if at is not None else frozenset()

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
        n_phr, n_docs = len(self._phr_text), len(self.docs)
        phr = self._lemma.postings(a.terms, w.lemma).summed(n_phr)
        phr += self._reading.postings(grams, w.reading).summed(n_phr)
        if self._one_each:
            doc_scores = phr
        else:
            # each document scores by its best phrasing: its first, raised by the others (most of a large
            # collection's documents have one phrasing, and a gather costs a fraction of ufunc.at)
            doc_scores = phr[self._phr_start]
            np.maximum.at(doc_scores, self._later_doc, phr[self._later])
        if w.answer:
            doc_scores += self._answer.postings(a.terms, self._answer_scale * w.answer).summed(n_docs)
        if w.answer_pairs and a.pairs:
            doc_scores += self._answer_pairs.postings(a.pairs, self._answer_scale * w.answer_pairs).summed(n_docs)
        if groups is not None:
            wanted = [self._group_ids[g] for g in groups if g in self._group_ids]
            keep = self._group_of == wanted[0] if len(wanted) == 1 else np.isin(self._group_of, wanted)
            doc_scores = np.where(keep, doc_scores, np.float32(-1.0))
        k = min(max(w.shortlist, limit), n_docs)
        top = np.argpartition(-doc_scores, k - 1)[:k] if k < n_docs else np.arange(n_docs)
        top = top[doc_scores[top] > 0.0]
        if top.size == 0:
            return []
        probs = (self._classifier.probabilities(_features(a, grams))[top].tolist() if self._classifier
                 else [0.0] * top.size)
        near = self._near(a.terms, top)
        scored = []
        for d, s, (best_fuzz, best_p), prob, cos in zip(top.tolist(), doc_scores[top].tolist(),
                                                        self._best_fuzzy(a.reading.replace(" ", ""), top), probs,
                                                        near, strict=True):
            score = s + w.fuzz * best_fuzz + w.classifier * prob + w.vectors * cos
            if score >= cutoff:
                scored.append((score, d, best_fuzz, best_p, prob))
        scored.sort(key=lambda item: -item[0])
        explained = _Explained(self, a.terms, grams)
        return [
            Match(id=self.docs[d].id, score=score, question=self._phr_text[best_p], fuzz=best_fuzz, probability=prob,
                  _doc=d, _explained=explained)
            for score, d, best_fuzz, best_p, prob in scored[:limit]
        ]

    def _near(self, terms: Sequence[str], shortlist: NDArray[np.intp]) -> list[float]:
        """For each shortlisted document: the cosine of its word vector and the query's (0 without vectors)."""
        query = self._vectors.embed(terms, self._idf) if self._vectors is not None else None
        if query is None:
            return [0.0] * shortlist.size
        cosines: list[float] = (self._doc_vectors[shortlist] @ query).tolist()
        return cosines

    def _best_fuzzy(self, query: str, shortlist: NDArray[np.intp]) -> list[tuple[float, int]]:
        """For each shortlisted document: fuzzy similarity (0..1) of the query's reading to its closest phrasing."""
        if self._byte_code:
            query = query.translate(self._byte_code)
        firsts = self._phr_start[shortlist].tolist()
        if not query:  # cannot happen with a score above 0: every content word has a reading
            return [(0.0, lo) for lo in firsts]
        runs = [self._doc_readings[d] for d in shortlist.tolist()]
        values = process.cdist([query], list(chain.from_iterable(runs)), scorer=self._scorer)[0].tolist()
        out = []
        at = 0
        for lo, run in zip(firsts, runs, strict=True):
            segment = values[at : at + len(run)]
            best = max(segment)
            out.append((best / 100.0, lo + segment.index(best)))  # the first of equals, as extractOne picks
            at += len(run)
        return out


class _ByteCode(dict[int, str]):
    """A str.translate table that re-codes the characters of a collection's readings into code points 1–254.

    rapidfuzz compares strings whose code points are all under 256 with a bit-parallel lookup table, and others
    through a hash map: on the shipped readings (katakana, 114 distinct characters) the re-coded comparison of a
    query with a shortlist's 458 phrasings took 40 µs instead of 104. fuzz.ratio counts only the characters two
    strings share in order and their lengths, and the re-coding is one-to-one, so its scores do not change. A
    query character no reading has becomes 255, which no reading has either: it still matches nothing.
    """

    def __missing__(self, key: int) -> str:
        return "\xff"

    @classmethod
    def of(cls, texts: Sequence[str]) -> _ByteCode | None:
        """The table for these texts, or None when they use more than 254 distinct characters."""
        chars = sorted(set().union(*texts))
        return cls({ord(c): chr(i + 1) for i, c in enumerate(chars)}) if len(chars) <= 254 else None


def _coverage(idf: dict[str, float], total: float, have: frozenset[str]) -> float:
    """The idf-weighted share of the query's terms (whose idf sum to `total`) that the document has."""
    if total == 0.0:
        return 0.0
    return sum([v for t, v in idf.items() if t in have]) / total
