"""`related`: the four sources, their reasons, ranking order, --depth, --timeline, and the text index."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc.archive import Archive
from newsarc.reading.dates import parse_when
from newsarc.features.related import BACKLINKS, BOTH, IN, LINKS, OUT, TEXT, TOPICS, follow, linking_to, order, related, timeline
from newsarc.features.related.text_model import TextIndex, count, normalize, tokenize
from tests.conftest import ROOT, ArchiveBuilder, run_newsarc, slugify

ANSI = re.compile(r"\x1b\[[0-9;]*[mK]|\x1b\]8;[^\x1b]*\x1b\\")

HOMS, ARMY = "Homs Governorate", "Syrian Army"
A = ("2016-01-10", "Syrian Army retakes Qaryatayn in Homs Governorate")
B = ("2016-02-01", "Rebels regroup near Palmyra")
C = ("2016-03-01", "Observers report shelling near the border")
D = ("2015-06-01", "Provincial governor resigns")
E1 = ("2016-05-01", "Parade held in Damascus")
E2 = ("2016-04-01", "Recruits graduate in Latakia")
E3 = ("2016-04-01", "Officers promoted in Tartus")
E4 = ("2014-01-01", "Medals awarded in Hama")
F = ("2017-01-01", "Airstrikes hit the desert town of Qaryatayn")
G = ("2017-08-21", "Eclipse crosses the United States")
GHOST = "/news/2015/05/5/ghost-convoy-ambushed.md"


def link(event: tuple[str, str], padded: bool = False) -> str:
    year, month, day = event[0].split("-")
    return f"/news/{year}/{month}/{day if padded else int(day)}/{slugify(event[1])}.md"


def path(event: tuple[str, str]) -> str:
    return link(event).lstrip("/")


@pytest.fixture
def site(builder: ArchiveBuilder, monkeypatch) -> Path:
    """Ten events with one known answer per source of relatedness (see each comment)."""
    b = builder
    # A links to B (which links back: a cycle), to a missing file, and to itself.
    b.event(*A, body="Government troops retake the desert town of Qaryatayn after heavy airstrikes.",
            related=[(B[1], link(B), [HOMS, ARMY]), ("Ghost convoy ambushed", GHOST, [ARMY]), (A[1], link(A), [ARMY])])
    b.event(*B, body="Rebel units regroup in the hills.", related=[(A[1], link(A), [HOMS, ARMY])])
    # C links to A (a backlink only) and shares the rare topic.
    b.event(*C, body="Shelling continues, observers say.", related=[(A[1], link(A), [HOMS])])
    # D shares the rare topic only; E1-E4 share the common topic only.
    b.event(*D, body="The governor steps down citing health.", front_matter=f"tags: [{HOMS}]")
    for event, body in ((E1, "Crowds watch."), (E2, "Cadets finish training."), (E3, "Ranks change."), (E4, "Veterans gather.")):
        b.event(*event, body=body, front_matter=f"tags: [{ARMY}]")
    # F shares words only; G nothing, and links to D under the other day spelling.
    b.event(*F, body="Warplanes strike the town again.")
    b.event(*G, body="Millions watch.", front_matter="tags: [Eclipses]", related=[(D[1], link(D, padded=True), ["Eclipses"])])
    monkeypatch.chdir(b.root)
    return b.root


def load(root: Path) -> Archive:
    return Archive.open(root).load()


def by_path(items):
    return {item.path: item for item in items}


# -- the four sources, with known answers ---------------------------------------


def test_every_source_gives_its_known_reason(site):
    archive = load(site)
    items = by_path(related(archive, archive.find(path(A))))
    assert items[path(B)].reasons == ["linked from here", "links here", f"topics: {HOMS}, {ARMY}"]
    assert items[path(B)].scores == {LINKS: 1.0, BACKLINKS: 1.0, TOPICS: 1.0}
    assert items[path(C)].reasons == ["links here", f"topics: {HOMS}"]
    assert items[path(D)].reasons == [f"topics: {HOMS}"]
    assert items[path(E1)].reasons == [f"topics: {ARMY}"]
    assert items[path(F)].reasons == ["similar: town, airstrikes, desert"]
    assert set(items[path(F)].scores) == {TEXT} and 0 < items[path(F)].scores[TEXT] <= 1
    ghost = items["news/2015/05/5/ghost-convoy-ambushed.md"]
    assert (ghost.missing, ghost.event, ghost.title, ghost.date.isoformat()) == (True, None, "Ghost convoy ambushed", "2015-05-05")
    assert ghost.reasons == ["linked from here", "missing target", f"context: {ARMY}"]
    assert path(G) not in items and path(A) not in items  # unrelated; and never the event itself


def test_rare_topics_weigh_more_with_the_exact_idf_cosine(site):
    archive = load(site)
    items = by_path(related(archive, archive.find(path(A)), by="topics"))
    total = len(archive.events)
    homs, army = math.log(1 + total / 4), math.log(1 + total / 6)  # 4 events carry Homs, 6 Syrian Army
    own = math.hypot(homs, army)
    assert items[path(D)].scores[TOPICS] == pytest.approx(homs / own)
    assert items[path(E1)].scores[TOPICS] == pytest.approx(army / own)
    assert items[path(D)].score == 0.79 and items[path(E1)].score == 0.62
    assert items[path(B)].score == 1.0


def test_ranking_order_and_ties_by_date_then_path(site):
    archive = load(site)
    items = related(archive, archive.find(path(A)))
    assert items == sorted(items, key=order)
    ranked = [item.path for item in items]
    assert ranked[:4] == [path(B), path(C), "news/2015/05/5/ghost-convoy-ambushed.md", path(D)]
    ties = [p for p in ranked if p in {path(E1), path(E2), path(E3), path(E4)}]
    # All four score 0.62: oldest first; E2 and E3 share a day, so the path decides.
    assert ties == [path(E4), path(E3), path(E2), path(E1)]
    assert related(archive, archive.find(path(A))) == items  # and again, the same


def test_other_day_spelling_is_flagged_but_still_ranked(site):
    archive = load(site)
    items = related(archive, archive.find(path(G)), by="links")
    assert [(i.path, i.missing, i.exists_as) for i in items] == [(path(D), True, path(D))]
    assert items[0].reasons == ["linked from here", f"missing; file is /{path(D)}", "context: Eclipses"]


def test_links_to_day_pages_and_out_of_the_archive_are_kept_with_a_note(builder):
    builder.event("2016-01-01", "Odd links", related=[
        ("That day", "/news/2016/01/1/index.md", ["X"]),
        ("Elsewhere", "https://example.com/story", ["X"]),
        ("Above", "../../../../../outside.md", ["X"]),
    ])
    archive = load(builder.root)
    items = related(archive, archive.events[0], by="links")
    assert [(i.path, i.date and i.date.isoformat(), i.missing, i.reasons) for i in items] == [
        ("../../../../../outside.md", None, True, ["linked from here", "outside the site root", "context: X"]),
        ("https://example.com/story", None, True, ["linked from here", "not a link into the archive", "context: X"]),
        ("news/2016/01/1/index.md", "2016-01-01", False, ["linked from here", "a day page", "context: X"]),
    ]


def test_backlinks_found_however_the_link_is_spelled(builder):
    target = ("2016-01-01", "Talks open in Geneva")
    builder.event(*target)
    builder.event("2016-01-02", "Escaped", related=[("x", link(target).replace("-", "%2D"), ["T"])])
    builder.event("2016-01-03", "Relative", body=f"See [the talks](../1/{slugify(target[1])}.md#top).")
    builder.event("2016-01-04", "Padded day", related=[("x", link(target, padded=True), ["T"])])  # a broken link
    archive = load(builder.root)
    event = archive.find(path(target))
    assert [e.title for e in linking_to(archive, event)] == ["Escaped", "Relative"]
    assert linking_to(archive, event) == archive.backlinks(event)


def test_window_keeps_only_events_in_it(site):
    archive = load(site)
    items = related(archive, archive.find(path(A)), span=parse_when("2016"))
    assert {i.path for i in items} == {path(B), path(C), path(E1), path(E2), path(E3)}


def test_limit(site):
    archive = load(site)
    assert [i.path for i in related(archive, archive.find(path(A)), limit=2)] == [path(B), path(C)]
    assert related(archive, archive.find(path(A)), limit=0) == []


# -- depth, cycles, timeline ----------------------------------------------------


def test_depth_stops_at_cycles_and_shows_each_event_once(site):
    archive = load(site)
    tree = follow(archive, archive.find(path(A)), 5)
    nodes = [(n.depth, n.direction, n.item.path) for n in tree.walk()]
    assert nodes == [
        (1, OUT, "news/2015/05/5/ghost-convoy-ambushed.md"),
        (1, BOTH, path(B)),
        (1, IN, path(C)),
    ]


@pytest.fixture
def chain(builder: ArchiveBuilder, monkeypatch) -> Path:
    """P1 -> P2 -> P3 -> P4, one way, plus P2 -> P1 (a cycle of two)."""
    p = [(f"2020-01-0{i}", f"Step {i} of the story") for i in range(1, 5)]
    builder.event(*p[0], related=[(p[1][1], link(p[1]), ["Story"])])
    builder.event(*p[1], related=[(p[2][1], link(p[2]), ["Story"]), (p[0][1], link(p[0]), ["Story"])])
    builder.event(*p[2], related=[(p[3][1], link(p[3]), ["Story"])])
    builder.event(*p[3], body="The end.")
    monkeypatch.chdir(builder.root)
    return builder.root


@pytest.mark.parametrize(("depth", "reached"), [(1, [1]), (2, [1, 2]), (3, [1, 2, 3]), (9, [1, 2, 3])])
def test_depth_bounds(chain, depth, reached):
    archive = load(chain)
    tree = follow(archive, archive.events[0], depth, by="links")
    assert [(n.depth, n.item.date.day) for n in tree.walk()] == [(d, d + 1) for d in reached]


def test_depth_backwards_and_limit(chain):
    archive = load(chain)
    tree = follow(archive, archive.events[3], 2, by="backlinks")
    assert [(n.depth, n.direction, n.item.date.day) for n in tree.walk()] == [(1, IN, 3), (2, IN, 2)]
    assert len(list(follow(archive, archive.events[0], 9, limit=2).walk())) == 2


def test_timeline_is_oldest_first_with_the_event_marked(site):
    archive = load(site)
    event = archive.find(path(A))
    moments = timeline(event, related(archive, event, by="links"))
    assert [(m.item.date.isoformat(), m.this) for m in moments] == [("2015-05-05", False), ("2016-01-10", True), ("2016-02-01", False)]


# -- the command ----------------------------------------------------------------


def test_cli_plain_by_links_exact(site, cli):
    result = cli("related", path(A), "--by", "links", "--archive", str(site))
    assert result.exit_code == 0
    assert result.stdout == (
        f"1.00\t2015-05-05\tnews/2015/05/5/ghost-convoy-ambushed.md\tGhost convoy ambushed\t"
        f"linked from here; missing target; context: {ARMY}\n"
        f"1.00\t2016-02-01\t{path(B)}\t{B[1]}\tlinked from here; context: {HOMS}, {ARMY}\n"
    )
    assert result.stderr == "newsarc: 1 related link points to a missing file (see: newsarc validate-links)\n"


def test_cli_json_lines(site, cli):
    result = cli("related", slugify(A[1]), "--json", "--archive", str(site))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"path", "date", "title", "score", "reasons"} <= set(r) for r in records)
    first = records[0]
    assert (first["path"], first["date"], first["title"], first["score"]) == (path(B), "2016-02-01", B[1], 3.0)
    assert first["reasons"] == ["linked from here", "links here", f"topics: {HOMS}, {ARMY}"]
    ghost = next(r for r in records if r["missing"])
    assert ghost == {
        "path": "news/2015/05/5/ghost-convoy-ambushed.md", "date": "2015-05-05", "title": "Ghost convoy ambushed",
        "score": 1.0, "reasons": ["linked from here", "missing target", f"context: {ARMY}"], "sources": {"links": 1.0},
        "topics": [], "terms": [], "missing": True, "link": GHOST, "context": [ARMY],
    }


def test_cli_rich_table_tree_and_timeline(site, cli):
    table = ANSI.sub("", cli("related", path(A), "--pretty", "-n", "3", "--archive", str(site)).stdout)
    assert table.splitlines()[0] == f"3 related to 2016-01-10  {A[1]}"
    assert "3.00  2016-02-01  Rebels regroup near Palmyra" in table
    assert f"linked from here · links here · topics: {HOMS}, {ARMY}" in table
    assert "missing: " + GHOST in table
    tree = ANSI.sub("", cli("related", path(A), "--depth", "2", "--pretty", "--archive", str(site)).stdout)
    assert tree.splitlines()[:7] == [  # score, date, headline: the ranked list's order; the slug under
        f"2016-01-10  {A[1]}",
        "├── → 1.00 2015-05-05  Ghost convoy ambushed",
        f"│   missing: {GHOST}",
        "├── ↔ 3.00 2016-02-01  Rebels regroup near Palmyra",
        "│   rebels-regroup-near-palmyra",
        "└── ← 1.79 2016-03-01  Observers report shelling near the border",
        "    observers-report-shelling-near-the-border",
    ]
    line = ANSI.sub("", cli("related", path(A), "--by", "links", "--timeline", "--pretty", "--archive", str(site)).stdout)
    assert [row.split()[:3] for row in line.splitlines() if "│" in row[:25] or "▶" in row[:25]] == [
        ["1.00", "2015-05-05", "│"], ["2016-01-10", "▶", "Syrian"], ["1.00", "2016-02-01", "│"],  # --by links: 1.00 each
    ]


def test_cli_plain_tree_and_timeline(site, cli):
    tree = cli("related", path(A), "--depth", "1", "--by", "backlinks", "--archive", str(site)).stdout
    assert tree == f"1\tin\t1.00\t2016-02-01\t{path(B)}\t{B[1]}\tlinks here\t{path(A)}\n" \
                   f"1\tin\t1.00\t2016-03-01\t{path(C)}\t{C[1]}\tlinks here\t{path(A)}\n"
    line = cli("related", path(A), "--by", "backlinks", "--timeline", "--archive", str(site)).stdout
    assert line == (
        f"2016-01-10\t*\t\t{path(A)}\t{A[1]}\tthis event\n"
        f"2016-02-01\t\t1.00\t{path(B)}\t{B[1]}\tlinks here\n"
        f"2016-03-01\t\t1.00\t{path(C)}\t{C[1]}\tlinks here\n"
    )


def test_cli_nothing_found_and_bad_options(site, cli):
    nothing = cli("related", path(G), "--by", "backlinks", "--archive", str(site))
    assert (nothing.exit_code, nothing.stdout) == (1, "")
    assert nothing.stderr == f"newsarc: no events related to {path(G)} by backlinks\n"
    assert cli("related", path(A), "--depth", "2", "--by", "text", "--archive", str(site)).exit_code == 2
    assert cli("related", path(A), "--depth", "0", "--archive", str(site)).exit_code == 2
    assert cli("related", path(A), "--by", "colour", "--archive", str(site)).exit_code == 2
    missing = cli("related", "no-such-event", "--archive", str(site))
    assert missing.exit_code == 2 and "no event matches 'no-such-event'" in missing.stderr


def test_cli_window(site, cli):
    """E2 and E3 share only Syrian Army, which 6 of the 10 events carry: no reason on its own."""
    args = ("related", path(A), "--from", "2016-03", "--to", "2016-04", "--archive", str(site))
    result = cli(*args)
    assert [line.split("\t")[2] for line in result.stdout.splitlines()] == [path(C)]
    assert result.stderr == (
        "newsarc: 2 weaker related events left out (scores under 0.18,"
        " or only a topic a fifth of the archive carries); --all shows them\n"
    )
    everything = cli(*args, "--all")
    assert [line.split("\t")[2] for line in everything.stdout.splitlines()] == [path(C), path(E3), path(E2)]
    assert everything.stderr == ""


def test_subprocess_on_examples():
    """The real command, piped: plain lines, ranked, with the Palmyra story first."""
    result = run_newsarc("related", "the-syrian-army-supported-by-russian-air-power", "-n", "3", "--archive", "examples",
                         cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(lines) == 3 and all(len(fields) == 5 for fields in lines)
    assert lines[0][1] == "2017-03-02" and "Palmyra" in lines[0][3]
    assert lines[0][4].startswith("linked from here; links here; topics: Palmyra")
    assert [float(f[0]) for f in lines] == sorted((float(f[0]) for f in lines), reverse=True)


# -- the text index -------------------------------------------------------------


def test_normalize_and_tokenize():
    text = normalize("Syria's army—retakes  “Palmyra” army army")
    assert text.split() == [b"syria", b"s", b"army", b"retakes", b"palmyra", b"army", b"army"]
    assert (count(text, b"army"), count(text, b"syria"), count(text, b"arm")) == (3, 1, 0)  # adjacent ones too
    assert normalize("ASCII Only, Here") == b" ascii only  here "
    assert tokenize("The U.S.-led coalition’s 59 Tomahawk missiles, in Kraków") == [
        "led", "coalition", "tomahawk", "missiles", "kraków",
    ]


def test_text_index_scores_and_top_k():
    texts = [
        "Airstrike hits Palmyra citadel",  # 0: the query
        "Palmyra citadel damaged by airstrike",  # 1: three shared words
        "Airstrike reported near Aleppo",  # 2: one shared word
        "Palmyra museum reopens",  # 3: one shared word
        "Eclipse crosses America",  # 4: nothing shared
        "Another eclipse",  # 5
    ]
    index = TextIndex(texts)
    assert index.frequencies([b"palmyra", b"airstrike", b"eclipse", b"nothing"]) == {
        b"airstrike": 3, b"eclipse": 2, b"nothing": 0, b"palmyra": 3,
    }
    query = index.query(0)
    assert sorted(query.terms) == [b"airstrike", b"citadel", b"palmyra"]  # "hits" is in no other text
    scores = index.scores(query)
    assert set(scores) == {1, 2, 3} and scores[1] > max(scores[2], scores[3])
    assert [doc for _, doc in index.similar(query, 2)] == [1, scores[2] >= scores[3] and 2 or 3]
    assert index.contributions(query, 1) == ["citadel", "airstrike", "palmyra"]
    assert TextIndex([]).size == 0 and TextIndex(["only one"]).query(0).terms == []


def test_text_index_on_every_core_answers_as_on_one(monkeypatch):
    """The scan and the postings fork one process per core from PARALLEL_DOCS documents: same answers."""
    import random

    from newsarc.features.related import text_model as similarity

    words = ["palmyra", "aleppo", "citadel", "airstrike", "museum", "ceasefire", "convoy", "eclipse", "harvest", "summit"]
    chance = random.Random(7)
    texts = [" ".join(chance.choice(words) for _ in range(chance.randint(3, 30))) for _ in range(300)]

    def answers() -> list:
        index = TextIndex(texts)
        found = []
        for doc in (0, 17, 299):
            query = index.query(doc)
            found.append((query.terms, query.postings, index.similar(query, 10)))
        return found

    monkeypatch.setenv("NEWSARC_WORKERS", "1")
    serial = answers()
    monkeypatch.delenv("NEWSARC_WORKERS")
    monkeypatch.setattr(similarity, "PARALLEL_DOCS", 10)
    monkeypatch.setattr(similarity.cores, "workers", lambda: 3)  # three parts, even on a one-core machine
    assert answers() == serial
    assert serial[0][1]  # the query shares words: the postings are not trivially empty


# -- properties -----------------------------------------------------------------

TITLES = ["Army retakes town", "Rebels regroup", "Talks resume in Geneva", "Storm hits coast", "Town rebuilds", "Army parade"]


@st.composite
def archives(draw):
    """Up to six events with random Related lists (self-links, missing targets, cycles) and topics."""
    count = draw(st.integers(1, 6))
    dates = [f"2016-0{draw(st.integers(1, 3))}-0{draw(st.integers(1, 3))}" for _ in range(count)]
    events = [(dates[i], f"{TITLES[i]} {i}") for i in range(count)]
    plan = []
    for i in range(count):
        targets = draw(st.lists(st.integers(-1, count - 1), max_size=4))
        topics = draw(st.lists(st.sampled_from(["Syria", "Weather", "Diplomacy"]), min_size=1, max_size=2))
        related = [
            ("Gone", f"/news/2015/01/{i + 1}/gone-{i}.md", topics) if t < 0 else (events[t][1], link(events[t]), topics)
            for t in targets
        ]
        plan.append((events[i], related))
    return plan


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=archives(), depth=st.integers(1, 4))
def test_any_link_graph_ranks_and_follows_without_surprises(plan, depth):
    with tempfile.TemporaryDirectory() as folder:
        builder = ArchiveBuilder(Path(folder))
        for (date, title), links in plan:
            builder.event(date, title, body=title.lower(), related=links)
        archive = Archive.open(folder, use_cache=False).load()
        for event in archive.events:
            for by in (None, "links", "backlinks", "topics", "text"):
                items = related(archive, event, by=by, limit=None)
                paths = [i.path for i in items]
                assert event.path not in paths and len(paths) == len(set(paths))
                assert items == sorted(items, key=order)
            gone = {r.target.lstrip("/") for r in event.related if "/gone-" in r.target}
            assert gone <= {i.path for i in related(archive, event, by="links", limit=None) if i.missing}
            assert linking_to(archive, event) == [e for e in archive.backlinks(event) if e.path != event.path]
            tree = follow(archive, event, depth)
            nodes = list(tree.walk())
            assert len({n.item.path for n in nodes}) == len(nodes) and event.path not in {n.item.path for n in nodes}
            assert all(1 <= n.depth <= depth for n in nodes)


def test_topics_that_fold_alike_are_shared(builder):
    from newsarc.archive import Archive
    from newsarc.features.related import TopicModel

    builder.event("2016-03-01", "One", related=[("x", "/news/2016/03/2/x.md", ["Syrian Army"])])
    builder.event("2016-03-02", "Two", related=[("y", "/news/2016/03/1/y.md", ["Syrian army"])])
    site = Archive.open(builder.root).load()
    model = TopicModel(site)
    one = site.find("one")
    assert model.keys(one) == {"syrian army": "Syrian Army"}
    assert [model.events[k].title for k in model.members("syrian army")] == ["One", "Two"]


def test_related_stops_where_the_scores_fall_away_on_examples():
    """Harvey's own story, then nothing: no Olympic swimmer sharing only "United States"."""
    root = ROOT
    result = run_newsarc("related", "harvey-sets-a-record", "--archive", "examples", cwd=root)
    assert result.returncode == 0
    shown = [line.split("\t") for line in result.stdout.splitlines()]
    assert [float(score) for score, *_ in shown] == [3.13, 2.89, 2.88, 0.94, 0.69, 0.42]
    assert all("harvey" in row[2] or "houston" in row[2] or "arkema" in row[2] for row in shown)
    assert "lochte" not in result.stdout
    assert result.stderr == (
        "newsarc: 10 weaker related events left out (scores under 0.31,"
        " or only a topic a fifth of the archive carries); --all shows them\n"
    )
    everything = run_newsarc("related", "harvey-sets-a-record", "--all", "--archive", "examples", cwd=root)
    assert len(everything.stdout.splitlines()) == 16 and "lochte" in everything.stdout
