"""One contract, every store adapter: SQLite, MongoDB via mongomock, and a real MongoDB when
MONGODB_URI is set. What the services rely on is asserted here, not in each adapter's own tests."""

from __future__ import annotations

import threading

import pytest

from load_manager.ids import new_id, now_ms
from load_manager.models.load_tests import LoadTest
from load_manager.models.records import StoredRevision


def make_test(account: str = "acct", created_at: int | None = None, project: str | None = None) -> LoadTest:
    now = created_at if created_at is not None else now_ms()
    return LoadTest(
        id=new_id(), account_id=account, name="t", project_id=project, latest_revision_id="r", latest_revision_number=1,
        created_at=now, created_by="a@x", updated_at=now, updated_by="a@x",
    )


def make_revision(test: LoadTest, content: str = "x = 1\n", author: str = "a@x") -> StoredRevision:
    import hashlib

    return StoredRevision(
        id=new_id(), load_test_id=test.id, account_id=test.account_id, revision_number=0, description="d",
        sha256=hashlib.sha256(content.encode()).hexdigest(), size_bytes=len(content), created_at=now_ms(),
        created_by=author, content=content,
    )


def make_bundle_revision(test: LoadTest, entry: str, others: dict[str, bytes]) -> tuple[StoredRevision, dict[str, bytes]]:
    from load_manager.bundle.core import build_bundle
    from load_manager.models.bundles import BundleFileInfo

    bundle = build_bundle("locustfile.py", [("locustfile.py", entry.encode()), *others.items()])
    revision = make_revision(test, entry).model_copy(update={
        "sha256": bundle.digest, "size_bytes": bundle.size_bytes,
        "files": [BundleFileInfo(path=i.path, size_bytes=i.size, sha256=i.sha256, binary=i.binary) for i in bundle.manifest],
    })  # fmt: skip
    return revision, {i.sha256: bundle.files[i.path] for i in bundle.manifest if i.path != "locustfile.py"}


def test_bundle_files_are_immutable_content_addressed_blobs_per_tenant(any_stores):
    test = make_test("acct-a")
    any_stores.load_tests.insert(test)
    first, blobs = make_bundle_revision(test, "a\n", {"data/x.bin": b"\x00\xff", "data/y.csv": b"1\n"})
    stored, created = any_stores.revisions.append(first, skip_if_same_as_latest=True, blobs=blobs)
    assert created and [f.path for f in stored.files] == ["data/x.bin", "data/y.csv", "locustfile.py"]
    assert any_stores.revisions.get_blobs("acct-a", blobs) == blobs
    assert any_stores.revisions.get_blobs("acct-b", blobs) == {}  # another tenant sees none of them
    assert any_stores.revisions.get_blobs("acct-a", ["0" * 64]) == {}
    # The same snapshot again: nothing new. A second revision sharing a file stores it once.
    again, blobs_again = make_bundle_revision(test, "a\n", {"data/y.csv": b"1\n", "data/x.bin": b"\x00\xff"})
    assert any_stores.revisions.append(again, skip_if_same_as_latest=True, blobs=blobs_again) == (stored, False)
    second, more = make_bundle_revision(test, "b\n", {"data/x.bin": b"\x00\xff"})
    assert any_stores.revisions.append(second, skip_if_same_as_latest=True, blobs=more)[0].revision_number == 2
    assert any_stores.revisions.get_blobs("acct-a", blobs) == blobs
    # Metadata reads carry the manifest, never content.
    (listed, _) = any_stores.revisions.list("acct-a", test.id, limit=10, before_number=None)
    assert listed.content is None and [f.path for f in listed.files] == ["data/x.bin", "locustfile.py"]


def test_insert_get_and_tenant_isolation(any_stores):
    test = make_test("acct-a")
    any_stores.load_tests.insert(test)
    assert any_stores.load_tests.get("acct-a", test.id) == test
    assert any_stores.load_tests.get("acct-b", test.id) is None


def test_list_is_newest_first_keyset_paginated_and_filtered(any_stores):
    base = now_ms()
    tests = [make_test("acct", base + i // 2, project="p1" if i % 3 == 0 else "p2") for i in range(9)]  # ties on createdAt
    for t in tests:
        any_stores.load_tests.insert(t)
    any_stores.load_tests.insert(make_test("other", base))
    seen, after = [], None
    while True:
        page = any_stores.load_tests.list("acct", project_id=None, limit=4, after=after)
        seen += page
        if len(page) < 4:
            break
        after = (page[-1].created_at, page[-1].id)
    expected = sorted(tests, key=lambda t: (t.created_at, t.id), reverse=True)
    assert [t.id for t in seen] == [t.id for t in expected]
    p1 = any_stores.load_tests.list("acct", project_id="p1", limit=50, after=None)
    assert {t.id for t in p1} == {t.id for t in tests if t.project_id == "p1"}


def test_list_of_some_ids_holds_only_those_of_the_account_paginated_and_filtered(any_stores):
    """A token scoped to some tests lists only them (usecases/load_tests.list_page: `ids`)."""
    base = now_ms()
    tests = [make_test("acct", base + i, project="p1" if i % 2 else "p2") for i in range(6)]
    for t in tests:
        any_stores.load_tests.insert(t)
    foreign = make_test("other", base)
    any_stores.load_tests.insert(foreign)
    wanted = frozenset({tests[0].id, tests[2].id, tests[3].id, tests[5].id, foreign.id, "f" * 32})
    first = any_stores.load_tests.list("acct", project_id=None, limit=2, after=None, ids=wanted)
    rest = any_stores.load_tests.list("acct", project_id=None, limit=5, after=(first[-1].created_at, first[-1].id), ids=wanted)
    assert [t.id for t in first + rest] == [tests[5].id, tests[3].id, tests[2].id, tests[0].id]
    assert [t.id for t in any_stores.load_tests.list("acct", project_id="p1", limit=5, after=None, ids=wanted)] == [tests[5].id, tests[3].id]
    assert any_stores.load_tests.list("acct", project_id=None, limit=5, after=None, ids=frozenset()) == []
    assert len(any_stores.load_tests.list("acct", project_id=None, limit=50, after=None, ids=None)) == 6


def test_update_changes_only_given_fields(any_stores):
    test = make_test()
    any_stores.load_tests.insert(test)
    updated = any_stores.load_tests.update("acct", test.id, {"name": "new", "description": None, "updated_by": "b@x"})
    assert updated.name == "new" and updated.updated_by == "b@x" and updated.created_by == "a@x"
    assert any_stores.load_tests.get("acct", test.id) == updated
    assert any_stores.load_tests.update("other", test.id, {"name": "x"}) is None


def test_delete_is_soft_and_keeps_revisions(any_stores):
    test = make_test()
    any_stores.load_tests.insert(test)
    revision, _ = any_stores.revisions.append(make_revision(test), skip_if_same_as_latest=False)
    assert not any_stores.load_tests.delete("other", test.id, now_ms(), "x")
    assert any_stores.load_tests.delete("acct", test.id, now_ms(), "x")
    assert any_stores.load_tests.get("acct", test.id) is None
    assert any_stores.load_tests.list("acct", project_id=None, limit=10, after=None) == []
    assert not any_stores.load_tests.delete("acct", test.id, now_ms(), "x")
    # A run pinned to this revision can still be reproduced.
    assert any_stores.revisions.get("acct", test.id, revision.id).content == revision.content


def test_revisions_are_numbered_and_identical_content_creates_none(any_stores):
    test = make_test()
    first, created1 = any_stores.revisions.append(make_revision(test, "a\n"), skip_if_same_as_latest=True)
    second, created2 = any_stores.revisions.append(make_revision(test, "b\n"), skip_if_same_as_latest=True)
    same, created3 = any_stores.revisions.append(make_revision(test, "b\n"), skip_if_same_as_latest=True)
    assert (first.revision_number, second.revision_number) == (1, 2)
    assert created1 and created2 and not created3
    assert same.id == second.id and same.content == "b\n"
    again, created4 = any_stores.revisions.append(make_revision(test, "a\n"), skip_if_same_as_latest=True)
    assert created4 and again.revision_number == 3  # same as an older one is still a change


def test_revision_reads(any_stores):
    test = make_test()
    for i in range(5):
        any_stores.revisions.append(make_revision(test, f"v{i}\n"), skip_if_same_as_latest=True)
    latest = any_stores.revisions.latest("acct", test.id)
    assert latest.revision_number == 5 and latest.content == "v4\n"
    assert any_stores.revisions.get_by_number("acct", test.id, 2).content == "v1\n"
    assert any_stores.revisions.get_by_number("other", test.id, 2) is None
    assert any_stores.revisions.get("acct", "f" * 32, latest.id) is None  # a revision of another test
    page = any_stores.revisions.list("acct", test.id, limit=2, before_number=None)
    assert [r.revision_number for r in page] == [5, 4] and all(r.content is None for r in page)
    assert [r.revision_number for r in any_stores.revisions.list("acct", test.id, limit=10, before_number=4)] == [3, 2, 1]
    assert any_stores.revisions.latest("other", test.id) is None


def test_advance_latest_revision_never_moves_backwards(any_stores):
    test = make_test()
    any_stores.load_tests.insert(test)
    r1, _ = any_stores.revisions.append(make_revision(test, "1\n"), skip_if_same_as_latest=True)
    r2, _ = any_stores.revisions.append(make_revision(test, "2\n"), skip_if_same_as_latest=True)
    any_stores.load_tests.advance_latest_revision("acct", test.id, r2)
    any_stores.load_tests.advance_latest_revision("acct", test.id, r1)  # a slow writer arrives late
    assert any_stores.load_tests.get("acct", test.id).latest_revision_number == 2


@pytest.mark.parametrize("writers", [32])
def test_concurrent_appends_never_lose_or_share_a_number(any_stores, writers):
    test = make_test()
    any_stores.load_tests.insert(test)
    any_stores.revisions.append(make_revision(test, "initial\n"), skip_if_same_as_latest=True)
    barrier = threading.Barrier(writers)
    results, errors = [], []

    def write(i: int) -> None:
        try:
            barrier.wait()
            # A bundle per writer: a shared helper (the same blob for all) and a data file of its own.
            draft, blobs = make_bundle_revision(test, f"edit {i}\n", {"common/u.py": b"shared = 1\n", "data/mine.csv": f"{i}\n".encode()})
            revision, created = any_stores.revisions.append(draft, skip_if_same_as_latest=True, blobs=blobs)
            any_stores.load_tests.advance_latest_revision("acct", test.id, revision)
            results.append((revision.revision_number, created, revision.content))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(n for n, _, _ in results) == list(range(2, writers + 2))
    assert all(created for _, created, _ in results)
    stored = any_stores.revisions.list("acct", test.id, limit=100, before_number=None)
    assert [r.revision_number for r in stored] == list(range(writers + 1, 0, -1))
    assert len({r.id for r in stored}) == writers + 1
    assert any_stores.revisions.latest("acct", test.id).revision_number == writers + 1
    assert any_stores.load_tests.get("acct", test.id).latest_revision_number == writers + 1
    for revision in stored[:-1]:  # every bundle's files are there, each writer's own
        full = any_stores.revisions.get("acct", test.id, revision.id)
        digests = {f.path: f.sha256 for f in full.files}
        blobs = any_stores.revisions.get_blobs("acct", digests.values())
        assert blobs[digests["data/mine.csv"]] == full.content.split()[1].encode() + b"\n"
        assert blobs[digests["common/u.py"]] == b"shared = 1\n"
