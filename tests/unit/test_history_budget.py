"""A 24 h run must stay under Step Functions' 25,000-event execution history limit.

The bound is computed from the state machine definition itself: the states on the poll loop,
the history events each state type writes (AWS documentation: a Lambda task writes
TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited; Wait and Choice
write Entered and Exited), and the poll interval the workflow picks for the duration.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from load_manager.lifecycle.polling import EVENTS_PER_POLL_LOOP, HISTORY_EVENT_LIMIT, poll_interval_seconds

DEFINITION = json.loads((Path(__file__).resolve().parents[2] / "statemachine" / "run_lifecycle.asl.json").read_text())
EVENTS_PER_STATE = {"Task": 5, "Wait": 2, "Choice": 2, "Pass": 2, "Succeed": 2, "Fail": 1}
STATES = DEFINITION["States"]


def poll_loop() -> list[str]:
    """The cycle through PollRun: follow Next/Default from the Wait until it comes back."""
    start = next(name for name, state in STATES.items() if state["Type"] == "Wait")
    loop, current = [], start
    while True:
        loop.append(current)
        state = STATES[current]
        current = state.get("Next") or state.get("Default")
        if current == start:
            return loop
        assert current and current not in loop, f"no loop back to {start}"


def events(names: list[str]) -> int:
    return sum(EVENTS_PER_STATE[STATES[n]["Type"]] for n in names)


def worst_case_outside_loop() -> int:
    """Execution start/end, StartRun, its Choice, Finalize and MarkFailed, each retried to the
    maximum (a failed attempt writes as many events as a successful one)."""
    total = 2  # ExecutionStarted + ExecutionSucceeded/Failed
    for name, state in STATES.items():
        if name in poll_loop():
            continue
        attempts = 1 + sum(r["MaxAttempts"] for r in state.get("Retry", []))
        total += EVENTS_PER_STATE[state["Type"]] * attempts
    return total


def test_events_per_poll_loop_matches_the_definition():
    assert events(poll_loop()) == EVENTS_PER_POLL_LOOP
    assert [STATES[n]["Type"] for n in poll_loop()] == ["Wait", "Task", "Choice"]


@pytest.mark.parametrize("duration", [30, 600, 3600, 6 * 3600, 24 * 3600])
@pytest.mark.parametrize("min_poll", [1, 5])
def test_a_run_stays_under_the_history_limit(duration, min_poll):
    margin = 120
    interval = poll_interval_seconds(duration, margin, EVENTS_PER_POLL_LOOP, min_poll)
    loops = -(-(duration + margin) // interval)  # ceil: the run is polled until its deadline
    # PollRun retries on BackendError: allow every tenth poll to be retried once.
    poll_task = next(n for n in poll_loop() if STATES[n]["Type"] == "Task")
    retry_events = (loops // 10) * EVENTS_PER_STATE[STATES[poll_task]["Type"]]
    total = loops * events(poll_loop()) + retry_events + worst_case_outside_loop()
    assert total < HISTORY_EVENT_LIMIT, (duration, interval, total)


def test_short_runs_poll_at_the_minimum_interval():
    assert poll_interval_seconds(30, 120, EVENTS_PER_POLL_LOOP, 1) == 1
    assert poll_interval_seconds(24 * 3600, 120, EVENTS_PER_POLL_LOOP, 1) > 30
