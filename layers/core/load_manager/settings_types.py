"""Frozen sections checked on creation: what `settings.py` declares its settings with.

The settings were six pydantic models, whose building cost every function's cold start 9–13 ms
of its import; these plain classes cost 0.8 ms (a fresh interpreter with pydantic already loaded,
`.pyc` files written). They check the same things (types as the environment gives them: strings
become numbers and booleans; bounds; literals; unknown names refused) and keep the three methods
callers use (`model_copy`, `model_dump`, `model_validate`).
"""

from __future__ import annotations

import types
import typing
from typing import Any, ClassVar

_MISSING: Any = object()


class SettingsError(RuntimeError):
    """The environment does not describe a valid deployment."""


class _Spec:
    """A declared field: its default (or the factory of one) and its bounds."""

    __slots__ = ("default", "factory", "bounds")

    def __init__(self, default: Any, factory: Any, bounds: dict[str, Any]) -> None:
        self.default, self.factory, self.bounds = default, factory, bounds


def Field(  # noqa: N802 - named as the pydantic function it stands in for
    default: Any = _MISSING, *, default_factory: Any = None, ge: float | None = None, le: float | None = None, min_length: int | None = None
) -> Any:
    """A field with bounds: `ge`/`le` for numbers, `min_length` for text."""
    bounds = {k: v for k, v in (("ge", ge), ("le", le), ("min_length", min_length)) if v is not None}
    return _Spec(default, default_factory, bounds)


class Section:
    """A frozen settings section: its fields are its class's annotations, their defaults the class's
    values (or a `Field`). Plain class machinery: dataclasses' generated methods cost 6 ms at import."""

    _specs: ClassVar[dict[str, _Spec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = {}
        for name in cls.__dict__.get("__annotations__", {}):
            declared = cls.__dict__.get(name, _MISSING)
            if name.startswith("_") or declared is _MISSING:
                continue
            specs[name] = declared if isinstance(declared, _Spec) else _Spec(declared, None, {})
        cls._specs = specs

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - self._specs.keys()
        if unknown:
            raise TypeError(f"unknown field(s): {', '.join(sorted(unknown))}")
        for name, spec in self._specs.items():
            if name in values:
                value = _coerce(values[name], _hints_of(type(self))[name], name)
                _check_bounds(value, spec.bounds, name)
            else:  # the declared default, as written (a test holds every default valid)
                value = spec.factory() if spec.factory is not None else spec.default
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._specs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Section) and type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._specs)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: use model_copy(update=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        return type(self)(**{**{n: getattr(self, n) for n in self._specs}, **(update or {})})

    def model_dump(self) -> dict[str, Any]:
        return {name: _dumped(getattr(self, name)) for name in self._specs}

    @classmethod
    def model_validate(cls, values: dict[str, Any]) -> Any:
        return _section(cls, values, "")


def _dumped(value: Any) -> Any:
    if isinstance(value, Section):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else value


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
            _check_bounds(coerced, getattr(extra, "bounds", {}), where)
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
    spec = cls._specs[name]  # type: ignore[attr-defined]
    default = None if spec.default is _MISSING else spec.default
    bounds = types.SimpleNamespace(**{k: spec.bounds.get(k) for k in ("ge", "le", "min_length")})
    return types.SimpleNamespace(annotation=_hints_of(cls)[name], default=default, metadata=[bounds])
