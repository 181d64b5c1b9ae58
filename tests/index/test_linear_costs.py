"""Costs linear in the input: item 5 of the "Hostile archives" issue.

Each test feeds one hostile input at a size that takes about a second when the
cost is linear and minutes when it is quadratic (as it was), and checks the
exact answer. No test times anything: a quadratic cost shows as a test that
does not finish. bench/scaling.py measures the same inputs at 1x and 10x.
"""

from __future__ import annotations

from newsarc.archive import day_page_targets, link_targets
from newsarc.model import BODY, DATE, RELATED, Event, Link
from newsarc.reading.parser import parse_text

HEAD = "### [2017-08-01](/news/2017/08/1/index.md)\n\n"


def test_many_links_on_one_line_get_their_columns_in_linear_time():
    """250k links on one line: each column was counted from the line's start (quadratic)."""
    n = 250_000
    links = [f"[lien {i}](/news/2017/08/1/e{i}.md)" for i in range(n)]
    event = parse_text(f"{HEAD}# Été\n\nÉté: " + " ".join(links) + "\n", "news/2017/08/1/x.md")
    body = [link for link in event.links if link.role == BODY]
    assert len(body) == n
    columns = [link.column for link in body]
    expected, column = [], len("Été: ") + 1
    for written in links:
        expected.append(column)
        column += len(written) + 1
    assert columns == expected
    assert {link.line for link in body} == {5}


def _links(targets: list[str], role: str) -> list[Link]:
    return [Link(target, "t", 1 + k, 1, role) for k, target in enumerate(targets)]


def test_an_event_with_many_distinct_links_lists_its_targets_in_linear_time():
    """100k distinct links (each written twice, one to itself): a list's `in` made this quadratic."""
    n = 100_000
    targets = [f"/news/2017/08/1/e{i}.md" for i in range(n)]
    doc = Event(path="news/2017/08/1/x.md")
    doc.links = _links(["/news/2017/08/1/index.md"], DATE) + _links(targets + ["/news/2017/08/1/x.md"] + targets, RELATED)
    assert link_targets(doc) == [t[1:] for t in targets]


def test_a_day_page_with_many_distinct_links_lists_its_targets_in_linear_time():
    n = 100_000
    targets = [f"e{i}.md" for i in range(n)]  # relative to the day folder
    doc = Event(path="news/2017/08/1/index.md", is_day_page=True)
    doc.links = _links(targets + targets[::-1], BODY)
    assert day_page_targets(doc) == [f"news/2017/08/1/{t}" for t in targets]


def _paragraphs(builder, n: int, title: str = "Long") -> str:
    """An event of n body paragraphs 'aaa K'; returns its path as search prints it (from the site root)."""
    link = builder.event("2017-08-01", title, body="\n\n".join(f"aaa {k}" for k in range(n)))
    return link.lstrip("/")


def _every_line(path: str, n: int, first: int = 5) -> str:
    """Each body line, matches and the blank lines between them as context: what -C n prints."""
    lines = []
    for k in range(n):
        if k:
            lines.append(f"{path}-{first + 2 * k - 1}-\n")
        lines.append(f"{path}:{first + 2 * k}:1:aaa {k}\n")
    return "".join(lines)


def test_a_huge_context_costs_what_it_shows(cli, builder, monkeypatch):
    """-C 1000000000 made a range of 2 billion numbers per match; it prints what -C 1000 prints."""
    path = _paragraphs(builder, 3)
    monkeypatch.chdir(builder.root)
    huge = cli("search", "-C", "1000000000", "aaa", "--archive", ".")
    assert huge.exit_code == 0
    assert huge.stdout == _every_line(path, 3)
    assert huge.stdout == cli("search", "-C", "1000", "aaa", "--archive", ".").stdout
    after = cli("search", "-A", "1000000000", "-B", "0", "aaa 1", "--archive", ".")
    assert after.stdout == f"{path}:7:1:aaa 1\n{path}-8-\n{path}-9-aaa 2\n"


def test_context_around_many_matches_is_linear_in_the_lines(cli, builder, monkeypatch):
    """20k matching lines, each one's context the whole field: 20k ranges of 80k lines before."""
    n = 20_000
    path = _paragraphs(builder, n)
    monkeypatch.chdir(builder.root)
    result = cli("search", "-C", str(2 * n), "aaa", "--archive", ".")
    assert result.stdout == _every_line(path, n)


def test_show_on_a_terminal_lays_out_at_most_a_screenful_of_a_huge_paragraph(cli, builder):
    """A 10M-character paragraph (9,999,999 once stripped): rich's layout of one Text is quadratic in it (46 s). A terminal shows
    the first 100,000 characters and says how many more --plain prints."""
    n = 10_000_000
    builder.event("2017-08-01", "Huge", body=("aaa " * (n // 4))[:n].rstrip())
    root = str(builder.root)
    shown = cli("show", "huge", "--archive", root, "--pretty", env={"NO_COLOR": "1"})
    assert shown.exit_code == 0
    words = shown.stdout.split()
    cut = words.index("…")
    assert words[cut - 25_000 : cut] == ["aaa"] * 25_000 and words[cut - 25_001] != "aaa"
    assert " ".join(words[cut:]).startswith("… [9,899,999 more characters: --plain shows the whole paragraph] Sources (1)")
    plain = cli("show", "huge", "--archive", root, "--plain")
    assert plain.stdout.count("aaa") == n // 4


def _chain(builder, n: int) -> None:
    """n events c0 -> c1 -> ... in one day folder, each linking to the next, and their day page."""
    head = "### [2017-08-01](/news/2017/08/1/index.md)\n\n"
    for k in range(n):
        link = f"\n### Related:\n\n1. [C {k + 1}](/news/2017/08/1/c{k + 1}.md) _Context: Chain_\n" if k + 1 < n else ""
        builder.write(f"news/2017/08/1/c{k}.md", f"{head}# C {k}\n\nText.\n{link}")
    items = "".join(f"1. [C {k}](/news/2017/08/1/c{k}.md)\n" for k in range(n))
    builder.write("news/2017/08/1/index.md", f"# 2017-08-01\n\n{items}")


def _tree_rows(stdout: str) -> list[tuple[str, str, str, str]]:
    """(depth, direction, path, parent) of each --plain tree line."""
    rows = [line.split("\t") for line in stdout.splitlines()]
    return [(r[0], r[1], r[4].rsplit("/", 1)[-1], r[7].rsplit("/", 1)[-1]) for r in rows]


def test_a_deep_tree_is_walked_without_recursion(cli, builder):
    """A chain of 2,000 events followed to its end: Node.walk recursed once per level (RecursionError)."""
    n = 2_000
    _chain(builder, n)
    result = cli("related", "c0", "--depth", str(n), "--limit", str(n), "--archive", str(builder.root), "--plain")
    assert result.exit_code == 0, result.output
    assert _tree_rows(result.stdout) == [(str(k), "out", f"c{k}.md", f"c{k - 1}.md") for k in range(1, n)]
    assert "more" not in result.stderr


def test_a_depth_tree_shows_50_events_and_counts_the_rest(cli, builder):
    """--depth printed the whole connected component (19,901 lines at 20k events): now 50, and how many
    more there are within the depth, with the --limit that shows them all."""
    _chain(builder, 300)
    root = str(builder.root)
    result = cli("related", "c0", "--depth", "1000", "--archive", root, "--plain")
    assert result.exit_code == 0
    assert _tree_rows(result.stdout) == [(str(k), "out", f"c{k}.md", f"c{k - 1}.md") for k in range(1, 51)]
    assert result.stderr == "newsarc: 249 more events within depth 1000; use --limit 299 to see them\n"
    middle = cli("related", "c150", "--depth", "3", "--limit", "4", "--archive", root, "--plain")
    assert _tree_rows(middle.stdout) == [("1", "in", "c149.md", "c150.md"), ("2", "in", "c148.md", "c149.md"),
                                         ("1", "out", "c151.md", "c150.md"), ("2", "out", "c152.md", "c151.md")]  # fmt: skip
    assert middle.stderr == "newsarc: 2 more events within depth 3; use --limit 6 to see them\n"
    one = cli("related", "c0", "--depth", "2", "--limit", "1", "--archive", root, "--plain")
    assert one.stderr == "newsarc: 1 more event within depth 2; use --limit 2 to see them\n"
    pretty = cli("related", "c0", "--depth", "1000", "--archive", root, "--pretty", env={"NO_COLOR": "1"})
    assert pretty.stdout.splitlines()[-1] == "50 linked events; → its parent links to it, ← it links to its parent, ↔ both"
    assert pretty.stderr == result.stderr


def test_backlinks_from_the_catalogue_are_those_of_every_event_parsed(builder):
    """The catalogue's query (its links group) and a loaded Archive's map of every event's links agree."""
    from newsarc.archive import Archive
    from newsarc.features.catalog import LINKS, Catalog

    _chain(builder, 30)
    builder.write("news/2017/08/2/x.md", f"{HEAD}# X\n\n[c3](/news/2017/08/1/c3.md) [c3 again](../1/c3.md) [self](x.md)\n")
    loaded = Archive.open(builder.root, use_cache=False).load()
    catalog = Catalog(Archive.open(builder.root), more=(LINKS,))
    found = [[e.path for e in catalog.backlinks(event)] for event in loaded.events]
    assert found == [[e.path for e in loaded.backlinks(event)] for event in loaded.events] and sum(map(bool, found)) >= 29
    assert [e.path for e in loaded.backlinks(loaded.get("news/2017/08/1/c3.md"))] == ["news/2017/08/1/c2.md", "news/2017/08/2/x.md"]


def test_an_event_with_many_distinct_topics_collects_them_in_linear_time():
    """Related items each with its own topic and one shared: both parsers searched the topic list
    (100k for the fast path, 50k for the full parser, which costs more per item)."""
    for n, quick in ((100_000, True), (50_000, False)):
        items = "".join(f"{k}. [E {k}](/news/2017/08/1/e{k}.md) _Context: Topic {k}, Shared_\n" for k in range(1, n + 1))
        event = parse_text(f"{HEAD}# Many topics\n\nText.\n\n### Related:\n\n{items}", "news/2017/08/1/x.md", quick=quick)
        expected = [f"Topic {k}" for k in range(1, n + 1)]
        expected.insert(1, "Shared")
        assert event.topics == expected
        assert len(event.related) == n


def test_many_matches_on_one_non_ascii_line_get_their_columns_in_linear_time(cli, builder):
    """600k matches on one line that is not ASCII: each match's column decoded the line up to it."""
    import json

    n = 600_000
    builder.event("2017-08-01", "Huge", body="Été " + "aaa " * n)
    result = cli("search", "aaa", "--archive", str(builder.root), "--json")
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (record["line"], record["column"]) == (5, 5)
    assert [m["column"] for m in record["matches"]] == [5 + 4 * k for k in range(n)]


def test_a_terminal_gets_the_matches_it_can_show_of_a_huge_line(cli, builder):
    """A terminal shows 1,000 characters of a line from its first match, so the search finds the
    matches within 4,000 bytes of it and moves on to the next line: 2.5M spans of a 10 MB line held
    600 MB. Each line keeps its own window; --json still gets every match."""
    from newsarc.output.search import MAX_SHOWN, SHOWN_BYTES
    from newsarc.features.search.patterns import compile_patterns

    matcher = compile_patterns(["aaa"])
    text = "x" * 10 + "aaa " * 2_500_000 + "\n" + "é aaa" * 3 + "\n" + "aaa " * 2000
    first, second, third = matcher.lines(text, window=SHOWN_BYTES)
    assert first.spans == tuple((10 + 4 * k, 13 + 4 * k) for k in range(1001))
    assert second.spans == ((2, 5), (7, 10), (12, 15))
    assert third.spans == tuple((4 * k, 4 * k + 3) for k in range(1001))
    assert len(matcher.lines(text)[0].spans) == 2_500_000
    builder.event("2017-08-01", "Huge", body="aaa " * 2_500_000)
    shown = cli("search", "aaa", "--archive", str(builder.root), "--pretty", env={"NO_COLOR": "1"})
    assert shown.stdout.split().count("aaa") == MAX_SHOWN // 4
    assert "… [9,998,999 more characters: --plain shows the whole line]" in " ".join(shown.stdout.split())


def test_list_by_date_on_a_terminal_lays_out_at_most_100k_characters_of_a_headline(cli, builder):
    """A 16M-character headline in list-by-date's table: rich's layout of a cell is quadratic in its
    text (8M took 23 s); a terminal gets 100,000 characters and the count of the rest."""
    n = 4_000_000
    builder.write("news/2017/08/1/huge.md", f"{HEAD}# {'aaa ' * n}\n\nText.\n")
    builder.write("news/2017/08/1/index.md", "# 2017-08-01\n\n1. [Huge](/news/2017/08/1/huge.md)\n")
    root = str(builder.root)
    shown = cli("list-by-date", "2017-08-01", "--archive", root, "--pretty", env={"NO_COLOR": "1"})
    assert shown.exit_code == 0
    words = shown.stdout.split()
    cut = words.index("…")
    assert words[:cut].count("aaa") == 25_000 and words[cut - 1] == "aaa"  # the sources column shares the first line
    more = 4 * n - 1 - 100_000  # the headline is stripped of its last space
    assert " ".join(words[cut:]).startswith(f"… [{more:,} more characters: --plain shows the whole headline]")
    plain = cli("list-by-date", "2017-08-01", "--archive", root, "--plain")
    assert plain.stdout.split("\t")[2] == ("aaa " * n).strip()
