"""How often PollRun runs, so one execution stays well under Step Functions' history limit.

Each poll loop adds a fixed number of history events (Wait + PollRun task + Choice); the interval
is stretched for long runs so that (duration + deadline margin) / interval loops fit the budget.
"""

from __future__ import annotations

import math

HISTORY_EVENT_LIMIT = 25_000
# Events we allow the poll loop to use: the rest covers StartRun, Finalize, retries and slack.
POLL_LOOP_EVENT_BUDGET = 20_000
MAX_POLL_SECONDS = 60


def poll_interval_seconds(duration_seconds: int, margin_seconds: int, events_per_loop: int, min_seconds: int) -> int:
    """The smallest interval >= min_seconds whose loop count fits the event budget."""
    loops_allowed = POLL_LOOP_EVENT_BUDGET // events_per_loop
    needed = math.ceil((duration_seconds + margin_seconds) / loops_allowed)
    return max(min_seconds, min(MAX_POLL_SECONDS, needed))


# Wait (entered + exited) + PollRun Lambda task (entered, scheduled, started, succeeded, exited)
# + IsRunOver choice (entered + exited). Checked against the ASL definition by a test.
EVENTS_PER_POLL_LOOP = 9
