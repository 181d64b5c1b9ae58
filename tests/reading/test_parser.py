"""The parser against every element of FORMAT.md and every kind of damage."""

from __future__ import annotations

import pytest

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.model import BODY, COVER, DATE, IMAGE, RELATED, SOURCE
from newsarc.reading.parser import parse_bytes, parse_text, split_topics
from tests.conftest import EXAMPLES, SAMPLE

SAMPLE_PATH = SAMPLE.relative_to(EXAMPLES).as_posix()


def sample():
    return parse_bytes(SAMPLE.read_bytes(), SAMPLE_PATH)


def test_sample_date_title_body():
    event = sample()
    assert event.date == dt.date(2016, 3, 27)
    assert event.date_source == "line"
    assert event.title.startswith("The Syrian Army, supported by Russian air power, recaptures")
    assert event.title.endswith("nearly ten months of militant rule.")  # trailing space dropped
    assert "killed the site's retired chief archaeologist. Syria's antiquities chief" in event.body  # &#x27; decoded
    assert "Syria&#x27;s antiquities" in event.body_raw  # raw kept for --raw
    assert event.body.endswith("could be restored.")
    assert event.body_line == 5
    assert event.diagnostics == []


def test_sample_sources_and_cover_kept_apart():
    event = sample()
    assert [(s.publisher, s.domain) for s in event.sources] == [("BBC News", "bbc.co.uk"), ("Reuters", "reuters.com")]
    assert event.cover.startswith("https://ichef.bbci.co.uk/news/976/")
    assert event.cover.endswith("_26368210_syria-palmyra-recapt.jpg")


def test_sample_related_with_topics():
    event = sample()
    assert len(event.related) == 6
    first = event.related[0]
    assert first.title == (
        "Vladimir Putin orders the main part of Russia's military contingent in Syria to begin withdrawing,"
        " saying the mission's objectives have largely been achieved."
    )
    assert first.target.startswith("/news/2016/03/14/vladimir-putin-orders-the-main-part")
    assert first.topics == ["Russia", "Syrian Civil War"]
    assert (first.line, first.column) == (16, 4)
    assert event.related[-1].topics == ["Homs Governorate", "ISIL", "Palmyra", "Russia", "Syrian Army", "Syrian Civil War"]
    assert event.topics == ["Russia", "Syrian Civil War", "Homs Governorate", "ISIL", "Syrian Army", "Palmyra"]


def test_sample_every_link_with_role_and_position():
    event = sample()
    roles = [link.role for link in event.links]
    assert roles == [DATE, SOURCE, SOURCE, COVER] + [RELATED] * 6
    date_link = event.links[0]
    assert (date_link.target, date_link.line, date_link.column) == ("/news/2016/03/27/index.md", 1, 5)
    raw = SAMPLE.read_bytes()
    for link in event.links:
        assert raw[link.dest_start : link.dest_end].decode() == link.target
        assert raw[link.start : link.start + 1] == b"["


def test_topics_with_commas_stay_whole():
    assert split_topics("Faroese general election, 2015, Faroe Islands") == [
        "Faroese general election, 2015",
        "Faroe Islands",
    ]
    assert split_topics("Solar eclipse of August 21, 2017, Eclipses") == ["Solar eclipse of August 21, 2017", "Eclipses"]
    assert split_topics("Washington, D.C., Politics") == ["Washington, D.C.", "Politics"]
    assert split_topics("Russia,  Syrian Army ,") == ["Russia", "Syrian Army"]
    assert split_topics("1995 Burundi earthquake, 2000 Finland earthquake") == [
        "1995 Burundi earthquake",
        "2000 Finland earthquake",
    ]
    assert split_topics("NBA season, 2015–16, Sport") == ["NBA season, 2015–16", "Sport"]


def test_every_commonmark_link_form_and_non_links():
    text = (
        "### [2017-08-13](/news/2017/08/13/index.md)\n\n# Title\n\n"
        'Inline [a](/news/a.md "A title"), angle [b](</news/b c.md>), ref [c][r], collapsed [r][],\n'
        "encoded [d](/news/d%20e.md#Some-Heading), code `[x](/news/x.md)`, escaped \\[y](/news/y.md),\n"
        "<!-- [z](/news/z.md) -->\n\n```\n[w](/news/w.md)\n```\n\n[r]: /news/ref.md\n"
    )
    event = parse_text(text, "news/2017/08/13/t.md")
    body = [(link.target, link.line, link.column) for link in event.links if link.role == BODY]
    assert body == [
        ("/news/a.md", 5, 8),
        ("/news/b c.md", 5, 41),
        ("/news/ref.md", 5, 66),
        ("/news/ref.md", 5, 84),
        ("/news/d%20e.md#Some-Heading", 6, 9),
    ]
    raw = text.encode()
    ref = [link for link in event.links if link.label == "r"][0]
    assert raw[ref.dest_start : ref.dest_end] == b"/news/ref.md"
    angle = [link for link in event.links if link.target == "/news/b c.md"][0]
    assert raw[angle.dest_start : angle.dest_end] == b"/news/b c.md"


def test_srcset_lists_one_image_link_per_candidate():
    """lychee reads srcset too; each URL is an image link where it is written (lychee places them all at
    the value's start). By the HTML standard a URL is a run without white space: a comma inside it
    belongs to it, and only trailing commas or a comma after the descriptors end it."""
    text = (
        "# Title\n\n"
        '<img src="/img/a.png" srcset="/img/s.png 1x, /img/b.png 2x">\n\n'
        'Inline <img srcset="  /img/pad.png  2x ,/img/x,y.png,, /img/&amp;.png 3x"> here.\n'
    )
    event = parse_text(text, "news/2017/08/13/t.md")
    raw = text.encode()
    found = [(link.role, link.target, link.line, link.column) for link in event.links]
    assert found == [
        (IMAGE, "/img/a.png", 3, 11),
        (IMAGE, "/img/s.png", 3, 31),
        (IMAGE, "/img/b.png", 3, 46),
        (IMAGE, "/img/pad.png", 5, 21),  # the value holds an entity: every URL is placed at its start
        (IMAGE, "/img/x,y.png", 5, 21),
        (IMAGE, "/img/&.png", 5, 21),
    ]
    for link in event.links[:3]:
        assert raw[link.dest_start : link.dest_end].decode() == link.target
    assert all(link.dest_start == -1 for link in event.links[3:])  # not offered to --fix


def test_images_and_html_links_are_links_too():
    """lychee checks images and raw HTML href/src; validate-links reads them as links (role image for
    what a page embeds), never as sources or related items, and their alt text stays body text."""
    text = (
        "### [2017-08-13](/news/2017/08/13/index.md)\n\n# Title\n\n"
        'See ![a map](/img/map.png "Map") and [![logo](/img/logo.png)](/news/a.md), ![ref][pic],\n'
        'an <a href="/news/b.md">anchor</a>, <A HREF=\'/news/c&amp;d.md\'>caps</A> <!-- <a href="/news/no.md"> -->\n\n'
        '<div>\n<img alt="é>" src = /img/é.png>\n</div>\n\n'
        "[pic]: /img/ref.png\n\n### Source:\n\n1. ![icon](/img/ap.png) [AP](https://apnews.com/x)\n"
    )
    event = parse_text(text, "news/2017/08/13/t.md")
    found = [(link.role, link.target, link.line, link.column) for link in event.links if link.role != DATE]
    assert found == [  # where lychee --offline places each (the same lines and columns)
        (IMAGE, "/img/map.png", 5, 5),
        (IMAGE, "/img/logo.png", 5, 39),
        (BODY, "/news/a.md", 5, 38),
        (IMAGE, "/img/ref.png", 5, 76),
        (BODY, "/news/b.md", 6, 13),
        (BODY, "/news/c&d.md", 6, 46),
        (IMAGE, "/img/é.png", 9, 21),  # lychee says 9:22: it counts bytes, we count characters
        (IMAGE, "/img/ap.png", 16, 4),
        (SOURCE, "https://apnews.com/x", 16, 25),
    ]
    assert [s.url for s in event.sources] == ["https://apnews.com/x"]
    assert "a map" in event.body and "anchor" in event.body
    raw = text.encode()
    for link in event.links:
        if link.target == "/news/c&d.md":
            assert link.dest_start == -1  # written with an entity: not rewritten by --fix
        else:
            assert raw[link.dest_start : link.dest_end].decode() == link.target
    image = event.links[1]
    assert (image.text, raw[image.start : image.end]) == ("a map", b'![a map](/img/map.png "Map")')


def test_front_matter_supplements_and_keeps_unknown_keys():
    text = (
        "---\ntitle: Better title\ndate: 2015-09-16\ntags: [Burkina Faso, Coups]\neditor_note: kept\n---\n"
        "### [2015-09-16](/news/2015/09/16/index.md)\n\n# Body title \n\nText.\n"
    )
    event = parse_text(text, "news/2015/09/16/x.md")
    assert event.title == "Better title"
    assert event.date == dt.date(2015, 9, 16)
    assert event.topics == ["Burkina Faso", "Coups"]
    assert event.meta["editor_note"] == "kept"
    assert event.links[0].line == 7  # positions count the front matter lines
    assert event.diagnostics == []


def test_invalid_yaml_is_a_diagnostic_with_line():
    text = "---\ntitle: ok\nbad: [unclosed\n---\n# Title\n\nBody.\n"
    event = parse_text(text, "news/2015/09/16/x.md")
    assert event.title == "Title"
    messages = [str(d) for d in event.diagnostics]
    assert any(m.startswith("news/2015/09/16/x.md:") and "not valid YAML" in m for m in messages)


@pytest.mark.parametrize("value", ["date: 2019-02-30", "when: 2019-13-01", "at: 2019-01-01 25:00:00"])
def test_a_yaml_value_python_cannot_hold_is_a_diagnostic_with_line(value):
    """Valid YAML whose value is no real date: one diagnostic at its line, the rest of the file read."""
    event = parse_text(f"---\ntitle: Front\n{value}\n---\n# Title\n\nBody.\n", "news/2019/02/27/x.md")
    assert event.title == "Title" and event.body == "Body."
    assert [(d.line, d.message.split(" (")[0]) for d in event.diagnostics] == [(3, "front matter has a value that cannot be read")]


def test_front_matter_list_instead_of_mapping():
    event = parse_text("---\n- a\n- b\n---\n# T\n", "news/2015/09/16/x.md")
    assert [d.message for d in event.diagnostics] == ["front matter is a list, not a mapping of keys; ignored"]


def test_date_order_line_then_front_matter_then_folder():
    folder_only = parse_text("# Title\n\nBody\n", "news/2016/04/3/x.md")
    assert (folder_only.date, folder_only.date_source) == (dt.date(2016, 4, 3), "folder")
    fm = parse_text("---\ndate: 2016-04-05\n---\n# Title\n", "news/2016/04/3/x.md")
    assert (fm.date, fm.date_source) == (dt.date(2016, 4, 5), "front matter")
    assert [d.message for d in fm.diagnostics] == [
        "date mismatch: front matter says 2016-04-05, folder says 2016-04-03"
    ]


def test_date_line_disagreeing_with_folder():
    text = "### [2017-08-14](/news/2017/08/14/index.md)\n\n# T\n"
    event = parse_text(text, "news/2017/08/13/x.md")
    assert event.date == dt.date(2017, 8, 14)
    assert [str(d) for d in event.diagnostics] == [
        "news/2017/08/13/x.md:1: date mismatch: line says 2017-08-14, folder says 2017-08-13"
    ]


def test_impossible_date_line():
    event = parse_text("### [2017-02-30](/news/2017/02/30/index.md)\n\n# T\n", "news/x.md")
    assert event.date is None
    assert "date line '2017-02-30' is not a valid date" in [d.message for d in event.diagnostics]


def test_damaged_files_never_raise():
    cases = {
        b"": "empty file",
        b"   \n\n\t\n": "empty file",
        b"\x00\x01\x02binary": "binary file (contains NUL bytes); skipped",
    }
    for data, message in cases.items():
        event = parse_bytes(data, "news/2017/08/13/x.md")
        assert message in [d.message for d in event.diagnostics]


def test_invalid_utf8_reports_line_and_keeps_rest():
    data = b"### [2017-08-13](/news/2017/08/13/index.md)\n\n# Caf\xe9 news\n\nBody\n"
    event = parse_bytes(data, "news/2017/08/13/x.md")
    assert event.title == "Caf\ufffd news"
    assert [(d.line, d.message) for d in event.diagnostics][0] == (
        3,
        "invalid UTF-8 (byte 0xe9); undecodable bytes shown as \ufffd",
    )


def test_bom_crlf_and_utf16():
    text = "### [2017-08-13](/news/2017/08/13/index.md)\r\n\r\n# Title \r\n\r\nBody &amp; more\r\n"
    bom = parse_bytes(b"\xef\xbb\xbf" + text.encode(), "news/2017/08/13/x.md")
    assert (bom.date, bom.title, bom.body) == (dt.date(2017, 8, 13), "Title", "Body & more")
    assert bom.diagnostics == []
    utf16 = parse_bytes(text.encode("utf-16"), "news/2017/08/13/x.md")
    assert utf16.title == "Title"
    assert [d.message for d in utf16.diagnostics] == ["file is UTF-16; read it, but save it as UTF-8"]


def test_sections_in_other_order_and_extra_sections():
    text = (
        "# Title\n\n### Related:\n\n1. [Other ](/news/2017/08/12/o.md) _Context: A_\n\n"
        "### Notes:\n\nAn editor's note.\n\n### Source:\n\n1. [AP](https://apnews.com/x)\n"
    )
    event = parse_text(text, "news/2017/08/13/x.md")
    assert [r.target for r in event.related] == ["/news/2017/08/12/o.md"]
    assert [s.publisher for s in event.sources] == ["AP"]
    assert event.sections == {"Notes": "An editor's note."}
    assert "no date" not in " ".join(d.message for d in event.diagnostics)


def test_missing_everything_is_reported_not_raised():
    event = parse_text("just some words\n", "loose/x.md")
    assert event.body == "just some words"
    messages = [d.message for d in event.diagnostics]
    assert "no headline ('# ...' line)" in messages
    assert "no date: no date line, front matter date or dated folder" in messages


def test_related_item_without_link():
    event = parse_text("# T\n\n### Related:\n\n1. nothing here\n", "news/2017/08/13/x.md")
    assert [(d.line, d.message) for d in event.diagnostics] == [(5, "related item without a link")]


def test_day_page_is_marked():
    page = parse_text("# 2017-08-13\n\n1. [A ](/news/2017/08/13/a.md)\n", "news/2017/08/13/index.md")
    assert page.is_day_page
    assert [link.target for link in page.links] == ["/news/2017/08/13/a.md"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parser_never_raises_on_text(text):
    event = parse_text(text, "news/2017/08/13/x.md")
    for link in event.links:
        assert link.line >= 0


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_parser_never_raises_on_bytes(data):
    parse_bytes(data, "news/2017/08/13/x.md")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8})?", fullmatch=True), min_size=1, max_size=5))
def test_topic_lists_round_trip(topics):
    assert split_topics(", ".join(topics)) == topics


def test_yaml_alias_bomb_is_refused_quickly():
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    event = parse_text("---\n" + "\n".join(rows) + "\n---\n# T\n", "news/2017/08/13/x.md")
    assert event.meta == {}
    assert "front matter expands to over 10,000 values (YAML aliases?); ignored" in [d.message for d in event.diagnostics]
    assert event.title == "T"
