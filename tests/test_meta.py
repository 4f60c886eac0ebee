"""Meta-tests: every rule is cited and pinned down by cases; regimes neither overlap nor leave gaps."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tieuchi.casework.cases import case_files, load_case_file
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.source import rules_root
from tieuchi.rulebook.tree import walk
from tieuchi.rulebook import vocabulary as m


def regimes():
    return [load_regime(p) for p in discover_regimes()]


def test_every_rule_and_every_parameter_value_carries_a_citation():
    for r in regimes():
        for rule in [*r.derived.values(), *r.indicators.values(), r.classification]:
            assert rule.citation.instrument in r.instruments, rule.id
        for c in r.classification.classes:
            assert c.citation.instrument in r.instruments, c.id
        for p in r.parameters.values():
            for v in p.values:
                assert v.citation.instrument in r.instruments, p.id


def test_every_open_or_likely_parameter_says_why_in_a_note_or_is_listed_as_not_established():
    for r in regimes():
        for p in r.parameters.values():
            if p.confidence in ("open", "likely"):
                assert p.notes or p.id in r.ruleset.not_established or any(v.citation.note for v in p.values), p.id
        for pid in r.ruleset.not_established:
            assert r.parameters[pid].confidence == "open", pid


def test_every_rule_and_every_parameter_is_covered_by_cases():
    for r in regimes():
        cases = [c for f in case_files(r.root) for c in load_case_file(f)]
        covered = {c.rule for c in cases} | {x for c in cases for x in c.covers}
        own = set(r.program.derived) | set(r.program.parameters) if r.program else set()  # pinned by program cases
        own |= {x for s in r.shared for x in [*s.derived, *s.parameters]}  # and by the shared sets' own cases
        rules = set(r.indicators) | {d for d in r.derived if d not in own} | {"classification"} | \
            {c.id for c in r.classification.classes}
        # a class is covered by a case that expects it
        covered |= {c.expect.get("household_class") for c in cases}
        missing_rules = sorted(rules - covered)
        assert not missing_rules, f"rules without cases: {missing_rules}"
        missing_params = sorted(set(r.parameters) - own - covered)
        assert not missing_params, f"parameters without cases: {missing_params}"


def test_every_indicator_has_cases_for_deprived_not_deprived_and_unknown():
    for r in regimes():
        cases = [c for f in case_files(r.root) for c in load_case_file(f)]
        for ind in r.indicators:
            seen = {c.expect.get(f"deprived_{ind}", "absent") for c in cases}
            assert {True, False, None} <= seen, f"{ind}: cases cover {seen}"


def test_regimes_neither_overlap_nor_leave_gaps_between_them():
    windows = sorted((r.ruleset.validity.start, r.ruleset.validity.end) for r in regimes())
    for (_, e1), (s2, _) in zip(windows, windows[1:]):
        assert e1 is not None and e1 + dt.timedelta(days=1) == s2, (e1, s2)


def test_the_rules_ship_with_the_package_folder_and_hold_only_yaml():
    root = rules_root()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".yaml" for p in files), [p for p in files if p.suffix != ".yaml"]


def test_every_condition_node_in_the_rules_is_one_the_model_knows():
    for r in regimes():
        for rule in [*r.derived.values()]:
            assert all(isinstance(n, m.BaseModel) for n in walk(rule.condition))


# ---------------------------------------------------------------------------------------------------------- programs

def _program_cases(r):
    return [c for f in case_files(r.program.root) for c in load_case_file(f)]


def _params_used(r) -> set[str]:
    pr = r.program
    nodes = [n for d in pr.derived.values() for n in walk(d.condition)]
    for item in pr.items.values():
        nodes += walk(item.eligible_when) + [n for c in item.priority.values() for n in walk(c)]
    used = set()
    for sr in pr.shares.values():
        for sh in sr.shares:
            nodes += walk(sh.when)
            if isinstance(sh.value, m.ParamRef):
                used.add(sh.value.param)
    for n in nodes:
        if isinstance(n, m.Flag):
            used.add(n.flag)
        elif isinstance(n, m.WithinMonths) and isinstance(n.within_months.months, m.ParamRef):
            used.add(n.within_months.months.param)
        elif isinstance(n, (m.Compare, m.CountOf, m.CountMembers, m.ShareOfMembers)):
            ref = n.op[1]
            if isinstance(ref, m.ParamRef):
                used.add(ref.param)
    return used & set(pr.parameters)


def test_every_program_item_share_and_status_is_cited_and_covered_by_cases():
    for r in regimes():
        if r.program is None:
            continue
        pr = r.program
        for x in [pr.program, *pr.items.values(), *pr.shares.values(), *pr.derived.values()]:
            assert x.citation.instrument in r.instruments, x.id
        for sr in pr.shares.values():
            assert all(sh.citation.instrument in r.instruments for sh in sr.shares), sr.id
        cases = _program_cases(r)
        covered = {c.rule for c in cases} | {x for c in cases for x in c.covers}
        wanted = set(pr.items) | set(pr.shares) | set(pr.derived) | _params_used(r)
        assert not sorted(wanted - covered), f"program rules without cases: {sorted(wanted - covered)}"


def test_every_program_item_has_cases_for_eligible_not_eligible_and_unknown():
    for r in regimes():
        if r.program is None:
            continue
        cases = _program_cases(r)
        for item, rule in r.program.items.items():
            col = f"eligible_{item}"
            if rule.unit == "household":
                seen = {c.expect[col] for c in cases if col in c.expect}
            else:
                seen = {mb[col] for c in cases for mb in (c.expect.get("members") or {}).values() if col in mb}
            assert {True, False, None} <= seen, f"{item}: cases cover {seen}"


def test_every_open_program_parameter_says_why_in_a_note():
    for r in regimes():
        if r.program is None:
            continue
        for p in r.program.parameters.values():
            if p.confidence in ("open", "likely"):
                assert p.notes or any(v.citation.note for v in p.values), p.id


def test_the_data_contract_in_docs_is_the_shared_specification_word_for_word():
    """docs/data-contract.md is a copy users and messages can point at; it is kept in step with the specification
    the project is given (checked wherever that specification is at hand: a clone alone does not carry it)."""
    root = Path(__file__).resolve().parents[1]
    ours = root / "docs" / "data-contract.md"
    assert ours.is_file() and "# tieuchi data contract" in ours.read_text(encoding="utf-8")
    shared = root.parent / "shared" / "spec" / "data-contract.md"
    if not shared.is_file():
        pytest.skip("the shared specification is not beside this checkout")
    assert ours.read_bytes() == shared.read_bytes()
