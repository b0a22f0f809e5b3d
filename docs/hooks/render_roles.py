"""The route x role table: `load_manager.access.ROUTE_ROLES`, the one table the API enforces, each
route with what it does (openapi.json's summary) and a link to its operation. A route of
openapi.json without a line, or a line for no route, fails the build."""

from __future__ import annotations

from typing import Any

from markdown_text import code, prose, table

from load_manager.access import PUBLIC, ROLES, ROUTE_ROLES

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Route key as the template spells it (`{path+}` for OpenAPI's greedy `{path}`) -> operation."""
    found = {}
    for path, methods in spec["paths"].items():
        for method in METHODS:
            if method in methods:
                found[f"{method.upper()} {path.replace('{path}', '{path+}')}"] = methods[method]
    return found


def route_roles(spec: dict[str, Any]) -> str:
    operations = _operations(spec)
    missing, stray = sorted(set(operations) - set(ROUTE_ROLES)), sorted(set(ROUTE_ROLES) - set(operations))
    if missing or stray:
        raise RuntimeError(f"access.ROUTE_ROLES and openapi.json disagree: no line for {missing}, a line for no route {stray}")
    rank = {role: i for i, role in enumerate((PUBLIC, *ROLES))}
    rows = []
    for key in sorted(ROUTE_ROLES, key=lambda k: (rank[ROUTE_ROLES[k]], k.split(" ", 1)[1], METHODS.index(k.split(" ", 1)[0].lower()))):
        operation = operations[key]
        need = "none (no authentication)" if ROUTE_ROLES[key] == PUBLIC else code(ROUTE_ROLES[key])
        rows.append((f"[{code(key)}](api.md#{operation['operationId']})", need, prose(operation.get("summary") or "")))
    return table(("route", "least role", "what it does"), rows)
