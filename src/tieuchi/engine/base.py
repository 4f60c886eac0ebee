"""What every engine shares: the three-valued logic, the two levels a condition is evaluated at, typed columns, the
conditions fixed by parameters alone, the range truth table, and the `Backend` protocol the API calls.

Kleene logic: a condition's value over n rows is a pair of boolean arrays (t, f) — known true, known false; neither
means unknown (`Tri`). The durable backend holds one household at a time and writes the same three values as
"T" / "F" / "U"; `range_compare` (arrays) and `range_decide` (scalars) are one truth table, so both backends decide a
count or a share the same way.

Caches of what an engine derives from one resolved `RulesAt` (the value of a condition fixed by parameters, the
parameters an evaluation reads) are held here, by the engine, in `rules_cache`: nothing is written into the rules.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, Iterable, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from tieuchi.contract.columns import columns
from tieuchi.rulebook.regime import RulesAt
# the levels (HOUSEHOLD, MEMBER), the member aggregations and a node's children are the tree's: one definition, in
# rulebook/tree.py, which every engine imports directly
from tieuchi.rulebook.tree import static as tree_static

Tri = tuple[np.ndarray, np.ndarray]  # (known true, known false) per row; neither: unknown

Render = Callable[[Iterable[int], str], list[str]]  # reason keys (the `reasons` column), language -> texts


@runtime_checkable
class Backend(Protocol):
    """What `tieuchi.api` calls on an engine: `tieuchi.engine.vectorized` and `tieuchi.engine.durable` (modules)
    satisfy it. The tables are typed and validated (`tieuchi.contract.validate.normalize`); `member_hh_pos` gives each
    member's household row, `birth` each member's birth date (datetime64[D])."""

    def classify_tables(self, rules: RulesAt, households: pd.DataFrame, members: pd.DataFrame,
                        member_hh_pos: np.ndarray, birth: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], Render]:
        """(household result columns, member result columns, the function rendering reason keys as text)."""
        ...


# ------------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass
class Col:
    """A typed input column as arrays: `values` (numbers, booleans, or category codes, -1 for missing), `missing`
    (None: nothing missing), `categories` (the codes' texts, for kind "cat"). Kind "absent": a column the survey does
    not have, every answer missing."""

    kind: str  # num | bool | cat | absent
    values: np.ndarray
    missing: np.ndarray | None  # None: nothing missing
    categories: list | None = None


def as_col(s: pd.Series) -> Col:
    """A column of a typed table (as `normalize` gives it) as arrays, without copying where pandas allows."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        missing = codes < 0
        return Col("cat", codes, missing if missing.any() else None, [str(c) for c in dtype.categories])
    if isinstance(dtype, pd.BooleanDtype):
        arr = s.array
        return Col("bool", arr._data, arr._mask if arr._mask.any() else None)
    if isinstance(s.array, pd.arrays.IntegerArray) or isinstance(s.array, pd.arrays.FloatingArray):
        arr = s.array
        return Col("num", arr._data, arr._mask if arr._mask.any() else None)
    if pd.api.types.is_bool_dtype(dtype):
        return Col("bool", s.to_numpy(), None)
    if pd.api.types.is_numeric_dtype(dtype):
        values = s.to_numpy()
        missing = np.isnan(values) if values.dtype.kind == "f" else None
        return Col("num", values, missing if missing is not None and missing.any() else None)
    # text codes that were not normalised (a caller that skipped validation): treat as categories
    cat = pd.Categorical(s)
    codes = np.asarray(cat.codes)
    missing = codes < 0
    return Col("cat", codes, missing if missing.any() else None, [str(c) for c in cat.categories])


@cache
def member_fields() -> frozenset[str]:
    """The members table's columns (columns.yaml, loaded once): at member level these are read per member."""
    return frozenset(columns("members"))


# ------------------------------------------------------------------------------------------------------------------
# The condition tree




def static(rules: RulesAt, node) -> bool | None:
    """The value of a condition that depends on parameters only (a flag, its negation, junctions of them); None when
    it reads the survey. Kept per resolved rules, which callers reuse across calls (one household at a time, say)."""
    found = rules_cache(rules).setdefault("static", {})
    hit = found.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    value = _static(rules, node)
    found[id(node)] = (node, value)  # the node is kept: an id is only unique while its object lives
    return value


def _static(rules: RulesAt, node) -> bool | None:
    return tree_static(node, rules.params)


# ------------------------------------------------------------------------------------------------------------------
# Counts as ranges: the truth table


def range_compare(lo, hi, op: str, k):
    """Decide `x op k` for every x in [lo, hi]: (true for all, false for all). Arrays give arrays (a `Tri`), scalars
    give booleans (see `range_decide`): the one truth table of counts and shares with unknowns."""
    if op == "ge":
        return lo >= k, hi < k
    if op == "gt":
        return lo > k, hi <= k
    if op == "le":
        return hi <= k, lo > k
    if op == "lt":
        return hi < k, lo >= k
    if op == "eq":
        exact = lo == hi
        return exact & (lo == k), (k < lo) | (k > hi)
    if op == "ne":
        exact = lo == hi
        return (k < lo) | (k > hi), exact & (lo == k)
    raise ValueError(op)


def range_decide(lo: int, hi: int, op: str, k) -> str:
    """`x op k` for every x in [lo, hi] (scalars): "T" when all agree true, "F" when all agree false, else "U"."""
    t, f = range_compare(lo, hi, op, k)
    return "T" if t else ("F" if f else "U")


# ------------------------------------------------------------------------------------------------------------------
# Caches per resolved rules, held by the engine

_PER_RULES: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def rules_cache(rules: RulesAt) -> dict[str, Any]:
    """A dict for what engines derive from `rules` (one entry per kind of value), dropped with `rules`: it lives here,
    keyed by the rules object's identity, not in the rules (RulesAt is a plain dataclass, unhashable). Two threads
    asking at once for new rules may each get a dict of their own: a value is then derived twice, never wrong."""
    key = id(rules)
    entry = _PER_RULES.get(key)
    if entry is None or entry[0]() is not rules:
        entry = (weakref.ref(rules, lambda ref, key=key: _forget(key, ref)), {})
        _PER_RULES[key] = entry
    return entry[1]


def _forget(key: int, ref: weakref.ref) -> None:
    """A RulesAt is gone: drop its caches (unless its id already serves a newer one)."""
    entry = _PER_RULES.get(key)
    if entry is not None and entry[0] is ref:
        _PER_RULES.pop(key, None)
