"""Costs linear in the input: item 5 of the "Hostile archives" issue.

Each test feeds one hostile input at a size that takes about a second when the
cost is linear and minutes when it is quadratic (as it was), and checks the
exact answer. No test times anything: a quadratic cost shows as a test that
does not finish. bench/scaling.py measures the same inputs at 1x and 10x.
"""

from __future__ import annotations

from newsarc.archive import day_page_targets, link_targets
from newsarc.model import BODY, DATE, RELATED, Event, Link
from newsarc.parser import parse_text

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
