"""What the ECS end-to-end tests share (tests/ecs): the figures collected at Finalize, starting a run
on the ECS backend through the API, and the check that nothing is left running afterwards. The
`ecs_run` fixture that wires them is tests/ecs/conftest.py's."""

from __future__ import annotations

from dataclasses import dataclass, field

from load_manager.backends.base import FinalResults
from support.ecs_standin import EcsStandIn
from support.runs import create_test, start_run

USERS = 4


@dataclass
class Collected:
    """What the master answered at Finalize, to hold the run's figures against."""

    results: list[FinalResults] = field(default_factory=list)
    # With `recheck`, the master's total once more, read long after collect (past a worker report
    # interval and the stats cache): collect must already have had every worker's last report.
    recheck: bool = False
    later_totals: list[int] = field(default_factory=list)


def start(client, target_url: str, script: str, duration: int, workers: int = 2) -> dict:
    test_id = create_test(client, script, target_url)
    run = start_run(client, test_id, targetUsers=USERS, spawnRate=USERS, durationSeconds=duration, workers=workers)
    assert run["backend"] == "ecs"
    return run


def assert_nothing_left(standin: EcsStandIn) -> None:
    assert standin.wait_until_stopped(15), "a task's process outlived the run"
    running = standin.moto_ecs.list_tasks(cluster=standin.settings.cluster, desiredStatus="RUNNING")["taskArns"]
    assert running == [], "ECS still has running tasks"
