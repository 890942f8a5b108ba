"""The exported names are exactly the documented ones (ARCHITECTURE.md, "Public
surface"), every other module exports nothing, and the package's own errors share one
base whose docstring draws their tree."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from mkdocs_nanobanana import NanobananaError
from mkdocs_nanobanana.core import errors
from tests.support.commands import REPO

PACKAGE = REPO / "mkdocs_nanobanana"


def documented() -> dict[str, set[str]]:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Public surface", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(mkdocs_nanobanana[\w.]*)` \| (.+?) \|$", section, re.M)
    assert rows, "ARCHITECTURE.md's Public surface table is empty"
    return {module: set(re.findall(r"`(\w+)`", names)) for module, names in rows}


def modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_exported_names_are_the_documented_ones():
    public = documented()
    for name in modules():
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if name in public:
            assert set(exported or ()) == public[name], name
            for attr in exported:
                assert hasattr(module, attr), f"{name}.__all__ names {attr}, which it does not define"
        else:
            tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
            docstring_only = all(isinstance(n, ast.Expr) for n in tree.body)
            assert docstring_only or exported == [], f"{name}: an internal module says so with __all__ = []"


def test_the_documented_modules_exist():
    assert set(documented()) <= set(modules())


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_of_the_package_shares_one_base_drawn_in_its_docstring():
    for name in modules():  # import them all, so that every subclass is defined
        importlib.import_module(name)
    ours = {c for c in _subclasses(NanobananaError) if c.__module__.startswith("mkdocs_nanobanana")}
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__ or ""))
    assert {c.__name__ for c in ours} == drawn
    raised = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", "").endswith(("Error", "Exception")) for b in node.bases):
                raised.add(node.name)
    assert raised <= {c.__name__ for c in ours} | {"NanobananaError"}, raised - {c.__name__ for c in ours}


@pytest.mark.parametrize("name", ["SettingsError", "DirectiveError", "ProviderError", "RemoteError"])
def test_a_host_can_catch_them_all(name):
    found = {c.__name__: c for c in _subclasses(NanobananaError)}
    assert issubclass(found[name], NanobananaError)
