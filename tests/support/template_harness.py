"""The stack of template.yaml, for tests: every function runs with exactly the environment
CloudFormation would give it, on AWS resources created in moto from the template, and every AWS call
it makes is authorized against its role's policies as the template writes them.

    with TemplateHarness(tmp_path) as stack:
        stack.api.request("POST", "/v1/load-tests", body=...)     # API Gateway -> the real handlers
        stack.put_events([...]); stack.fire_schedules(now)      # EventBridge, Scheduler
        stack.iam.denied()                                      # what IAM would have refused

How (src/load_manager_local/stack.py does the template part):
- template.yaml goes through SAM's own translator with the parameters' defaults (VpcId, SubnetIds
  and LambdaSecurityGroupId: a VPC, two subnets and a security group created here in moto's EC2);
  each function's environment is its translated `Environment.Variables` (Globals merged) with every
  intrinsic resolved to the resources created here, plus what Lambda's runtime sets
  (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, ...).
- Resources, as the template declares them: the ECS cluster, both task definitions (registered from
  the template's container definitions and roles), the S3 bucket, the log group, the event bus, the
  Scheduler group, the dead-letter queue, the IAM roles, the tasks' security group, and the state
  machine from statemachine/run_lifecycle.asl.json with its DefinitionSubstitutions, run by moto's
  interpreter (load_manager_local.stepfunctions), its Lambda tasks dispatched to the real
  run_workflow handler. Anything else is named as CloudFormation would name it (NamingResolver).
- A request with an Authorization header goes through the HTTP API's Lambda authorizer first (the
  AuthorizerFunction, its answers cached per header for the template's TTL: gateway_authorizer.py),
  and its context reaches the route's function; without one, the caller is the local default one.
- Every invocation (API route, authorizer, state machine task, rule target, schedule) runs the function's real
  handler inside `settings_scope(Settings.from_env(<its environment>))`, with `iam_check.CALLER`
  naming it. Nothing else is set by hand: no set_settings, no backend factory, no clock.
- IAM (tests/support/iam_check.py): every AWS call of a function is authorized against its role's
  policies (inline, SAM's policy templates as translated, the template's managed policies); so are
  the invocations AWS services make: the state machine's role invoking run_workflow, a rule invoking
  the triggers function (its AWS::Lambda::Permission), a schedule's role invoking it, API Gateway
  invoking the authorizer (the permission SAM writes for it).
- ECS Fargate is the ECS stand-in (tests/support/ecs_standin.py): tasks are local processes
  running real Locust; its moto server answers ECS, S3, CloudWatch Logs and EC2 over HTTP, and the
  functions' own clients of it get its hooks (tasks as processes, security groups as its network model).

The two deviations from AWS that cannot be avoided here:
1. The store: no MongoDB server runs on these machines, so the functions (STORE_BACKEND=mongo in
   their environment) are given a SQLite store (see `_install_store`).
2. Endpoints: ECS, S3, CloudWatch Logs and EC2 are the stand-in's server on 127.0.0.1, so each
   function's environment also carries AWS_ENDPOINT_URL_ECS / _S3 / _CLOUDWATCH_LOGS / _EC2, and the
   process environment too (botocore reads os.environ, and every function of this process shares
   it, as it shares AWS_REGION); Step Functions, EventBridge and Scheduler are moto in process.
(And where several Lambda execution environments would each have their own, this one process has
one: module-level caches, which `_fresh_execution_environment` empties at start and stop.)
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3

from load_manager.settings import Settings, settings_scope
from load_manager_local.api import InProcessApi
from load_manager_local.aws import Deliveries, JsonLines, aws_event, render_input
from load_manager_local.functions import load_function, project_root
from load_manager_local.scheduler import Fired, LocalScheduler
from load_manager_local.stack import DEFAULT_ACCOUNT_ID, Policy, Stack, StackFunction, function_environment
from load_manager_local.stack_names import NamingResolver
from load_manager_local.stepfunctions import InProcessStepFunctions, LambdaContext, LambdaServiceError
from load_manager_local.template import HttpRoute
from support.ecs_standin import EcsStandIn
from support.iam_check import CALLER, Decision, IamCheck, Principal
from support.iam_operations import Facts, Request

TEMPLATE = project_root() / "template.yaml"
STACK_NAME = "lm-harness"
REGION = "us-east-1"
# What Lambda puts in a function's environment for its role's session (moto accepts anything).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
STANDIN_SERVICES = ("ECS", "S3", "CLOUDWATCH_LOGS", "EC2")  # botocore's AWS_ENDPOINT_URL_<service id>
EVENTS_PRINCIPAL = "events.amazonaws.com"
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


class TemplateHarness:
    def __init__(self, root: Path, parameters: Mapping[str, str | list[str]] | None = None, *, stack_name: str = STACK_NAME):
        self.root = Path(root)
        self.parameter_overrides = dict(parameters or {})
        self.stack_name = stack_name
        self._stack = ExitStack()
        self._task_definitions: dict[str, Mapping[str, Any]] = {}
        self.functions: dict[str, StackFunction] = {}
        self.environments: dict[str, dict[str, str]] = {}
        self.settings: dict[str, Settings] = {}

    # ---- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> TemplateHarness:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> TemplateHarness:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.standin = self._stack.enter_context(EcsStandIn(root=self.root / "ecs-tasks", region=REGION))
            self._stack.enter_context(patch.dict(os.environ, {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, **self.endpoints}))
            self.sfn = InProcessStepFunctions(region=REGION)
            self._stack.enter_context(self.sfn)
            self._provision()
            self._configure_functions()
            self._install_iam()
            self._install_store()
            self._fresh_execution_environment()
            self._stack.callback(self._fresh_execution_environment)
            self._wire_invocations()
            self.api = TemplateApi(self)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stack.close()

    @property
    def endpoints(self) -> dict[str, str]:
        return {f"AWS_ENDPOINT_URL_{service}": self.standin.endpoint_url for service in STANDIN_SERVICES}

    # ---- what tests use ---------------------------------------------------------------------------

    def invoke(self, logical_id: str, event: Any, context: Any = None) -> Any:
        """Run the function's real handler with its template environment, as Lambda would."""
        function = self.functions[logical_id]
        assert function.code_dir is not None and function.handler.startswith("app."), function
        handler = getattr(load_function(function.code_dir.name), function.handler.split(".", 1)[1])
        context = context or LambdaContext(function.name, function.arn, timeout_s=function.timeout, memory_limit_in_mb=function.memory_size)
        token = CALLER.set(logical_id)
        try:
            with settings_scope(self.settings[logical_id]):
                return handler(event, context)
        finally:
            CALLER.reset(token)

    def invoke_authorizer(self, logical_id: str, authorizer_name: str, event: Any) -> Any:
        """API Gateway invokes the HTTP API's Lambda authorizer: the function's resource policy (the
        permission SAM writes for it) must let this API's authorizers invoke it."""
        api_id = self.resolver.ref("HttpApi")
        source = f"arn:aws:execute-api:{REGION}:{DEFAULT_ACCOUNT_ID}:{api_id}/authorizers/{authorizer_name}"
        request = Request("lambda:InvokeFunction", self.functions[logical_id].arn, {"aws:SourceArn": source, "aws:SourceAccount": DEFAULT_ACCOUNT_ID})
        if not all(d.allowed for d in self.iam.authorize(APIGATEWAY_PRINCIPAL, "apigateway:authorizer", [request])):
            raise LambdaServiceError("AccessDeniedException", f"API Gateway may not invoke {logical_id}", 403)  # API Gateway answers 500
        return self.invoke(logical_id, event)

    def put_events(self, entries: list[dict[str, Any]]) -> list[str]:
        """Someone else (not a function of the stack) puts events; returns their ids."""
        answer = self._events.put_events(Entries=entries)
        assert not answer.get("FailedEntryCount"), answer
        return [entry["EventId"] for entry in answer["Entries"]]

    def fire_schedules(self, now: datetime) -> list[Fired]:
        """EventBridge Scheduler's clock at `now`: the occurrences due since the last call fire."""
        return self.scheduler.fire_due(now)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every asynchronous invocation (rule targets, schedules) has been handled."""
        self.deliveries.drain(timeout)

    def function(self, logical_id: str) -> StackFunction:
        return self.functions[logical_id]

    # ---- set-up -----------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def _provision(self) -> None:
        ec2 = self._client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):  # as Fargate VPCs have (moto's task ENIs need it)
            ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        lambda_group = ec2.create_security_group(GroupName="run-workflow-lambda", Description="run_workflow Lambda", VpcId=vpc)["GroupId"]
        parameters = {"VpcId": vpc, "SubnetIds": subnets, "LambdaSecurityGroupId": lambda_group, **self.parameter_overrides}
        self.stack = Stack(TEMPLATE, parameters, name=self.stack_name, region=REGION, account_id=DEFAULT_ACCOUNT_ID)
        self.resolver = NamingResolver(self.stack)
        known, stack, resolver = self.resolver.known, self.stack, self.resolver

        tasks_group = stack.resolve(stack.resource("LocustTasksSecurityGroup")["Properties"], resolver)
        created = ec2.create_security_group(GroupName=resolver.name("LocustTasksSecurityGroup"), Description=tasks_group["GroupDescription"], VpcId=tasks_group["VpcId"])
        known[("LocustTasksSecurityGroup", "Ref")] = created["GroupId"]
        iam = self._client("iam")
        for logical_id, resource in stack.resources("AWS::IAM::Role").items():
            trust = stack.resolve(resource["Properties"]["AssumeRolePolicyDocument"], resolver)
            known[(logical_id, "Arn")] = iam.create_role(RoleName=resolver.name(logical_id), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self._client("logs").create_log_group(logGroupName=resolver.name("LocustLogGroup"))
        known[("LocustCluster", "Arn")] = self._client("ecs").create_cluster(clusterName=resolver.name("LocustCluster"))["cluster"]["clusterArn"]
        self._client("s3").create_bucket(Bucket=resolver.name("LocustArtifactsBucket"))
        self._events = self._client("events")
        for logical_id in stack.resources("AWS::Events::EventBus"):
            self._events.create_event_bus(Name=resolver.name(logical_id))
        for logical_id in stack.resources("AWS::Scheduler::ScheduleGroup"):
            self._client("scheduler").create_schedule_group(Name=resolver.name(logical_id))
        sqs = self._client("sqs")
        for logical_id in stack.resources("AWS::SQS::Queue"):
            url = sqs.create_queue(QueueName=resolver.name(logical_id))["QueueUrl"]
            known[(logical_id, "Ref")] = url
            known[(logical_id, "Arn")] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for logical_id, resource in stack.resources("AWS::ECS::TaskDefinition").items():
            definition = _task_definition(stack.resolve(resource["Properties"], resolver))
            described = self.standin.moto_ecs.register_task_definition(**definition)["taskDefinition"]
            known[(logical_id, "Ref")] = described["taskDefinitionArn"]
        for logical_id, resource in stack.resources("AWS::StepFunctions::StateMachine").items():
            name = resolver.name(logical_id)
            role = stack.resolve(resource["Properties"]["RoleArn"], resolver)
            known[(logical_id, "Ref")] = self.sfn.create_state_machine(name, stack.state_machine_definition(logical_id, resolver), {}, role_arn=role)

    def _configure_functions(self) -> None:
        self.functions = self.stack.functions(self.resolver)
        for logical_id, function in self.functions.items():
            # Deviation 2 (module doc): the stand-in's endpoints are part of every function's environment.
            self.environments[logical_id] = {**function_environment(function, REGION, CREDENTIALS), **self.endpoints}
            self.settings[logical_id] = Settings.from_env(self.environments[logical_id])  # as its cold start does

    def _install_iam(self) -> None:
        principals: dict[str, Principal] = {}
        for logical_id, function in self.functions.items():
            role_name = function.role_arn.rsplit("/", 1)[-1]
            arn = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/{role_name}/{function.name}"
            principals[logical_id] = Principal(logical_id, arn, self.stack.role_policies(function.role, self.resolver))
        for logical_id in self.stack.resources("AWS::IAM::Role"):
            if logical_id not in {f.role for f in self.functions.values()}:
                arn = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/{self.resolver.name(logical_id)}/session"
                principals[logical_id] = Principal(logical_id, arn, self.stack.role_policies(logical_id, self.resolver))
        principals[EVENTS_PRINCIPAL] = Principal(EVENTS_PRINCIPAL, EVENTS_PRINCIPAL, self._lambda_permissions(EVENTS_PRINCIPAL))
        principals[APIGATEWAY_PRINCIPAL] = Principal(APIGATEWAY_PRINCIPAL, APIGATEWAY_PRINCIPAL, self._lambda_permissions(APIGATEWAY_PRINCIPAL))
        self._ec2 = self._client("ec2")
        facts = Facts(REGION, DEFAULT_ACCOUNT_ID, task_definition=self._describe_task_definition, security_group=self._describe_security_group)
        self.iam = IamCheck(principals, facts, on_client=self._adopt).install()
        self._stack.callback(self.iam.uninstall)
        standin = self.standin
        own = [getattr(standin, name) for name in ("ecs", "s3", "logs", "ec2", "moto_ecs", "moto_logs") if hasattr(standin, name)]
        self.iam.exempt(*own, self._ec2)

    def _lambda_permissions(self, service_principal: str) -> list[Policy]:
        """The template's AWS::Lambda::Permission resources for a service, as statements."""
        policies = []
        for logical_id, resource in self.stack.resources("AWS::Lambda::Permission").items():
            if resource["Properties"].get("Principal") != service_principal:
                continue
            granted = self.stack.resolve(resource["Properties"], self.resolver)
            function = str(granted["FunctionName"])
            arn = function if function.startswith("arn:") else f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:{function}"
            condition: dict[str, Any] = {}
            if "SourceArn" in granted:
                condition["ArnLike"] = {"aws:SourceArn": granted["SourceArn"]}
            if "SourceAccount" in granted:
                condition["StringEquals"] = {"aws:SourceAccount": granted["SourceAccount"]}
            statement = {"Effect": "Allow", "Action": granted["Action"], "Resource": arn, "Condition": condition}
            policies.append(Policy(f"permission:{logical_id}", {"Statement": [statement]}))
        return policies

    def _install_store(self) -> None:
        from load_manager.store import set_stores
        from load_manager.store.sqlite import build_sqlite_stores

        # Deviation 1 (module doc): the functions' environment says STORE_BACKEND=mongo (the secret
        # named by MONGODB_SECRET_ID); no MongoDB server can run here, so they get SQLite instead.
        set_stores(build_sqlite_stores(str(self.root / "load_manager.db")))
        self._stack.callback(set_stores, None)

    def _fresh_execution_environment(self) -> None:
        """What a Lambda execution environment starts without: this process has run other tests,
        whose cached starter and clients (other state machines, other endpoints) must not be reused."""
        from load_manager.adapters import aws_clients
        from load_manager.adapters.eventbridge import set_publisher
        from load_manager.adapters.step_functions import default_starter

        default_starter.cache_clear()
        aws_clients.clear()
        set_publisher(None)

    def _wire_invocations(self) -> None:
        """Who invokes which function in the stack: the state machine run_workflow, rules and schedules
        the triggers function (asynchronously, with Lambda's retries)."""
        registry = self.sfn.registry
        workflow = self.function("RunWorkflowFunction")
        machine_role = self.stack.resource("RunLifecycleStateMachine")["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        self.sfn.register(workflow.name, self._service_invoked(machine_role, "RunWorkflowFunction"))
        triggers = next(f for f in self.functions.values() if f.code_dir is not None and f.code_dir.name == "triggers")
        registry[triggers.name] = lambda event, context: self.invoke(triggers.logical_id, event, context)
        self.deliveries = Deliveries(registry, JsonLines(self.root / "dead-letters.jsonl"))
        self._stack.callback(self.deliveries.stop)
        self._stack.callback(self.deliveries.drain, 60)
        self.scheduler = LocalScheduler(self._scheduled, REGION, started_at=datetime.now(UTC))
        self._patch_rule_targets()

    def _service_invoked(self, role: str, logical_id: str) -> Callable[[Any, Any], Any]:
        def handler(event: Any, context: Any) -> Any:
            decided = self.iam.authorize(role, "states:lambda:invoke", [Request("lambda:InvokeFunction", self.functions[logical_id].arn)])
            if not all(d.allowed for d in decided):
                raise LambdaServiceError("AccessDeniedException", str(decided[0]), 403)
            return self.invoke(logical_id, event, context)

        return handler

    def _scheduled(self, function_name: str, payload: Any, origin: str) -> None:
        """Scheduler invokes the target as the schedule's role: that role must allow it."""
        from moto.scheduler.models import scheduler_backends

        name = origin.removeprefix("schedule ")
        backend = scheduler_backends[DEFAULT_ACCOUNT_ID][REGION]
        schedule = next(s for g in backend.schedule_groups.values() for s in g.schedules.values() if s.name == name)
        role_arn, target = schedule.target["RoleArn"], schedule.target["Arn"]
        role = next((k[0] for k, v in self.resolver.known.items() if k[1] == "Arn" and v == role_arn), role_arn)
        if role not in self.iam.principals:
            self._record_denied(role, "scheduler:invoke", Request("lambda:InvokeFunction", target), "the schedule's role is not one of the stack's")
            return
        if all(d.allowed for d in self.iam.authorize(role, "scheduler:invoke", [Request("lambda:InvokeFunction", target)])):
            self.deliveries.submit(function_name, payload, origin)

    def _patch_rule_targets(self) -> None:
        """moto's EventBridge delivers to SQS, logs and buses only: a rule's Lambda target gets the
        event here (as load_manager_local.aws does for serve), if the function's resource policy
        lets that rule invoke it."""
        from moto.events.models import Rule

        original, harness = Rule.__dict__["send_to_targets"], self

        def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
            try:
                if not rule.event_pattern.matches_event(event):
                    return
            except Exception:  # noqa: BLE001 - a pattern moto cannot evaluate matches nothing
                return
            lambdas = [t for t in rule.targets if ":function:" in t["Arn"]]
            for target in lambdas:
                context = {"aws:SourceArn": rule.arn, "aws:SourceAccount": DEFAULT_ACCOUNT_ID}
                decided = harness.iam.authorize(EVENTS_PRINCIPAL, "events:target", [Request("lambda:InvokeFunction", target["Arn"], context)])
                if all(d.allowed for d in decided):
                    payload = render_input(target, aws_event(event), rule.name, rule.arn)
                    harness.deliveries.submit(target["Arn"].split(":function:")[1].split(":")[0], payload, f"rule {rule.name}")
            others = [t for t in rule.targets if t not in lambdas]
            if others:
                clone = copy.copy(rule)
                clone.targets = others
                original(clone, event, transform_input)

        self._stack.enter_context(patch.object(Rule, "send_to_targets", send_to_targets))

    def _record_denied(self, principal: str, operation: str, request: Request, reason: str) -> None:
        self.iam.record(Decision(principal, operation, request.action, request.resource, False, reason))

    def _describe_task_definition(self, reference: str) -> Mapping[str, Any]:
        if reference not in self._task_definitions:
            self._task_definitions[reference] = self.standin.moto_ecs.describe_task_definition(taskDefinition=reference)["taskDefinition"]
        return self._task_definitions[reference]

    def _describe_security_group(self, group_id: str) -> Mapping[str, Any]:
        found = self._ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroups"]
        return found[0] if found else {}

    def _adopt(self, client: Any) -> None:
        """A function's client of the stand-in's server gets the stand-in's hooks (tasks as processes)."""
        if client.meta.endpoint_url == self.standin.endpoint_url:
            self.standin.instrument(client)


class TemplateApi(InProcessApi):
    """The HTTP API in process, each route's function run with its template environment."""

    def __init__(self, harness: TemplateHarness):
        super().__init__()
        self.harness = harness

    def invoke(self, route: HttpRoute, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.harness.invoke(route.function_logical_id, event)
        return result

    def invoke_authorizer(self, event: dict[str, Any]) -> Any:
        assert self.gateway is not None
        authorizer = self.gateway.authorizer
        return self.harness.invoke_authorizer(authorizer.function_logical_id, authorizer.name, event)


def _task_definition(properties: Mapping[str, Any]) -> dict[str, Any]:
    """RegisterTaskDefinition's parameters from the template's properties (CloudFormation's keys
    are the API's, capitalized)."""
    definition = {_camel(key): _camel_keys(value) for key, value in properties.items() if key != "Tags"}
    # moto's RunTask sums container memory even on Fargate; the template sets it per task only.
    for container in definition["containerDefinitions"]:
        if "memory" not in container and "memoryReservation" not in container:
            container["memoryReservation"] = int(definition["memory"])
    return definition


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _camel_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    return value
