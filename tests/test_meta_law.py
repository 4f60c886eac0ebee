"""The law lives only in rules/: no Python file under src/ holds an item id, a class or item label, a parameter id or
a status id of the rules as a literal — they are read from the loaded rules (issue "A house a new maintainer can
read…", item 2). The ids and labels looked for are taken from the rule files themselves, so a new parameter, item or
class is looked for without editing this test."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tieuchi.rulebook.folders import discover_regimes, load_regime

SRC = Path(__file__).resolve().parents[1] / "src" / "tieuchi"

# (file under src/tieuchi, literal) -> why it may stay. Each entry must still be needed (see the last test).
ALLOWED = {
    ("contract/write.py", "income_line"): "the result column the data contract names (§2.1), not the parameter",
    ("engine/assemble.py", "income_line"): "writes that result column",
    ("outputs/explanation.py", "income_line"): "reads that result column",
    ("rulebook/checks.py", "income_line"): "names the classification's key income_line in an error",
}


def law_literals() -> dict[str, set[str]]:
    """{literal: what it is} for every id and label of the shipped rules that must not be copied into Python."""
    found: dict[str, set[str]] = {}

    def add(value: str | None, what: str) -> None:
        if value:
            found.setdefault(value, set()).add(what)

    for folder in discover_regimes():
        regime = load_regime(folder)
        for pid in regime.parameters:
            add(pid, "parameter id")
        cl = regime.classification
        for c in cl.classes:  # (the short labels — "nghèo", "poor" — are words, not looked for)
            add(c.label.vi, "class label"), add(c.label.en, "class label")
        add(cl.unknown.vi, "class label"), add(cl.unknown.en, "class label")
        for p in regime.programs:
            add(p.label.vi, "program label"), add(p.label.en, "program label")
            for g in p.priority_groups:
                add(g.label.vi, "priority group label"), add(g.label.en, "priority group label")
            for sid in p.statuses:
                add(sid, "status id")
        for s in regime.shared:
            for sid in s.set.statuses:
                add(sid, "status id")
        if regime.program is not None:
            for i, item in regime.program.items.items():
                add(i, "item id"), add(item.label.vi, "item label"), add(item.label.en, "item label")
    # a label that is also a code of the data contract (priority group "disability") is looked for as neither
    codes = {c.id for f in discover_regimes() for c in load_regime(f).classification.classes}
    codes |= {g.id for f in discover_regimes() for p in load_regime(f).programs for g in p.priority_groups}
    return {k: v for k, v in found.items() if k not in codes or v - {"class label", "priority group label"}}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants of a module, its classes and functions (documentation, not data)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def literals_in(root: Path, looked_for: dict[str, set[str]]) -> list[tuple[str, int, str, str]]:
    """(file, line, literal, what) for each string constant under `root` equal to an id or label of the rules."""
    hits = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                    and node.value in looked_for:
                hits.append((path.relative_to(root).as_posix(), node.lineno, node.value,
                             ", ".join(sorted(looked_for[node.value]))))
    return hits


@pytest.fixture(scope="module")
def looked_for() -> dict[str, set[str]]:
    return law_literals()


def test_the_literals_looked_for_come_from_every_kind_of_rule_file(looked_for):
    kinds = {w for whats in looked_for.values() for w in whats}
    assert kinds >= {"parameter id", "class label", "program label", "priority group label", "status id", "item id",
                     "item label"}
    assert {"score_a_cutoff", "average_living_upper", "p2_livelihood", "newly_escaped_poverty", "Hộ nghèo",
            "Poor household"} <= set(looked_for)


def test_no_python_file_under_src_holds_an_id_or_label_of_the_rules(looked_for):
    hits = [h for h in literals_in(SRC, looked_for) if (h[0], h[2]) not in ALLOWED]
    assert not hits, "the law belongs in rules/; read these from the loaded rules:\n" + "\n".join(
        f"  src/tieuchi/{f}:{line}: {value!r} ({what})" for f, line, value, what in hits)


def test_a_copied_item_id_or_class_label_is_found(tmp_path, looked_for):
    (tmp_path / "copy.py").write_text('ITEMS = {"p2_livelihood": "household"}\nLABEL = "Hộ nghèo"\n'
                                      'def f():\n    """p2_livelihood in a docstring is documentation."""\n',
                                      encoding="utf-8")
    assert sorted((line, value) for _, line, value, _ in literals_in(tmp_path, looked_for)) == \
        [(1, "p2_livelihood"), (2, "Hộ nghèo")]


def test_every_allowed_literal_is_still_where_the_allowance_says(looked_for):
    hits = {(f, value) for f, _, value, _ in literals_in(SRC, looked_for)}
    assert set(ALLOWED) <= hits, f"no longer needed, remove from ALLOWED: {sorted(set(ALLOWED) - hits)}"

