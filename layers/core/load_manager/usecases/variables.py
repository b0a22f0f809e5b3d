"""Variables and secrets: set per scope (account, org, project, env, test), resolved for a run like
clusters (the most specific wins, usecases/scopes.py), the run's own variables above all.

- Writes are the tenant admins' (role admin, as cluster configuration), a test's own entries too.
- Every write makes a new version, conditionally (store/ports/variables.py): racing writers never
  lose one nor share a number. A secret's value goes to the vault first (adapters/vault.py), at the
  version it will have, then its record names that version; a record never names a value that is
  not stored.
- A secret is never answered: not here, not in a run (which records its id, level and version).
- A variable and a secret of the same name at the same level: the secret wins (never expose by
  accident what someone meant to keep secret).
"""

from __future__ import annotations

from collections.abc import Callable

from load_manager.access import ADMIN, require_role
from load_manager.adapters.vault import SecretVault, SecretVersionTakenError, account_part
from load_manager.errors import (
    ConcurrencyError,
    LoadTestNotFoundError,
    SecretNotFoundError,
    UnprocessableError,
    VariableNotFoundError,
)
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.models.variables import (
    ConfigEntry,
    EntryKind,
    PutSecretRequest,
    PutVariableRequest,
    RunEnvironment,
    RunSecret,
    RunVariable,
    ScopeFields,
    Secret,
    SecretPage,
    Variable,
    VariablePage,
)
from load_manager.observability import logger
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.store.ports.variables import MAX_ENTRIES_PER_KIND, entry_scope_key
from load_manager.usecases import audit
from load_manager.usecases.scopes import RunScope, check_nesting, level_of, matches, specificity

MAX_ATTEMPTS = 20  # conditional writes lost in a row before a 503 ConcurrentUpdate
MAX_VERSION_SKIPS = 10  # vault versions taken by writers that lost (or died) before their record
# Names the platform owns, which would change how Locust or the loader runs: Locust's options
# (LOCUST_*, read before any config file: the run's settings own them), gevent's (its loop, resolver,
# monitor), the interpreter's (PYTHONPATH, PYTHONUSERBASE, ...), the dynamic linker's, how pip and uv
# install requirements.txt and where they find their configuration and cache (XDG_*), where the
# loader unpacks and caches (TMPDIR, TMP, TEMP), the loader's and the redaction's own (LOAD_MANAGER_*,
# among them which variables are secrets), the container's.
RESERVED_NAMES = frozenset({"PATH", "HOME", "PWD", "SHELL", "TMPDIR", "TMP", "TEMP", "HOSTNAME"})
RESERVED_PREFIXES = ("LOAD_MANAGER_", "LOCUST_", "GEVENT_", "PYTHON", "LD_", "PIP_", "UV_", "XDG_", "AWS_CONTAINER_", "ECS_")


# ---- the API -----------------------------------------------------------------------------------------


def list_variables(stores: Stores, caller: Caller) -> VariablePage:
    return VariablePage(items=[to_variable(e) for e in _visible(stores, caller, "variable")])


def list_secrets(stores: Stores, caller: Caller) -> SecretPage:
    return SecretPage(items=[to_secret(e) for e in _visible(stores, caller, "secret")])


def _visible(stores: Stores, caller: Caller, kind: EntryKind) -> list[ConfigEntry]:
    """The tenant's entries but another test's, for a caller scoped to some tests."""
    return [e for e in stores.variables.list(caller.account_id, kind) if e.test_id is None or caller.sees_test(e.test_id)]


def put_variable(stores: Stores, caller: Caller, request: PutVariableRequest) -> Variable:
    _check_write(stores, caller, request, request.name)
    for _ in range(MAX_ATTEMPTS):
        current = _current(stores, caller, "variable", request)
        entry = _next_entry(caller, "variable", request, current, value=request.value)
        if _save(stores, caller, entry, current):
            return to_variable(entry)
    raise ConcurrencyError("the variable changed too often while being written; try again")


def put_secret(stores: Stores, vault: SecretVault, caller: Caller, request: PutSecretRequest) -> Secret:
    """Write the secret's value (or reference); answer what may be known of it."""
    _check_write(stores, caller, request, request.name)
    if request.reference is not None:
        _check_reference(caller, request.reference)
    for _ in range(MAX_ATTEMPTS):
        current = _current(stores, caller, "secret", request)
        entry = _next_entry(caller, "secret", request, current, reference=request.reference)
        if request.value is not None:
            entry = entry.model_copy(update={"version": _store_value(vault, entry, request.value.get_secret_value())})
        if _save(stores, caller, entry, current):
            return to_secret(entry)
        if current is None:
            vault.delete(caller.account_id, entry.id)  # lost the race to create it: that value is nobody's
    raise ConcurrencyError("the secret changed too often while being written; try again")


def delete_variable(stores: Stores, caller: Caller, variable_id: str) -> None:
    _delete(stores, caller, "variable", variable_id)


def delete_secret(stores: Stores, vault: SecretVault, caller: Caller, secret_id: str) -> None:
    """The record first (no run starts with it after this), then every version of its value. A run
    already running keeps what its Locust has; what it reports is then withheld, not redacted
    (lifecycle/run_environment.py), as the value it would be redacted with is gone."""
    _delete(stores, caller, "secret", secret_id)
    try:
        vault.delete(caller.account_id, secret_id)
    except Exception:  # the record is gone, so no run will read it: an orphan value, logged for the operator
        logger.exception("a deleted secret's value could not be removed from the secret store", extra={"secretId": secret_id})


def delete_test_entry(stores: Stores, vault: Callable[[], SecretVault] | None, caller: Caller, entry: ConfigEntry) -> None:
    """One of a deleted test's own entries (usecases/dependents.py); `vault`: a secret's. The test's
    deletion is the authority: an editor deletes a test, and with it what only that test used. A
    secret's values go first: no run of a deleted test can start to need them, and a vault that fails
    leaves the record, by which the sweeper finds the secret again; a value written meanwhile goes too."""
    if vault is not None:
        vault().delete(entry.account_id, entry.id)
    deleted = _delete(stores, caller, entry.kind, entry.id, check_role=False)
    if vault is not None and deleted.version != entry.version:
        vault().delete(entry.account_id, entry.id)


def to_variable(entry: ConfigEntry) -> Variable:
    return Variable(**_common(entry), value=entry.value or "")


def to_secret(entry: ConfigEntry) -> Secret:
    return Secret(**_common(entry), source="reference" if entry.reference else "stored", reference=entry.reference)


# ---- a run's environment -----------------------------------------------------------------------------


def run_environment(
    stores: Stores, account_id: str, scope: RunScope, run_variables: dict[str, str] | None, *, starting: bool = True
) -> tuple[list[RunVariable], list[RunSecret]]:
    """What a run in `scope` gets: per name, the most specific entry (a secret over a variable at the
    same level), then the run's own variables over everything. A run `starting` is refused (422)
    when a stored entry has a name reserved since it was written."""
    chosen: dict[str, ConfigEntry] = {}
    for entry in stores.variables.list(account_id):
        best = chosen.get(entry.name)
        rank = (specificity(entry), entry.kind == "secret")
        if matches(entry, scope) and (best is None or rank > (specificity(best), best.kind == "secret")):
            chosen[entry.name] = entry
    for name in run_variables or {}:
        check_name(name)
        chosen.pop(name, None)
    for name in chosen if starting else ():
        check_name(name)
    variables = [
        RunVariable(name=e.name, value=e.value or "", level=level_of(e), id=e.id, version=e.version)
        for e in chosen.values() if e.kind == "variable"
    ]  # fmt: skip
    variables += [RunVariable(name=name, value=value, level="run") for name, value in sorted((run_variables or {}).items())]
    secrets = [
        RunSecret(name=e.name, level=level_of(e), id=e.id, version=e.version, reference=e.reference)
        for e in chosen.values() if e.kind == "secret"
    ]  # fmt: skip
    return sorted(variables, key=lambda v: v.name), sorted(secrets, key=lambda s: s.name)


def test_environment(stores: Stores, caller: Caller, test_id: str, env_id: str | None) -> RunEnvironment:
    """What a run of the test (in `env_id`, else the test's env) would get now, without its own variables."""
    test = stores.load_tests.get(caller.account_id, test_id) if is_id(test_id) and caller.sees_test(test_id) else None
    if test is None:
        raise LoadTestNotFoundError(f"load test {test_id!r} not found")
    scope = RunScope(test.org_id, test.project_id, env_id or test.env_id, test.id)
    variables, secrets = run_environment(stores, caller.account_id, scope, None, starting=False)
    return RunEnvironment(variables=variables, secrets=secrets)


def check_name(name: str) -> None:
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        raise UnprocessableError(
            f"{name} is set by the platform (reserved: {', '.join(sorted(RESERVED_NAMES))} and names starting {', '.join(RESERVED_PREFIXES)})",
            code="ReservedVariableName", details={"name": name},
        )  # fmt: skip


# ---- writes ------------------------------------------------------------------------------------------


def _check_write(stores: Stores, caller: Caller, scope: ScopeFields, name: str) -> None:
    check_nesting(scope.org_id, scope.project_id, scope.env_id, scope.test_id)
    check_name(name)
    require_role(caller.role, ADMIN, "writing variables and secrets")
    if scope.test_id is not None and stores.load_tests.get(caller.account_id, scope.test_id) is None:
        raise LoadTestNotFoundError(f"load test {scope.test_id!r} not found")


def _check_reference(caller: Caller, arn: str) -> None:
    prefix = get_settings().secret_reference_arn_prefix
    allowed = f"{prefix}{account_part(caller.account_id)}/"
    if not prefix or not arn.startswith(allowed):
        where = f"only secrets under {allowed}" if prefix else "none: it keeps no references"
        raise UnprocessableError(f"this deployment lets this tenant reference {where}", code="SecretReferenceNotAllowed")


def _current(stores: Stores, caller: Caller, kind: EntryKind, request: PutVariableRequest | PutSecretRequest) -> ConfigEntry | None:
    return stores.variables.find(caller.account_id, kind, entry_scope_key(request), request.name)


def _next_entry(
    caller: Caller, kind: EntryKind, request: PutVariableRequest | PutSecretRequest, current: ConfigEntry | None,
    value: str | None = None, reference: str | None = None,
) -> ConfigEntry:  # fmt: skip
    now = now_ms()
    return ConfigEntry(
        id=current.id if current else new_id(), account_id=caller.account_id, kind=kind, org_id=request.org_id,
        project_id=request.project_id, env_id=request.env_id, test_id=request.test_id, name=request.name, value=value,
        reference=reference, version=(current.version if current else 0) + 1, created_at=current.created_at if current else now,
        created_by=current.created_by if current else caller.actor, updated_at=now, updated_by=caller.actor,
    )  # fmt: skip


def _store_value(vault: SecretVault, entry: ConfigEntry, value: str) -> int:
    """Write the value as the entry's version, or the next free one (a writer that lost its race,
    or died, before its record may hold one); returns the version written."""
    version = entry.version
    for _ in range(MAX_VERSION_SKIPS):
        try:
            vault.put(entry.account_id, entry.id, version, value)
            return version
        except SecretVersionTakenError:
            version += 1
    raise ConcurrencyError("the secret changed too often while being written; try again")


def _save(stores: Stores, caller: Caller, entry: ConfigEntry, current: ConfigEntry | None) -> bool:
    # On the record by name and version only (usecases/audit.py): never a value.
    action = f"{entry.kind}.{'update' if current else 'create'}"
    record = audit.change(caller, action, entry.id, load_test_id=entry.test_id, before=current, after=entry, at=entry.updated_at)
    if current is not None:
        return stores.variables.replace(entry, current.version, audit=record)
    if stores.variables.count(entry.account_id, entry.kind) >= MAX_ENTRIES_PER_KIND:
        raise UnprocessableError(
            f"this tenant has {MAX_ENTRIES_PER_KIND} {entry.kind}s already: delete some first", code="TooManyVariables",
            details={"limit": MAX_ENTRIES_PER_KIND, "kind": entry.kind},
        )  # fmt: skip
    return stores.variables.insert(entry, audit=record)


def _delete(stores: Stores, caller: Caller, kind: EntryKind, entry_id: str, *, check_role: bool = True) -> ConfigEntry:
    """The entry as it was deleted. `check_role`: off only when the test it belongs to is being deleted."""
    missing = VariableNotFoundError if kind == "variable" else SecretNotFoundError
    for _ in range(MAX_ATTEMPTS):
        entry = stores.variables.get(caller.account_id, entry_id) if is_id(entry_id) else None
        if entry is None or entry.kind != kind:
            raise missing(f"{kind} {entry_id!r} not found")
        if check_role:
            require_role(caller.role, ADMIN, "deleting variables and secrets")  # a gone test's too
        record = audit.change(caller, f"{kind}.delete", entry_id, load_test_id=entry.test_id, before=entry)
        if stores.variables.delete(caller.account_id, entry_id, entry.version, audit=record):
            return entry
    raise ConcurrencyError(f"the {kind} changed too often while being deleted; try again")


def _common(entry: ConfigEntry) -> dict[str, object]:
    return {
        "id": entry.id, "org_id": entry.org_id, "project_id": entry.project_id, "env_id": entry.env_id, "test_id": entry.test_id,
        "name": entry.name, "version": entry.version, "updated_at": entry.updated_at, "updated_by": entry.updated_by,
    }  # fmt: skip

