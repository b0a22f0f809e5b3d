"""What a channel is sent when a run ends: the verdict, the filters that decide whether to send it, the
message of each kind (webhook JSON, Slack, Microsoft Teams), and the webhook's signature.

Every message names the test, the revision, the verdict, the failed criteria and the run's console
link. Kinds:
- `webhook`: Load Manager's own JSON (`WEBHOOK_VERSION`), signed: `X-LoadManager-Signature: v1=<hex>`
  is HMAC-SHA256, keyed by the channel's signing secret, over `<X-LoadManager-Timestamp>.<body>`
  where body is the canonical JSON of the payload (keys sorted, no whitespace, UTF-8). EventBridge
  re-serialises the JSON it delivers, so receivers canonicalise the parsed body before checking
  (docs: how-to/notifications.md). The payload holds only strings, integers, booleans, nulls and
  numbers with at most three decimals, so every JSON library gives the same canonical bytes.
- `slack`: an incoming-webhook message, `text` (the notification's fallback) and `blocks`.
- `teams`: a message with one Adaptive Card attachment (what Teams incoming webhooks and Workflows'
  "post when a webhook request is received" take).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from load_manager.models.criteria import CriterionResult
from load_manager.models.notifications import ChannelFilter, Verdict
from load_manager.models.runs import Run

WEBHOOK_VERSION = "2026-12-01"
SIGNATURE_HEADER = "X-LoadManager-Signature"
TIMESTAMP_HEADER = "X-LoadManager-Timestamp"
EVENT_ID_HEADER = "X-LoadManager-Event-Id"
FAILING: frozenset[str] = frozenset({"Failed", "Error"})
MAX_LISTED_CRITERIA = 10  # a chat message names the first ten; the webhook carries all (at most 50)
SLACK_SECTION_CHARS = 2900  # Slack refuses a section's text over 3,000 characters
SLACK_HEADER_CHARS = 150


def verdict(run: Run) -> Verdict:
    if run.status == "Finished":
        return run.result
    return "Cancelled" if run.status == "Cancelled" else "Error"


def wanted(channel_filter: ChannelFilter, current: Verdict, previous: Verdict | None) -> bool:
    """Does a channel with this filter announce a run with verdict `current`? `previous`: the verdict
    of the test's previous ended run that was not Cancelled (None: there is none)."""
    if channel_filter == "all":
        return True
    if channel_filter == "failed":
        return current in FAILING
    return current != "Cancelled" and current != previous


@dataclass(frozen=True)
class Notice:
    """Everything a message says, gathered once from the run, its test and its links."""

    event_id: str
    channel_id: str
    test_id: str
    test_name: str
    run: Run
    verdict: Verdict
    previous_verdict: Verdict | None
    console_url: str
    links: dict[str, str | None] = field(default_factory=dict)

    @property
    def failed(self) -> list[CriterionResult]:
        return [c for c in self.run.criteria_results if not c.passed]


# ---- the words ----------------------------------------------------------------------------------


def headline(notice: Notice) -> str:
    run = notice.run
    what = {
        "Passed": f"passed all {len(run.criteria_results)} criteria",
        "Failed": f"failed {len(notice.failed)} of {len(run.criteria_results)} criteria",
        "NotEvaluated": "finished (no criteria to judge it by)",
        "Error": "failed to run",
        "Cancelled": "was cancelled",
    }[notice.verdict]
    return f"Load test \u201c{notice.test_name}\u201d {what} (revision {run.revision_number})"


def criterion_line(result: CriterionResult) -> str:
    criterion = result.criterion
    scope = f" {criterion.endpoint}" if criterion.endpoint else ""
    return f"{criterion.metric}{scope}: {result.message}"


def verdict_text(notice: Notice) -> str:
    changed = notice.previous_verdict not in (None, notice.verdict)
    return notice.verdict + (f" (was {notice.previous_verdict})" if changed else "")


def _detail_lines(notice: Notice) -> list[str]:
    run = notice.run
    lines = [f"Verdict: {verdict_text(notice)}"]
    if run.failure_reason and notice.verdict == "Error":
        lines.append(f"Reason: {run.failure_reason[:500]}")
    lines.append(f"Revision: {run.revision_number} ({run.script_revision_id})")
    lines.append(f"Target: {run.target_url}")
    return lines


def plain_text(notice: Notice) -> str:
    failed = [f"- {criterion_line(c)}" for c in notice.failed[:MAX_LISTED_CRITERIA]]
    more = [f"- and {len(notice.failed) - MAX_LISTED_CRITERIA} more"] if len(notice.failed) > MAX_LISTED_CRITERIA else []
    criteria = ["Failed criteria:", *failed, *more] if failed else []
    return "\n".join([headline(notice), *_detail_lines(notice), *criteria, f"Run: {notice.console_url}"])


# ---- webhook --------------------------------------------------------------------------------------


def webhook_payload(notice: Notice) -> dict[str, Any]:
    run = notice.run
    summary = run.summary.model_dump(by_alias=True) if run.summary else None
    payload = {
        "version": WEBHOOK_VERSION,
        "type": "RunFinished",
        "eventId": notice.event_id,
        "channelId": notice.channel_id,
        "text": plain_text(notice),
        "loadTest": {"id": notice.test_id, "name": notice.test_name},
        "run": {
            "id": run.id, "status": run.status, "result": run.result, "verdict": notice.verdict,
            "previousVerdict": notice.previous_verdict, "revisionNumber": run.revision_number,
            "scriptRevisionId": run.script_revision_id, "scriptSha256": run.script_sha256, "targetUrl": run.target_url,
            "startedAt": run.started_at, "endedAt": run.ended_at, "failureReason": run.failure_reason, "summary": summary,
        },
        "failedCriteria": [c.model_dump(by_alias=True, exclude_none=True) for c in notice.failed],
        "links": notice.links,
    }  # fmt: skip
    return portable(payload)


def portable(value: Any) -> Any:
    """The payload with numbers every JSON library writes alike (integral floats as integers, others
    rounded to three decimals) and strings that encode as UTF-8 (a lone surrogate becomes "?")."""
    if isinstance(value, dict):
        return {str(k): portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v) for v in value]
    if isinstance(value, float):
        rounded = round(value, 3)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if not value.isascii() else value
    return value


def canonical_json(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def signature(secret: str, timestamp: int, payload: Any) -> str:
    message = str(timestamp).encode() + b"." + canonical_json(payload)
    return "v1=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: str, header: str, body: bytes) -> bool:
    """A receiver's check (what the how-to shows): the body as delivered, parsed and canonicalised."""
    try:
        expected = signature(secret, int(timestamp), json.loads(body))
    except ValueError:
        return False
    return hmac.compare_digest(expected, header)


# ---- Slack -----------------------------------------------------------------------------------------

_SLACK_ICON = {
    "Passed": ":white_check_mark:", "Failed": ":x:", "NotEvaluated": ":information_source:", "Error": ":warning:", "Cancelled": ":no_entry_sign:",
}  # fmt: skip


def slack_escape(text: str) -> str:
    """Slack reads `&`, `<` and `>` as markup (`<!channel>` would ping everyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    title = headline(notice)
    details = "\n".join(slack_escape(line) for line in _detail_lines(notice))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:SLACK_HEADER_CHARS], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{_SLACK_ICON[notice.verdict]} {details}"[:SLACK_SECTION_CHARS]}},
    ]
    if notice.failed:
        lines = [f"\u2022 {slack_escape(criterion_line(c))}" for c in notice.failed[:MAX_LISTED_CRITERIA]]
        if len(notice.failed) > MAX_LISTED_CRITERIA:
            lines.append(f"\u2022 and {len(notice.failed) - MAX_LISTED_CRITERIA} more")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": ("*Failed criteria*\n" + "\n".join(lines))[:SLACK_SECTION_CHARS]}})
    blocks.append({
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the run"}, "url": notice.console_url}],
    })  # fmt: skip
    # `text` is what notifications and clients without blocks show.
    return portable({"text": f"{slack_escape(title)}: <{notice.console_url}|open the run>", "blocks": blocks})


# ---- Microsoft Teams -------------------------------------------------------------------------------

_TEAMS_COLOR = {"Passed": "Good", "Failed": "Attention", "NotEvaluated": "Default", "Error": "Attention", "Cancelled": "Warning"}


def teams_payload(notice: Notice) -> dict[str, Any]:
    run = notice.run
    facts = [
        {"title": "Verdict", "value": verdict_text(notice)},
        {"title": "Revision", "value": f"{run.revision_number} ({run.script_revision_id})"},
        {"title": "Target", "value": run.target_url},
    ]
    if run.failure_reason and notice.verdict == "Error":
        facts.append({"title": "Reason", "value": run.failure_reason[:500]})
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": headline(notice), "weight": "Bolder", "size": "Medium", "wrap": True, "color": _TEAMS_COLOR[notice.verdict]},
        {"type": "FactSet", "facts": facts},
    ]
    if notice.failed:
        body.append({"type": "TextBlock", "text": "Failed criteria", "weight": "Bolder", "wrap": True})
        listed = notice.failed[:MAX_LISTED_CRITERIA]
        body.extend({"type": "TextBlock", "text": f"- {criterion_line(c)}", "wrap": True, "spacing": "None"} for c in listed)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": body, "actions": [{"type": "Action.OpenUrl", "title": "Open the run", "url": notice.console_url}],
    }  # fmt: skip
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
    return portable({"type": "message", "attachments": [attachment]})


RENDERERS = {"webhook": webhook_payload, "slack": slack_payload, "teams": teams_payload}
