"""Frozen dataclasses checked on creation: what `settings.py` declares its sections with.

The settings were pydantic models; building their six classes cost every function's cold start
about 8 ms of its ~150 ms import (`python -X importtime`, load_manager.settings), for a handful of
types. These sections check the same things (types as the environment gives them: strings become
numbers and booleans; bounds; literals; unknown names refused) and keep the three methods callers
use (`model_copy`, `model_dump`, `model_validate`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar


class SettingsError(RuntimeError):
    """The environment does not describe a valid deployment."""


def Field(  # noqa: N802 - named as the pydantic function it stands in for
    default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, ge: float | None = None,
    le: float | None = None, min_length: int | None = None,
) -> Any:
    """A field with bounds: `ge`/`le` for numbers, `min_length` for text."""
    bounds = {k: v for k, v in (("ge", ge), ("le", le), ("min_length", min_length)) if v is not None}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=bounds)


class Section:
    """Base of a frozen settings section (subclasses are `@dataclass(frozen=True)`)."""

    _hints: ClassVar[dict[str, Any]]

    def __post_init__(self) -> None:
        hints = _hints_of(type(self))
        for field in dataclasses.fields(self):  # type: ignore[arg-type] # a dataclass: every subclass is one
            value = _coerce(getattr(self, field.name), hints[field.name], field.name)
            _check_bounds(value, field.metadata, field.name)
            object.__setattr__(self, field.name, value)

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]

    def model_dump(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def model_validate(cls, values: dict[str, Any]) -> Any:
        return _section(cls, values, "")


def _hints_of(cls: type) -> dict[str, Any]:
    if "_hints" not in cls.__dict__:
        cls._hints = typing.get_type_hints(cls, include_extras=True)  # type: ignore[attr-defined]
    return cls.__dict__["_hints"]


def _section(cls: type, value: Any, where: str) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise SettingsError(f"invalid Load Manager settings: {where}: expected a mapping")
    try:
        return cls(**value)
    except TypeError as exc:  # an unknown name
        raise SettingsError(f"invalid Load Manager settings: {where}: {exc}") from None
    except SettingsError as exc:  # name the section the problem is in
        raise SettingsError(str(exc).replace("settings: ", f"settings: {where}.", 1) if where else str(exc)) from None


def _fail(where: str, message: str) -> typing.NoReturn:
    raise SettingsError(f"invalid Load Manager settings: {where}: {message}")


def _coerce(value: Any, hint: Any, where: str) -> Any:  # noqa: C901 - one branch per kind of type
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        coerced = _coerce(value, args[0], where)
        for extra in args[1:]:
            _check_bounds(coerced, getattr(extra, "metadata", {}), where)
        return coerced
    if origin is typing.Literal:
        return value if value in args else _fail(where, f"must be one of {', '.join(map(repr, args))}, not {value!r}")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _coerce(value, next(a for a in args if a is not type(None)), where)
    if isinstance(hint, type) and issubclass(hint, Section):
        return _section(hint, value, where)
    if origin is tuple:
        return _tuple(value, args, where)
    if origin is dict:
        if not isinstance(value, dict):
            _fail(where, "expected a mapping")
        return {_coerce(k, args[0], where): _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
    return _scalar(value, hint, where)


def _tuple(value: Any, args: tuple[Any, ...], where: str) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        _fail(where, "expected a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(item, args[0], where) for item in value)
    if len(value) != len(args):
        _fail(where, f"expected {len(args)} items, got {len(value)}")
    return tuple(_coerce(item, hint, where) for item, hint in zip(value, args, strict=True))


def _scalar(value: Any, hint: Any, where: str) -> Any:  # noqa: C901 - one branch per scalar type
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        _fail(where, f"expected a boolean, not {value!r}")
    if hint in (int, float) and not isinstance(value, bool):
        try:
            number = hint(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            _fail(where, f"expected {'an integer' if hint is int else 'a number'}, not {value!r}")
        if hint is int and isinstance(value, float) and value != number:
            _fail(where, f"expected an integer, not {value!r}")
        return number
    if hint is str and isinstance(value, str):
        return value
    _fail(where, f"expected {getattr(hint, '__name__', hint)}, not {value!r}")


def _check_bounds(value: Any, bounds: typing.Mapping[str, Any], where: str) -> None:
    if "ge" in bounds and value < bounds["ge"]:
        _fail(where, f"must be at least {bounds['ge']}, not {value!r}")
    if "le" in bounds and value > bounds["le"]:
        _fail(where, f"must be at most {bounds['le']}, not {value!r}")
    if "min_length" in bounds and len(value) < bounds["min_length"]:
        _fail(where, f"must have at least {bounds['min_length']} character(s)")


def field_facts(cls: type, name: str) -> types.SimpleNamespace:
    """A field's annotation, default and bounds (the settings reference page is rendered from them)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    default = None if field.default is dataclasses.MISSING else field.default
    bounds = types.SimpleNamespace(**{k: field.metadata.get(k) for k in ("ge", "le", "min_length")})
    return types.SimpleNamespace(annotation=_hints_of(cls)[name], default=default, metadata=[bounds])
