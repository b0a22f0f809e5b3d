"""The shape of the house: rooms a newcomer can hold in their head, and dependencies that show.

- no module of the layer over 400 lines;
- no import circle in the product (the layer, the local runtime, the handlers), counting imports
  inside functions as well as module-level ones;
- no import inside a function in the layer unless its line says what it saves a cold start, as
  measured (`# lazy: <what> costs <n> ms ... (bench/cold_import.py)`);
- models are imported from their area's module (load_manager.models.runs, …), never from the
  package itself nor from the old automation_models.

Run as a script (`python tests/unit/test_house.py`) it prints the findings without asserting.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
MAX_LINES = 400
# A lazy import's comment names its measured cost: "# lazy: boto3 costs 120 ms at import (bench/cold_import.py)".
LAZY_COMMENT = re.compile(r"#\s*lazy:.*\b\d+(\.\d+)?\s*ms\b.*bench/cold_import\.py")
# Every Python file of the project that may import models (product, tests, tools, docs hooks).
PROJECT_DIRS = ("layers", "src", "functions", "tests", "bench", "events", "docs/hooks", "examples")
OLD_MODEL_MODULES = ("load_manager.models", "load_manager.automation_models")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@cache
def product_modules() -> dict[str, Module]:
    """Module name -> file, for the layer, the local runtime and each handler (`functions.<name>.app`)."""
    found: dict[str, Module] = {}
    for base, top in ((LAYER, "load_manager"), (ROOT / "src", "load_manager_local")):
        for path in sorted((base / top).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = Module(name, path, is_package)
    for path in sorted((ROOT / "functions").glob("*/app.py")):
        name = f"functions.{path.parent.name}.app"
        found[name] = Module(name, path, False)
    return found


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_names(module: Module, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The product modules an import statement names: `from a.b import c` is a.b.c when that is a
    module, else a.b. (Parent packages run too, but that is not a dependency the code states.)"""
    modules = product_modules()
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        source = _absolute(module, node)
        targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names]
    return sorted({t for t in targets if t in modules})


def _imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with whether it runs inside a function (lazily)."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, in_function))
            walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    walk(tree, False)
    return found


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, module in product_modules().items():
        edges = graph.setdefault(name, set())
        for node, _ in _imports(_parsed(module.path)):
            edges.update(t for t in imported_names(module, node) if t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan), with one circle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
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
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, component) for component in components]


def _circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return component


def long_modules() -> list[tuple[str, int]]:
    found = []
    for path in sorted((LAYER / "load_manager").rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            found.append((path.relative_to(ROOT).as_posix(), lines))
    return found


def unexplained_lazy_imports() -> list[str]:
    found = []
    for path in sorted((LAYER / "load_manager").rglob("*.py")):
        lines = path.read_text().splitlines()
        for node, lazy in _imports(_parsed(path)):
            statement = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            if lazy and not any(LAZY_COMMENT.search(line) for line in statement):
                found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


def old_model_imports() -> list[str]:
    """Imports of names from the models package itself (not an area module) or from automation_models."""
    found = []
    areas = {m.stem for m in (LAYER / "load_manager" / "models").glob("*.py")}
    for directory in PROJECT_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if path.is_relative_to(LAYER / "load_manager" / "models"):
                continue  # the package's own modules
            try:
                tree = _parsed(path)
            except SyntaxError:
                continue  # not ours to judge here (ruff does)
            for node, _ in _imports(tree):
                if (
                    isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in OLD_MODEL_MODULES
                    and not (node.module == "load_manager.models" and all(alias.name in areas for alias in node.names))  # area modules
                ):
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: from {node.module} import ...")
                elif isinstance(node, ast.ImportFrom) and node.module == "load_manager" and any(
                    alias.name in ("models", "automation_models") for alias in node.names
                ):
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: from load_manager import models")
                elif isinstance(node, ast.Import) and any(alias.name in OLD_MODEL_MODULES for alias in node.names):
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: import {node.names[0].name}")
    return found


def test_no_module_of_the_layer_is_over_400_lines():
    long = long_modules()
    assert not long, "modules over 400 lines (split them along their seams):\n" + "\n".join(f"  {p}: {n}" for p, n in long)


def test_the_product_has_no_import_circle():
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


def test_lazy_imports_of_the_layer_state_their_measured_cost():
    found = unexplained_lazy_imports()
    assert not found, (
        "imports inside functions hide which way modules depend on each other; import at the top, or say on the line what it "
        "saves, as measured: `# lazy: <what> costs <n> ms at import (bench/cold_import.py)`\n" + "\n".join("  " + f for f in found)
    )


def test_models_are_imported_from_their_area():
    found = old_model_imports()
    assert not found, "import models from their area's module (load_manager.models.runs, ...):\n" + "\n".join("  " + f for f in found)


def test_the_graph_sees_circles_and_lazy_imports(tmp_path):
    # The checks themselves, on a made-up pair of modules: a function-level import closes a circle.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    tree = ast.parse("import os\n\ndef f():\n    import json  # lazy: json costs 3 ms at import (bench/cold_import.py)\n")
    assert [(type(n).__name__, lazy) for n, lazy in _imports(tree)] == [("Import", False), ("Import", True)]
    assert LAZY_COMMENT.search("import boto3  # lazy: boto3 costs 120 ms at import (bench/cold_import.py)")
    assert not LAZY_COMMENT.search("import boto3  # lazy: keeps boto3 off the cold path")


if __name__ == "__main__":

    def show(title: str, lines: list[str]) -> None:
        print(f"{title}: {len(lines)}", *("  " + line for line in lines), sep="\n")

    graph = import_graph()
    show(f"modules of the layer over {MAX_LINES} lines", [f"{p}: {n}" for p, n in long_modules()])
    show(f"import circles among {len(graph)} modules, {sum(map(len, graph.values()))} imports", [" -> ".join(c) for c in cycles(graph)])
    show("lazy imports without a measured cost", unexplained_lazy_imports())
    show("models imported from the package or automation_models", old_model_imports())
