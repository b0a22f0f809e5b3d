"""template.yaml declares what runs without a human need, wired as the code expects (the lint and
`sam build` checks of the whole template are in test_template.py)."""

from __future__ import annotations

from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE, _ = decode(str(ROOT / "template.yaml"))
RESOURCES = TEMPLATE["Resources"]


def _statements(function: str) -> list[dict]:
    out = []
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        if isinstance(policy, dict) and "Statement" in policy:
            out += policy["Statement"]
    return out


def test_the_bus_the_triggers_function_and_its_invocation_paths_are_declared():
    assert RESOURCES["LoadManagerEventBus"]["Type"] == "AWS::Events::EventBus"
    assert RESOURCES["LoadTestScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    triggers = RESOURCES["TriggersFunction"]["Properties"]
    assert triggers["CodeUri"] == "functions/triggers/" and triggers["Handler"] == "app.lambda_handler"
    env = triggers["Environment"]["Variables"]
    assert {"EVENT_BUS_NAME", "TRIGGERS_FUNCTION_ARN", "SCHEDULER_ROLE_ARN", "SCHEDULE_GROUP", "AUTOMATION_DLQ_ARN", "RUN_STATE_MACHINE_ARN"} <= set(env)
    assert env["TRIGGER_RULE_PREFIX"] == "lm-trigger-"
    # Rules invoke it: one permission for every rule the function creates on its bus.
    permission = RESOURCES["TriggerRulesInvokePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com" and permission["Action"] == "lambda:InvokeFunction"
    assert "rule/${LoadManagerEventBus}/lm-trigger-*" in str(permission["SourceArn"])
    # Scheduler invokes it through its role, which the function passes when it writes schedules.
    role = RESOURCES["SchedulerInvokeRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "lambda:InvokeFunction" in str(role["Policies"])
    actions = {a for s in _statements("TriggersFunction") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule", "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "iam:PassRole"} <= actions  # fmt: skip
    # Retries end in the dead-letter queue, never in a loop.
    assert triggers["EventInvokeConfig"]["MaximumRetryAttempts"] == 2
    assert triggers["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_the_run_workflow_publishes_on_the_bus_and_aws_events_are_forwarded_to_it():
    workflow = RESOURCES["RunWorkflowFunction"]["Properties"]
    assert "EVENT_BUS_NAME" in workflow["Environment"]["Variables"] and "PUBLIC_BASE_URL" in workflow["Environment"]["Variables"]
    assert any(isinstance(p, dict) and "EventBridgePutEventsPolicy" in p for p in workflow["Policies"])
    forward = RESOURCES["ForwardAwsEventsRule"]["Properties"]
    assert forward["EventBusName"] == "default" and "LoadManagerEventBus" in str(forward["Targets"])
    assert TEMPLATE["Parameters"]["ForwardedEventSources"]["Default"] == "aws.codedeploy"
