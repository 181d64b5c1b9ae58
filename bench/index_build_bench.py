"""Build the SQLite index (newsarc/index) from nothing at scale: time, peak memory of the parent and of
the largest worker, database size. One build per run; run it under /usr/bin/time -v for the total.

Run from outside the checkout (bench/RESULTS.md says why):
    cd /tmp && PYTHONPATH=/work/wt-index /usr/bin/time -v /work/venv/bin/python \
        /work/wt-index/bench/index_build_bench.py /tmp/newsarc-bench/events-100000-seed1 --groups "" --cache /tmp/ix-b
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--groups", default="", help="comma-separated: events,links,search,words ('' = files only)")
    parser.add_argument("--cache", default="/tmp/ix-bench-cache")
    parser.add_argument("--keep", action="store_true", help="leave the database (default: removed after)")
    parser.add_argument("--warm", type=int, default=3, help="warm opens (freshness check only) timed after the build")
    args = parser.parse_args()

    from newsarc.index import build, db
    from newsarc.features.linkcheck import link_tables  # noqa: F401  (registers the groups)
    from newsarc.features.search import word_index  # noqa: F401

    groups = [g for g in args.groups.split(",") if g]
    shutil.rmtree(args.cache, ignore_errors=True)
    start = time.perf_counter()
    index = build.open_fresh(args.archive, args.archive, groups, cache_dir=args.cache)
    cold = time.perf_counter() - start
    size = os.path.getsize(index.path)
    tables_mb = {name: round(n / 1e6, 1) for name, n in db.sizes(index.conn).items() if n >= 1_000_000}
    files = index.conn.execute("SELECT count(*) FROM files").fetchone()[0]
    index.close()
    parent = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    warm = []
    for _ in range(args.warm):
        start = time.perf_counter()
        again = build.open_fresh(args.archive, args.archive, groups, cache_dir=args.cache)
        warm.append(round(time.perf_counter() - start, 3))
        assert again.report.parsed == 0, again.report
        again.close()
    print(json.dumps({
        "groups": groups or ["files only"], "files": files, "cold_s": round(cold, 2), "warm_s": warm,
        "parent_peak_mb": round(parent.ru_maxrss / 1024, 1), "largest_worker_peak_mb": round(children.ru_maxrss / 1024, 1),
        "cpu_user_s": round(parent.ru_utime + children.ru_utime, 1), "db_mb": round(size / 1e6, 1), "tables_mb": tables_mb,
    }))
    if not args.keep:
        shutil.rmtree(args.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
