"""settings.py: the NEWSARC_* variables are read there and nowhere below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from newsarc import settings
from newsarc.archive import Archive
from newsarc.errors import NewsarcError
from newsarc.settings import DEFAULT_MAX_FILE_SIZE, Settings

PACKAGE = Path(settings.__file__).parent
# The renderers keep the terminal's conventions (the same ones rich reads); nothing else.
TERMINAL = {"NO_COLOR", "TERM", "COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "GITHUB_WORKSPACE"}
_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _environment_reads(tree: ast.AST) -> list[tuple[int, str | None]]:
    """(line, variable name if a literal, else None) of every use of os.environ / os.getenv."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, None) for alias in node.names if alias.name in _READERS]
        elif isinstance(node, ast.Attribute) and node.attr in _READERS:
            found.append((node.lineno, None))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "environ" and node.args:
                key = node.args[0]
                found.append((node.lineno, key.value if isinstance(key, ast.Constant) else None))
        elif isinstance(node, ast.Compare) and any(
            isinstance(c, ast.Attribute) and c.attr == "environ" for c in node.comparators
        ):
            key = node.left
            found.append((node.lineno, key.value if isinstance(key, ast.Constant) else None))
    return found


def test_no_module_below_settings_reads_the_environment():
    offenders = []
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE).as_posix()
        if relative == "settings.py":
            continue
        reads = _environment_reads(ast.parse(file.read_text(encoding="utf-8"), str(file)))
        if relative.startswith("output/"):
            # A literal terminal variable is fine there; the bare `os.environ` attribute of that same read
            # is reported too (without a name), so drop those lines when a named read explains them.
            named = {line for line, name in reads if name in TERMINAL}
            reads = [(line, name) for line, name in reads if not (name in TERMINAL or (name is None and line in named))]
        offenders += [f"{relative}:{line} {name or ''}".strip() for line, name in reads]
    assert offenders == []


def test_the_check_finds_a_read(tmp_path):
    """The AST check above sees each way of reading a variable."""
    code = "import os\nfrom os import getenv\na = os.environ.get('X')\nb = os.getenv('Y')\nc = 'Z' in os.environ\n"
    lines = {line for line, _ in _environment_reads(ast.parse(code))}
    assert lines == {2, 3, 4, 5}


def test_an_empty_environment_gives_the_defaults():
    assert Settings.from_environment({}) == Settings()
    assert Settings() == Settings(
        archive=None, cache_dir=None, use_cache=True, url_cache=True, workers=None, max_file_size=16 << 20, debug=False
    )
    assert DEFAULT_MAX_FILE_SIZE == 16 << 20


def test_values_from_the_environment():
    environ = {
        "NEWSARC_ARCHIVE": "examples",
        "NEWSARC_CACHE_DIR": "~/somewhere",
        "NEWSARC_NO_CACHE": "1",
        "NEWSARC_WORKERS": "1",
        "NEWSARC_MAX_FILE_SIZE": "512k",
        "NEWSARC_DEBUG": "yes",
        "UNRELATED": "x",
    }
    found = Settings.from_environment(environ)
    assert found == Settings(
        archive="examples",
        cache_dir=Path("~/somewhere").expanduser(),
        use_cache=False,
        url_cache=False,  # as --no-cache: neither the index nor links.json
        workers=1,
        max_file_size=512 << 10,
        debug=True,
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 0), ("1234", 1234), ("16M", 16 << 20), ("512k", 512 << 10), ("1G", 1 << 30), (" 2 MiB ", 2 << 20), ("3kb", 3 << 10), ("", DEFAULT_MAX_FILE_SIZE), ("  ", DEFAULT_MAX_FILE_SIZE)],
)
def test_sizes(text, size):
    assert Settings.from_environment({"NEWSARC_MAX_FILE_SIZE": text}).max_file_size == size


@pytest.mark.parametrize("value", ["lots", "-5", "16Q", "1.5M"])
def test_a_bad_size_is_an_error_naming_the_variable(value):
    with pytest.raises(NewsarcError) as raised:
        Settings.from_environment({"NEWSARC_MAX_FILE_SIZE": value})
    assert raised.value.message == (
        f"NEWSARC_MAX_FILE_SIZE '{value}' is not a size; write bytes or a number with k, M or G (such as 16M)"
    )


def test_empty_or_other_values_count_as_unset():
    """As before settings.py: an empty variable is unset, and NEWSARC_WORKERS means something only as 1."""
    empty = {name: "" for name in settings.VARIABLES}
    assert Settings.from_environment(empty) == Settings()
    for value in ("2", "8", "one", " 1"):
        assert Settings.from_environment({"NEWSARC_WORKERS": value}).workers is None


def test_values_given_win_and_their_variable_is_not_read():
    """The command line's options: --max-file-size 1M works whatever NEWSARC_MAX_FILE_SIZE holds."""
    environ = {"NEWSARC_MAX_FILE_SIZE": "lots", "NEWSARC_CACHE_DIR": "/from/env", "NEWSARC_DEBUG": ""}
    found = Settings.from_environment(
        environ, max_file_size=1 << 20, cache_dir="/given", use_cache=False, url_cache=False, debug=True
    )
    assert (found.max_file_size, found.cache_dir, found.use_cache, found.url_cache, found.debug) == (
        1 << 20,
        Path("/given"),
        False,
        False,
        True,
    )
    assert Settings.from_environment({"NEWSARC_CACHE_DIR": "/from/env"}).cache_dir == Path("/from/env")


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().debug = True  # type: ignore[misc]


def test_current_follows_the_environment_until_settings_are_installed(monkeypatch):
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    assert settings.current().max_file_size == 64 << 10
    assert settings.current() is settings.current()  # built again only when a variable changed
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "1M")
    assert settings.current().max_file_size == 1 << 20
    chosen = Settings(max_file_size=5, workers=1)
    with settings.use(chosen):
        monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "2M")
        assert settings.current() is chosen and settings.installed() is chosen
    assert settings.installed() is None
    assert settings.current().max_file_size == 2 << 20
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "lots")
    with pytest.raises(NewsarcError):
        settings.current()
    with pytest.raises(NewsarcError):  # a bad value is not kept: asked again, it fails again
        settings.current()


def test_installed_settings_reach_the_library(builder, tmp_path, monkeypatch):
    builder.event("2017-08-13", "Floods on the Amazonas")
    monkeypatch.chdir(tmp_path)
    with settings.use(Settings(archive=str(builder.root), cache_dir=tmp_path / "chosen", use_cache=False)):
        archive = Archive.open()
        assert (archive.scope, archive.use_cache) == (builder.root.resolve(), False)
        assert settings.current().cache_dir == tmp_path / "chosen"
        from newsarc.index import cache
        from newsarc import cores
        from newsarc.reading import limits

        assert cache.default_dir() == tmp_path / "chosen"
        assert limits.max_file_size() == DEFAULT_MAX_FILE_SIZE
    with settings.use(Settings(workers=1, max_file_size=10)):
        assert cores.workers() == 1 and limits.over_limit(11) and not limits.over_limit(10)


def test_the_cli_installs_its_settings_for_one_invocation_only(cli, builder, monkeypatch):
    builder.event("2017-08-13", "Floods on the Amazonas")
    seen = []
    original = Archive.open.__func__

    def spy(cls, *args, **kwargs):
        seen.append(settings.current())
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Archive, "open", classmethod(spy))
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "lots")  # the option wins: the variable is not read
    result = cli("--max-file-size", "1M", "--debug", "list-by-date", "2017", "--no-cache", "-a", str(builder.root))
    assert result.exit_code == 0, result.stderr
    assert [(s.max_file_size, s.debug, s.use_cache, s.url_cache) for s in seen] == [(1 << 20, True, False, False)]
    assert settings.installed() is None
