"""The vectorized backend: compiles the condition tree into numpy operations over whole tables.

Three-valued (Kleene) logic throughout: a condition's value is a pair of boolean arrays (t, f) — known true, known
false; neither means unknown. Member aggregations count known-true and unknown members per household with
`np.bincount`, so `count_members` and `share_of_members` become ranges [known, known + unknown] that are decided only
when every possible value agrees. Nothing here knows about poverty: it only reads the declarations.
"""
from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from tieuchi.contract.ages import age_in_months, last_start_ended_by, reached_in_earlier_period
from tieuchi.contract.columns import columns
from tieuchi.contract.validate import normalize
from tieuchi.engine.assemble import (Decided, Eligibility, assemble, eligibility_class, encode_undecided_masks,
                                     params_read)
from tieuchi.engine.base import Col, Tri, as_col, member_fields, Render, range_compare, static
from tieuchi.engine.unknowns import undecided_fields
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.regime import RulesAt
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER, MEMBER_AGGREGATIONS, children, member_child, walk


def _const(n: int, value: bool) -> Tri:
    t = np.full(n, bool(value))
    return t, ~t


_NUM_OPS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
            "ge": np.greater_equal}


class Evaluator:
    """Evaluates one regime at one date over typed tables. Results of variables and indicators are memoised."""

    def __init__(self, rules: RulesAt, households: pd.DataFrame, members: pd.DataFrame, member_hh_pos: np.ndarray,
                 birth: np.ndarray, memo_all: bool = False):
        self.rules = rules
        self.regime = rules.regime
        self.hh = households
        self.mem = members
        self.pos = np.asarray(member_hh_pos, dtype=np.int64)
        self.n_h = len(households)
        self.n_m = len(members)
        self.member_count = np.bincount(self.pos, minlength=self.n_h)
        grouped = self.n_m > 0 and bool(np.all(self.pos[1:] >= self.pos[:-1]))  # members in household order
        self.ends = np.cumsum(self.member_count) - 1 if grouped and self.member_count.all() else None
        self.birth = np.asarray(birth).astype("datetime64[D]", copy=False)
        self.age_months = age_in_months(self.birth, rules.day)
        self.age = self.age_months // 12
        self._cols: dict[tuple[str, str], Col] = {}
        self.memo: dict[tuple, Tri] = {}
        self.memo_all = memo_all  # keep every node's value (for explaining unknowns on a small subset only)

    @functools.cached_property
    def first_member_rows(self) -> np.ndarray:
        """Each household's first member row, when members come grouped by household (`ends` is not None)."""
        return self.ends - self.member_count + 1

    # -------------------------------------------------------------------------------------------- inputs
    def col(self, name: str, level: str) -> tuple[Col, str]:
        """The column `name`, from the members table when at member level and it is a member field.
        An optional column the survey does not have is read as all answers missing (unknown, never false)."""
        if level == MEMBER and (name in self.mem.columns or name == "age" or name in member_fields()):
            key = (MEMBER, name)
            if key not in self._cols:
                if name == "age":
                    self._cols[key] = Col("num", self.age, None)
                elif name in self.mem.columns:
                    self._cols[key] = as_col(self.mem[name])
                else:
                    self._cols[key] = Col("absent", np.zeros(self.n_m), np.ones(self.n_m, dtype=bool), [])
            return self._cols[key], MEMBER
        key = (HOUSEHOLD, name)
        if key not in self._cols:
            if name == "member_count":
                self._cols[key] = Col("num", self.member_count, None)
            elif name in self.hh.columns:
                self._cols[key] = as_col(self.hh[name])
            else:  # an optional column the survey does not have: every answer is missing
                self._cols[key] = Col("absent", np.zeros(self.n_h), np.ones(self.n_h, dtype=bool), [])
        return self._cols[key], HOUSEHOLD

    def decide_eligibility_class(self, cls: np.ndarray) -> np.ndarray:
        """Give the conditions of the program and shared sets the household's `eligibility_class`: the recognised
        class where the survey gives one, else `cls`, the computed class (per household: index into the regime's
        classes, their number for unknown). Returns those codes (the same indexing)."""
        rules = self.rules
        class_ids = [c.id for c in rules.regime.classification.classes]
        rec = self.col("recognised_class", HOUSEHOLD)[0] if "recognised_class" in self.hh.columns else None
        codes = eligibility_class(rules, cls, None if rec is None else (rec.values, rec.missing, rec.categories))
        unknown = codes == len(class_ids)
        self._cols[(HOUSEHOLD, "eligibility_class")] = Col("cat", np.where(unknown, -1, codes).astype(np.int64),
                                                           unknown if unknown.any() else None, class_ids)
        return codes

    def household_dates(self, name: str) -> np.ndarray:
        """A household date column as datetime64[D] (NaT when empty), converted once."""
        key = ("dates", name)
        if key not in self.memo:
            self.memo[key] = self.hh[name].to_numpy().astype("datetime64[D]")
        return self.memo[key]

    def has_field(self, name: str, level: str) -> bool:
        return (level == MEMBER and (name in self.mem.columns or name == "age")) or name in self.hh.columns \
            or name == "member_count" or (HOUSEHOLD, name) in self._cols  # e.g. eligibility_class, once decided

    def missing(self, name: str, level: str) -> np.ndarray:
        c, lvl = self.col(name, level)
        n = self.n_m if lvl == MEMBER else self.n_h
        miss = c.missing if c.missing is not None else np.zeros(n, dtype=bool)
        return self._to_level(miss, lvl, level)

    def _to_level(self, arr, from_level: str, to_level: str):
        if from_level == HOUSEHOLD and to_level == MEMBER and isinstance(arr, np.ndarray) and arr.ndim:
            return arr[self.pos]
        return arr

    def _tri_to_level(self, tri: Tri, from_level: str, to_level: str) -> Tri:
        return self._to_level(tri[0], from_level, to_level), self._to_level(tri[1], from_level, to_level)

    def param(self, ref, level: str):
        """A parameter's value at the reference date: a scalar, a list, or an array when keyed by a field."""
        if not isinstance(ref, m.ParamRef):
            return ref
        value = self.rules.params[ref.param]
        p = self.regime.parameters[ref.param]
        if p.keyed_by is None:
            return value
        key, lvl = self.col(p.keyed_by, level)
        values = [value.get(c) for c in key.categories]
        whole = key.missing is None and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        if whole and 0 < len(values) <= 4:  # a few categories: equalities beat a gather over millions of rows
            out = np.full(len(key.values), values[0], dtype=np.int64)
            for code, v in enumerate(values[1:], start=1):
                if v != values[0]:
                    out[key.values == code] = v
            return self._to_level(out, lvl, level)
        if whole:
            lut = np.array(values, dtype=np.int64)  # every key present and every value whole: no NaN needed
        else:
            lut = np.array([np.nan if v is None else float(v) for v in values] + [np.nan])
        return self._to_level(lut[key.values], lvl, level)  # code -1 (missing key) -> the trailing NaN

    # -------------------------------------------------------------------------------------------- evaluation
    def n(self, level: str) -> int:
        return self.n_m if level == MEMBER else self.n_h

    def eval(self, node, level: str) -> Tri:
        if level == MEMBER and isinstance(node, (m.AllOf, m.AnyOf, m.Not)) and self.household_only(node):
            return self._tri_to_level(self.eval(node, HOUSEHOLD), HOUSEHOLD, MEMBER)  # once per household
        key = (id(node), level)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        out = self._eval(node, level)
        if self.memo_all or isinstance(node, _MEMO_NODES):
            self.memo[key] = out
        return out

    def var(self, name: str, level: str) -> Tri:
        d = self.regime.derived[name]
        key = ("var", name)
        if key not in self.memo:
            self.memo[key] = self.eval(d.condition, d.level)
        if d.level == HOUSEHOLD and level == MEMBER:  # program conditions read household variables per member often
            wide = ("var", name, MEMBER)
            if wide not in self.memo:
                self.memo[wide] = self._tri_to_level(self.memo[key], HOUSEHOLD, MEMBER)
            return self.memo[wide]
        return self._tri_to_level(self.memo[key], d.level, level)

    def indicator(self, ind: m.Indicator) -> Tri:
        key = ("indicator", ind.id)
        if key not in self.memo:
            self.memo[key] = self.eval(ind.deprived_when, HOUSEHOLD)
        return self.memo[key]

    def per_household(self, mask: np.ndarray) -> np.ndarray:
        """Members matching `mask`, counted per household: by differences of a running count when members come
        grouped by household and the mask is not sparse, else by counting the positions of the matching members."""
        if self.ends is not None and np.count_nonzero(mask) * 10 > len(mask):
            running = np.cumsum(mask, dtype=np.int32)[self.ends]
            running[1:] -= running[:-1].copy()
            return running
        return np.bincount(self.pos[np.flatnonzero(mask)], minlength=self.n_h)

    def _eval(self, node, level: str) -> Tri:  # noqa: C901 - one branch per node type
        if isinstance(node, (m.AllOf, m.AnyOf)):
            return self._junction(node, level)
        if isinstance(node, m.Not):
            t, f = self.eval(node.not_, level)
            return f, t
        if isinstance(node, m.Compare):
            return self._compare(node, level)
        if isinstance(node, m.Missing):
            miss = self.missing(node.missing, level)
            return miss, ~miss
        if isinstance(node, m.Present):
            miss = self.missing(node.present, level)
            return ~miss, miss
        if isinstance(node, m.Var):
            return self.var(node.var, level)
        if isinstance(node, m.Flag):
            return _const(self.n(level), bool(self.rules.params[node.flag]))
        if isinstance(node, m.CountOf):
            lo = np.zeros(self.n(level), dtype=np.int64)
            unk = np.zeros(self.n(level), dtype=np.int64)
            for child in node.count_of:
                ct, cf = self.eval(child, level)
                lo += ct
                unk += ~(ct | cf)
            op, k = node.op
            return range_compare(lo, lo + unk, op, self.param(k, level))
        if isinstance(node, m.CountDeprived):
            lo, unk = self.deprivation_counts(node)
            op, k = node.op
            return range_compare(lo, lo + unk, op, self.param(k, HOUSEHOLD))
        if isinstance(node, m.ReachedAge):
            key = ("reached_age", node.reached_age.param, node.by_year_reached)  # the same test in several rules
            if key not in self.memo:
                self.memo[key] = self._reached_age(node)
            return self.memo[key]
        if isinstance(node, MEMBER_AGGREGATIONS):
            return self._aggregate(node)
        if isinstance(node, m.WithinMonths):
            return self._within_months(node, level)
        raise TypeError(f"no vectorized compilation for {type(node).__name__}")

    def _reached_age(self, node: m.ReachedAge) -> Tri:
        months = self.param(node.reached_age, MEMBER)
        reached = self.age_months >= months  # NaN months (sex missing) compare false
        if node.by_year_reached:
            reached |= self._reached_earlier(node.reached_age.param)
        if isinstance(months, np.ndarray) and months.dtype.kind == "f":
            known = ~np.isnan(months)
            return reached & known, ~reached & known
        return reached, ~reached  # every member's age limit is known

    def _within_months(self, node: m.WithinMonths, level: str) -> Tri:
        """E ≤ day < E + months (`within`) or E + months ≤ day (`elapsed`), E a household date; unknown when empty."""
        if level == MEMBER:
            return self._tri_to_level(self.eval(node, HOUSEHOLD), HOUSEHOLD, MEMBER)
        spec = node.within_months
        if spec.field not in self.hh.columns:
            nothing = np.zeros(self.n_h, dtype=bool)
            return nothing, nothing
        e = self.household_dates(spec.field)
        known = ~np.isnat(e)
        day = np.datetime64(self.rules.day, "D")
        ended = np.datetime64(last_start_ended_by(self.rules.day, int(self.param(spec.months, HOUSEHOLD))), "D")
        hit = (e <= day) & (e > ended) if spec.mode == "within" else (e <= ended)  # NaT compares false
        return hit & known, ~hit & known

    def household_only(self, node) -> bool:
        """True when a condition reads household fields and variables only."""
        key = ("household_only", id(node))
        if key not in _SHAPE or _SHAPE[key][0] is not node:
            if isinstance(node, m.Compare):
                out = node.field not in member_fields() | {"age"} and (node.per is None or
                                                                        node.per not in member_fields()) \
                    and (node.not_applicable is None or self.household_only(node.not_applicable.when))
            elif isinstance(node, (m.Missing, m.Present)):
                out = (node.missing if isinstance(node, m.Missing) else node.present) not in member_fields()
            elif isinstance(node, m.Var):
                out = self.regime.derived[node.var].level == HOUSEHOLD
            elif isinstance(node, (m.Flag, m.WithinMonths)):
                out = True
            elif isinstance(node, (m.AllOf, m.AnyOf, m.Not)):
                out = all(self.household_only(c) for c in children(node))
            else:
                out = False
            _SHAPE[key] = (node, out)  # the node is kept: an id is only unique while its object lives
        return _SHAPE[key][1]

    def _junction(self, node, level: str) -> Tri:
        """all / any. Children fixed by parameters are folded away. At member level, once the children so far rule
        out most members (`all` known false, `any` known true), the rest is evaluated on the remaining members only:
        most member conditions concern a small population (children, young adults), so this saves most of the work."""
        is_all = isinstance(node, m.AllOf)
        children = []
        for child in (node.all if is_all else node.any):
            fixed = static(self.rules, child)
            if fixed is None:
                children.append(child)
            elif fixed is not is_all:  # a false child of `all`, a true child of `any`: decided for everyone
                return _const(self.n(level), not is_all)
        if not children:
            return _const(self.n(level), is_all)
        if level == MEMBER:  # household-level children: combine them per household, broadcast once
            at_home = [c for c in children if self.household_only(c)]
            if len(at_home) > 1 and len(at_home) < len(children):
                children = [_part_node(node, "household", at_home)] + [c for c in children if c not in at_home]
        t, f = self.eval(children[0], level)
        for k in range(1, len(children)):
            decided = f if is_all else t
            if level == MEMBER and isinstance(decided, np.ndarray) and _weight(children[k:]) >= 3 and \
                    np.count_nonzero(decided) * 2 > len(decided):
                rows = np.flatnonzero(~decided)
                rest = _Rows(self, rows).eval(_rest_node(node, k, children[k:]), level)
                return _scatter(t, f, rest, rows, self.n_m, is_all)
            if level == HOUSEHOLD and not self.memo_all and type(self) is Evaluator and \
                    isinstance(decided, np.ndarray) and _weight(children[k:]) >= 2 and \
                    np.count_nonzero(decided) * 3 > 2 * len(decided):
                return self._narrowed(node, k, children[k:], t, f, is_all)
            ct, cf = self.eval(children[k], level)
            t, f = (t & ct, f | cf) if is_all else (t | ct, f & cf)
        return t, f

    def _narrowed(self, node, k: int, rest: list, t, f, is_all: bool) -> Tri:
        """The rest of a household junction on the households its first children left open: program conditions
        start with the class (a few percent of a survey), so what follows is evaluated on those households only."""
        sub = self._open_subset(f if is_all else t)
        return _scatter(t, f, sub.eval(_rest_node(node, k, rest), HOUSEHOLD), sub.hh_rows, self.n_h, is_all)

    def release(self) -> None:
        """Drop every memoised array and cached subset (subsets refer back to this evaluator: a reference cycle that
        would keep a survey's worth of arrays alive until Python's cycle collector happens to run)."""
        self.memo.clear()
        self._cols.clear()
        self.__dict__.pop("_subsets", None)

    def _open_subset(self, decided: np.ndarray):
        """A household subset over the rows `decided` leaves open, shared by every junction decided by the same array
        (the memoised value of a variable such as program_household)."""
        cache = self.__dict__.setdefault("_subsets", {})
        hit = cache.get(id(decided))
        if hit is not None and hit[0] is decided:
            return hit[1]
        sub = Subset(self, np.flatnonzero(~decided), keep_all=False)
        cache[id(decided)] = (decided, sub)
        return sub

    def _reached_earlier(self, pid: str) -> np.ndarray:
        """Members who reached an earlier value of a dated age while it was in force (Decree 135/2020: the age of the
        year in which it is reached): usually none, or a few just after 1 January."""
        p = self.regime.parameters[pid]
        day = self.rules.day
        periods = [(v, p.values[i + 1].start - dt.timedelta(days=1)) for i, v in enumerate(p.values[:-1])]
        periods = [(v, end) for v, end in periods if end < day]
        out = np.zeros(self.n_m, dtype=bool)
        if not periods or not self.n_m:
            return out
        now = p.at(day).value
        if p.keyed_by is None:
            return reached_in_earlier_period(self.birth, self.age_months, day,
                                             [(float(v.value), end) for v, end in periods], float(now))
        key = self.col(p.keyed_by, MEMBER)[0]
        for code, k in enumerate(key.categories):
            out |= reached_in_earlier_period(self.birth, self.age_months, day,
                                             [(float(v.value[k]), end) for v, end in periods], float(now[k]),
                                             among=key.values == code)
        return out

    def deprivation_counts(self, node: m.CountDeprived) -> tuple[np.ndarray, np.ndarray]:
        chosen = node.of(self.rules.indicators)
        key = ("deprivation_counts", tuple(i.id for i in chosen))
        if key not in self.memo:
            known = np.zeros(self.n_h, dtype=np.int8)
            unknown = np.zeros(self.n_h, dtype=np.int8)
            for ind in chosen:
                t, f = self.indicator(ind)
                known += t
                unknown += ~(t | f)
            self.memo[key] = (known, unknown)
        return self.memo[key]

    def _aggregate(self, node) -> Tri:
        child = member_child(node)
        t, f = self.eval(child, MEMBER)
        t = np.broadcast_to(t, (self.n_m,))
        f = np.broadcast_to(f, (self.n_m,))
        n = self.member_count
        n_true = self.per_household(np.ascontiguousarray(t))
        n_unknown = self.per_household(~(t | f))
        if isinstance(node, m.AnyMember):
            return n_true > 0, (n_true == 0) & (n_unknown == 0)
        if isinstance(node, m.AllMembers):
            n_false = n - n_true - n_unknown
            return n_true == n, n_false > 0
        op, k = node.op
        k = self.param(k, HOUSEHOLD)
        if isinstance(node, m.CountMembers):
            return range_compare(n_true, n_true + n_unknown, op, k)
        # share of members, exactly: n_true / n  op  p / q   <=>  n_true * q  op  p * n
        frac = Fraction(str(k)) if not isinstance(k, Fraction) else k
        return range_compare(n_true * frac.denominator, (n_true + n_unknown) * frac.denominator, op,
                             frac.numerator * n)

    def _compare(self, node: m.Compare, level: str) -> Tri:
        tri = self._answer(node, level)
        if node.not_applicable is None:
            return tri
        # where the question cannot apply, an empty answer makes the comparison false (not unknown)
        t, f = tri
        na = self.missing(node.field, level) & np.broadcast_to(self.eval(node.not_applicable.when, level)[0],
                                                               (self.n(level),))
        return t, f | na

    def _answer(self, node: m.Compare, level: str) -> Tri:
        """The comparison as the answers give it (applicability aside: `_compare`)."""
        op, operand = node.op
        c, lvl = self.col(node.field, level)
        if lvl != level:  # a household field used at member level: evaluate once per household, then broadcast
            return self._tri_to_level(self._answer(node, HOUSEHOLD), HOUSEHOLD, level)
        value = self.param(operand, level)
        if c.kind == "absent":
            nothing = np.zeros(self.n(level), dtype=bool)
            return nothing, nothing
        known = ~c.missing if c.missing is not None else None
        if c.kind == "cat":
            result = self._categorical(c, op, value)
        elif c.kind == "bool" or op == "is":
            if op == "is":
                result = c.values == bool(value)
            elif op in ("eq", "ne"):
                result = _NUM_OPS[op](c.values, bool(value))
            else:
                raise TypeError(f"{node.field}: operator '{op}' does not apply to a yes/no field")
        else:
            v = c.values
            if op in ("in", "not_in"):
                result = np.isin(v, np.asarray(value, dtype=float))
                result = ~result if op == "not_in" else result
            else:
                if node.per:
                    per, _ = self.col(node.per, level)
                    value = value * per.values  # field / per  op  value   <=>  field  op  value × per  (per > 0)
                    if per.missing is not None:
                        known = ~per.missing if known is None else known & ~per.missing
                result = _NUM_OPS[op](v, value)
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                bad = np.isnan(value)
                if bad.any():
                    known = ~bad if known is None else known & ~bad
        if known is None:
            return result, ~result
        return result & known, ~result & known

    @staticmethod
    def _categorical(c: Col, op: str, value) -> np.ndarray:
        cats = c.categories
        if op in ("eq", "ne"):
            lut = np.array([x == str(value) for x in cats] + [False])
        elif op in ("in", "not_in"):
            wanted = {str(x) for x in value}
            lut = np.array([x in wanted for x in cats] + [False])
        elif op == "contains_any":
            wanted = {str(x) for x in value}
            lut = np.array([bool(wanted & set(x.split(";"))) for x in cats] + [False])
        else:
            raise TypeError(f"operator '{op}' does not apply to a coded field")
        hits = np.flatnonzero(lut[:-1])
        misses = np.flatnonzero(~lut[:-1])
        if min(len(hits), len(misses)) <= 6:  # a few equalities beat a gather over millions of rows
            result = np.zeros(len(c.values), dtype=bool)
            for code in (hits if len(hits) <= len(misses) else misses):
                result |= c.values == code
            if len(hits) > len(misses):  # matched the complement: flip, and keep missing codes (-1) false
                result = ~result & (c.values >= 0)
        else:
            result = lut[c.values]  # code -1 (missing) -> trailing False; masked as unknown by the caller
        return ~result if op in ("ne", "not_in") else result


_REST: dict[tuple[int, int], Any] = {}


def _scatter(t, f, rest: Tri, rows: np.ndarray, n: int, is_all: bool) -> Tri:
    """Combine a junction's first children (t, f over all n rows) with the rest, evaluated on the open `rows` only
    (where the first children left the junction undecided)."""
    st, sf = rest
    t_all = np.zeros(n, dtype=bool)
    f_all = np.zeros(n, dtype=bool)
    if is_all:  # f is false on `rows`
        t_all[rows] = np.broadcast_to(t, (n,))[rows] & st
        f_all[rows] = sf
        return t_all, f | f_all
    t_all[rows] = st
    f_all[rows] = np.broadcast_to(f, (n,))[rows] & sf
    return t | t_all, f_all


def _rest_node(node, k: int, rest: list):
    """The junction of the children of `node` from the k-th on (cached, so memo keys stay stable)."""
    key = (id(node), k)
    if key not in _REST or _REST[key]._keep is not node:
        _REST[key] = (m.AllOf if isinstance(node, m.AllOf) else m.AnyOf).model_construct(
            **({"all": rest} if isinstance(node, m.AllOf) else {"any": rest}))
        _REST[key]._keep = node  # keep the original alive while its id is a cache key
    return _REST[key]


_SHAPE: dict[tuple, tuple] = {}


def _weight(nodes: list) -> int:
    """How many comparisons a list of conditions holds: narrowing to a subset pays only for several."""
    total = 0
    for node in nodes:
        key = ("weight", id(node))
        if key not in _SHAPE or _SHAPE[key][0] is not node:
            _SHAPE[key] = (node, sum(1 for n in walk(node) if isinstance(n, (m.Compare, m.ReachedAge, m.Var))))
        total += _SHAPE[key][1]
    return total


def _part_node(node, tag: str, parts: list):
    """A junction like `node` over some of its children (cached by identity, so memo keys stay stable)."""
    key = (id(node), tag)
    if key not in _REST or _REST[key]._keep is not node:
        _REST[key] = (m.AllOf if isinstance(node, m.AllOf) else m.AnyOf).model_construct(
            **({"all": parts} if isinstance(node, m.AllOf) else {"any": parts}))
        _REST[key]._keep = node
    return _REST[key]


class _Rows(Evaluator):
    """The same evaluation restricted to some members (`rows`): member columns and member variables are the parent's,
    sliced; household values are shared."""

    def __init__(self, parent: Evaluator, rows: np.ndarray):  # noqa: D107 - no super().__init__: everything is derived
        self.parent = parent
        self.rows = rows
        self.rules, self.regime = parent.rules, parent.regime
        self.hh, self.mem = parent.hh, parent.mem
        self.n_h, self.n_m = parent.n_h, len(rows)
        self.member_count = parent.member_count
        self.ends = None
        self._cols = {}
        self.memo = {}
        self.memo_all = parent.memo_all

    # sliced on first use only: most subsets read a column or two
    pos = functools.cached_property(lambda self: self.parent.pos[self.rows])
    age_months = functools.cached_property(lambda self: self.parent.age_months[self.rows])
    age = functools.cached_property(lambda self: self.parent.age[self.rows])
    birth = functools.cached_property(lambda self: self.parent.birth[self.rows])

    def col(self, name: str, level: str) -> tuple[Col, str]:
        c, lvl = self.parent.col(name, level)
        if lvl != MEMBER or name == "age":
            return (Col("num", self.age, None), MEMBER) if name == "age" and lvl == MEMBER else (c, lvl)
        key = (MEMBER, name)
        if key not in self._cols:
            self._cols[key] = Col(c.kind, c.values[self.rows], None if c.missing is None else c.missing[self.rows],
                                  c.categories)
        return self._cols[key], MEMBER

    def var(self, name: str, level: str) -> Tri:
        d = self.regime.derived[name]
        if d.level == MEMBER:
            t, f = self.parent.var(name, MEMBER)
            return np.broadcast_to(t, (self.parent.n_m,))[self.rows], np.broadcast_to(f, (self.parent.n_m,))[self.rows]
        return self._tri_to_level(self.parent.var(name, HOUSEHOLD), HOUSEHOLD, level)


class Subset(Evaluator):
    """The evaluation restricted to some households and all their members. Columns, variables and indicators are the
    parent's, sliced: nothing is read from the tables again. `keep_all` keeps every node's value (to explain unknowns).
    The member side (rows, positions, ages) is computed on first use: many subsets read household values only."""

    def __init__(self, parent: Evaluator, hh_rows: np.ndarray, keep_all: bool = True):  # noqa: D107
        self.parent, self.hh_rows = parent, hh_rows
        self.rules, self.regime = parent.rules, parent.regime
        self.hh, self.mem = parent.hh, parent.mem
        self.n_h = len(hh_rows)
        self.member_count = parent.member_count[hh_rows]
        self.ends = None
        self._cols = {}
        self.memo = {}
        self.memo_all = keep_all

    @functools.cached_property
    def _members(self) -> tuple[np.ndarray, np.ndarray]:
        """(member rows, position of each one's household in the subset)."""
        p, rows, count = self.parent, self.hh_rows, self.member_count
        local = np.repeat(np.arange(len(rows)), count)
        if p.ends is not None:  # members grouped by household: their rows are ranges, found without a full pass
            starts = p.first_member_rows[rows]
            offsets = np.arange(len(local)) - np.repeat(np.cumsum(count) - count, count)
            return starts[local] + offsets, local
        flag = np.zeros(p.n_h, dtype=bool)
        flag[rows] = True
        mflag = flag[p.pos]
        return np.flatnonzero(mflag), (np.cumsum(flag) - 1)[p.pos[mflag]]

    mem_rows = functools.cached_property(lambda self: self._members[0])
    pos = functools.cached_property(lambda self: self._members[1])
    n_m = functools.cached_property(lambda self: len(self._members[0]))
    birth = functools.cached_property(lambda self: self.parent.birth[self.mem_rows])
    age_months = functools.cached_property(lambda self: self.parent.age_months[self.mem_rows])
    age = functools.cached_property(lambda self: self.parent.age[self.mem_rows])

    def _slice(self, arr, level: str):
        rows = self.mem_rows if level == MEMBER else self.hh_rows
        return np.broadcast_to(arr, (self.parent.n(level),))[rows] if isinstance(arr, np.ndarray) else arr

    def col(self, name: str, level: str) -> tuple[Col, str]:
        if name == "age" and level == MEMBER:
            return Col("num", self.age, None), MEMBER
        if name == "member_count":
            return Col("num", self.member_count, None), HOUSEHOLD
        c, lvl = self.parent.col(name, level)
        key = (lvl, name)
        if key not in self._cols:
            self._cols[key] = Col(c.kind, self._slice(c.values, lvl),
                                  None if c.missing is None else self._slice(c.missing, lvl), c.categories)
        return self._cols[key], lvl

    def household_dates(self, name: str) -> np.ndarray:
        if ("dates", name) in self.parent.memo:
            return self.parent.memo[("dates", name)][self.hh_rows]
        return self.hh[name].to_numpy()[self.hh_rows].astype("datetime64[D]")  # the subset's rows only

    def var(self, name: str, level: str) -> Tri:
        d = self.regime.derived[name]
        t, f = self.parent.var(name, d.level)
        return self._tri_to_level((self._slice(t, d.level), self._slice(f, d.level)), d.level, level)

    def indicator(self, ind: m.Indicator) -> Tri:
        t, f = self.parent.indicator(ind)
        return self._slice(t, HOUSEHOLD), self._slice(f, HOUSEHOLD)


def evaluator_for(rules: RulesAt, households: pd.DataFrame, members: pd.DataFrame, keep_all: bool = False
                  ) -> Evaluator:
    """An evaluator over rows of a classified survey (a `Result`'s households and members, or some of them): their
    data contract input columns, and `eligibility_class` when given (program and plan conditions read it), typed and
    dated the way `classify` does it, so that conditions read exactly what the classification read. `keep_all`: keep
    every node's value (to explain a household)."""
    hh_cols = [c for c in columns("households") if c in households.columns]
    if "eligibility_class" in households.columns:
        hh_cols.append("eligibility_class")
    mem_cols = [c for c in columns("members") if c in members.columns]
    norm = normalize(households[hh_cols], members[mem_cols], on=rules.day)
    return Evaluator(rules, norm.households, norm.members, norm.member_hh_pos, norm.birth, memo_all=keep_all)


_MEMO_NODES = (m.Var, m.ReachedAge, *MEMBER_AGGREGATIONS, m.CountDeprived)
_EVERY_INDICATOR = m.CountDeprived.model_validate({"count_deprived": "all", "ge": 0})


# ------------------------------------------------------------------------------------------------------------------
# Whole-table classification


def classify_tables(rules: RulesAt, households: pd.DataFrame, members: pd.DataFrame, member_hh_pos: np.ndarray,
                    birth: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], Render]:
    """Result columns (contract §2.1/§2.2, classification part) for typed, validated tables, and a function that
    renders the reason keys of the `reasons` column as text in a language."""
    ev = Evaluator(rules, households, members, member_hh_pos, birth)
    regime = rules.regime
    n = ev.n_h
    indicators = _indicators(ev, rules.indicators)

    classes = regime.classification.classes
    UNKNOWN = len(classes)
    cls = np.full(n, UNKNOWN, dtype=np.int8)
    open_ = np.ones(n, dtype=bool)
    deciding = np.full(n, -1, dtype=np.int8)  # the class whose unknown condition stopped the search
    for i, c in enumerate(classes):
        t, f = ev.eval(c.when, HOUSEHOLD)
        hit = open_ & t
        cls[hit] = i
        stuck = open_ & ~t & ~f
        deciding[stuck] = i
        open_ &= f
    # rows still open were false for every class: a gap in the rules; they stay unknown with no deciding class

    # which empty inputs would decide each unknown household (explained on the unknown households only), and the
    # program's columns: independent, so a large survey does both at once
    if n >= PARALLEL_FROM:
        with ThreadPoolExecutor(max_workers=1) as pool:
            explained = pool.submit(_explain_unknowns, ev, cls, deciding, classes)
            program = eligibility(ev, cls)
            undecided = explained.result()
    else:
        undecided = _explain_unknowns(ev, cls, deciding, classes)
        program = eligibility(ev, cls)
    members_out = {}
    for d in regime.derived.values():
        if d.output:
            members_out[d.output] = None if d.enabled_by and not rules.params[d.enabled_by] else \
                ev.var(d.id, d.level)  # memoised: the same arrays the indicators used
    decided = Decided(indicators=indicators, class_index=cls, undecided=undecided, member_outputs=members_out,
                      age=ev.age, used_params=params_read(rules), eligibility=program)
    n_m = ev.n_m
    ev.release()  # the subsets it caches point back to it: free its arrays now, not at the next garbage collection
    return assemble(rules, households, n_m, decided)


def _explain_unknowns(ev: Evaluator, cls: np.ndarray, deciding: np.ndarray, classes: list):
    """`undecided_by` codes: the empty inputs that would decide each unknown household, found by a small evaluator
    over the unknown households only that keeps every node's value."""
    unknown_rows = np.flatnonzero(cls == len(classes))
    fields: dict[str, np.ndarray] = {}  # input name -> mask over unknown_rows
    if len(unknown_rows):
        sub = Subset(ev, unknown_rows)
        sub_deciding = deciding[unknown_rows]
        # the contract: every empty input feeding the unknown income test or an unknown indicator
        groups = [(_EVERY_INDICATOR, np.arange(len(unknown_rows)))] + \
            [(c.when, np.flatnonzero(sub_deciding == i)) for i, c in enumerate(classes)]
        for node, rows in groups:
            if len(rows):
                for name, mask in undecided_fields(sub, node, HOUSEHOLD, rows).items():
                    full = fields.setdefault(name, np.zeros(len(unknown_rows), dtype=bool))
                    full[rows[mask]] = True
    return encode_undecided_masks(ev.n_h, unknown_rows, fields)


def eligibility(ev: Evaluator, cls: np.ndarray):
    """Household statuses, item eligibility, priority groups and member shares (of the shared sets in force and the
    regime's program), once the class is known: the conditions read `eligibility_class` (recognised_class when given,
    else the computed class). None when no such rules apply."""
    rules = ev.rules
    er = rules.eligibility
    if er is None:
        return None
    codes = ev.decide_eligibility_class(cls)
    items = er.items
    out = Eligibility(class_codes=codes, member_pos=ev.pos)
    for sid in er.statuses:
        out.statuses[sid] = ev.var(sid, HOUSEHOLD)
    levels = [HOUSEHOLD if item.unit == "household" else MEMBER for item in items]
    decided = _in_parallel(ev, [(item.eligible_when, level) for item, level in zip(items, levels)])
    for item, level, tri in zip(items, levels, decided):
        out.items[item.id] = (tri, level)
    out.priority = _priority_groups(ev, [i for i in items if i.unit == "household"], out.items)
    for sr in er.shares:
        out.shares[sr.output] = [
            (float(ev.param(sh.value, lvl)), ev.eval(sh.when, lvl), lvl)
            for sh in sr.shares for lvl in [HOUSEHOLD if ev.household_only(sh.when) else MEMBER]]
    return out


def _priority_groups(ev: Evaluator, items, decided: dict) -> dict[str, dict[str, Tri]]:
    """Priority groups rank the eligible only (assemble drops them where the item is known false), so they are
    evaluated on the households some item may support — usually a small share of a survey — and scattered back."""
    if not any(i.priority for i in items):
        return {}
    n = ev.n_h
    open_ = np.zeros(n, dtype=bool)
    for i in items:
        open_ |= ~np.broadcast_to(decided[i.id][0][1], (n,))
    rows = np.flatnonzero(open_)
    if len(rows) * 2 > n:  # most households: a subset would cost more than it saves
        return {i.id: {g: ev.eval(c, HOUSEHOLD) for g, c in i.priority.items()} for i in items}
    sub = Subset(ev, rows, keep_all=False)
    out: dict[str, dict[str, Tri]] = {}
    same: dict[str, Tri] = {}  # items often declare the same group condition: decided once
    for i in items:
        out[i.id] = {}
        for g, c in i.priority.items():
            text = c.model_dump_json()
            if text not in same:
                st, sf = sub.eval(c, HOUSEHOLD)
                t = np.zeros(n, dtype=bool)
                f = ~open_  # outside the subset: no group (the item is known false there)
                t[rows] = st
                f[rows] = sf
                same[text] = (t, f)
            out[i.id][g] = same[text]
    return out


def _indicators(ev: Evaluator, indicators: list) -> dict[str, Tri]:
    """Every indicator of the regime (on two threads for a large survey, see `_in_parallel`)."""
    done = _in_parallel(ev, [(ind.deprived_when, HOUSEHOLD) for ind in indicators],
                        lambda nd, level, ind: ev.indicator(ind), indicators)
    return {ind.id: tri for ind, tri in zip(indicators, done)}


def _in_parallel(ev: Evaluator, jobs: list[tuple[Any, str]], run=None, extra=None) -> list[Tri]:
    """Evaluate independent conditions, on two threads for a large survey: numpy releases the GIL on whole-column
    operations. The variables several of them read are computed first, on this thread, so that no two threads
    compute the same one (results are memoised; a race would only repeat work, never change a value)."""
    run = run or (lambda nd, level, _: ev.eval(nd, level))
    extra = extra or [None] * len(jobs)
    if ev.n_h < PARALLEL_FROM or len(jobs) < 2:
        return [run(nd, level, x) for (nd, level), x in zip(jobs, extra)]
    uses: dict[tuple[str, str], int] = {}
    for nd, _ in jobs:
        for sub in walk(nd):
            if isinstance(sub, m.Var):
                key = (sub.var, ev.regime.derived[sub.var].level)
                uses[key] = uses.get(key, 0) + 1
    for (name, level), n in uses.items():
        if n > 1:
            ev.var(name, level)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: run(job[0][0], job[0][1], job[1]), zip(jobs, extra)))


PARALLEL_FROM = 200_000  # households: below this, threads cost more than they save

