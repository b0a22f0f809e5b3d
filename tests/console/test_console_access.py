"""Roles, API tokens and the audit log in the console (headless chromium, a real `serve`).

The console asks GET /v1/me once and hides what the caller's role may not do (console/src/access.js);
the API still decides. Locally a request without a token is the local admin; a Bearer JWT is read as
the caller (unverified, local mode), so a person with no Cognito group is a viewer. Runs in a given
state are stored in serve's own store as the lifecycle leaves them: no Locust runs here.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from support.results import finished_run
from support.roles import with_role
from support.scripts import b64

from load_manager.ids import now_ms
from load_manager.models.runs import StatusChange
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.auth import make_unsigned_jwt

pytestmark = pytest.mark.slow

SCRIPT = "from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def index(self):\n        self.client.get('/')\n"
PERSON = {"sub": "person-1", "email": "vi@example.com", "email_verified": "true", "custom:accountId": "local"}


def _bearer(role: str) -> dict[str, str]:
    """The Authorization header of a person of the local tenant with exactly the group of `role`."""
    return {"Authorization": f"Bearer {make_unsigned_jwt(with_role(PERSON, role))}"}


def _as(page, role: str | None) -> None:
    """Every later request of the tab as that person (None: no header, the local admin)."""
    page.set_extra_http_headers(_bearer(role) if role else {})


def _create_test(url: str, name: str) -> str:
    answer = requests.post(f"{url}/v1/load-tests", json={"name": name, "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SCRIPT)}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _runs(data_dir, test_id: str) -> tuple[str, str]:
    """(a Running run, a Finished run) of the test, stored as the lifecycle leaves them."""
    stores = build_sqlite_stores(str(data_dir / "load_manager.db"))
    revision = stores.revisions.get_by_number("local", test_id, 1)
    finished = finished_run("local", test_id, revision.id, 1, now_ms() - 120_000, 60)
    started = now_ms() - 5_000
    running = finished_run(
        "local", test_id, revision.id, 1, started, 600, status="Running", result="NotEvaluated", ended_at=None, summary=None, endpoints=[],
        status_history=[StatusChange(status="Pending", at=started - 1000, actor="local@localhost"), StatusChange(status="Running", at=started, actor="system")],
    )  # fmt: skip
    stores.runs.insert(finished)
    stores.runs.insert(running)
    return running.id, finished.id


def test_a_viewer_sees_no_control_that_changes_anything_and_a_runner_only_runs(page, console_url, console_data, check_page):
    test_id = _create_test(console_url, "roles")
    schedule = {"name": "nightly", "cron": "0 2 * * *", "enabled": False, "runSettings": {"targetUsers": 1, "durationSeconds": 2}}
    assert requests.post(f"{console_url}/v1/load-tests/{test_id}/schedules", json=schedule, timeout=10).status_code == 201
    running, finished = _runs(console_data, test_id)
    test = f"{console_url}/tests/{test_id}"

    # The local admin has every control of these views: what the viewer misses below is there to miss.
    page.goto(f"{console_url}/runs/{running}")
    expect(page.get_by_test_id("stop-run")).to_be_visible()
    expect(page.get_by_test_id("signed-in-role")).to_have_text("admin")
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="API tokens")).to_be_visible()
    # The baseline picker opens on the baseline, not on the newest Finished run listed first.
    stores = build_sqlite_stores(str(console_data / "load_manager.db"))
    stores.runs.insert(finished_run("local", test_id, stores.revisions.get_by_number("local", test_id, 1).id, 1, now_ms() - 60_000, 30))
    assert requests.put(f"{console_url}/v1/load-tests/{test_id}/baseline", json={"runId": finished}, timeout=10).status_code == 200
    page.goto(f"{test}/gates")
    expect(page.get_by_role("combobox", name="Finished run")).to_have_value(finished)
    assert requests.put(f"{console_url}/v1/load-tests/{test_id}/baseline", json={"runId": None}, timeout=10).status_code == 200

    _as(page, "viewer")
    page.goto(f"{test}/script")
    expect(page.get_by_test_id("signed-in-role")).to_have_text("viewer")
    expect(page.get_by_test_id("script-editor")).to_contain_text("self.client.get('/')")
    expect(page.get_by_test_id("download-zip")).to_be_visible()  # reading is every role's
    check_page(page, "test script as a viewer")
    expect(page.get_by_test_id("save-revision")).to_have_count(0)
    expect(page.get_by_test_id("read-only-note")).to_have_text("Read-only: a new revision needs the editor role; yours is viewer.")
    expect(page.get_by_role("button", name=re.compile("Rename|Add file|Upload"))).to_have_count(0)
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Tests")).to_be_visible()
    expect(nav.get_by_role("link", name="API tokens")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)

    page.get_by_role("tab", name="Gates").click()
    expect(page.get_by_test_id("criteria-form")).to_be_visible()
    expect(page.get_by_test_id("baseline-current")).to_be_visible()
    for gone in ("save-criteria", "set-baseline"):
        expect(page.get_by_test_id(gone)).to_have_count(0)
    page.get_by_role("tab", name="Automation").click()
    expect(page.get_by_test_id("schedule-row")).to_have_count(1)
    expect(page.get_by_test_id("toggle-schedule")).to_have_count(0)
    expect(page.get_by_test_id("schedule-form")).to_have_count(0)
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(page.get_by_test_id("delete-test")).to_have_count(0)

    page.goto(f"{test}/runs")
    expect(page.get_by_test_id("run-row")).to_have_count(3)  # running, finished and the newer Finished run
    expect(page.get_by_test_id("start-run")).to_have_count(0)
    page.goto(f"{console_url}/runs/{running}")
    expect(page.get_by_test_id("run-status")).to_have_text("Running")
    expect(page.get_by_test_id("stop-run")).to_have_count(0)
    page.goto(f"{console_url}/runs/{finished}")
    expect(page.get_by_test_id("run-status")).to_have_text("Finished")
    expect(page.get_by_test_id("make-baseline")).to_have_count(0)
    page.goto(f"{console_url}/tests")
    expect(page.get_by_test_id("test-row").filter(has_text="roles")).to_be_visible()
    expect(page.get_by_role("button", name="Create test")).to_have_count(0)
    page.goto(f"{console_url}/tokens")  # a page not offered, opened by its URL: it says why, asks nothing
    expect(page.get_by_test_id("role-needed")).to_have_attribute("data-role", "admin")
    check_page(page, "tokens as a viewer")

    # The API decides all the same: a viewer's save is refused and changes nothing.
    refused = requests.put(f"{test.replace('/tests/', '/v1/load-tests/')}/script", json={"scriptContent": b64(SCRIPT + "#\n")}, headers=_bearer("viewer"), timeout=10)
    assert refused.status_code == 403 and refused.json()["details"] == {"requiredRole": "editor", "role": "viewer"}

    _as(page, "runner")  # runs, stops and sets baselines; edits nothing
    page.goto(f"{console_url}/runs/{running}")
    expect(page.get_by_test_id("stop-run")).to_be_visible()
    page.goto(f"{console_url}/runs/{finished}")
    expect(page.get_by_test_id("make-baseline")).to_be_visible()
    page.goto(f"{test}/runs")
    expect(page.get_by_test_id("start-run")).to_be_visible()
    page.goto(f"{test}/script")
    expect(page.get_by_test_id("script-editor")).to_contain_text("self.client.get('/')")
    expect(page.get_by_test_id("save-revision")).to_have_count(0)


def test_a_new_token_is_shown_once_and_never_after_a_reload(page, console_url, check_page):
    scoped = _create_test(console_url, "token-scope")
    other = _create_test(console_url, "token-elsewhere")
    page.goto(f"{console_url}/tokens")
    form = page.get_by_test_id("token-form")
    form.get_by_label("Name", exact=True).fill("ci-shop")
    expect(form.get_by_role("combobox", name=re.compile("^Role"))).to_have_value("runner")  # the form's default
    form.get_by_role("combobox", name=re.compile("^Role")).select_option("runner")
    form.get_by_label("Expires in (days, 1 to 365)").fill("30")
    form.get_by_role("checkbox", name=re.compile("token-scope")).check()
    form.get_by_role("button", name="Create token").click()

    shown = page.get_by_test_id("new-token")
    expect(shown).to_contain_text("you will not see it again")
    token = page.get_by_test_id("new-token-value").input_value()
    assert re.fullmatch(r"lmt_[A-Za-z0-9_-]{43}", token), token
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_url)
    page.get_by_test_id("copy-token").click()
    expect(page.get_by_test_id("copy-outcome")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == token
    row = page.get_by_test_id("token-row").filter(has_text="ci-shop")
    expect(row).to_contain_text("runner")
    expect(row).to_contain_text("token-scope")
    expect(row.get_by_test_id("token-prefix")).to_have_text(f"{token[:12]}…")
    check_page(page, "tokens, a new token shown once")

    # What was shown is the token: the API takes it, with its role and scope.
    auth = {"Authorization": f"Bearer {token}"}
    assert [t["id"] for t in requests.get(f"{console_url}/v1/load-tests", headers=auth, timeout=10).json()["items"]] == [scoped]
    assert requests.get(f"{console_url}/v1/load-tests/{other}", headers=auth, timeout=10).status_code == 404

    page.reload()  # the page kept it nowhere, and the API never answers it again
    expect(row).to_be_visible()
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    assert token not in page.content()
    assert token not in requests.get(f"{console_url}/v1/tokens", timeout=10).text

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("revoke-token").click()
    expect(row).to_have_attribute("data-revoked", "true")
    expect(row.get_by_test_id("revoke-token")).to_have_count(0)
    refused = requests.get(f"{console_url}/v1/load-tests", headers=auth, timeout=10)
    assert refused.status_code == 401 and refused.json()["code"] == "TokenRevoked"


def test_the_audit_log_lists_records_newest_first_filtered_and_paged(page, console_url, check_page):
    test_id = _create_test(console_url, "audited")
    assert requests.patch(f"{console_url}/v1/load-tests/{test_id}", json={"description": "edited"}, timeout=10).status_code == 200
    criteria = {"criteria": [{"metric": "p95Ms", "operator": "<", "threshold": 500}]}
    assert requests.patch(f"{console_url}/v1/load-tests/{test_id}", json=criteria, timeout=10).status_code == 200
    expected = requests.get(f"{console_url}/v1/audit", params={"target": test_id}, timeout=10).json()["items"]
    assert len(expected) >= 3, expected

    page.goto(f"{console_url}/audit?target={test_id}&limit=2")
    rows = page.get_by_test_id("audit-row")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Show more records").click()
    expect(rows).to_have_count(len(expected))
    assert [rows.nth(i).get_attribute("data-action") for i in range(len(expected))] == [r["action"] for r in expected]  # newest first
    expect(rows.last).to_have_attribute("data-action", "loadTest.create")
    expect(rows.first).to_contain_text("local@localhost")
    check_page(page, "audit log of a test")

    page.get_by_role("link", name="Clear the filters").click()  # the whole log, then filtered from the form
    expect(page).to_have_url(f"{console_url}/audit")
    expect(rows.first).to_be_visible()
    filters = page.get_by_test_id("audit-filters")
    filters.get_by_label("Target id").fill(test_id)
    filters.get_by_label("Actor").fill("nobody@example.com")
    filters.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/audit\?target={test_id}&actor=nobody%40example.com$"))
    expect(page.get_by_test_id("audit-list")).to_have_text("No record matches these filters.")

    _as(page, "editor")  # the log is the admins'
    page.goto(f"{console_url}/audit")
    expect(page.get_by_test_id("role-needed")).to_be_visible()
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit log")).to_have_count(0)
