"""Bundles: the files of a revision besides the entry locustfile, and the script templates."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, RequestModel

# Paths are checked by the bundle rules (bundle/core.py), which answer with their own error codes.
BundlePathText = Annotated[str, StringConstraints(max_length=4096)]
EntryPath = Annotated[str, StringConstraints(max_length=4096)]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class BundleFile(RequestModel):
    path: BundlePathText = Field(description="Relative POSIX path inside the bundle, e.g. common/users.py")
    content: str = Field(description="The file's bytes, base64-encoded (binary allowed)", json_schema_extra={"contentEncoding": "base64"})


class BundleFileInfo(ApiModel):
    path: str
    size_bytes: int
    sha256: str = Field(description="sha256 of the file's bytes")
    binary: bool = Field(default=False, description="Not UTF-8 text (or contains NUL): not shown or diffed as text")


class BundleFileContent(BundleFileInfo):
    content: str = Field(description="The file's bytes, base64-encoded", json_schema_extra={"contentEncoding": "base64"})


FILES_DESCRIPTION = (
    "Files of the bundle besides the entry locustfile (helper modules, data, requirements.txt); "
    "at most 200 files and 4 MiB decoded in all"
)
ENTRY_DESCRIPTION = (
    "What Locust's -f names, with its meaning: the entry locustfile's path (scriptContent's file; default locustfile.py), "
    "or several, as a list or comma-separated, and folders of the bundle (every .py file in them whose name does not start "
    "with '_'), e.g. [\"locustfiles/users.py\", \"locustfiles/\"]. The first item is scriptContent's file"
)


class BundleFields(RequestModel):
    files: Annotated[list[BundleFile], Field(description=FILES_DESCRIPTION)] | None = None
    entry_path: EntryPath | Annotated[list[EntryPath], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description=ENTRY_DESCRIPTION
    )


class ScriptTemplate(ApiModel):
    id: str
    name: str
    description: str
    entry_path: str
    files: list[BundleFileContent] = Field(description="Every file of the template, the entry included")


class ScriptTemplateList(ApiModel):
    items: list[ScriptTemplate]
