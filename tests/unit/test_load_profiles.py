"""Load profiles and data splits as run settings (usecases/load_profiles.py): which load a run gets
from its request and its test's defaults, what is refused (and that a refusal writes nothing), and
the same settings on a trigger, a schedule and a test, on the real use cases over SQLite."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from support.lifecycle import CALLER, RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.errors import LoadManagerError
from load_manager.identity import Caller
from load_manager.models.automation import CreateEventSourceRequest, CreateScheduleRequest, CreateTriggerRequest
from load_manager.models.load_profiles import MAX_STAGES, LoadProfile
from load_manager.models.load_tests import CreateLoadTestRequest, UpdateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.settings import QuotaSettings, Settings, set_settings
from load_manager.usecases import event_sources, load_tests, runs, schedules, scripts, triggers

PROFILE = {"stages": [{"durationSeconds": 60, "users": 10}, {"durationSeconds": 120, "users": 30, "spawnRate": 2}, {"durationSeconds": 30, "users": 5}]}
FILES = [
    {"path": "data/users.csv", "content": b64("username\nann\nbob\n")},
    {"path": "data/notes.txt", "content": b64("not a table\n")},
    {"path": "data/blob.csv", "content": "AAEC/w=="},  # bytes 00 01 02 ff: not text
]


def _test(stores, **fields):
    body = {"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE), "files": FILES, **fields}
    return load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate(body))


def _start(stores, test_id, **body):
    return runs.start_run(stores, RecordingStarter, CALLER, test_id, StartRunRequest.model_validate(body), None)[0]


def _refused(code: str, call, *args, **kwargs) -> LoadManagerError:
    with pytest.raises(LoadManagerError) as refused:
        call(*args, **kwargs)
    assert refused.value.code == code and refused.value.status == 422, refused.value.message
    return refused.value


def test_a_profile_is_the_runs_users_and_duration(stores):
    run = _start(stores, _test(stores).id, loadProfile=PROFILE)
    assert (run.target_users, run.duration_seconds, run.spawn_rate) == (30, 210, 25.0)  # the fastest change: 30 -> 5 in a second
    assert run.load_profile == LoadProfile.model_validate(PROFILE)
    assert stores.runs.get(run.account_id, run.id).model_dump(by_alias=True)["loadProfile"]["stages"][1] == {
        "durationSeconds": 120, "users": 30, "spawnRate": 2.0
    }


def test_which_load_a_run_gets(stores):
    test = _test(stores, defaultLoadProfile=PROFILE)
    assert _start(stores, test.id).load_profile is not None, "the test's profile, when the run asks for nothing"
    constant = _start(stores, test.id, durationSeconds=30)
    assert constant.load_profile is None and (constant.target_users, constant.duration_seconds) == (runs.DEFAULT_USERS, 30)
    own = _start(stores, test.id, loadProfile={"stages": [{"durationSeconds": 5, "users": 3}]})
    assert own.duration_seconds == 5 and own.target_users == 3
    before = len(stores.runs.list(CALLER.account_id, test.id, status=None, limit=100, after=None))
    refused = _refused("LoadProfileConflict", _start, stores, test.id, loadProfile=PROFILE, targetUsers=5, durationSeconds=9)
    assert refused.details == {"fields": ["loadProfile", "targetUsers", "durationSeconds"]}
    assert len(stores.runs.list(CALLER.account_id, test.id, status=None, limit=100, after=None)) == before, "a refused run writes nothing"


def test_a_tests_defaults_hold_a_profile_or_constant_defaults_never_both(stores):
    _refused("LoadProfileConflict", _test, stores, defaultLoadProfile=PROFILE, defaultUsers=5)
    test = _test(stores, defaultUsers=5)
    patch = UpdateLoadTestRequest.model_validate({"defaultLoadProfile": PROFILE})
    refused = _refused("LoadProfileConflict", load_tests.update, stores, CALLER, test.id, patch)
    assert refused.details == {"fields": ["defaultLoadProfile", "defaultUsers"]}
    changed = load_tests.update(stores, CALLER, test.id, UpdateLoadTestRequest.model_validate({"defaultLoadProfile": PROFILE, "defaultUsers": None}))
    assert changed.default_load_profile is not None and load_tests.get(stores, CALLER, test.id).default_load_profile.total_seconds == 210


def test_a_profile_is_bounded():
    for stages, why in (
        ([{"durationSeconds": 5, "users": 0}, {"durationSeconds": 5, "users": 3}], "first stage needs at least one user"),
        ([{"durationSeconds": 50_000, "users": 1}, {"durationSeconds": 50_000, "users": 1}], "a run lasts at most 86400 s"),
        ([{"durationSeconds": 1, "users": 1}] * (MAX_STAGES + 1), "at most 50 items"),
        ([{"durationSeconds": 0, "users": 1}], "greater than or equal to 1"),
        ([{"durationSeconds": 5, "users": 3, "spawnRate": 0}], "greater than 0"),
    ):
        with pytest.raises(ValidationError, match=why):
            LoadProfile.model_validate({"stages": stages})
    pause = LoadProfile.model_validate({"stages": [{"durationSeconds": 5, "users": 4}, {"durationSeconds": 5, "users": 0}]})
    assert pause.plan() == [(5, 4, 4.0), (5, 0, 4.0)] and [pause.users_at(t) for t in (0, 4.9, 5, 10)] == [4, 4, 0, None]


def test_quotas_judge_a_profiles_peak_and_total(stores, tmp_path):
    test = _test(stores)
    set_settings(Settings(data_dir=str(tmp_path), sqlite_path=str(tmp_path / "lm.db"), quotas=QuotaSettings(users_per_run=20, duration_seconds=200)))
    try:
        users = _refused("RunLimitExceeded", _start, stores, test.id, loadProfile=PROFILE)
        assert users.details == {"quota": "usersPerRun", "limit": 20, "requested": 30}
        long = {"stages": [{"durationSeconds": 150, "users": 1}, {"durationSeconds": 60, "users": 2}]}
        assert _refused("RunLimitExceeded", _start, stores, test.id, loadProfile=long).details["quota"] == "durationSeconds"
    finally:
        set_settings(None)


def test_a_data_split_names_csv_text_files_of_the_revision(stores):
    for paths, why in (
        (["data/missing.csv"], "'data/missing.csv' is not a file of the test's bundle"),
        (["data/notes.txt"], "not a .csv file"),
        (["data/blob.csv"], "not UTF-8 text"),
        (["data/users.csv", "./data//users.csv"], "named twice"),
        (["../users.csv"], "cannot leave the bundle"),
    ):
        assert why in _refused("InvalidDataSplit", _test, stores, dataSplit=paths).message
    test = _test(stores, dataSplit=["./data/users.csv"])
    assert test.data_split == ["data/users.csv"], "stored normalised"
    assert _start(stores, test.id, workers=2).data_split == ["data/users.csv"], "the test's, by default"
    assert _start(stores, test.id, dataSplit=[]).data_split == [], "[]: none for this run"
    # A later revision without the file: the run is refused, naming the revision it would run.
    scripts.update_script(stores, CALLER, test.id, b64(SIMPLE + "\n"), "the data goes")
    assert "revision 2" in _refused("InvalidDataSplit", _start, stores, test.id).message
    assert _start(stores, test.id, revision=1).data_split == ["data/users.csv"]
    patch = UpdateLoadTestRequest.model_validate({"dataSplit": ["data/users.csv"]})
    assert "latest revision (2)" in _refused("InvalidDataSplit", load_tests.update, stores, CALLER, test.id, patch).message


class _Bus:
    def put(self, *args, **kwargs):
        pass

    def delete(self, name):
        pass


def test_triggers_and_schedules_carry_a_profile_and_its_total_is_their_runs_duration(stores):
    operator = Caller(subject="ops", email="ops@example.net", account_id="ops", groups=frozenset({"load-manager-operators"}))
    owned = CreateEventSourceRequest.model_validate({"ownerAccountId": CALLER.account_id, "kind": "eventSource", "value": "my.app"})
    event_sources.create(stores, lambda _account: None, operator, owned)  # the tenant's triggers may see my.app's events
    test = _test(stores)
    trigger = triggers.create(stores, lambda: _Bus(), CALLER, test.id, CreateTriggerRequest.model_validate(
        {"name": "deploys", "eventPattern": {"source": ["my.app"]}, "runSettings": {"loadProfile": PROFILE}}))  # fmt: skip
    assert trigger.run_settings.load_profile.total_seconds == 210
    with pytest.raises(LoadManagerError) as refused:
        schedules.create(stores, lambda: _Bus(), CALLER, test.id, CreateScheduleRequest.model_validate(
            {"name": "often", "rate": "3 minutes", "runSettings": {"loadProfile": PROFILE}}))  # fmt: skip
    assert refused.value.code == "ScheduleTooFrequent" and refused.value.details["durationSeconds"] == 210
    schedule = schedules.create(stores, lambda: _Bus(), CALLER, test.id, CreateScheduleRequest.model_validate(
        {"name": "hourly", "rate": "1 hours", "runSettings": {"loadProfile": PROFILE, "dataSplit": ["data/users.csv"]}}))  # fmt: skip
    assert schedule.run_settings.data_split == ["data/users.csv"]
    with pytest.raises(LoadManagerError) as wrong:
        triggers.create(stores, lambda: _Bus(), CALLER, test.id, CreateTriggerRequest.model_validate(
            {"name": "bad", "eventPattern": {"source": ["my.app"]}, "runSettings": {"loadProfile": PROFILE, "targetUsers": 3}}))  # fmt: skip
    assert wrong.value.code == "LoadProfileConflict"
