#!/usr/bin/env python3
"""Time `newsarc related` as a whole process on a generated archive.

    python bench/related_bench.py                       # 100k events in a temp folder
    python bench/related_bench.py --archive /tmp/arc    # reuse (generated if absent)
    python bench/related_bench.py --events 10000 --queries 5 --json results.json

The archive comes from `bench/gen_archive.py OUT --events N --seed 1`. A few
events spread over the archive (every n-th file in path order, so the same
ones every time) are asked for in each mode: the default ranking (all four
sources; the text model is the costly part), `--by text`, `--by links` and
`--depth 2`. Each is a separate process with a warm index cache (one run
beforehand fills it), so what is timed is start-up, reading the cache and
`related` itself; one `--no-cache` run shows the cost of parsing every file.
With --phases, the same work is also timed inside one process, phase by
phase (load, links, backlinks, topics, text index build, text query), to show where
the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness import generate, newsarc_cmd

HERE = Path(__file__).resolve().parent
MODES = {
    "all": [],
    "text": ["--by", "text"],
    "links": ["--by", "links"],
    "depth2": ["--depth", "2"],
}


def pick_events(archive: Path, count: int) -> list[str]:
    """Every n-th event file in path order: spread over the years, the same each time."""
    files = sorted(
        p.relative_to(archive).as_posix() for p in (archive / "news").rglob("*.md") if p.name != "index.md"
    )
    step = max(1, len(files) // count)
    return files[step // 2 :: step][:count]


def timed(command: list[str], env: dict[str, str]) -> dict:
    """Wall and CPU seconds and peak memory of one process (its own rusage, from os.wait4)."""
    done = harness.timed(command, env=env)
    return {
        "seconds": round(done.seconds, 3),
        "cpu": round(done.cpu, 3),
        "max_rss_mb": round(done.max_rss_mb),
        "status": done.status,
        "lines": len(done.stdout.splitlines()),
        "stderr": done.stderr.decode()[-300:],
    }


def run(archive: Path, events: list[str], cache: Path, no_cache_runs: int) -> dict:
    env = {**os.environ, "NEWSARC_CACHE_DIR": str(cache), "COLUMNS": "120"}
    env.pop("NEWSARC_ARCHIVE", None)
    base = newsarc_cmd()
    warm = timed([*base, "related", events[0], "--by", "links", "--archive", str(archive)], env)
    results: dict = {"fill_cache": warm, "modes": {}}
    for name, options in MODES.items():
        times, cpus = [], []
        for event in events:
            result = timed([*base, "related", event, *options, "--json", "--archive", str(archive)], env)
            if result["status"] not in (0, 1):
                raise SystemExit(f"related {event} {' '.join(options)} failed: {result['stderr']}")
            times.append(result["seconds"])
            cpus.append(result["cpu"])
            print(f"  {name:7} {result['seconds']:7.2f} s  cpu {result['cpu']:6.2f} s  {result['max_rss_mb']:5} MB  "
                  f"{result['lines']:3} results  {event[:50]}",
                  file=sys.stderr)
        results["modes"][name] = {"median": statistics.median(times), "max": max(times), "cpu_median": statistics.median(cpus),
                                  "runs": times}
    cold = [timed([*base, "--no-cache", "related", events[0], "--json", "--archive", str(archive)], env)
            for _ in range(no_cache_runs)]
    results["no_cache_all"] = cold
    return results


def phases(archive: Path, event: str, cache: Path) -> dict:
    """The same work in one process, timed phase by phase."""
    os.environ["NEWSARC_CACHE_DIR"] = str(cache)
    sys.path.insert(0, str(HERE.parent))
    from newsarc.archive import Archive
    from newsarc.features.related import text_stats
    from newsarc.features.catalog import LINKS, Catalog
    from newsarc.features.related import TextModel, TopicModel, linking_to, outgoing, related

    found: dict[str, float] = {}

    def clock(name, work):
        start = time.perf_counter()
        value = work()
        found[name] = round(time.perf_counter() - start, 3)
        return value

    def catalogue():
        site = Catalog(Archive.open(archive, cache_dir=cache), cache_dir=cache, more=(LINKS, text_stats.GROUP))
        site.database  # brought up to date, as `related` opens it
        return site

    site = clock("open the catalogue", catalogue)
    target = site.find(event)
    clock("links from it", lambda: outgoing(site, target))
    clock("links to it", lambda: linking_to(site, target))
    clock("topic scores", lambda: TopicModel(site).scores(target))
    model = clock("text index build", lambda: TextModel(site))
    clock("text query + scores", lambda: model.scores(target))
    clock("related (all, again)", lambda: related(site, target))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, help="archive folder (generated there if absent)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=3, help="events asked about per mode")
    parser.add_argument("--no-cache-runs", type=int, default=1)
    parser.add_argument("--phases", action="store_true", help="also time the phases inside one process")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="related-bench-"))
    try:
        archive = args.archive or scratch / "archive"
        if not (archive / "news").is_dir():
            print(f"generating {args.events} events in {archive} ...", file=sys.stderr)
            generate(archive, args.events, args.seed)
        events = pick_events(archive, args.queries)
        count = sum(1 for p in (archive / "news").rglob("*.md") if p.name != "index.md")
        print(f"archive: {archive} ({count} events); asking about {len(events)} events", file=sys.stderr)
        results = {"archive": str(archive), "events": count, "queried": events}
        results.update(run(archive, events, scratch / "cache", args.no_cache_runs))
        if args.phases:
            results["phases"] = phases(archive, events[0], scratch / "cache")
        print(f"\nnewsarc related on {count} events (whole process, warm index cache):")
        for name, found in results["modes"].items():
            print(f"  {name:7} median {found['median']:6.2f} s   max {found['max']:6.2f} s   cpu median {found['cpu_median']:6.2f} s")
        print(f"  fill the index cache (first run): {results['fill_cache']['seconds']:.2f} s")
        print("  --no-cache (parse every file): " + ", ".join(f"{r['seconds']:.2f} s (cpu {r['cpu']:.2f} s)" for r in results["no_cache_all"]))
        print(f"  load average at the end: {os.getloadavg()[0]:.1f} (2 cores; other work slows every number)")
        for name, seconds in results.get("phases", {}).items():
            print(f"  phase {name:22} {seconds:6.2f} s")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
