"""The ECS stand-in (tests/support/ecs_standin.py): Fargate tasks as local processes."""

from __future__ import annotations

import pytest
from support.ecs_standin import EcsStandIn


@pytest.fixture
def ecs_standin(tmp_path):
    """A started stand-in; every process and server it started is stopped afterwards, pass or fail.
    Task directories (logs, TMPDIR) stay under tmp_path for a failed test's post-mortem."""
    with EcsStandIn(root=tmp_path / "ecs-tasks") as standin:
        yield standin
