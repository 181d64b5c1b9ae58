"""A slug that matches nothing gets the close ones offered, as validate-links offers them for links."""

from __future__ import annotations

import pytest

from newsarc.features.suggest import close_slugs

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


def test_an_event_skipped_for_its_size_is_named_not_missing(builder):
    from tests.conftest import run_newsarc

    builder.event("2017-08-21", "A total solar eclipse")
    builder.write("news/2017/08/21/huge-event.md", "### [2017-08-21](/news/2017/08/21/index.md)\n\n# Huge\n\n" + "word " * 30000)
    done = run_newsarc("show", "huge-event", env={"NEWSARC_MAX_FILE_SIZE": "64k"}, cwd=builder.root)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "newsarc: news/2017/08/21/huge-event.md: file is 0.1 MB, over the 64 KB limit; its content is skipped"
        " (set NEWSARC_MAX_FILE_SIZE to read it)",
        "newsarc: 'huge-event' is news/2017/08/21/huge-event.md, which was not read (the reason is on the line above)",
    ]
