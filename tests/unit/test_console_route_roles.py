"""The console's table of the role each control's API route needs (console/src/access.js) says what
the API's own table says (load_manager.access.ROUTE_ROLES), and every route the console's code asks
about is in it: a control can only be hidden from those the API would refuse."""

from __future__ import annotations

import re
from pathlib import Path

from load_manager.access import ROLES, ROUTE_ROLES

SRC = Path(__file__).resolve().parents[2] / "console" / "src"
ACCESS_JS = SRC / "access.js"
# A route key as template.yaml spells it, quoted in JavaScript: 'PUT /v1/load-tests/{testId}/script'.
ROUTE_KEY = re.compile(r"""['"`]((?:GET|POST|PUT|PATCH|DELETE) /v1/[^'"`\s]*)['"`]""")


def _console_table() -> dict[str, str]:
    text = ACCESS_JS.read_text(encoding="utf-8")
    body = re.search(r"export const ROUTE_ROLES = \{(?P<body>.*?)\n\};", text, re.S)
    assert body, "access.js has no ROUTE_ROLES table"
    lines = re.findall(r"""^\s*'([^']+)': '(\w+)',$""", body["body"], re.M)
    assert len(lines) == len([line for line in body["body"].splitlines() if line.strip()]), "a line of ROUTE_ROLES is not 'ROUTE': 'role',"
    return dict(lines)


def test_the_console_knows_the_roles_in_their_order():
    text = ACCESS_JS.read_text(encoding="utf-8")
    assert re.search(r"export const ROLES = \[(.*?)\];", text)[1] == ", ".join(f"'{role}'" for role in ROLES)


def test_each_route_of_the_console_table_needs_the_role_the_api_table_says():
    table = _console_table()
    assert table, "access.js names no route"
    assert {route: role for route, role in table.items() if ROUTE_ROLES.get(route) != role} == {}, "access.js disagrees with access.py"


def test_every_route_the_console_asks_about_is_in_its_table_and_every_line_is_asked_about():
    table = _console_table()
    asked = {}
    for path in SRC.rglob("*.js"):
        if path != ACCESS_JS:
            for route in ROUTE_KEY.findall(path.read_text(encoding="utf-8")):
                asked.setdefault(route, path.relative_to(SRC).as_posix())
    assert len(asked) >= 20, asked  # the pages do ask: the pattern still finds their routes
    assert {route: where for route, where in asked.items() if route not in table} == {}
    assert set(table) - set(asked) == set(), "a line of access.js that no control asks about"
