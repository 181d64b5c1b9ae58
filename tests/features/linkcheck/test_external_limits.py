"""`--external` against hostile servers and no network: rate limits, a deadline, where links.json lives.

Servers are test_external's (stdlib HTTP on 127.0.0.1); hosts that must not
resolve are `.invalid` names (RFC 6761), which newsarc answers itself, so no
test depends on a DNS server or sends anything beyond 127.0.0.1.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from newsarc.features.linkcheck.external import DEAD, OK, RATE_LIMITED, UNCHECKED, CheckOptions, Location, NetworkUnreachable, check
from newsarc.features.linkcheck.url_cache import LinkCache
from tests.conftest import run_newsarc
from tests.features.linkcheck.test_external import FAST, Handler, Server, closed_port, server  # noqa: F401 - `server` is a fixture


@pytest.fixture
def one_url_archive(builder, server):  # noqa: F811
    builder.event("2017-08-01", "One", sources=[("Wire", server.url("/ok"))])
    return builder.root


# -- links.json follows the index cache ------------------------------------------------------------


def _homes(tmp_path: Path) -> dict[str, str | None]:
    """A private HOME and XDG cache: the user cache dir newsarc would otherwise write to."""
    return {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg"), "NEWSARC_CACHE_DIR": None}


def _written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_cache_dir_option_holds_links_json(cli, one_url_archive, tmp_path):
    chosen = tmp_path / "chosen"
    result = cli("--cache-dir", str(chosen), "validate-links", "-a", str(one_url_archive), "--external", env=_homes(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "links.json" in _written(chosen)
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []


def test_cache_dir_variable_holds_links_json(one_url_archive, tmp_path):
    chosen = tmp_path / "chosen"
    env = {**_homes(tmp_path), "NEWSARC_CACHE_DIR": str(chosen)}
    result = run_newsarc("validate-links", "-a", str(one_url_archive), "--external", env=env)
    assert result.returncode == 0, result.stderr
    assert "links.json" in _written(chosen)
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []


def test_no_cache_reads_and_writes_no_links_json(cli, one_url_archive, server, tmp_path):  # noqa: F811
    chosen = tmp_path / "chosen"
    args = ("validate-links", "-a", str(one_url_archive), "--external")
    cli("--cache-dir", str(chosen), *args, env=_homes(tmp_path))
    assert json.loads((chosen / "links.json").read_text())["entries"]  # a success, fresh for a day
    server.log.clear()
    result = cli("--no-cache", "--cache-dir", str(chosen), *args, env=_homes(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert server.requests() == [("HEAD", "/ok")]  # not answered from links.json
    assert "from the cache" not in result.stderr
    stamp = (chosen / "links.json").stat().st_mtime_ns
    cli("--no-cache", *args, env=_homes(tmp_path))
    assert (chosen / "links.json").stat().st_mtime_ns == stamp
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []



# -- servers that ask for a long pause, or never answer ------------------------------------------------


class HostileHandler(Handler):
    """test_external's answers, and: /limited/N always 429 with Retry-After: N; /hang waits until released."""

    def _answer(self, method: str, path: str, seen: int):
        part = path.split("?")[0].strip("/").split("/")
        if part[0] == "limited":
            return 429, {"Retry-After": part[1]}
        if part[0] == "hang":
            self.server.release.wait(60)
            return 200, {}
        return super()._answer(method, path, seen)


@pytest.fixture
def hostile():
    httpd = Server()
    httpd.RequestHandlerClass = HostileHandler
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def _spots(urls):
    return {u: [Location("a.md", i + 1, 4)] for i, u in enumerate(urls)}


def test_long_retry_after_is_rate_limited_and_the_host_is_asked_once(hostile):
    urls = [hostile.url(f"/limited/3600?n={i}") for i in range(12)]
    report = check(_spots(urls), CheckOptions(**FAST, host_concurrency=1))
    assert hostile.requests() == [("HEAD", "/limited/3600?n=0")]  # not 3 tries, not 12 URLs
    first, *rest = report.results
    assert (first.kind, first.status, first.reason) == (
        RATE_LIMITED, 429, "429 Too Many Requests; the server asks to wait 3600 s; run again later"
    )
    assert {(r.kind, r.reason) for r in rest} == {
        (UNCHECKED, "not checked: host rate-limited (the server asks to wait 3600 s; run again later)")
    }
    assert report.problems == [] and report.unchecked == {"host rate-limited": 11}


def test_retry_after_as_a_date_far_ahead_is_rate_limited_too(hostile):
    class DateHandler(HostileHandler):
        def _answer(self, method, path, seen):
            return 503, {"Retry-After": email.utils.formatdate(time.time() + 7200, usegmt=True)}

    hostile.RequestHandlerClass = DateHandler
    report = check(_spots([hostile.url("/a"), hostile.url("/b")]), CheckOptions(**FAST, host_concurrency=1))
    assert [r.kind for r in report.results] == [RATE_LIMITED, UNCHECKED]
    assert report.results[0].reason.startswith("503 Service Unavailable; the server asks to wait 7")
    assert len(hostile.log) == 1


def test_short_retry_after_is_still_waited_for(hostile):
    report = check(_spots([hostile.url("/busy/1")]), CheckOptions(**FAST, rate_limit_after=2))
    assert [r.kind for r in report.results] == [OK]
    assert len(hostile.log) == 2


def test_rate_limited_and_unchecked_are_not_cached(hostile, tmp_path):
    limited, old = hostile.url("/limited/3600?n=1"), hostile.url("/limited/3600?n=2")
    cache = LinkCache(tmp_path / "links.json", max_age=0)  # every entry stale: each URL is requested
    cache.put(old, {"kind": OK, "status": 200, "reason": "200 OK", "final_url": None})
    report = check(_spots([limited, old, hostile.url("/hang")]), CheckOptions(**FAST, host_concurrency=1, max_time=5), cache=cache)
    assert [r.kind for r in report.results] == [RATE_LIMITED, UNCHECKED, UNCHECKED]
    assert cache.save()
    stored = json.loads((tmp_path / "links.json").read_text())["entries"]
    assert list(stored) == [old] and stored[old]["result"]["kind"] == OK  # the last real answer stays


def test_max_time_reports_what_was_not_answered_as_unchecked(hostile):
    urls = [hostile.url("/ok"), *(hostile.url(f"/hang?n={i}") for i in range(3))]
    report = check(_spots(urls), CheckOptions(**FAST, max_time=0.5))
    assert [(r.kind, r.reason) for r in report.results] == [(OK, "200 OK")] + [
        (UNCHECKED, "not checked (--max-time reached)")
    ] * 3
    assert report.timed_out and not report.interrupted
    assert (report.checked, report.total) == (1, 4) and report.unchecked == {"--max-time reached": 3}


# -- the command -------------------------------------------------------------------------------------


@pytest.fixture
def limited_archive(builder, hostile):
    """12 events citing a host that asks for an hour's pause, and one citing another host (localhost)."""
    for i in range(12):
        builder.event(f"2017-09-{i + 1:02d}", f"Busy {i}", sources=[("Busy", hostile.url(f"/limited/3600?n={i}"))])
    port = hostile.server_address[1]
    builder.event("2017-08-01", "Other", sources=[("Other", f"http://localhost:{port}/ok")])
    return builder.root


def test_cli_rate_limited_host_is_warned_about_not_hammered(limited_archive, hostile, tmp_path):
    cache = tmp_path / "links.json"
    args = ("validate-links", "-a", str(limited_archive), "--external", "--cache-file", str(cache), "--format", "text")
    result = run_newsarc(*args, cwd=limited_archive)
    assert result.returncode == 0, result.stderr  # rate-limited and not checked are warnings
    hits = Counter(p for _, p in hostile.requests() if p.startswith("/limited/"))
    assert set(hits.values()) == {1} and len(hits) <= 4  # each URL once at most, and only those in flight at the first 429
    lines = result.stdout.splitlines()
    assert len(lines) == 12 and all(": warning: " in line for line in lines)
    limited = [line for line in lines if line.endswith("[rate-limited-url]")]
    assert len(limited) == len(hits)
    assert limited[0].endswith(
        "rate-limited: 429 Too Many Requests; the server asks to wait 3600 s; run again later [rate-limited-url]"
    )
    assert lines[-1] == (  # sorted by path: 2017/09/9 comes after 2017/09/12
        f"news/2017/09/9/busy-8.md:10:4: warning: {hostile.url('/limited/3600?n=8')} not checked: host rate-limited "
        "(the server asks to wait 3600 s; run again later) [unchecked-url]"
    )
    assert result.stderr.splitlines()[-1] == (
        f"newsarc: external: 13 URLs: 0 dead, 0 malformed, 0 moved permanently, 1 ok, {len(hits)} rate-limited; "
        f"{12 - len(hits)} not checked (host rate-limited: {12 - len(hits)})"
    )
    assert list(json.loads(cache.read_text())["entries"]) == [f"http://localhost:{hostile.server_address[1]}/ok"]
    strict = run_newsarc(*args, "--strict", "--no-url-cache", cwd=limited_archive)
    assert strict.returncode == 1


def test_cli_max_time_bounds_the_run(builder, hostile, tmp_path):
    builder.event("2017-08-01", "Fine", sources=[("Fine", hostile.url("/ok"))])
    for i in range(3):
        builder.event(f"2017-08-{i + 2:02d}", f"Stuck {i}", sources=[("Stuck", hostile.url(f"/hang?n={i}"))])
    args = ("validate-links", "-a", str(builder.root), "--external", "--no-url-cache", "--max-time", "1", "--format", "text")
    result = run_newsarc(*args, "--timeout", "50", cwd=builder.root)  # ends only if --max-time does: /hang holds 60 s
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"news/2017/08/{i + 2}/stuck-{i}.md:10:4: warning: {hostile.url(f'/hang?n={i}')} not checked (--max-time reached) "
        "[unchecked-url]"
        for i in range(3)
    ]
    assert result.stderr.splitlines()[-1] == (
        "newsarc: external: 4 URLs: 0 dead, 0 malformed, 0 moved permanently, 1 ok; 3 not checked (--max-time reached: 3)"
    )
    assert run_newsarc(*args, "--strict", cwd=builder.root).returncode == 1


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_cli_bad_max_time(cli, one_url_archive, server, value):  # noqa: F811
    result = cli("validate-links", "-a", str(one_url_archive), "--external", "--max-time", value)
    assert result.exit_code == 2 and "Invalid value for '--max-time'" in result.stderr
    assert server.log == []


# -- no network: one error, not a dead link per URL -------------------------------------------------------


def _refused(host: str) -> str:
    """A URL on a loopback address (127/8 is all local) with nothing listening: connection refused."""
    return f"http://{host}:{closed_port()}/x"


def test_every_host_failing_to_resolve_is_one_error():
    urls = [f"https://site{i}.invalid/page/{j}" for i in range(3) for j in range(4)]
    with pytest.raises(NetworkUnreachable) as caught:
        check(_spots(urls), CheckOptions(**FAST))
    assert caught.value.message == (
        "cannot reach any host (3 of 3 failed: host not found); check the network, or run without --external"
    )
    assert caught.value.status == 2


def test_refused_connections_count_as_unreachable_but_one_host_down_is_a_dead_link():
    with pytest.raises(NetworkUnreachable, match=r"^cannot reach any host \(2 of 2 failed: connection refused\)"):
        check(_spots([_refused("127.0.0.2"), _refused("127.0.0.3")]), CheckOptions(**FAST))
    url = _refused("127.0.0.2")
    report = check(_spots([url, url + "/2"]), CheckOptions(**FAST))  # one host says nothing about the network
    assert [r.reason for r in report.results] == ["connection refused"] * 2


def test_the_names_of_one_round_of_requests_are_enough_to_tell():
    """Before any request, the names of as many hosts as go out at once (32) are looked up: not one
    resolving is no network, told at once (a resolver may take 10 s to say 'not found')."""
    urls = [f"https://site{i}.invalid/" for i in range(40)]
    with pytest.raises(NetworkUnreachable, match=r"\(32 of 32 failed: host not found\)"):
        check(_spots(urls), CheckOptions(**FAST))


SILENT_RESOLVER = """
import json, os, socket, sys, threading
def lookup(host, *args, **kw):  # a name server that never answers (no network, DNS packets dropped)
    threading.Event().wait()
socket.getaddrinfo = lookup
from newsarc.features.linkcheck.external import CheckOptions, Location, NetworkUnreachable, check
urls = {f"https://site{i}.example/": [Location("a.md", 1, 1)] for i in range(5)}
try:
    check(urls, CheckOptions(timeout=30, resolve_deadline=0.5))
except NetworkUnreachable as exc:
    print(json.dumps(exc.message), flush=True)
os._exit(0)
"""


def test_a_silent_name_server_is_no_network_after_the_deadline():
    """Without the deadline each request waits out its 30 s timeout, retried: past the 60 s below."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SILENT_RESOLVER], capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == (
        "cannot reach any host (5 of 5 failed: no name resolved in 0.5 s); check the network, or run without --external"
    )


def test_one_host_answering_keeps_the_others_dead_one_by_one(server):  # noqa: F811
    cut_off = ["https://a.invalid/", _refused("127.0.0.2"), "https://b.invalid/x"]
    with pytest.raises(NetworkUnreachable):
        check(_spots(cut_off), CheckOptions(**FAST))
    report = check(_spots([server.url("/ok"), *cut_off]), CheckOptions(**FAST))
    assert [(r.kind, r.reason) for r in report.results] == [
        (OK, "200 OK"),
        (DEAD, "host not found"),
        (DEAD, "connection refused"),
        (DEAD, "host not found"),
    ]
    report = check(_spots([server.url("/404"), *cut_off]), CheckOptions(**FAST))  # an HTTP error is an answer too
    assert [r.reason for r in report.results] == ["404 Not Found", "host not found", "connection refused", "host not found"]


def test_cli_without_network_says_so_once(builder, tmp_path):
    for i in range(6):
        builder.event(f"2017-08-{i + 1:02d}", f"Cut off {i}", sources=[("Gone", f"https://news{i % 3}.invalid/{i}")])
    builder.event("2017-08-09", "Refused", sources=[("Local", _refused("127.0.0.2"))])
    for args in (("--external",), ("--external=warn",)):
        result = run_newsarc("validate-links", "-a", str(builder.root), *args, "--no-url-cache", "--format", "text")
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == (
            "newsarc: cannot reach any host (4 of 4 failed: host not found); check the network, or run without --external\n"
        )


# -- --external warn (a space, not =) -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["warn", "error"])
def test_cli_external_space_mode_suggests_the_equals_form(cli, one_url_archive, server, mode, monkeypatch):  # noqa: F811
    monkeypatch.chdir(one_url_archive)
    result = cli("validate-links", "-a", str(one_url_archive), "--external", mode)
    assert result.exit_code == 2
    assert result.stderr == f"newsarc: '{mode}' is not a file or folder; did you mean --external={mode}?\n"
    assert server.log == []
    (one_url_archive / mode).mkdir()  # now it is a folder: a PATH like any other
    result = cli("validate-links", "-a", str(one_url_archive), "--external", mode)
    assert "did you mean" not in result.stderr
    assert server.log == []  # the folder holds no event, so no URL


def test_cli_external_space_mode_as_a_subprocess_without_archive_option(one_url_archive, server):  # noqa: F811
    result = run_newsarc("validate-links", "--external", "warn", cwd=one_url_archive)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "newsarc: 'warn' is not a file or folder; did you mean --external=warn?\n"


STUCK_RESOLVER = """
import json, os, socket, sys, threading
real = socket.getaddrinfo
def lookup(host, *args, **kw):  # a resolver that never answers for one name (a DNS server gone silent)
    if host in ("stuck.test", b"stuck.test"):  # anyio passes the IDNA-encoded bytes
        threading.Event().wait()
    if host not in ("127.0.0.1", b"127.0.0.1"):
        raise socket.gaierror(socket.EAI_NONAME, "not in this test")  # no query leaves the machine
    return real(host, *args, **kw)
socket.getaddrinfo = lookup
from newsarc.features.linkcheck.external import CheckOptions, Location, check
urls = {u: [Location("a.md", 1, 1)] for u in sys.argv[1:]}
report = check(urls, CheckOptions(timeout=30, max_time=float(0.5)))
print(json.dumps([[r.kind, r.reason] for r in report.results]), flush=True)
os._exit(0)  # as newsarc's main() does: the stuck thread is not joined at exit either
"""


def test_a_lookup_stuck_in_the_resolver_does_not_hold_up_the_end(server):  # noqa: F811
    """Ends only if the check leaves a stuck lookup thread behind instead of joining it."""
    import subprocess
    import sys

    args = [sys.executable, "-c", STUCK_RESOLVER, "http://stuck.test/", server.url("/ok")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == [["unchecked", "not checked (--max-time reached)"], ["ok", "200 OK"]]
