"""Scoped configuration: what applies to a run is the most specific match (account -> org -> project
-> env -> test). Cluster configurations (usecases/clusters.py) and variables and secrets
(usecases/variables.py) both resolve this way.

An entry matches a run when each scope field it sets equals the run's; among matches the one that
sets the deepest level wins. Org, project and env nest (an env is named within its project, a
project within its org); a test's own entries name the test alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from load_manager.errors import UnprocessableError

LEVELS = ("account", "org", "project", "env", "test")


class Scoped(Protocol):
    @property
    def org_id(self) -> str | None: ...

    @property
    def project_id(self) -> str | None: ...

    @property
    def env_id(self) -> str | None: ...


@dataclass(frozen=True)
class RunScope:
    """Where a run is: its test's org and project, its env, the test itself."""

    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    test_id: str | None = None


S = TypeVar("S", bound="Scoped")


def _fields(entry: Scoped) -> tuple[str | None, ...]:
    return entry.org_id, entry.project_id, entry.env_id, getattr(entry, "test_id", None)


def specificity(entry: Scoped) -> int:
    """0 account, 1 org, 2 project, 3 env, 4 test: the deepest level the entry sets."""
    return max((level for level, value in enumerate(_fields(entry), start=1) if value), default=0)


def level_of(entry: Scoped) -> str:
    return LEVELS[specificity(entry)]


def matches(entry: Scoped, scope: RunScope) -> bool:
    wanted = _fields(entry)
    actual = (scope.org_id, scope.project_id, scope.env_id, scope.test_id)
    return all(want is None or want == have for want, have in zip(wanted, actual, strict=True))


def most_specific(entries: list[S], scope: RunScope) -> S | None:
    candidates = [entry for entry in entries if matches(entry, scope)]
    return max(candidates, key=specificity) if candidates else None


def scope_key(entry: Scoped) -> str:
    """The unique key of an entry's scope within its account, e.g. `shop/*/*/*`."""
    return "/".join(part or "*" for part in _fields(entry))


def check_nesting(org_id: str | None, project_id: str | None, env_id: str | None, test_id: str | None = None) -> None:
    if env_id and not project_id or project_id and not org_id:
        raise UnprocessableError("scopes nest org -> project -> env: set the levels above", code="InvalidScope")
    if test_id and (org_id or project_id or env_id):
        raise UnprocessableError("a test's own entries name the test alone (it has its org and project)", code="InvalidScope")
