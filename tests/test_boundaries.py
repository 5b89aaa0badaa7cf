"""The package boundaries of ARCHITECTURE.md, read from the source with ``ast``: every import
counts, at module level or inside a function (a lazy import is still a dependency), except
those under ``if TYPE_CHECKING:``."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive", "scraper", "jobs", "redline")
FORBIDDEN = {
    "archive": {"scrapy", "twisted", "trafilatura", "scraper", "jobs", "redline"},
    "scraper": {"jobs", "redline"},
    "jobs": {"scraper"},  # jobs reaches the crawler only through the python -m scraper child
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for stmt in block.body for node in ast.walk(stmt)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


MODULES = _modules()


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_in_the_allowed_directions(package: str) -> None:
    bad = sorted(f"{name} imports {imported}" for name, path in MODULES.items() if name.split(".")[0] == package
                 for imported in _imports(path) if imported.split(".")[0] in FORBIDDEN[package])
    assert not bad, bad


def test_no_import_cycles_between_modules() -> None:
    graph = {name: {i for i in _imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_the_check_sees_lazy_imports() -> None:
    """A guard on the guard: imports inside functions count (redline.cli imports scraper lazily)."""
    assert "scraper.reextract" in _imports(MODULES["redline.cli"])
