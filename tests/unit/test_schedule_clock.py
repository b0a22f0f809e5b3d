"""A cron occurrence is fired by `serve`'s clock, which checks every second: the occurrence a check
lands just after must be due at that check, never pushed to the next one (cronsim 2.9 skips a start
that is itself a match, which once made every `* * * * *` schedule fire never)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import islice

import boto3
import pytest
from moto import mock_aws

from load_manager.schedule_expressions import _cron_occurrences, parse
from load_manager_local.scheduler import LocalScheduler

REGION = "us-east-1"
NOON = datetime(2030, 3, 4, 12, 1, tzinfo=UTC)  # a Monday; 13:01 in Paris


def first(cron: str, after: datetime, timezone: str = "UTC", n: int = 2) -> list[datetime]:
    return list(islice(parse(cron, None, timezone).occurrences(after), n))


@pytest.mark.parametrize("before", [timedelta(milliseconds=300), timedelta(milliseconds=1), timedelta(seconds=1, milliseconds=300)])
def test_the_match_just_after_a_check_is_its_next_occurrence(before):
    assert first("* * * * *", NOON - before) == [NOON, NOON + timedelta(minutes=1)]
    assert first("1 12 * * *", NOON - before) == [NOON, NOON + timedelta(days=1)]
    assert list(islice(_cron_occurrences("1 13 * * *", "Europe/Paris", NOON - before), 1)) == [NOON]


def test_a_check_exactly_at_a_match_is_past_it():
    assert first("* * * * *", NOON) == [NOON + timedelta(minutes=1), NOON + timedelta(minutes=2)]
    assert first("1 12 * * *", NOON, n=1) == [NOON + timedelta(days=1)]
    assert list(islice(_cron_occurrences("1 13 * * *", "Europe/Paris", NOON), 1)) == [NOON + timedelta(days=1)]


@pytest.fixture
def scheduler(monkeypatch):
    """moto's Scheduler holding one `cron(* * * * ? *)` schedule (from 12:00:30), and a clock whose
    sends are collected."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("scheduler", region_name=REGION)
        client.create_schedule_group(Name="clock")
        client.create_schedule(
            Name="every-minute", GroupName="clock", ScheduleExpression="cron(* * * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
            StartDate=NOON - timedelta(seconds=30),
            Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:listener", "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "Input": json.dumps({"at": "<aws.scheduler.scheduled-time>"})},
        )  # fmt: skip
        sent: list = []
        yield LocalScheduler(lambda function, payload, origin: sent.append((function, payload)), REGION), sent


def test_a_clock_ticking_every_second_across_a_minute_fires_its_occurrence_exactly_once(scheduler):
    clock, sent = scheduler
    ticks = [NOON + timedelta(seconds=s, milliseconds=300) for s in range(-3, 4)]  # 12:00:57.3 … 12:01:03.3
    fired = [(tick, f.at) for tick in ticks for f in clock.fire_due(tick)]
    assert fired == [(NOON + timedelta(milliseconds=300), NOON)]
    assert sent == [("listener", {"at": "2030-03-04T12:01:00Z"})]
