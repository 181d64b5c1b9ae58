"""validate-links --fix on hostile or changing archives: it writes only the file it read and checked."""

from __future__ import annotations

# -- --fix-fuzzy must leave a link that validates ---------------------------------------------------------


def test_fuzzy_fix_is_not_applied_when_the_close_slug_lacks_the_heading(builder, cli, monkeypatch):
    builder.event("2017-08-05", "Target event", body="## Heading on\n\nText.")
    builder.event("2017-08-06", "Other event")
    links = "[a](/news/2017/08/5/target-evnt.md#heading-on) [b](/news/2017/08/6/other-evnt.md#heading-on)"
    builder.event("2017-08-13", "Source event", body=links)
    root = builder.root
    monkeypatch.chdir(root)
    source = root / "news/2017/08/13/source-event.md"
    result = cli("validate-links", "--fix-fuzzy", "--format", "text", "--archive", str(root))
    assert "fixed 1 links in 1 files" in result.stderr
    assert "[a](/news/2017/08/5/target-event.md#heading-on) [b](/news/2017/08/6/other-evnt.md#heading-on)" in source.read_text()
    after = cli("validate-links", "--format", "text", "--archive", str(root))
    problems = [line for line in after.stdout.splitlines() if line.startswith("news/2017/08/13/source-event.md")]
    assert problems == [
        "news/2017/08/13/source-event.md:5:49: error: missing file: /news/2017/08/6/other-evnt.md; did you mean "
        "/news/2017/08/6/other-event.md#heading-on (close slug)? [missing-file]"
    ]
