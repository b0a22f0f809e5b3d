"""`load-manager migrate`: tests created before revisions existed become tests with revision 1.

A legacy test is a `load_tests` document with a `locustfile` path and no `latestRevisionId`. For
each, the file is read once from `--path-root` (a folder, or `s3://bucket/prefix` read with boto3),
validated as any save is, and stored as revision 1 "Migrated from <path>" with the test's own
author and time; then, in one conditional write, the test gets `latestRevisionId` and loses
`locustfile` (`migratedFrom`/`migratedAt` remember where it came from).

Resumable and idempotent: a second run finds nothing legacy left (its tests report "already
migrated"), and a run that died between the two writes finds the revision it made and reuses it.
A missing, unreadable or invalid file, or a path that escapes the root (absolute, `..`, a link),
marks that test "needs attention" with the reason and leaves it untouched; the others go on.
Exit status: 0 when nothing needs attention, 3 otherwise (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

NEEDS_ATTENTION_EXIT = 3


class FileProblemError(Exception):
    """Why a test's file cannot be migrated (the report's reason)."""


@dataclass
class MigrationReport:
    id: str
    accountId: str | None  # noqa: N815 - the report speaks the API's camelCase
    name: str | None
    path: str | None
    status: str  # migrated | would migrate | already migrated | needs attention
    reason: str | None = None
    revisionId: str | None = None  # noqa: N815
    sha256: str | None = None


def relative_parts(path: str) -> list[str]:
    """The path's components, refusing anything that could leave the root."""
    if not path or "\x00" in path:
        raise FileProblemError("the locustfile path is empty or contains a NUL byte")
    if "\\" in path or PurePosixPath(path).is_absolute() or (len(path) > 1 and path[1] == ":"):
        raise FileProblemError(f"refused: {path!r} is an absolute path (paths are read relative to --path-root)")
    parts = [part for part in PurePosixPath(path).parts if part != "."]
    if ".." in parts:
        raise FileProblemError(f"refused: {path!r} climbs out of --path-root with '..'")
    if not parts:
        raise FileProblemError(f"refused: {path!r} names no file")
    return parts


class FileSource(Protocol):
    def read(self, path: str, limit: int) -> bytes: ...


class FolderSource:
    def __init__(self, root: Path):
        self.root = root.resolve()
        if not self.root.is_dir():
            raise SystemExit(f"--path-root {root} is not a folder")

    def read(self, path: str, limit: int) -> bytes:
        current = self.root
        for part in relative_parts(path):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                raise FileProblemError(f"missing: {path!r} does not exist under --path-root") from None
            except OSError as exc:
                raise FileProblemError(f"unreadable: {exc.strerror}") from None
            if stat.S_ISLNK(mode):
                raise FileProblemError(f"refused: {current.relative_to(self.root)} is a symbolic link (links are not followed)")
        if not stat.S_ISREG(os.lstat(current).st_mode):
            raise FileProblemError(f"unreadable: {path!r} is not a regular file")
        try:
            with open(current, "rb") as f:
                return f.read(limit + 1)
        except OSError as exc:
            raise FileProblemError(f"unreadable: {exc.strerror}") from None


class S3Source:
    def __init__(self, bucket: str, prefix: str, client=None):
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = client or boto3.client("s3")

    def read(self, path: str, limit: int) -> bytes:
        key = "/".join([*([self.prefix] if self.prefix else []), *relative_parts(path)])
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            return answer["Body"].read(limit + 1)
        except self.client.exceptions.NoSuchKey:
            raise FileProblemError(f"missing: s3://{self.bucket}/{key} does not exist") from None
        except Exception as exc:  # noqa: BLE001 - any other S3 answer makes the file unreadable
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise FileProblemError(f"unreadable: s3://{self.bucket}/{key} ({code})") from None


def source_for(path_root: str) -> FileSource:
    if path_root.startswith("s3://"):
        bucket, _, prefix = path_root[5:].partition("/")
        if not bucket:
            raise SystemExit(f"--path-root {path_root}: no bucket")
        return S3Source(bucket, prefix)
    return FolderSource(Path(path_root))


def checked_script(raw: bytes, limit: int):
    """Validate as any save does (size, UTF-8, syntax, a Locust user class)."""
    from load_manager.errors import LoadManagerError
    from load_manager.validation import analyse_script, decode_script, encode_script

    if len(raw) > limit:
        raise FileProblemError(f"invalid: the file exceeds the {limit}-byte script limit")
    try:
        text, _ = decode_script(encode_script(raw.decode("utf-8")), limit)
        return analyse_script(text)
    except UnicodeDecodeError as exc:
        raise FileProblemError(f"invalid: not UTF-8 text (byte {exc.start})") from None
    except LoadManagerError as exc:
        raise FileProblemError(f"invalid: {exc.message}") from None


class Migration:
    def __init__(self, db, source: FileSource, dry_run: bool, max_bytes: int):
        from load_manager.store.mongo import build_mongo_stores

        self.db, self.source, self.dry_run, self.max_bytes = db, source, dry_run, max_bytes
        self.stores = build_mongo_stores(db)

    def run(self) -> list[MigrationReport]:
        reports = [self._already(doc) for doc in self.db.load_tests.find({"migratedFrom": {"$exists": True}}, {"_id": False})]
        legacy = self.db.load_tests.find({"locustfile": {"$exists": True}, "latestRevisionId": {"$exists": False}}, {"_id": False})
        reports += [self._one(doc) for doc in legacy]
        return sorted(reports, key=lambda r: r.id)

    @staticmethod
    def _already(doc: dict[str, Any]) -> MigrationReport:
        return MigrationReport(
            id=str(doc.get("id")), accountId=doc.get("accountId"), name=doc.get("name"), path=doc.get("migratedFrom"),
            status="already migrated", revisionId=doc.get("latestRevisionId"),
        )  # fmt: skip

    def _one(self, doc: dict[str, Any]) -> MigrationReport:
        report = MigrationReport(id=str(doc.get("id")), accountId=doc.get("accountId"), name=doc.get("name"), path=doc.get("locustfile"), status="")
        try:
            missing = [f for f in ("id", "accountId", "name", "createdAt", "createdBy") if doc.get(f) in (None, "")]
            if missing or not isinstance(doc.get("locustfile"), str):
                raise FileProblemError(f"the test document lacks {', '.join(missing) or 'a locustfile path'}")
            analysis = checked_script(self.source.read(doc["locustfile"], self.max_bytes), self.max_bytes)
        except FileProblemError as exc:
            report.status, report.reason = "needs attention", str(exc)
            return report
        report.sha256 = analysis.sha256
        if self.dry_run:
            report.status = "would migrate"
            return report
        return self._write(doc, analysis, report)

    def _write(self, doc: dict[str, Any], analysis, report: MigrationReport) -> MigrationReport:
        from load_manager.ids import new_id, now_ms
        from load_manager.models.records import StoredRevision

        test_id, account_id, path = doc["id"], doc["accountId"], doc["locustfile"]
        # A run that died after the revision and before the test's update left revision 1: reuse it.
        revision = self.stores.revisions.latest(account_id, test_id)
        if revision is None:
            draft = StoredRevision(
                id=new_id(), load_test_id=test_id, account_id=account_id, revision_number=0, description=f"Migrated from {path}",
                sha256=analysis.sha256, size_bytes=analysis.size_bytes, created_at=int(doc["createdAt"]), created_by=str(doc["createdBy"]),
                warnings=analysis.warnings, content=analysis.text,
            )  # fmt: skip
            revision, _ = self.stores.revisions.append(draft, skip_if_same_as_latest=True)
        fields = {
            "latestRevisionId": revision.id, "latestRevisionNumber": revision.revision_number, "migratedFrom": path, "migratedAt": now_ms(),
            "updatedAt": doc.get("updatedAt", doc["createdAt"]), "updatedBy": doc.get("updatedBy", doc["createdBy"]),
        }  # fmt: skip
        done = self.db.load_tests.update_one(
            {"id": test_id, "accountId": account_id, "locustfile": {"$exists": True}, "latestRevisionId": {"$exists": False}},
            {"$set": fields, "$unset": {"locustfile": ""}},
        )
        report.status = "migrated" if done.modified_count == 1 else "already migrated"
        report.revisionId = revision.id
        return report


def summary(reports: list[MigrationReport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    return counts


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("migrate", help="turn legacy tests (a locustfile path, no revisions) into tests with revision 1")
    parser.add_argument("--mongodb-uri", required=True, help="the MongoDB the API uses (mongomock:// for a dry experiment)")
    parser.add_argument("--database", required=True)
    parser.add_argument("--path-root", required=True, help="folder the locustfile paths are relative to, or s3://bucket/prefix")
    parser.add_argument("--dry-run", action="store_true", help="read and validate every file, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from load_manager.settings import get_settings
    from load_manager.store.mongo import get_database

    source = source_for(args.path_root)
    migration = Migration(get_database(args.mongodb_uri, args.database), source, args.dry_run, get_settings().max_script_bytes)
    reports = migration.run()
    counts = summary(reports)
    if args.json:
        print(json.dumps({"dryRun": args.dry_run, "pathRoot": args.path_root, "summary": counts, "tests": [asdict(r) for r in reports]}, indent=2))
    else:
        for report in reports:
            print(f"{report.status:<17} {report.id}  {report.name or '?'}  {report.path or '?'}" + (f"  -- {report.reason}" if report.reason else ""))
        print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no legacy tests found", file=sys.stderr)
    return NEEDS_ATTENTION_EXIT if counts.get("needs attention") else 0
