"""The deployment's settings: one typed object, validated once per execution environment.

In Lambda they come from the environment the template sets (`Settings.from_env`); a bad value
fails the cold start loudly instead of surfacing as a strange error on some later request. The
local runtime and the tests build a `Settings` themselves and install it with `set_settings`.

Several functions may run in one process (`load-manager serve`, the template harness in tests),
each with its own environment: `settings_scope` gives one invocation its function's settings
without touching the others (a context variable, so each thread sees only its own).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Literal

from load_manager.settings_types import Field, Section, SettingsError

DEFAULT_MAX_SCRIPT_BYTES = 1024 * 1024


__all__ = ["SettingsError", "Settings", "EcsDefaults", "AutomationSettings", "QuotaSettings", "UsageSettings"]


class EcsDefaults(Section):
    """The deployment's own Fargate cluster (ECS_* variables): what runs use when no cluster
    configuration names other ECS resources, and what fills the gaps of one that does."""

    cluster: str = ""
    master_task_definition: str = ""
    worker_task_definition: str = ""
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool = False
    container_name: str = "locust"
    scripts_bucket: str = ""
    region: str | None = None
    # Network isolation (backends/ecs/network.py): every run gets its own security group in this VPC,
    # whose web API port admits only the control plane's group; tagged with `managed_by`.
    vpc_id: str = ""  # empty: the VPC of the first subnet
    control_plane_security_group: str = ""
    managed_by: str = "load-manager"
    # How long a teardown retries deleting a run's group while Fargate still holds it (what is left,
    # the sweeper collects): the workflow waits; the sweeper (0: one try) never does.
    group_delete_timeout_seconds: float = Field(default=120.0, ge=0, le=600)
    # What a cluster configuration may choose: the deployment's own subnets and groups plus these.
    allowed_subnets: tuple[str, ...] = ()
    allowed_security_groups: tuple[str, ...] = ()


class AutomationSettings(Section):
    """Runs without a human (AUTOMATION_* and friends): the stack's event bus, where its rules and
    schedules point, and the per-tenant limits that keep one tenant from using up the bus's quota."""

    event_bus_name: str = ""  # empty: emitted events go nowhere, triggers cannot be created
    triggers_function_arn: str = ""  # the target of every rule and schedule
    scheduler_role_arn: str = ""  # what EventBridge Scheduler assumes to invoke that function
    schedule_group: str = "default"
    dead_letter_arn: str = ""  # SQS queue for deliveries that exhausted their retries
    # What the stack's EventBridge rules and Scheduler schedules are named after: rule <prefix><triggerId>,
    # schedule <prefix><scheduleId> (adapters: eventbridge.rule_name, scheduler.schedule_name); the IAM
    # policies of template.yaml allow exactly those names. Read from TRIGGER_RULE_PREFIX, its old name.
    name_prefix: str = "lm-trigger-"
    max_triggers_per_account: int = Field(default=100, ge=1, le=10_000)
    max_schedules_per_account: int = Field(default=100, ge=1, le=10_000)
    max_per_test: int = Field(default=20, ge=1, le=1_000)  # triggers, and schedules, per test
    public_base_url: str = ""  # makes the links of RunFinished absolute (the API's URL)
    # Notification channels (usecases/notification_channels.py): the role EventBridge assumes to call
    # their API destinations, their dead-letter queue, where their credentials are kept (empty: a
    # file in the data directory), and how many a tenant may have.
    notification_role_arn: str = ""
    notification_dead_letter_arn: str = ""
    notification_secret_prefix: str = ""
    max_channels_per_account: int = Field(default=100, ge=1, le=10_000)


class QuotaSettings(Section):
    """What one tenant may use at once (QUOTA_* variables, from the template's parameters). A start
    over `concurrent_runs` is a 429 QuotaExceeded; a run asking for more users, workers or seconds
    than one run may have is a 422 RunLimitExceeded (usecases/quotas.py)."""

    concurrent_runs: int = Field(default=10, ge=1, le=10_000)
    users_per_run: int = Field(default=20_000, ge=1, le=100_000)
    workers_per_run: int = Field(default=32, ge=1, le=64)
    duration_seconds: int = Field(default=86_400, ge=1, le=86_400)
    # A month's vCPU-hours per tenant (0: no budget): a start whose estimate would take the month's
    # used + in-flight vCPU-hours over it is a 429 VcpuBudgetExceeded (usecases/budget.py).
    vcpu_hours_per_month: float = Field(default=0, ge=0, le=10_000_000)


# Fargate on demand, Linux/x86, USD (https://aws.amazon.com/fargate/pricing/, the us-east-1 rates
# also quoted by https://www.vantage.sh/blog/fargate-pricing); the other US regions named charge the same.
# A price is (per vCPU-hour, per GB-hour): plain tuples, no model of their own to build at every cold start.
US_FARGATE_PRICE = (0.04048, 0.004445)
FARGATE_PRICES = {"us-east-1": US_FARGATE_PRICE, "us-east-2": US_FARGATE_PRICE, "us-west-2": US_FARGATE_PRICE}


Price = Annotated[float, Field(ge=0)]


class UsageSettings(Section):
    """What a run's recorded usage is priced at, and what an ECS run's estimate assumes (analysis/usage.py).
    `prices` per region (USAGE_PRICES, JSON {"eu-west-1": {"vcpuHour": .., "gbHour": ..}}, adds to or
    replaces the built-in ones); a region not in it is priced at `default_price` (priceSource "default").
    The task sizes are the deployment's Fargate task definitions' (LOCUST_MASTER_CPU, ... from the template)."""

    currency: str = "USD"
    prices: dict[str, tuple[Price, Price]] = Field(default_factory=lambda: dict(FARGATE_PRICES))
    default_price: tuple[Price, Price] = US_FARGATE_PRICE
    # As Fargate writes them: CPU units (1024 = 1 vCPU) and MiB (1024 = Fargate's "1 GB").
    master_cpu: int = Field(default=1024, ge=128, le=16_384)
    master_memory: int = Field(default=2048, ge=512, le=122_880)
    worker_cpu: int = Field(default=1024, ge=128, le=16_384)
    worker_memory: int = Field(default=2048, ge=512, le=122_880)

    @property
    def master_vcpu(self) -> float:
        return self.master_cpu / 1024

    @property
    def master_memory_gb(self) -> float:
        return self.master_memory / 1024

    @property
    def worker_vcpu(self) -> float:
        return self.worker_cpu / 1024

    @property
    def worker_memory_gb(self) -> float:
        return self.worker_memory / 1024


class Settings(Section):
    store_backend: Literal["mongo", "sqlite"] = "sqlite"
    # MongoDB: in AWS the URI is read from Secrets Manager (`mongodb_secret_id`) on first use and
    # never sits in the environment; `mongodb_uri` is for development and tests only.
    mongodb_uri: str = ""
    mongodb_secret_id: str = ""
    mongodb_database: str = "load_manager"
    sqlite_path: str = ".data/load_manager.db"
    data_dir: str = ".data"
    tenant_claim: str = Field(default="custom:accountId", min_length=1)
    admin_group: str = Field(default="load-manager-admins", min_length=1)
    # Roles below admin (access.py): the highest group a user is in wins; no group is a viewer.
    editor_group: str = Field(default="load-manager-editors", min_length=1)
    runner_group: str = Field(default="load-manager-runners", min_length=1)
    # The deployment's operators (not a tenant's admins): they say which tenant owns which event source.
    operator_group: str = Field(default="load-manager-operators", min_length=1)
    max_script_bytes: int = Field(default=DEFAULT_MAX_SCRIPT_BYTES, ge=1024, le=4 * 1024 * 1024)
    # Runs
    state_machine_arn: str = ""
    default_backend: Literal["local", "ecs"] = "local"  # the cluster used when no configuration matches
    # Inside AWS Lambda (its runtime sets AWS_LAMBDA_FUNCTION_NAME): tenant code never runs in the
    # control plane there, so the local backend is refused everywhere.
    in_lambda: bool = False
    min_poll_seconds: int = Field(default=5, ge=1, le=60)
    run_deadline_margin_seconds: int = Field(default=120, ge=0, le=3600)
    reports_bucket: str = ""
    ecs: EcsDefaults = EcsDefaults()
    automation: AutomationSettings = AutomationSettings()
    quotas: QuotaSettings = QuotaSettings()
    usage: UsageSettings = UsageSettings()
    # A bundle blob no revision references is collected only once it was last written this long ago:
    # longer than any save takes, so a save naming it meanwhile never loses it (usecases/retention.py).
    blob_grace_seconds: int = Field(default=3600, ge=60, le=30 * 86_400)
    # Secrets (adapters/vault.py): in AWS under this Secrets Manager name prefix (`<stack>/tenants/`);
    # empty, a private file in the data directory. A tenant may also name a secret by ARN when it is
    # under `secret_reference_arn_prefix` + `<accountId>/` (empty: references are refused).
    secrets_prefix: str = ""
    secret_reference_arn_prefix: str = ""
    # The API's Lambda authorizer (load_manager/authn): JWTs must come from `jwt_issuer`, signed by a
    # key of `jwks_url` (default: the issuer's /.well-known/jwks.json), for one of `jwt_audience`
    # (app client ids). Empty issuer: refused in Lambda, decoded WITHOUT verification elsewhere.
    jwt_issuer: str = ""
    jwt_audience: tuple[str, ...] = ()
    jwks_url: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = env.get("LOAD_MANAGER_DATA_DIR") or os.path.join(os.getcwd(), ".data")
        has_mongo = bool(env.get("MONGODB_URI") or env.get("MONGODB_SECRET_ID"))
        values = {
            "store_backend": env.get("STORE_BACKEND", "mongo" if has_mongo else "sqlite").lower(),
            "mongodb_uri": env.get("MONGODB_URI", ""),
            "mongodb_secret_id": env.get("MONGODB_SECRET_ID", ""),
            "mongodb_database": env.get("MONGODB_DATABASE", "load_manager"),
            "sqlite_path": env.get("SQLITE_PATH") or os.path.join(data_dir, "load_manager.db"),
            "data_dir": data_dir,
            "tenant_claim": env.get("TENANT_CLAIM", "custom:accountId"),
            "admin_group": env.get("ADMIN_GROUP", "load-manager-admins"),
            "editor_group": env.get("EDITOR_GROUP", "load-manager-editors"),
            "runner_group": env.get("RUNNER_GROUP", "load-manager-runners"),
            "operator_group": env.get("OPERATOR_GROUP", "load-manager-operators"),
            "max_script_bytes": env.get("MAX_SCRIPT_BYTES", DEFAULT_MAX_SCRIPT_BYTES),
            "state_machine_arn": env.get("RUN_STATE_MACHINE_ARN", ""),
            "default_backend": env.get("DEFAULT_CLUSTER_BACKEND", "local").lower(),
            "in_lambda": bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),
            "min_poll_seconds": env.get("MIN_POLL_SECONDS", 5),
            "run_deadline_margin_seconds": env.get("RUN_DEADLINE_MARGIN_SECONDS", 120),
            "reports_bucket": env.get("REPORTS_BUCKET", ""),
            "ecs": {
                "cluster": env.get("ECS_CLUSTER", "").strip(),
                "master_task_definition": env.get("ECS_MASTER_TASK_DEFINITION", "").strip(),
                "worker_task_definition": env.get("ECS_WORKER_TASK_DEFINITION", "").strip(),
                "subnets": _split_list(env.get("ECS_SUBNETS", "")),
                "security_groups": _split_list(env.get("ECS_SECURITY_GROUPS", "")),
                "assign_public_ip": env.get("ECS_ASSIGN_PUBLIC_IP", "false").strip().lower() in {"1", "true", "yes", "enabled"},
                "container_name": env.get("ECS_CONTAINER_NAME", "").strip() or "locust",
                "scripts_bucket": (env.get("SCRIPTS_BUCKET") or env.get("REPORTS_BUCKET") or "").strip(),
                "region": (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip() or None,
                "vpc_id": env.get("ECS_VPC_ID", "").strip(),
                "control_plane_security_group": env.get("ECS_CONTROL_PLANE_SECURITY_GROUP", "").strip(),
                "managed_by": env.get("ECS_MANAGED_BY", "").strip() or "load-manager",
                "group_delete_timeout_seconds": env.get("ECS_GROUP_DELETE_TIMEOUT_SECONDS", "").strip() or 120.0,
                "allowed_subnets": _split_list(env.get("ECS_SUBNETS", "") + "," + env.get("ECS_ALLOWED_SUBNETS", "")),
                "allowed_security_groups": _split_list(env.get("ECS_SECURITY_GROUPS", "") + "," + env.get("ECS_ALLOWED_SECURITY_GROUPS", "")),
            },
            "automation": _automation_from_env(env),
            "quotas": _from_env(env, QUOTA_VARIABLES),
            "usage": _usage_from_env(env),
            "blob_grace_seconds": env.get("BLOB_GC_GRACE_SECONDS", 3600),
            "secrets_prefix": env.get("SECRETS_PREFIX", "").strip(),
            "secret_reference_arn_prefix": env.get("SECRET_REFERENCE_ARN_PREFIX", "").strip(),
            "jwt_issuer": env.get("JWT_ISSUER", "").strip(),  # exact: some issuers end with "/" (Auth0)
            "jwt_audience": _split_list(env.get("JWT_AUDIENCE", "")),
            "jwks_url": env.get("JWKS_URL", "").strip(),
        }
        settings: Settings = cls.model_validate(values)  # SettingsError names the field and what is wrong
        if settings.in_lambda and settings.default_backend == "local":
            raise SettingsError(
                "invalid Load Manager settings: DEFAULT_CLUSTER_BACKEND=local inside AWS Lambda (tenant code would run in the control plane)"
            )
        return settings


def _automation_from_env(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {
        "event_bus_name": env.get("EVENT_BUS_NAME", "").strip(),
        "triggers_function_arn": env.get("TRIGGERS_FUNCTION_ARN", "").strip(),
        "scheduler_role_arn": env.get("SCHEDULER_ROLE_ARN", "").strip(),
        "schedule_group": env.get("SCHEDULE_GROUP", "").strip() or "default",
        "dead_letter_arn": env.get("AUTOMATION_DLQ_ARN", "").strip(),
        "public_base_url": env.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
    }
    return values | _from_env(env, AUTOMATION_VARIABLES)


AUTOMATION_VARIABLES = {
    "name_prefix": "TRIGGER_RULE_PREFIX", "max_triggers_per_account": "MAX_TRIGGERS_PER_ACCOUNT",
    "max_schedules_per_account": "MAX_SCHEDULES_PER_ACCOUNT", "max_per_test": "MAX_AUTOMATIONS_PER_TEST",
    "notification_role_arn": "NOTIFICATION_ROLE_ARN", "notification_dead_letter_arn": "NOTIFICATION_DLQ_ARN",
    "notification_secret_prefix": "NOTIFICATION_SECRET_PREFIX", "max_channels_per_account": "MAX_NOTIFICATION_CHANNELS_PER_ACCOUNT",
}  # fmt: skip
QUOTA_VARIABLES = {
    "concurrent_runs": "QUOTA_CONCURRENT_RUNS", "users_per_run": "QUOTA_USERS_PER_RUN",
    "workers_per_run": "QUOTA_WORKERS_PER_RUN", "duration_seconds": "QUOTA_RUN_DURATION_SECONDS",
    "vcpu_hours_per_month": "QUOTA_VCPU_HOURS_PER_MONTH",
}  # fmt: skip
USAGE_VARIABLES = {
    "master_cpu": "LOCUST_MASTER_CPU", "master_memory": "LOCUST_MASTER_MEMORY",
    "worker_cpu": "LOCUST_WORKER_CPU", "worker_memory": "LOCUST_WORKER_MEMORY",
}  # fmt: skip


def _usage_from_env(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {"prices": _price_table(env.get("USAGE_PRICES", "").strip())}
    return values | _from_env(env, USAGE_VARIABLES)


def _price_table(raw: str) -> dict[str, object]:
    """USAGE_PRICES (JSON {"<region>": {"vcpuHour": n, "gbHour": n}}) over the built-in prices."""
    table: dict[str, object] = dict(FARGATE_PRICES)
    if not raw:
        return table
    try:
        extra = json.loads(raw)
    except ValueError:
        raise SettingsError("invalid Load Manager settings: USAGE_PRICES is not JSON") from None
    if not isinstance(extra, dict):
        raise SettingsError('invalid Load Manager settings: USAGE_PRICES must be {"<region>": {"vcpuHour": n, "gbHour": n}}')
    return table | {region: (p.get("vcpuHour"), p.get("gbHour")) if isinstance(p, dict) else p for region, p in extra.items()}


def _from_env(env: Mapping[str, str], names: Mapping[str, str]) -> dict[str, object]:
    """The variables that are set (an empty one keeps the default)."""
    return {key: env[name].strip() for key, name in names.items() if env.get(name, "").strip()}


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))


_settings: Settings | None = None
_scoped: ContextVar[Settings | None] = ContextVar("load_manager_settings", default=None)


def get_settings() -> Settings:
    global _settings
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


@contextmanager
def settings_scope(settings: Settings) -> Iterator[Settings]:
    """`settings` for this thread until the block ends (one function's invocation)."""
    token = _scoped.set(settings)
    try:
        yield settings
    finally:
        _scoped.reset(token)


def set_settings(settings: Settings | None) -> None:
    """Install settings explicitly (the local runtime, tests); None reads the environment again."""
    global _settings
    _settings = settings
