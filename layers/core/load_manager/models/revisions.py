"""A script revision as it is read (the runs and results areas name one, and the diff between two),
apart from what a client sends the scripts API (models/scripts.py, which names these as ever): a run's
script or a comparison builds no request model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from load_manager.models.base import ApiModel
from load_manager.models.bundles import BundleFileInfo

NOTES_DESCRIPTION = "What validation assumed or will change at run time, for information (e.g. a user class from an installed package)"
ENTRIES_DESCRIPTION = "What Locust's -f names: files, and folders ending in '/' (the entry file alone when only one)"


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
    notes: list[str] = Field(default_factory=list, description=NOTES_DESCRIPTION)
    entry_path: str = Field(default="locustfile.py", description="The entry locustfile's path in the bundle (its first locustfile)")
    entries: list[str] = Field(default_factory=list, description=ENTRIES_DESCRIPTION)
    files: list[BundleFileInfo] = Field(
        default_factory=list, description="Every file of the snapshot, the entry included, sorted by path (no content)"
    )
    pruned_at: int | None = Field(default=None, description="Set on a tombstone: the content was pruned by retention (epoch ms)")


class ScriptRevision(ScriptRevisionSummary):
    script_content: str = Field(description="The entry locustfile, base64-encoded UTF-8 (other files: …/files/{path} or …/archive)")


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
