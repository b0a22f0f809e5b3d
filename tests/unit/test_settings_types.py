"""The settings' sections: what the environment's strings become, what is refused, and that each
declared default is valid (a default is taken as written, unchecked, when the section is built)."""

from __future__ import annotations

import pytest

from load_manager import settings as settings_module
from load_manager.settings import AutomationSettings, EcsDefaults, QuotaSettings, Settings, SettingsError, UsageSettings
from load_manager.settings_types import Section, _check_bounds, _coerce, _hints_of

SECTIONS = (Settings, EcsDefaults, AutomationSettings, QuotaSettings, UsageSettings)


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.__name__)
def test_every_declared_default_is_a_valid_value_of_its_field(section):
    hints = _hints_of(section)
    for name, spec in section._specs.items():
        default = spec.factory() if spec.factory is not None else spec.default
        assert _coerce(default, hints[name], name) == default, name
        _check_bounds(default, spec.bounds, name)


def test_the_environments_strings_become_typed_values():
    settings = Settings.from_env({
        "QUOTA_CONCURRENT_RUNS": "3", "MIN_POLL_SECONDS": " 7 ", "ECS_SUBNETS": "a,b", "ECS_ASSIGN_PUBLIC_IP": "true",
        "USAGE_PRICES": '{"eu-west-1": {"vcpuHour": 0.05, "gbHour": 0.005}}', "QUOTA_VCPU_HOURS_PER_MONTH": "12.5",
    })  # fmt: skip
    assert (settings.quotas.concurrent_runs, settings.min_poll_seconds, settings.ecs.subnets) == (3, 7, ("a", "b"))
    assert settings.ecs.assign_public_ip is True
    assert settings.usage.prices["eu-west-1"] == (0.05, 0.005) and settings.quotas.vcpu_hours_per_month == 12.5


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"QUOTA_VCPU_HOURS_PER_MONTH": "-1"}, "quotas.vcpu_hours_per_month: must be at least 0"),
        ({"MIN_POLL_SECONDS": "61"}, "min_poll_seconds: must be at most 60"),
        ({"MIN_POLL_SECONDS": "five"}, "min_poll_seconds: expected an integer"),
        ({"STORE_BACKEND": "dynamo"}, "store_backend: must be one of 'mongo', 'sqlite'"),
        ({"TENANT_CLAIM": ""}, "tenant_claim: must have at least 1 character"),
        ({"USAGE_PRICES": '{"eu-west-1": {"vcpuHour": -1, "gbHour": 0}}'}, "usage.prices.eu-west-1: must be at least 0"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_sections_are_frozen_compare_by_value_and_copy_dump_and_validate_as_before():
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.reports_bucket = "x"  # type: ignore[misc]
    copied = settings.model_copy(update={"quotas": settings.quotas.model_copy(update={"concurrent_runs": 2})})
    assert copied.quotas.concurrent_runs == 2 and settings.quotas.concurrent_runs == 10
    assert Settings.model_validate(copied.model_dump()) == copied != settings
    assert hash(EcsDefaults(subnets=("a",))) == hash(EcsDefaults(subnets=["a"]))
    with pytest.raises(SettingsError, match="unknown field"):
        Settings.model_validate({"ecs": {"clutser": "x"}})
    assert all(issubclass(s, Section) for s in SECTIONS) and settings_module.Settings is Settings
