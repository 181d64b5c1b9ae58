"""Hostile archives, items 7 and 8: index files that are not files, dates dateutil would guess,
damage to what the index stores, and link fragments that name HTML anchors or heading ids.

Everything runs for real: archives in tmp_path, the CLI in-process (CliRunner)
and as a subprocess with a timeout, so a command that blocks fails its test
instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsarc.index.store import Store
from tests.conftest import ArchiveBuilder

TITLE = "Floods on the Amazonas displace thousands"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """newsarc as a subprocess that may not hang: 30 s, then the test fails (TimeoutExpired)."""
    full = {**os.environ, "COLUMNS": "100", "NEWSARC_WORKERS": "1", **env}
    full.pop("NEWSARC_ARCHIVE", None)
    return subprocess.run([sys.executable, "-m", "newsarc", *args], env=full, capture_output=True, text=True, timeout=30)


@pytest.fixture
def site(builder: ArchiveBuilder) -> Path:
    later = builder.event("2017-08-14", "Rains stop in the basin", body="Water levels fell.")
    builder.event("2017-08-13", TITLE, body="The river rose overnight.", related=[("Rains stop", later, ["Amazonas"])])
    return builder.root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}


def _store_file(env: dict[str, str]) -> Path:
    (found,) = (Path(env["NEWSARC_CACHE_DIR"]) / "index").glob("*.store")
    return found


def _show(site: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run("show", "floods-on-the-amazonas", "--json", "-a", str(site), env=env)


# The store (index/store.py) as a command used it, in a subprocess that may not hang: no command builds
# it since stats moved onto the catalogue (features/stats.py), so these tests drive it through the
# library, its problems reported by the CLI's own rules (cli/errors.py, cli/options.say).
_STORE = """
import json, sys
from pathlib import Path
from newsarc.archive import Archive
from newsarc.cli.errors import exit_status
from newsarc.cli.options import say
try:
    site = Archive.open(Path(sys.argv[1]), cache_dir=Path(sys.argv[2]), use_cache=sys.argv[3] == "1", text=False)
    site.notice = say
    if sys.argv[4] == "records":
        print(json.dumps([e.to_dict() for e in site.decoded(site.every_file())], sort_keys=True, default=str))
    else:
        from newsarc.features.links import validate
        from newsarc.features.overview import all_topics
        topics = [(t.name, t.count) for t in all_topics(site).values()]
        print(json.dumps([topics, [(f.path, f.kind) for f in validate(site).findings]]))
except BaseException as exc:
    sys.exit(exit_status(exc))
"""


def _store(site: Path, env: dict[str, str], what: str = "records") -> subprocess.CompletedProcess:
    """`records`: every file's record decoded from the store (built first if needed); `memos`: the
    answers the store keeps beside it (answers.py: topic groups, validate-links' folder checks)."""
    full = {**os.environ, "NEWSARC_WORKERS": "1", **env}
    cache, use = env.get("NEWSARC_CACHE_DIR", ""), "0" if env.get("NEWSARC_NO_CACHE") == "1" else "1"
    return subprocess.run([sys.executable, "-c", _STORE, str(site), cache, use, what], env=full, capture_output=True,
                          text=True, timeout=30)


def _related(site: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Every record decoded from the store, with no answers kept beside it (its memos, removed here)."""
    for memo in (Path(env["NEWSARC_CACHE_DIR"]) / "index").glob("*.memo"):
        if memo.is_file():
            memo.unlink()
    return _store(site, env)


# -- 7. a one-bit flip in a stored record --------------------------------------------------


def test_a_bit_flipped_in_a_stored_title_is_one_clear_error_then_the_right_answer(site, env):
    """`Amazonas` -> `Alazonas` in the record's bytes: the old store decoded it and printed it (exit 0)."""
    expected = _related(site, env)
    assert expected.returncode in (0, 1), expected.stderr
    store_file = _store_file(env)
    index = Store.read(store_file)
    blobs, rows = store_file.parent / index.blob_file[0], index.at("rows")
    i = index.find("news/2017/08/13/floods-on-the-amazonas-displace-thousands.md")
    data = bytearray(blobs.read_bytes())
    at = data.find(b"Amazonas", rows[2 * i], rows[2 * i + 1])  # the event's record (the day page's names it too)
    assert at >= 0
    data[at + 1] ^= 0x01  # m -> l
    blobs.write_bytes(bytes(data))
    damaged = _related(site, env)
    assert (damaged.returncode, damaged.stdout) == (2, "")
    assert damaged.stderr == (
        "newsarc: the index cache was damaged (its rows do not read back) and has been removed; run the command again\n"
    )
    again = _related(site, env)
    assert (again.returncode, again.stdout, again.stderr) == (expected.returncode, expected.stdout, expected.stderr)


# -- 7. something other than a file at an index path ------------------------------------------


def _not_a_file(path: Path, kind: str) -> None:
    """`path` replaced by a FIFO or a folder: opening a FIFO for reading waited for a writer, forever."""
    if path.exists():
        path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
@pytest.mark.parametrize("name", ["store", "blobs"])
def test_an_index_file_that_is_not_a_file_never_blocks_and_is_named(site, env, name, kind):
    expected = _related(site, env)
    assert expected.returncode == 0 and expected.stderr == ""
    store_file = _store_file(env)
    target = store_file if name == "store" else store_file.parent / Store.read(store_file).blob_file[0]
    _not_a_file(target, kind)
    said = f"newsarc: {target} is not a regular file; remove it (until then the index is built in memory on every run)\n"
    for _ in range(2):  # answered each time, the same way; what the user made is left where it is
        found = _related(site, env)
        assert (found.returncode, found.stdout, found.stderr) == (0, expected.stdout, said)
        assert target.is_fifo() if kind == "fifo" else target.is_dir()
    target.rmdir() if kind == "folder" else target.unlink()
    assert _related(site, env).stderr == ""  # and once removed, the index is written again
    assert Store.read(_store_file(env)) is not None


def test_a_fifo_at_the_store_name_before_any_index(site, env):
    index = Path(env["NEWSARC_CACHE_DIR"]) / "index"
    clean = _store(site, {**env, "NEWSARC_NO_CACHE": "1"})
    assert not index.exists()
    from newsarc.index import cache

    store_file = cache.cache_file(Path(env["NEWSARC_CACHE_DIR"]), site.resolve(), site.resolve())
    index.mkdir(parents=True)
    os.mkfifo(store_file)
    found = _related(site, env)
    assert (found.returncode, found.stdout) == (0, clean.stdout)
    assert found.stderr == f"newsarc: {store_file} is not a regular file; remove it (until then the index is built in memory on every run)\n"


def test_a_fifo_at_a_memo_name_costs_the_work_and_nothing_else(site, env):
    """Opening it waited for a writer, forever; a folder there was already skipped."""
    kind = "fifo"
    expected = _store(site, env, "memos")
    assert expected.returncode == 0 and json.loads(expected.stdout)[0] == [["Amazonas", 1]]
    memos = sorted(_store_file(env).parent.glob("*.memo"))
    assert [m.name.split(".store.")[1] for m in memos] == ["links-folders-1.memo", "topics-1.memo"]
    for memo in memos:
        _not_a_file(memo, kind)
    for _ in range(2):
        found = _store(site, env, "memos")
        assert (found.returncode, found.stdout, found.stderr) == (expected.returncode, expected.stdout, expected.stderr)
    assert all(memo.is_fifo() if kind == "fifo" else memo.is_dir() for memo in memos)


# -- 7. --on-this-day reads a calendar day or nothing; a range needs an end ---------------------

import datetime as dt  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from newsarc.reading import dates  # noqa: E402
from newsarc.errors import BadDate  # noqa: E402

FORMS = "use MM-DD such as 08-13, or a month and a day such as 'Aug 13' or '13 August'"


@pytest.mark.parametrize(
    ("given_", "said"),
    [
        ("99", f"cannot read '99' as a calendar day; {FORMS}"),
        ("2017", f"cannot read '2017' as a calendar day; {FORMS}"),
        ("5", f"cannot read '5' as a calendar day; {FORMS}"),
        ("August", f"cannot read 'August' as a calendar day; {FORMS}"),
        ("13-08", f"'13-08' is not a calendar day: 13 is not a month; {FORMS}"),
        ("02-30", f"'02-30' is not a calendar day: February has no day 30; {FORMS}"),
        ("June 31", f"'June 31' is not a calendar day: June has no day 31; {FORMS}"),
    ],
)
def test_on_this_day_refuses_what_is_not_a_calendar_day(cli, site, given_, said):
    """dateutil's defaults made '99', '2017' and '5' mean January 1st (exit 0 or 1, a wrong answer)."""
    result = cli("list-by-date", "--on-this-day", given_, "-a", str(site))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"newsarc: {said}\n")


@pytest.mark.parametrize("given_", ["..", " .. ", "  ..  "])
def test_a_range_with_neither_end_is_refused(cli, site, given_):
    result = cli("list-by-date", given_, "-a", str(site))
    said = f"newsarc: the range '{given_}' has neither end; give at least one end: 2017.. or ..2016-04\n"
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", said)


DAYS_2000 = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31))


SPELLINGS = ["%m-%d", "%m/%d", "%b %d", "%B %d", "%d %B", "%d %b", "%b. %d", "%B %dth", "%dth of %b"]


@settings(max_examples=500)
@given(
    st.one_of(st.text(max_size=12), st.from_regex(r"\A\d{1,4}([-/ ]\d{0,3})?\Z"), st.integers(0, 9999).map(str)),
    DAYS_2000,
    st.sampled_from(SPELLINGS),
)
def test_any_text_is_a_real_calendar_day_or_one_clear_refusal(text, day, spelling):
    """Never a default filled in: what is accepted names both its month and its day, and every
    calendar day (02-29 too) spelled any accepted way is that day."""
    assert dates.parse_month_day(day.strftime(spelling)) == (day.month, day.day)
    try:
        month, day = dates.parse_month_day(text)
    except BadDate as error:
        assert error.message.endswith(FORMS)
        return
    dt.date(2000, month, day)
    names = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    assert str(day) in text and (str(month) in text or any(name in text.lower() for name in names))


# -- 8. fragments lychee accepts: HTML ids and names, heading ids ------------------------------

TARGET_BODY = """The river rose overnight.

<a id="explicit-fragment"></a>
Residents left by boat <a name="named-anchor">here</a>, and <span id=span-id>there</span>.

### Some heading {#custom-id}

More text."""

LINKS_BODY = """See [the anchor](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#explicit-fragment),
[the name](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#named-anchor),
[the span](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#span-id),
[the heading id](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#custom-id),
[the heading](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#some-heading),
[this anchor](#own-anchor) <a id="own-anchor"></a> and
[a missing one](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#some-heading-custom-id)."""


@pytest.fixture
def anchored(builder: ArchiveBuilder) -> Path:
    builder.event("2017-08-13", TITLE, body=TARGET_BODY)
    builder.event("2017-08-14", "Rains stop in the basin", body=LINKS_BODY)
    return builder.root


@pytest.mark.parametrize("cache", ["cache", "no cache"])
def test_fragments_naming_html_anchors_and_heading_ids_are_found(cli, anchored, tmp_path, cache):
    """They were all `missing-heading`; a heading's slug drops its `{#id}` block (`#some-heading`)."""
    env = {"NEWSARC_CACHE_DIR": str(tmp_path / "c")} if cache == "cache" else {"NEWSARC_NO_CACHE": "1"}
    for _ in range(2):  # cold, then from the index
        result = cli("validate-links", "-a", str(anchored), "--format", "json", env=env)
        found = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(f["kind"], f["message"]) for f in found if f.get("type") != "summary"] == [
            ("missing-heading", "no heading '#some-heading-custom-id' in news/2017/08/13/floods-on-the-amazonas-displace-thousands.md")
        ]
        assert result.exit_code == 1


def test_a_heading_with_an_id_reads_as_its_text_on_both_parse_paths(builder):
    """quickparse hands a headline ending in `}` to the CommonMark walker, which drops an id block."""
    from newsarc.reading.parser import read_event

    path = builder.event("2017-08-13", "Floods on the Amazonas {#floods}")
    event = read_event(builder.root / path.lstrip("/"), path.lstrip("/"))
    assert event.title == "Floods on the Amazonas"
    assert [(h.text, h.anchor, h.id) for h in event.headings if h.level == 1] == [("Floods on the Amazonas", "floods-on-the-amazonas", "floods")]
    kept = builder.event("2017-08-14", "Floods recede {sic}")
    assert read_event(builder.root / kept.lstrip("/"), kept.lstrip("/")).title == "Floods recede {sic}"
