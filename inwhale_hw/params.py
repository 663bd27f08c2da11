"""Declarative quantizer parameters.

A quantizer lists its keyword parameters as :class:`Param` objects.  The base class uses
them to validate constructor arguments (quoting the bad value and what is allowed), to
coerce the strings that arrive from the CLI (``-p bits=8``), and to describe the
quantizer in ``inwhale-hw info``.
"""

from __future__ import annotations

import enum
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import ParameterError

__all__ = ["Param", "NO_DEFAULT", "bind_params"]


class _NoDefault:
    def __repr__(self) -> str:
        return "<required>"


NO_DEFAULT: Any = _NoDefault()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One keyword parameter of a quantizer.

    ``type`` is one of ``int``, ``float``, ``str``, ``bool``, an :class:`enum.Enum` subclass,
    or ``tuple`` (a tuple of numbers, given on the CLI as ``1,2,3``).  ``choices`` restricts
    the value to a set; ``min``/``max`` bound numbers (inclusive); ``check`` is an extra
    predicate returning an error text (or ``None`` when the value is fine).
    """

    name: str
    default: Any = NO_DEFAULT
    doc: str = ""
    type: Any = str
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    allow_none: bool = False
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.choices is not None:
            text = "one of " + ", ".join(repr(_plain(c)) for c in self.choices)
        elif isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            text = "one of " + ", ".join(repr(m.name) for m in self.type)
        elif self.min is not None and self.max is not None:
            text = f"{self.type.__name__} in [{_plain(self.min)}, {_plain(self.max)}]"
        elif self.min is not None:
            text = f"{self.type.__name__} >= {_plain(self.min)}"
        elif self.max is not None:
            text = f"{self.type.__name__} <= {_plain(self.max)}"
        else:
            text = getattr(self.type, "__name__", str(self.type))
        return text + (" or None" if self.allow_none else "")

    def validate(self, value: Any, owner: str) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise :class:`ParameterError`."""
        if value is None and self.allow_none:
            return None
        coerced = self._coerce(value, owner)
        if self.choices is not None and coerced not in self.choices:
            raise self._error(value, owner)
        if self.min is not None and coerced < self.min:
            raise self._error(value, owner)
        if self.max is not None and coerced > self.max:
            raise self._error(value, owner)
        if self.check is not None:
            problem = self.check(coerced)
            if problem:
                raise ParameterError(
                    f"{owner}: parameter {self.name}={value!r} is not allowed: {problem}"
                )
        return coerced

    def _error(self, value: Any, owner: str) -> ParameterError:
        return ParameterError(
            f"{owner}: parameter {self.name}={value!r} is not allowed; expected {self.allowed()}"
        )

    def _coerce(self, value: Any, owner: str) -> Any:
        kind = self.type
        try:
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                return _coerce_enum(kind, value)
            if kind is bool:
                return _coerce_bool(value)
            if kind is int:
                return _coerce_int(value)
            if kind is float:
                if isinstance(value, bool):
                    raise TypeError
                result = float(value)
                if result != result:
                    raise ValueError
                return result
            if kind is tuple:
                return _coerce_tuple(value)
            if kind is str:
                if not isinstance(value, str):
                    raise TypeError
                return value
            return kind(value)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
            raise self._error(value, owner) from None


def bind_params(specs: tuple[Param, ...], params: dict[str, Any], owner: str) -> dict[str, Any]:
    """Validate keyword ``params`` against ``specs``: every value checked, defaults filled in.

    Raises :class:`ParameterError` for an unknown name (listing the allowed ones), a missing
    required parameter or a bad value, each message starting with ``owner``.
    """
    known = {p.name: p for p in specs}
    unknown = sorted(set(params) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise ParameterError(f"{owner}: unknown parameter {unknown[0]!r}; allowed parameters: {allowed}")
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name in params:
            values[spec.name] = spec.validate(params[spec.name], owner)
        elif spec.required:
            raise ParameterError(f"{owner}: parameter {spec.name!r} is required ({spec.allowed()})")
        else:
            values[spec.name] = spec.default
    return values


def _plain(value: Any) -> Any:
    return value.name if isinstance(value, enum.Enum) else value


def _coerce_enum(kind: type[enum.Enum], value: Any) -> enum.Enum:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_")
        return kind[key]
    raise TypeError


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, (bool,)):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError


def _coerce_int(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise TypeError
    if isinstance(value, str):
        return int(value.strip(), 0)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(value.__index__())


def _coerce_tuple(value: Any) -> tuple:
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
        return tuple(float(p) if any(c in p for c in ".eE") else int(p, 0) for p in parts)
    if isinstance(value, (dict, set, bytes)) or value is None:
        raise TypeError
    items = tuple(value)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        raise TypeError
    return items
