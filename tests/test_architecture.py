"""The layout's rules, read from the source: no import cycles, widgets over the public API.

Why from the source (ast) rather than at run time: a cycle hidden behind a function-level
import still ties two modules together, and only a full read of every import statement sees
it. Imports under `if TYPE_CHECKING:` are the one exception: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ideogram_nb"

#: Private core modules the widgets may use besides the public `ideogram_nb` namespace:
#: the defaults (one config module for everything), the spec field types the param -> widget
#: table dispatches on, and the listener list behind every `on_*(callback, remove=False)`.
WIDGETS_ALLOWED_PRIVATE = {"ideogram_nb._callbacks", "ideogram_nb._config", "ideogram_nb._specs._fields"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> Iterator[str]:
    """Every module this file imports at run time (module- or function-level), absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    yield from walk(other)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    yield sub if sub in MODULES else target
            elif isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            yield from walk(child)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")))


GRAPH = {name: {m for m in runtime_imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: every group of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_checker_finds_a_cycle_and_ignores_type_checking_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._store import X\ndef f():\n    from ._x import y\n"
    probe = PACKAGE / "_probe_architecture_test.py"
    probe.write_text(source)
    try:
        MODULES["ideogram_nb._x"] = probe
        found = set(runtime_imports(probe))
    finally:
        probe.unlink()
        MODULES.pop("ideogram_nb._x", None)
    assert "ideogram_nb._x" in found  # function-level imports count
    assert not any("_store" in m for m in found)  # TYPE_CHECKING imports do not


def test_no_import_cycles_outside_type_checking():
    assert strongly_connected(GRAPH) == []


def test_core_never_imports_widgets_or_ipywidgets():
    for name, path in MODULES.items():
        if name.startswith("ideogram_nb.widgets"):
            continue
        imported = set(runtime_imports(path))
        assert not {m for m in imported if m.split(".")[0] in {"ipywidgets", "ipycanvas"}}, name
        assert not {m for m in imported if m.startswith("ideogram_nb.widgets")}, name


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("ideogram_nb.widgets.")))
def test_widgets_use_only_the_public_api_and_the_allow_list(name):
    private = {
        m
        for m in runtime_imports(MODULES[name])
        if m.startswith("ideogram_nb.") and not m.startswith("ideogram_nb.widgets")
    }
    assert private <= WIDGETS_ALLOWED_PRIVATE, f"{name} reaches into {sorted(private - WIDGETS_ALLOWED_PRIVATE)}"
