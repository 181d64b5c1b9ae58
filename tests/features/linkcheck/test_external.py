"""`--external`: link checks against a real HTTP server on 127.0.0.1.

The server is stdlib ThreadingHTTPServer in a thread; it logs every request
and counts requests in flight, so politeness is measured, not assumed. No
test touches the internet; times are shrunk through CheckOptions.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsarc import __version__
from newsarc.archive import Archive
from newsarc.errors import BadPattern, NewsarcError
from newsarc.features.linkcheck.external import (
    DEAD,
    MALFORMED,
    OK,
    SKIPPED,
    WARNING,
    CheckOptions,
    LinkChecker,
    Location,
    check,
    classify,
    collect,
    parse_accept,
    parse_retry_after,
)
from newsarc.features.linkcheck.url_cache import LinkCache, parse_age
from tests.conftest import ctrl_c_as_a_terminal_sends_it

FAST = dict(timeout=2.0, retries=2, backoff=0.01, max_retry_wait=0.05)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_HEAD(self):
        self._serve("HEAD")

    def do_GET(self):
        self._serve("GET")

    def _serve(self, method: str) -> None:
        server: Server = self.server  # type: ignore[assignment]
        path = self.path
        with server.lock:
            server.log.append((method, path, self.headers.get("User-Agent"), time.monotonic()))
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            seen = server.seen[path] = server.seen[path] + 1
        try:
            answer = self._answer(method, path, seen)
        finally:
            with server.lock:  # before replying: the client frees its slot only after the reply
                server.in_flight -= 1
        if answer is None:
            self.close_connection = True  # a dropped connection: no status line at all
        else:
            self._reply(*answer)

    def _answer(self, method: str, path: str, seen: int) -> tuple[int, dict[str, str]] | None:
        part = path.split("?")[0].strip("/").split("/")
        name = part[0]
        if name in ("404", "410", "500"):
            return int(name), {}
        if name == "chain":  # /chain/N: 301, 308, 301... then /ok
            n = int(part[1])
            return (301 if n % 2 else 308), {"Location": "/ok" if n <= 1 else f"/chain/{n - 1}"}
        if name == "temp":
            return 302, {"Location": "/ok"}
        if name == "loop":
            return 302, {"Location": "/loop/b" if part[1] == "a" else "/loop/a"}
        if name == "busy":  # 429 with Retry-After, then 200
            return (429, {"Retry-After": part[1] if len(part) > 1 else "1"}) if seen == 1 else (200, {})
        if name == "flaky":  # 500, then 200
            return (500 if seen == 1 else 200), {}
        if name == "slow":
            time.sleep(float(part[1]))
            return 200, {}
        if name == "drop":
            return None
        if name == "nohead":
            return (405 if method == "HEAD" else 200), {}
        return (200, {}) if name == "ok" else (404, {})

    def _reply(self, code: int, headers: dict[str, str]) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, str, float]] = []
        self.seen: Counter = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def requests(self, path: str | None = None) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _ in self.log if path is None or p == path]


@pytest.fixture
def server():
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def run(urls, **options):
    """Check plain URLs (each used once, in a.md) and return {url: result}."""
    spots = {u: [Location("a.md", i + 1, 4)] for i, u in enumerate(urls)}
    report = check(spots, CheckOptions(**{**FAST, **options}))
    return report, {r.url: r for r in report.results}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- answers ------------------------------------------------------------------


def test_statuses_and_reasons(server):
    paths = ["/ok", "/404", "/410"]
    report, got = run([server.url(p) for p in paths])
    assert [(got[server.url(p)].kind, got[server.url(p)].reason) for p in paths] == [
        (OK, "200 OK"),
        (DEAD, "404 Not Found"),
        (DEAD, "410 Gone"),
    ]
    assert got[server.url("/404")].status == 404
    assert report.counts() == {DEAD: 2, MALFORMED: 0, "rate-limited": 0, WARNING: 0, "unchecked": 0, OK: 1, SKIPPED: 0}
    assert [r.url for r in report.problems] == [server.url("/404"), server.url("/410")]
    assert all(m == "HEAD" for m, _ in server.requests())  # 4xx are answers, not retried
    assert len(server.log) == 3


def test_permanent_redirect_chain_is_a_warning_with_the_final_url(server):
    _, got = run([server.url("/chain/3")])
    result = got[server.url("/chain/3")]
    assert (result.kind, result.status, result.final_url) == (WARNING, 200, server.url("/ok"))
    assert result.reason == "permanent redirect (301 Moved Permanently)"
    assert server.requests() == [("HEAD", "/chain/3"), ("HEAD", "/chain/2"), ("HEAD", "/chain/1"), ("HEAD", "/ok")]


def test_308_is_permanent_and_temporary_redirect_is_ok(server):
    _, got = run([server.url("/chain/2"), server.url("/temp")])
    assert got[server.url("/chain/2")].reason == "permanent redirect (308 Permanent Redirect)"
    temp = got[server.url("/temp")]
    assert (temp.kind, temp.reason, temp.final_url) == (OK, "200 OK", server.url("/ok"))


def test_redirect_limit(server):
    _, got = run([server.url("/chain/3")], max_redirects=2)
    result = got[server.url("/chain/3")]
    assert (result.kind, result.reason) == (DEAD, "too many redirects (more than 2)")
    assert len(server.log) == 3


def test_redirect_loop_is_detected_not_followed_forever(server):
    _, got = run([server.url("/loop/a")])
    result = got[server.url("/loop/a")]
    assert (result.kind, result.reason, result.status) == (DEAD, "redirect loop (2 URLs)", 302)
    assert server.requests() == [("HEAD", "/loop/a"), ("HEAD", "/loop/b")]


def test_429_waits_for_retry_after_capped(server):
    _, got = run([server.url("/busy/1")], max_retry_wait=0.3)
    assert got[server.url("/busy/1")].kind == OK
    (_, _, _, first), (_, _, _, second) = server.log
    # backoff alone would wait 0.01 s: the gap proves Retry-After (capped at 0.3 s) was obeyed
    assert second - first >= 0.29


def test_429_accepted_is_not_retried(server):
    _, got = run([server.url("/busy")], accept=parse_accept("200..=299,429"))
    assert got[server.url("/busy")].reason == "429 Too Many Requests"
    assert got[server.url("/busy")].kind == OK
    assert len(server.log) == 1


def test_500_then_200_is_retried_to_success(server):
    _, got = run([server.url("/flaky")])
    assert got[server.url("/flaky")].kind == OK
    assert server.requests() == [("HEAD", "/flaky"), ("HEAD", "/flaky")]


def test_persistent_500_is_dead_after_the_retries(server):
    _, got = run([server.url("/500")], retries=2)
    assert got[server.url("/500")].reason == "500 Internal Server Error"
    assert len(server.log) == 3


def test_slow_response_times_out(server):
    _, got = run([server.url("/slow/1")], timeout=0.1, retries=1)
    result = got[server.url("/slow/1")]
    assert (result.kind, result.status, result.reason) == (DEAD, None, "timeout after 0.1 s")
    assert len(server.requests("/slow/1")) == 2  # timeouts are retried


def test_dropped_connection(server):
    _, got = run([server.url("/drop")], retries=1)
    assert got[server.url("/drop")].reason == "connection closed without a response"
    assert len(server.log) == 2


def test_connection_refused():
    url = f"http://127.0.0.1:{closed_port()}/x"
    _, got = run([url], retries=0)
    assert (got[url].kind, got[url].reason) == (DEAD, "connection refused")


def test_a_host_that_never_answers_is_given_up(server):
    port = closed_port()
    urls = [f"http://127.0.0.1:{port}/{i}" for i in range(6)]
    report, got = run(urls, retries=0, host_concurrency=1, host_give_up=2)
    assert [got[u].reason for u in urls] == ["connection refused"] * 2 + [
        "connection refused (not requested: 2 URLs of this host failed in a row)"
    ] * 4
    assert report.counts()[DEAD] == 6


def test_an_answer_resets_the_give_up_count(server):
    urls = [server.url(p) for p in ("/drop?1", "/ok?1", "/drop?2", "/ok?2", "/drop?3")]
    _, got = run(urls, retries=0, host_concurrency=1, host_give_up=2)
    assert [got[u].kind for u in urls] == [DEAD, OK, DEAD, OK, DEAD]
    assert len(server.log) == 5


def test_head_not_allowed_falls_back_to_get(server):
    _, got = run([server.url("/nohead"), server.url("/ok")], host_concurrency=1)
    assert got[server.url("/nohead")].kind == OK
    assert server.requests() == [("HEAD", "/nohead"), ("GET", "/nohead"), ("GET", "/ok")]  # host remembered


def test_user_agent_names_newsarc(server):
    run([server.url("/ok")])
    assert server.log[0][2].startswith(f"newsarc/{__version__} ")


# -- politeness -------------------------------------------------------------


def test_per_host_limit_holds(server):
    urls = [server.url(f"/slow/0.1?n={i}") for i in range(12)]
    report, _ = run(urls, host_concurrency=3, max_concurrency=32)
    assert report.counts()[OK] == 12
    assert server.max_in_flight == 3


def test_global_limit_holds(server):
    urls = [server.url(f"/slow/0.1?n={i}") for i in range(8)]
    run(urls, host_concurrency=10, max_concurrency=2)
    assert server.max_in_flight == 2


def test_url_used_by_many_files_is_fetched_once(server, builder):
    url = server.url("/ok")
    for day in range(1, 6):
        builder.event(f"2017-08-{day:02d}", f"Event {day}", sources=[("Wire", url)], body=f"See [it]({url}#part).")
    site = Archive.open(builder.root).load()
    urls = collect(site.events)
    report = check(urls, CheckOptions(**FAST))
    assert server.requests() == [("HEAD", "/ok")]
    plain = next(r for r in report.results if r.url == url)
    assert [str(loc) for loc in plain.locations] == [
        f"news/2017/08/{day}/event-{day}.md:10:4" for day in range(1, 6)
    ]
    assert {loc.role for loc in plain.locations} == {"source"}
    assert [r.kind for r in report.results] == [OK, OK]  # the #part form shares the request
    assert (report.total, report.checked) == (1, 1)


# -- decided without a request ----------------------------------------------------


@pytest.mark.parametrize(
    "url, kind, reason",
    [
        ("https://example.com/a b", MALFORMED, "contains a space"),
        ("http://", MALFORMED, "no host"),
        ("https:///news/x", MALFORMED, "no host"),
        ("htps://example.com/", MALFORMED, "unknown scheme 'htps:'"),
        ("http:example.com", MALFORMED, "missing '//' after 'http:'"),
        ("http://example.com:80a/", MALFORMED, "bad port"),
        ("http://example..com/", MALFORMED, "bad host name 'example..com' (empty label)"),
        ("//example.com/x", MALFORMED, "no scheme (protocol-relative URL); write https://"),
        ("mailto:desk@example.com", SKIPPED, "mailto: link, not checked"),
        ("tel:+15550100", SKIPPED, "tel: link, not checked"),
        ("https://example.com/ok", None, None),
        ("HTTP://EXAMPLE.COM/", None, None),
        ("https://例え.jp/パス", None, None),
        ("http://[::1]:8080/", None, None),
    ],
)
def test_classify(url, kind, reason):
    assert classify(url) == ((kind, reason) if kind else None)


@pytest.mark.parametrize(
    "target, external",
    [("https://x.org", True), ("mailto:a@b.org", True), ("//x.org/a", True), ("htp://x", True), (" https://x.org ", True),
     ("/news/2017/08/13/x.md", False), ("x.md#top", False), ("#top", False), ("C:\\news\\x.md", False), ("", False)],
)
def test_what_counts_as_external(target, external):
    from newsarc.features.linkcheck.external import is_external

    assert is_external(target) is external


def test_malformed_and_skipped_make_no_request(server, builder):
    body = "Mail [desk](mailto:desk@example.com), [bad](<https://example.com/a b>), [typo](htp://example.com)."
    builder.event("2017-08-13", "Mixed links", sources=[("Wire", server.url("/ok"))], body=body)
    site = Archive.open(builder.root).load()
    report = check(collect(site.events), CheckOptions(**FAST))
    assert [(r.kind, r.url) for r in report.results] == [
        (SKIPPED, "mailto:desk@example.com"),
        (MALFORMED, "https://example.com/a b"),
        (MALFORMED, "htp://example.com"),
        (OK, server.url("/ok")),
    ]
    assert report.skipped_schemes == {"mailto": 1}
    assert server.requests() == [("HEAD", "/ok")]
    assert str(report.results[1].locations[0]) == "news/2017/08/13/mixed-links.md:5:39"


def test_include_wins_over_exclude(server):
    keep, drop, other = server.url("/ok?keep"), server.url("/404?drop"), server.url("/410")
    _, got = run([keep, drop, other], include=[r"keep"], exclude=[r"127\.0\.0\.1"])
    assert got[keep].kind == OK
    assert (got[drop].kind, got[drop].reason) == (SKIPPED, "excluded by pattern")
    assert got[other].kind == SKIPPED
    _, got = run([keep, drop], include=[r"keep"])
    assert (got[drop].kind, got[drop].reason) == (SKIPPED, "not matched by an include pattern")
    assert [p for _, p in server.requests()] == ["/ok?keep", "/ok?keep"]


def test_bad_pattern_is_a_clear_error():
    with pytest.raises(BadPattern, match=r"bad --exclude pattern '\(': missing \)"):
        check({}, CheckOptions(exclude=("(",)))


@pytest.mark.parametrize(
    "text, inside, outside",
    [
        ("200..=299,429", [200, 299, 429], [300, 428, 199]),
        ("200..300", [200, 299], [300]),
        ("..=204", [100, 204], [205]),
        ("..204", [203], [204]),
        ("500..", [500, 999], [499]),
        (" 200 , 403 ", [200, 403], [201]),
    ],
)
def test_accept_ranges_use_lychee_syntax(text, inside, outside):
    ranges = parse_accept(text)
    assert all(code in ranges for code in inside)
    assert not any(code in ranges for code in outside)


@pytest.mark.parametrize("text", ["", "abc", "300..200", "200..=1000", "200-299"])
def test_bad_accept(text):
    with pytest.raises(NewsarcError):
        parse_accept(text)


def test_accepting_404_makes_it_ok(server):
    _, got = run([server.url("/404")], accept=parse_accept("200..=299,404"))
    assert got[server.url("/404")].kind == OK


def test_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 30) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("options", [dict(max_concurrency=0), dict(host_concurrency=0), dict(timeout=0)])
def test_bad_options(options):
    with pytest.raises(NewsarcError):
        check({}, CheckOptions(**options))


# -- stopping ---------------------------------------------------------------------


def test_stop_returns_what_was_checked(server):
    urls = [server.url(f"/slow/0.05?n={i}") for i in range(10)]
    spots = {u: [Location("a.md", 1, 1)] for u in urls}
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done == 2:
            checker.stop()

    checker = LinkChecker(CheckOptions(**FAST, host_concurrency=1), progress=progress)
    report = checker.run(spots)
    assert report.interrupted
    assert seen[:3] == [(0, 10), (1, 10), (2, 10)]
    assert report.checked == 2 and report.total == 10
    assert [r.url for r in report.results] == urls[:2]
    assert len(server.log) <= 3  # the request in flight when stopped, at most


# -- the cache ----------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_cached_run_requests_only_stale_and_failed(server, tmp_path):
    clock, file = Clock(), tmp_path / "cache" / "links.json"
    urls = {server.url(p): [Location("a.md", 1, 1)] for p in ("/ok", "/temp", "/chain/1", "/404")}

    def cached_run():
        cache = LinkCache.load(file, max_age=3600, clock=clock)
        report = check(urls, CheckOptions(**FAST), cache=cache)
        assert cache.save() and cache.problem is None
        return report

    first = cached_run()
    assert not any(r.cached for r in first.results)
    stored = json.loads(file.read_text())
    assert stored["version"] == 1
    assert sorted(stored["entries"]) == sorted(u for u in urls if not u.endswith("/404"))  # errors never cached
    assert stored["entries"][server.url("/ok")]["checked_at"] == "2023-11-14T22:13:20Z"

    server.log.clear()
    clock.now += 600  # fresh
    second = cached_run()
    assert server.requests() == [("HEAD", "/404")]
    assert [(r.kind, r.cached) for r in second.results] == [(OK, True), (OK, True), (WARNING, True), (DEAD, False)]
    assert second.results[2].final_url == server.url("/ok")
    assert second.cached == 3 and second.checked == 4

    server.log.clear()
    clock.now += 3600  # stale
    cached_run()
    assert sorted(p for _, p in server.requests()) == ["/404", "/chain/1", "/ok", "/ok", "/ok", "/temp"]


def test_a_failure_erases_an_older_success(server, tmp_path):
    clock, file = Clock(), tmp_path / "links.json"
    url = server.url("/404")
    cache = LinkCache(file, max_age=10, clock=clock)
    cache.put(url, {"kind": OK, "status": 200, "reason": "200 OK", "final_url": None})
    clock.now += 60
    check({url: [Location("a.md", 1, 1)]}, CheckOptions(**FAST), cache=cache)
    cache.save()
    assert json.loads(file.read_text())["entries"] == {}


def test_cached_status_no_longer_accepted_is_rechecked(server, tmp_path):
    cache = LinkCache(tmp_path / "links.json")
    cache.put(server.url("/ok"), {"kind": OK, "status": 429, "reason": "429 Too Many Requests", "final_url": None})
    check({server.url("/ok"): [Location("a.md", 1, 1)]}, CheckOptions(**FAST), cache=cache)
    assert server.requests() == [("HEAD", "/ok")]


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "was corrupt; rebuilt"),
        (b"\xff\xfe\x00", "was corrupt; rebuilt"),
        (b'{"version": 99, "entries": {}}', "is from another version; rebuilt"),
        (b"[]", "is from another version; rebuilt"),
    ],
)
def test_unusable_cache_is_ignored_and_rebuilt(server, tmp_path, content, problem):
    file = tmp_path / "links.json"
    file.write_bytes(content)
    cache = LinkCache.load(file)
    assert cache.problem.endswith(problem) and cache.entries == {}
    check({server.url("/404"): [Location("a.md", 1, 1)]}, CheckOptions(**FAST), cache=cache)
    assert cache.save()
    assert json.loads(file.read_text()) == {"version": 1, "entries": {}}
    assert [p.name for p in tmp_path.iterdir()] == ["links.json"]  # no temp file left behind


def test_bad_entries_are_dropped_one_by_one(tmp_path):
    file = tmp_path / "links.json"
    good = {"checked_at": "2023-11-14T22:13:20Z", "result": {"kind": OK, "status": 200}}
    entries = {"a": good, "b": {"checked_at": "yesterday", "result": {}}, "c": [], "d": {"checked_at": "2023-11-14T22:13:20"}}
    file.write_text(json.dumps({"version": 1, "entries": entries}))
    assert list(LinkCache.load(file).entries) == ["a"]


def test_unwritable_cache_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = LinkCache(blocker / "links.json")
    cache.put("https://example.com/", {"kind": OK, "status": 200})
    assert cache.save() is False
    assert cache.problem.startswith(f"cannot write link cache '{blocker / 'links.json'}'")


def test_default_cache_lives_in_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWSARC_CACHE_DIR")  # set for every test (conftest); links.json follows it like the index
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert str(LinkCache().path).startswith(str(tmp_path / "xdg" / "newsarc"))


@pytest.mark.parametrize("text, seconds", [("1d", 86400), ("12h", 43200), ("1h30m", 5400), ("90", 90), ("0", 0), ("2w", 1209600)])
def test_parse_age(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1y", "-1d"])
def test_bad_age(text):
    with pytest.raises(NewsarcError, match="max-cache-age"):
        parse_age(text)


SCRIPT = """
import json, sys
from newsarc.features.linkcheck.external import CheckOptions, Location, check
urls = {u: [Location("a.md", 1, 1)] for u in sys.argv[1:]}
report = check(urls, CheckOptions(host_concurrency=1, timeout=5))
print(json.dumps({"interrupted": report.interrupted, "checked": report.checked, "urls": [r.url for r in report.results]}))
"""


def test_ctrl_c_returns_what_was_checked(server):
    import signal
    import subprocess
    import sys

    urls = [server.url(f"/slow/0.2?n={i}") for i in range(30)]
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, *urls], stdout=subprocess.PIPE, text=True,
                             preexec_fn=ctrl_c_as_a_terminal_sends_it)
    try:
        deadline = time.monotonic() + 30
        while len(server.log) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    finally:
        child.kill()
    result = json.loads(out)
    assert child.returncode == 0 and result["interrupted"]
    assert 2 <= result["checked"] < 30
    assert result["urls"] == urls[: result["checked"]]


# -- the command: validate-links --external ------------------------------------------------------


@pytest.fixture
def web_archive(builder, server):
    """Two events citing the local server: a dead URL used twice, a move, a mailto, a malformed URL."""
    u = server.url
    builder.event(
        "2017-08-01",
        "One",
        sources=[("Wire", u("/ok")), ("Gone", u("/404"))],
        body=f"[bad](<https://example.com/a b>) [moved]({u('/chain/1')}) [mail](mailto:desk@example.com)",
    )
    builder.event("2017-08-02", "Two", sources=[("Gone", u("/404"))], cover=u("/410"))
    return builder.root


def external_args(root, tmp_path, *more, external="--external"):
    return ("validate-links", "--archive", str(root), external, "--cache-file", str(tmp_path / "links.json"),
            "--timeout", "2", *more)  # fmt: skip


def test_cli_text_lists_each_use_of_a_dead_url(cli, web_archive, server, tmp_path, monkeypatch):
    monkeypatch.chdir(web_archive)
    result = cli(*external_args(web_archive, tmp_path, "--format", "text"))
    u = server.url
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "news/2017/08/1/one.md:5:1: error: malformed URL https://example.com/a b: contains a space [malformed-url]",
        f"news/2017/08/1/one.md:5:34: warning: {u('/chain/1')} moved: permanent redirect (301 Moved Permanently); "
        f"did you mean {u('/ok')} (where it redirects now)? [moved-url]",
        f"news/2017/08/1/one.md:11:4: error: dead link {u('/404')}: 404 Not Found [dead-url]",
        f"news/2017/08/2/two.md:10:4: error: dead link {u('/404')}: 404 Not Found [dead-url]",
        f"news/2017/08/2/two.md:11:4: error: dead link {u('/410')}: 410 Gone [dead-url]",
    ]
    assert result.stderr.splitlines()[-1] == (
        "newsarc: external: 6 URLs: 2 dead, 1 malformed, 1 moved permanently, 1 ok; 1 not checked (mailto: 1)"
    )
    assert sorted(p for _, p in server.requests()) == ["/404", "/410", "/chain/1", "/ok", "/ok"]


def test_cli_warn_mode_exits_0(cli, web_archive, server, tmp_path, monkeypatch):
    monkeypatch.chdir(web_archive)
    result = cli(*external_args(web_archive, tmp_path, "--format", "github", external="--external=warn"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and all(line.startswith("::warning file=news/2017/08/") for line in lines)
    assert lines[2].endswith(f",title=dead-url::dead link {server.url('/404')}: 404 Not Found")
    strict = cli(*external_args(web_archive, tmp_path, "--strict", external="--external=warn"))
    assert strict.exit_code == 1  # --strict still turns warnings into errors


def test_cli_json_has_one_record_per_bad_url(cli, web_archive, server, tmp_path):
    result = cli(*external_args(web_archive, tmp_path, "--json"))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    dead = [r for r in records if r.get("kind") == "dead-url"]
    assert [(r["link"], r["path"], r["line"], r["also"]) for r in dead] == [
        (server.url("/404"), "news/2017/08/1/one.md", 11, [{"path": "news/2017/08/2/two.md", "line": 10, "column": 4}]),
        (server.url("/410"), "news/2017/08/2/two.md", 11, []),
    ]
    assert {r["check"] for r in records if r["type"] == "finding"} == {"external"}
    summary = records[-1]
    assert summary["type"] == "summary" and "external" in summary["checks"] and "external" not in summary["skipped_checks"]


def test_cli_cache_skips_fresh_successes(cli, web_archive, server, tmp_path):
    cli(*external_args(web_archive, tmp_path))
    server.log.clear()
    again = cli(*external_args(web_archive, tmp_path))
    assert sorted(p for _, p in server.requests()) == ["/404", "/410"]  # failures are never cached
    assert "(2 answered from the cache)" in again.stderr
    server.log.clear()
    cli(*external_args(web_archive, tmp_path, "--max-cache-age", "0"))
    assert len(server.requests()) == 5


def test_cli_no_cache_writes_nothing(cli, web_archive, server, tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSARC_CACHE_DIR")  # set for every test (conftest); links.json follows it like the index
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = cli("validate-links", "--archive", str(web_archive), "--external", "--no-url-cache", env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert result.exit_code == 1
    assert not (tmp_path / "xdg" / "newsarc" / "links.json").exists()  # the index is there, as without --external
    result = cli("validate-links", "--archive", str(web_archive), "--external", env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert (tmp_path / "xdg" / "newsarc" / "links.json").is_file()


@pytest.mark.parametrize("how", ["--no-cache", "NEWSARC_NO_CACHE"])
def test_cli_no_cache_keeps_no_url_results_either(cli, web_archive, server, tmp_path, monkeypatch, how):
    """`--no-cache` and NEWSARC_NO_CACHE=1 say the same: no index and no links.json written."""
    monkeypatch.delenv("NEWSARC_CACHE_DIR")  # set for every test (conftest); links.json follows it like the index
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), **({"NEWSARC_NO_CACHE": "1"} if how == "NEWSARC_NO_CACHE" else {})}
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    args = ("--no-cache",) if how == "--no-cache" else ()
    result = cli("validate-links", "--archive", str(web_archive), "--external", *args, env=env)
    assert result.exit_code == 1
    assert not (tmp_path / "xdg").exists()  # neither the index nor links.json


def test_cli_filters_and_accept(cli, web_archive, server, tmp_path):
    result = cli(*external_args(web_archive, tmp_path, "--exclude", "/404$", "--accept", "200..=299,410", "--format", "text"))
    assert result.exit_code == 1  # the malformed URL is still an error
    assert [line.rsplit(" ", 1)[-1] for line in result.stdout.splitlines()] == ["[malformed-url]", "[moved-url]"]
    assert result.stderr.splitlines()[-1] == (
        "newsarc: external: 6 URLs: 0 dead, 1 malformed, 1 moved permanently, 2 ok; 2 not checked (mailto: 1, filtered out: 1)"
    )
    assert "/404" not in {p for _, p in server.requests()}


@pytest.mark.parametrize(
    "args, message",
    [
        (("--timeout", "5"), "--timeout applies to external links; add --external"),
        (("--no-url-cache",), "--no-url-cache applies to external links; add --external"),
        (("--external=maybe",), "--external=maybe: say --external"),
        (("--external", "--accept", "2xx"), "bad --accept '2xx'"),
        (("--external", "--exclude", "("), "bad --exclude pattern '('"),
        (("--external", "--max-cache-age", "soon"), "bad --max-cache-age 'soon'"),
        (("--external", "--dump"), "--dump lists links and judges none; drop --external"),
    ],
)
def test_cli_usage_errors(cli, web_archive, server, args, message):
    result = cli("validate-links", "--archive", str(web_archive), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert server.log == []


def test_cli_ctrl_c_prints_what_was_checked_and_exits_130(builder, server, tmp_path):
    import signal
    import subprocess
    import sys

    for i in range(20):
        builder.event(f"2017-09-{i + 1:02d}", f"Slow {i}", sources=[("Slow", server.url(f"/slow/0.3?n={i}"))])
    builder.event("2017-08-01", "Gone", sources=[("Gone", server.url("/404"))])
    args = ["validate-links", "--archive", str(builder.root), "--external", "--no-url-cache", "--host-concurrency", "1"]
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("NEWSARC_ARCHIVE", None)
    child = subprocess.Popen([sys.executable, "-m", "newsarc", *args], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_as_a_terminal_sends_it)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(server.requests()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130
    assert "dead link " + server.url("/404") + ": 404 Not Found [dead-url]" in out  # checked first: earliest date
    assert "interrupted with " in err and " of 21 URLs answered" in err


def test_cli_external_glances_at_the_files_once(cli, web_archive, server, tmp_path, monkeypatch):
    """The offline check found the files (a glance at each, with no index): --external takes its URLs
    from those, not from a second glance (about 3 s at 100k events)."""
    from newsarc.features.linkcheck import facts

    glances = []
    scan = facts.scan
    monkeypatch.setattr(facts, "scan", lambda archive: glances.append(1) or scan(archive))
    result = cli("--no-cache", *external_args(web_archive, tmp_path, "--format", "text", "--no-url-cache"))
    assert result.exit_code == 1 and result.stdout.count("[dead-url]") == 3
    assert len(glances) == 1


def test_cli_external_answers_alike_with_and_without_an_index(cli, web_archive, server, tmp_path):
    """Its URLs come from every file parsed on every core (features/linkcheck/every_link.py), whatever index there is."""
    outputs = []
    for options in ([], ["--no-cache"]):
        result = cli(*options, *external_args(web_archive, tmp_path, "--format", "text", "--no-url-cache"))
        assert result.exit_code == 1 and result.stdout.count("[dead-url]") == 3
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
