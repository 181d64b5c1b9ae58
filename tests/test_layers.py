"""The package's folders are its floors, and imports only point down (README, "Architecture").

Read from the source with `ast`, function-level imports included: a module that
imports from a floor above it, or below `output/` imports rich or typer, fails
here with the line to move.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "newsarc"
# Top-level modules every floor may use; then the floors, from the bottom up.
BASE = {"newsarc", "newsarc.__init__", "newsarc.errors", "newsarc.settings", "newsarc.model", "newsarc.cores"}
FLOORS = ["newsarc.reading", "newsarc.index", "newsarc.features", "newsarc.output", "newsarc.cli"]
FLOOR_OF_MODULE = {"newsarc.archive": "newsarc.index", "newsarc.__main__": "newsarc.cli"}  # the facade; the entry point


def floor(module: str) -> int:
    """0 for the base modules, then 1.. for each folder of FLOORS."""
    if module in BASE:
        return 0
    module = next((f for m, f in FLOOR_OF_MODULE.items() if module == m or module.startswith(m + ".")), module)
    for k, name in enumerate(FLOORS, 1):
        if module == name or module.startswith(name + "."):
            return k
    raise AssertionError(f"{module} sits on no floor: put it in a folder of FLOORS, or add it to BASE")


@cache
def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module imported) for every import of the file, relative ones resolved."""
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
            # `from newsarc.reading import dates` imports the module newsarc.reading.dates
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if base.startswith("newsarc")]
    return found


KNOWN = {m for m, _ in modules()}


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_imports_point_down(module, path):
    own = floor(module)
    for line, imported in imports(path, module):
        if not imported.startswith("newsarc"):
            continue
        target = imported
        while target not in KNOWN and "." in target:
            target = target.rpartition(".")[0]  # a name imported from a module: that module's floor
        assert floor(target) <= own, f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}, a floor above it"


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_only_rendering_and_the_cli_know_rich_and_typer(module, path):
    if floor(module) >= FLOORS.index("newsarc.output") + 1:
        return
    for line, imported in imports(path, module):
        assert imported.split(".")[0] not in {"rich", "typer", "click"}, f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}"


def test_every_floor_is_a_folder_with_modules():
    for name in FLOORS:
        folder = PACKAGE.parent / name.replace(".", "/")
        assert (folder / "__init__.py").is_file() and len(list(folder.glob("*.py"))) > 1, folder
