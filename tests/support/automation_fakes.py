"""In-memory stand-ins for the bus's rules and Scheduler's schedules (the `EventRules` and
`Schedules` adapters the automation use cases take), for tests that need no moto."""

from __future__ import annotations

from load_manager.errors import AutomationUnavailableError


class FakeRules:
    """`failing`: every delete raises as an unreachable EventBridge does."""

    def __init__(self, failing: bool = False):
        self.rules: dict[str, dict] = {}
        self.failing = failing

    def put(self, name, pattern, target_input, description, enabled=True):
        self.rules[name] = {"pattern": pattern, "input": target_input, "enabled": enabled}

    def delete(self, name):
        if self.failing:
            raise AutomationUnavailableError("EventBridge is unavailable (ThrottlingException); nothing was changed, retry later")
        self.rules.pop(name, None)


class FakeSchedules:
    def __init__(self):
        self.schedules: dict[str, object] = {}

    def put(self, definition):
        self.schedules[definition.name] = definition

    def delete(self, name):
        self.schedules.pop(name, None)
