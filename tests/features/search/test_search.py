"""`newsarc search`: patterns, fields, filters, output modes and exit codes.

Archives are written to tmp_path in the sample's layout; the CLI runs for
real (CliRunner, and subprocesses for pipes and the working directory).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.features import search as core
from newsarc.archive import Archive
from newsarc.errors import BadPattern
from newsarc.reading.event_text import DEFAULT_FIELDS, FIELDS
from newsarc.features.search.patterns import SMART, compile_patterns
from tests.conftest import EXAMPLES, generated_archive, run_newsarc

# -- a small archive with the cases that matter ---------------------------------------

SYRIA = "2017-08-13"
TITLE_SYRIA = "A Syrian Army commando unit kills 25 ISIL militants in Central Syria"
TITLE_ETE = "Un été chaud à Genève"
TITLE_CRLF = "Windows line endings event about the army"
TITLE_PALMYRA = "Syrian troops advance into Palmyra"


@pytest.fixture
def site(builder):
    """Five events over three months; each exercises one decoding or matching rule."""
    builder.event(
        SYRIA,
        TITLE_SYRIA,
        body="Supported by Russia, Syria&#x27;s army has waged an offensive.\n\nA second paragraph mentions Homs.",
        sources=[("AFP via Yahoo", "https://www.yahoo.com/news/commandos")],
        related=[("Syrian troops advance into Palmyra", "/news/2016/03/26/x.md", ["Russia", "Syrian Army"])],
    )
    builder.event(
        "2017-08-21",
        TITLE_ETE,
        body="ÉTÉ record: Genève swelters at 38 °C.",
        sources=[("Le Temps", "https://www.letemps.ch/ete")],
        related=[("Heat waves in Europe", "/news/2017/07/1/heat.md", ["Climate", "Switzerland"])],
    )
    builder.event("2017-09-02", TITLE_PALMYRA, body="Fighting near the citadel.", related=[("Other", "/news/2017/08/13/x.md", ["Syrian Civil War"])])
    link = builder.event("2016-03-26", TITLE_CRLF, body="The army\n\nAnother line ends here")
    path = builder.root / link.lstrip("/")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    builder.event("2017-09-03", "Nothing to see", body="Quiet day.", related=[("Heat", "/news/2017/08/21/x.md", ["Climate"])])
    return builder.root


def search(cli, root, *args, env=None):
    return cli("search", *args, "--archive", str(root), env=env)


def paths(result) -> list[str]:
    return [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines()]


def slug(title: str) -> str:
    from tests.conftest import slugify

    return slugify(title) + ".md"


# -- patterns (core) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "sensitive"),
    [
        (["syria"], False),
        (["Syria"], True),
        (["été"], False),
        (["ÉTÉ"], True),
        ([r"\D\W\S"], True),  # escapes are not uppercase letters, and there is no literal at all
        ([r"\d+x"], False),
        ([r"\p{Lu}x"], False),
        (["(?P<Name>x)"], False),  # a group name is not text to match
        (["[A-Z]x"], True),
        (["foo", "Bar"], True),  # ripgrep: one uppercase pattern makes the whole search case sensitive
        (["foo", r"\d"], False),
    ],
)
def test_smart_case_follows_ripgrep(patterns, sensitive):
    assert compile_patterns(patterns, case=SMART).case_sensitive is sensitive


def test_smart_case_with_fixed_strings():
    assert compile_patterns(["A.b"], fixed=True, case=SMART).case_sensitive
    assert not compile_patterns(["a.b"], fixed=True, case=SMART).case_sensitive


def test_lines_report_char_columns_and_spans():
    matcher = compile_patterns(["é+t"])
    found = matcher.lines("abc\nun été ééét\nnone")
    assert [(m.index, m.text, m.spans) for m in found] == [(1, "un été ééét", ((3, 5), (7, 11)))]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["the ", "The", "é", "a", "\n", " ", "x", "ab", "\r", "théa"]), max_size=40).map("".join),
    st.sampled_from(["the", "a", "x*", "^$", "^", "$", "é|a", "(?i)THE", r"\bab\b", "a+b?", "^a|b$", ".", ""]),
    st.booleans(),
    st.sampled_from([None, 1, 2]),
)
def test_first_match_per_line_is_what_every_match_starts_with(text, pattern, word, limit):
    """Plain output (grep lines) asks only for each line's first match, and the scan jumps to the next
    line after it: the same lines as finding every match, each with the first of their spans."""
    matcher = compile_patterns([pattern], word=word)
    every, first = matcher.lines(text, limit), matcher.lines(text, limit, every=False)
    assert [(m.index, m.text, m.spans[:1]) for m in every] == [(m.index, m.text, m.spans) for m in first]


def test_word_regexp_uses_unicode_words_and_finds_adjacent_words():
    matcher = compile_patterns(["a"], word=True)
    assert matcher.lines("a a,a ba ab éa")[0].spans == ((0, 1), (2, 3), (4, 5))
    assert compile_patterns(["été"], word=True).lines("l'été, étés")[0].spans == ((2, 5),)


def test_line_regexp_needs_the_whole_line():
    matcher = compile_patterns(["army|navy"], line=True)
    assert [m.index for m in matcher.lines("army\nthe army\nnavy")] == [0, 2]


def test_shorthand_classes_are_unicode_and_anchors_are_per_line():
    assert compile_patterns([r"^\w+$"]).lines("Genève\nsão\nno way")[1].text == "são"
    assert len(compile_patterns([r"\d"]).lines("٣ arabic-indic three")) == 1
    assert [m.index for m in compile_patterns([r"\Aab\z"]).lines("ab\nxab\nab")] == [0, 2]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a(b", "bad pattern 'a(b': the ( at column 2 is never closed"),
        ("foo|a)", "bad pattern 'foo|a)': unexpected ) at column 6"),
        ("x{2,1}", "bad pattern 'x{2,1}': invalid repetition size at column 2"),
        ("(?<=a)b", "bad pattern '(?<=a)b': invalid perl operator at column 1"),
        (r"(a)\1", r"bad pattern '(a)\\1': invalid escape sequence at column 4"),
        (r"a\nb", r"bad pattern 'a\\nb': a line break at column 2 can never match"),
        ("a[\n]b", "a line break at column 2 can never match"),
        (r"\C", "\\C (any byte) is not supported, at column 1"),
    ],
)
def test_bad_patterns_say_where(pattern, message):
    with pytest.raises(BadPattern) as info:
        compile_patterns([pattern])
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_pathological_pattern_runs_in_linear_time():
    """`(a+)+$` backtracks exponentially in `re`; RE2 answers at once."""
    matcher = compile_patterns(["(a+)+$"])
    line = "a" * 50_000 + "b"
    assert matcher.lines(line) == []
    assert list(matcher.select([line, "aaa"])) == [1]


def test_select_skips_empty_texts_and_never_matches_across_texts(monkeypatch):
    monkeypatch.setattr("newsarc.features.search.patterns._CHUNK", 8)  # several buffers, so chunk edges are crossed
    texts = ["ab", "", "b", "a", "", "xxxxxxxxxxxa", "b\na"]
    assert list(compile_patterns(["^$"]).select(texts)) == []
    assert list(compile_patterns(["a$"]).select(texts)) == [3, 5, 6]
    assert list(compile_patterns(["b$"]).select(texts)) == [0, 2, 6]
    assert list(compile_patterns(["^a", "^b"]).select(texts, require_all=True)) == [6]
    assert list(compile_patterns(["a.b"]).select(texts)) == []  # "a" + separator + "b"


LINES = st.lists(st.text(alphabet="ab é\nB", max_size=12), max_size=8)
SIMPLE = ["a", "b", "ab", "^a", "a$", "^$", "a|é", "[^a]", " b", "(?i)b", "a*", "^é+$"]


@settings(max_examples=200, deadline=None)
@given(texts=LINES, pattern=st.sampled_from(SIMPLE))
def test_select_and_lines_equal_a_line_by_line_re_scan(texts, pattern):
    matcher = compile_patterns([pattern])
    compiled = re.compile(pattern)
    expected = [i for i, t in enumerate(texts) if t and any(compiled.search(line) for line in t.split("\n"))]
    assert list(matcher.select(texts)) == expected
    for text in texts:
        lines = [i for i, line in enumerate(text.split("\n")) if compiled.search(line)] if text else []
        assert [m.index for m in matcher.lines(text)] == lines


def test_bm25_prefers_rarer_terms_and_more_matches():
    common = core.bm25([1, 0], [90, 2], 100, 100, 100)
    rare = core.bm25([0, 1], [90, 2], 100, 100, 100)
    twice = core.bm25([0, 2], [90, 2], 100, 100, 100)
    assert rare > common and twice > rare
    assert core.bm25([0, 1], [90, 2], 100, 400, 100) < rare  # longer text, same matches


# -- fields, decoding, line numbers ---------------------------------------------------


def test_default_fields_are_title_body_topics(cli, site):
    assert paths(search(cli, site, "-l", "Palmyra")) == [slug(TITLE_PALMYRA)]  # the title, not a related headline
    assert paths(search(cli, site, "-l", "Palmyra", "--in", "related")) == [slug(TITLE_SYRIA)]
    assert search(cli, site, "Yahoo").exit_code == 1
    assert paths(search(cli, site, "-l", "Yahoo", "--in", "sources")) == [slug(TITLE_SYRIA)]
    assert paths(search(cli, site, "-l", "letemps", "--in", "title,sources")) == [slug(TITLE_ETE)]
    assert paths(search(cli, site, "-l", "^Switzerland$")) == [slug(TITLE_ETE)]  # topics, one per line


def test_entities_are_decoded_unless_raw(cli, site):
    result = search(cli, site, "Syria's")
    rel = f"news/2017/08/13/{slug(TITLE_SYRIA)}"
    assert result.exit_code == 0
    assert result.stdout == f"{site}/{rel}:5:22:Supported by Russia, Syria's army has waged an offensive.\n".replace(f"{site}/", _local(site))
    assert search(cli, site, "&#x27;").exit_code == 1
    assert paths(search(cli, site, "-l", "--raw", "&#x27;")) == [slug(TITLE_SYRIA)]
    assert search(cli, site, "--raw", "Syria's").exit_code == 1


def _local(root: Path) -> str:
    import os

    return os.path.relpath(root) + "/"


def test_raw_fields_are_the_parts_of_the_file_where_they_are_written(cli, site):
    result = search(cli, site, "--raw", "--in", "sources", "-e", "Le Temps", "--json")
    assert [(r["field"], r["line"], r["text"]) for r in map(json.loads, result.stdout.splitlines())] == [
        ("sources", 10, "1. [Le Temps](https://www.letemps.ch/ete)")
    ]
    titles = search(cli, site, "--raw", "--in", "title", "-c", "^# ")
    assert titles.stdout.count(":1\n") == 5
    assert search(cli, site, "--raw", "--in", "title", "^###").exit_code == 1  # the date line is not the title
    body = search(cli, site, "--raw", "--in", "body", "--json", "&#x27;")
    assert [(r["line"], r["column"]) for r in map(json.loads, body.stdout.splitlines())] == [(5, 27)]
    assert search(cli, site, "--raw", "--in", "body", "Source:").exit_code == 1
    assert paths(search(cli, site, "--raw", "--in", "topics", "-l", "Context: Climate")) == [slug(TITLE_ETE), "nothing-to-see.md"]


def test_plain_lines_point_at_the_file_line_of_each_field(cli, site):
    result = search(cli, site, "-F", "Homs", "--in", "all")
    assert [line.split(":", 3)[1:3] for line in result.stdout.splitlines()] == [["7", "29"]]
    result = search(cli, site, "Russia|AFP", "--in", "all")
    # body line 5; sources line 12 ("AFP via Yahoo <url>"); related line 16 ("headline topics");
    # the topic "Russia" is written on that related line too
    lines = [tuple(line.split(":", 4)[1:4]) for line in result.stdout.splitlines()]
    assert lines == [
        ("5", "14", "Supported by Russia, Syria's army has waged an offensive."),
        ("12", "1", "AFP via Yahoo https"),
        ("16", "36", "Syrian troops advance into Palmyra Russia, Syrian Army"),
        ("16", "1", "Russia"),
    ]


def test_non_ascii_case_folding(cli, site):
    assert paths(search(cli, site, "-l", "-i", "ÉTÉ")) == [slug(TITLE_ETE)]
    assert search(cli, site, "-c", "-i", "ÉTÉ").stdout.endswith(":2\n")  # title and body
    assert search(cli, site, "-c", "ÉTÉ").stdout.endswith(":1\n")  # body only
    assert search(cli, site, "-c", "-S", "été").stdout.endswith(":2\n")
    assert search(cli, site, "-c", "-S", "Été").exit_code == 1


def test_case_flags_last_one_wins(cli, site):
    assert search(cli, site, "-i", "-s", "SYRIA").exit_code == 1
    assert search(cli, site, "-s", "-i", "SYRIA").exit_code == 0
    assert search(cli, site, "-i", "-S", "SYRIA").exit_code == 1
    assert search(cli, site, "-S", "-i", "SYRIA").exit_code == 0


def test_crlf_files(cli, site):
    """Decoded fields have no \\r; the raw text keeps it, as ripgrep sees it."""
    assert paths(search(cli, site, "-l", "army$")) == [slug(TITLE_CRLF)]
    assert search(cli, site, "-l", "--raw", "army$").exit_code == 1
    assert paths(search(cli, site, "-l", "--raw", "army\r$")) == [slug(TITLE_CRLF)]
    result = search(cli, site, "--raw", "--in", "all", "^The army")
    assert result.stdout.endswith(":5:1:The army\n")  # \r not printed


def test_all_requires_every_pattern_in_any_field(cli, site):
    # "commando" is in the title, "Syrian Army" only in the topics of the same event
    result = search(cli, site, "-l", "--all", "commando", "^Syrian Army$")
    assert paths(result) == [slug(TITLE_SYRIA)]
    assert search(cli, site, "-l", "--all", "commando", "Climate").exit_code == 1
    assert len(paths(search(cli, site, "-l", "commando", "Climate"))) == 3  # any: one or the other


def test_fixed_strings_word_and_line(cli, site):
    assert search(cli, site, "-F", "38 .C").exit_code == 1
    assert search(cli, site, "38 .C").exit_code == 0
    assert paths(search(cli, site, "-l", "-F", "°C")) == [slug(TITLE_ETE)]
    assert search(cli, site, "-w", "Syri").exit_code == 1
    assert search(cli, site, "-w", "-c", "Syria").stdout.endswith(":2\n")
    assert paths(search(cli, site, "-l", "-x", "Climate")) == [slug(TITLE_ETE), "nothing-to-see.md"]


def test_several_patterns_and_dash_patterns(cli, site):
    result = search(cli, site, "-l", "-e", "-?citadel", "-e", "-x")
    assert paths(result) == [slug(TITLE_PALMYRA)]
    assert len(paths(search(cli, site, "-l", "citadel", "-e", "Homs"))) == 2
    assert search(cli, site, "-n", "citadel").exit_code == 0  # ripgrep's -n: line numbers are always on


def test_invert_lists_events_without_a_match(cli, site):
    result = search(cli, site, "-v", "Syria|army")
    assert result.exit_code == 0
    assert paths(result) == [slug(TITLE_ETE), "nothing-to-see.md"]


def test_max_count_count_and_quiet(cli, site):
    assert search(cli, site, "-c", "a").stdout.count(":") == 5
    result = search(cli, site, "-m", "1", "Syria")
    assert len(result.stdout.splitlines()) == 2  # two events, one line each
    assert search(cli, site, "-m", "0", "Syria").exit_code == 1  # as ripgrep
    quiet = search(cli, site, "-q", "Syria")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    quiet = search(cli, site, "-q", "zzz")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (1, "", "")


def test_context_lines_grep_style(cli, site):
    result = search(cli, site, "--raw", "--in", "all", "-C", "1", "^# Un")
    prefix = _local(site) + f"news/2017/08/21/{slug(TITLE_ETE)}"
    assert result.stdout == (
        f"{prefix}-2-\n"
        f"{prefix}:3:1:# {TITLE_ETE} \n"
        f"{prefix}-4-\n"
    )
    result = search(cli, site, "--raw", "--in", "all", "-A", "1", "-B", "0", "^(#|1\\.) ", "-m", "9", "--on", "2017-08-21")
    assert [line.replace(prefix, "") for line in result.stdout.splitlines()] == [
        f":3:1:# {TITLE_ETE} ",
        "-4-",
        "--",
        ":10:1:1. [Le Temps](https://www.letemps.ch/ete)",
        "-11-",
        "--",
        ":14:1:1. [Heat waves in Europe ](/news/2017/07/1/heat.md) _Context: Climate, Switzerland_",
    ]


def test_context_separates_events_even_without_context_lines(cli, site):
    """As grep and rg print "--" between files once context is asked for, whether or not a line around
    a match exists: the separator depends on the question, not on the answers still to come."""
    result = search(cli, site, "-i", "--in", "title", "-C", "2", "syria|palmyra")
    assert [line.split(":", 1)[1] if ":" in line else line for line in result.stdout.splitlines()] == [
        f"3:3:{TITLE_SYRIA}",
        "--",
        f"3:1:{TITLE_PALMYRA}",
    ]
    without = search(cli, site, "-i", "--in", "title", "syria|palmyra")
    assert "--" not in without.stdout.splitlines() and len(without.stdout.splitlines()) == 2


def test_results_are_made_as_they_are_read_not_kept(site):
    """The events of a search are made, and their lines collected, one at a time while they are
    read (a search reads the files: search/files.py): none is kept, and reading again gives the same
    answers."""
    import gc

    from newsarc.features.search.files import FileEvent
    from newsarc.features.search.patterns import compile_patterns

    def alive() -> int:
        return sum(1 for thing in gc.get_objects() if type(thing) is FileEvent)

    archive = Archive.open(site)
    query = core.Query(compile_patterns(["a"]), fields=("title", "body", "topics"))
    result = core.search(archive, query)
    assert len(result.found) == 5 and result.found
    before, most = alive(), 0
    for item in result.found:
        assert item.lines and item.count == len([line for line in item.lines if not line.context])
        most = max(most, alive() - before)
    assert most == 1  # the one being read (all five at once before results were streamed)
    first = next(iter(result.found))
    again = [(f.event.path, [(line.line, line.text) for line in f.lines]) for f in result.found]
    assert again == [(f.event.path, [(line.line, line.text) for line in f.lines]) for f in result.found]
    assert again[0][0] == first.event.path and result.found[-1].event.path == again[-1][0]
    assert [f.event.path for f in result.found[1:3]] == [path for path, _ in again[1:3]]


def test_json_lines(cli, site):
    result = search(cli, site, "--json", "Genève")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "path": f"news/2017/08/21/{slug(TITLE_ETE)}",
            "date": "2017-08-21",
            "title": TITLE_ETE,
            "field": "title",
            "line": 3,
            "column": 16,
            "match": "Genève",
            "text": TITLE_ETE,
            "matches": [{"column": 16, "match": "Genève"}],
        },
        {
            "path": f"news/2017/08/21/{slug(TITLE_ETE)}",
            "date": "2017-08-21",
            "title": TITLE_ETE,
            "field": "body",
            "line": 5,
            "column": 13,
            "match": "Genève",
            "text": "ÉTÉ record: Genève swelters at 38 °C.",
            "matches": [{"column": 13, "match": "Genève"}],
        },
    ]
    counts = [json.loads(line) for line in search(cli, site, "--json", "-c", "Syria").stdout.splitlines()]
    assert [(c["date"], c["count"]) for c in counts] == [("2017-08-13", 3), ("2017-09-02", 2)]
    listed = [json.loads(line) for line in search(cli, site, "--json", "-l", "Syria").stdout.splitlines()]
    assert set(listed[0]) == {"path", "date", "title"}


def test_sort_and_limit(cli, site):
    by_date = paths(search(cli, site, "-l", "-i", "syria|army"))
    assert by_date == [slug(TITLE_CRLF), slug(TITLE_SYRIA), slug(TITLE_PALMYRA)]
    by_path = search(cli, site, "-l", "-i", "syria|army", "--sort", "path").stdout.splitlines()
    assert by_path == sorted(by_path)
    assert paths(search(cli, site, "-l", "-i", "syria|army", "--limit", "1")) == [slug(TITLE_CRLF)]
    ranked = paths(search(cli, site, "-l", "-i", "syria", "army", "--sort", "relevance"))
    assert ranked[0] == slug(TITLE_SYRIA)  # both terms, several times
    scores = [json.loads(line)["score"] for line in search(cli, site, "--json", "-l", "-i", "syria", "army", "--sort", "relevance").stdout.splitlines()]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert search(cli, site, "x", "--sort", "size").exit_code == 2


@pytest.mark.parametrize("patterns", [["syria", "army"], ["été"], ["the"], ["e"]])
def test_relevance_through_the_index_scores_as_reading_every_event(site, tmp_path, patterns):
    """Relevance takes each event's text length from the catalogue's lengths group (characters, not
    bytes: 'été'), not from 100k parsed events; the scores are those of reading them all."""
    from newsarc.features.catalog import Catalog
    from newsarc.features.search.patterns import compile_patterns
    from newsarc.reading.event_text import DEFAULT_FIELDS, event_text

    for root in (site, EXAMPLES):
        query = core.Query(compile_patterns(patterns, case="ignore_case"), sort="relevance")
        catalog = Catalog(Archive.open(root, cache_dir=tmp_path), cache_dir=tmp_path, more=(core.LENGTHS.name,))
        loaded = Archive.open(root).load()
        lengths = core._lengths(catalog, core._paths(catalog.view()), query)
        assert lengths == [len(event_text(event, DEFAULT_FIELDS)) for event in loaded.events]
        through_index = [(f.event.path, f.score, f.count) for f in core.search(catalog, query).found]
        reordered = core.Query(compile_patterns(patterns, case="ignore_case"), fields=("topics", "body", "title"), sort="relevance")
        assert core._lengths(catalog, [], reordered) is None  # other fields: every event is parsed
        assert through_index == [(f.event.path, f.score, f.count) for f in core.search(loaded, reordered).found]
        assert through_index or patterns == ["été"]
        catalog.close()


def test_date_and_topic_filters_and_hints(cli, site):
    assert paths(search(cli, site, "-l", "Syria", "--on", "2017-09")) == [slug(TITLE_PALMYRA)]
    assert paths(search(cli, site, "-l", "Syria", "--from", "2017-08-14")) == [slug(TITLE_PALMYRA)]
    assert paths(search(cli, site, "-l", "Syria", "--to", "2017-08")) == [slug(TITLE_SYRIA)]
    assert paths(search(cli, site, "-l", ".", "--topic", "climate")) == [slug(TITLE_ETE), "nothing-to-see.md"]
    empty = search(cli, site, "Syria", "--on", "2015")
    assert empty.exit_code == 1
    assert empty.stderr == "newsarc: no events in 2015, so nothing was searched; widen --on/--from/--to or check --topic (newsarc list-by-date)\n"
    none = search(cli, site, "Syria", "--on", "2017-08", "--topic", "Climate")
    assert none.stderr == "newsarc: no match among the 1 event in 2017-08 with topic Climate (searched: title, body, topics)\n"
    assert search(cli, site, "x", "--on", "2017", "--from", "2016").exit_code == 2


def test_unreadable_files_are_reported_and_the_rest_searched(cli, site, monkeypatch):
    (site / "news/2017/08/13/broken.md").write_bytes(b"\x00\x01binary Syria")
    monkeypatch.chdir(site)  # stderr's paths, like stdout's, are relative to the current folder
    result = search(cli, site, "-l", "Syria")
    assert len(paths(result)) == 2
    assert result.stderr == "newsarc: news/2017/08/13/broken.md: binary file (contains NUL bytes); skipped\n"


def test_errors_exit_2_with_one_line(cli, site):
    result = search(cli, site, "a(b")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "column 2" in result.stderr
    assert search(cli, site).exit_code == 2  # no pattern
    assert search(cli, site, "x", "--in", "headline").exit_code == 2


def test_rich_output_on_a_terminal(cli, site):
    result = search(cli, site, "--pretty", "Genève", env={"NO_COLOR": "1", "COLUMNS": "300"})
    lines = result.stdout.splitlines()
    assert lines[0] == f"2017-08-21  {TITLE_ETE}"
    assert lines[1].endswith(f"news/2017/08/21/{slug(TITLE_ETE)}")
    assert lines[2].split() == ["3", "title", *TITLE_ETE.split()]
    assert lines[3].split()[:3] == ["5", "body", "ÉTÉ"]
    assert "1 event; 5 searched" in result.stderr
    coloured = search(cli, site, "--pretty", "Genève")
    assert "\x1b[1;31mGenève" in coloured.stdout


# -- subprocesses: cwd-relative paths, pipes ----------------------------------------


def test_paths_are_relative_to_the_working_directory(site):
    result = run_newsarc("search", "-l", "citadel", "--archive", "site", cwd=site.parent)
    assert result.returncode == 0
    assert result.stdout == f"site/news/2017/09/2/{slug(TITLE_PALMYRA)}\n"
    inside = run_newsarc("search", "-l", "citadel", cwd=site / "news" / "2017")
    assert inside.stdout == f"09/2/{slug(TITLE_PALMYRA)}\n"  # not ../../news/2017/09/2/...
    outside = run_newsarc("search", "-l", "citadel", "--archive", "2017", "--root", str(site), cwd=site / "news")
    assert outside.stdout == f"2017/09/2/{slug(TITLE_PALMYRA)}\n"


def test_head_closes_the_pipe_quietly():
    """More output than a pipe buffer holds; the reader leaves after one line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarc", "search", "--raw", "--in", "all", ".", "--archive", str(EXAMPLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert first.startswith(b"examples/news/") or first.startswith(str(EXAMPLES).encode()) or b"news/" in first
    assert stderr == b""


# -- --raw --in all selects what a line-by-line scan selects ---------------------------

COMPARE = [
    ("Syria", False),
    ("Syria&#x27;s", False),
    ("^#", False),
    (r"\d{4}-\d{2}", False),
    ("ISIL|Kurdish", False),
    ("(?i)eclipse", False),
    ("army$", False),
    ("^$", False),
    ("é", False),
    (r"\bceasefire\b", False),
    ("[A-Z]{4,}", False),
    (r" $", False),
    ("\r$", False),
    ("Deir ez-Zor", True),
    ("(a+)+b", False),
]


def line_scan(root: Path, events, pattern: str, fixed: bool) -> list[str]:
    """The files a plain `re` scan, line by line, selects (ripgrep's reading of a file)."""
    compiled = re.compile(re.escape(pattern) if fixed else pattern)
    selected = []
    for event in events:
        text = (root / event.path).read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if any(compiled.search(line) for line in lines):
            selected.append(event.path)
    return sorted(selected)


def raw_selection(archive: Archive, pattern: str, fixed: bool) -> list[str]:
    query = core.Query(compile_patterns([pattern], fixed=fixed), fields=FIELDS, raw=True, details=False)
    return sorted(f.event.path for f in core.search(archive, query).found)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A 1,500-event generated archive (bench/gen_archive.py): CRLF files, front matter, entities."""
    return generated_archive(tmp_path_factory.mktemp("generated"), 1500, 1)


@pytest.mark.parametrize("name", ["examples", "generated"])
def test_raw_all_selects_what_a_line_scan_selects(name, request):
    root = EXAMPLES if name == "examples" else request.getfixturevalue("generated")
    archive = Archive.open(root).load()
    some = 0
    for pattern, fixed in COMPARE:
        expected = line_scan(root, archive.events, pattern, fixed)
        assert raw_selection(archive, pattern, fixed) == expected, pattern
        some += bool(expected)
    assert some >= 8  # the comparison is not vacuous


@pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep not installed")
def test_raw_all_selects_what_ripgrep_selects(generated):
    archive = Archive.open(generated).load()
    for pattern, fixed in COMPARE:
        command = ["rg", "-l", *(["-F"] if fixed else []), "-e", pattern, str(generated / "news")]
        listed = subprocess.run(command, capture_output=True, text=True).stdout.splitlines()
        expected = sorted(Path(p).relative_to(generated).as_posix() for p in listed if not p.endswith("/index.md"))
        assert raw_selection(archive, pattern, fixed) == expected, pattern


def test_decoded_search_finds_what_the_generator_counted(generated):
    manifest = json.loads((generated / "manifest.json").read_text())
    archive = Archive.open(generated).load()
    for item in manifest["search_patterns"]:
        matcher = compile_patterns([item["pattern"]], fixed=item["fixed_string"])
        query = core.Query(matcher, fields=FIELDS, details=False)
        assert len(core.search(archive, query).found) == item["event_files_decoded"], item["pattern"]


RAW_FIELDS = [("title",), ("body",), ("sources", "related"), ("topics",), DEFAULT_FIELDS]
NARROWED = [("Syria", True), ("Syria&#x27;s", False), ("^#", False), ("army$", False), ("^$", False), ("\r$", False), ("é", False)]


@pytest.mark.parametrize("name", ["examples", "generated"])
def test_raw_fields_narrowed_to_the_matching_files_equal_every_event_cut(name, request, tmp_path):
    """`--raw` on some fields matches whole files first (on every core) and cuts fields from those
    alone: the same events, counts and lines as cutting the fields of every event (patterns that
    match empty text, ^$ and x*, included)."""
    root = EXAMPLES if name == "examples" else request.getfixturevalue("generated")
    unread = Archive.open(root, cache_dir=tmp_path / "cache")  # the files read by the search (search/files.py)
    every = Archive.open(root, use_cache=False).load()  # every event parsed first
    some = 0
    for pattern, fixed in NARROWED + [("x*", False)] * (name == "examples"):  # x* matches everywhere: slow at 1,500
        for fields, invert in [*((f, False) for f in RAW_FIELDS), (("title", "body"), True)]:
            query = core.Query(compile_patterns([pattern], fixed=fixed), fields=fields, raw=True, invert=invert)
            got, want = (
                [(f.event.path, f.count, [(ln.field, ln.line, ln.text) for ln in f.lines]) for f in core.search(site, query).found]
                for site in (unread, every)
            )
            assert got == want, (pattern, fields, invert)
            some += bool(want) and not invert
    assert some >= 20  # not vacuous


