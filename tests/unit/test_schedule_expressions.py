"""Schedule expressions: 5-field cron and rates, translated to EventBridge Scheduler's syntax and
read back for the local runtime (cronsim does the parsing and iterating)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

import pytest

from load_manager.errors import UnprocessableError
from load_manager.schedule_expressions import from_scheduler_expression, parse, parse_rate, to_scheduler_cron

# (standard 5-field cron, Scheduler's cron(min hour dom month dow year)): exactly one day field is
# "?", days of the week are SUN=1..SAT=7 (written as names), steps are spelled out.
TRANSLATIONS = [
    ("* * * * *", "cron(* * * * ? *)"),
    ("*/15 * * * *", "cron(0,15,30,45 * * * ? *)"),
    ("0 2 * * *", "cron(0 2 * * ? *)"),
    ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
    ("0 9 * * MON-FRI", "cron(0 9 ? * MON-FRI *)"),
    ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),  # 7 is Sunday too
    ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI-SAT *)"),
    ("30 2 1 * *", "cron(30 2 1 * ? *)"),
    ("0 12 L * *", "cron(0 12 L * ? *)"),
    ("0 3 * * 5L", "cron(0 3 ? * 6L *)"),  # last Friday: Friday is 6 in Scheduler
    ("0 3 * * MON#2", "cron(0 3 ? * 2#2 *)"),
    ("0 9 * JAN,JUL *", "cron(0 9 * 1,7 ? *)"),
    ("5,10-12 */6 * * SUN,SAT", "cron(5,10-12 0,6,12,18 ? * SUN,SAT *)"),
    ("0 0 1-31 * *", "cron(0 0 * * ? *)"),
]


@pytest.mark.parametrize(("cron", "expected"), TRANSLATIONS)
def test_cron_translates_to_scheduler_syntax(cron, expected):
    assert to_scheduler_cron(cron) == expected


@pytest.mark.parametrize(("cron", "expected"), TRANSLATIONS)
def test_the_translation_reads_back_to_the_same_occurrences(cron, expected):
    """What the local runtime fires (Scheduler's expression read back) is what the user wrote."""
    back, _ = from_scheduler_expression(expected)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ours = list(islice(parse(cron, None, "Europe/Paris").occurrences(start), 40))
    theirs = list(islice(parse(back, None, "Europe/Paris").occurrences(start), 40))
    assert ours == theirs


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("0 0 1 * 1", "both the day of the month and the day of the week"),
        ("* * * *", "5 fields"),
        ("0 * * * * *", "5 fields"),
        ("61 * * * *", "Bad minute"),
        ("0 0 ? * *", "Bad day-of-month"),
        ("0 25 * * *", "Bad hour"),
    ],
)
def test_crons_scheduler_cannot_express_or_nobody_can_are_refused(cron, why):
    with pytest.raises(UnprocessableError) as error:
        parse(cron, None, "UTC")
    assert error.value.code == "InvalidCron" and why in error.value.message


@pytest.mark.parametrize(
    ("rate", "seconds", "expression"),
    [("15 minutes", 900, "rate(15 minutes)"), ("1 minutes", 60, "rate(1 minute)"), ("1 HOUR", 3600, "rate(1 hour)"), ("2 days", 172800, "rate(2 days)")],
)
def test_rates(rate, seconds, expression):
    spec = parse(None, rate, "UTC")
    assert (spec.rate_seconds, spec.expression) == (seconds, expression)
    assert parse_rate(expression[5:-1])[0] == seconds
    assert from_scheduler_expression(expression) == (None, seconds)


@pytest.mark.parametrize("rate", ["0 minutes", "15", "fortnightly", "1 week", "-5 minutes"])
def test_bad_rates_are_refused(rate):
    with pytest.raises(UnprocessableError) as error:
        parse(None, rate, "UTC")
    assert error.value.code == "InvalidRate"


@pytest.mark.parametrize(("cron", "rate"), [(None, None), ("* * * * *", "1 minute")])
def test_exactly_one_of_cron_or_rate(cron, rate):
    with pytest.raises(UnprocessableError) as error:
        parse(cron, rate, "UTC")
    assert error.value.code == "InvalidSchedule"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "/usr/share/zoneinfo/UTC"])
def test_time_zones_must_be_iana_names(zone):
    with pytest.raises(UnprocessableError) as error:
        parse("0 2 * * *", None, zone)
    assert error.value.code == "InvalidTimezone"


def test_shortest_interval_sees_daylight_saving_and_weekends():
    march = datetime(2026, 3, 1, tzinfo=UTC)
    assert parse("* * * * *", None, "UTC").min_interval_seconds(march) == 60
    assert parse("0 2 * * *", None, "UTC").min_interval_seconds(march) == 86400
    # Europe/Paris springs forward on the last Sunday of March: that day is 23 h long.
    assert parse("0 3 * * *", None, "Europe/Paris").min_interval_seconds(march) == 82800
    assert parse("0 9 * * 1-5", None, "Europe/Paris").min_interval_seconds(march) == 86400  # DST falls on a Sunday
    assert parse("30 1,2 * * *", None, "America/New_York").min_interval_seconds(march) == 1800
    assert parse(None, "15 minutes", "Asia/Tokyo").min_interval_seconds(march) == 900


def test_cron_occurrences_are_read_in_the_schedules_time_zone():
    spec = parse("0 9 * * *", None, "America/New_York")
    first, second = islice(spec.occurrences(datetime(2026, 7, 1, tzinfo=UTC)), 2)
    assert (first, second) == (datetime(2026, 7, 1, 13, 0, tzinfo=UTC), datetime(2026, 7, 2, 13, 0, tzinfo=UTC))  # EDT is UTC-4


def test_rate_occurrences_count_from_their_anchor():
    spec = parse(None, "15 minutes", "UTC")
    anchor = datetime(2026, 1, 1, 10, 7, tzinfo=UTC)
    after = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert list(islice(spec.occurrences(after, anchor=anchor), 2)) == [datetime(2026, 1, 1, 10, 37, tzinfo=UTC), datetime(2026, 1, 1, 10, 52, tzinfo=UTC)]
    assert next(spec.occurrences(datetime(2026, 1, 1, tzinfo=UTC), anchor=anchor)) == anchor


@pytest.mark.parametrize("expression", ["cron(0 0 * * ? 2027)", "cron(0 0 15W * ? *)", "at(2026-01-01T00:00:00)", "every day"])
def test_what_the_local_runtime_cannot_fire_is_said(expression):
    with pytest.raises(ValueError):
        from_scheduler_expression(expression)
