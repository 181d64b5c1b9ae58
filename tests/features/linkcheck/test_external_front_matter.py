"""`--external` checks the URLs of front matter `sources:` where they are written.

The parser turns each URL of `sources:` into a link (role source) at its line
and column in the front matter block; these tests drive a real HTTP server on
127.0.0.1 (test_external's) through the CLI, in-process and as a subprocess.
"""

from __future__ import annotations

import json

import pytest

from newsarc.index import cache
from newsarc.features.linkcheck import external
from newsarc.archive import Archive
from newsarc.features.linkcheck.external import Location
from newsarc.model import SOURCE
from newsarc.reading.parser import parse_text
from tests.conftest import event_text, run_newsarc
from tests.features.linkcheck.test_external import external_args, server  # noqa: F401 - `server` is a fixture

ONE = "news/2017/08/1/one.md"
TWO = "news/2017/08/2/two.md"


@pytest.fixture
def fm_archive(builder, server):  # noqa: F811
    """Front matter sources as plain strings (One) and as mappings (Two), each with a live and a dead URL."""
    u = server.url
    builder.event(
        "2017-08-01",
        "One",
        front_matter=f"sources:\n  - {u('/ok')}\n  - {u('/404/plain')}",
        sources=[("Wire", u("/ok/list"))],
    )
    builder.event(
        "2017-08-02",
        "Two",
        front_matter=f'sources:\n  - url: {u("/ok")}\n    title: Wire\n  - {{name: Gone, href: "{u("/404/mapping")}"}}',
        sources=[("Wire", u("/ok/list"))],
    )
    return builder.root


def expected_dead(server) -> list[str]:  # noqa: F811
    u = server.url
    return [
        f"{ONE}:4:5: error: dead link {u('/404/plain')}: 404 Not Found [dead-url]",
        f"{TWO}:5:25: error: dead link {u('/404/mapping')}: 404 Not Found [dead-url]",
    ]


def test_cli_reports_a_dead_front_matter_source_where_it_is_written(cli, fm_archive, server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(fm_archive)
    result = cli(*external_args(fm_archive, tmp_path, "--format", "text"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == expected_dead(server)
    assert result.stderr.splitlines()[-1] == "newsarc: external: 4 URLs: 2 dead, 0 malformed, 0 moved permanently, 2 ok"
    assert sorted(p for _, p in server.requests()) == ["/404/mapping", "/404/plain", "/ok", "/ok/list"]


def test_subprocess_reports_the_same(fm_archive, server, tmp_path):  # noqa: F811
    result = run_newsarc(*external_args(fm_archive, tmp_path, "--format", "text"), cwd=fm_archive)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == expected_dead(server)
    assert "2 dead, 0 malformed, 0 moved permanently, 2 ok" in result.stderr


def test_live_front_matter_source_is_ok_at_both_places(fm_archive, server, tmp_path):  # noqa: F811
    site = Archive.open(fm_archive, cache_dir=tmp_path / "index").load()
    urls = external.collect(site.events)
    live = server.url("/ok")
    assert urls[live] == [Location(ONE, 3, 5, SOURCE), Location(TWO, 3, 10, SOURCE)]
    report = external.check(urls, external.CheckOptions(timeout=2.0, retries=0))
    verdicts = {r.url: (r.kind, r.status) for r in report.results}
    assert verdicts[live] == (external.OK, 200)
    assert verdicts[server.url("/404/plain")] == (external.DEAD, 404)


def test_events_sent_back_by_parsing_workers_keep_the_front_matter_links(fm_archive, server, tmp_path):  # noqa: F811
    """archive.parse_files' workers send events as cache.encode's tuples: the front matter's links survive."""
    loaded = external.collect(Archive.open(fm_archive, use_cache=False).load().events)
    assert len(loaded) == 4
    event = parse_text((fm_archive / ONE).read_text(), ONE)
    again = cache.decode(cache.encode(event))
    assert again.links == event.links and again.sources == event.sources


def test_a_url_in_front_matter_and_source_list_is_requested_once_and_reported_twice(builder, cli, server, tmp_path, monkeypatch):  # noqa: F811
    dead = server.url("/404/twice")
    builder.event("2017-08-03", "Twice", front_matter=f"sources:\n  - {dead}", sources=[("Gone", dead)])
    monkeypatch.chdir(builder.root)
    result = cli(*external_args(builder.root, tmp_path, "--format", "text"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"news/2017/08/3/twice.md:3:5: error: dead link {dead}: 404 Not Found [dead-url]",
        f"news/2017/08/3/twice.md:14:4: error: dead link {dead}: 404 Not Found [dead-url]",
    ]
    assert server.requests("/404/twice") == [("HEAD", "/404/twice")]
    records = [json.loads(line) for line in cli(*external_args(builder.root, tmp_path, "--json")).stdout.splitlines()]
    found = [r for r in records if r.get("kind") == "dead-url"]
    assert [(r["line"], r["column"], r["also"]) for r in found] == [
        (3, 5, [{"path": "news/2017/08/3/twice.md", "line": 14, "column": 4}])
    ]


def test_offline_validate_links_counts_them_as_external_and_reports_nothing(cli, fm_archive, server, monkeypatch):  # noqa: F811
    monkeypatch.chdir(fm_archive)
    result = cli("validate-links", "--archive", str(fm_archive), "--format", "text")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    summary = json.loads(cli("validate-links", "--archive", str(fm_archive), "--json").stdout.splitlines()[-1])
    assert (summary["errors"], summary["warnings"]) == (0, 0)
    assert summary["external_not_checked"] == 6  # 2 + 2 in front matter, 2 in the Source lists
    assert server.log == []


def test_parser_places_front_matter_sources_and_falls_back_to_the_first_line():
    text = event_text(
        "2017-08-04",
        "Escaped",
        front_matter='title: Escaped\nsources:\n  - "https://example.com/\\x65"\n  - Reuters\n  - mailto:desk@example.com',
    )
    event = parse_text(text, "news/2017/08/4/escaped.md")
    front = [(k.target, k.line, k.column, k.role, k.dest_start) for k in event.links if k.line < 7]
    assert front == [
        ("https://example.com/e", 1, 1, SOURCE, -1),  # YAML unescaped it: not written verbatim anywhere
        ("mailto:desk@example.com", 6, 5, SOURCE, text.encode().index(b"mailto:")),
    ]
    assert [(s.publisher, s.line, s.column) for s in event.sources][1:] == [
        ("https://example.com/e", 1, 1),
        ("Reuters", 5, 5),  # a source that is not a URL stays a source, never a link
        ("mailto:desk@example.com", 6, 5),
    ]


def test_both_parsers_agree_on_front_matter_sources():
    from newsarc.reading import fastpath
    from newsarc.model import Event
    from tests.reading.test_fastpath import agree

    text = event_text("2017-08-05", "Agree", front_matter="sources:\n  - https://example.com/a\n  - url: https://example.com/b")
    agree(text, "news/2017/08/5/agree.md")  # asserts both paths build the same Event
    head, markdown = text.split("---\n", 2)[1:]
    assert fastpath.parse(Event(path="x.md"), markdown, len(head) + 8, 6) is not None  # the fast path took it
