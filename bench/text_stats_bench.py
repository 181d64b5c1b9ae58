"""related's text statistics from the SQLite index (features/related/text_stats.py) against today's scan.

    # one build from nothing per process: time, CPU, peak memory, size per table
    cd /tmp && PYTHONPATH=/work/wt-words /work/venv/bin/python /work/wt-words/bench/text_stats_bench.py build \\
        /tmp/newsarc-bench/events-100000-seed1 --groups events,text --storage input --cache /tmp/wd-cache --keep

    # query + scores for 5 events, today's TextIndex (the store's words) and the index's, interleaved;
    # every answer compared (terms, weights, self score, postings, scores)
    cd /tmp && PYTHONPATH=/work/wt-words /work/venv/bin/python /work/wt-words/bench/text_stats_bench.py query \\
        /tmp/newsarc-bench/events-100000-seed1 --cache /tmp/wd-cache --rounds 3

`--storage` picks how the FTS5 input is kept for deletes (text_stats.STORAGE): "input" (contentless,
zlib in text_input), "content" (FTS5 keeps it, plain), "external" (external content table, plain).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import time


def _load() -> str:
    return open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"


def build_cmd(args) -> None:
    from newsarc.features import catalog  # noqa: F401  (registers events, links)
    from newsarc.features.related import text_stats
    from newsarc.index import build, db

    text_stats.text_group(args.storage, optimize=args.optimize)
    groups = [g for g in args.groups.split(",") if g]
    shutil.rmtree(args.cache, ignore_errors=True)
    load = _load()
    start = time.perf_counter()
    index = build.open_fresh(args.archive, args.archive, groups, cache_dir=args.cache)
    cold = time.perf_counter() - start
    size = os.path.getsize(index.path)
    tables = db.sizes(index.conn)
    files = index.conn.execute("SELECT count(*) FROM files").fetchone()[0]
    index.close()
    parent = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    text_mb = sum(n for name, n in tables.items() if name.startswith("text_")) / 1e6
    print(json.dumps({
        "groups": groups, "storage": args.storage, "optimize": args.optimize, "files": files,
        "cold_s": round(cold, 2), "load_before": load, "load_after": _load(),
        "parent_peak_mb": round(parent.ru_maxrss / 1024, 1), "largest_worker_peak_mb": round(children.ru_maxrss / 1024, 1),
        "cpu_user_s": round(parent.ru_utime + children.ru_utime, 1), "db_mb": round(size / 1e6, 1),
        "text_tables_mb": round(text_mb, 1),
        "tables_mb": {name: round(n / 1e6, 1) for name, n in tables.items() if n >= 500_000},
    }))
    if not args.keep:
        shutil.rmtree(args.cache, ignore_errors=True)


def pick(paths: list[str], count: int) -> list[int]:
    step = max(1, len(paths) // count)
    return list(range(step // 2, len(paths), step))[:count]


def today_cmd(args) -> None:
    """The path without the index (Archive.open(root).load(), related.TextModel over every event's
    text): runs with any newsarc on PYTHONPATH, for the time of the code before the text group."""
    from newsarc.archive import Archive
    from newsarc.features import related

    load = _load()
    archive = Archive.open(args.archive).load()
    model = related.TextModel(archive)
    docs = pick(model.paths, args.events)
    runs: dict[str, list[float]] = {model.paths[d]: [] for d in docs}
    for _ in range(args.rounds):
        for doc in docs:
            model.index.df.clear()
            start = time.perf_counter()
            query = model.index.query(doc)
            model.index.scores(query)
            runs[model.paths[doc]].append(time.perf_counter() - start)
    medians = [statistics.median(t) for t in runs.values()]
    print(json.dumps({"code": os.path.dirname(os.path.dirname(os.path.abspath(related.__file__))), "load": load,
                      "load_after": _load(), "median_of_medians_s": round(statistics.median(medians), 3),
                      "runs_s": {p: [round(x, 3) for x in t] for p, t in runs.items()}}))


def query_cmd(args) -> None:
    from newsarc.archive import Archive
    from newsarc.features import related
    from newsarc.features.related import text_stats
    from newsarc.index import build

    timings: dict = {"load": _load()}
    start = time.perf_counter()
    archive = Archive.open(args.archive).load()
    old = related.TextModel(archive)
    timings["today_open_s"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    index = build.open_fresh(args.archive, args.archive, [text_stats.GROUP], cache_dir=args.cache)
    timings["index_open_fresh_s"] = round(time.perf_counter() - start, 3)
    assert index.report.parsed == 0 and not index.report.groups_built, ("build it first", index.report)
    start = time.perf_counter()
    new = text_stats.open_words(index)
    timings["open_words_s"] = round(time.perf_counter() - start, 4)
    paths = old.paths
    start = time.perf_counter()
    same_paths = new.statistics.paths() == paths
    timings["paths_s"] = round(time.perf_counter() - start, 3)
    docs = pick(paths, args.events)
    runs: dict[str, dict[str, list[float]]] = {paths[d]: {"today": [], "index": []} for d in docs}
    detail: dict[str, dict] = {}
    equal = True
    for _ in range(args.rounds):
        for doc in docs:
            found = {}
            for name, model in (("today", old.index), ("index", new)):
                model.df.clear()  # each query as a fresh process would ask it
                start = time.perf_counter()
                query = model.query(doc)
                scores = model.scores(query)
                runs[paths[doc]][name].append(time.perf_counter() - start)
                found[name] = (query, scores, model)
            (qa, sa, ma), (qb, sb, mb) = found["today"], found["index"]
            same = (qa.terms == qb.terms and qa.weights == qb.weights and qa.self_score == qb.self_score
                    and list(qa.postings) == list(qb.postings) and qa.postings == qb.postings
                    and list(sa.items()) == list(sb.items())
                    and all(ma.contributions(qa, o) == mb.contributions(qb, o) for o in qa.postings))
            equal = equal and same
            detail[paths[doc]] = {"terms": len(qa.terms), "postings": len(qa.postings),
                                  "postings_entries": sum(len(v) for v in qa.postings.values()), "same": same}
    result = {
        "documents": new.size, "same_paths": same_paths, "all_equal": equal, **timings, "load_after": _load(),
        "per_event": {
            path: {**detail[path], **{name: {"median_s": round(statistics.median(t), 3), "runs_s": [round(x, 3) for x in t]}
                                      for name, t in r.items()}}
            for path, r in runs.items()
        },
    }
    today = [statistics.median(r["today"]) for r in runs.values()]
    index_t = [statistics.median(r["index"]) for r in runs.values()]
    result["median_of_medians_s"] = {"today": round(statistics.median(today), 3), "index": round(statistics.median(index_t), 3)}
    print(json.dumps(result, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("archive")
    b.add_argument("--groups", default="events,text", help="comma-separated ('' = files only)")
    b.add_argument("--storage", default="input", choices=["input", "content", "external"])
    b.add_argument("--optimize", action="store_true", help="merge FTS5's segments into one after the build")
    b.add_argument("--cache", default="/tmp/wd-bench-cache")
    b.add_argument("--keep", action="store_true", help="leave the database (default: removed after)")
    q = sub.add_parser("query")
    q.add_argument("archive")
    q.add_argument("--cache", default="/tmp/wd-bench-cache")
    q.add_argument("--events", type=int, default=5)
    q.add_argument("--rounds", type=int, default=3)
    t = sub.add_parser("today", help="today's path alone, with whatever newsarc is on PYTHONPATH")
    t.add_argument("archive")
    t.add_argument("--events", type=int, default=5)
    t.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    {"build": build_cmd, "query": query_cmd, "today": today_cmd}[args.command](args)


if __name__ == "__main__":
    main()
