"""Schedule expressions: a 5-field cron or a rate, in an IANA time zone.

Parsing and iterating is cronsim's (a cron evaluator that follows Debian cron, DST included); this
module only checks what EventBridge Scheduler can express, translates to its syntax
(`cron(min hour day-of-month month day-of-week year)` with one of the two day fields `?`, days of
the week SUN=1..SAT=7; `rate(15 minutes)`), and reads Scheduler's syntax back for the local runtime,
which fires schedules itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

from load_manager.errors import UnprocessableError

DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
RATE = re.compile(r"^\s*(\d{1,5})\s+(minute|minutes|hour|hours|day|days)\s*$", re.IGNORECASE)
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# How far ahead the shortest gap between occurrences is looked for: enough occurrences to see
# every pattern of a day, a week and a year for all but the sparsest expressions.
INTERVAL_PROBE_OCCURRENCES = 1500
INTERVAL_PROBE_SPAN = timedelta(days=800)
_LAST = CronSim.LAST
_LAST_WEEKDAY = CronSim.LAST_WEEKDAY


@dataclass(frozen=True)
class ScheduleSpec:
    """A validated schedule: exactly one of cron/rate, its Scheduler expression and time zone."""

    cron: str | None
    rate_seconds: int | None
    timezone: str
    expression: str  # Scheduler's syntax

    def occurrences(self, after: datetime, anchor: datetime | None = None) -> Iterator[datetime]:
        """Occurrences strictly after `after` (aware datetimes, in UTC). A rate counts from `anchor`."""
        if self.cron is not None:
            return _cron_occurrences(self.cron, self.timezone, after)
        assert self.rate_seconds is not None
        return _rate_occurrences(self.rate_seconds, anchor or after, after)

    def min_interval_seconds(self, start: datetime) -> int:
        if self.rate_seconds is not None:
            return self.rate_seconds
        return _shortest_gap(self._probe(start))

    def _probe(self, start: datetime) -> list[datetime]:
        horizon = start + INTERVAL_PROBE_SPAN
        out = []
        for when in islice(self.occurrences(start), INTERVAL_PROBE_OCCURRENCES):
            if when > horizon:
                break
            out.append(when)
        return out


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones() - {"Factory", "localtime", "posixrules"})


def zone(name: str) -> ZoneInfo:
    try:
        if name not in _iana_names():  # also keeps paths and the tz database's own files out
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnprocessableError(f"timezone {name!r} is not an IANA time zone (e.g. Europe/Paris, UTC)", code="InvalidTimezone") from None


def parse(cron: str | None, rate: str | None, timezone: str) -> ScheduleSpec:
    if (cron is None) == (rate is None):
        raise UnprocessableError("give exactly one of cron (5 fields) or rate (e.g. '15 minutes')", code="InvalidSchedule")
    zone(timezone)
    if rate is not None:
        seconds, text = parse_rate(rate)
        return ScheduleSpec(cron=None, rate_seconds=seconds, timezone=timezone, expression=f"rate({text})")
    assert cron is not None
    return ScheduleSpec(cron=normalise_cron(cron), rate_seconds=None, timezone=timezone, expression=to_scheduler_cron(cron))


def parse_rate(rate: str) -> tuple[int, str]:
    """'15 minutes' -> (900, '15 minutes'); Scheduler wants the singular unit for 1."""
    found = RATE.match(rate)
    if not found or int(found.group(1)) < 1:
        raise UnprocessableError(f"rate {rate!r} is not '<n> minutes|hours|days' with n >= 1", code="InvalidRate")
    value, unit = int(found.group(1)), found.group(2).lower().rstrip("s")
    return value * UNIT_SECONDS[unit], f"{value} {unit}{'' if value == 1 else 's'}"


def normalise_cron(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 5:
        raise UnprocessableError(
            f"cron {cron!r} must have 5 fields: minute hour day-of-month month day-of-week", code="InvalidCron"
        )
    return " ".join(fields)


def _compile(cron: str) -> CronSim:
    try:
        return CronSim(normalise_cron(cron), datetime(2000, 1, 1))
    except CronSimError as exc:
        raise UnprocessableError(f"cron {cron!r} is not valid: {exc}", code="InvalidCron") from None


def to_scheduler_cron(cron: str) -> str:
    """A 5-field cron in Scheduler's 6-field syntax. Scheduler cannot say "this day of the month OR
    this day of the week" (cron's meaning when both are restricted), so that is refused."""
    sim = _compile(cron)
    minute, hour, dom, month, dow = normalise_cron(cron).split()
    all_days = dom == "*" or sim.days == set(range(1, 32))
    all_weekdays = dow == "*" or sim.weekdays == set(range(0, 8))
    if not all_days and not all_weekdays:
        raise UnprocessableError(
            f"cron {cron!r} restricts both the day of the month and the day of the week; EventBridge Scheduler "
            "cannot combine them: use two schedules",
            code="InvalidCron",
        )
    fields = [
        "*" if minute == "*" else _compact(sim.minutes),
        "*" if hour == "*" else _compact(sim.hours),
        "*" if all_days else _days_of_month(sim.days),
        "*" if month == "*" or sim.months == set(range(1, 13)) else _compact(sim.months),
        "?" if all_weekdays else _days_of_week(sim.weekdays),
        "*",
    ]
    if fields[2] == "*" and fields[4] != "?":
        fields[2] = "?"
    return f"cron({' '.join(fields)})"


def _compact(values: set[int], names: tuple[str, ...] | None = None, offset: int = 0) -> str:
    """Sorted values as a list of ranges: {0,1,2,5} -> '0-2,5' (or named: 'MON-WED,FRI')."""
    ordered = sorted(values)
    parts, start = [], 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
            lo, hi = ordered[start], ordered[i - 1]
            show = (lambda v: names[v - offset]) if names else str
            parts.append(show(lo) if lo == hi else f"{show(lo)}-{show(hi)}")
            start = i
    return ",".join(parts)


def _days_of_month(days: set) -> str:
    if days == {_LAST}:
        return "L"
    if days == {_LAST_WEEKDAY}:
        return "LW"
    if any(not isinstance(d, int) or d < 1 for d in days):
        raise UnprocessableError("L/LW cannot be combined with other days of the month", code="InvalidCron")
    return _compact(days)


def _days_of_week(weekdays: set) -> str:
    special = [d for d in weekdays if isinstance(d, tuple)]
    if special:
        if len(weekdays) != 1:
            raise UnprocessableError("L or # in the day of the week must stand alone for EventBridge Scheduler", code="InvalidCron")
        day, nth = special[0]
        return f"{day % 7 + 1}L" if nth == _LAST else f"{day % 7 + 1}#{nth}"
    return _compact({d % 7 for d in weekdays}, DAY_NAMES)


def from_scheduler_expression(expression: str) -> tuple[str | None, int | None]:
    """Scheduler's `cron(...)` / `rate(...)` -> (5-field cron, None) or (None, seconds): what the
    local runtime fires with cronsim. Raises ValueError for what it cannot fire (a year, `W`)."""
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return None, parse_rate(text[5:-1])[0]
    if not (text.startswith("cron(") and text.endswith(")")):
        raise ValueError(f"unsupported schedule expression {expression!r}")
    fields = text[5:-1].split()
    if len(fields) != 6 or fields[5] not in ("*", "?"):
        raise ValueError(f"{expression!r}: only year '*' can be fired locally")
    minute, hour, dom, month, dow, _ = fields
    if "W" in dom.replace("LW", ""):
        raise ValueError(f"{expression!r}: 'W' days are not supported locally")
    cron = f"{minute} {hour} {'*' if dom == '?' else dom} {month} {'*' if dow == '?' else _standard_dow(dow)}"
    _compile(cron)
    return cron, None


def _standard_dow(field: str) -> str:
    """Scheduler's day numbers (SUN=1) to cron's (SUN=0); names stay."""
    return re.sub(r"(?<![#\d])([1-7])(?=$|[-,/L#])", lambda m: str(int(m.group(1)) - 1), field)


def _cron_occurrences(cron: str, timezone: str, after: datetime) -> Iterator[datetime]:
    # Whether cronsim counts its start as a match has differed between releases (2.9 skips a start
    # that is itself a match, so a check at 12:00:00.3 once skipped 12:00 whenever the previous one
    # ran at 11:59:59.3): start a minute early and keep what is strictly after `after`.
    local = after.astimezone(zone(timezone))
    for when in CronSim(cron, local.replace(second=0, microsecond=0) - timedelta(minutes=1)):
        if when.astimezone(UTC) > after:
            yield when.astimezone(UTC)


def _rate_occurrences(seconds: int, anchor: datetime, after: datetime) -> Iterator[datetime]:
    step = timedelta(seconds=seconds)
    n = max(0, int((after - anchor).total_seconds() // seconds))
    when = anchor + step * n
    while True:
        if when > after:
            yield when
        when += step


def _shortest_gap(times: list[datetime]) -> int:
    gaps = [int((b - a).total_seconds()) for a, b in zip(times, times[1:], strict=False)]
    return min(gaps) if gaps else int(INTERVAL_PROBE_SPAN.total_seconds())


def to_datetime(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def to_epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
