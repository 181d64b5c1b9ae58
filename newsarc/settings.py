"""The settings a run works under: the NEWSARC_* variables, read here and nowhere below.

`Settings` holds every value the library takes from the environment, already
checked (a bad NEWSARC_MAX_FILE_SIZE is one error, raised before any file is
read). Code deep in the library asks `current()` for the value it needs (the
parser's size limit, how many processes to fork, where the index lives) instead
of having it threaded through every call; `_read` is the one function that
looks at the environment (tests/test_settings.py checks that no other module of
the package does, apart from the renderers' terminal conventions in output/).

When the environment is read:

- The CLI builds one `Settings` per invocation, from the variables and the
  global options (--no-cache, --cache-dir, --max-file-size, --debug), before
  any command runs, and installs it for that invocation only (cli/app.py). A
  command therefore sees one consistent set of values and reads the
  environment once; nothing it calls reads it again. The installation ends
  with the invocation, so a command's options never leak into library calls
  made later in the same process (the tests run the CLI in-process).
- A library caller that installed nothing (`Archive.open(...)` from Python,
  shell completion, the test suite) gets the environment as it is at the call:
  `current()` reads the variables again each time and builds new `Settings`
  only when one of them changed. Tests change the variables per test with
  monkeypatch (conftest's NEWSARC_CACHE_DIR, NEWSARC_MAX_FILE_SIZE,
  NEWSARC_WORKERS=1) and expect the next call to obey; a value kept from the
  first read would leak from one test into the next. Reading them costs a few
  dictionary lookups, paid only by callers that installed nothing. A caller
  that wants fixed values, or values not from the environment, runs its code
  inside `use(Settings(...))`.

The settings live in a module global, not a context variable: the threads a
command starts (freshness checks, URL checks) and the processes it forks must
see the same values, and threads do not inherit a context variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newsarc.errors import NewsarcError

DEFAULT_MAX_FILE_SIZE = 16 << 20
SIZE_VARIABLE = "NEWSARC_MAX_FILE_SIZE"
# Every variable newsarc reads, for `_read`. NEWSARC_ARCHIVE and NEWSARC_CACHE_DIR are also the
# defaults of the CLI's --archive and --cache-dir (click reads them there, and its --help names them).
VARIABLES = (
    "NEWSARC_ARCHIVE",
    "NEWSARC_CACHE_DIR",
    "NEWSARC_NO_CACHE",
    "NEWSARC_WORKERS",
    SIZE_VARIABLE,
    "NEWSARC_DEBUG",
)
_SIZE = re.compile(r"(\d+)\s*([kKmMgG]?)(?:i?[bB])?")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str, name: str = SIZE_VARIABLE) -> int:
    """`16M`, `512k`, `1G` or bytes (`0`: no limit); NewsarcError naming `name` otherwise."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise NewsarcError(f"{name} '{text}' is not a size; write bytes or a number with k, M or G (such as 16M)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class Settings:
    """What a run works under. The defaults are those of an empty environment."""

    # NEWSARC_ARCHIVE: the folder Archive.open reads when given none (None: the current folder).
    archive: str | None = None
    # --cache-dir or NEWSARC_CACHE_DIR: where the index (and links.json) live; None: the user cache folder.
    cache_dir: Path | None = None
    # False with --no-cache or NEWSARC_NO_CACHE: the index is neither read nor written.
    use_cache: bool = True
    # False with --no-cache or NEWSARC_NO_CACHE (the variable says what the option says):
    # validate-links --external neither reads nor writes links.json.
    url_cache: bool = True
    # How many processes share a job: 1 with NEWSARC_WORKERS=1 (every step in this process);
    # None: every core, at most 4 (cores.workers). Only the value 1 is read from the variable.
    workers: int | None = None
    # --max-file-size or NEWSARC_MAX_FILE_SIZE: files larger than this many bytes are not parsed (0: no limit).
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # --debug or NEWSARC_DEBUG: errors come with their traceback.
    debug: bool = False

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        archive: str | None = None,
        cache_dir: str | Path | None = None,
        use_cache: bool | None = None,
        url_cache: bool | None = None,
        workers: int | None = None,
        max_file_size: int | None = None,
        debug: bool | None = None,
    ) -> Settings:
        """The settings that `environ` (default: this process's environment) gives.

        A value passed here (the command line's; None: not given) wins over its
        variable, which is then not even checked: `--max-file-size 1M` works
        whatever NEWSARC_MAX_FILE_SIZE holds. Raises NewsarcError for a bad value."""
        return _parse(
            _read(environ),
            archive=archive,
            cache_dir=cache_dir,
            use_cache=use_cache,
            url_cache=url_cache,
            workers=workers,
            max_file_size=max_file_size,
            debug=debug,
        )


def _read(environ: Mapping[str, str] | None = None) -> tuple[str | None, ...]:
    """The one function that reads the environment: each of VARIABLES' values (None: unset)."""
    source = os.environ if environ is None else environ
    return tuple(source.get(name) for name in VARIABLES)


def _parse(
    raw: tuple[str | None, ...],
    *,
    archive: str | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool | None = None,
    url_cache: bool | None = None,
    workers: int | None = None,
    max_file_size: int | None = None,
    debug: bool | None = None,
) -> Settings:
    """Settings from `_read`'s values; what is given wins. An empty variable counts as unset."""
    env_archive, env_cache_dir, env_no_cache, env_workers, env_size, env_debug = raw
    if cache_dir is None and env_cache_dir:
        cache_dir = env_cache_dir
    if max_file_size is None:
        max_file_size = DEFAULT_MAX_FILE_SIZE if env_size is None or not env_size.strip() else parse_size(env_size)
    return Settings(
        archive=archive if archive is not None else env_archive or None,
        cache_dir=Path(cache_dir).expanduser() if cache_dir is not None else None,
        use_cache=use_cache if use_cache is not None else not env_no_cache,
        url_cache=url_cache if url_cache is not None else not env_no_cache,
        workers=workers if workers is not None else (1 if env_workers == "1" else None),
        max_file_size=max_file_size,
        debug=debug if debug is not None else bool(env_debug),
    )


_installed: Settings | None = None
_seen: tuple[tuple[str | None, ...], Settings] | None = None  # current()'s last read: (values, settings)


def current() -> Settings:
    """The settings in effect: those installed (the CLI's, or `use`'s), else the environment's now."""
    global _seen
    if _installed is not None:
        return _installed
    raw = _read()
    seen = _seen
    if seen is None or seen[0] != raw:
        seen = _seen = (raw, _parse(raw))  # a bad value raises here, and is not kept
    return seen[1]


def installed() -> Settings | None:
    """The settings installed, if any (None: current() follows the environment)."""
    return _installed


def install(chosen: Settings | None) -> Settings | None:
    """Make `chosen` the settings in effect (None: the environment's again); returns those it replaces."""
    global _installed
    previous, _installed = _installed, chosen
    return previous


@contextmanager
def use(chosen: Settings) -> Iterator[Settings]:
    """`chosen` in effect inside the block; what was in effect before, after it."""
    previous = install(chosen)
    try:
        yield chosen
    finally:
        install(previous)


def debug_requested(environ: Mapping[str, str] | None = None) -> bool:
    """NEWSARC_DEBUG alone: the CLI's error boundary asks it when building the settings failed
    (another variable was wrong), when no `Settings` can say."""
    return bool(_read(environ)[VARIABLES.index("NEWSARC_DEBUG")])
