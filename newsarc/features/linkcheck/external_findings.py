"""`validate-links --external`: the archive's http(s) links requested, and each bad URL made
a finding of the report, beside the offline checks' findings.

features/linkcheck/external.py requests URLs and knows nothing of findings; features/linkcheck/checks.py
checks the archive offline and knows nothing of HTTP. This is where the two meet, so
that the command line only turns options into this call and prints what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsarc import settings
from newsarc.errors import NewsarcError
from newsarc.features.linkcheck import external
from newsarc.features.linkcheck import checks as links
from newsarc.features.linkcheck.checks import ERROR, WARNING, Finding, Location, Report, Suggestion

if TYPE_CHECKING:
    from newsarc.archive import Archive
    from newsarc.features.linkcheck.url_cache import LinkCache

# Finding kinds for URLs, by the verdict of features/linkcheck/external.py.
URL_KINDS = {
    "dead": "dead-url", "malformed": "malformed-url", "warning": "moved-url",
    "rate-limited": "rate-limited-url", "unchecked": "unchecked-url",
}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """--external's choices, read and checked before the archive is."""

    options: external.CheckOptions
    warn: bool  # --external=warn: dead links are warnings
    cache_file: Path | None
    max_age: float  # seconds a cached success stands
    no_cache: bool  # --no-url-cache


def checked_settings(
    mode: str | None,
    *,
    max_concurrency: int | None = None,
    host_concurrency: int | None = None,
    timeout: float | None = None,
    max_time: float | None = None,
    accept: str | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    cache_file: Path | None = None,
    max_cache_age: str | None = None,
    no_url_cache: bool = False,
) -> Settings:
    """The settings the options say (None: the default); a bad one is a usage error, before any work."""
    from newsarc.features.linkcheck.url_cache import DEFAULT_MAX_AGE, parse_age

    if mode not in (None, "warn", "error"):
        raise NewsarcError(f"--external={mode}: say --external (dead links are errors) or --external=warn")
    defaults = external.CheckOptions()
    options = external.CheckOptions(
        max_concurrency=max_concurrency or defaults.max_concurrency,
        host_concurrency=host_concurrency or defaults.host_concurrency,
        timeout=timeout or defaults.timeout,
        max_time=max_time,
        accept=external.parse_accept(accept) if accept is not None else defaults.accept,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
    )
    external.UrlFilter(options.include, options.exclude)  # a bad pattern
    age = parse_age(max_cache_age) if max_cache_age is not None else DEFAULT_MAX_AGE
    return Settings(options, mode == "warn", cache_file, age, bool(no_url_cache))


def check_with(
    archive: Archive, paths: Sequence[Path] | None, report: Report, chosen: Settings, *, strict: bool, progress: Callable | None = None
) -> tuple[external.Report, str]:
    """`check` with the URL cache `chosen` names: its report, and why the cache could not be saved ('' when it was)."""
    cache = url_cache(chosen.cache_file, chosen.max_age, chosen.no_cache)
    result = check(archive, paths, report, chosen.options, warn=chosen.warn, strict=strict, cache=cache, progress=progress)
    return result, cache.problem if cache is not None and cache.problem else ""


def url_cache(cache_file: Path | None, max_age: float, off: bool) -> LinkCache | None:
    """The URL result cache: links.json follows the index cache (--cache-dir, NEWSARC_CACHE_DIR),
    and --no-cache turns both off; `off` is --no-url-cache."""
    from newsarc.features.linkcheck.url_cache import LinkCache, default_path

    chosen = settings.current()
    if off or not chosen.url_cache:
        return None
    return LinkCache.load(cache_file or default_path(chosen.cache_dir), max_age)


def check(
    archive: Archive,
    paths: Sequence[Path] | None,
    report: Report,
    options: external.CheckOptions,
    *,
    warn: bool,
    strict: bool,
    cache: LinkCache | None = None,
    progress: Callable | None = None,
) -> external.Report:
    """Request the http(s) links of the files `report` covers; add the bad ones to it, in order.

    Returns external.check's report (for the summary and the exit status); the
    cache is saved, and says in `problem` when it could not be."""
    from newsarc.features.linkcheck import every_link as linkpass

    src = report.sources if report.sources is not None else links.sources(archive, paths or None)
    urls = external.gather(linkpass.every_file(archive, src, external.written_urls))
    result = external.check(urls, options, cache=cache, progress=progress)
    if cache is not None:
        cache.save()
    report.findings = sorted([*report.findings, *findings(result, warn, strict)], key=Finding.sort_key)
    report.checks.append("external")
    report.skipped.pop("external", None)
    report.external = 0  # every external link was considered; the summary line says which were not requested
    return result


def findings(result: external.Report, warn: bool, strict: bool) -> Iterable[Finding]:
    """One finding per bad URL, at its first use, with every other use in `also`."""
    found = []
    for item in result.of_kind(*URL_KINDS):
        first, *rest = item.locations
        serious = item.kind in (external.DEAD, external.MALFORMED) and not warn
        moved = item.kind == external.WARNING and item.final_url
        found.append(
            Finding(
                first.path,
                first.line,
                first.column,
                item.url,
                URL_KINDS[item.kind],
                message(item),
                ERROR if serious or strict else WARNING,
                target=item.final_url or item.url,
                suggestions=[Suggestion(item.final_url, "where it redirects now")] if moved else [],
                also=[Location(p.path, p.line, p.column) for p in rest],
            )
        )
    return found


def message(item: external.UrlResult) -> str:
    if item.kind == "malformed":
        return f"malformed URL {item.url}: {item.reason}"
    if item.kind == "warning":
        return f"{item.url} moved: {item.reason}"
    if item.kind == "rate-limited":
        return f"{item.url} rate-limited: {item.reason}"
    if item.kind == "unchecked":
        return f"{item.url} {item.reason}"
    after = f" (after redirects to {item.final_url})" if item.final_url else ""
    return f"dead link {item.url}: {item.reason}{after}"
