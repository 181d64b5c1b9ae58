"""`validate-links --external`: which http(s) links of an archive still answer.

The one module that speaks HTTP (httpx is imported only when a check runs, so
renderers can import the result types for free). Every distinct URL is
requested once, whatever the number of files citing it; requests are capped
globally and per host so news sites are not hammered; only an answer the
server gives on purpose (a status) or a failure that survived the retries
counts, so a flaky network does not turn CI red.

Outline: `collect(events)` finds the URLs and where each is used;
`check(urls, options)` decides each one (without a request when malformed,
skipped, excluded or fresh in the cache) and returns a `Report`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import errno
import functools
import http
import ipaddress
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from newsarc import __version__
from newsarc.errors import BadPattern, NewsarcError
from newsarc.model import BODY, COVER, IMAGE, RELATED, SOURCE, Event

# Result kinds, worst first (renderers sort and count by them).
DEAD = "dead"
MALFORMED = "malformed"
RATE_LIMITED = "rate-limited"  # the server asked to wait longer than we wait: says nothing about the link
WARNING = "warning"
UNCHECKED = "unchecked"  # no answer sought or awaited: host rate-limited, or --max-time reached
OK = "ok"
SKIPPED = "skipped"
KINDS = (DEAD, MALFORMED, RATE_LIMITED, WARNING, UNCHECKED, OK, SKIPPED)

# Why an UNCHECKED URL was not checked: its reason, and the short label summaries count it under.
TIMED_OUT = "not checked (--max-time reached)"
HOST_LIMITED = "not checked: host rate-limited"
_UNCHECKED_LABELS = {TIMED_OUT: "--max-time reached", HOST_LIMITED: "host rate-limited"}
_RATE_LIMIT_STATUSES = frozenset({429, 503})  # where RFC 9110 gives Retry-After its meaning

ROLES = (SOURCE, COVER, BODY, IMAGE, RELATED)  # date and front-matter links are internal
USER_AGENT = f"newsarc/{__version__} (news archive link checker)"

_HEAD_REFUSED = frozenset({403, 405, 501})  # servers that answer GET but not HEAD
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# Schemes that are links but not web pages: counted, never requested.
_OTHER_SCHEMES = frozenset(
    "mailto tel sms callto fax ftp ftps sftp ssh git svn file data javascript about irc ircs news nntp "
    "geo magnet urn xmpp webcal feed tg whatsapp skype spotify steam market itms itms-apps bitcoin "
    "ws wss chrome view-source".split()
)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


# -- results ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """Where a URL is written: renderers print `path:line:column`."""

    path: str
    line: int
    column: int
    role: str = BODY

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column, "role": self.role}


@dataclass(slots=True)
class UrlResult:
    """The verdict on one distinct URL, with every place that uses it.

    `reason` is what a person reads ("404 Not Found", "timeout after 10 s",
    "connection refused"); `final_url` is where redirects ended (for a
    permanent redirect: the URL to write instead).
    """

    url: str
    kind: str
    status: int | None = None
    reason: str = ""
    final_url: str | None = None
    locations: list[Location] = field(default_factory=list)
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "final_url": self.final_url,
            "cached": self.cached,
            "locations": [loc.to_dict() for loc in self.locations],
        }


@dataclass(slots=True)
class Report:
    """Every URL found, in first-use order.

    After an interruption, URLs that were still unanswered are left out:
    `checked < total` and `interrupted` say so. When --max-time ran out
    (`timed_out`), they are in, as UNCHECKED: a deadline is part of the plan.
    """

    results: list[UrlResult] = field(default_factory=list)
    total: int = 0  # http(s) URLs to request or take from the cache
    checked: int = 0
    cached: int = 0
    interrupted: bool = False
    timed_out: bool = False
    skipped_schemes: Counter = field(default_factory=Counter)  # "mailto" -> 3
    unchecked: Counter = field(default_factory=Counter)  # "host rate-limited" -> 11, "--max-time reached" -> 2

    def counts(self) -> dict[str, int]:
        found = Counter(r.kind for r in self.results)
        return {kind: found.get(kind, 0) for kind in KINDS}

    def of_kind(self, *kinds: str) -> list[UrlResult]:
        return [r for r in self.results if r.kind in kinds]

    @property
    def problems(self) -> list[UrlResult]:
        """What fails a build: dead and malformed URLs."""
        return self.of_kind(DEAD, MALFORMED)


# -- options ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusRanges:
    """Accepted HTTP statuses, written in lychee's syntax (`200..=299,429`)."""

    ranges: tuple[tuple[int, int], ...]  # inclusive bounds
    text: str

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and any(low <= status <= high for low, high in self.ranges)

    def __str__(self) -> str:
        return self.text


def parse_accept(text: str) -> StatusRanges:
    """Parse `200`, `200..=299`, `200..300` (end excluded), `..=204`, `500..`, comma-separated."""
    ranges = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        ranges.append(_status_range(item, text))
    if not ranges:
        raise NewsarcError(f"--accept '{text}' names no status; use e.g. 200..=299,429")
    return StatusRanges(tuple(ranges), text)


def _status_range(item: str, text: str) -> tuple[int, int]:
    try:
        if ".." not in item:
            low = high = int(item)
        else:
            start, end = item.split("..", 1)
            low = int(start) if start else 100
            if end.startswith("="):
                high = int(end[1:])
            else:
                high = int(end) - 1 if end else 999
    except ValueError:
        raise NewsarcError(f"bad --accept '{text}': cannot read '{item}'; use e.g. 200..=299,429") from None
    if not (100 <= low <= high <= 999):
        raise NewsarcError(f"bad --accept '{text}': '{item}' is not a range of HTTP statuses (100-999)")
    return low, high


DEFAULT_ACCEPT = parse_accept("200..=299")


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How hard and how politely to check. Tests shrink the times."""

    max_concurrency: int = 32
    host_concurrency: int = 4
    timeout: float = 10.0  # seconds, per connect/read, and twice that for a whole request
    retries: int = 2  # after the first try, for timeouts, connection errors, 429 and 5xx
    backoff: float = 1.0  # first wait between tries; doubles each time
    max_retry_wait: float = 30.0  # cap on backoff and on a server's Retry-After
    rate_limit_after: float = 30.0  # a 429/503 Retry-After longer than this: rate-limited, not waited for
    max_time: float | None = None  # seconds for the whole check (--max-time); then the rest is UNCHECKED
    max_redirects: int = 10
    host_give_up: int = 5  # after this many URLs of a host in a row fail without an answer, fail its others unasked; 0: never
    unreachable_after: int = 8  # this many hosts (all, if fewer; 2 at least) failing to connect, none answering: no network; 0: never
    resolve_deadline: float = 3.0  # ... or none of them resolving in this many seconds
    accept: StatusRanges = DEFAULT_ACCEPT
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    user_agent: str = USER_AGENT

    def validate(self) -> None:
        for name in ("max_concurrency", "host_concurrency"):
            if getattr(self, name) < 1:
                raise NewsarcError(f"--{name.replace('_', '-')} must be at least 1")
        if self.timeout <= 0:
            raise NewsarcError("--timeout must be more than 0 seconds")
        if min(self.retries, self.max_redirects, self.backoff, self.max_retry_wait, self.host_give_up) < 0:
            raise NewsarcError("retries, redirects and waits cannot be negative")
        if self.max_time is not None and not self.max_time > 0:
            raise NewsarcError("--max-time must be more than 0 seconds")


class UrlFilter:
    """`--include`/`--exclude` with lychee's rule: an include match wins over excludes.

    With includes only, URLs matching none are skipped; with excludes only,
    matching ones are; with both, a URL matching neither is checked. RE2
    patterns, so no pattern can hang on a long URL.
    """

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()):
        self.include = [_compile(p, "--include") for p in include]
        self.exclude = [_compile(p, "--exclude") for p in exclude]

    def skip_reason(self, url: str) -> str | None:
        if any(p.search(url) for p in self.include):
            return None
        if self.include and not self.exclude:
            return "not matched by an include pattern"
        if any(p.search(url) for p in self.exclude):
            return "excluded by pattern"
        return None


def _compile(pattern: str, option: str):
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr; the error handler speaks
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise BadPattern(f"bad {option} pattern '{pattern}': {detail}") from None


class NetworkUnreachable(NewsarcError):
    """Not one host could be reached: the network is down, not the links (exit 2, one message)."""


class ResultCache(Protocol):
    """What `check` needs of a cache (newsarc.features.linkcheck.url_cache.LinkCache fits)."""

    def get(self, url: str) -> dict[str, Any] | None: ...

    def put(self, url: str, result: dict[str, Any]) -> None: ...

    def forget(self, url: str) -> None: ...


# -- finding URLs -------------------------------------------------------------


def collect(events: Iterable[Event], roles: Sequence[str] = ROLES) -> dict[str, list[Location]]:
    """Each distinct external-looking URL, in first-use order, with every place it is written."""
    return gather((event.path, written_urls(event, roles)) for event in events)


def written_urls(event: Event, roles: Sequence[str] = ROLES) -> list[tuple[str, int, int, str]]:
    """(URL, line, column, role) of each external-looking link of one event, in order, as plain values
    (features/linkcheck/every_link.py sends them between processes)."""
    return [(link.target.strip(), link.line, link.column, link.role) for link in event.links if link.role in roles and is_external(link.target)]


def gather(files: Iterable[tuple[str, list[tuple[str, int, int, str]]]]) -> dict[str, list[Location]]:
    """`collect` from (path, written_urls) of each file."""
    found: dict[str, list[Location]] = {}
    for path, urls in files:
        for url, line, column, role in urls:
            found.setdefault(url, []).append(Location(path, line, column, role))
    return found


def is_external(target: str) -> bool:
    """A URL with a scheme (or `//host`); everything else is a path inside the archive."""
    target = target.strip()
    if target.startswith("//"):
        return True
    scheme, colon, _ = target.partition(":")
    return bool(colon) and _is_scheme(scheme)


def _is_scheme(text: str) -> bool:
    """Two characters at least, as validate-links says: `C:` is a Windows drive, not a scheme."""
    return len(text) >= 2 and text[0].isascii() and text[0].isalpha() and all(
        c.isascii() and (c.isalnum() or c in "+-.") for c in text
    )


def classify(url: str) -> tuple[str, str] | None:
    """(kind, reason) for a URL judged without a request; None for one to request."""
    if url.startswith("//"):
        return MALFORMED, "no scheme (protocol-relative URL); write https://"
    if any(c.isspace() for c in url):
        return MALFORMED, "contains a space"
    scheme = url.partition(":")[0].lower()
    if scheme not in ("http", "https"):
        if scheme in _OTHER_SCHEMES:
            return SKIPPED, f"{scheme}: link, not checked"
        return MALFORMED, f"unknown scheme '{scheme}:'"
    if not url[len(scheme) + 1 :].startswith("//"):
        return MALFORMED, f"missing '//' after '{scheme}:'"
    problem = _host_problem(url)
    return (MALFORMED, problem) if problem else None


def _host_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return "bad port" if "port" in str(exc).lower() else f"cannot parse: {exc}"
    host = parts.hostname or ""
    if not host:
        return "no host"
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            return f"bad IPv6 address '{host}'"
        return None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if any(not label for label in labels):
        return f"bad host name '{host}' (empty label)"
    if any(not (c in _HOST_CHARS or not c.isascii()) for c in host):
        return f"bad host name '{host}'"
    return None


# -- checking ---------------------------------------------------------------


@dataclass(slots=True)
class _Outcome:
    """One attempt's verdict; `retry` and `wait` steer the next attempt."""

    kind: str
    status: int | None
    reason: str
    final_url: str | None = None
    retry: bool = False
    wait: float | None = None
    unreached: bool = False  # no server was reached: the name did not resolve, or the connection failed

    def as_cache(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "reason": self.reason, "final_url": self.final_url}


@dataclass(slots=True)
class _Reply:
    status: int
    location: str | None
    retry_after: str | None

    @property
    def phrase(self) -> str:
        return status_text(self.status)


def status_text(status: int) -> str:
    """`404 Not Found`: the standard phrase, whatever the server wrote."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def request_key(url: str) -> str:
    """The URL as requested: the fragment names a place in the page, not another page."""
    return url.split("#", 1)[0]


def host_key(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class LinkChecker:
    """Runs one check. `stop()` (thread-safe, callable from `progress`) ends it early.

    Ctrl-C ends it too: the partial report comes back with `interrupted` set,
    and the caller decides the exit status.
    """

    def __init__(
        self,
        options: CheckOptions | None = None,
        *,
        cache: ResultCache | None = None,
        progress: Callable[[int, int], None] | None = None,
    ):
        self.options = options or CheckOptions()
        self.options.validate()
        self.filter = UrlFilter(self.options.include, self.options.exclude)
        self.cache = cache
        self.progress = progress
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task | None = None
        self._stop_requested = False
        self._outcomes: dict[str, _Outcome | None] = {}  # request key -> verdict (None: from cache)
        self._cached: dict[str, dict[str, Any]] = {}
        self._checked = 0
        self._total = 0
        self._interrupted = False
        self._timed_out = False

    # -- public -------------------------------------------------------------

    def run(self, urls: Mapping[str, Sequence[Location]]) -> Report:
        report = Report()
        pending: dict[str, list[str]] = {}  # host -> request keys, in first-use order
        keys: dict[str, None] = {}  # an ordered set
        for url in urls:
            decided = self._decide_early(url)
            if decided:
                kind, reason = decided
                if kind == SKIPPED and ":" in reason:
                    report.skipped_schemes[reason.split(":", 1)[0]] += 1
                continue
            key = request_key(url)
            if key in self._outcomes or key in self._cached or key in keys:
                continue
            fresh = self._from_cache(key)
            if fresh is not None:
                self._cached[key] = fresh
            else:
                keys[key] = None
                pending.setdefault(host_key(key), []).append(key)
        self._total = len(keys) + len(self._cached)
        self._checked = len(self._cached)
        if keys:
            self._run_loop(pending)
        elif self.progress:
            self.progress(self._checked, self._total)
        return self._report(urls, report)

    def stop(self) -> None:
        """Ask the check to end; answers already in are kept."""
        self._stop_requested = True
        loop, main = self._loop, self._main
        if loop and main and not main.done():
            loop.call_soon_threadsafe(main.cancel)

    # -- deciding without the network ----------------------------------------

    def _decide_early(self, url: str) -> tuple[str, str] | None:
        decided = classify(url)
        if decided:
            return decided
        reason = self.filter.skip_reason(url)
        return (SKIPPED, reason) if reason else None

    def _from_cache(self, key: str) -> dict[str, Any] | None:
        if self.cache is None:
            return None
        entry = self.cache.get(key)
        if not entry or entry.get("kind") not in (OK, WARNING) or entry.get("status") not in self.options.accept:
            return None  # a status accepted then may not be now
        return entry

    def _report(self, urls: Mapping[str, Sequence[Location]], report: Report) -> Report:
        for url, locations in urls.items():
            result = self._result(url, list(locations))
            if result is not None:
                report.results.append(result)
                if result.kind == UNCHECKED:
                    report.unchecked[_unchecked_label(result.reason)] += 1
        report.total, report.checked, report.cached = self._total, self._checked, len(self._cached)
        report.interrupted, report.timed_out = self._interrupted, self._timed_out
        return report

    def _result(self, url: str, locations: list[Location]) -> UrlResult | None:
        decided = self._decide_early(url)
        if decided:
            return UrlResult(url, decided[0], reason=decided[1], locations=locations)
        key = request_key(url)
        if key in self._cached:
            entry = self._cached[key]
            return UrlResult(
                url, entry["kind"], entry.get("status"), entry.get("reason", ""), entry.get("final_url"), locations, True
            )
        outcome = self._outcomes.get(key)
        if outcome is None and self._timed_out:
            return UrlResult(url, UNCHECKED, reason=TIMED_OUT, locations=locations)
        if outcome is None:
            return None  # interrupted before an answer
        return UrlResult(url, outcome.kind, outcome.status, outcome.reason, outcome.final_url, locations)

    # -- the network ----------------------------------------------------------

    def _run_loop(self, pending: dict[str, list[str]]) -> None:
        try:
            asyncio.run(self._check_all(pending))
        except KeyboardInterrupt:  # Python 3.10, or a second Ctrl-C
            self._interrupted = True
        finally:
            self._loop = self._main = None

    async def _check_all(self, pending: dict[str, list[str]]) -> None:
        import httpx

        self._loop, self._main = asyncio.get_running_loop(), asyncio.current_task()
        if self.progress:
            self.progress(self._checked, self._total)
        options = self.options
        async with httpx.AsyncClient(
            headers={"User-Agent": options.user_agent},
            verify=_tls_context(),
            timeout=httpx.Timeout(options.timeout),
            limits=httpx.Limits(max_connections=options.max_concurrency * 2, max_keepalive_connections=options.max_concurrency),
            follow_redirects=False,  # followed by hand: loops, permanence and per-host limits
        ) as client, _lookup_threads(self._loop, options.max_concurrency):
            session = _Session(client, options, hosts=len(pending))
            if session.probe:  # as many names as requests go out at once: one live host among them says "network"
                await _probe_names(list(pending)[: max(session.probe, options.max_concurrency)], options.resolve_deadline)
            workers = [
                asyncio.create_task(self._worker(session, queue))
                for queue in (deque(keys) for keys in pending.values())
                for _ in range(min(options.host_concurrency, len(queue)))
            ]
            try:
                if self._stop_requested:
                    raise asyncio.CancelledError
                await asyncio.wait_for(asyncio.gather(*workers), options.max_time)
            except asyncio.TimeoutError:  # --max-time: requests in flight are dropped, their URLs UNCHECKED
                self._timed_out = True
            except asyncio.CancelledError:  # stop() or Ctrl-C: keep what is in
                self._interrupted = True
            finally:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, session: _Session, queue: deque) -> None:
        """Drains one host's queue; a host gets up to host_concurrency of these."""
        while queue:
            key = queue.popleft()
            outcome = await session.check(key)
            self._record(key, outcome)

    def _record(self, key: str, outcome: _Outcome) -> None:
        self._outcomes[key] = outcome
        if self.cache is not None:
            if outcome.kind in (OK, WARNING):
                self.cache.put(key, outcome.as_cache())
            elif outcome.kind in (DEAD, MALFORMED):
                self.cache.forget(key)  # an old success must not outlive a failure
            # RATE_LIMITED, UNCHECKED: nothing learnt about the link; an old success stays
        self._checked += 1
        if self.progress:
            self.progress(self._checked, self._total)


class _Session:
    """One client and its limits: what a single URL's check needs."""

    def __init__(self, client: Any, options: CheckOptions, hosts: int = 0):
        self.client = client
        self.options = options
        # hosts that must fail to connect, none answering, before the network is blamed (one host down is a dead link)
        self.probe = min(options.unreachable_after, hosts) if hosts >= 2 else 0
        self.answered = False  # a server replied (any status): the network works
        self.tried: set[str] = set()  # hosts a request was sent to
        self.unreached: dict[str, str] = {}  # host -> why a request failed without reaching a server
        self.slots = asyncio.Semaphore(options.max_concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.get_only: set[str] = set()  # hosts that refused HEAD once
        self.failures: dict[str, int] = {}  # host -> URLs in a row that got no answer at all
        self.given_up: dict[str, str] = {}  # host -> the failure its remaining URLs are reported with
        self.rate_limited: dict[str, float] = {}  # host -> the seconds it asked us to wait

    async def check(self, url: str) -> _Outcome:
        """Follow `url` to an answer, trying again after transient failures.

        A publisher that is gone (no DNS, nothing listening) can have thousands
        of URLs: after `host_give_up` of them failed in a row, the rest fail
        unasked, saying so, instead of costing timeouts x retries each.
        """
        host = host_key(url)
        if host in self.given_up:
            limit = self.options.host_give_up
            return _Outcome(DEAD, None, f"{self.given_up[host]} (not requested: {limit} URLs of this host failed in a row)")
        options = self.options
        for attempt in range(options.retries + 1):
            outcome = await self.follow(url)
            if not outcome.retry or attempt == options.retries:
                break
            wait = outcome.wait if outcome.wait is not None else options.backoff * 2**attempt
            await asyncio.sleep(min(wait, options.max_retry_wait))
        self._note(host, outcome)
        return outcome

    def _note(self, host: str, outcome: _Outcome) -> None:
        if not self.options.host_give_up:
            return
        if outcome.kind == DEAD and outcome.status is None and outcome.final_url is None:
            self.failures[host] = self.failures.get(host, 0) + 1
            if self.failures[host] >= self.options.host_give_up:
                self.given_up.setdefault(host, outcome.reason)
        else:
            self.failures[host] = 0

    def _watch(self, host: str, outcome: _Outcome) -> None:
        """Without a network every host fails to resolve or connect, and retries and slow lookups
        make that minutes of identical 'dead link' lines. When at least `probe` hosts failed so,
        every host tried so far among them and no server answered, end the check with one error.

        A first attempt is enough: with a network, hosts that are gone fail fast too, but the live
        ones tried beside them are still pending (so not every host tried has failed), then answer."""
        if not outcome.unreached or self.answered or not self.probe:
            return
        self.unreached.setdefault(host, outcome.reason)
        if len(self.unreached) >= self.probe and self.tried <= self.unreached.keys():
            n, first = len(self.unreached), next(iter(self.unreached.values()))
            raise NetworkUnreachable(
                f"cannot reach any host ({n} of {n} failed: {first}); check the network, or run without --external"
            )

    async def follow(self, url: str) -> _Outcome:
        """Redirects by hand: each hop honours the limits of its own host."""
        chain, current, permanent = [url], url, None
        for hop in range(self.options.max_redirects + 1):
            reply = await self.fetch(current)
            if isinstance(reply, _Outcome):
                if len(chain) > 1:
                    reply.final_url = current
                return reply
            if reply.status not in _REDIRECTS or not reply.location:
                return self.judge(reply, current if len(chain) > 1 else None, permanent)
            if hop == 0 and reply.status in _PERMANENT:
                permanent = reply
            target = urljoin(current, reply.location.strip())
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                return _Outcome(DEAD, reply.status, f"{reply.phrase} to a non-http URL", target)
            if request_key(target) in chain:
                return _Outcome(DEAD, reply.status, f"redirect loop ({len(chain)} URLs)", target)
            chain.append(request_key(target))
            current = target
        return _Outcome(DEAD, None, f"too many redirects (more than {self.options.max_redirects})", current)

    def judge(self, reply: _Reply, final_url: str | None, permanent: _Reply | None) -> _Outcome:
        if reply.status in self.options.accept:
            if permanent is not None:
                return _Outcome(WARNING, reply.status, f"permanent redirect ({permanent.phrase})", final_url)
            return _Outcome(OK, reply.status, reply.phrase, final_url)
        retry = reply.status == 429 or reply.status >= 500
        wait = parse_retry_after(reply.retry_after) if retry else None
        return _Outcome(DEAD, reply.status, reply.phrase, final_url, retry, wait)

    async def fetch(self, url: str) -> _Reply | _Outcome:
        """One hop: HEAD, or GET when the host refuses HEAD. Errors become outcomes.

        A host that asked for a long pause (Retry-After beyond rate_limit_after)
        is not asked again in this run: at 3,600 s, waiting and retrying would
        cost hours and prove nothing about the links."""
        host = host_key(url)
        reply = await self._request(host, url)
        if isinstance(reply, _Outcome):
            self._watch(host, reply)
        if isinstance(reply, _Reply) and reply.status in _RATE_LIMIT_STATUSES and reply.status not in self.options.accept:
            wait = parse_retry_after(reply.retry_after)
            if wait is not None and wait > self.options.rate_limit_after:
                self.rate_limited.setdefault(host, wait)
                return _Outcome(RATE_LIMITED, reply.status, f"{reply.phrase}; {_later(wait)}")
        return reply

    async def _request(self, host: str, url: str) -> _Reply | _Outcome:
        import httpx

        if _never_resolves(host):
            self.tried.add(host)
            return _Outcome(DEAD, None, "host not found", unreached=True)
        limit = self.hosts.setdefault(host, asyncio.Semaphore(self.options.host_concurrency))
        try:
            async with limit, self.slots:
                if host in self.rate_limited:  # asked while this request waited for its slot
                    return _Outcome(UNCHECKED, None, f"{HOST_LIMITED} ({_later(self.rate_limited[host])})")
                self.tried.add(host)
                if host not in self.get_only:
                    reply = await self._send("HEAD", url)
                    if reply.status not in _HEAD_REFUSED:
                        return reply
                    self.get_only.add(host)
                return await self._send("GET", url)
        except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
            reason = f"timeout after {self.options.timeout:g} s"
            return _Outcome(DEAD, None, reason, retry=True, unreached=isinstance(exc, httpx.ConnectTimeout))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return _Outcome(MALFORMED, None, f"cannot request: {exc}")
        except httpx.TransportError as exc:
            reason, retry = describe_error(exc)
            return _Outcome(DEAD, None, reason, retry=retry, unreached=_connect_failed(exc))

    async def _send(self, method: str, url: str) -> _Reply:
        """Headers only: a GET's body is never read (closing drops that connection)."""
        deadline = self.options.timeout * 2  # a server dripping bytes cannot hold us forever
        response = await asyncio.wait_for(self.client.send(self.client.build_request(method, url), stream=True), deadline)
        self.answered = True
        try:
            if method == "HEAD":
                await asyncio.wait_for(response.aread(), deadline)  # empty; lets the connection be reused
            return _Reply(response.status_code, response.headers.get("location"), response.headers.get("retry-after"))
        finally:
            await response.aclose()


async def _probe_names(hosts: list[str], deadline: float) -> None:
    """Raise NetworkUnreachable when not one of `hosts` resolves within `deadline` seconds.

    Without a network a resolver can take 10 s to say a name is not found (two tries of
    5 s), so waiting for the requests' own lookups to fail took that long; with one, a
    name resolves in milliseconds. An IP address needs no lookup and counts as resolved."""
    import ipaddress
    import socket

    if not hosts:
        return
    loop = asyncio.get_running_loop()

    async def resolves(host: str) -> str:
        """"" when `host` resolved, else why not."""
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host.strip("[]"))
            return ""
        if _never_resolves(host):
            return "host not found"
        try:
            await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), deadline)
        except asyncio.TimeoutError:
            return f"no name resolved in {deadline:g} s"
        except OSError:
            return "host not found"
        return ""

    tasks = [asyncio.ensure_future(resolves(host)) for host in hosts]
    try:
        for done in asyncio.as_completed(tasks):
            if not await done:
                return  # one name resolved: the network is there, the requests go ahead at once
    finally:
        for task in tasks:
            task.cancel()
    n, first = len(hosts), tasks[0].result()
    raise NetworkUnreachable(f"cannot reach any host ({n} of {n} failed: {first}); check the network, or run without --external")


@contextlib.asynccontextmanager
async def _lookup_threads(loop: asyncio.AbstractEventLoop, count: int):
    """Host names are looked up in the loop's default executor, a handful of threads (6 on two
    cores): behind one resolver that stalls (5 s, without a network) the other lookups queued in
    waves. One thread per request slot; and at the end the threads are left, not waited for, so
    a lookup stuck in the resolver cannot hold up the end of the check."""
    from concurrent.futures import ThreadPoolExecutor

    threads = ThreadPoolExecutor(max_workers=count, thread_name_prefix="newsarc-lookup")
    loop.set_default_executor(threads)
    try:
        yield
    finally:
        threads.shutdown(wait=False, cancel_futures=True)
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))  # never used: asyncio.run closes it at once


def _never_resolves(host: str) -> bool:
    """RFC 6761: resolvers should answer `.invalid` names 'no such name' at once; we do, without asking DNS."""
    host = host.rstrip(".")
    return host == "invalid" or host.endswith(".invalid")


def _connect_failed(exc: BaseException) -> bool:
    """No server was reached: a resolve or connect error, not a TLS handshake (a server answered that)."""
    import ssl

    import httpx

    if not isinstance(exc, httpx.ConnectError):
        return False
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLError):
            return False
        cause = cause.__cause__ or cause.__context__
    return True


def _unchecked_label(reason: str) -> str:
    return next((label for start, label in _UNCHECKED_LABELS.items() if reason.startswith(start)), reason)


def _later(wait: float) -> str:
    return f"the server asks to wait {wait:.0f} s; run again later"


@functools.lru_cache(maxsize=1)
def _tls_context() -> Any:
    """Loading the CA bundle costs ~60 ms: once per process, however many checks run."""
    import httpx

    return httpx.create_ssl_context()


def describe_error(exc: BaseException) -> tuple[str, bool]:
    """A person's words for a network failure, and whether trying again may help."""
    import ssl
    import socket

    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not valid ({cause.verify_message})", False
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})", False
        if isinstance(cause, socket.gaierror):
            return "host not found", True
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused", True
        if isinstance(cause, ConnectionResetError):
            return "connection reset", True
        if getattr(cause, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable" if cause.errno == errno.ENETUNREACH else "no route to host", True
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "without sending a response" in text or "disconnected" in text.lower():
        return "connection closed without a response", True
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__, True


def check(
    urls: Mapping[str, Sequence[Location]],
    options: CheckOptions | None = None,
    *,
    cache: ResultCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check `urls` (from `collect`). The caller saves the cache afterwards."""
    return LinkChecker(options, cache=cache, progress=progress).run(urls)


def check_events(events: Iterable[Event], options: CheckOptions | None = None, **kw: Any) -> Report:
    return check(collect(events), options, **kw)
