"""A small BM25 text model over many short documents (headline + body).

`TextIndex` scores; the statistics it needs (document frequencies of a query's
candidate terms, the postings of its chosen terms with their counts, every
document's length) come from a `Statistics` source, so the scoring is one code
path whoever keeps them: `Scan` here, or the SQLite index's text group
(features/related/text_stats.py), which give the same floats from the same statistics.

`Scan` works in C-level string operations: each text becomes lowercase
UTF-8 in which tokens are separated by spaces (` syria s army offensive `),
so a whole token is found with a plain pattern (` army `) and no Python code
runs per token. Term statistics are then gathered
on demand, for the terms a query needs: one linear-time RE2 scan (all terms
in one alternation) gives the document frequencies and who holds which term,
then the chosen terms are counted where they occur (an inverted index built
for just those terms); only the documents found there are scored, term by
term. For 100k events that is a few seconds, instead of the minutes a
Python loop over every token would take. Nothing here knows about events:
`related` uses it for "similar text", and search relevance can reuse it.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from newsarc import cores
from newsarc.reading.words import count, normalize, tokenize, useful  # noqa: F401 (tokenize: callers import it from here)

# BM25 constants (the usual defaults: term-frequency saturation, length normalisation).
K1 = 1.2
B = 0.75
QUERY_TERMS = 24  # a document used as a query is represented by its best terms
CANDIDATE_TERMS = 400  # at most this many distinct terms of a query document are weighed
PARALLEL_DOCS = 20000  # from this many documents, a scan forks one process per core


class Query:
    """A document used as a query: its best terms, their idf, its own score, and who holds them.

    `holders` is what the statistics give: each chosen term -> the other documents holding it and
    how often; `postings` is the same turned round (document -> its counts), made when asked."""

    __slots__ = ("doc", "terms", "weights", "self_score", "holders", "_postings")

    def __init__(self, doc: int, terms: list[bytes], weights: dict[bytes, float]):
        self.doc = doc
        self.terms = terms
        self.weights = weights
        self.self_score = 0.0
        self.holders: dict[bytes, dict[int, int]] = {}  # chosen term -> {other document: count}
        self._postings: dict[int, dict[bytes, int]] | None = None

    @property
    def postings(self) -> dict[int, dict[bytes, int]]:
        """Each other document holding a chosen term -> how often it holds each, in document order."""
        if self._postings is None:
            found: dict[int, dict[bytes, int]] = {}
            for term, held in self.holders.items():
                for doc, n in held.items():
                    found.setdefault(doc, {})[term] = n
            self._postings = dict(sorted(found.items()))
        return self._postings

    def counts(self, doc: int) -> dict[bytes, int]:
        """How often document `doc` holds each chosen term it holds (its entry of `postings`)."""
        if self._postings is not None:
            return self._postings.get(doc, {})
        return {term: held[doc] for term, held in self.holders.items() if doc in held}


class Statistics(Protocol):
    """What BM25 needs to know of the documents, wherever it is kept: today's scan of normalized texts
    (`Scan`) or the SQLite index's words (features/related/text_stats.py). Documents are positions 0..size-1.
    The scoring (TextIndex) is the same whichever answers, so the answers are the same when the
    statistics are."""

    size: int
    lengths: Sequence[int]  # each document's length: bytes of its normalized text

    def counts(self, doc: int) -> Mapping[bytes, int]:
        """How often each token occurs in document `doc`; every useful token at least (`query` reads no other)."""
        ...

    def frequencies(self, terms: list[bytes]) -> list[int]:
        """How many documents hold each term, in the order asked."""
        ...

    def postings(self, doc: int, terms: list[bytes]) -> dict[bytes, dict[int, int]]:
        """Each of `terms` -> the documents but `doc` holding it, and how often (a term no other holds: {})."""
        ...


class Scan:
    """Statistics found by scanning every normalized text (RE2), for just the terms asked about."""

    def __init__(self, docs: Sequence[bytes]):
        self.docs = docs
        self.lengths = [len(doc) for doc in docs]  # bytes: proportional to tokens, free to count
        self.size = len(docs)
        self._holders: tuple[dict[bytes, int], list[tuple[int, list[int]]]] | None = None  # of the last frequencies

    def counts(self, doc: int) -> Counter[bytes]:
        return Counter(self.docs[doc].split())

    def frequencies(self, terms: list[bytes]) -> list[int]:
        """One scan gives the document frequencies and, kept for `postings`, who holds which term."""
        holders = self.scan(terms)
        found: Counter[int] = Counter()
        for _, indexes in holders:
            found.update(indexes)
        self._holders = ({term: i for i, term in enumerate(terms)}, holders)
        return [found[i] for i in range(len(terms))]

    def postings(self, doc: int, terms: list[bytes]) -> dict[bytes, dict[int, int]]:
        """From the last scan when it covered `terms` (a query's chosen terms are among its candidates);
        term counts are read only where a term occurs (on every core)."""
        kept = self._holders
        if kept is None or any(term not in kept[0] for term in terms):
            self.frequencies(terms)
            kept = self._holders
        assert kept is not None
        where, holders = kept
        self._holders = None  # a query's scan, used once: its memory goes with it
        chosen = {where[term] for term in terms}
        every = list(where)
        wanted = [(other, [every[i] for i in indexes if i in chosen]) for other, indexes in holders if other != doc]
        wanted = [pair for pair in wanted if pair[1]]
        docs = self.docs

        def counts(bounds: tuple[int, int]) -> list[tuple[int, dict[bytes, int]]]:
            found = []
            for other, held in wanted[bounds[0] : bounds[1]]:
                text = docs[other]
                found.append((other, {t: count(text, t) for t in held}))
            return found

        parts = cores.split(range(len(wanted)), cores.workers() if len(wanted) >= PARALLEL_DOCS // 10 else 1)
        found: dict[bytes, dict[int, int]] = {term: {} for term in terms}
        for part in cores.fan_out(counts, [(r.start, r.stop) for r in parts]):
            for other, held in part:
                for term, n in held.items():
                    found[term][other] = n
        return found

    def scan(self, terms: list[bytes]) -> list[tuple[int, list[int]]]:
        """(document, indexes into `terms` of those it holds) for each document holding one.

        One RE2 set match per document finds all terms at once in linear time:
        the inverted index of just these terms, built on demand, on every core
        for a large index (0.7 s on one core for 100k documents).
        """
        if not terms:
            return []
        match, docs = _term_set(terms), self.docs

        def holders(bounds: tuple[int, int]) -> list[tuple[int, list[int]]]:
            found = []
            for doc in range(*bounds):
                hit = match(docs[doc])
                if hit:
                    found.append((doc, hit))
            return found

        return [pair for part in cores.fan_out(holders, self._parts()) for pair in part]

    def _parts(self) -> list[tuple[int, int]]:
        """Ranges of documents, one per process (one below PARALLEL_DOCS: a fork costs more)."""
        count = cores.workers() if self.size >= PARALLEL_DOCS else 1
        return [(r.start, r.stop) for r in cores.split(range(self.size), count)]


class TextIndex:
    """Documents addressed by position; BM25 over statistics asked for the terms a query needs."""

    def __init__(
        self,
        texts: Iterable[str] = (),
        *,
        normalized: Sequence[bytes] | None = None,
        statistics: Statistics | None = None,
    ):
        """From texts, or from texts already normalized (reading/words.py), scanned when asked (`Scan`);
        or from `statistics` kept elsewhere (the SQLite index: features/related/text_stats.py)."""
        if statistics is None:
            statistics = Scan(normalized if normalized is not None else [normalize(t) for t in texts])
        self.statistics = statistics
        self.lengths = statistics.lengths
        self.size = statistics.size
        self.average = (sum(self.lengths) / self.size) if self.size else 0.0
        self.df: dict[bytes, int] = {}  # document frequencies found so far

    def counts(self, doc: int) -> Mapping[bytes, int]:
        return self.statistics.counts(doc)

    def idf(self, df: int) -> float:
        """BM25's idf, kept positive so common terms still count a little."""
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def frequencies(self, terms: Iterable[bytes]) -> dict[bytes, int]:
        """Document frequency of each term (asked once for all those not seen before)."""
        terms = sorted(set(terms))
        missing = [t for t in terms if t not in self.df]
        if missing:
            self.df.update(zip(missing, self.statistics.frequencies(missing)))
        return {t: self.df[t] for t in terms}

    def query(self, doc: int, k: int = QUERY_TERMS) -> Query:
        """Document `doc` as a query: its k most telling terms (tf-idf) that another document shares.

        The document frequencies of its CANDIDATE_TERMS most frequent terms pick
        the k chosen; the postings of those give the documents to score.
        Its k most telling words that no other document has count in its own score
        only: a text that shares three words of a long, distinctive one is not a match of 1.
        """
        counts = self.counts(doc)
        terms = sorted((t for t in counts if useful(t)), key=lambda t: (-counts[t], t))[:CANDIDATE_TERMS]
        df = self.statistics.frequencies(terms)
        self.df.update(zip(terms, df))
        ranked = sorted(range(len(terms)), key=lambda i: (-counts[terms[i]] * self.idf(df[i]), terms[i]))
        shared = [i for i in ranked if df[i] > 1][:k]
        own = [i for i in ranked if df[i] <= 1][:k]
        query = Query(doc, [terms[i] for i in shared], {terms[i]: self.idf(df[i]) for i in shared})
        alone = Query(doc, [], {terms[i]: self.idf(df[i]) for i in own})
        query.self_score = self.bm25(query, doc, counts) + self.bm25(alone, doc, counts)
        query.holders = self.statistics.postings(doc, [terms[i] for i in sorted(shared)]) if shared else {}
        return query

    def bm25(self, query: Query, doc: int, counts: Mapping[bytes, int] | None = None) -> float:
        counts = counts if counts is not None else self.counts(doc)
        norm = K1 * (1.0 - B + B * self.lengths[doc] / self.average) if self.average else K1
        total = 0.0
        for term, idf in query.weights.items():
            tf = counts.get(term)
            if tf:
                total += idf * tf * (K1 + 1.0) / (tf + norm)
        return total

    def similarity(self, query: Query, doc: int) -> float:
        """BM25 of `doc` relative to the query document's own score, in [0, 1]; 0 when no term is shared."""
        counts = query.counts(doc)
        if not counts or not query.self_score:
            return 0.0
        return min(1.0, self.bm25(query, doc, counts) / query.self_score)

    def contributions(self, query: Query, doc: int, n: int = 3) -> list[str]:
        """The `n` query terms that add most to `doc`'s score: the "why" of a match."""
        counts = query.counts(doc)
        shared = [t for t in query.terms if t in counts]
        shared.sort(key=lambda t: (-query.weights[t] * counts[t] / (counts[t] + K1), t))
        return [t.decode("utf-8", "replace") for t in shared[:n]]

    def scores(self, query: Query) -> dict[int, float]:
        """Similarity of every other document sharing a query term, in document order; all the rest score 0.

        `similarity` of each, worked out term by term: each document's sum gets the same terms added
        in the same order (the weights'), so the same floats, for a loop over the postings instead of
        one over every term for every document."""
        totals: dict[int, float] = {}
        norms: dict[int, float] = {}
        total_of, norm_of = totals.get, norms.get
        lengths, average = self.lengths, self.average
        k2 = K1 + 1.0
        for term, idf in query.weights.items():
            for doc, tf in query.holders.get(term, {}).items():  # tf >= 1: holders hold only documents holding it
                norm = norm_of(doc)
                if norm is None:
                    norm = norms[doc] = K1 * (1.0 - B + B * lengths[doc] / average) if average else K1
                totals[doc] = total_of(doc, 0.0) + idf * tf * k2 / (tf + norm)
        own = query.self_score
        if not own:
            return dict.fromkeys(sorted(totals), 0.0)
        return {doc: min(1.0, totals[doc] / own) for doc in sorted(totals)}

    def similar(self, query: Query, k: int) -> list[tuple[float, int]]:
        """The k documents most like the query document, best first; ties by position."""
        best = heapq.nsmallest(k, ((-score, doc) for doc, score in self.scores(query).items()))
        return [(-negative, doc) for negative, doc in best]


def _term_set(terms: list[bytes]) -> Callable[[bytes], list[int] | None]:
    """A matcher reporting which whole-token terms occur: RE2's Set (one linear pass) when present."""
    patterns = [b" " + re.escape(t) + b" " for t in terms]
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency; stay correct without it
        return lambda text: [i for i, p in enumerate(patterns) if p in text] or None
    options = re2.Options()
    options.max_mem = 256 << 20
    matcher = re2.Set.SearchSet(options)
    for pattern in patterns:
        matcher.Add(pattern)
    matcher.Compile()
    return matcher.Match
