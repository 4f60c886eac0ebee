"""The condition tree of the vocabulary, walked the one way every reader of it walks it.

A condition (`vocabulary.Condition`) is a tree: junctions (`all`, `any`, `not`, `count_of`) and member aggregations
(`any_member`, `all_members`, `count_members`, `share_of_members`) have children; comparisons, variables, flags and
the other leaves have none — except a comparison that declares where its question cannot apply, whose child is
that applicability condition (`not_applicable: {when: …}`, at the comparison's level). The checks, the engines and
the explanations find children here, and nowhere else, so a new node type is taught to every one of them at once.
Pure rulebook: no survey rows, no arrays.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tieuchi.rulebook import vocabulary as m

HOUSEHOLD, MEMBER = "household", "member"  # the two levels a condition is read at
MEMBER_AGGREGATIONS = (m.AnyMember, m.AllMembers, m.CountMembers, m.ShareOfMembers)  # household nodes over members


def children(cond) -> list:
    """The direct children of a condition node, in the order the rule file gives them ([] for a leaf)."""
    if isinstance(cond, m.AllOf):
        return list(cond.all)
    if isinstance(cond, m.AnyOf):
        return list(cond.any)
    if isinstance(cond, m.Not):
        return [cond.not_]
    if isinstance(cond, m.AnyMember):
        return [cond.any_member]
    if isinstance(cond, m.AllMembers):
        return [cond.all_members]
    if isinstance(cond, m.CountMembers):
        return [cond.count_members]
    if isinstance(cond, m.ShareOfMembers):
        return [cond.share_of_members]
    if isinstance(cond, m.CountOf):
        return list(cond.count_of)
    if isinstance(cond, m.Compare) and cond.not_applicable is not None:
        return [cond.not_applicable.when]
    return []


def walk(cond) -> list:
    """Every node of a condition tree, depth first."""
    out = [cond]
    for child in children(cond):
        out.extend(walk(child))
    return out


def reasoned_branches(cond) -> list:
    """The branches of every `any` of a condition that give a reason of their own (`reason:` beside the branch), in
    the order the rule file gives them — outside member aggregations and applicability conditions: a branch read at
    the condition's own level. Lists and explanations show the reasons of those that hold."""
    out = []

    def visit(nd) -> None:
        if isinstance(nd, MEMBER_AGGREGATIONS) or isinstance(nd, m.Compare):
            return
        for child in children(nd):
            if isinstance(nd, m.AnyOf) and child.reason is not None:
                out.append(child)
            visit(child)

    visit(cond)
    return out


def member_child(cond):
    """The member-level condition of a member aggregation (`any_member: {…}` → the `{…}`)."""
    if not isinstance(cond, MEMBER_AGGREGATIONS):
        raise TypeError(type(cond).__name__)
    return children(cond)[0]


def static(cond, params: Mapping[str, Any]) -> bool | None:
    """The value of a condition that depends on parameters only — a flag, its negation, `all` / `any` whose value
    the flags among their children already fix — given the parameter values in force; None when data decides."""
    if isinstance(cond, m.Flag):
        return bool(params[cond.flag])
    if isinstance(cond, m.Not):
        inner = static(cond.not_, params)
        return None if inner is None else not inner
    if isinstance(cond, (m.AllOf, m.AnyOf)):
        values = [static(c, params) for c in children(cond)]
        if isinstance(cond, m.AllOf):
            return False if False in values else (True if all(v is True for v in values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)
    return None
