"""Scripts: revisions of a test's bundle, their validation report, and the diff between two."""

from __future__ import annotations

from pydantic import Field

from load_manager.models.base import ApiModel, Description, NextCursor, RequestModel, RevisionSelector, ScriptContent
from load_manager.models.bundles import BundleFields, BundleFileInfo
from load_manager.models.revisions import ENTRIES_DESCRIPTION, NOTES_DESCRIPTION, ScriptRevisionSummary
from load_manager.models.revisions import FileDiff as FileDiff  # a revision as read (revisions.py), named here as ever
from load_manager.models.revisions import RevisionRef as RevisionRef
from load_manager.models.revisions import ScriptDiff as ScriptDiff
from load_manager.models.revisions import ScriptRevision as ScriptRevision


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
    notes: list[str] = Field(default_factory=list, description=NOTES_DESCRIPTION)
    errors: list[SyntaxErrorDetail] = Field(default_factory=list)
    size_bytes: int = Field(description="Decoded bytes of the whole bundle")
    sha256: str = Field(description="The bundle's canonical digest (the script's sha256 for a lone locustfile.py)")
    entry_path: str = "locustfile.py"
    entries: list[str] = Field(default_factory=list, description=ENTRIES_DESCRIPTION)
    locustfiles: list[str] = Field(default_factory=list, description="Every file Locust loads as a locustfile, in order")
    files: list[BundleFileInfo] = Field(default_factory=list, description="Every file of the bundle, the entry included")


class RevisionPage(ApiModel):
    items: list[ScriptRevisionSummary]
    next_cursor: NextCursor = None
