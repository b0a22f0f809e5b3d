"""The messages channels get: filters, each kind's format (Slack's incoming-webhook message, a Teams
Adaptive Card message), and the webhook's signature as a receiver checks it."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from load_manager.models.criteria import Criterion, CriterionResult
from load_manager.models.runs import Run, StatusChange
from load_manager.usecases.notification_messages import (
    Notice,
    canonical_json,
    portable,
    signature,
    signature_matches,
    slack_payload,
    teams_payload,
    verdict,
    wanted,
    webhook_payload,
)

CONSOLE = "https://lm.example.com/runs/" + "a" * 32


def make_run(status="Finished", result="Failed", failed: int = 1, reason: str | None = None) -> Run:
    results = [
        CriterionResult(criterion=Criterion(metric="p95Ms", endpoint=f"GET /items/{n}", operator="<", threshold=200.0), actual=812.34567,
                        limit=200.0, passed=False, message=f"p95 812.3 ms is not < 200 ms <!channel> & {n}")
        for n in range(failed)
    ] + [CriterionResult(criterion=Criterion(metric="rps", operator=">=", threshold=1.0), actual=50.0, limit=1.0, passed=True, message="ok")]
    return Run(
        id="a" * 32, account_id="acct", load_test_id="b" * 32, status=status, result=result, status_history=[StatusChange(status=status, at=2, actor="system")],
        script_revision_id="c" * 32, revision_number=7, script_sha256="d" * 64, target_url="https://shop.example.com", target_users=10,
        spawn_rate=1.0, duration_seconds=60, workers=1, created_at=1, created_by="qa", criteria_results=results, failure_reason=reason,
    )  # fmt: skip


def notice(run: Run, previous=None) -> Notice:
    return Notice(event_id=f"{run.id}:Notify:{'e' * 32}", channel_id="e" * 32, test_id=run.load_test_id, test_name="Checkout <prod>",
                  run=run, verdict=verdict(run), previous_verdict=previous, console_url=CONSOLE, links={"console": CONSOLE})  # fmt: skip


@pytest.mark.parametrize(
    ("flt", "current", "previous", "sent"),
    [
        ("all", "Passed", "Passed", True), ("all", "Cancelled", None, True),
        ("failed", "Failed", "Failed", True), ("failed", "Error", None, True), ("failed", "Passed", "Failed", False),
        ("failed", "NotEvaluated", None, False), ("failed", "Cancelled", None, False),
        ("statusChange", "Failed", "Passed", True), ("statusChange", "Passed", "Failed", True), ("statusChange", "Error", "Failed", True),
        ("statusChange", "Passed", None, True), ("statusChange", "Failed", "Failed", False), ("statusChange", "Cancelled", "Passed", False),
    ],
)  # fmt: skip
def test_filters(flt, current, previous, sent):
    assert wanted(flt, current, previous) is sent


def test_verdicts():
    assert [verdict(make_run(s, r)) for s, r in (("Finished", "Passed"), ("Finished", "Failed"), ("Finished", "NotEvaluated"))] == ["Passed", "Failed", "NotEvaluated"]
    assert [verdict(make_run(s, "NotEvaluated")) for s in ("Failed", "Cancelled")] == ["Error", "Cancelled"]


def test_slack_message_is_an_incoming_webhook_message_within_slacks_limits():
    body = slack_payload(notice(make_run(failed=14), previous="Passed"))
    assert set(body) == {"text", "blocks"} and isinstance(body["text"], str) and body["text"]
    assert f"<{CONSOLE}|open the run>" in body["text"] and "Checkout &lt;prod&gt;" in body["text"]
    assert len(body["blocks"]) <= 50
    header, details, criteria, actions = body["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    for section in (details, criteria):
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn" and len(section["text"]["text"]) <= 3000
    assert "Verdict: Failed (was Passed)" in details["text"]["text"] and "Revision: 7" in details["text"]["text"]
    assert criteria["text"]["text"].count("\u2022") == 11 and "and 4 more" in criteria["text"]["text"]
    assert "<!channel>" not in json.dumps(body) and "&lt;!channel&gt; &amp; 0" in criteria["text"]["text"], "tenant text cannot ping a channel"
    (button,) = actions["elements"]
    assert actions["type"] == "actions" and button["type"] == "button" and button["url"] == CONSOLE and button["text"]["type"] == "plain_text"


def test_teams_message_is_an_adaptive_card_attachment():
    body = teams_payload(notice(make_run(status="Failed", result="NotEvaluated", failed=0, reason="Locust exited with code 1")))
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive" and attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json" and card["version"] == "1.4"
    title, facts = card["body"][:2]
    assert title["type"] == "TextBlock" and "failed to run (revision 7)" in title["text"]
    assert {f["title"]: f["value"] for f in facts["facts"]}["Reason"] == "Locust exited with code 1"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the run", "url": CONSOLE}]


def test_webhook_payload_names_test_revision_verdict_failed_criteria_and_link_in_portable_numbers():
    body = webhook_payload(notice(make_run(failed=2)))
    assert body["loadTest"] == {"id": "b" * 32, "name": "Checkout <prod>"}
    assert (body["run"]["revisionNumber"], body["run"]["verdict"], body["links"]["console"]) == (7, "Failed", CONSOLE)
    assert [c["actual"] for c in body["failedCriteria"]] == [812.346, 812.346] and body["failedCriteria"][0]["limit"] == 200
    assert portable({"a": [1.0, 0.1 + 0.2, 2.5e-05, "\ud800x"]}) == {"a": [1, 0.3, 0, "?x"]}


def test_a_receiver_verifies_the_signature_over_the_canonical_body_whatever_the_serialisation():
    payload = webhook_payload(notice(make_run()))
    sig = signature("s3cret-s3cret-s3cret", 1_700_000_000, payload)
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + canonical_json(payload), hashlib.sha256).hexdigest()
    assert sig == f"v1={expected}"
    for delivered in (canonical_json(payload), json.dumps(payload, indent=2).encode(), json.dumps(payload, ensure_ascii=True).encode()):
        assert signature_matches("s3cret-s3cret-s3cret", "1700000000", sig, delivered)
    tampered = json.dumps({**payload, "text": payload["text"] + "!"}).encode()
    assert not signature_matches("s3cret-s3cret-s3cret", "1700000000", sig, tampered)
    assert not signature_matches("s3cret-s3cret-s3cret", "1700000001", sig, canonical_json(payload)), "the timestamp is signed"
    assert not signature_matches("s3cret-s3cret-s3cret", "soon", sig, b"{not json")


def test_the_how_tos_receiver_accepts_a_genuine_message_and_refuses_a_stale_or_forged_one():
    import re
    import time
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "how-to" / "notifications.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    recipe: dict = {}
    exec(code, recipe)  # the documented receiver, as written
    payload = webhook_payload(notice(make_run()))
    now = int(time.time())
    body, sig = json.dumps(payload, indent=1).encode(), signature("s3cret-s3cret-s3cret", now, payload)
    headers = {"x-loadmanager-timestamp": str(now), "x-loadmanager-signature": sig}
    assert recipe["verify"](body, headers, {}, "s3cret-s3cret-s3cret") == payload
    assert recipe["verify"](body, {}, {"lm_timestamp": str(now), "lm_signature": sig}, "s3cret-s3cret-s3cret") == payload, "the query string"
    with pytest.raises(ValueError, match="bad signature"):
        recipe["verify"](body, headers, {}, "another-secret-000")
    old = now - 21 * 60
    with pytest.raises(ValueError, match="stale"):
        recipe["verify"](body, {"x-loadmanager-timestamp": str(old), "x-loadmanager-signature": signature("s3cret-s3cret-s3cret", old, payload)}, {}, "s3cret-s3cret-s3cret")
