"""Rich screens at 60, 100 and 160 columns: each event leads on (its slug is shown, its headline
links to its file) and nothing that must stay whole wraps."""

from __future__ import annotations

import re

import pytest

from tests.conftest import EXAMPLES

ANSI = re.compile(r"\x1b\[[0-9;]*m")
OSC8 = re.compile(r"\x1b\]8;[^;]*;([^\x1b]*)\x1b\\")
ECLIPSE = "a-total-solar-eclipse-crosses-the-contiguous-united-states-from-oregon-to-south-carolina-the-first-coast-to-coast-totality-since-1918"
HARVEY = "hurricane-harvey-makes-landfall-near-rockport-texas-as-a-category-4-storm-the-strongest-to-hit-the-united-states-since-2004"


def screen(cli, width: int, *args: str) -> tuple[list[str], list[str]]:
    """The lines as a terminal shows them, and the OSC 8 link targets in them."""
    out = cli(*args, "--pretty", "-a", str(EXAMPLES), env={"COLUMNS": str(width)}).stdout
    links = [url for url in OSC8.findall(out) if url]
    return ANSI.sub("", OSC8.sub("", out)).splitlines(), links


def slug_lines(lines: list[str], slug: str) -> list[str]:
    return [line for line in lines if slug[:30] in line]


@pytest.mark.parametrize("width", [60, 100, 160])
def test_list_by_date_shows_slugs_and_links_headlines(cli, width):
    lines, links = screen(cli, width, "list-by-date", "2017-08-21")
    shown = slug_lines(lines, ECLIPSE)
    assert len(shown) == 1  # cropped, never wrapped onto a second line
    start = shown[0].strip().split()[0]
    assert ECLIPSE.startswith(start) and len(start) >= min(40, width // 3)
    assert any(url.endswith(f"/news/2017/08/21/{ECLIPSE}.md") and url.startswith("file:///") for url in links)
    assert all(len(line) <= width for line in lines)
    assert any("3 sources" in line for line in lines)


@pytest.mark.parametrize("width", [60, 100, 160])
def test_timeline_shows_slugs_and_links_headlines(cli, width):
    lines, links = screen(cli, width, "timeline", "harvey")
    shown = slug_lines(lines, HARVEY)
    assert len(shown) == 1
    assert HARVEY.startswith(shown[0].split("│")[-1].strip())
    assert any(url.endswith(f"{HARVEY}.md") for url in links)
    assert all(len(line) <= width for line in lines)


def test_narrow_list_keeps_topics_whole(cli):
    """At 60 columns a topics column of its own shrank to a word a line."""
    lines, _ = screen(cli, 60, "list-by-date", "2017-08-21")
    assert any("Solar eclipse of August 21, 2017; United States" in line for line in lines)


def test_no_color_means_no_links_either(cli):
    out = cli("list-by-date", "2017-08-21", "--pretty", "-a", str(EXAMPLES), env={"NO_COLOR": "1"}).stdout
    assert "\x1b" not in out
    assert ECLIPSE[:40] in out


@pytest.mark.parametrize("width", [60, 100, 160])
def test_validate_links_suggestion_is_never_an_arrow_alone(cli, builder, width):
    builder.event("2017-08-21", "California's grid operator handles a sharp drop in solar output without disruptions")
    builder.event("2017-08-22", "Eclipse seen", body="See [it](/news/2017/08/21/california-s-grid-operator-handles-a-sharp-drop-in-solar-output-without-disruption.md).")
    out = cli("validate-links", "--format", "rich", "--archive", str(builder.root), env={"COLUMNS": str(width)}).stdout
    lines = ANSI.sub("", OSC8.sub("", out)).splitlines()
    arrows = [line for line in lines if "→" in line]
    assert len(arrows) == 1 and arrows[0].strip().startswith("→ /news/2017/08/21/california-s-grid")
    indent = len(arrows[0]) - len(arrows[0].lstrip())
    assert indent >= 12  # under the message, not back at the margin
    assert all(len(line) <= width for line in lines)
    assert "close slug" in " ".join(line.strip() for line in lines)


RECORD = "harvey-sets-a-record-for-rainfall-from-a-single-storm-in-the-continental-united-states-with-more-than-51-inches-measured-near-housto"
FLOOD = "catastrophic-flooding-inundates-houston-as-harvey-stalls-over-southeast-texas-thousands-of-people-are-rescued-from-rooftops-and-flooded-homes"


@pytest.mark.parametrize("width", [60, 100, 160])
@pytest.mark.parametrize("view", [[], ["--timeline"], ["--depth", "1"]], ids=["ranked", "timeline", "depth"])
def test_related_views_show_slugs_scores_first_and_link_headlines(cli, width, view):
    lines, links = screen(cli, width, "related", "harvey-sets-a-record", *view)
    assert len(slug_lines(lines, FLOOD)) == 1
    assert any(url.endswith(f"{FLOOD}.md") for url in links)
    flood = next(i for i, line in enumerate(lines) if "Catastrophic flooding" in line)
    assert "3.13" in lines[flood] and lines[flood].index("3.13") < lines[flood].index("2017-08-27")  # score, then date
    assert all(len(line) <= width for line in lines)


def test_narrow_list_separates_events_of_one_day(cli):
    """Below 90 columns each event is a block of lines; a blank line keeps two of one day apart."""
    lines, _ = screen(cli, 60, "list-by-date", "2017-08-21")
    sources = [i for i, line in enumerate(lines) if line.rstrip().endswith(("source", "sources"))]
    assert len(sources) == 3
    assert all(lines[i + 1].strip() == "" for i in sources)


@pytest.mark.parametrize("width", [60, 100])
def test_show_related_topics_go_under_the_headline_below_120_columns(cli, width):
    lines, links = screen(cli, width, "show", "soldiers-of-the-presidential-guard")
    related = lines[next(i for i, line in enumerate(lines) if line.startswith("Related (")) :]
    related = related[: next(i for i, line in enumerate(related) if line.startswith("Linked from"))]
    assert any("Regiment of Presidential Security" in line for line in related)  # not a word a line
    assert any("burkina-faso-s-presidential-guard-announces" in line for line in lines)  # the slug to pass on
    assert any(url.endswith("-announces-on-state-television-that-the-transitional-government-has-been-dissolved-and-that-a-national-council-for-de.md") for url in links)
    assert all(len(line) <= width for line in lines)
