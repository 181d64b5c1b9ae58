#!/usr/bin/env python3
"""Time `newsarc search` beside `rg -l` on the same files and patterns, in the same run.

Both run as whole processes on one archive made by `bench/gen_archive.py`,
alternating, so disk cache and machine load treat them alike. For each
pattern the script checks that `newsarc search --raw --in all -l` selects
exactly the event files `rg -l` selects (day pages `index.md` left out).

    python bench/search_bench.py                       # 100k events in a temp folder
    python bench/search_bench.py --archive /tmp/arc    # reuse (generated if absent)
    python bench/search_bench.py --events 10000 --runs 3 --json results.json

newsarc is timed three ways: `--no-cache` (every file parsed: the cold
cost, once, for the first pattern), and with a warm index cache, both on
the raw file text (`--raw --in all`, the same work as rg) and on decoded
fields (the default: title, body, topics). Then one warm search runs
in-process to split its time into loading the index and searching, and
`--profile` adds the top functions by cumulative time (cProfile).
The page cache is warm for every tool (the first run reads every file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import generate, newsarc_cmd, timed

HERE = Path(__file__).resolve().parent
# Patterns from the generator's manifest, chosen to cover literal, regex, rare and non-ASCII.
DEFAULT_PATTERNS = ["Syrian Army", "Palmy?ra", "zugzwang", "São Paulo", r"\bceasefire\b"]


def run(cmd: list[str]) -> tuple[float, int, bytes, bytes]:
    """Wall seconds, exit status, stdout and stderr of one whole process."""
    done = timed(cmd)
    return done.seconds, done.status, done.stdout, done.stderr


def rg_events(stdout: bytes, archive: Path) -> set[str]:
    """rg's listed files as root-relative paths, day pages left out (they are not events)."""
    paths = set()
    for line in stdout.decode().splitlines():
        path = Path(line).resolve().relative_to(archive.resolve()).as_posix()
        if not path.endswith("/index.md"):
            paths.add(path)
    return paths


def newsarc_events(stdout: bytes, archive: Path) -> set[str]:
    return {Path(line).resolve().relative_to(archive.resolve()).as_posix() for line in stdout.decode().splitlines()}


def bench_pattern(pattern: str, archive: Path, rg: str, cache: Path, runs: int, cold: bool) -> dict:
    newsarc = newsarc_cmd()
    commands = {
        "rg -l": [rg, "-l", "-e", pattern, str(archive / "news")],
        "newsarc --raw --in all -l (warm cache)": [
            *newsarc, "--cache-dir", str(cache), "search", "--raw", "--in", "all", "-l", "-e", pattern, "--archive", str(archive)
        ],
        "newsarc -l, decoded title/body/topics (warm cache)": [
            *newsarc, "--cache-dir", str(cache), "search", "-l", "-e", pattern, "--archive", str(archive)
        ],
    }
    if cold:
        commands["newsarc --raw --in all -l (--no-cache)"] = [
            *newsarc, "--no-cache", "search", "--raw", "--in", "all", "-l", "-e", pattern, "--archive", str(archive)
        ]
    times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, bytes] = {}
    for index in range(runs):
        for name, cmd in commands.items():
            if "--no-cache" in name and index:
                continue  # the cold run is long and its cost does not vary much
            seconds, status, out, err = run(cmd)
            if status not in (0, 1):
                raise SystemExit(f"{name} failed ({status}): {err.decode(errors='replace')[-500:]}")
            times[name].append(seconds)
            outputs[name] = out
    expected = rg_events(outputs["rg -l"], archive)
    raw = newsarc_events(outputs["newsarc --raw --in all -l (warm cache)"], archive)
    decoded = newsarc_events(outputs["newsarc -l, decoded title/body/topics (warm cache)"], archive)
    return {
        "pattern": pattern,
        "rg_event_files": len(expected),
        "newsarc_raw_files": len(raw),
        "same_files": raw == expected,
        "missing": sorted(expected - raw)[:5],
        "extra": sorted(raw - expected)[:5],
        "newsarc_decoded_events": len(decoded),
        "seconds": {name: statistics.median(values) for name, values in times.items() if values},
        "runs": {name: values for name, values in times.items() if values},
    }


def phases(archive: Path, cache: Path, pattern: str, profile: bool) -> dict:
    """One search in this process: time to open the catalogue, then to search (search reads the files)."""
    sys.path.insert(0, str(HERE.parent))
    from newsarc.features import search as core
    from newsarc.archive import Archive
    from newsarc.features.catalog import Catalog
    from newsarc.reading.event_text import FIELDS
    from newsarc.features.search.patterns import compile_patterns

    start = time.perf_counter()
    site = Catalog(Archive.open(archive, cache_dir=cache, use_cache=True), cache_dir=cache)
    site.database
    loaded = time.perf_counter()
    query = core.Query(compile_patterns([pattern]), details=False)
    result = core.search(site, query)
    searched = time.perf_counter()
    raw_query = core.Query(compile_patterns([pattern]), fields=FIELDS, raw=True, details=False)
    core.search(site, raw_query)
    raw_done = time.perf_counter()
    found = {
        "events": len(site.view()),
        "load_index_seconds": loaded - start,
        "search_decoded_seconds": searched - loaded,
        "search_raw_seconds": raw_done - searched,
        "matched_decoded": len(result.found),
    }
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        core.search(Catalog(Archive.open(archive, cache_dir=cache, use_cache=True), cache_dir=cache), query)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        found["profile"] = stream.getvalue()
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, help="archive folder (generated there if it has no news/)")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported)")
    ap.add_argument("--pattern", action="append", help="pattern to time (repeatable) [default: five from the manifest]")
    ap.add_argument("--rg", default=shutil.which("rg"), help="ripgrep binary [default: rg on PATH]")
    ap.add_argument("--no-cold", action="store_true", help="skip the --no-cache run (it parses every file)")
    ap.add_argument("--profile", action="store_true", help="print where a warm search spends its time (cProfile)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if not args.rg:
        ap.error("ripgrep not found: pip install ripgrep==14.1.0, or pass --rg")
    with tempfile.TemporaryDirectory(prefix="newsarc-search-bench-") as tmp:
        archive = args.archive or Path(tmp) / "archive"
        if not (archive / "news").is_dir():
            print(f"generating {args.events} events in {archive} ...", file=sys.stderr)
            generate(archive, args.events, args.seed)
        cache = Path(tmp) / "cache"
        warm = run([*newsarc_cmd(), "--cache-dir", str(cache), "search", "-q", "x", "--archive", str(archive)])
        print(f"index cache written in {warm[0]:.1f} s (first run parses every file)", file=sys.stderr)
        versions = {
            "rg": subprocess.run([args.rg, "--version"], capture_output=True, text=True).stdout.splitlines()[0],
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        }
        results = []
        for n, pattern in enumerate(args.pattern or DEFAULT_PATTERNS):
            results.append(bench_pattern(pattern, archive, args.rg, cache, args.runs, cold=not args.no_cold and n == 0))
            report(results[-1])
        split = phases(archive, cache, (args.pattern or DEFAULT_PATTERNS)[0], args.profile)
        print(
            f"\nin-process, warm cache, {split['events']} events: load index {split['load_index_seconds']:.2f} s, "
            f"search decoded fields {split['search_decoded_seconds']:.2f} s, raw files {split['search_raw_seconds']:.2f} s"
        )
        if "profile" in split:
            print(split.pop("profile"))
        if args.json:
            args.json.write_text(json.dumps({"versions": versions, "results": results, "phases": split}, indent=2))
    return 0 if all(r["same_files"] for r in results) else 1


def report(result: dict) -> None:
    same = "same files as rg" if result["same_files"] else f"DIFFERENT: missing {result['missing']} extra {result['extra']}"
    print(f"\npattern {result['pattern']!r}: rg {result['rg_event_files']} event files, newsarc --raw {result['newsarc_raw_files']} ({same}); decoded default fields: {result['newsarc_decoded_events']} events")
    for name, seconds in result["seconds"].items():
        print(f"  {seconds:7.2f} s  {name}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
