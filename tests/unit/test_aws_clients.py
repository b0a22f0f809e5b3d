"""One boto3 client per service, configuration and AWS environment, reused across calls (as a
Lambda execution environment reuses it across invocations)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from load_manager.adapters import aws_clients
from load_manager.adapters.eventbridge import PUBLISH_CONFIG, EventBridgePublisher


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws_clients.clear()
    yield
    aws_clients.clear()


def test_the_same_service_and_configuration_get_the_same_client():
    first = aws_clients.client("events", connect_timeout=2)
    assert aws_clients.client("events", connect_timeout=2) is first
    assert aws_clients.client("events") is not first  # another configuration
    assert aws_clients.client("scheduler") is not aws_clients.client("events")


def test_a_changed_aws_environment_gets_a_client_of_its_own(monkeypatch):
    east = aws_clients.client("s3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    west = aws_clients.client("s3")
    assert west is not east
    assert (east.meta.region_name, west.meta.region_name) == ("us-east-1", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    assert aws_clients.client("s3").meta.endpoint_url == "http://127.0.0.1:9"


def test_an_explicit_region_is_part_of_the_key():
    assert aws_clients.client("ecs", region="us-west-2").meta.region_name == "us-west-2"
    assert aws_clients.client("ecs", region="us-east-2").meta.region_name == "us-east-2"


def test_the_cache_keeps_at_most_max_clients(monkeypatch):
    monkeypatch.setattr(aws_clients, "MAX_CLIENTS", 3)
    oldest = aws_clients.client("events", read_timeout=1)
    for seconds in (2, 3, 4):
        aws_clients.client("events", read_timeout=seconds)
    assert len(aws_clients._clients) == 3
    assert aws_clients.client("events", read_timeout=1) is not oldest  # evicted, made again


def test_publishing_reuses_one_client():
    with mock_aws():
        aws_clients.client("events").create_event_bus(Name="bus")
        publisher = EventBridgePublisher("bus")
        publisher.publish("RunStarted", {"runId": "r1"}, [])
        publisher.publish("RunFinished", {"runId": "r1"}, [])
        EventBridgePublisher("bus").publish("RunStarted", {"runId": "r2"}, [])  # a new publisher per call, as get_publisher makes
    assert len(aws_clients._clients) == 2  # the one above, and the publishers' one (its own timeouts)
    assert PUBLISH_CONFIG["retries"] == {"max_attempts": 2, "mode": "standard"}  # botocore rewrote a copy, not the key
