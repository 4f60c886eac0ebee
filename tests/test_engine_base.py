"""What the engines share (tieuchi.engine.base): the Backend protocol, the one range truth table, caches per rules."""
from __future__ import annotations

import ast
import datetime as dt
import gc
import inspect
import itertools
from pathlib import Path

import numpy as np
import pytest

import tieuchi
from tieuchi.engine import base
from tieuchi.rulebook.load import load_rules

ENGINE = Path(tieuchi.__file__).parent / "engine"
ON = dt.date(2024, 12, 1)


def test_the_vectorized_engine_offers_what_the_api_calls_with_the_protocols_signature():
    from tieuchi.engine import vectorized

    assert isinstance(vectorized, base.Backend)
    want = inspect.signature(base.Backend.classify_tables)
    assert list(inspect.signature(vectorized.classify_tables).parameters) == list(want.parameters)[1:]


def test_the_durable_engine_offers_what_the_api_calls_with_the_protocols_signature():
    pytest.importorskip("durable.engine")
    from tieuchi.engine import durable

    assert isinstance(durable, base.Backend)
    want = inspect.signature(base.Backend.classify_tables)
    assert list(inspect.signature(durable.classify_tables).parameters) == list(want.parameters)[1:]


def test_the_range_truth_table_decides_a_single_count_as_it_decides_arrays_of_counts():
    ranges = [(lo, hi) for lo in range(4) for hi in range(lo, 4)]
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    for op, k in itertools.product(("ge", "gt", "le", "lt", "eq", "ne"), (-1, 0, 1, 2, 3, 4, 1.5)):
        t, f = base.range_compare(lo, hi, op, k)
        assert not (t & f).any()
        for i, (a, b) in enumerate(ranges):
            every = {bool({"ge": x >= k, "gt": x > k, "le": x <= k, "lt": x < k, "eq": x == k, "ne": x != k}[op])
                     for x in range(a, b + 1)}
            expected = "T" if every == {True} else ("F" if every == {False} else "U")
            got = base.range_decide(a, b, op, k)
            assert ("T" if t[i] else ("F" if f[i] else "U")) == got, (op, k, a, b)
            if float(k).is_integer():  # (a range is an interval: `eq 1.5` over [0, 2] stays unknown)
                assert got == expected, (op, k, a, b)


def test_what_the_engines_derive_from_resolved_rules_is_not_written_into_them_and_goes_with_them():
    from tieuchi.devtools.synth import generate_survey

    rules = load_rules(ON)
    before = set(vars(rules))
    hh, mem, communes = generate_survey(50, n_communes=2, seed=3, missing_rate=0.05, reference_date=ON.isoformat())
    tieuchi.classify(hh, mem, on=ON, rules=rules, communes=communes)
    assert set(vars(rules)) == before  # no cache written into the RulesAt
    assert {"static", "params_read"} <= set(base.rules_cache(rules))
    key = id(rules)
    del rules
    gc.collect()
    assert key not in base._PER_RULES


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, inside a function) of every import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, id(node) not in top))
        elif isinstance(node, ast.Import):
            out.extend((a.name, id(node) not in top) for a in node.names)
    return out


def test_the_engines_never_import_each_other():
    assert not [m for m, _ in _imports(ENGINE / "vectorized.py") if m.startswith("tieuchi.engine.durable")]
    assert not [m for m, _ in _imports(ENGINE / "durable.py") if m.startswith("tieuchi.engine.vectorized")]
    for shared in ("base.py", "assemble.py", "unknowns.py", "reasons.py"):
        assert not [m for m, _ in _imports(ENGINE / shared)
                    if m.startswith(("tieuchi.engine.vectorized", "tieuchi.engine.durable"))], shared


def test_no_engine_module_imports_inside_a_function():
    inner = {p.name: [m for m, inside in _imports(p) if inside] for p in ENGINE.glob("*.py")}
    assert {name: found for name, found in inner.items() if found} == {}
