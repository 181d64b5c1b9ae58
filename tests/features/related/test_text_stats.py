"""related's text statistics from the SQLite index (features/related/text_stats.py) answer as today's scan.

The oracle below is today's model written out plainly (every document's tokens
counted, document frequencies by brute force, BM25 summed document by document
in the weights' order, as related/text_model.py did before its statistics could come
from elsewhere). Both sources of TextIndex, the scan (`Scan`) and the index
(`open_words`), must give its floats exactly: query terms, weights, the query's
own score, postings, scores in order, the top 20 and their "why".
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc.archive import Archive
from newsarc.features.related import text_stats
from newsarc.features.related.text_model import B, CANDIDATE_TERMS, K1, QUERY_TERMS, TextIndex
from newsarc.index import build, db
from newsarc.reading.words import count, normalize, useful
from tests.conftest import EXAMPLES, ArchiveBuilder, generated_archive


# -- the oracle: today's model, plainly ------------------------------------------------------------


class Oracle:
    def __init__(self, texts: list[bytes]):
        self.counts = [Counter(text.split()) for text in texts]
        self.lengths = [len(text) for text in texts]
        self.size = len(texts)
        self.average = sum(self.lengths) / self.size if self.size else 0.0
        self.holders: dict[bytes, list[int]] = {}  # term -> the documents holding it, in order
        for doc, counts in enumerate(self.counts):
            for term in counts:
                self.holders.setdefault(term, []).append(doc)
        self.df = {term: len(docs) for term, docs in self.holders.items()}

    def idf(self, df: int) -> float:
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def bm25(self, weights: dict[bytes, float], doc: int, counts) -> float:
        norm = K1 * (1.0 - B + B * self.lengths[doc] / self.average) if self.average else K1
        total = 0.0
        for term, idf in weights.items():
            tf = counts.get(term)
            if tf:
                total += idf * tf * (K1 + 1.0) / (tf + norm)
        return total

    def answer(self, doc: int, top: int = 20) -> dict:
        counts = self.counts[doc]
        terms = sorted((t for t in counts if useful(t)), key=lambda t: (-counts[t], t))[:CANDIDATE_TERMS]
        df = [self.df[t] for t in terms]
        ranked = sorted(range(len(terms)), key=lambda i: (-counts[terms[i]] * self.idf(df[i]), terms[i]))
        shared = [i for i in ranked if df[i] > 1][:QUERY_TERMS]
        own = [i for i in ranked if df[i] <= 1][:QUERY_TERMS]
        weights = {terms[i]: self.idf(df[i]) for i in shared}
        self_score = self.bm25(weights, doc, counts) + self.bm25({terms[i]: self.idf(df[i]) for i in own}, doc, counts)
        postings = {}
        for other in sorted({o for t in weights for o in self.holders[t]} - {doc}):
            held = self.counts[other]
            postings[other] = {t: held[t] for t in weights if t in held}
        scores = {o: min(1.0, self.bm25(weights, o, p) / self_score) if self_score else 0.0 for o, p in postings.items()}
        best = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))[:top]

        def why(other: int) -> list[str]:
            held = postings[other]
            shared_terms = sorted((t for t in weights if t in held), key=lambda t: (-weights[t] * held[t] / (held[t] + K1), t))
            return [t.decode("utf-8", "replace") for t in shared_terms[:3]]

        return {"terms": [terms[i] for i in shared], "weights": weights, "self_score": self_score, "postings": postings,
                "scores": list(scores.items()), "similar": [(s, o) for o, s in best], "why": {o: why(o) for o, _ in best}}


def answer(index: TextIndex, doc: int, top: int = 20) -> dict:
    query = index.query(doc)
    similar = index.similar(query, top)
    return {"terms": query.terms, "weights": query.weights, "self_score": query.self_score, "postings": query.postings,
            "scores": list(index.scores(query).items()), "similar": similar,
            "why": {o: index.contributions(query, o) for _, o in similar}}


def same(found: dict, expected: dict) -> bool:
    """Equal, floats bit for bit, and in the same order (dicts compared as item lists where order is told)."""
    return (found["terms"] == expected["terms"] and list(found["weights"].items()) == list(expected["weights"].items())
            and found["self_score"] == expected["self_score"] and list(found["postings"]) == list(expected["postings"])
            and found["postings"] == expected["postings"] and found["scores"] == expected["scores"]
            and found["similar"] == expected["similar"] and found["why"] == expected["why"])


# -- helpers ---------------------------------------------------------------------------------------


def texts_of(root: Path) -> tuple[list[str], list[bytes]]:
    """Today's documents: the events in view() order, headline twice and body, normalized."""
    archive = Archive.open(root, use_cache=False).load()
    events = archive.view()
    return [e.path for e in events], [normalize(f"{e.title}\n{e.title}\n{e.body}") for e in events]


def opened(root: Path, cache: Path) -> build.Index:
    return build.open_fresh(root, groups=[text_stats.GROUP], cache_dir=cache)


def check_every_event(root: Path, cache: Path, scan_every: int = 1) -> int:
    paths, texts = texts_of(root)
    oracle = Oracle(texts)
    index = opened(root, cache)
    try:
        words = text_stats.open_words(index)
        assert words.statistics.paths() == paths
        assert (words.size, list(words.lengths), words.average) == (oracle.size, oracle.lengths, oracle.average)
        scan = TextIndex(normalized=texts)
        for doc in range(len(texts)):
            expected = oracle.answer(doc)
            assert same(answer(words, doc), expected), paths[doc]
            if doc % scan_every == 0:
                assert same(answer(scan, doc), expected), paths[doc]
        words.statistics.close()
    finally:
        index.close()
    return len(texts)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """bench/gen_archive.py OUT --events 2000 --seed 5."""
    return generated_archive(tmp_path_factory.mktemp("generated-2k"), 2000, 5)


# -- the tokenizer ---------------------------------------------------------------------------------

SEPARATORS = " \t\n.,;:!?'\"()[]{}-_/\\|@#$%^&*+=<>~`\x00\x7f\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00b7"
LETTERS = "aAbBzZ09ßéÉıİǅΣσςкК中ﬁ\u0301\ud7ff\U0001f600"


def _fts_tokens(conn: sqlite3.Connection, text: str) -> list[tuple[str, int]]:
    conn.execute("DELETE FROM t")
    conn.execute("INSERT INTO t(rowid, body) VALUES(1, ?)", (text,))
    return conn.execute("SELECT term, offset FROM t_inst ORDER BY offset").fetchall()


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='ascii', detail=full)")
    conn.execute("CREATE VIRTUAL TABLE t_inst USING fts5vocab(t, 'instance')")
    return conn


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(),
    st.text(alphabet=SEPARATORS + LETTERS),
    st.lists(st.sampled_from(["army", "Army", "ARMY", "ab", "été", "Été", "x", "syria's", "k\u212a"]), max_size=12).map(" ".join),
))
def test_fts5_ascii_tokens_are_the_normalized_tokens(fts, text):
    """The 'ascii' tokenizer over a normalized text finds its tokens, in order, and so counts each as
    `count` does (adjacent equal tokens included)."""
    normalized = normalize(text)
    found = _fts_tokens(fts, normalized.decode())
    tokens = normalized.split()
    assert [term.encode() for term, _ in found] == tokens
    assert [offset for _, offset in found] == list(range(len(tokens)))
    for term, n in Counter(tokens).items():
        assert count(normalized, term) == n


def test_no_normalized_token_holds_the_long_token_mark():
    """The mark of a long token (an em dash) is one of the characters `normalize` turns into a space."""
    assert text_stats.MARK.encode() not in normalize(f"a{text_stats.MARK}b {text_stats.MARK.upper()} É{text_stats.MARK}")
    assert normalize(text_stats.MARK) == b"   "


# -- the answers -----------------------------------------------------------------------------------


def test_every_event_of_the_examples_answers_as_today(tmp_path):
    assert check_every_event(EXAMPLES, tmp_path / "cache") >= 50


def test_every_event_of_a_generated_archive_answers_as_today(generated, tmp_path):
    """2,000 events; the scan (slower) for every 25th."""
    assert check_every_event(generated, tmp_path / "cache", scan_every=25) == 2000


def _write(builder: ArchiveBuilder, events: list[tuple[str, str, str]]) -> None:
    for date, title, body in events:
        builder.event(date, title, body=body)


WORDS = ["palmyra", "aleppo", "citadel", "airstrike", "museum", "ceasefire", "convoy", "eclipse", "kraków", "Kraków",
         "ÉTÉ", "été", "syria's", "us", "and", "2016", "x" * 300, "a-b", "ﬁnal", "İstanbul"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(
    st.tuples(st.sampled_from(["2015-05-01", "2015-05-02", "2016-01-31"]),
              st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
              st.lists(st.sampled_from(WORDS + [", ", ". ", "\n\n"]), max_size=30).map(" ".join)),
    min_size=1, max_size=8, unique_by=lambda e: e[1].lower()))
def test_random_archives_answer_as_today(tmp_path_factory, events):
    base = tmp_path_factory.mktemp("random")
    builder = ArchiveBuilder(base / "site")
    _write(builder, events)
    check_every_event(builder.root, base / "cache")


def test_long_tokens_are_held_whole(builder, tmp_path):
    """FTS5 cuts a token at 32 KB: a token of more than LONG_TOKEN bytes is held as its digest, so one
    of 40,000 bytes and another that shares its first 32 KB stay two terms."""
    long_a, long_b = "q" * 40_000, "q" * 40_000 + "z"
    builder.event("2015-05-01", "First long", body=f"{long_a} {long_a} palmyra {'m' * 250}")
    builder.event("2015-05-02", "Second long", body=f"{long_a} palmyra {'m' * 250}")
    builder.event("2015-05-03", "Third long", body=f"{long_b} {long_b} palmyra")
    assert check_every_event(builder.root, tmp_path / "cache") == 3


def test_order_dates_and_names_as_the_archive(builder, tmp_path):
    """Events without a date first (date.min), then by date, then by path as Python compares paths,
    a name that is not UTF-8 included; day pages are no documents."""
    builder.event("2016-03-27", "Later event", body="palmyra citadel")
    builder.event("2015-01-02", "Earlier event", body="palmyra museum")
    builder.write("news/undated.md", "# Undated event\n\nPalmyra museum citadel.\n")
    builder.write("news/Zeta.md", "# Zeta\n\nPalmyra.\n")
    raw = os.path.join(os.fsencode(builder.root), b"news", b"caf\xe9-\xff.md")
    with open(raw, "wb") as handle:
        handle.write(b"# Not UTF-8 name\n\nPalmyra museum.\n")
    index = opened(builder.root, tmp_path / "cache")
    try:
        docs = text_stats.documents(index)
        events = Archive.open(builder.root, use_cache=False).load().view()
        paths = [e.path for e in events]
        assert docs.paths() == paths and len(paths) == 5
        assert [docs.position(p) for p in paths] == list(range(5))
        assert [docs.path(k) for k in range(5)] == paths
        assert list(docs.events([4, 0, 2]).items()) == [(k, (paths[k], events[k].date)) for k in (4, 0, 2)]
        assert events[0].date is None and docs.events([0])[0] == (paths[0], None)
        assert docs.position("news/2016/03/27/index.md") is None and docs.position("nothing.md") is None
        docs.close()
    finally:
        index.close()
    assert check_every_event(builder.root, tmp_path / "cache") == 5


def test_updates_answer_as_a_fresh_build(builder, tmp_path):
    """Edits, a file added, one removed, a date moved (the order changes): the index brought up to date
    answers as the oracle over the files as they are, and FTS5's own check holds."""
    cache = tmp_path / "cache"
    links = [builder.event(f"2015-05-{d:02d}", f"Event {d} palmyra", body=f"citadel museum word{d % 3} convoy")
             for d in range(1, 9)]
    opened(builder.root, cache).close()
    first = builder.root / links[0].lstrip("/")
    first.write_text(first.read_text().replace("citadel museum", "eclipse ceasefire ceasefire"))
    (builder.root / links[1].lstrip("/")).unlink()
    builder.event("2014-12-31", "New earliest palmyra", body="eclipse convoy")
    moved = builder.root / links[2].lstrip("/")
    moved.write_text(moved.read_text().replace("### [2015-05-03]", "---\ndate: 2013-01-01\n---\n### [2015-05-03]"))
    index = opened(builder.root, cache)
    try:
        assert index.report.parsed >= 3 and not index.report.built
        index.conn.execute("INSERT INTO text_fts(text_fts) VALUES('integrity-check')")
    finally:
        index.close()
    assert check_every_event(builder.root, cache) == 8
    # No event changed (a day page edited, an event touched): the order is kept, and still right.
    kept = _order_rows(cache, builder.root)
    day_page = builder.root / "news/2015/05/4/index.md"
    day_page.write_text(day_page.read_text() + "\n")
    os.utime(builder.root / links[3].lstrip("/"), ns=(1, 1))
    index = opened(builder.root, cache)
    index.close()
    assert index.report.parsed + index.report.restamped >= 2
    assert _order_rows(cache, builder.root) == kept
    assert check_every_event(builder.root, cache) == 8


def _order_rows(cache: Path, root: Path) -> list[tuple]:
    index = opened(root, cache)
    try:
        return index.conn.execute("SELECT k, data FROM text_order ORDER BY k").fetchall()
    finally:
        index.close()


def test_answers_come_from_one_snapshot_while_another_process_updates(builder, tmp_path):
    """Events added and one changed by another writer after the model was made: it answers as the
    files were when it was made (its order and its postings from one snapshot), and a model made
    afterwards as they are now."""
    cache = tmp_path / "cache"
    links = [builder.event(f"2015-05-{d:02d}", f"Event {d} palmyra", body=f"citadel museum word{d % 3} convoy")
             for d in range(1, 7)]
    paths, texts = texts_of(builder.root)
    before = Oracle(texts)
    index = opened(builder.root, cache)
    words = text_stats.open_words(index)
    for d in range(7, 12):  # new events sort before the old ones: every position moves
        builder.event(f"2014-01-{d:02d}", f"Earlier {d} palmyra citadel", body="museum convoy ceasefire")
    first = builder.root / links[0].lstrip("/")
    first.write_text(first.read_text().replace("citadel museum", "museum museum eclipse"))
    other = opened(builder.root, cache)  # another writer: brings the index up to date
    assert other.report.parsed >= 6
    other.close()
    try:
        assert words.statistics.paths() == paths
        for doc in range(len(texts)):
            assert same(answer(words, doc), before.answer(doc)), paths[doc]
    finally:
        words.statistics.close()
        index.close()
    assert check_every_event(builder.root, cache) == 11


def test_the_text_group_alone(builder, tmp_path):
    """The group needs no other (its dates and lengths are its own); the index builds nothing else."""
    builder.event("2015-05-01", "Palmyra citadel", body="museum")
    builder.event("2015-05-02", "Palmyra museum", body="citadel")
    index = opened(builder.root, tmp_path / "cache")
    try:
        assert db.built_groups(index.conn) == {text_stats.GROUP: text_stats.TEXT.version}
        words = text_stats.open_words(index)
        query = words.query(0)
        assert query.terms == [b"palmyra", b"citadel", b"museum"] or sorted(query.terms) == [b"citadel", b"museum", b"palmyra"]
        assert list(words.scores(query)) == [1]
        words.statistics.close()
    finally:
        index.close()


def test_an_index_in_memory_answers_as_one_on_disk(builder, tmp_path):
    """--no-cache: a temporary database, this process's alone, read through the index's connection."""
    for d in range(1, 6):
        builder.event(f"2015-05-{d:02d}", f"Event {d} palmyra", body=f"citadel word{d % 2} museum")
    paths, texts = texts_of(builder.root)
    oracle = Oracle(texts)
    index = build.open_fresh(builder.root, groups=[text_stats.GROUP], use_cache=False)
    try:
        assert index.path is None
        words = text_stats.open_words(index)
        assert words.statistics.paths() == paths
        for doc in range(len(texts)):
            assert same(answer(words, doc), oracle.answer(doc))
        words.statistics.close()
    finally:
        index.close()
