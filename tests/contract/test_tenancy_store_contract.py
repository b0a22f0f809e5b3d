"""The contract of what keeps tenants apart and within quotas, on every adapter: event source
ownership (one owner per source, even when claims race), quota holds (a limit never exceeded when
takers race), and bundle blob collection's store side (touch on write, in use, conditional delete)."""

from __future__ import annotations

from support.concurrency import race

from load_manager.ids import new_id
from load_manager.models.automation import EventSource
from load_manager.models.bundles import BundleFileInfo
from load_manager.models.records import StoredRevision
from load_manager.store import Hold

TEST = "t" * 32


def source(owner: str, value: str = "checkout", kind: str = "codedeployApplication") -> EventSource:
    return EventSource(id=new_id(), owner_account_id=owner, kind=kind, value=value, created_at=1, created_by="ops")



def test_a_source_has_one_owner_even_when_claims_race(any_stores):
    claims = race(16, lambda n: any_stores.event_sources.claim(source(f"tenant-{n % 4}")))
    (winner,) = {c.id for c in claims}  # every claimer is told the one stored
    stored = any_stores.event_sources.get(winner)
    assert all(c == stored for c in claims)
    assert any_stores.event_sources.claim(source(stored.owner_account_id)) == stored  # again: a no-op
    other = any_stores.event_sources.claim(source("tenant-x", kind="awsAccount", value="123456789012"))
    assert any_stores.event_sources.list(stored.owner_account_id) == [stored]
    assert any_stores.event_sources.list(None) == sorted([stored, other], key=lambda s: (s.owner_account_id, s.kind, s.value))
    assert any_stores.event_sources.delete(winner) is True and any_stores.event_sources.delete(winner) is False
    assert any_stores.event_sources.get(winner) is None and any_stores.event_sources.list(stored.owner_account_id) == []
    assert any_stores.event_sources.claim(source("tenant-y")).owner_account_id == "tenant-y"  # free again


def test_holds_never_exceed_their_limits_when_takers_race(any_stores):
    holds = any_stores.holds
    taken = race(20, lambda n: holds.take("acct", "triggers", Hold(member=f"m{n}", group="a" if n % 2 else "b", at=n), 7, 4))
    assert sum(taken) == 7  # 4 of one test, 3 of the other: the tenant's 7
    held = holds.holds("acct", "triggers")
    assert len(held) == 7 and max(sum(1 for h in held if h.group == g) for g in "ab") == 4
    assert holds.take("acct", "triggers", held[0], 7, 4) is True  # a retry of a hold already held
    assert holds.take("other", "triggers", Hold(member="m0", group="a", at=0), 7, 4) is True  # per tenant
    assert holds.holds("acct", "runs") == []  # per pool
    holds.release("acct", "triggers", held[0].member)
    holds.release("acct", "triggers", held[0].member)  # already gone: fine
    assert len(holds.holds("acct", "triggers")) == 6
    assert holds.take("acct", "triggers", Hold(member="late", group=held[0].group, at=99), 7, 4) is True
    runs = race(10, lambda n: holds.take("acct", "runs", Hold(member=f"r{n}", group=None, at=n), 3, None))
    assert sum(runs) == 3 and len(holds.holds("acct", "runs")) == 3


def _revision(stores, files: dict[str, str], created_at: int, account: str = "acct") -> StoredRevision:
    draft = StoredRevision(
        id=new_id(), load_test_id=TEST, account_id=account, revision_number=0, description="", sha256=new_id() * 2, size_bytes=1,
        created_at=created_at, created_by="a", content="# entry\n",
        files=[BundleFileInfo(path="locustfile.py", size_bytes=8, sha256="e" * 64)] + [BundleFileInfo(path=p, size_bytes=1, sha256=d) for p, d in files.items()],
    )  # fmt: skip
    return stores.revisions.append(draft, skip_if_same_as_latest=False, blobs={d: d.encode() for d in files.values()})[0]


def test_blob_collection_sees_touches_references_and_deletes_only_what_is_still_old(any_stores):
    revisions = any_stores.revisions
    x, y, z = "x" * 64, "y" * 64, "z" * 64
    first = _revision(any_stores, {"a.py": x, "b.py": y}, created_at=1_000)
    _revision(any_stores, {"b.py": y}, created_at=2_000)  # touches y again
    _revision(any_stores, {"c.py": z}, created_at=3_000, account="other")
    assert revisions.blobs_touched_before("acct", 1_500) == {x}
    assert revisions.blobs_touched_before("acct", 2_500) == {x, y}
    assert revisions.blobs_in_use("acct", {x, y, z}) == {x, y}  # z is another tenant's
    # A tombstone names no blob; a marked revision with its content still does (it may be taken back).
    revisions.set_pruned("acct", TEST, [first.id], 5_000)
    assert revisions.blobs_in_use("acct", {x, y}) == {x, y}
    revisions.drop_content("acct", TEST, [first.id])
    assert revisions.blobs_in_use("acct", {x, y}) == {y}
    # A save names x again (at 6000) after the collector read it as old: the conditional delete keeps it.
    _revision(any_stores, {"a.py": x}, created_at=6_000)
    assert revisions.delete_blobs("acct", {x}, touched_before=2_500) == 0
    assert revisions.get_blobs("acct", [x]) == {x: x.encode()}
    assert revisions.delete_blobs("acct", {x, y}, touched_before=10_000) == 2
    assert revisions.get_blobs("acct", [x, y]) == {} and revisions.get_blobs("other", [z]) == {z: z.encode()}
