"""An empty .md file in a day folder is no event: validate-links names it; nothing lists it with a blank headline."""

from __future__ import annotations

import pytest

from tests.conftest import run_newsarc


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["index", "no-index"])
@pytest.mark.parametrize("when", ["2017-08-21", "2017"])  # a day reads its folder; a year may read the index
def test_empty_file_is_reported_not_listed(builder, cache, when):
    builder.event("2017-08-21", "An eclipse crosses America")
    builder.write("news/2017/08/21/empty.md", "")
    done = run_newsarc(*cache, "list-by-date", when, "--archive", str(builder.root))
    assert done.returncode == 0
    assert [line.split("\t")[1].rsplit("/", 1)[1] for line in done.stdout.splitlines()] == ["an-eclipse-crosses-america.md"]


def test_validate_links_still_names_it(builder):
    builder.event("2017-08-21", "An eclipse crosses America")
    builder.write("news/2017/08/21/empty.md", "")
    done = run_newsarc("validate-links", "--format", "text", "--archive", str(builder.root))
    assert "news/2017/08/21/empty.md: warning: empty file [unparsed]" in done.stdout
