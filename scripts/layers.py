#!/usr/bin/env python3
"""Check that django_solidq's imports follow its layers (docs/architecture.md, "Layers").

Every module belongs to a layer; a module may import from its own layer or a lower one, and
only at module level (an import inside a function is how a cycle hides), unless its line says
why it must wait with a ``# late import: <reason>`` comment (after ``django.setup()`` in a fresh
child process; an optional dependency). Two packages of the
same layer that are marked as walls (runtime, admin) may not import each other. Inside one
package, sibling modules must not import each other in a circle.

    python scripts/layers.py            # prints each violation, exits 1 if there is any

Only the standard library is used, so it runs before anything is installed.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_solidq"

# Lowest first. The key is the first component under django_solidq ("" is the package root).
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {"exceptions", "errors", "signals", "conf", "arguments", "schedule", "concurrency"}
        | {"retries", "joblog"},
    ),
    ("vendor operations", {"ops", "operations"}),
    ("models", {"models", "migrations"}),
    (
        "services",
        {"backend", "tasks", "results", "recurring", "checks", "health", "routers"}
        | {"hooks", "db_retry", "verified"},
    ),
    ("actors and admin", {"runtime", "admin", "metrics"}),
    ("entry points", {"testing", "management"}),
    ("app", {"apps", ""}),
]
RANK = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}
# Same layer, but neither may import the other: the admin reads the queue, actors run it.
WALLS = {frozenset({"runtime", "admin"}), frozenset({"runtime", "metrics"})}
# Where an import inside a function is the point: AppConfig.ready() runs once models are loaded.
LATE_IMPORTS_ALLOWED = {f"{PACKAGE}.apps"}


@dataclass(frozen=True)
class Import:
    source: str  # dotted module doing the import
    target: str  # dotted module imported (django_solidq.*)
    line: int
    nested: bool  # inside a function or class body, not at module level


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _targets(node: ast.stmt, source: str, is_package: bool) -> list[str]:
    """The django_solidq modules an import statement names (none for other statements)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if node.level:
            base = source.split(".")[: None if is_package else -1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
        # "from pkg import x": x may be a submodule; existing() falls back to pkg if not.
        names = [f"{module}.{alias.name}" for alias in node.names]
    else:
        return []
    return [name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")]


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in a compound statement (if/try/with/for/while/match)."""
    blocks: list[list[ast.stmt]] = []
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(node, field, ()):
            is_clause = isinstance(child, (ast.ExceptHandler, ast.match_case))
            blocks.append(child.body if is_clause else [child])
    return blocks


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    source = module_name(path, root)
    is_package = path.name == "__init__.py"
    text = path.read_text()
    lines = text.splitlines()
    found: list[Import] = []

    def visit(body: list[ast.stmt], nested: bool) -> None:
        for node in body:
            if _type_checking(node):
                continue  # annotations only, never executed
            late = nested and "# late import:" not in lines[node.lineno - 1]
            for target in _targets(node, source, is_package):
                found.append(Import(source, target, node.lineno, late))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(node.body, True)
            else:
                for block in _blocks(node):
                    visit(block, nested)

    visit(ast.parse(text, str(path)).body, False)
    return found


def part_of(module: str) -> str:
    rest = module.split(".")[1:]
    return rest[0] if rest else ""


def existing(target: str, modules: set[str]) -> str:
    """The module a dotted import names (``pkg.mod.Class`` is not a thing, ``pkg.mod`` is)."""
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _problem(imp: Import, target: str, where: Path) -> list[str]:
    source_part, target_part = part_of(imp.source), part_of(target)
    if source_part not in RANK:
        return [f"{where}: {source_part!r} has no layer (add it to LAYERS in {__file__})"]
    found = []
    if imp.nested and imp.source not in LATE_IMPORTS_ALLOWED:
        found.append(f"{where}:{imp.line}: imports {target} inside a function")
    if target_part not in RANK:
        return found
    if RANK[target_part] > RANK[source_part]:
        low, high = LAYERS[RANK[source_part]][0], LAYERS[RANK[target_part]][0]
        found.append(f"{where}:{imp.line}: {imp.source} ({low}) imports {target} ({high})")
    elif frozenset({source_part, target_part}) in WALLS:
        found.append(f"{where}:{imp.line}: {source_part} must not import {target}")
    return found


def violations(root: Path = ROOT) -> list[str]:
    """Every layer violation of the django_solidq package under ``root``."""
    paths = sorted((root / PACKAGE).rglob("*.py"))
    modules = {module_name(path, root) for path in paths}
    problems: list[str] = []
    graph: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        for imp in imports_of(path, root):
            target = existing(imp.target, modules)
            problems += _problem(imp, target, path.relative_to(root))
            if target != imp.source and not imp.nested:
                graph[imp.source].add(target)
    for component in cycles(graph):
        problems.append("import cycle: " + " <-> ".join(component))
    return sorted(set(problems))


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} layer violation(s); see docs/architecture.md, Layers")
        return 1
    print("layers: every import points down, none inside a function, no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
