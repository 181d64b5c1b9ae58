"""The SQLite index spike (issue 18) at scale: build time per table group, size per table, query times.

Run from outside the checkout (bench/RESULTS.md says why):
    cd /tmp && PYTHONPATH=/work/wt-sqlite /usr/bin/time -v /work/venv/bin/python \
        /work/wt-sqlite/bench/sqlite_bench.py /tmp/newsarc-bench/events-100000-seed1 --groups events,links --queries

Prints one JSON object (bench/SQLITE.md has the numbers and what they mean).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def median_time(func, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--cache", default="/tmp/newsarc-spike", help="cache folder (the index is in its index/)")
    parser.add_argument("--groups", default="events,links,search,words")
    parser.add_argument("--search", choices=("zlib", "plain"), default="zlib")
    parser.add_argument("--detail", choices=("full", "column", "none"), default="full")
    parser.add_argument("--no-filter", action="store_true", help="every token into FTS5 (stopwords, numbers, short ones)")
    parser.add_argument("--no-input", action="store_true", help="no words_input table (rows cannot be deleted)")
    parser.add_argument("--queries", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="query the database already there")
    args = parser.parse_args()

    from newsarc.index import build, db
    from newsarc.features.linkcheck import link_tables
    from newsarc.features.search import word_index

    word_index.search_group(compressed=args.search == "zlib")
    word_index.FILTER = not args.no_filter
    word_index.words_group(detail=args.detail, keep_input=not args.no_input)
    groups = [g for g in args.groups.split(",") if g]
    out: dict = {"sqlite": __import__("sqlite3").sqlite_version, "groups": groups, "search": args.search,
                 "detail": args.detail, "filter": not args.no_filter, "input": not args.no_input}
    if not args.reuse:
        import shutil

        shutil.rmtree(args.cache, ignore_errors=True)
    start = time.perf_counter()
    index = build.open_fresh(args.archive, args.archive, groups, cache_dir=args.cache)
    out["open_s"] = round(time.perf_counter() - start, 2)
    out["built"] = index.report.built
    conn = index.conn
    out["files"] = conn.execute("SELECT count(*) FROM files").fetchone()[0]
    out["db_mb"] = round(os.path.getsize(index.path) / 1e6, 1)
    out["tables_mb"] = {name: round(size / 1e6, 2) for name, size in db.sizes(conn).items() if size >= 50_000}
    if args.queries:
        out["queries_ms"] = queries(conn, args.archive, set(groups))
    print(json.dumps(out, indent=1))


def queries(conn, archive: str, groups: set[str]) -> dict:
    from newsarc.features.linkcheck import link_tables
    from newsarc.features.search import word_index

    found: dict = {}
    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    from newsarc.index import freshness

    start = time.perf_counter()
    freshness.check(conn, archive)
    found["freshness_check_all_files"] = ms(time.perf_counter() - start)
    sample = [row for row in conn.execute("SELECT id, path FROM files WHERE kind = 0 AND id % 9973 = 1 ORDER BY id")][:8]
    if "events" in groups:
        found["month_events"] = ms(median_time(lambda: word_index.events_of_month(conn, 2021, 6))[0])
        found["month_events_count"] = len(word_index.events_of_month(conn, 2021, 6))
        slugs = [path.rsplit("/", 1)[1][:-3] for _, path in sample]
        found["by_slug"] = ms(median_time(lambda: [word_index.by_slug(conn, s) for s in slugs])[0] / len(slugs))
    if "links" in groups:
        found["backlinks"] = ms(median_time(lambda: [link_tables.backlinks(conn, p) for _, p in sample])[0] / len(sample))
        found["backlinks_counts"] = [len(link_tables.backlinks(conn, p)) for _, p in sample]
        t, loud = median_time(lambda: link_tables.loud_files(conn), 3)
        found["validate_links_loud_files"] = ms(t)
        found["loud_count"] = len(loud)
    if "search" in groups and "words" in groups:
        for pattern in ("Syrian Army", "Melbourne", "ceasefire", "Palmy?ra", "Tórshavn", "[0-9]{4} prices"):
            t, ids = median_time(lambda: word_index.search_ids(conn, pattern), 3)
            t_cand, cand = median_time(lambda: word_index.candidates(conn, pattern), 3)
            saved = word_index.candidates
            word_index.candidates = lambda c, p: None  # the whole search text through RE2
            t_scan, every = median_time(lambda: word_index.search_ids(conn, pattern), 3)
            word_index.candidates = saved
            found[f"search {pattern!r}"] = {
                "ms": ms(t), "candidates_ms": ms(t_cand), "candidates": None if cand is None else len(cand),
                "matches": len(ids), "full_scan_ms": ms(t_scan), "same_as_full_scan": ids == every,
            }
    if "words" in groups:
        t = median_time(lambda: [word_index.related_ids(conn, fid) for fid, _ in sample], 3)[0] / len(sample)
        found["related_top20"] = ms(t)
    if "search" in groups:
        found["rg_l_syrian_army"] = ms(median_time(lambda: subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "rg"), "-l", "Syrian Army", archive], capture_output=True), 3)[0])
    return found


if __name__ == "__main__":
    main()
