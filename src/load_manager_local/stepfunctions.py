"""Run real Amazon States Language in process: moto's Step Functions interpreter, with its Lambda
tasks dispatched to our Python handlers.

    with InProcessStepFunctions({"run-workflow": handler}) as sfn:
        arn = sfn.create_state_machine("run-lifecycle", Path("statemachine/run_lifecycle.asl.json"),
                                       {"RunWorkflowFunctionArn": sfn.function_arn("run-workflow")})
        run = boto3.client("stepfunctions").start_execution(stateMachineArn=arn, name=run_id, input=...)
        sfn.wait_for_execution(run["executionArn"], timeout=30)

How it fits together (moto 5.2):
- `mock_aws` intercepts every boto3 call in the process (all threads). With the config
  `stepfunctions.execute_state_machine`, StartExecution runs the definition with moto's ASL
  interpreter (vendored from LocalStack) in a daemon thread; without it, executions never run.
- A Lambda task (plain function ARN or `arn:aws:states:::lambda:invoke`) becomes a boto3
  `lambda.invoke`, answered by moto's Lambda backend, which would need Docker. The seam is that
  backend's `invoke(function_name, qualifier, body, headers, response_headers)`: we wrap it so
  registered names go to a Python callable and everything else falls through to moto. Nothing has
  to be created in moto's Lambda backend, and a direct `boto3.client("lambda").invoke` of a
  registered name is dispatched too.
- A handler's exception becomes a Lambda function error (`FunctionError: Unhandled` and the
  runtime's `{"errorMessage", "errorType", "requestId", "stackTrace"}` payload), so the ASL error
  name is the exception's class name, exactly as on AWS. `LambdaServiceError` simulates a failure
  of the Lambda service itself (`Lambda.ServiceException`, `Lambda.TooManyRequestsException`).
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
from moto import mock_aws
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from load_manager_local.botocore_models import share_botocore_models

LambdaHandler = Callable[[Any, Any], Any]

RUNNING = "RUNNING"
DEFAULT_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/load-manager-local-states"
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def function_arn(name: str, region: str | None = None, account_id: str = DEFAULT_ACCOUNT_ID) -> str:
    return f"arn:aws:lambda:{region or default_region()}:{account_id}:function:{name}"


def function_name_of(name_or_arn: str) -> str:
    """`name`, `name:qualifier`, `123456789012:function:name` or a full ARN -> `name`."""
    parts = name_or_arn.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a handler; Powertools reads these attributes."""

    function_name: str
    invoked_function_arn: str
    timeout_s: float = 900.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


class LambdaServiceError(Exception):
    """Raise from a handler to simulate the Lambda *service* failing the Invoke call (not the
    function). With `arn:aws:states:::lambda:invoke` the ASL error is `Lambda.<code>`."""

    def __init__(self, code: str = "ServiceException", message: str = "simulated", status: int = 500):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _error_payload(exc: BaseException, request_id: str) -> bytes:
    # The shape the Python Lambda runtime reports for an unhandled exception.
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
    ).encode()


def _invoke_handler(handler: LambdaHandler, context: LambdaContext, body: Any, response_headers: dict) -> bytes:
    event = json.loads(body) if body else {}
    try:
        result = handler(event, context)
    except LambdaServiceError as exc:
        error = LambdaClientError(exc.code, exc.message)
        error.code = exc.status  # the HTTP status moto answers with
        raise error from exc
    except Exception as exc:  # noqa: BLE001 - every handler failure is a function error, as in Lambda
        response_headers["x-amz-function-error"] = "Unhandled"
        return _error_payload(exc, context.aws_request_id)
    try:
        return json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        # Lambda's own error name has a dot, which no Python class name can have.
        marshal = type("Runtime.MarshalError", (Exception,), {})(f"Unable to marshal response: {exc}")
        return _error_payload(marshal, context.aws_request_id)


@contextmanager
def install_lambda_dispatch(
    functions: Mapping[str, LambdaHandler], *, timeout_s: float = 900.0, memory_mb: int = 512
) -> Iterator[dict[str, LambdaHandler]]:
    """While active, moto's Lambda `invoke` of a registered function calls its Python handler.

    Keys may be names or ARNs. Yields the live registry (by function name): entries added to it
    later are dispatched too. Unregistered names fall through to moto (so: ResourceNotFound).
    Handlers run synchronously in the calling thread, even for InvocationType=Event.
    """
    registry = {function_name_of(key): handler for key, handler in functions.items()}

    def wrap(original: Callable) -> Callable:
        def invoke(self, function_name, qualifier, body, headers, response_headers):
            handler = registry.get(function_name_of(function_name))
            if handler is None:
                return original(self, function_name, qualifier, body, headers, response_headers)
            name = function_name_of(function_name)
            context = LambdaContext(
                function_name=name,
                invoked_function_arn=function_arn(name, self.region_name, self.account_id),
                timeout_s=timeout_s,
                memory_limit_in_mb=memory_mb,
            )
            return _invoke_handler(handler, context, body, response_headers)

        return invoke

    with ExitStack() as stack:
        # moto picks the simple (no Docker) backend when config lambda.use_docker is False.
        for backend_class in (LambdaBackend, LambdaSimpleBackend):
            original = backend_class.__dict__["invoke"]
            stack.enter_context(patch.object(backend_class, "invoke", wrap(original)))
        yield registry


@lru_cache(maxsize=16)
def parsed_program(definition: str) -> EvalComponent:
    """The definition parsed once: moto parses it again (ANTLR, in Python: ~25 ms for the run
    lifecycle) at every StartExecution, before the first state runs. The program is read-only while
    it runs (an execution's state lives in its Environment), so executions share it; the one lazy
    attribute, each component's heap key (Retry's counters are kept under it), is set here."""
    program = AmazonStateLanguageParser.parse(definition)[0]
    _fix_heap_keys(program, set())
    return program


def _fix_heap_keys(node: Any, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, (list, tuple)):
        children: Any = node
    elif isinstance(node, dict):
        children = node.values()
    elif isinstance(node, EvalComponent):
        _ = node.heap_key  # set once, before any execution can race to set it
        children = vars(node).values()
    else:
        return
    for child in children:
        _fix_heap_keys(child, seen)


def _cached_entrypoint(worker: ExecutionWorker) -> EvalComponent:
    return parsed_program(worker._evaluation_details.state_machine_details.definition)


def render_definition(definition: str | Path | Mapping, substitutions: Mapping[str, str] | None = None) -> str:
    """The definition as a JSON string, with `${Key}` replaced like SAM's DefinitionSubstitutions.
    A placeholder without a value is an error here rather than a confusing failure at run time."""
    if isinstance(definition, Path):
        text = definition.read_text()
    elif isinstance(definition, Mapping):
        text = json.dumps(definition)
    else:
        text = definition
    values = dict(substitutions or {})
    missing = sorted({key for key in _SUBSTITUTION.findall(text) if key not in values})
    if missing:
        raise KeyError(f"definition placeholders without a substitution: {', '.join(missing)}")
    rendered = _SUBSTITUTION.sub(lambda m: str(values[m.group(1)]), text)
    json.loads(rendered)  # fail early on broken JSON
    return rendered


def wait_for_execution(
    execution_arn: str, timeout: float = 30.0, *, client: Any = None, poll_s: float = 0.05
) -> dict[str, Any]:
    """Poll DescribeExecution until the execution leaves RUNNING; return that description."""
    client = client or boto3.client("stepfunctions", region_name=execution_arn.split(":")[3])
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_execution(executionArn=execution_arn)
        if described["status"] != RUNNING:
            described.pop("ResponseMetadata", None)
            return described
        if time.monotonic() >= deadline:
            # moto ignores reverseOrder/maxResults: sort here so this reads right on both.
            events = client.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
            last = [event["type"] for event in sorted(events, key=lambda e: -e["id"])[:5]]
            raise TimeoutError(f"{execution_arn} still RUNNING after {timeout}s; latest events: {last}")
        time.sleep(poll_s)


class InProcessStepFunctions:
    """moto with the ASL interpreter on and Lambda tasks dispatched to `functions`.

    A context manager (or `start()`/`stop()` for a long-lived server). Joins an already active
    `mock_aws` (sharing its data) or starts one. On exit, running executions are stopped and
    awaited, so no interpreter thread outlives it (a handler that never returns is the exception).
    """

    def __init__(
        self,
        functions: Mapping[str, LambdaHandler] | None = None,
        *,
        region: str | None = None,
        function_timeout_s: float = 900.0,
    ) -> None:
        self.region = region or default_region()
        self.account_id = DEFAULT_ACCOUNT_ID
        self._functions = dict(functions or {})
        self._function_timeout_s = function_timeout_s
        self._stack: ExitStack | None = None
        self._registry: dict[str, LambdaHandler] = {}
        self.client: Any = None

    def start(self) -> InProcessStepFunctions:
        share_botocore_models()  # the mock and moto's backends each build fresh botocore sessions
        stack = ExitStack()
        try:
            stack.enter_context(mock_aws())  # nests into an active mock (no reset) if there is one
            stack.enter_context(patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": True}}))
            stack.enter_context(patch.object(ExecutionWorker, "_get_evaluation_entrypoint", _cached_entrypoint))
            self._registry = stack.enter_context(
                install_lambda_dispatch(self._functions, timeout_s=self._function_timeout_s)
            )
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        self.client = boto3.client("stepfunctions", region_name=self.region)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._stack is None:
            return
        try:
            self.stop_running_executions(timeout=timeout)
        finally:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> InProcessStepFunctions:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def register(self, name_or_arn: str, handler: LambdaHandler) -> str:
        """Dispatch another function (also while running); returns its ARN."""
        name = function_name_of(name_or_arn)
        self._functions[name] = handler
        self._registry[name] = handler
        return self.function_arn(name)

    def function_arn(self, name: str) -> str:
        return function_arn(name, self.region, self.account_id)

    @property
    def registry(self) -> dict[str, LambdaHandler]:
        """The live registry of dispatched functions (by name), shared with the local bus."""
        return self._registry

    def create_state_machine(
        self,
        name: str,
        definition: str | Path | Mapping,
        substitutions: Mapping[str, str] | None = None,
        *,
        role_arn: str = DEFAULT_ROLE_ARN,
    ) -> str:
        rendered = render_definition(definition, substitutions)
        created = self.client.create_state_machine(name=name, definition=rendered, roleArn=role_arn)
        return created["stateMachineArn"]

    def wait_for_execution(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        return wait_for_execution(execution_arn, timeout, client=self.client)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def running_executions(self) -> list[str]:
        """ARNs of every execution RUNNING in this region (of this process: moto is in process)."""
        running = []
        list_executions = self.client.get_paginator("list_executions")
        for page in self.client.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                for listed in list_executions.paginate(stateMachineArn=machine["stateMachineArn"], statusFilter=RUNNING):
                    running += [execution["executionArn"] for execution in listed["executions"]]
        return running

    def execution_input(self, execution_arn: str) -> dict[str, Any]:
        return dict(json.loads(self.client.describe_execution(executionArn=execution_arn)["input"]))

    def stop_running_executions(self, timeout: float = 30.0) -> None:
        """StopExecution on everything RUNNING in this region, then wait until each has ended.
        A Wait is interrupted at once; a running handler (or Retry back-off) is waited out."""
        running = self.running_executions()
        for arn in running:
            self.client.stop_execution(executionArn=arn, error="LocalShutdown", cause="in-process Step Functions stopped")
        deadline = time.monotonic() + timeout
        for arn in running:
            self.wait_for_execution(arn, timeout=max(0.0, deadline - time.monotonic()))
