"""Which empty inputs would decide an unknown: the vectorized backend's `undecided_by`.

Only the unknown households are explained, by an evaluator over their rows alone that keeps every node's value (a
`tieuchi.engine.vectorized.Subset`, built by the vectorized backend; `tieuchi explain` passes an evaluator over one
household). It reads the evaluator it is given and imports no backend.
"""
from __future__ import annotations

import numpy as np

from tieuchi.engine.base import Tri
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER, MEMBER_AGGREGATIONS, children, member_child


def undecided_fields(ev, node, level: str, rows: np.ndarray) -> dict[str, np.ndarray]:
    """For each input column, a mask over `rows` (positions at `level`) where that column is empty and feeds an
    unknown part of `node` (for member rows: starting from that member alone). Only the unknown parts are followed:
    known variables and indicators are not. `ev`: a vectorized evaluator over the rows to explain."""
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
            if nd.not_applicable is not None:  # an empty answer where the question cannot apply decides nothing
                where = where & ~(ev.missing(nd.field, lvl) & np.broadcast_to(
                    ev.eval(nd.not_applicable.when, lvl)[0], where.shape))
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
        if isinstance(nd, MEMBER_AGGREGATIONS):
            child = member_child(nd)
            member_where = where[ev.pos] & unknown(ev.eval(child, MEMBER))
            visit(child, MEMBER, member_where)
            return
        for child in children(nd):
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


def _from_level(ev, mask: np.ndarray, from_level: str, to_level: str) -> np.ndarray:
    if from_level == to_level:
        return mask
    if from_level == HOUSEHOLD and to_level == MEMBER:
        return mask[ev.pos]
    return np.bincount(ev.pos[mask], minlength=ev.n_h) > 0
