"""Deleting a load test as the template deploys it (tests/support/template_harness.py): the test's
trigger rule, schedule, own secret and notification channel are removed by LoadTestsFunction right
after the delete, every call authorized against its role's policies as template.yaml writes them;
and when that function may not (its cleanup policy taken away: the calls are denied), the DELETE
still answers 204 and the sweeper, minutes later, removes them under its own policies.

What is set by hand is only time: the sweep runs past its grace period without the test waiting."""

from __future__ import annotations

import pytest
from support.clock import FakeClock, installed
from support.runs import create_test
from support.scripts import SIMPLE
from support.template_harness import TemplateHarness

from load_manager.ids import wall_clock_ms
from load_manager.lifecycle.sweeper import GRACE_SECONDS
from load_manager_local.sweeper_clock import SCHEDULED_EVENT

pytestmark = pytest.mark.timeout(240)

PATTERN = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}
CLEANUP_POLICY = "managed:DeletedTestCleanupPolicy"
# What removing each dependent calls: the trigger's rule, the schedule, the secret's value, the channel's resources.
REMOVALS = ("events:RemoveTargets", "events:DeleteRule", "scheduler:DeleteSchedule", "secretsmanager:DeleteSecret", "events:DeleteApiDestination",
            "events:DeleteConnection")  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with TemplateHarness(tmp_path_factory.mktemp("deleted-tests-stack")) as harness:
        call(harness, "POST", "/v1/event-sources", {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "checkout"}, 201)
        yield harness


def call(stack, method: str, path: str, body=None, status: int = 200):
    answer = stack.api.request(method, path, body=body)
    assert answer.status == status, answer.json()
    return answer.json() if answer.status != 204 else None


def automated_test(stack) -> tuple[str, dict]:
    """A test with a trigger, a schedule, a secret and a notification channel of its own, through the API."""
    test_id = create_test(stack.api, SIMPLE, "http://127.0.0.1:9")
    own = {
        "trigger": call(stack, "POST", f"/v1/load-tests/{test_id}/triggers", {"name": "deploys", "eventPattern": PATTERN}, 201),
        "schedule": call(stack, "POST", f"/v1/load-tests/{test_id}/schedules", {"name": "nightly", "cron": "0 3 * * *"}, 201),
        "secret": call(stack, "PUT", "/v1/secrets", {"testId": test_id, "name": "API_TOKEN", "value": "s3cr3t-of-the-test"}),
        "channel": call(stack, "POST", "/v1/notification-channels",
                        {"name": "team", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/x", "testId": test_id}, 201),
    }  # fmt: skip
    return test_id, own


def present(stack, own: dict) -> dict[str, bool]:
    """Which of the dependents' AWS resources exist (a Secrets Manager secret scheduled for deletion does not)."""
    events, scheduler, secrets = stack._client("events"), stack._client("scheduler"), stack._client("secretsmanager")
    automation = stack.settings["TriggersFunction"].automation
    secret_name = f"{stack.settings['ClustersFunction'].secrets_prefix}local/{own['secret']['id']}"

    def exists(read) -> bool:
        try:
            answer = read()
        except Exception as exc:  # noqa: BLE001 - a missing resource is each service's own not-found error
            assert "NotFound" in type(exc).__name__ or "NotFound" in str(exc), exc
            return False
        return "DeletedDate" not in answer

    return {
        "rule": exists(lambda: events.describe_rule(Name=own["trigger"]["ruleName"], EventBusName=automation.event_bus_name)),
        "schedule": exists(lambda: scheduler.get_schedule(Name=own["schedule"]["schedulerName"], GroupName=automation.schedule_group)),
        "secret": exists(lambda: secrets.describe_secret(SecretId=secret_name)),
        "channel rule": exists(lambda: events.describe_rule(Name=own["channel"]["ruleName"], EventBusName=automation.event_bus_name)),
        "connection": exists(lambda: events.describe_connection(Name=own["channel"]["ruleName"])),
        "api destination": exists(lambda: events.describe_api_destination(Name=own["channel"]["ruleName"])),
    }


def assert_allowed(stack, since: int, principal: str) -> None:
    denied = stack.iam.denied(since)
    assert denied == [], "\n".join(map(str, denied))
    made = {d.action for d in stack.iam.decisions[since:] if d.principal == principal}
    missing = [action for action in REMOVALS if action not in made]
    assert not missing, f"{principal} never called {missing}"


def test_deleting_a_test_removes_its_rule_schedule_secret_and_channel_as_the_template_allows(stack):
    test_id, own = automated_test(stack)
    assert set(present(stack, own).values()) == {True}
    since = stack.iam.mark()
    call(stack, "DELETE", f"/v1/load-tests/{test_id}", status=204)
    assert_allowed(stack, since, "LoadTestsFunction")
    assert set(present(stack, own).values()) == {False}, present(stack, own)
    assert call(stack, "GET", "/v1/secrets")["items"] == []
    assert call(stack, "GET", "/v1/notification-channels")["items"] == []
    call(stack, "GET", f"/v1/load-tests/{test_id}/triggers", status=404)


def test_what_the_delete_could_not_remove_is_removed_by_the_sweeper_as_the_template_allows(stack):
    test_id, own = automated_test(stack)
    since = stack.iam.mark()
    with stack.iam.without("LoadTestsFunction", source=CLEANUP_POLICY):
        call(stack, "DELETE", f"/v1/load-tests/{test_id}", status=204)  # the test is gone; its removals were refused
    assert {d.principal for d in stack.iam.denied(since)} == {"LoadTestsFunction"}
    assert set(present(stack, own).values()) == {True}
    call(stack, "GET", f"/v1/load-tests/{test_id}", status=404)

    since = stack.iam.mark()
    with installed(FakeClock(wall_clock_ms() + (GRACE_SECONDS + 60) * 1000)):  # the sweeper's next invocation, minutes on
        report = stack.invoke("SweeperFunction", dict(SCHEDULED_EVENT))
    kinds = sorted(entry.split("/")[1] for entry in report["leftovers_removed"])
    assert kinds == ["notificationChannel", "schedule", "secret", "trigger"] and report["errors"] == 0, report
    assert_allowed(stack, since, "SweeperFunction")
    assert set(present(stack, own).values()) == {False}, present(stack, own)
