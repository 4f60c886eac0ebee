"""The import layers of src/tieuchi, read from the source with `ast` (no import is run, no extra dependency).

Imports point one way, from a layer to its own or to a layer below it:

    cli, devtools → casework → api (tieuchi/__init__.py, api.py) → outputs → engine → rulebook → contract
    → errors, i18n

and the tests below hold the house to it:
- no cycle in the graph of imports between tieuchi modules, counting imports inside functions as well as at the top
  of a module (an import hidden in a function is still a dependency, and a cycle hidden that way is still a cycle);
- every import follows the direction above;
- the engines never import each other, and what they share imports none of them;
- no import inside a function, except of an optional or heavy dependency (`OPTIONAL`, `HEAVY`: durable_rules,
  openpyxl, or a tieuchi module that imports one of them at its top) or, in `cli/` and `tieuchi/__init__.py`, one
  that keeps `tieuchi --help` fast; each such import says which in a comment on its line, or above it or above
  the block of imports it belongs to (`# optional: durable_rules`, `# heavy: openpyxl`, `# lazy: keeps --help
  fast`);
- no private name (`_x`) of one module imported, or read as `module._x`, in another: make it public in its owner.

Importing `tieuchi.a.b` also runs `tieuchi/__init__.py` and `tieuchi/a/__init__.py`; those implicit imports of the
parent packages are not edges here (the packages' own imports are). `pyarrow.parquet` is not on the heavy list: it
loads in about 15 ms, and the survey reader imports it at its top anyway.

Each test fails with the whole list of what it found, one line per import, `file:line` first.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# top to bottom; a module may import from its own layer and from the layers below it, never from one above
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("tieuchi.cli", "tieuchi.devtools")),
    ("casework", ("tieuchi.casework",)),
    ("api", ("tieuchi", "tieuchi.api")),  # "tieuchi" is tieuchi/__init__.py alone (prefixes below are longer)
    ("outputs", ("tieuchi.outputs",)),
    ("engine", ("tieuchi.engine",)),
    ("rulebook", ("tieuchi.rulebook",)),
    ("contract", ("tieuchi.contract",)),
    ("errors", ("tieuchi.errors", "tieuchi.i18n")),
]

# The engines: each a group of modules that may import one another but no module of another engine. Every other
# module of engine/ is shared by the engines (SHARED) and imports no engine. A new module of engine/ goes in one of
# the two, so that the test says where it belongs.
ENGINES: dict[str, tuple[str, ...]] = {
    "vectorized": ("tieuchi.engine.vectorized", "tieuchi.engine.unknowns"),
    "durable": ("tieuchi.engine.durable",),
}
SHARED = ("tieuchi.engine", "tieuchi.engine.base", "tieuchi.engine.assemble", "tieuchi.engine.reasons",
          "tieuchi.engine.isolate", "tieuchi.engine.memory")

# What an import inside a function may bring in (anywhere), and the comment that must say why.
OPTIONAL = ("durable",)  # durable_rules (the `durable` extra): the durable engine only
HEAVY = ("openpyxl",)  # about 0.3 s to import, needed only for a workbook
LAZY_ANYWHERE_IN = ("tieuchi.cli",)  # and tieuchi/__init__.py: any import may be lazy there, for `tieuchi --help`
REASON = re.compile(r"#\s*(lazy|optional|heavy):")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module: the tieuchi module it names, or the dotted name of an outside one
    names: tuple[str, ...]  # for `from target import a, b`: the names; () for `import target`
    path: Path
    line: int
    end_line: int
    function: str | None  # the enclosing function, None at module level
    text: str

    shown: str  # the path as printed: relative to the repository

    @property
    def where(self) -> str:
        return f"{self.shown}:{self.line}"

    def describe(self) -> str:
        inside = f"  (in {self.function})" if self.function else ""
        return f"{self.where}: {self.text}{inside}"


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(src: Path) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted((src / "tieuchi").rglob("*.py"))}


def _resolve(source: str, is_package: bool, level: int, module: str | None) -> str:
    if not level:
        return module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str, path: Path, shown: str, lines: list[str], known: set[str]):
        self.source, self.path, self.shown, self.lines, self.known = source, path, shown, lines, known
        self.is_package = path.name == "__init__.py"
        self.functions: list[str] = []
        self.imports: list[Import] = []
        self.aliases: dict[str, str] = {}  # local name -> tieuchi module it stands for (for `m._private`)
        self.attributes: list[tuple[str, str, int]] = []  # (module, attribute, line) read as name.attr

    def _function(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _add(self, node, target: str, names: tuple[str, ...]):
        text = " ".join(line.strip() for line in self.lines[node.lineno - 1: node.end_lineno])
        self.imports.append(Import(self.source, target, names, self.path, node.lineno, node.end_lineno,
                                   ".".join(self.functions) or None, text, self.shown))

    def _tieuchi_module(self, dotted: str) -> str | None:
        """The longest tieuchi module that `dotted` names (a module, or a name inside one)."""
        parts = dotted.split(".")
        for n in range(len(parts), 0, -1):
            name = ".".join(parts[:n])
            if name in self.known:
                return name
        return None

    def visit_Import(self, node: ast.Import):
        for a in node.names:
            mod = self._tieuchi_module(a.name)
            self._add(node, mod or a.name, ())
            if mod and a.asname:
                self.aliases[a.asname] = mod

    def visit_ImportFrom(self, node: ast.ImportFrom):
        base = _resolve(self.source, self.is_package, node.level, node.module)
        if base == "__future__":
            return
        mod = self._tieuchi_module(base)
        if mod is None:
            self._add(node, base, tuple(a.name for a in node.names))
            return
        plain = []
        for a in node.names:
            sub = f"{base}.{a.name}"
            if sub in self.known:  # `from tieuchi.contract import write as w`: a module, imported as such
                self._add(node, sub, ())
                self.aliases[a.asname or a.name] = sub
            else:
                plain.append(a.name)
        if plain:
            self._add(node, mod, tuple(plain))

    def visit_Attribute(self, node: ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            self.attributes.append((self.aliases[node.value.id], node.attr, node.lineno))
        self.generic_visit(node)


@dataclass
class Graph:
    paths: dict[str, Path]
    shown: dict[str, str]  # module -> its path as printed
    lines: dict[str, list[str]]  # module -> its source lines
    imports: list[Import]
    attributes: list[tuple[str, str, str, int]]  # (module, attribute, shown path, line): `module.attribute` read

    @property
    def internal(self) -> list[Import]:
        return [i for i in self.imports if i.target in self.paths and i.target != i.source]


def collect(src: Path) -> Graph:
    """Every import (and every `module._x` read) of the package `tieuchi` under `src`."""
    paths = modules(src)
    known = set(paths)
    shown = {n: str(p.relative_to(src.parent)) for n, p in paths.items()}
    lines, imports, attributes = {}, [], []
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        lines[name] = text.splitlines()
        c = _Collector(name, path, shown[name], lines[name], known)
        c.visit(ast.parse(text, filename=str(path)))
        imports += c.imports
        attributes += [(mod, attr, shown[name], line) for mod, attr, line in c.attributes if mod != name]
    return Graph(paths, shown, lines, imports, attributes)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return collect(SRC)


def layer_of(module: str) -> int:
    best, at = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            exact = p == "tieuchi"
            if (module == p or (not exact and module.startswith(p + "."))) and len(p) > best:
                best, at = len(p), i
    assert at is not None, f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}"
    return at


def _report(title: str, lines: list[str], count: int | None = None) -> None:
    if lines:
        n = len(lines) if count is None else count
        pytest.fail(f"{title} ({n}):\n" + "\n".join(f"  {x}" for x in lines), pytrace=False)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def _a_cycle_through(start: str, comp: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One shortest path start → … → start inside the component (breadth first)."""
    prev = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges[node] & comp):
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return [*reversed(path), start]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start]


# ---------------------------------------------------------------------------------------------------- checks
# each returns the lines of its report (empty: nothing found)


def unplaced(g: Graph) -> list[str]:
    out = []
    for name in g.paths:
        try:
            layer_of(name)
        except AssertionError as e:
            out.append(f"{g.shown[name]}: {e}")
    return out


def cycles(g: Graph) -> list[str]:
    edges: dict[str, set[str]] = {n: set() for n in g.paths}
    by_edge: dict[tuple[str, str], list[Import]] = {}
    for i in g.internal:
        edges[i.source].add(i.target)
        by_edge.setdefault((i.source, i.target), []).append(i)
    lines = []
    for comp in _cycles(edges):
        cycle = _a_cycle_through(comp[0], set(comp), edges)
        lines.append(f"cycle among {len(comp)} modules: {', '.join(comp)}")
        lines.append("    for example " + " → ".join(cycle) + ", through:")
        for a, b in zip(cycle, cycle[1:]):
            lines += [f"      {x.describe()}" for x in by_edge[(a, b)]]
    return lines


def upward(g: Graph) -> list[str]:
    names = [name for name, _ in LAYERS]
    return [f"{i.describe()}   [{names[layer_of(i.source)]} → {names[layer_of(i.target)]}]"
            for i in g.internal if layer_of(i.target) < layer_of(i.source)]


def between_engines(g: Graph) -> list[str]:
    engine_of = {m: e for e, mods in ENGINES.items() for m in mods}
    return [f"{i.describe()}   [{engine_of[i.source]} engine → {engine_of[i.target]} engine]"
            for i in g.internal
            if i.source in engine_of and i.target in engine_of and engine_of[i.source] != engine_of[i.target]]


def shared_importing_an_engine(g: Graph) -> list[str]:
    engine_of = {m: e for e, mods in ENGINES.items() for m in mods}
    loose = [f"{g.shown[n]}: neither an engine (ENGINES) nor shared (SHARED) in {Path(__file__).name}"
             for n in g.paths if _under(n, ("tieuchi.engine",)) and n not in engine_of and n not in SHARED]
    return loose + [f"{i.describe()}   [shared → {engine_of[i.target]} engine]"
                    for i in g.internal if i.source in SHARED and i.target in engine_of]


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _said_why(i: Import, src: list[str], import_lines: set[tuple[str, int]]) -> bool:
    """A reason on the import's own lines, or above it: on the line above, or above the run of imports and
    comment lines it belongs to (one comment may head a block of lazy imports)."""
    if any(REASON.search(src[n - 1]) for n in range(i.line, i.end_line + 1)):
        return True
    n = i.line - 1
    while n >= 1:
        if REASON.search(src[n - 1]):
            return True
        if (i.source, n) not in import_lines and not src[n - 1].lstrip().startswith("#"):
            return False
        n -= 1
    return False


def lazy(g: Graph) -> list[str]:
    import_lines = {(i.source, n) for i in g.imports for n in range(i.line, i.end_line + 1)}
    # a tieuchi module that imports an optional or heavy dependency at its top is itself optional or heavy
    weighty = {i.source for i in g.imports if i.function is None and _under(i.target, OPTIONAL + HEAVY)}
    bad = []
    for i in g.imports:
        if i.function is None:
            continue
        allowed = _under(i.target, OPTIONAL + HEAVY) or i.target in weighty or i.source == "tieuchi" or \
            _under(i.source, LAZY_ANYWHERE_IN)
        if not allowed:
            bad.append(f"{i.describe()}   [move it to the top of the module]")
        elif not _said_why(i, g.lines[i.source], import_lines):
            bad.append(f"{i.describe()}   [say why on its line: # optional: … / # heavy: … / # lazy: …]")
    return bad


def private(g: Graph) -> list[str]:
    lines = []
    for i in g.internal:
        names = [n for n in i.names if n.startswith("_") and not n.startswith("__")]
        if names:
            lines.append(f"{i.describe()}   [private: {', '.join(names)}]")
    for mod, attr, shown, line in g.attributes:
        if attr.startswith("_") and not attr.startswith("__"):
            lines.append(f"{shown}:{line}: {mod}.{attr} read from another module")
    return sorted(lines)


# ---------------------------------------------------------------------------------------------------- tests


def test_every_module_of_tieuchi_sits_in_one_layer(graph):
    _report("modules in no layer", unplaced(graph))


def test_the_imports_between_tieuchi_modules_form_no_cycle(graph):
    lines = cycles(graph)
    _report("import cycles", lines, sum(x.startswith("cycle") for x in lines))


def test_every_import_points_down_the_layers(graph):
    _report("imports of a layer above (direction: " + " → ".join(n for n, _ in LAYERS) + ")", upward(graph))


def test_the_engines_never_import_each_other(graph):
    _report("imports from one engine into another", between_engines(graph))


def test_what_the_engines_share_imports_no_engine(graph):
    _report("engine modules not placed, and shared engine modules that import an engine",
            shared_importing_an_engine(graph))


def test_no_import_inside_a_function_but_an_optional_or_heavy_one_saying_so(graph):
    _report("imports inside a function", lazy(graph))


def test_no_private_name_crosses_from_one_module_to_another(graph):
    _report("private names used outside their module (make them public in their owner, or move them)",
            private(graph))


def test_the_checks_find_each_kind_of_fault_in_a_made_up_package(tmp_path):
    files = {
        "__init__.py": "",
        "errors.py": "",
        "api.py": "from tieuchi.errors import *\n",
        "contract/__init__.py": "",
        "contract/read.py": ("import tieuchi.contract.write as w\n"
                             "def f():\n    return w._hidden\n"),
        "contract/write.py": ("from tieuchi.contract import read\n"  # a cycle read ↔ write
                              "from tieuchi.api import x\n"  # upward
                              "def g():\n    import json\n"  # lazy, not allowed
                              "    from openpyxl import Workbook\n"  # heavy, reason missing
                              "    import openpyxl.utils  # heavy: openpyxl\n"  # heavy, said: fine
                              "_hidden = 1\n"),
        "engine/__init__.py": "",
        "engine/vectorized.py": "from tieuchi.engine.durable import _rules\n",  # engine → engine, private
        "engine/durable.py": "_rules = 1\n",
        "engine/assemble.py": "from .vectorized import *\n",  # shared → engine (relative)
        "engine/novel.py": "",  # placed nowhere
        "cli/__init__.py": "def main():\n    # lazy: keeps --help fast\n    import json\n    import csv\n",
    }
    for name, text in files.items():
        path = tmp_path / "src" / "tieuchi" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    g = collect(tmp_path / "src")
    assert cycles(g)[0] == "cycle among 2 modules: tieuchi.contract.read, tieuchi.contract.write"
    assert [x.split(":")[1] for x in upward(g)] == ["2"] and "[contract → api]" in upward(g)[0]
    assert len(between_engines(g)) == 1 and "[vectorized engine → durable engine]" in between_engines(g)[0]
    shared = shared_importing_an_engine(g)
    assert any("engine/novel.py" in x for x in shared) and any("[shared → vectorized engine]" in x for x in shared)
    found = lazy(g)
    assert len(found) == 2, found
    assert "import json" in found[0] and "[move it to the top" in found[0]
    assert "from openpyxl import Workbook" in found[1] and "[say why" in found[1]
    assert private(g) == [
        "src/tieuchi/contract/read.py:3: tieuchi.contract.write._hidden read from another module",
        "src/tieuchi/engine/vectorized.py:1: from tieuchi.engine.durable import _rules   [private: _rules]"]
