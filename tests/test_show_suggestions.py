"""A slug that matches nothing gets the close ones offered, as validate-links offers them for links."""

from __future__ import annotations

import pytest

from newsarc.suggest import close_slugs

HARVEY = "news/2017/08/25/hurricane-harvey-makes-landfall-near-rockport-texas.md"
RECORD = "news/2017/08/29/harvey-sets-a-record-for-rainfall-from-a-single-storm.md"
ECLIPSE = "news/2017/08/21/a-total-solar-eclipse-crosses-the-contiguous-united-states.md"


@pytest.mark.parametrize("command", ["show", "related"])
@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("hurricane-harvy-makes", [HARVEY]),  # a typo in a prefix
        ("huricane", [HARVEY]),  # a letter missing
        ("harvey-record", [RECORD]),  # words of the slug, not its start
    ],
)
def test_close_slugs_offered(cli, builder, command, typed, offered):
    for path in (HARVEY, RECORD, ECLIPSE):
        date = "-".join(path.split("/")[1:4])
        builder.event(date, path.rsplit("/", 1)[1][:-3].replace("-", " ").capitalize())
    result = cli(command, typed, "--archive", str(builder.root))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"newsarc: no event matches '{typed}'; did you mean one of these?\n" + "".join(f"  {p}\n" for p in offered)
    )


def test_nothing_close_keeps_the_plain_message(cli, builder):
    builder.event("2017-08-21", "A total solar eclipse")
    result = cli("show", "zzzz-nothing", "--archive", str(builder.root))
    assert result.exit_code == 2
    assert result.stderr == (
        "newsarc: no event matches 'zzzz-nothing'; give a file path, a /news/... link, or a slug (see newsarc search)\n"
    )


def test_close_slugs_ranks_typos_first_and_caps():
    slugs = [f"syrian-army-retakes-palmyra-{i}" for i in range(9)] + ["palmira-falls"]
    paths = [f"news/{s}.md" for s in slugs]
    assert close_slugs("palmyra-falls", paths, slugs) == ["news/palmira-falls.md"]
    assert len(close_slugs("palmyra-syrian", paths, slugs)) == 5
