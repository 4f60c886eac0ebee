"""Which empty inputs would decide an unknown: the vectorized backend's `undecided_by`.

Only the unknown households are explained, by an evaluator over their rows alone that keeps every node's value.
"""
from __future__ import annotations

import functools

import numpy as np

from tieuchi.rulebook import vocabulary as m
from tieuchi.engine.vectorized import HOUSEHOLD, MEMBER, Col, Evaluator, Tri, _child
from tieuchi.rulebook.tree import children as _children


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
            if "_starts" not in p.__dict__:
                p._starts = p.ends - p.member_count + 1  # each household's first member row
            starts = p._starts[rows]
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


def undecided_fields(ev: Evaluator, node, level: str, rows: np.ndarray) -> dict[str, np.ndarray]:
    """For each input column, a mask over `rows` (positions at `level`) where that column is empty and feeds an
    unknown part of `node` (for member rows: starting from that member alone). Only the unknown parts are followed: known variables and indicators are not."""
    out: dict[str, np.ndarray] = {}

    def add(name: str, mask: np.ndarray) -> None:
        if mask.any():
            out[name] = out[name] | mask if name in out else mask

    def unknown(tri: Tri) -> np.ndarray:
        return ~(np.broadcast_to(tri[0], tri[0].shape) | tri[1])

    def visit(nd, lvl: str, where: np.ndarray) -> None:
        """`where`: bool mask at level `lvl` of the rows still being explained."""
        if not where.any():
            return
        if isinstance(nd, m.Compare):
            for name in (nd.field, nd.per):
                if name and name not in ("age", "member_count") and ev.has_field(name, lvl):
                    add_level(name, ev.missing(name, lvl) & where, lvl)
                elif name and name not in ("age", "member_count"):
                    add_level(name, where, lvl)  # a column the survey lacks entirely
            operand = nd.op[1]
            if isinstance(operand, m.ParamRef):
                p = ev.regime.parameters[operand.param]
                if p.keyed_by:
                    add_level(p.keyed_by, ev.missing(p.keyed_by, lvl) & where, lvl)
            return
        if isinstance(nd, (m.Missing, m.Present)):
            return  # always known
        if isinstance(nd, m.Var):
            d = ev.regime.derived[nd.var]
            tri = ev.var(nd.var, lvl)
            visit(d.condition, d.level, _from_level(ev, unknown(tri) & where, lvl, d.level))
            return
        if isinstance(nd, m.CountDeprived):
            for ind in nd.of(ev.rules.indicators):
                visit(ind.deprived_when, HOUSEHOLD, unknown(ev.indicator(ind)) & where)
            return
        if isinstance(nd, (m.AnyMember, m.AllMembers, m.CountMembers, m.ShareOfMembers)):
            child = _child(nd)
            member_where = where[ev.pos] & unknown(ev.eval(child, MEMBER))
            visit(child, MEMBER, member_where)
            return
        for child in _children(nd):
            if isinstance(nd, m.AnyOf):  # inside an unknown `any` a false branch may hold the empty input too
                visit(child, lvl, where)  # (income empty: the "income given" branch is false, yet income decides)
            else:
                visit(child, lvl, where & unknown(ev.eval(child, lvl)))

    def add_level(name: str, mask: np.ndarray, lvl: str) -> None:
        if lvl == MEMBER:
            mask = np.bincount(ev.pos[mask], minlength=ev.n_h) > 0
        add(name, mask)

    start = np.zeros(ev.n(level), dtype=bool)
    start[rows] = True
    try:
        visit(node, level, start)
    finally:
        visit = None  # noqa: F841 - a recursive closure is a reference cycle: it would keep `ev` alive until a GC
    at = ev.pos[rows] if level == MEMBER else rows  # masks are per household: a member row reads its household's
    return {k: v[at] for k, v in out.items()}


def _from_level(ev: Evaluator, mask: np.ndarray, from_level: str, to_level: str) -> np.ndarray:
    if from_level == to_level:
        return mask
    if from_level == HOUSEHOLD and to_level == MEMBER:
        return mask[ev.pos]
    return np.bincount(ev.pos[mask], minlength=ev.n_h) > 0
