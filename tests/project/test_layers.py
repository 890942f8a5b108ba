"""The package's layers as a rule the code keeps.

Each folder's ``__init__`` says what lives there and, in a "May import:" line, which
other folders its modules may import; this test holds every import of the package to
those lines (function-level and TYPE_CHECKING imports included), finds no import cycle
between modules (so no import is put inside a function only to dodge one), and keeps
each third-party library where it belongs: MkDocs in the MkDocs adapter alone, so the
core serves any host unchanged.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.commands import REPO

PACKAGE = REPO / "mkdocs_nanobanana"
#: The folders that are layers; hosts/ holds two, one per host.
LAYERS = ("core", "store", "imaging", "cards", "providers", "build", "hosts.mkdocs", "hosts.markdown", "cli")

#: Where each third-party library may be imported (by module, or by layer).
LIBRARIES = {
    "mkdocs": {"hosts.mkdocs"},
    "markdown": {"hosts.mkdocs", "hosts.markdown"},
    "pygments": {"hosts.markdown.lexer"},
    "httpx": {"providers"},
    "click": {"cli"},
    "fsspec": {"store.remote"},
    "PIL": {"core.image_bytes", "imaging", "cards", "providers.placeholder", "build.renderer", "build.card_renderer",
            "build.sources", "cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> str | None:
    """The layer a module belongs to; None for the package root's entry-point shims."""
    return next((layer for layer in LAYERS if module == layer or module.startswith(layer + ".")), None)


def imports(module: str) -> list[tuple[str, int]]:
    """Every import in ``module`` as (what it names, line): a module of the package
    (absolute dotted name, without the package's own) or a third-party one (prefixed "!")."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((("" if a.name.startswith("mkdocs_nanobanana") else "!") + a.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append(("!" + (node.module or ""), node.lineno))
                continue
            base = package[: len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import x` names a module when x is one
                sub = f"{target}.{alias.name}" if target else alias.name
                found.append((sub if sub in MODULES else target, node.lineno))
    return found


def may_import(layer: str) -> set[str]:
    """The "May import:" line of the layer's __init__ docstring."""
    doc = ast.get_docstring(ast.parse(MODULES[layer].read_text(encoding="utf-8"))) or ""
    if layer.startswith("hosts.") and "May import:" not in doc:
        doc = ast.get_docstring(ast.parse(MODULES["hosts"].read_text(encoding="utf-8"))) or ""
    line = re.search(r"May import: ([^\n]*)", doc)
    assert line, f"{MODULES[layer]}: its docstring says what it may import ('May import: ...')"
    words = line.group(1).rstrip(".")
    if words.startswith("everything"):
        return set(MODULES)
    if words.startswith("nothing"):
        return set()
    return {w.strip().rstrip(".") for w in words.split(".")[0].split(",")}


def test_every_module_is_in_a_layer_but_the_entry_point_shims():
    loose = sorted(m for m in MODULES if layer_of(m) is None)
    assert loose == ["", "hosts", "markdown", "plugin"], loose


def test_each_layer_imports_only_what_its_init_allows():
    wrong = []
    for module in MODULES:
        layer = layer_of(module)
        if layer is None:
            continue
        allowed = may_import(layer)
        for target, line in imports(module):
            if target.startswith("!") or target == "":  # the root: __version__
                continue
            theirs = layer_of(target)
            if theirs == layer or theirs is None and target == "":
                continue
            if not any(target == a or target.startswith(a + ".") or theirs == a for a in allowed):
                wrong.append(f"{module}:{line} imports {target} ({layer} may import "
                             f"{', '.join(sorted(allowed)) or 'nothing'})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    """Function-level imports count: one kept inside a function only to dodge a cycle
    is a cycle all the same."""
    graph = {m: {t for t, _ in imports(m) if not t.startswith("!") and t in MODULES and t != m} for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        for t in graph[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            group = []
            while True:
                t = stack.pop()
                group.append(t)
                if t == m:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for m in graph:
        if m not in index:
            visit(m)
    assert not cycles, cycles


def test_each_library_is_imported_only_where_it_belongs():
    wrong = []
    for module in MODULES:
        for target, line in imports(module):
            lib = target[1:].split(".")[0] if target.startswith("!") else None
            if lib in LIBRARIES and not any(module == w or module.startswith(w + ".") for w in LIBRARIES[lib]):
                wrong.append(f"{module}:{line} imports {lib}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_can_fail(tmp_path, monkeypatch):
    """The checks above read real code: a core module importing the build is caught."""
    bad = PACKAGE / "core" / "directives.py"
    monkeypatch.setitem(MODULES, "core.directives", tmp_path / "core" / "directives.py")
    (tmp_path / "core").mkdir()
    cycle = bad.read_text(encoding="utf-8") + "\nfrom ..build import session\n"
    (tmp_path / "core" / "directives.py").write_text(cycle)
    last_line = (tmp_path / "core" / "directives.py").read_text().count("\n")
    assert ("build.session", last_line) in imports("core.directives")
    try:
        test_each_layer_imports_only_what_its_init_allows()
    except AssertionError as exc:
        assert "imports build.session (core may import nothing)" in str(exc)
    else:
        raise AssertionError("a core module importing the build passed the layer rule")


def test_architecture_md_names_every_module_under_its_folder():
    """ARCHITECTURE.md's module table stays true as the code moves: each module is a row
    in the part of the table headed by its folder."""
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Modules, one job each", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^\| \*\*([\w/]+)/\*\* \|", table, flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    missing = []
    for module, path in MODULES.items():
        if path.name == "__init__.py" or layer_of(module) is None:
            continue
        folder = path.parent.relative_to(PACKAGE).as_posix()
        rows = sections.get(folder, "")
        if f"`{path.name}`" not in rows and f"`{path.stem}.py`" not in rows:
            missing.append(f"{folder}/{path.name}")
    assert not missing, f"ARCHITECTURE.md's module table lacks {missing}"


def test_no_function_over_60_lines_and_no_class_over_300():
    """Issue 32: small pieces a newcomer can read whole. A class that outgrows 300 lines
    gives a half to a base of its own (as Analysis' cards went to CardPlanning)."""
    import ast

    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "lineno") else 0
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and lines > 60:
                too_long.append(f"{path.relative_to(PACKAGE.parent)}: def {node.name} is {lines} lines")
            elif isinstance(node, ast.ClassDef) and lines > 300:
                too_long.append(f"{path.relative_to(PACKAGE.parent)}: class {node.name} is {lines} lines")
    assert too_long == []
