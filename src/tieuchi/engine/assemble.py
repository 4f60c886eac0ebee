"""From decided values to the contract's result columns, the same for every backend.

A backend decides, per household, each indicator (Kleene: known true, known false, or neither), the class, and the
empty inputs that would decide an unknown; per member, the output variables. This module turns those into the
columns of data contract §2.1/§2.2 and the reason keys, with no rule logic of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tieuchi.contract.write import MEMBER_HEAD
from tieuchi.engine.base import Tri, as_col, rules_cache, static
from tieuchi.engine.reasons import BASIS_INCOME, BASIS_NONE, BASIS_SCORE, household_reason
from tieuchi.errors import RulesError
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.regime import RulesAt
from tieuchi.rulebook.tree import MEMBER_AGGREGATIONS, member_child, walk


@dataclass
class Decided:
    indicators: dict[str, Tri]  # indicator id -> (known true, known false) per household, in the regime's order
    class_index: np.ndarray  # per household: index into the regime's classes; len(classes) = unknown
    undecided: tuple[np.ndarray, list[str]]  # (code per household, 0 = none; names: ';'-joined inputs, [0] = "")
    member_outputs: dict[str, Tri | None]  # output column -> (t, f) per member (or household); None: not in force
    age: np.ndarray  # full years per member
    used_params: set[str]
    eligibility: "Eligibility | None" = None  # None: no program applies with the regime


@dataclass
class Eligibility:
    """What a backend decides about the program, once the class is known; assemble turns it into columns."""

    class_codes: np.ndarray  # per household: eligibility class, index into the regime's classes (len = unknown)
    member_pos: np.ndarray  # per member: position of its household
    statuses: dict[str, Tri] = field(default_factory=dict)  # household status -> (t, f)
    items: dict[str, tuple[Tri, str]] = field(default_factory=dict)  # item in force -> ((t, f), level)
    priority: dict[str, dict[str, Tri]] = field(default_factory=dict)  # household item -> group -> (t, f)
    shares: dict[str, list[tuple[float, Tri, str]]] = field(default_factory=dict)  # output -> [(value, (t, f), level)]


def eligibility_class(rules: RulesAt, cls: np.ndarray, recognised) -> np.ndarray:
    """Per household: the recognised class when given, else the computed one (index; len(classes) = unknown).
    `recognised`: (codes, missing mask or None, categories) of the recognised_class column, or None."""
    class_ids = [c.id for c in rules.regime.classification.classes]
    codes = cls.astype(np.int64).copy()
    if recognised is None:
        return codes
    values, missing, categories = recognised
    lut = np.array([class_ids.index(c) if c in class_ids else len(class_ids) for c in categories] + [len(class_ids)])
    given = values >= 0 if missing is None else ~missing & (values >= 0)
    codes[given] = lut[values[given]]
    return codes


def share_values(shares: list[tuple[float, Tri, str]], pos: np.ndarray, n_households: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per member: the highest share whose condition is true (0 when none); unknown when a higher one is undecided.
    A share's condition may be decided per household ("household": most read the class) or per member; household
    ones are combined per household and broadcast once. Shares are handled as small ranks (int8) and turned into
    values at the end: this runs on every member of a survey. Unknown ⟺ the highest undecided share is above the best
    known one."""
    n = len(pos)
    values = sorted({0.0} | {float(v) for v, _, _ in shares})
    rank = {v: np.int8(i) for i, v in enumerate(values)}
    size = {"household": n_households, "member": n}
    best_at = {lvl: np.zeros(k, dtype=np.int8) for lvl, k in size.items()}
    top_undecided: dict[str, np.ndarray] = {}
    for value, (t, f), level in sorted(shares, key=lambda s: s[0]):  # ascending: a later share overwrites a lower one
        r = rank[float(value)]
        np.putmask(best_at[level], np.broadcast_to(t, (size[level],)), r)
        undecided = ~np.broadcast_to(t, (size[level],))
        undecided &= ~np.broadcast_to(f, (size[level],))
        if r > 0 and undecided.any():
            top = top_undecided.setdefault(level, np.zeros(size[level], dtype=np.int8))
            np.putmask(top, undecided, r)
    best = best_at["household"][pos]
    np.maximum(best, best_at["member"], out=best)
    unknown = np.zeros(n, dtype=bool)
    if "household" in top_undecided:
        unknown |= top_undecided["household"][pos] > best
    if "member" in top_undecided:
        unknown |= top_undecided["member"] > best
    return np.array(values)[best], unknown


def eligibility_columns(rules: RulesAt, households: pd.DataFrame, pos: np.ndarray, n_members: int,
                        e: Eligibility) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contract §2.1/§2.2 eligibility columns. Each value is what its own condition decides (Kleene): a status, an
    item or a share whose condition reads the class is empty when the class is unknown unless its other inputs decide
    it (newly escaped poverty reads the exit date only; an item open to newly escaped households is eligible for one
    whose class is unknown; a child under 6 has the state pay the premium whatever the class)."""
    n = len(households)
    classes = [c.id for c in rules.regime.classification.classes]
    none = e.class_codes == len(classes)

    hh: dict[str, Any] = {}
    for sid, tri in e.statuses.items():  # in the rules' order: the shared sets', then the program's
        hh[sid] = _bool_array(tri, n)
    hh["eligibility_class"] = pd.Categorical.from_codes(np.where(none, -1, e.class_codes), categories=classes)
    given = np.zeros(n, dtype=bool)
    if "recognised_class" in households.columns:
        rc = as_col(households["recognised_class"])
        given = rc.values >= 0 if rc.missing is None else ~rc.missing & (rc.values >= 0)
    hh["class_mismatch"] = None  # filled by assemble, which knows the computed class
    mem: dict[str, Any] = {}
    for sr_out, shares in e.shares.items():
        best, unknown = share_values(shares, pos, n)
        best[unknown] = 0.0
        mem[sr_out] = pd.arrays.FloatingArray(best, unknown)
    for item, (tri, level) in e.items.items():
        if level == "household":
            hh[f"eligible_{item}"] = _bool_array(tri, n)
            groups = e.priority.get(item, {})
            order = [x for x in rules.regime.program.priority_order if x in groups]
            # each household's groups as bits (in the program's order); categories are the ';'-joined group lists
            bits = np.zeros(n, dtype=np.uint8)  # one bit per group: at most 8 (vocabulary.MAX_PRIORITY_GROUPS)
            may = ~np.broadcast_to(tri[1], (n,))  # groups rank the eligible: none for a known "no"
            for b, g in enumerate(order):
                hit = np.broadcast_to(groups[g][0], (n,)) & may
                bits |= hit.view(np.uint8) << np.uint8(b)
            seen = np.bincount(bits, minlength=1 << len(order))
            present = np.flatnonzero(seen)
            lut = np.full(1 << len(order), -1, dtype=np.int16)
            lut[present] = np.arange(len(present))
            codes = lut[bits]
            categories = [";".join(g for b, g in enumerate(order) if int(v) >> b & 1) for v in present]
            hh[f"priority_{item}"] = pd.Categorical.from_codes(codes, categories=categories)
        else:
            mem[f"eligible_{item}"] = _bool_array(tri, n_members)
    return hh, {"given": given, "mem": mem}


def encode_undecided(n: int, rows: np.ndarray, field_sets: list[set[str]]) -> tuple[np.ndarray, list[str]]:
    """Per-household codes of the sorted, ';'-joined input names of `field_sets` (one set per row of `rows`)."""
    codes = np.zeros(n, dtype=np.int64)
    names = [""]
    index: dict[str, int] = {}
    for r, fields in zip(rows, field_sets):
        text = ";".join(sorted(fields))
        if text not in index:
            index[text] = len(names)
            names.append(text)
        codes[r] = index[text]
    return codes, names


def encode_undecided_masks(n: int, rows: np.ndarray, fields: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """The same codes from one mask over `rows` per input name (vectorized: one pass per name, not per row)."""
    codes = np.zeros(n, dtype=np.int64)
    if not len(rows):
        return codes, [""]
    combos = np.full(len(rows), "", dtype=object)
    for name in sorted(fields):
        combos[fields[name]] = combos[fields[name]] + (";" + name)
    found, uniques = pd.factorize(pd.Series(combos, dtype=object))
    codes[rows] = found + 1
    return codes, [""] + [u.lstrip(";") for u in uniques]


def _bool_array(tri: Tri, n: int) -> pd.arrays.BooleanArray:
    t = np.broadcast_to(tri[0], (n,)).copy()
    f = np.broadcast_to(tri[1], (n,))
    return pd.arrays.BooleanArray(t, ~(t | f))


def assemble(rules: RulesAt, households: pd.DataFrame, n_members: int, d: Decided):
    """(household columns, member columns, render): the classification result columns and the function that renders
    reason keys as text."""
    regime = rules.regime
    ind_ids = regime.ruleset.indicators
    if len(ind_ids) > 16:  # reasons pack indicator masks in 16 bits
        raise RulesError(f"{regime.id}: {len(ind_ids)} indicators; at most 16 are supported",
                         code="too_many_indicators")
    n = len(households)
    dep_mask = np.zeros(n, dtype=np.int32)
    unk_mask = np.zeros(n, dtype=np.int32)
    known = np.zeros(n, dtype=np.int8)
    unknown_count = np.zeros(n, dtype=np.int8)
    deprived_cols = {}
    for bit, ind in enumerate(ind_ids):
        t, f = (np.broadcast_to(x, (n,)) for x in d.indicators[ind])
        unknown = ~(t | f)
        deprived_cols[f"deprived_{ind}"] = pd.arrays.BooleanArray(t.copy(), unknown)
        known += t
        unknown_count += unknown
        dep_mask[np.flatnonzero(t)] |= 1 << bit  # deprivations and unknowns are sparse: set bits where they are
        unk_mask[np.flatnonzero(unknown)] |= 1 << bit

    classes = regime.classification.classes
    class_ids = [c.id for c in classes] + ["unknown"]
    cls = d.class_index
    undecided_code, undecided_names = d.undecided

    area = as_col(households["area"]) if "area" in households.columns else None
    line_param = rules.params[regime.classification.income_line]
    if isinstance(line_param, dict):
        values = [line_param.get(c) for c in (area.categories if area is not None else [])]
        lut = np.array([np.nan if v is None else float(v) for v in values] + [np.nan])
        line = lut[area.values] if area is not None else np.full(n, np.nan)
    else:
        line = np.full(n, float(line_param))
    no_line = np.isnan(line)

    def missing(name: str) -> np.ndarray:
        if name not in households.columns:
            return np.ones(n, dtype=bool)
        c = as_col(households[name])
        return c.missing if c.missing is not None else np.zeros(n, dtype=bool)

    income = regime.classification.income  # the income measure, and the score read when it is empty
    no_score = missing(income.score) if income.score is not None else np.ones(n, dtype=bool)
    basis = np.where(~missing(income.field), BASIS_INCOME, np.where(~no_score, BASIS_SCORE, BASIS_NONE))
    area_code = area.values.astype(np.int64) + 1 if area is not None else np.zeros(n, dtype=np.int64)
    key = np.left_shift(undecided_code, 40, dtype=np.int64)  # built in place: one array, not one per field
    key |= np.left_shift(unk_mask, 24, dtype=np.int64)
    key |= np.left_shift(dep_mask, 8, dtype=np.int64)
    key |= np.left_shift(basis, 6, dtype=np.int64)
    key |= np.left_shift(area_code, 3, dtype=np.int64)
    key |= cls
    area_names = [None] + (area.categories if area is not None else [])

    def render(keys, lang: str) -> list[str]:
        """Text of each of the distinct reason keys `keys` (values of the `reasons` column), in `lang`."""
        texts = []
        for k in keys:
            k = int(k)
            c_i, a_i, b_i = k & 7, (k >> 3) & 7, (k >> 6) & 3
            dm, um, uc = (k >> 8) & 0xFFFF, (k >> 24) & 0xFFFF, k >> 40
            a = area_names[a_i] if a_i < len(area_names) else None
            line_v = line_param.get(a) if isinstance(line_param, dict) else line_param
            texts.append(household_reason(
                regime=regime, class_id=class_ids[c_i], area=a, line=line_v, basis=b_i,
                deprived=[ind_ids[b] for b in range(len(ind_ids)) if dm >> b & 1],
                unknown=[ind_ids[b] for b in range(len(ind_ids)) if um >> b & 1],
                undecided=undecided_names[uc].split(";") if uc else [], params=rules.params, lang=lang))
        return texts

    out: dict[str, Any] = {
        "household_class": pd.Categorical.from_codes(cls, categories=class_ids),
        "income_line": pd.arrays.IntegerArray(np.where(no_line, 0, line).astype(np.int64), no_line),
        "deprivation_count": known,
        "unknown_count": unknown_count,
        **deprived_cols,
        "undecided_by": pd.Categorical.from_codes(undecided_code - 1, categories=undecided_names[1:]),
        "provisional": np.full(n, bool(rules.provisional_params & d.used_params)),
        # compact codes in the frame (an integer key per situation); rendered once per distinct key when written
        "reasons": key,
    }
    mem: dict[str, Any] = {"age": np.asarray(d.age).astype(np.int16)}
    levels = {x.output: x.level for x in regime.derived.values() if x.output}
    for name, tri in d.member_outputs.items():
        size = n_members if levels[name] == "member" else n
        col = pd.arrays.BooleanArray(np.zeros(size, dtype=bool), np.ones(size, dtype=bool)) if tri is None \
            else _bool_array(tri, size)
        (mem if levels[name] == "member" else out)[name] = col
    if d.eligibility is not None:
        pos = np.asarray(d.eligibility.member_pos, dtype=np.int64)
        e_hh, extra = eligibility_columns(rules, households, pos, n_members, d.eligibility)
        unknown_cls = cls == len(classes)
        mismatch = extra["given"] & (d.eligibility.class_codes != cls)
        e_hh["class_mismatch"] = pd.arrays.BooleanArray(mismatch & ~unknown_cls, unknown_cls.copy())
        out.update(e_hh)
        mem.update(extra["mem"])
    order = [c for c in MEMBER_HEAD if not c.endswith("*")]  # contract §2.2 order, then any other output
    mem = {k: mem[k] for k in order if k in mem} | {k: v for k, v in mem.items() if k not in order}
    return out, mem, render


# ----------------------------------------------------------------------------------------------------------------
# Parameters read (for the `provisional` column): the same for every backend, by one walk of the rules


def params_read(rules: RulesAt) -> set[str]:
    """The parameters the vectorized evaluation reads: every parameter of the evaluated conditions, where an
    `all` / `any` with a child fixed by flags alone (false in `all`, true in `any`) reads only the flags up to it."""
    cache = rules_cache(rules)
    if "params_read" in cache:
        return cache["params_read"]
    regime = rules.regime
    out: set[str] = set()
    seen_vars: set[str] = set()

    def flags(nd):
        return {x.flag for x in walk(nd) if isinstance(x, m.Flag)}

    def ref(k):
        if isinstance(k, m.ParamRef):
            out.add(k.param)

    def ev(nd):  # noqa: C901
        if isinstance(nd, (m.AllOf, m.AnyOf)):
            is_all = isinstance(nd, m.AllOf)
            pending = []
            for child in (nd.all if is_all else nd.any):
                fixed = static(rules, child)
                if fixed is None:
                    pending.append(child)
                    out.update(flags(child))
                elif fixed is not is_all:
                    out.update(flags(child))
                    return
            for child in pending:
                ev(child)
        elif isinstance(nd, m.Not):
            ev(nd.not_)
        elif isinstance(nd, m.Compare):
            ref(nd.op[1])
            if nd.not_applicable is not None:
                ev(nd.not_applicable.when)
        elif isinstance(nd, m.Flag):
            out.add(nd.flag)
        elif isinstance(nd, m.Var):
            if nd.var not in seen_vars:
                seen_vars.add(nd.var)
                ev(regime.derived[nd.var].condition)
        elif isinstance(nd, m.CountOf):
            for child in nd.count_of:
                ev(child)
            ref(nd.op[1])
        elif isinstance(nd, m.CountDeprived):
            for ind in nd.of(rules.indicators):
                ev(ind.deprived_when)
            ref(nd.op[1])
        elif isinstance(nd, m.ReachedAge):
            out.add(nd.reached_age.param)
        elif isinstance(nd, MEMBER_AGGREGATIONS):
            ev(member_child(nd))
            if isinstance(nd, (m.CountMembers, m.ShareOfMembers)):
                ref(nd.op[1])

    for ind in rules.indicators:
        ev(ind.deprived_when)
    for c in regime.classification.classes:
        ev(c.when)
    for d in regime.derived.values():
        if d.output and not (d.enabled_by and not rules.params[d.enabled_by]):
            ev(m.Var(var=d.id))
    cache["params_read"] = out
    return out
