"""Compare two newsarc versions command by command: stdout, stderr and exit code.

Each version is a folder holding a `newsarc/` package (a `git archive` of a commit), run as
`python -m newsarc` from a temporary folder outside every checkout: from the repository
root, `python -m` would put the working tree first on sys.path and run that instead.
Each version gets its own cache dir, built by a first run that is not compared, so both
answer from a warm index; commands starting `--no-cache` run with no index at all (a first search, a
validate-links in CI).

    git archive 824654c newsarc | tar -x -C /tmp/old
    git archive HEAD newsarc | tar -x -C /tmp/new
    python bench/compare.py /tmp/old /tmp/new examples /tmp/newsarc-bench/events-10000-seed1

Prints one line per command that differs (and what differs), then a count; exit 1 if any does.
`--only stats` compares only the forms of that command (those whose words include it).
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Every command, in the forms people use; {slug}, {topic} and {archive} (its absolute path) are filled per archive.
COMMANDS = [
    "list-by-date 2017-08",
    "list-by-date 2016 --json",
    "list-by-date 1990..2030 -c",
    "list-by-date --on-this-day 08-21",
    "show {slug}",
    "show {slug} --json",
    "search Syria",
    "search -i -w isil -c",
    "search -l eclipse",
    "search --json Palmyra",
    "search -C 1 Harvey",
    "search --sort relevance -l Syrian",
    "search --raw --in all -l &#x27;",
    # filters: the catalogue says which events, their files are read
    "search Syria --from 2016 --to 2016",
    "search -l Syria --topic {topic}",
    "search -c Army --on 2017",
    "search -v -l Syria",
    "search -v --json Syria --from 2017",
    "search --sort relevance Syria --limit 3",
    "search --sort relevance -l Army --from 2016",
    "search --in sources -l reuters",
    "search -l -e \\w+ceasefire -e Aleppo",
    "search --raw --in body -l Syria --from 2017",
    "search --sort path -l Syria --from 2015",
    "search -l --all -e Syria -e Russia --topic {topic}",
    # the same searches with no index (a first search reads the files: search/files.py)
    "--no-cache search Syria",
    "--no-cache search -i -w isil -c",
    "--no-cache search -l eclipse",
    "--no-cache search --json Palmyra",
    "--no-cache search -C 1 Harvey",
    "--no-cache search -l -i syrian --sort path",
    "--no-cache search --pretty Syria",
    "--no-cache search --pretty --limit 2 Syria",
    "--no-cache search -l zzzzunmatched",
    "--no-cache search --raw --in all -l &#x27;",
    "--no-cache search --raw --in body -l Syria",
    "--no-cache search --in title -l Syria",
    "related {slug}",
    "related {slug} --json",
    "related {slug} --depth 2",
    "related {slug} --timeline",
    "validate-links",
    "validate-links --format json",
    "validate-links --format github --strict",
    "validate-links --reciprocal",
    # with no index (a CI job on a fresh checkout: linkcheck/facts.py reads every file at a glance)
    "--no-cache validate-links",
    "--no-cache validate-links --format json",
    "--no-cache validate-links --format github --strict",
    "--no-cache validate-links --format junit",
    "--no-cache validate-links --fix --dry-run",
    "--no-cache validate-links --reciprocal",
    # every file's links, parsed on every core (linkcheck/every_link.py): --external needs the network, not compared
    "validate-links --reciprocal --format json",
    "--no-cache validate-links --reciprocal --format json --strict",
    "validate-links --dump --format json",
    "validate-links --dump --format text",
    "--no-cache validate-links --dump --format json",
    "validate-links --dump --format json {archive}/news/2016",
    "validate-links --reciprocal --format text {archive}/news/2017",
    "topics -n 10",
    "topics --json",
    "timeline {topic}",
    "stats",
    "stats --json",
    "stats --from 2016 --to 2016",
    "stats --from 2016-03 --to 2016-04 --json",
    "stats --from 2017 --json",
    "stats --from 2019-03 --to 2020",
    "stats --top 3",
    "stats --pretty",
    "--no-cache stats",
    "--no-cache stats --json --from 2016",
]


def first_event(archive: Path) -> tuple[str, str]:
    """A slug and a topic that exist in `archive` (the first event file in name order)."""
    for folder, subfolders, files in sorted(os.walk(archive / "news")):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".md") and name != "index.md":
                text = (Path(folder) / name).read_text(errors="replace")
                topic = text.split("_Context: ", 1)[1].split(",")[0].split("_")[0] if "_Context: " in text else "Syria"
                return name[:-3], topic.strip()
    raise SystemExit(f"no event in {archive}")


def run(src: Path, cache: Path, archive: Path, args: list[str], cwd: Path) -> tuple[str, str, int]:
    env = {**os.environ, "PYTHONPATH": str(src), "NEWSARC_CACHE_DIR": str(cache), "COLUMNS": "100"}
    env.pop("NEWSARC_ARCHIVE", None)
    options = [a for a in args if a == "--no-cache"]  # a global option: before the command
    command = [sys.executable, "-m", "newsarc", *options, *(a for a in args if a != "--no-cache"), "--archive", str(archive)]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return done.stdout, done.stderr, done.returncode


def first_difference(a: str, b: str) -> str:
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0):
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++")):
            return line[:160]
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("archives", type=Path, nargs="+")
    parser.add_argument("--only", metavar="COMMAND", help="only the forms of this command (e.g. 'search')")
    options = parser.parse_args()
    differ = 0
    with tempfile.TemporaryDirectory(prefix="newsarc-compare-") as tmp:
        cwd = Path(tmp)
        for archive in options.archives:
            archive = archive.resolve()
            slug, topic = first_event(archive)
            versions = {version.resolve(): cwd / f"cache-{i}-{archive.name}" for i, version in enumerate((options.old, options.new))}
            for src, cache in versions.items():
                run(src, cache, archive, ["stats"], cwd)  # the index, built once
            for template in COMMANDS:
                if options.only and options.only not in template.split():
                    continue
                args = [{"{slug}": slug, "{topic}": topic}.get(word, word).replace("{archive}", str(archive)) for word in template.split()]
                old, new = (run(src, cache, archive, args, cwd) for src, cache in versions.items())
                if old == new:
                    continue
                differ += 1
                parts = [name for name, a, b in zip(("stdout", "stderr", "exit"), old, new) if a != b]
                detail = first_difference(old[0], new[0]) or first_difference(old[1], new[1]) or f"{old[2]} -> {new[2]}"
                print(f"{archive.name}: {' '.join(args)[:60]}: {', '.join(parts)} differ: {detail}")
    print(f"{differ} commands differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
