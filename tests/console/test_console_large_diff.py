"""The console renders a script diff cut to fit an answer (headless chromium, a real `load-manager
serve`): the run comparison shows each file's diff once (the entry's from the top-level
`unifiedDiff`), says which one was cut and by how much, and loads that file's whole diff alone on
request; the revision diff page's unified text covers every file. No Locust: the two Finished runs
are stored the way the lifecycle leaves them."""

from __future__ import annotations

import base64

import pytest
import requests
from playwright.sync_api import expect
from support.results import finished_run
from support.scripts import SIMPLE
from support.serve import serve

pytestmark = pytest.mark.slow

ACCOUNT = "local"  # serve's caller without a token


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_cut_diff_is_marked_and_its_file_loads_whole(page, tmp_path):
    from load_manager.store.sqlite import build_sqlite_stores

    rows = "".join(f'{i},"user{i}_1@example.com"\n' for i in range(40_000))  # ~1.1 MB; every row changes: a ~2.3 MB diff
    with serve(tmp_path / "data") as url:
        body = {"name": "big csv", "scriptContent": _b64(SIMPLE), "files": [{"path": "data/users.csv", "content": _b64(rows)}]}
        test_id = requests.post(f"{url}/v1/load-tests", json=body, timeout=30).json()["id"]
        v2 = {"scriptContent": _b64(SIMPLE.replace('"/"', '"/items"')), "files": [{"path": "data/users.csv", "content": _b64(rows.replace("_1@", "_2@"))}]}
        assert requests.put(f"{url}/v1/load-tests/{test_id}/script", json=v2, timeout=30).status_code == 201
        stores = build_sqlite_stores(str(tmp_path / "data" / "load_manager.db"))
        runs = []
        for i, number in enumerate((1, 2)):
            revision = stores.revisions.get_by_number(ACCOUNT, test_id, number)
            run = finished_run(ACCOUNT, test_id, revision.id, number, 1_700_000_000_000 + i * 600_000, 60)
            stores.runs.insert(run)
            runs.append(run.id)

        page.goto(f"{url}/runs/compare?base={runs[0]}&target={runs[1]}")
        diff = page.get_by_test_id("compare-diff")
        entry = diff.locator('[data-testid="diff-file"][data-path="locustfile.py"]')
        expect(entry.locator(".diff-add", has_text='self.client.get("/items")')).to_have_count(1)  # the top-level unifiedDiff
        expect(entry.get_by_test_id("diff-truncated")).to_have_count(0)
        data = diff.locator('[data-testid="diff-file"][data-path="data/users.csv"]')
        expect(data.get_by_test_id("diff-truncated")).to_contain_text("Showing the first")
        shown = data.locator(".unified-diff span").count()
        data.get_by_role("button", name="Load this file’s whole diff").click()
        # 4.5 MB of diff fetched and rendered: on a starved machine that takes longer than expect's 5 s.
        expect(data.get_by_test_id("diff-truncated")).to_have_count(0, timeout=120_000)
        expect(data.locator(".diff-add")).to_have_count(40_000, timeout=120_000)
        assert data.locator(".unified-diff span").count() > shown

        page.goto(f"{url}/tests/{test_id}/diff?from=1&to=2")
        page.locator("details.unified summary").click()
        unified = page.locator("details.unified pre")
        expect(unified).to_contain_text('+        self.client.get("/items")')
        expect(unified).to_contain_text("+++ revision 2/data/users.csv")
        expect(page.locator("details.unified").get_by_test_id("diff-truncated")).to_contain_text("data/users.csv")
