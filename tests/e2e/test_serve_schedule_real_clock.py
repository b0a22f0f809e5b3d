"""`load-manager serve`'s own clock, in real time: a `* * * * *` schedule created through the API
fires by itself at the next minute, and its run really runs.

It waits for up to a minute of wall time, so it is alone in its file: pytest-xdist (--dist
loadfile) runs it beside the others. Every other schedule test moves the clock itself."""

from __future__ import annotations

import pytest
import requests
from support.polling import eventually
from support.scripts import SIMPLE, b64
from support.serve import serve

from load_manager.models.runs import FINAL_STATUSES

pytestmark = pytest.mark.slow


def test_a_schedule_every_minute_fires_by_itself_and_its_run_finishes(tmp_path, target):
    with serve(tmp_path) as url:
        created = requests.post(
            f"{url}/v1/load-tests", json={"name": "on the clock", "targetUrl": target.url, "scriptContent": b64(SIMPLE)}, timeout=10
        )
        test_id = created.json()["id"]
        body = {"name": "every minute", "cron": "* * * * *", "runSettings": {"targetUsers": 1, "durationSeconds": 2}}
        answer = requests.post(f"{url}/v1/load-tests/{test_id}/schedules", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        schedule = answer.json()
        path = f"{url}/v1/load-tests/{test_id}/schedules/{schedule['id']}"

        # At most a minute away; 90 s leaves room for a busy machine: the verdict is the occurrence.
        occurrences = eventually(lambda: requests.get(path, timeout=10).json()["occurrences"], timeout=90, every=0.5)
        assert occurrences, "no occurrence within 90 s of creating a `* * * * *` schedule"
        assert requests.delete(path, timeout=10).status_code == 204  # one occurrence is the point: no second run
        (fired,) = occurrences
        # The first minute the API announced; the one after only for a schedule created in the last
        # second before it (it may reach Scheduler just after that minute began).
        first_minute = schedule["nextOccurrences"][0]
        expected = schedule["nextOccurrences"][:2] if first_minute - schedule["createdAt"] < 1000 else [first_minute]
        assert fired["outcome"] == "started" and fired["at"] in expected, (fired, schedule)

        run = requests.get(f"{url}/v1/runs/{fired['runId']}", timeout=10).json()
        assert run["trigger"] == {"type": "schedule", "scheduleId": schedule["id"], "occurrenceAt": fired["at"]}
        final = eventually(lambda: (r := requests.get(f"{url}/v1/runs/{run['id']}", timeout=10).json())["status"] in FINAL_STATUSES and r, timeout=60)
        assert final and final["status"] == "Finished", final
        assert final["summary"]["totalRequests"] > 0
