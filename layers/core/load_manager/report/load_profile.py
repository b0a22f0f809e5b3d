"""A run's load profile on its report page: the stages in words, and the users it planned drawn
beside the users it had (the measured series), so a reader sees the run followed its profile."""

from __future__ import annotations

from html import escape
from typing import Any

from load_manager.models.results import MetricsSeries
from load_manager.models.runs import Run


def profile_text(run: Run) -> str:
    """'10 users for 4 s → 30 users for 4 s → …' (spawn rates in brackets when given)."""
    if run.load_profile is None:
        return "constant (no profile)"
    parts = []
    for stage in run.load_profile.stages:
        rate = f" (+{stage.spawn_rate:g}/s)" if stage.spawn_rate is not None else ""
        parts.append(f"{stage.users} users for {stage.duration_seconds} s{rate}")
    return escape(" → ".join(parts))


def with_planned_users(charts: list[dict[str, Any]], run: Run, series: MetricsSeries) -> list[dict[str, Any]]:
    """The users chart gets a 'Planned users' line: what the profile asked for at each point."""
    profile = run.load_profile
    if profile is None:
        return charts
    planned = [profile.users_at((t - series.origin) / 1000) for t in series.time]
    for chart in charts:
        if chart["id"] == "chart-users":
            chart["series"] = [*chart["series"], {"label": "Planned users", "values": planned}]
    return charts
