"""``@frozen``: the package's frozen values, as ``@dataclass(frozen=True)`` makes them, but
cheaper to define.

Why: Python 3.11 and 3.12 compile each method a frozen dataclass gets (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``) in an ``exec``
of its own, about 0.6 ms a class. A warm build imports about 80 of them: 43 ms of the
plugin's 74 ms import, measured, the largest single cost of a warm 100-page build.
Python 3.13 compiles a dataclass's methods in one ``exec`` (python/cpython#109870,
gh-110851), which halves that. Here only ``__init__`` is compiled, for the class's fields;
``__eq__``, ``__hash__``, ``__repr__`` and the frozen ``__setattr__`` and ``__delattr__``
are functions shared by every value, which read the field names the class keeps (its
``__frozen_compared__``, ``__frozen_hashed__`` and ``__frozen_shown__``): about 0.12 ms a
class, on every Python version.

The class is a real dataclass: ``dataclasses.fields``, ``replace``, ``asdict`` and
``is_dataclass`` work, mypy reads it as a frozen dataclass (``dataclass_transform``), and
its methods behave as the stdlib's do (tests/core/test_frozen_values.py compares them). What it
takes: fields with defaults, ``field(default_factory=..., compare=..., hash=..., repr=...,
init=..., kw_only=...)``, ``__post_init__``; ``eq`` and ``repr`` as dataclass takes them.
One difference, on purpose: a value refuses every attribute assignment, where the stdlib
lets a subclass that is no dataclass set attributes that are not fields.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # typing has it from 3.11; at run time it only marks the function for type checkers
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_options):
        return lambda decorator: decorator

__all__: list[str] = []

_C = TypeVar("_C", bound=type)


@overload
def frozen(cls: _C, /) -> _C: ...
@overload
def frozen(*, eq: bool = True, repr: bool = True) -> Callable[[_C], _C]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: _C | None = None, /, *, eq: bool = True, repr: bool = True) -> _C | Callable[[_C], _C]:
    """A frozen dataclass of ``cls`` (``@frozen`` or ``@frozen(eq=False, repr=False)``)."""
    def make(c: _C) -> _C:
        if not c.__dict__.get("__doc__"):
            # dataclass would write one from inspect.signature (26 of the classes a build
            # imports had none: a third of some modules' import), of a class whose __init__
            # is not made yet, so "Box()". Its fields' names say more, for nothing.
            c.__doc__ = f"{c.__name__}({', '.join(c.__dict__.get('__annotations__', ()))})"
        dataclasses.dataclass(c, init=False, repr=False, eq=False)  # its fields read, no method made
        return _with_methods(c, eq, repr)
    return make if cls is None else make(cls)


def _with_methods(cls: _C, eq: bool, repr: bool) -> _C:
    """The methods ``dataclass(frozen=True, eq=eq, repr=repr)`` would add to ``cls`` (whose
    fields dataclass has read): ``__init__`` compiled for its fields, the others shared by
    every value and reading the field names the class keeps."""
    fields = dataclasses.fields(cls)
    made: dict[str, Callable] = {"__init__": _init(cls, fields), "__setattr__": _refuse_set,
                                 "__delattr__": _refuse_delete}
    if eq:
        cls.__frozen_compared__ = _getter([f.name for f in fields if f.compare])  # type: ignore[attr-defined]
        cls.__frozen_hashed__ = _getter([f.name for f in fields  # type: ignore[attr-defined]
                                         if (f.compare if f.hash is None else f.hash)])
        made.update(__eq__=_eq, __hash__=_hash)
    if repr:
        cls.__frozen_shown__ = tuple(f.name for f in fields if f.repr)  # type: ignore[attr-defined]
        made["__repr__"] = _repr
    own_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (own_hash is dataclasses.MISSING or (own_hash is None and "__eq__" in cls.__dict__))
    for name, fn in made.items():
        if (name in ("__eq__", "__repr__") and name in cls.__dict__) or (name == "__hash__" and explicit_hash):
            continue  # the class's own, as dataclass keeps it
        setattr(cls, name, fn)
    return cls


def _getter(names: list[str]) -> Callable[[Any], tuple]:
    """The tuple of those fields of a value (attrgetter: C, as fast as a generated method).
    One field too is a 1-tuple: tuples compare their items by identity first, as the
    stdlib's generated ``__eq__`` (a tuple of the fields) does, so a NaN field still equals
    itself."""
    if not names:
        return lambda _value: ()
    get = operator.attrgetter(*names)
    return get if len(names) > 1 else lambda value: (get(value),)


# Shared by every value: what dataclass would generate per class, with the field names
# read from the class (a value and its subclass each keep their own).
def _refuse_set(self: Any, name: str, _value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delete(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__class__.__frozen_compared__  # from the class: a function read off an instance is bound
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__class__.__frozen_hashed__(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__frozen_shown__)
    return f"{self.__class__.__qualname__}({shown})"


def _init(cls: type, fields: tuple[dataclasses.Field, ...]) -> Callable:
    """``__init__`` for ``fields``, compiled: defaults and factories are names in its scope."""
    scope: dict[str, Any] = {"__set": object.__setattr__, "__MISSING": dataclasses.MISSING}
    params: list[str] = []
    kw_only: list[str] = []
    body: list[str] = []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            scope[f"__d_{f.name}"] = f.default
            default = f"=__d_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"__f_{f.name}"] = f.default_factory
            default = "=__MISSING"
            if f.init:
                body.append(f"    if {f.name} is __MISSING: {f.name} = __f_{f.name}()")
        else:
            default = ""
        if not f.init:
            if default:  # a field(init=False) with a default is set to it; one without is left unset
                source = f"__f_{f.name}()" if default == "=__MISSING" else f"__d_{f.name}"
                body.append(f"    __set(self, {f.name!r}, {source})")
            continue
        (kw_only if f.kw_only else params).append(f"{f.name}{default}")
        body.append(f"    __set(self, {f.name!r}, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *params, *(["*", *kw_only] if kw_only else [])])
    exec(f"def __init__({signature}):\n" + ("\n".join(body) or "    pass"), scope)  # noqa: S102 - made of field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
