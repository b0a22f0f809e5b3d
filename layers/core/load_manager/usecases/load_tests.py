"""Load tests: create (with revision 1), list, read, edit metadata, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from load_manager.errors import BadRequestError, ForbiddenError, RunActiveError
from load_manager.identity import Caller
from load_manager.ids import new_id, now_ms
from load_manager.models.load_tests import CreateLoadTestRequest, LoadTest, LoadTestPage, UpdateLoadTestRequest
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store import Stores
from load_manager.usecases import audit, gates, load_profiles, retention
from load_manager.usecases.reads import get_test as get  # reading a test, for the areas that show one

if TYPE_CHECKING:  # annotations only
    from load_manager.usecases.dependents import Reach


def create(stores: Stores, caller: Caller, request: CreateLoadTestRequest) -> LoadTest:
    """Revision 1 is the bundle sent (scriptContent, files, entryPath) or a script template's."""
    from load_manager.usecases import bundles, scripts  # lazy: the scripts area costs 24 ms at import (bench/cold_import.py --lazy), create only

    if caller.load_test_ids is not None:  # the new test would be outside its scope: invisible to it at once
        raise ForbiddenError("a token scoped to some load tests cannot create one")
    if request.template_id is not None:
        checked = bundles.check_bundle(bundles.template_bundle(request.template_id))
        description = request.script_description or f"From template {bundles.template_name(request.template_id)}"
    else:
        checked = scripts.check_request(request.script_content or "", request.files, request.entry_path)
        description = request.script_description or scripts.INITIAL_DESCRIPTION
    gates.check_criteria(request.criteria or [], baseline_run_id=None)  # a new test has no baseline run yet
    load_profiles.check_test_defaults(dict(request))
    data_split = load_profiles.checked_split(request.data_split or [], checked.manifest(), "the test's bundle")
    test_id, now = new_id(), now_ms()
    draft = scripts.draft_revision(caller, test_id, checked, description)
    # Revision first: if the test insert then fails, an unreachable revision is all that is left,
    # never a test without a script.
    revision, _ = stores.revisions.append(draft, skip_if_same_as_latest=False, blobs=checked.blobs())
    test = LoadTest(
        id=test_id,
        account_id=caller.account_id,
        **request.model_dump(exclude={"script_content", "script_description", "files", "entry_path", "template_id", "criteria", "auto_stop",
                                      "default_load_profile", "data_split"}),
        default_load_profile=request.default_load_profile,
        data_split=data_split,
        criteria=request.criteria or [],
        auto_stop=request.auto_stop,
        latest_revision_id=revision.id,
        latest_revision_number=revision.revision_number,
        created_at=now,
        created_by=caller.actor,
        updated_at=now,
        updated_by=caller.actor,
    )
    stores.load_tests.insert(test, audit=audit.change(caller, "loadTest.create", test.id, load_test_id=test.id, after=test, at=now))
    return test


def list_page(stores: Stores, caller: Caller, project_id: str | None, limit: int, cursor: str | None) -> LoadTestPage:
    after = decode_cursor(cursor, int, str)
    rows = stores.load_tests.list(caller.account_id, project_id=project_id, limit=limit + 1, after=after, ids=caller.load_test_ids)
    page, more = rows[:limit], len(rows) > limit
    return LoadTestPage(items=page, next_cursor=encode_cursor([page[-1].created_at, page[-1].id]) if more else None)


def update(stores: Stores, caller: Caller, test_id: str, request: UpdateLoadTestRequest) -> LoadTest:
    sent = {field: getattr(request, field) for field in request.model_fields_set}
    if not sent:
        raise BadRequestError("the body changes nothing: send at least one field", code="EmptyUpdate")
    # The gate fields name the record's action (a PATCH of criteria is a change of the test's gate).
    action = "criteria.update" if "criteria" in sent else "autoStop.update" if "auto_stop" in sent else "loadTest.update"

    def write(current: LoadTest) -> LoadTest | None:
        changes = dict(sent)
        if "criteria" in changes:
            changes["criteria"] = changes["criteria"] or []  # null clears them
            gates.check_criteria(changes["criteria"], baseline_run_id=current.baseline_run_id)
        _check_load_changes(stores, caller, current, changes)
        changes |= {"updated_at": audit.stamp(current.updated_at), "updated_by": caller.actor}
        record = audit.change(caller, action, test_id, load_test_id=test_id, before=current, after=audit.merged(current, changes), changed=sent)
        return stores.load_tests.update(caller.account_id, test_id, changes, audit=record, expect={"updated_at": current.updated_at})

    test = audit.until_written(lambda: get(stores, caller, test_id), write, "load test")
    if test.revision_retention is not None and "revision_retention" in sent:
        retention.prune(stores, caller.account_id, test_id, test.revision_retention.keep_last)  # setting it prunes at once
    return test


def _check_load_changes(stores: Stores, caller: Caller, current: LoadTest, changes: dict) -> None:
    """A profile and constant defaults never both; a dataSplit names CSV files of the latest revision."""
    load_profiles.check_test_defaults(dict(current) | changes)
    if "data_split" in changes:
        from load_manager.usecases import scripts  # lazy: the scripts area costs 11 ms at import (bench/cold_import.py --lazy)

        latest = scripts.latest_stored(stores, caller, current.id)
        where = f"the latest revision ({latest.revision_number})"
        changes["data_split"] = load_profiles.checked_split(changes["data_split"] or [], latest.files, where)


def delete(stores: Stores, caller: Caller, test_id: str, reach: Reach | None = None) -> None:
    """The test's record (a soft delete), then what belonged to it only: its triggers, schedules, own
    variables, secrets and notification channels (usecases/dependents.py; `reach`: where they live,
    by default the deployment's). What cannot be removed now is the sweeper's, never this request's error."""

    def write(current: LoadTest) -> bool | None:
        if stores.runs.has_active(caller.account_id, test_id):
            raise RunActiveError("the load test has an active run; stop it or wait for it to end")
        record = audit.change(caller, "loadTest.delete", test_id, load_test_id=test_id, before=current)
        expect = {"updated_at": current.updated_at}
        return stores.load_tests.delete(caller.account_id, test_id, now_ms(), caller.actor, audit=record, expect=expect) or None

    audit.until_written(lambda: get(stores, caller, test_id), write, "load test")
    from load_manager.usecases import dependents  # lazy: 65 ms at import after the function (bench/cold_import.py --lazy)

    dependents.after_delete(stores, reach, caller, test_id)
