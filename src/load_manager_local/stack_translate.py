"""template.yaml through SAM's own translator, as `sam deploy` hands it to CloudFormation (the part of
load_manager_local.stack that reads and translates; the stack itself is evaluated there).

Translating costs about a second (importing samtranslator is most of it), which `serve` would pay at
every start: with a `cache_dir`, a translation is kept on disk under a digest of everything it
depends on (the template's bytes and path, the parameters, the stack's name, region, account and
partition, the translator's version), so a later start with the same inputs reads it back instead.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from load_manager_local.template import parse_template

ARTIFACTS_BUCKET = "load-manager-local-artifacts"
_LOCAL_ARTIFACTS = {"CodeUri", "ContentUri", "DefinitionUri"}
_CACHE_FORMAT = 1  # bump when what is cached changes shape
KEEP_TRANSLATIONS = 16
# What SAM attaches by ARN (AWS-managed policies are not in the template); any other AWS-managed
# policy is reported as unknown (it grants nothing here).
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}],
    },
    "service-role/AWSLambdaVPCAccessExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
                ],  # fmt: skip
                "Resource": "*",
            }
        ],
    },
}


def read_sam_template(path: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The SAM template with local artifact paths replaced by the S3 locations `sam package` would
    upload them to, and those paths by logical id."""
    template = parse_template(path.read_text())
    artifacts: dict[str, Path] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        for key in _LOCAL_ARTIFACTS & properties.keys():
            location = properties[key]
            if isinstance(location, str) and not location.startswith("s3://"):
                artifacts[logical_id] = (path.parent / location).resolve()
                properties[key] = f"s3://{ARTIFACTS_BUCKET}/{location.strip('/')}"
    return template, artifacts


class _KnownManagedPolicies:
    """The translator's managed-policy loader: names of the AWS-managed policies SAM may attach by
    name, without asking IAM (there is no account to ask)."""

    def __init__(self, partition: str) -> None:
        self.partition = partition

    def load(self) -> dict[str, str]:
        return {name.rsplit("/", 1)[-1]: f"arn:{self.partition}:iam::aws:policy/{name}" for name in AWS_MANAGED_POLICIES}


def translate(sam_template: Mapping[str, Any], parameters: Mapping[str, Any], *, region: str, partition: str = "aws") -> dict[str, Any]:
    """SAM's translator, as `samtranslator.translator.transform.transform` runs it, but with the
    stack's region given rather than read from the process's default boto3 session."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    fragment = copy.deepcopy(dict(sam_template))
    values = dict(parameters)
    to_py27_compatible_template(fragment, values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    loader = _KnownManagedPolicies(partition)
    translated = translator.translate(fragment, parameter_values=values, get_managed_policy_map=loader.load)
    return dict(undo_mark_unicode_str_in_template(translated))


@lru_cache(maxsize=8)
def translated(path: Path, mtime: float, parameters: str, region: str, partition: str) -> tuple[str, str, dict[str, Path]]:
    """(SAM template, CloudFormation template) as JSON text, and the artifacts; once per process
    for the same inputs. `parameters`: JSON of the parameter and pseudo parameter values."""
    sam, artifacts = read_sam_template(path)
    cfn = translate(sam, json.loads(parameters), region=region, partition=partition)
    return json.dumps(sam), json.dumps(cfn), artifacts


# ---- the translation kept on disk ----------------------------------------------------------------


@dataclass(frozen=True)
class CachedStack:
    """What `Stack` needs of a translation: its parameters' values and both templates."""

    parameters: dict[str, Any]
    sam: str
    cfn: str
    artifacts: dict[str, Path]


def cache_key(path: Path, given: Mapping[str, Any], identity: Mapping[str, str]) -> str:
    """A digest of everything a translation depends on (`identity`: stack name, region, account, partition)."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for part in (str(_CACHE_FORMAT), str(path), json.dumps(dict(given), sort_keys=True), json.dumps(dict(identity), sort_keys=True)):
        digest.update(part.encode() + b"\0")
    digest.update(version("aws-sam-translator").encode() + b"\0")
    digest.update(path.read_bytes())
    return digest.hexdigest()


def read_cached(cache_dir: Path, key: str) -> CachedStack | None:
    try:
        kept = json.loads((cache_dir / f"template-{key}.json").read_text())
    except (OSError, ValueError):
        return None  # none yet, or unreadable: translated again (and written again)
    return CachedStack(kept["parameters"], kept["sam"], kept["cfn"], {k: Path(v) for k, v in kept["artifacts"].items()})


def write_cached(cache_dir: Path, key: str, stack: CachedStack) -> None:
    """Written whole or not at all (several `serve` may share a data directory)."""
    record = {"parameters": stack.parameters, "sam": stack.sam, "cfn": stack.cfn, "artifacts": {k: str(v) for k, v in stack.artifacts.items()}}
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=cache_dir, prefix=".template-", suffix=".tmp", delete=False) as f:
        json.dump(record, f)
    os.replace(f.name, cache_dir / f"template-{key}.json")
    # The folder may be shared (several checkouts, several templates): the newest few are kept.
    kept = sorted(cache_dir.glob("template-*.json"), key=_mtime, reverse=True)
    for old in kept[KEEP_TRANSLATIONS:]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0  # removed meanwhile by another serve
