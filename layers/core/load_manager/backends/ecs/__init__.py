"""Locust on AWS Fargate: `settings` (where tasks start), `tasks` (ECS tasks and AWS calls), `logs`
(a stopped task's log tail, from CloudWatch Logs), `network` (each launch's own security group, and
`collect_leftover_security_groups` for a sweeper), `web_secret` (the launch's web API secret, kept
in S3), `operations` (what the backend does in AWS: tasks, archives, the launch's group), `backend`
(the port, over the shared web API base and `operations`)."""

from .backend import EcsLocustBackend
from .network import LeftoverGroups, collect_leftover_security_groups
from .settings import EcsSettings
from .tasks import AwsApiError, private_ipv4_address

__all__ = ["AwsApiError", "EcsLocustBackend", "EcsSettings", "LeftoverGroups", "collect_leftover_security_groups", "private_ipv4_address"]
