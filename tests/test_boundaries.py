"""The package boundaries of ARCHITECTURE.md, read from the source with ``ast``: every import counts,
at module level, inside a function (a lazy import is still a dependency) or under ``if TYPE_CHECKING:``
(a typing-only import still ties two modules together)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive", "scraper", "jobs", "redline")
FORBIDDEN = {
    "archive": {"scrapy", "twisted", "trafilatura", "scraper", "jobs", "redline"},
    "scraper": {"jobs", "redline"},
    "jobs": {"scraper", "redline"},  # jobs reaches the crawler only through the python -m scraper child
}
# archive's floors, lowest first: a module may import its own floor and the floors below it, never above.
# The root modules (vocab, clock, capture, crawls, errors) are the ground floor.
FLOORS = ("text", "schema", "watch", "queries", "exports", "proof", "store")


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
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _floor(module: str) -> int:
    """0 for archive's root modules, then 1.. for each sub-package in FLOORS."""
    parts = module.split(".")
    return FLOORS.index(parts[1]) + 1 if len(parts) > 2 or (len(parts) == 2 and parts[1] in FLOORS) else 0


MODULES = _modules()


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_in_the_allowed_directions(package: str) -> None:
    bad = sorted(f"{name} imports {imported}" for name, path in MODULES.items() if name.split(".")[0] == package
                 for imported in _imports(path) if imported.split(".")[0] in FORBIDDEN[package])
    assert not bad, bad


def test_archive_floors_import_only_downwards() -> None:
    bad = sorted(f"{name} imports {imported}" for name, path in MODULES.items() if name.startswith("archive")
                 for imported in _imports(path) if imported in MODULES and imported.startswith("archive.")
                 and _floor(imported) > _floor(name))
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


def test_no_package_init_imports_the_orm() -> None:
    """View commands stay free of the ORM: importing a sub-package must not map the classes."""
    bad = sorted(name for name, path in MODULES.items() if path.name == "__init__.py"
                 for imported in _imports(path) if imported.startswith(("sqlalchemy.orm", "archive.schema.models",
                                                                          "archive.schema.schedule_models")))
    assert not bad, bad


def test_the_check_sees_lazy_and_typing_only_imports() -> None:
    """A guard on the guard: imports inside functions count (redline.cli imports scraper lazily), and so do
    imports under TYPE_CHECKING (archive.queries.json_shapes names the query results only for typing)."""
    assert "scraper.reextract" in _imports(MODULES["redline.cli"])
    assert "archive.queries.AlertEntry" in _imports(MODULES["archive.queries.json_shapes"])
    assert _floor("archive.vocab") == 0 < _floor("archive.text.diff") < _floor("archive.store.writer")


def test_migrations_never_import_live_code() -> None:
    """A migration runs against the schema of its own revision: live code may read columns a later revision
    adds, or change its rule, so each carries frozen copies of what it needs (0004, 0015)."""
    bad = sorted(f"{path.name}: {imported}" for path in (ROOT / "archive" / "migrations" / "versions").glob("*.py")
                 for imported in _imports(path) if imported.split(".")[0] in PACKAGES)
    assert not bad, bad
