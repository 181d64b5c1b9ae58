"""`topics`, `timeline` and `stats` on a hand-built archive, the examples and edge cases."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsarc.archive import Archive
from newsarc.errors import AmbiguousTopic, TopicNotFound
from newsarc.features.overview import Topic, fold, group_topics, match_topic, timeline, topic_table
from newsarc.features.stats import stats
from tests.conftest import EXAMPLES, run_newsarc, slugify

ANSI = re.compile(r"\x1b\[[0-9;]*[mK]|\x1b\]8;[^\x1b]*\x1b\\")
COUP = "2015 Burkinabé coup d'état"


def link(date: str, title: str) -> str:
    year, month, day = date.split("-")
    return f"/news/{year}/{month}/{int(day)}/{slugify(title)}.md"


@pytest.fixture
def site(builder, monkeypatch):
    """9 dated events, 1 undated draft, 1 binary file; 2 broken internal links. Commands run from its
    root, so the paths on stderr read as they are pinned (relative to the current folder)."""
    b = builder
    faroe = ["Faroese general election, 2015", "Faroe Islands"]
    b.event("2015-09-01", "Social Democrats win", sources=[("Reuters", "https://www.reuters.com/a")],
            related=[("Johannesen takes office", link("2015-09-15", "Johannesen takes office"), faroe)])
    b.event("2015-09-15", "Johannesen takes office", sources=[("BBC News", "https://www.bbc.co.uk/news/x")],
            related=[("Social Democrats win", link("2015-09-01", "Social Democrats win"), faroe)])
    b.event("2015-09-16", "Guard detains the president",
            sources=[("Reuters", "https://www.reuters.com/b"), ("AP", "https://apnews.com/c")],
            related=[("Kafando is reinstated", link("2015-09-23", "Kafando is reinstated"), [COUP, "Burkina Faso"])])
    b.event("2015-09-23", "Kafando is reinstated", related=[
        ("Guard detains the president", link("2015-09-16", "Guard detains the president"), [COUP, "Burkina Faso"]),
        ("Missing story", "/news/2015/09/18/missing-story.md", [COUP]),
    ])
    b.event("2015-11-29", "Burkina Faso votes", body="Turnout was high. See [the count](/news/2015/12/1/nowhere.md).",
            related=[("Kafando is reinstated", link("2015-09-23", "Kafando is reinstated"), ["Burkina Faso"])])
    b.event("2016-08-05", "Olympics open in Rio", front_matter="tags: [Rio 2016, Refugee Olympic Team]",
            sources=[("Reuters", "https://www.reuters.com/c")])
    b.event("2017-03-02", "Army retakes Palmyra",
            related=[("Strike on airbase", link("2017-04-07", "Strike on airbase"), ["Syrian army"])])
    b.event("2017-04-07", "Strike on airbase",
            related=[("Army retakes Palmyra", link("2017-03-02", "Army retakes Palmyra"), ["Syrian Army", "Syrian Civil War"])])
    b.event("2017-04-07", "Russia suspends the agreement",
            related=[("Strike on airbase", link("2017-04-07", "Strike on airbase"), ["Syrian Civil War"])])
    b.write("news/drafts/burkina-draft.md", "---\ntags: [Burkina Faso]\n---\n# Draft about Burkina\n\nNotes.\n")
    b.write("news/2016/01/2/broken.md", b"\x00\x01binary\x00")
    monkeypatch.chdir(b.root)
    return b.root


# Commands that read the whole archive name the files they could not read (issue 8).
SKIPPED = "newsarc: news/2016/01/2/broken.md: binary file (contains NUL bytes); skipped\n"

TOPICS_PLAIN = (
    "Burkina Faso\t4\t2015-09-16\t2015-11-29\n"
    f"{COUP}\t2\t2015-09-16\t2015-09-23\n"
    "Faroe Islands\t2\t2015-09-01\t2015-09-15\n"
    "Faroese general election, 2015\t2\t2015-09-01\t2015-09-15\n"
    "Syrian Army\t2\t2017-03-02\t2017-04-07\n"
    "Syrian Civil War\t2\t2017-04-07\t2017-04-07\n"
    "Refugee Olympic Team\t1\t2016-08-05\t2016-08-05\n"
    "Rio 2016\t1\t2016-08-05\t2016-08-05\n"
)


# -- topics -------------------------------------------------------------------


def test_topics_plain_keeps_commas_and_counts(cli, site):
    result = cli("topics", "--archive", str(site))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == TOPICS_PLAIN
    assert result.stderr == SKIPPED


def test_topics_merges_spellings_that_fold_alike(site):
    army = next(t for t in topic_table(Archive.open(site)) if t.key == "syrian army")
    assert (army.name, army.spellings, army.count) == ("Syrian Army", ["Syrian Army", "Syrian army"], 2)


@pytest.mark.parametrize(
    ("sort", "first_three"),
    [
        ("name", ["2015 Burkinabé coup d'état", "Burkina Faso", "Faroe Islands"]),
        ("first", ["Faroe Islands", "Faroese general election, 2015", "2015 Burkinabé coup d'état"]),
        ("last", ["Syrian Army", "Syrian Civil War", "Refugee Olympic Team"]),
    ],
)
def test_topics_sort(cli, site, sort, first_three):
    result = cli("topics", "--sort", sort, "--limit", "3", "--archive", str(site))
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == first_three


def test_topics_json_parsed_back(cli, site):
    result = cli("topics", "faroe", "--json", "--archive", str(site))
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"topic": "Faroe Islands", "count": 2, "first": "2015-09-01", "last": "2015-09-15", "spellings": ["Faroe Islands"]},
        {"topic": "Faroese general election, 2015", "count": 2, "first": "2015-09-01", "last": "2015-09-15",
         "spellings": ["Faroese general election, 2015"]},
    ]


def test_topics_filter_folds_and_range_limits(cli, site):
    assert cli("topics", "BURKINABE", "--archive", str(site)).stdout == f"{COUP}\t2\t2015-09-16\t2015-09-23\n"
    ranged = cli("topics", "--from", "2017", "--archive", str(site))
    assert ranged.stdout == "Syrian Army\t2\t2017-03-02\t2017-04-07\nSyrian Civil War\t2\t2017-04-07\t2017-04-07\n"


def test_topics_filter_without_match_suggests_and_exits_1(cli, site):
    result = cli("topics", "faroes islnds", "--archive", str(site))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == SKIPPED + (
        "newsarc: no topic matches 'faroes islnds'; nearest: 'Faroe Islands'; 'Faroese general election, 2015'\n"
    )


def test_topics_rich_table(cli, site):
    result = cli("topics", "--pretty", "--archive", str(site), env={"NO_COLOR": "1"})
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Topic", "Events", "First", "Last"]
    assert lines[1].split() == ["Burkina", "Faso", "4", "█" * 20, "2015-09-16", "2015-11-29"]
    assert "Faroese general election, 2015" in result.stdout
    assert "\x1b" not in result.stdout


# -- timeline -----------------------------------------------------------------


def test_timeline_plain_marks_gaps(cli, site, monkeypatch):
    monkeypatch.chdir(site)
    result = cli("timeline", "burkina faso")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "2015-09-16\tnews/2015/09/16/guard-detains-the-president.md\tGuard detains the president\t\n"
        "2015-09-23\tnews/2015/09/23/kafando-is-reinstated.md\tKafando is reinstated\t\n"
        "2015-11-29\tnews/2015/11/29/burkina-faso-votes.md\tBurkina Faso votes\t67\n"
        "\tnews/drafts/burkina-draft.md\tDraft about Burkina\t\n"
    )
    assert "news/drafts/burkina-draft.md: no date" in result.stderr


def test_timeline_forgiving_match_and_json(cli, site):
    result = cli("timeline", "burkinabe coup", "--gap", "5", "--json", "--archive", str(site))
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["date"], r["title"], r["days_since_previous"], r["gap"]) for r in records] == [
        ("2015-09-16", "Guard detains the president", None, False),
        ("2015-09-23", "Kafando is reinstated", 7, True),
    ]
    assert records[0]["path"] == "news/2015/09/16/guard-detains-the-president.md"
    assert records[0]["topic"] == COUP
    assert result.stderr == f"newsarc: showing topic '{COUP}'\n" + SKIPPED


def test_timeline_rich_story_line(cli, site):
    result = cli("timeline", "Burkina Faso", "--pretty", "--archive", str(site), env={"NO_COLOR": "1"})
    assert result.stdout == (
        "Burkina Faso  4 events, 16 Sep 2015 – 29 Nov 2015, 1 gap longer than 30 days\n"
        "\n"
        "September 2015  2 events\n"
        "  ● Wed 16   Guard detains the president\n"
        "  │          guard-detains-the-president\n"
        "  ● Wed 23   Kafando is reinstated\n"
        "  │          kafando-is-reinstated\n"
        "  ┆\n"
        "  ┆ 67 days without events\n"
        "\n"
        "November 2015  1 event\n"
        "  ● Sun 29   Burkina Faso votes\n"
        "  │          burkina-faso-votes\n"
        "\n"
        "Undated  1 event\n"
        "  ● —        Draft about Burkina\n"
        "  │          burkina-draft\n"
    )


def test_timeline_ambiguous_lists_choices_exit_2(cli, site):
    result = cli("timeline", "syrian", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "newsarc: 'syrian' matches 2 topics; give more of the name (one of these)\n  Syrian Army\n  Syrian Civil War\n"
    )


def test_timeline_unknown_topic_suggests_nearest_exit_2(cli, site):
    result = cli("timeline", "tsunami", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stderr == "newsarc: no topic matches 'tsunami'; list them all with: newsarc topics\n"
    result = cli("timeline", "syrian civil wars of 2017", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stderr.startswith("newsarc: no topic matches 'syrian civil wars of 2017'; nearest: 'Syrian Civil War'")


def test_timeline_range_without_events_exits_1(cli, site):
    result = cli("timeline", "faroe islands", "--from", "2016", "--archive", str(site))
    assert result.exit_code == 1
    assert result.stderr == SKIPPED + "newsarc: topic 'Faroe Islands' has no events in 2016-01-01..\n"


# -- stats --------------------------------------------------------------------


def test_stats_exact_counts(site):
    result = stats(Archive.open(site), top=3)
    assert (result.events, result.undated, result.days, result.topics) == (10, 1, 8, 8)
    assert (result.first.isoformat(), result.last.isoformat()) == ("2015-09-01", "2017-04-07")
    assert result.per_year == [(2015, 5), (2016, 1), (2017, 3)]
    assert len(result.per_month) == 20 and sum(n for _, n in result.per_month) == 9
    assert [m for m, n in result.per_month if n] == ["2015-09", "2015-11", "2016-08", "2017-03", "2017-04"]
    assert [(d.isoformat(), n) for d, n in result.busiest_days] == [("2017-04-07", 2), ("2015-09-01", 1), ("2015-09-15", 1)]
    assert result.top_topics == [("Burkina Faso", 4), (COUP, 2), ("Faroe Islands", 2)]
    assert result.sources == 10  # the builder's default (Reuters) in 5 events, 5 named
    assert result.top_publishers == [("Reuters", 8), ("AP", 1), ("BBC News", 1)]
    assert result.top_domains == [("reuters.com", 8), ("apnews.com", 1), ("bbc.co.uk", 1)]
    # 9 date lines + 9 related + 1 body link in events, 9 links on 8 day pages
    assert (result.links_checked, result.broken_links, result.broken_by_role) == (28, 2, {"body": 1, "related": 1})
    assert (result.files_with_diagnostics, result.diagnostics) == (2, 2)


def test_stats_from_the_catalogue_counts_as_from_the_archive(site, tmp_path):
    """The counts group (features/stats.py) answers as the files decoded one by one: whole, twice (the
    second from the sums kept in the index), and over a span."""
    from dataclasses import asdict

    from newsarc.features.catalog import Catalog
    from newsarc.reading.dates import parse_when

    expected = asdict(stats(Archive.open(site, use_cache=False), top=3))
    for _ in range(2):
        catalog = Catalog(Archive.open(site, cache_dir=tmp_path / "c"), cache_dir=tmp_path / "c", more=("counts",))
        assert asdict(stats(catalog, top=3)) == expected
    span = parse_when("2015-09")
    assert asdict(stats(catalog, span, top=3)) == asdict(stats(Archive.open(site, use_cache=False), span, top=3))
    assert expected["links_checked"] == 28 and expected["diagnostics"] == 2


def test_stats_json_parsed_back_with_range(cli, site):
    result = cli("stats", "--from", "2017-01", "--to", "2017-12", "--top", "2", "--json", "--archive", str(site))
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record == {
        "from": "2017-01-01", "to": "2017-12-31", "events": 3, "undated": 0, "first": "2017-03-02", "last": "2017-04-07",
        "days": 2, "per_year": {"2017": 3}, "per_month": {"2017-03": 1, "2017-04": 2},
        "busiest_days": [{"date": "2017-04-07", "count": 2}, {"date": "2017-03-02", "count": 1}],
        "topics": 2, "top_topics": [{"topic": "Syrian Army", "count": 2}, {"topic": "Syrian Civil War", "count": 2}],
        "sources": 3, "top_publishers": [{"publisher": "Reuters", "count": 3}],
        "top_domains": [{"domain": "reuters.com", "count": 3}],
        "internal_links": 9, "broken_links": 0, "broken_by_role": {}, "files_with_diagnostics": 0, "diagnostics": 0,
    }


def test_stats_plain_lines(cli, site):
    result = cli("stats", "--top", "1", "--archive", str(site))
    lines = result.stdout.splitlines()
    assert lines[:10] == [
        "events\t10", "undated\t1", "first\t2015-09-01", "last\t2017-04-07", "days\t8", "topics\t8",
        "sources\t10", "internal-links\t28", "broken-links\t2", "files-with-diagnostics\t2",
    ]
    assert lines[10:15] == ["broken\tbody\t1", "broken\trelated\t1", "year\t2015\t5", "year\t2016\t1", "year\t2017\t3"]
    assert lines[-4:] == ["day\t2017-04-07\t2", "topic\tBurkina Faso\t4", "publisher\tReuters\t8", "domain\treuters.com\t8"]


def test_stats_rich_bars_for_a_short_range(cli, site):
    result = cli("stats", "--pretty", "--archive", str(site), env={"NO_COLOR": "1"})
    out = result.stdout
    assert out.splitlines()[1:3] == [
        "  10 events on 8 days (+1 undated) · 8 topics · 10 sources",
        "  2 broken internal links (of 28 checked) · 2 files with diagnostics",
    ]
    assert "  2015 " + "█" * 30 + " 5" in out
    assert "  2015-10" + " " * 32 + "0" in out  # empty months stay visible
    assert "J F M A" not in out  # 20 months: bars, not a heat map
    assert "Top publishers    Top source domains" in out


def test_stats_rich_heat_map_for_a_long_range(cli):
    result = cli("stats", "--pretty", "--archive", str(EXAMPLES), env={"NO_COLOR": "1"})
    out = result.stdout
    assert result.exit_code == 0
    assert "J F M A M J J A S O N D" in out
    assert re.search(r"^  2015 {17}█ ░ ▒ ░   21$", out, re.M), out  # Jan-Aug before the archive starts: blank
    assert "  · 0  ░ 1–3  ▒ 4–6  ▓ 7–9  █ 10–12" in out


def test_stats_on_an_empty_archive(cli, tmp_path):
    (tmp_path / "news").mkdir()
    result = cli("stats", "--json", "--archive", str(tmp_path))
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "from": None, "to": None, "events": 0, "undated": 0, "first": None, "last": None, "days": 0,
        "per_year": {}, "per_month": {}, "busiest_days": [], "topics": 0, "top_topics": [], "sources": 0,
        "top_publishers": [], "top_domains": [], "internal_links": 0, "broken_links": 0, "broken_by_role": {},
        "files_with_diagnostics": 0, "diagnostics": 0,
    }
    assert result.stderr == "newsarc: no events in this archive\n"
    rich = cli("stats", "--pretty", "--archive", str(tmp_path), env={"NO_COLOR": "1"})
    assert rich.exit_code == 1
    assert rich.stdout == (
        "Archive at a glance  no dated events\n"
        "  0 events on 0 days · 0 topics · 0 sources\n"
        "  0 broken internal links (of 0 checked) · 0 files with diagnostics\n"
    )
    assert cli("topics", "--archive", str(tmp_path)).exit_code == 1


def test_stats_on_a_one_event_archive(cli, builder):
    builder.event("2017-08-13", "Commandos kill militants", sources=[("AFP via Yahoo", "https://www.yahoo.com/n")])
    result = cli("stats", "--json", "--archive", str(builder.root))
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert {k: record[k] for k in ("events", "first", "last", "days", "per_year", "per_month", "busiest_days")} == {
        "events": 1, "first": "2017-08-13", "last": "2017-08-13", "days": 1, "per_year": {"2017": 1},
        "per_month": {"2017-08": 1}, "busiest_days": [{"date": "2017-08-13", "count": 1}],
    }
    assert record["top_publishers"] == [{"publisher": "AFP via Yahoo", "count": 1}]
    assert record["top_domains"] == [{"domain": "yahoo.com", "count": 1}]
    assert (record["topics"], record["internal_links"], record["broken_links"]) == (0, 2, 0)
    rich = cli("stats", "--pretty", "--archive", str(builder.root), env={"NO_COLOR": "1"})
    assert rich.exit_code == 0
    assert "  2017-08-13 Sun " + "█" * 30 + " 1" in rich.stdout


# -- the examples and a real process ----------------------------------------------


def test_burkinabe_coup_on_the_examples_in_a_subprocess():
    result = run_newsarc("timeline", "burkinabe coup", "--archive", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert all(line.split("\t")[0].startswith("2015-") for line in lines)
    assert result.stderr == f"newsarc: showing topic '{COUP}'\n"
    ambiguous = run_newsarc("timeline", "olympics", "--archive", str(EXAMPLES))
    assert ambiguous.returncode == 2
    assert ambiguous.stderr.splitlines()[1:] == [
        "  2016 Summer Olympics", "  Swimming at the 2016 Summer Olympics", "  Athletics at the 2016 Summer Olympics",
    ]


def test_help_has_examples(cli):
    for command in ("topics", "timeline", "stats"):
        result = cli(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout


# -- folding and matching, with hypothesis -----------------------------------------

ACCENTED = {
    "a": "áàâäãåā", "c": "çćč", "e": "éèêëē", "i": "íìîïī", "n": "ñń", "o": "óòôöõō", "s": "śšş", "u": "úùûüū",
    "y": "ýÿ", "z": "źżž",
}
SEPARATORS = [" ", "  ", "-", " – ", "–", "—", ", ", "'", "’", ": ", " / ", ". ", "_", "(", ") "]
words = st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8), min_size=1, max_size=5)


@st.composite
def mangled(draw, parts: list[str]) -> str:
    """The same words as a person might type them: other case, accents, dashes, punctuation."""
    out = []
    for i, word in enumerate(parts):
        letters = []
        for ch in word:
            if ch in ACCENTED and draw(st.booleans()):
                ch = draw(st.sampled_from(ACCENTED[ch]))
            letters.append(ch.upper() if draw(st.booleans()) else ch)
        out.append("".join(letters))
        if i < len(parts) - 1:
            out.append(draw(st.sampled_from(SEPARATORS)))
    return draw(st.sampled_from(["", " ", "'", "“"])) + "".join(out) + draw(st.sampled_from(["", ".", " ", "!"]))


@given(st.data(), words)
def test_fold_ignores_case_accents_punctuation_and_dashes(data, parts):
    assert fold(data.draw(mangled(parts))) == " ".join(parts)


@given(st.text())
def test_fold_is_idempotent_and_lowercase(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded


@settings(max_examples=60)
@given(st.data(), st.lists(words, min_size=1, max_size=6))
def test_a_mangled_name_finds_its_topic(data, names):
    topics = [Topic(" ".join(parts).title(), " ".join(parts)) for parts in names]
    assume(len({t.key.replace(" ", "") for t in topics}) == len(topics))
    wanted = data.draw(st.sampled_from(range(len(names))))
    assert match_topic(topics, data.draw(mangled(names[wanted]))) is topics[wanted]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("burkinabe coup", COUP),
        ("2015 BURKINABÉ COUP D’ÉTAT", COUP),  # typographic apostrophe
        ("coup detat", COUP),
        ("faroese general election 2015", "Faroese general election, 2015"),
        ("Faroese general election – 2015", "Faroese general election, 2015"),
        ("faroe isles", "Faroe Islands"),  # close as a whole, each word alike
        ("faroe islnds", "Faroe Islands"),  # a typo away, word by word
        ("syrain civil war", "Syrian Civil War"),  # a typo away, whole name
        ("rio", "Rio 2016"),
    ],
)
def test_match_topic_examples(site, query, expected):
    topics = list(group_topics(Archive.open(site).load().events).values())
    assert match_topic(topics, query).name == expected


def test_match_topic_errors(site):
    topics = list(group_topics(Archive.open(site).load().events).values())
    with pytest.raises(AmbiguousTopic) as ambiguous:
        match_topic(topics, "faroe")
    assert ambiguous.value.candidates == ["Faroe Islands", "Faroese general election, 2015"]
    assert ambiguous.value.status == 2
    with pytest.raises(TopicNotFound) as missing:
        match_topic(topics, "?!")
    assert missing.value.status == 2


def test_timeline_core_ignores_range_outside(site):
    from newsarc.reading.dates import parse_when

    line = timeline(Archive.open(site), "burkina faso", span=parse_when("2015-11"))
    assert [s.event.title for s in line.steps] == ["Burkina Faso votes"]
    assert (line.steps[0].gap_days, line.gaps) == (None, 0)


def test_close_match_takes_the_best_and_lists_near_ties():
    names = ["Elections in Guatemala", "Elections in Malawi", "Elections in Australia", "Economy of Iraq", "Economy of Iran"]
    topics = [Topic(name, fold(name)) for name in names]
    assert match_topic(topics, "elections in guatamala").name == "Elections in Guatemala"
    with pytest.raises(AmbiguousTopic) as tie:
        match_topic(topics, "economy of irak")
    assert tie.value.candidates == ["Economy of Iran", "Economy of Iraq"]
    with pytest.raises(TopicNotFound) as missing:
        match_topic(topics, "elections in japan")
    assert missing.value.message == (
        "no topic matches 'elections in japan'; nearest: 'Elections in Malawi'; 'Elections in Australia'; "
        "'Elections in Guatemala'; list them all with: newsarc topics"
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["Syrian Army", "syrian army", "Syrian-Army", "Coup", "coup d'état", "Coup d'Etat", "—", "..."]), max_size=4), max_size=12))
def test_group_names_matches_a_plain_grouping(names):
    """folding.group_names (what topics, timeline, stats and related group by, kept as a memo) against
    the obvious computation: every spelling counted, each event once per topic, in order."""
    from collections import Counter

    from newsarc.reading.topic_names import group_names, topic_key

    expected: dict[str, tuple[list[str], list[int]]] = {}
    for key in {topic_key(n) for event in names for n in event}:
        counts = Counter(n for event in names for n in event if topic_key(n) == key)
        members = [k for k, event in enumerate(names) if any(topic_key(n) == key for n in event)]
        expected[key] = (sorted(counts, key=lambda s: (-counts[s], s)), members)
    assert group_names(names) == expected
