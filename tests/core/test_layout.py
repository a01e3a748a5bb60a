"""The codebase's shape: imports flow one way (no cycles, function-level imports included),
the core never imports a plugin, and the pure core loads no HTTP client."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import paths

ROOT = paths.ROOT


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "plugins":
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


class _Imports(ast.NodeVisitor):
    """Every module one file imports, at any depth, outside ``if TYPE_CHECKING``."""

    def __init__(self, name: str, is_package: bool) -> None:
        self.package = name if is_package else name.rpartition(".")[0]
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(a.name for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.package
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        self.found.add(base)
        self.found.update(f"{base}.{a.name}" for a in node.names)


def _graph() -> dict[str, set[str]]:
    files = [p for top in ("slotfinder", "plugins") for p in (ROOT / top).rglob("*.py")]
    modules = {_module(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        graph[name] = {d for d in visitor.found if d in modules and d != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        trail.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles() -> None:
    """No module imports, however indirectly or late, a module that imports it."""
    assert _cycle(_graph()) is None


def test_the_core_never_imports_a_plugin() -> None:
    """slotfinder/ knows no provider by name."""
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("slotfinder.") or name == "slotfinder":
            assert not {d for d in deps if d.startswith("slotfinder_")}, name


def test_the_library_path_imports_no_simulator() -> None:
    """get_providers() and the hook specifications leave slotfinder.testing unloaded."""
    code = (
        "import sys; from slotfinder.plugins import get_providers; get_providers(); "
        "print(sorted(m for m in sys.modules if m.startswith('slotfinder.testing') "
        "or m.endswith('.simulator') or m == 'aiohttp.web'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
