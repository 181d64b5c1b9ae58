"""Pointed at a folder inside the archive, list-by-date says what it read when it finds nothing."""

from __future__ import annotations

from tests.conftest import run_newsarc


def test_nothing_found_inside_a_year_folder_says_only_that_year_was_read(builder):
    builder.event("2016-04-03", "An event of 2016")
    builder.event("2017-08-21", "An event of 2017")
    inside = run_newsarc("list-by-date", "2016", cwd=builder.root / "news" / "2017")
    assert inside.returncode == 1
    assert inside.stderr == (
        "newsarc: no events in 2016; nearest dates with events: 2017-08-21"
        f" (only news/2017/ was read; pass --archive {builder.root} for the whole archive)\n"
    )
    whole = run_newsarc("list-by-date", "2015", cwd=builder.root / "news")
    assert whole.stderr == "newsarc: no events in 2015; nearest dates with events: 2016-04-03\n"
