"""The deployment's settings (layers/core/load_manager/settings.py), rendered from the code.

Which environment variable feeds which field is read from `Settings.from_env` itself with `ast`:
every dict entry `"field": <expression reading env>` (nested dicts, and helpers handed `env` such
as `_automation_from_env(env)`, give the field's path), and every variable table, a module-level
`{"field": "VARIABLE"}` dict handed to a helper with `env` (`_from_env(env, QUOTA_VARIABLES)`).
Types, defaults and bounds come from the pydantic models, comments from the fields' source. A
variable the module reads (by name, or in a variable table) that this walk cannot place on a field
fails the build.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from pathlib import Path
from typing import Any

from markdown_text import code, prose, table

MODULE = Path(__file__).resolve().parents[2] / "layers/core/load_manager/settings.py"
VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _env_names(node: ast.AST) -> list[str]:
    """Variables an expression reads: env.get("X", ...) and env["X"]."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "get" and _is_env(sub.func.value):
            first = sub.args[0] if sub.args else None
        elif isinstance(sub, ast.Subscript) and _is_env(sub.value):
            first = sub.slice
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append(first.value)
    return found


def _passes_env(call: ast.Call) -> bool:
    """A helper handed the whole environment (`_automation_from_env(env)`) fills a nested model."""
    return any(_is_env(arg) for arg in call.args)


def _is_env(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "env"


def _tables(tree: ast.Module) -> dict[str, dict[str, str]]:
    """Module-level variable tables: NAME = {"field": "VARIABLE", ...}."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Dict):
            pairs = list(zip(node.value.keys, node.value.values, strict=True))
            if pairs and all(_constant(k) and _constant(v) and VARIABLE.match(v.value) for k, v in pairs):  # type: ignore[attr-defined]
                found[node.targets[0].id] = {k.value: v.value for k, v in pairs}  # type: ignore[union-attr,attr-defined]
    return found


def _constant(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


class _Walker:
    def __init__(self, tree: ast.Module):
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        self.tables = _tables(tree)
        self.rows: dict[str, tuple[list[str], str]] = {}  # field path -> (variables, how it is read)
        self._handled: set[int] = set()

    def function(self, name: str, prefix: str) -> None:
        body = self.functions[name]
        # Locals a field is computed from (data_dir, has_mongo): their reads count as the field's.
        local = {t.id: n.value for n in ast.walk(body) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(body):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
                self.entries(node.value, prefix, local)
        for node in ast.walk(body):  # a table merged in outside a dict entry: `values | _from_env(env, TABLE)`
            if isinstance(node, ast.Call) and id(node) not in self._handled and self._table_of(node):
                self.table(node, prefix)

    def _table_of(self, call: ast.Call) -> str | None:
        names = [arg.id for arg in call.args if isinstance(arg, ast.Name) and arg.id in self.tables]
        return names[0] if names and _passes_env(call) else None

    def table(self, call: ast.Call, prefix: str) -> None:
        self._handled.add(id(call))
        name = self._table_of(call)
        assert name is not None
        for field, variable in self.tables[name].items():
            self.rows[prefix + field] = ([variable], f"env[{variable!r}] when set, through {ast.unparse(call)}")

    def entries(self, node: ast.Dict, prefix: str, local: dict[str, ast.expr]) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if not isinstance(key, ast.Constant):
                continue
            path = prefix + str(key.value)
            if isinstance(value, ast.Dict):
                self.entries(value, path + ".", local)
            elif isinstance(value, ast.Call) and self._table_of(value):
                self.table(value, path + ".")
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in self.functions and _passes_env(value):
                self.function(value.func.id, path + ".")
            else:
                used = [n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in local and _env_names(local[n.id])]
                variables = _env_names(value) + [v for name in used for v in _env_names(local[name])]
                if variables:
                    read_as = "; ".join([ast.unparse(value)] + [f"{name} = {ast.unparse(local[name])}" for name in dict.fromkeys(used)])
                    self.rows[path] = (list(dict.fromkeys(variables)), read_as)


def _field_info(model: Any, path: str) -> tuple[Any, dict[str, str]]:
    from load_manager.settings_types import field_facts

    *parents, name = path.split(".")
    for parent in parents:
        model = field_facts(model, parent).annotation
    return field_facts(model, name), _comments(model)


def _comments(model: Any) -> dict[str, str]:
    """A field's comment: on its own line, or the lines just above it."""
    import inspect

    lines, _ = inspect.getsourcelines(model)
    found, above = {}, []
    for line in lines:
        stripped = line.strip()
        field = re.match(r"^(\w+)\s*:", stripped)
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
        elif field:
            trailing = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            # A one- or two-word line above a field is a section heading ("# Runs"), not about the field.
            kept = above if len(" ".join(above).split()) > 2 else []
            found[field.group(1)] = " ".join([*kept, trailing]).strip()
            above = []
        else:
            above = []
    return found


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(code(value) for value in typing.get_args(annotation))
    if origin is tuple:
        return "comma-separated list"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(field: Any) -> list[str]:
    found = []
    for item in field.metadata:
        for attr, words in (("ge", "≥"), ("le", "≤"), ("min_length", "min length")):
            if getattr(item, attr, None) is not None:
                found.append(f"{words} {getattr(item, attr)}")
    return found


def _default(value: Any) -> str:
    if value is None or value == ():
        return ""
    return code(json.dumps(value) if isinstance(value, str) else value)


def _placed(tree: ast.Module) -> _Walker:
    walker = _Walker(tree)
    walker.function("from_env", "")
    return walker


def variables_read(tree: ast.Module) -> set[str]:
    """Every variable the module reads: by name (env.get("X")), or in a variable table."""
    return set(_env_names(tree)) | {v for table in _tables(tree).values() for v in table.values()}


def settings(template_environments: dict[str, dict[str, Any]]) -> str:
    """One section per model (the settings, then `ecs`, `automation`...), each field a definition:
    its variables and path, type, default and bounds, its comment, how it is read, where the
    template sets it."""
    from load_manager.settings import Settings

    tree = ast.parse(MODULE.read_text())
    walker = _placed(tree)
    placed = {variable for variables, _ in walker.rows.values() for variable in variables}
    missing = variables_read(tree) - placed
    if missing:
        raise RuntimeError(f"{MODULE}: variables read but not placed on a field: {sorted(missing)}")
    set_by = _set_by(template_environments)
    sections: dict[str, list[str]] = {}
    for path, (variables, expression) in walker.rows.items():
        field, comments = _field_info(Settings, path)
        default = _default(field.default)
        facts = "; ".join([_type_name(field.annotation)] + ([f"default {default}"] if default else []) + _bounds(field))
        comment = prose(comments.get(path.rsplit(".", 1)[-1], ""))
        paragraphs = [f"{facts}." + (f" {comment[0].upper() + comment[1:]}{'' if comment.endswith('.') else '.'}" if comment else "")]
        paragraphs.append(f"Read as {code(expression)}.")
        paragraphs += [f"`template.yaml` sets {code(v)}: {set_by[v].replace('<br>', '; ')}." for v in variables if v in set_by]
        term = f"{', '.join(code(v) for v in variables)} → {code(path)}"
        entry = term + "\n:   " + "\n\n    ".join(paragraphs) + "\n"
        sections.setdefault(path.rsplit(".", 1)[0] if "." in path else "", []).append(entry)
    return "\n".join(_section(Settings, prefix) + "\n".join(entries) for prefix, entries in sections.items())


def _section(model: Any, prefix: str) -> str:
    if not prefix:
        return "### The deployment\n\n"
    from load_manager.settings_types import field_facts

    nested = field_facts(model, prefix).annotation
    doc = prose(" ".join((nested.__doc__ or "").split()))
    return f"### `{prefix}`\n\n{doc}\n\n"


def _set_by(environments: dict[str, dict[str, Any]]) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for where, variables in environments.items():
        for name, value in variables.items():
            found.setdefault(name, []).append(f"{where}: {code(value)}")
    return {name: "<br>".join(places) for name, places in found.items()}


def other_variables(template_environments: dict[str, dict[str, Any]]) -> str:
    """What the template sets that Settings does not read (Powertools' own, the functions' own)."""
    read = variables_read(ast.parse(MODULE.read_text()))
    set_by = _set_by(template_environments)
    rows = [[code(name), places] for name, places in sorted(set_by.items()) if name not in read]
    return table(["Variable", "Set in template.yaml"], rows)
