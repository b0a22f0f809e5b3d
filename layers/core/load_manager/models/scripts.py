"""Scripts: revisions of a test's bundle, their validation report, and the diff between two."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from load_manager.models.base import ApiModel, Description, Page, RequestModel, RevisionSelector, ScriptContent
from load_manager.models.bundles import BundleFields, BundleFileInfo


class UpdateScriptRequest(BundleFields):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8", json_schema_extra={"contentEncoding": "base64"})
    description: Description | None = None


class RollbackRequest(RequestModel):
    revision: RevisionSelector = Field(description="Revision id, or revision number, to restore")
    description: Description | None = None


class ValidateScriptRequest(BundleFields):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8", json_schema_extra={"contentEncoding": "base64"})


class SyntaxErrorDetail(ApiModel):
    file: str | None = Field(default=None, description="The bundle file the error is in")
    line: int | None
    column: int | None
    message: str


class ValidationReport(ApiModel):
    valid: bool
    user_classes: list[str] = Field(default_factory=list)
    task_sets: list[str] = Field(default_factory=list)
    shapes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[SyntaxErrorDetail] = Field(default_factory=list)
    size_bytes: int = Field(description="Decoded bytes of the whole bundle")
    sha256: str = Field(description="The bundle's canonical digest (the script's sha256 for a lone locustfile.py)")
    entry_path: str = "locustfile.py"
    files: list[BundleFileInfo] = Field(default_factory=list, description="Every file of the bundle, the entry included")


class ScriptRevisionSummary(ApiModel):
    id: str
    load_test_id: str
    revision_number: int
    description: str
    sha256: str
    size_bytes: int
    created_at: int
    created_by: str
    rolled_back_from: int | None = Field(default=None, description="Revision number this one restores")
    warnings: list[str] = Field(default_factory=list, description="Validation warnings at save time")
    entry_path: str = Field(default="locustfile.py", description="The entry locustfile's path in the bundle")
    files: list[BundleFileInfo] = Field(
        default_factory=list, description="Every file of the snapshot, the entry included, sorted by path (no content)"
    )
    pruned_at: int | None = Field(default=None, description="Set on a tombstone: the content was pruned by retention (epoch ms)")


class ScriptRevision(ScriptRevisionSummary):
    script_content: str = Field(description="The entry locustfile, base64-encoded UTF-8 (other files: …/files/{path} or …/archive)")


class RevisionPage(Page[ScriptRevisionSummary]):
    pass


class RevisionRef(ApiModel):
    id: str
    revision_number: int
    entry_path: str = "locustfile.py"


class FileDiff(ApiModel):
    path: str
    change: Literal["added", "removed", "modified"]
    binary: bool = Field(description="A binary file is flagged, never diffed as text")
    from_sha256: str | None = None
    to_sha256: str | None = None
    unified_diff: str | None = Field(
        default="", description="This file's unified diff ('' for a binary file); null for the `to` revision's entry file, whose diff is the "
        "top-level `unifiedDiff` (each diff is sent once). Only its first lines when `truncated`",
    )  # fmt: skip
    added_lines: int = Field(default=0, description="Of the whole diff, also when it is truncated")
    removed_lines: int = 0
    diff_bytes: int = Field(default=0, description="Size of this file's whole unified diff, UTF-8 bytes")
    sent_bytes: int = Field(default=0, description="Size of the part of it this answer carries")
    truncated: bool = Field(default=False, description="The diff was cut at a line: the whole would make the answer too large")
    full_diff_url: str | None = Field(default=None, description="When truncated: the API path answering this file's diff alone")
    note: str | None = Field(default=None, description="Why the diff is cut even when asked for alone, and where to get it whole")


class ScriptDiff(ApiModel):
    load_test_id: str
    from_revision: RevisionRef = Field(alias="from")
    to_revision: RevisionRef = Field(alias="to")
    unified_diff: str = Field(
        description="The `to` revision's entry file's unified diff ('' when unchanged): for a lone locustfile, the whole diff. "
        "Every other file's diff is in its `files` item"
    )
    added_lines: int
    removed_lines: int
    files: list[FileDiff] = Field(default_factory=list, description="Each added, removed or modified file (unchanged ones are left out)")
    truncated: bool = Field(default=False, description="Some file's diff was cut (see its `files` item)")

    def text(self) -> str:
        """Every file's diff, one after the other, in path order (the entry's from `unified_diff`)."""
        if not self.files:
            return self.unified_diff
        return "".join(self.unified_diff if item.unified_diff is None else item.unified_diff for item in self.files)
