"""Locust on AWS Fargate: `settings` (where tasks start), `tasks` (ECS tasks and AWS calls), `logs`
(a stopped task's log tail, from CloudWatch Logs), `backend` (the port, over the shared web API
base)."""

from .backend import EcsLocustBackend
from .settings import EcsSettings
from .tasks import AwsApiError, private_ipv4_address

__all__ = ["AwsApiError", "EcsLocustBackend", "EcsSettings", "private_ipv4_address"]
