"""``@frozen`` makes what ``@dataclass(frozen=True)`` makes, with only ``__init__``
compiled (core/frozen.py): each class here is made both ways and the two must behave
alike, down to the error a frozen field raises."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import FrozenInstanceError, dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mkdocs_nanobanana
from mkdocs_nanobanana.core.frozen import frozen


def twins(body, **options):
    """The class ``body()`` describes, made by ``frozen`` and by ``dataclass(frozen=True)``
    (each from a body of its own: dataclass writes into the Field objects it is given)."""
    def make(decorate):
        cls = type("Thing", (), body())
        cls.__qualname__ = "Thing"
        return decorate(cls)
    return make(frozen(**options)), make(dataclass(frozen=True, **options))


def body() -> dict:
    return {"__annotations__": {"a": "int", "b": "str", "c": "tuple", "d": "list", "e": "int"},
            "b": "x", "c": (), "d": field(default_factory=list, compare=False),
            "e": field(default=0, repr=False, kw_only=True)}


@given(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3), st.integers())
def test_a_value_behaves_as_a_frozen_dataclass(a, b, d, e):
    ours, theirs = twins(body)
    x, y = ours(a, b, (1,), d, e=e), theirs(a, b, (1,), d, e=e)
    assert repr(x) == repr(y)
    assert hash(x) == hash(y)
    assert x == ours(a, b, (1,), [9], e=e)  # d is not compared, as its field says
    assert (x == ours(a + 1, b, (1,), d, e=e)) is False
    assert x != y  # another class: NotImplemented both ways, as dataclasses do
    assert dataclasses.asdict(x) == dataclasses.asdict(y)
    assert dataclasses.replace(x, a=a + 1).a == a + 1
    assert [f.name for f in dataclasses.fields(x)] == [f.name for f in dataclasses.fields(y)]
    assert ours(a).d == [] and ours(a).d is not ours(a).d  # a factory per instance


@pytest.mark.parametrize("annotations", [{}, {"x": "float"}, {"x": "float", "y": "float"}])
def test_values_of_none_one_or_more_fields_compare_and_hash_as_dataclasses_do(annotations):
    """The shared ``__eq__`` and ``__hash__`` read the class's field getter: a value of
    one field (or none) compares and hashes too, and a NaN field equals itself, as the
    stdlib's tuple of fields makes it."""
    ours, theirs = twins(lambda: {"__annotations__": dict(annotations)})
    nan = float("nan")
    values = [nan] * len(annotations)
    for cls in (ours, theirs):
        x = cls(*values)
        assert x == x and x == cls(*values) and len({x, cls(*values)}) == 1
    if annotations:
        assert ours(*[1.0] * len(annotations)) != ours(*[2.0] * len(annotations))
        assert hash(ours(*[1.5] * len(annotations))) == hash(theirs(*[1.5] * len(annotations)))


def test_a_value_refuses_to_change_as_a_frozen_dataclass_does():
    ours, theirs = twins(body)
    for thing in (ours(1), theirs(1)):
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
            thing.a = 2
        with pytest.raises(FrozenInstanceError, match="cannot delete field 'b'"):
            del thing.b
    with pytest.raises(TypeError):
        ours(1, "x", (), [], 5)  # e is keyword-only


def test_post_init_subclasses_own_methods_and_options():
    calls = []

    @frozen
    class Base:
        a: int

        def __post_init__(self):
            calls.append(self.a)
            object.__setattr__(self, "doubled", self.a * 2)

    @frozen
    class Child(Base):
        b: int = 3

        def __repr__(self) -> str:
            return "mine"

    child = Child(2)
    assert calls == [2] and child.doubled == 4 and (child.a, child.b) == (2, 3)
    assert repr(child) == "mine"  # a class's own method stays, as with dataclass
    assert child == Child(2, 3) and child != Base(2)

    @frozen(eq=False, repr=False)
    class Plain:
        a: int

    p = Plain(1)
    assert p != Plain(1) and hash(p) == object.__hash__(p)  # identity, as eq=False gives
    assert repr(p).startswith("<")
    assert copy.deepcopy(Child(5)) == Child(5)  # copy (and pickle) rebuild it through object.__setattr__


def test_the_package_makes_its_frozen_values_with_frozen():
    """No ``@dataclass(frozen=True)`` is left in the package, and its values are ``frozen``'s
    (their ``__setattr__`` is the one core/frozen.py shares, where the stdlib makes one a class)."""
    import importlib
    import pkgutil
    from pathlib import Path

    root = Path(mkdocs_nanobanana.__file__).parent
    left = [str(p.relative_to(root)) for p in root.rglob("*.py")
            if p.name != "frozen.py" and "@dataclass(frozen=True" in p.read_text()]
    assert left == [], f"frozen dataclasses not made with core.frozen.frozen: {left}"
    found = 0
    for info in pkgutil.walk_packages(mkdocs_nanobanana.__path__, "mkdocs_nanobanana."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__ and dataclasses.is_dataclass(obj) \
                    and vars(obj).get("__setattr__", print).__module__ == "mkdocs_nanobanana.core.frozen":
                found += 1
                assert obj.__init__.__qualname__ == f"{obj.__qualname__}.__init__"
    assert found >= 80  # the warm build's import path alone has about 80
