"""Does each cost grow linearly with its input? Item 5 of the "Hostile archives" issue.

Each case builds a hostile input at 1x and 10x its size in a temporary folder,
runs one newsarc command on it as a whole process (cold: `--no-cache`, or a
fresh `--cache-dir` where building the index is the cost), and reports both
times and their ratio: near 10 is linear, near 100 quadratic. The inputs are
deterministic; nothing is random.

    python bench/scaling.py                  # every case: a few minutes on 2 busy cores
    python bench/scaling.py --only search-context,related-depth --scale 0.1
    python bench/scaling.py --build show-paragraph 1000000 /tmp/x   # only write one input, to try by hand

The newsarc measured is this checkout (PYTHONPATH points at it), run as
`python -m newsarc`. Stdlib only; uses harness.timed() for the numbers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness import HERE, timed

REPO = HERE.parent
DAY = "news/2017/08/1"
HEAD = "### [2017-08-01](/news/2017/08/1/index.md)\n\n"


def _write(root: Path, relpath: str, text: str) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _event(title: str, body: str, related: str = "") -> str:
    text = f"{HEAD}# {title}\n\n{body}\n\n### Source:\n\n1. [Reuters](https://www.reuters.com/a)\n"
    return text + (f"\n### Related:\n\n{related}" if related else "")


def _day_page(root: Path, slugs: list[str]) -> None:
    items = "".join(f"1. [{s}](/news/2017/08/1/{s}.md)\n" for s in slugs)
    _write(root, f"{DAY}/index.md", f"# August 1, 2017\n\n{items}")


def links_one_line(root: Path, n: int) -> None:
    """An event whose one paragraph is n links (not ASCII: columns must be counted in characters)."""
    body = "Été: " + " ".join(f"[lien {i}](/news/2017/08/1/e{i}.md)" for i in range(n))
    _write(root, f"{DAY}/many-links.md", _event("Many links on one line", body))
    _day_page(root, ["many-links"])


def day_page_links(root: Path, n: int) -> None:
    """A day page listing n distinct files (none of them there)."""
    _write(root, f"{DAY}/one.md", _event("One", "Text."))
    _day_page(root, ["one"] + [f"e{i}" for i in range(n)])


def event_links(root: Path, n: int) -> None:
    """An event with n distinct Related links, one per line."""
    related = "".join(f"{i}. [E {i}](/news/2017/08/1/e{i}.md) _Context: T_\n" for i in range(1, n + 1))
    _write(root, f"{DAY}/many-related.md", _event("Many related", "Text.", related))
    _day_page(root, ["many-related"])


def event_topics(root: Path, n: int) -> None:
    """An event with n Related links, each with its own topic."""
    related = "".join(f"{i}. [E {i}](/news/2017/08/1/e{i}.md) _Context: Topic {i}_\n" for i in range(1, n + 1))
    _write(root, f"{DAY}/many-topics.md", _event("Many topics", "Text.", related))
    _day_page(root, ["many-topics"])


def search_context(root: Path, n: int) -> None:
    """An event of n matching paragraphs (searched with -C n: every line in every match's context)."""
    body = "\n\n".join(f"aaa {i}" for i in range(n))
    _write(root, f"{DAY}/long.md", _event("Long", body))
    _day_page(root, ["long"])


def show_paragraph(root: Path, n: int) -> None:
    """An event whose body is one paragraph of n characters, words of 'aaa'."""
    body = ("aaa " * (n // 4 + 1))[:n].rstrip()
    _write(root, f"{DAY}/huge.md", _event("Huge paragraph", body))
    _day_page(root, ["huge"])


def matches_one_line(root: Path, n: int) -> None:
    """An event whose one paragraph is 'Été' and n words 'aaa' (searched with --json: every match)."""
    _write(root, f"{DAY}/matches.md", _event("Many matches", "Été " + "aaa " * n))
    _day_page(root, ["matches"])


def huge_headline(root: Path, n: int) -> None:
    """An event whose headline is n characters, words of 'aaa'."""
    title = ("aaa " * (n // 4 + 1))[:n].rstrip()
    _write(root, f"{DAY}/huge.md", f"{HEAD}# {title}\n\nText.\n\n### Source:\n\n1. [Reuters](https://www.reuters.com/a)\n")
    _day_page(root, ["huge"])


def related_tree(root: Path, n: int) -> None:
    """n events, event k linking to events 2k+1 and 2k+2: one component, depth about log2(n)."""
    slugs = [f"c{k}" for k in range(n)]
    for k, slug in enumerate(slugs):
        items = [f"{j}. [C {c}](/news/2017/08/1/c{c}.md) _Context: Tree_\n" for j, c in enumerate((2 * k + 1, 2 * k + 2), 1) if c < n]
        _write(root, f"{DAY}/{slug}.md", _event(f"C {k}", "Text.", "".join(items)))
    _day_page(root, slugs)


@dataclass
class Case:
    name: str
    build: Callable[[Path, int], None]
    size: int  # the 1x input
    unit: str
    args: Callable[[int], list[str]]  # newsarc arguments after the global options
    terminal: bool = False  # rich output, as on a terminal (--pretty, 100 columns)


CASES = [
    Case("links-one-line", links_one_line, 20_000, "links on one line", lambda n: ["list-by-date", "2017-08-01"]),
    Case("day-page-links", day_page_links, 20_000, "links on a day page", lambda n: ["validate-links", "--format", "text"]),
    Case("event-links", event_links, 10_000, "related links in an event", lambda n: ["stats"]),
    Case("event-topics", event_topics, 10_000, "topics in an event", lambda n: ["stats"]),
    Case("search-context", search_context, 20_000, "matching lines, -C that many", lambda n: ["search", "-C", str(n), "aaa"]),
    Case("show-paragraph", show_paragraph, 1_000_000, "characters in one paragraph", lambda n: ["show", "huge"], True),
    Case("search-paragraph", show_paragraph, 1_000_000, "characters in one paragraph", lambda n: ["search", "aaa"], True),
    Case("list-headline", huge_headline, 1_000_000, "characters in one headline", lambda n: ["list-by-date", "2017-08-01"], True),
    Case("search-json-matches", matches_one_line, 50_000, "matches on one non-ASCII line", lambda n: ["search", "aaa", "--json"]),
    Case("related-depth", related_tree, 2_000, "events reached by --depth 30, all shown",
         lambda n: ["related", "c0", "--depth", "30", "--limit", str(n)]),
    Case("related-depth-count", related_tree, 2_000, "events reached by --depth 30, 50 shown",
         lambda n: ["related", "c0", "--depth", "30"]),
]


def run_case(case: Case, n: int, work: Path, timeout: float, src: Path = REPO) -> tuple[float, int, bool]:
    """(seconds, exit status, timed out) of the command on a fresh input of size n, cold."""
    root = work / f"{case.name}-{n}"
    if not root.exists():
        case.build(root, n)
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    mode = ["--pretty"] if case.terminal else []
    cmd = [sys.executable, "-m", "newsarc", "--cache-dir", str(work / f"cache-{case.name}-{n}")]
    cmd += case.args(n) + ["--archive", str(root)] + mode
    run = timed(cmd, env=env, timeout=timeout, cwd=work)  # not from the checkout: `-m newsarc` would find its newsarc first
    return run.seconds, run.status, run.timed_out


def commit(src: Path) -> str:
    if src != REPO:
        return str(src)
    out = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h", "--", "newsarc"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "newsarc"], capture_output=True, text=True)
    return out.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every 1x size by this")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is called off")
    parser.add_argument("--src", type=Path, default=REPO, help="a folder holding another newsarc/ to time (e.g. a `git archive` of an older commit)")
    parser.add_argument("--build", nargs=3, metavar=("CASE", "N", "OUT"), help="only write one input")
    args = parser.parse_args()
    by_name = {case.name: case for case in CASES}
    if args.build:
        name, n, out = args.build
        by_name[name].build(Path(out), int(n))
        return
    cases = [by_name[name] for name in args.only.split(",")] if args.only else CASES
    print(f"newsarc {commit(args.src)}, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| case | input | 1x size | 1x time | 10x time | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="newsarc-scaling-") as tmp:
        for case in cases:
            n = max(1, int(case.size * args.scale))
            times = []
            for size in (n, 10 * n):
                seconds, status, timed_out = run_case(case, size, Path(tmp), args.timeout, args.src)
                times.append((seconds, status, timed_out))
            (t1, s1, o1), (t10, s10, o10) = times
            late = ">" if o10 else ""
            cells = [f"{t1:.2f} s" + (" (killed)" if o1 else ""), f"{late}{t10:.2f} s" + (" (killed)" if o10 else "")]
            print(f"| {case.name} | {case.unit} | {n:,} | {cells[0]} | {cells[1]} | {late}{t10 / t1:.1f} |", flush=True)
            if not o1 and s1 > 1 or not o10 and s10 > 1:
                print(f"  ({case.name}: exit status {s1} at 1x, {s10} at 10x)", file=sys.stderr)


if __name__ == "__main__":
    main()
