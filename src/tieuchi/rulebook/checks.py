"""Cross-checks: every name a rule uses must exist, at the right level.

Pydantic checks the shape of one file; these check what ties files together. A citation names an instrument of
rules/instruments.yaml (or of the overlay that declares it); a condition names fields of the data contract, variables
and parameters that exist, member fields only inside a member aggregation, and codes its field has; a regime's
indicator list matches its indicator files. A regime is checked when it is read (`folders.load_regime`), an overlaid
one when the overlay is applied (`overlays.load_overlay`), a plan's targets against the regime they are measured with
(`plans.check_plan`) — all with the functions below.
"""
from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from tieuchi.contract.columns import columns, known_personal_columns
from tieuchi.errors import RulesError, clip
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.regime import Regime
from tieuchi.rulebook.source import suggest
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER, children, reasoned_branches, walk

HOUSEHOLD_BUILTINS = {"member_count", "eligibility_class"}  # eligibility_class: recognised_class, else computed
IDENTIFIERS = {"household_id"}  # carried through, never used by a rule (nor are the columns.yaml marks personal)
MEMBER_BUILTINS = {"age"}
CITATION_HINT = "add it to rules/instruments.yaml or fix the id"
CITATION_VI_HINT = "thêm văn bản vào rules/instruments.yaml hoặc sửa mã"


def readable_fields() -> tuple[set[str], set[str]]:
    """(household fields, member fields) a rule may read: the data contract's columns (shared with the reader) and
    the values the engines compute for every household (`member_count`, `eligibility_class`) and member (`age`)."""
    return set(columns("households")) | HOUSEHOLD_BUILTINS, set(columns("members")) | MEMBER_BUILTINS


# ----------------------------------------------------------------------------------------------------------------
# Citations


def citation_problem(where: str, owner: str | None, instrument: str,
                     instruments: Mapping[str, m.Instrument]) -> tuple[str, str] | None:
    """(English, Vietnamese) when a citation at `where` (a file, or file:line), of rule `owner` (None: the file's own),
    names an instrument that is not one of `instruments`, with the closest id; None when it is one."""
    if instrument in instruments:
        return None
    sug, sug_vi = suggest(difflib.get_close_matches(instrument, list(instruments), n=1))
    who = f"{where}: {clip(owner)}: " if owner is not None else f"{where}: "
    return (f"{who}citation names unknown instrument '{clip(instrument)}'{sug}",
            f"{who}trích dẫn văn bản không có trong danh mục: '{clip(instrument)}'{sug_vi}")


def check_citations(cited: Iterable[tuple[str, str | None, m.Citation]],
                    instruments: Mapping[str, m.Instrument]) -> None:
    """RulesError for the first of (where, owner, citation) that names an unknown instrument."""
    for where, owner, citation in cited:
        problem = citation_problem(where, owner, citation.instrument, instruments)
        if problem is not None:
            raise RulesError(problem[0], CITATION_HINT, vi=problem[1], vi_hint=CITATION_VI_HINT,
                             code="citation_unknown_instrument")


def citations(r: Regime) -> Iterator[tuple[str, str, m.Citation]]:
    """(file, rule id, citation) of every citation of a regime: its own rules and parameter values, and those of the
    shared sets and the program that apply with it (each named by the file it was read from)."""
    for owner, cite in [(r.ruleset.id, r.ruleset.citation),
                        *[(x.id, x.citation) for x in [*r.derived.values(), *r.indicators.values(),
                                                       r.classification]],
                        *[(c.id, c.citation) for c in r.classification.classes],
                        *[(p.id, v.citation) for p in r.parameters.values() for v in p.values]]:
        yield str(r.files.get(owner, r.root)), owner, cite
    sets = [(s.files, [s.set, *s.shares.values()], s.shares) for s in r.shared]
    if r.program is not None:
        pr = r.program
        sets.append((pr.files, [pr.program, *pr.items.values(), *pr.shares.values()], pr.shares))
    for files, cited, shares in sets:
        for x in cited:
            yield str(files[x.id]), x.id, x.citation
        for sr in shares.values():
            for sh in sr.shares:
                yield str(files[sr.id]), sh.id, sh.citation
    for owner, cond, _ in conditions(r):  # where a question cannot apply, and why
        for n in walk(cond):
            if isinstance(n, m.Compare) and n.not_applicable is not None:
                yield str(r.files.get(owner, r.root)), owner, n.not_applicable.citation


# ----------------------------------------------------------------------------------------------------------------
# Conditions


def conditions(r: Regime) -> Iterator[tuple[str, object, str]]:
    """(owner rule id, condition, level) of every condition of a regime: derived variables, indicators, classes,
    then the shared sets' shares, the program's items (eligibility, priority groups) and shares."""
    for d in r.derived.values():
        yield d.id, d.condition, d.level
    for ind in r.indicators.values():
        yield ind.id, ind.deprived_when, HOUSEHOLD
    for c in r.classification.classes:
        yield r.classification.id, c.when, HOUSEHOLD
    for s in r.shared:
        for sr in s.shares.values():
            for sh in sr.shares:
                yield sr.id, sh.when, MEMBER
    if r.program is not None:
        for item in r.program.items.values():
            yield item.id, item.eligible_when, HOUSEHOLD if item.unit == "household" else MEMBER
            for cond in item.priority.values():
                yield item.id, cond, HOUSEHOLD
        for sr in r.program.shares.values():
            for sh in sr.shares:
                yield sr.id, sh.when, MEMBER


def cross_check(r: Regime) -> None:
    """RulesError for the first name of a regime (with its program and shared sets) that does not exist or is used
    at the wrong level."""
    hh_fields, mem_fields = readable_fields()
    check_citations(citations(r), r.instruments)
    order = r.ruleset.indicators
    missing = [i for i in order if i not in r.indicators]
    extra = [i for i in r.indicators if i not in order]
    if missing or extra:
        raise RulesError(f"{r.files[r.ruleset.id]}: indicators listed and indicator files differ: "
                         f"listed without a file {missing}, files not listed {extra}", code='indicators_mismatch')
    for pid in r.ruleset.not_established:
        if pid not in r.parameters:
            raise RulesError(f"{r.files[r.ruleset.id]}: not_established names unknown parameter '{pid}'",
                             code='parameter_unknown')
    for p in r.parameters.values():
        if p.keyed_by is not None and p.keyed_by not in hh_fields | mem_fields:
            raise RulesError(f"{r.files[p.id]}: parameter '{p.id}' is keyed by unknown field '{p.keyed_by}'",
                             code='field_unknown')
    for d in r.derived.values():
        if d.enabled_by and d.enabled_by not in r.parameters:
            raise RulesError(f"{r.files[d.id]}: enabled_by names unknown parameter '{d.enabled_by}'",
                             code='parameter_unknown')
    for owner, cond, level in conditions(r):
        check_condition(r, r.files.get(owner, r.root), owner, cond, level, hh_fields, mem_fields)
    share_sets = [(s.files, s.shares) for s in r.shared]
    if r.program is not None:
        share_sets.append((r.program.files, r.program.shares))
    for files, shares in share_sets:
        for sr in shares.values():
            for sh in sr.shares:
                if isinstance(sh.value, m.ParamRef) and sh.value.param not in r.parameters:
                    raise RulesError(f"{files[sr.id]}: {sh.id}: unknown parameter '{sh.value.param}'",
                                     code='parameter_unknown')
    cl = r.classification
    income = cl.income
    for key, pid in (("income_line", cl.income_line), ("income.score_cutoff", income.score_cutoff),
                     ("income.average_living_upper", income.average_living_upper)):
        if pid is not None and pid not in r.parameters:
            raise RulesError(f"{r.files[cl.id]}: {key} names unknown parameter '{clip(pid)}'",
                             _fix(pid, r.parameters), code='parameter_unknown')
    for key, name in (("income.field", income.field), ("income.score", income.score)):
        if name is not None and name not in hh_fields:
            raise RulesError(f"{r.files[cl.id]}: {key} names '{clip(name)}', not a household field of the data "
                             "contract", _fix(name, hh_fields), code='field_unknown')
    for d in r.derived.values():
        for text in ((d.reason.vi, d.reason.en) if d.reason is not None else ()):
            for pid in placeholders(text):
                if pid not in r.parameters:
                    raise RulesError(f"{r.files[d.id]}: reason names unknown parameter '{{{clip(pid)}}}'",
                                     _fix(pid, r.parameters), code='parameter_unknown')
    check_branch_reasons(r)


def shown_conditions(r: Regime) -> Iterator[tuple[str, object]]:
    """(owner rule id, condition) of the conditions whose branch reasons lists and explanations show: the
    indicators' `deprived_when` and the program items' `eligible_when`."""
    for ind in r.indicators.values():
        yield ind.id, ind.deprived_when
    if r.program is not None:
        for item in r.program.items.values():
            yield item.id, item.eligible_when


def check_branch_reasons(r: Regime) -> None:
    """RulesError for a `reason:` inside a condition that is not a branch of an `any:` of an indicator or an item
    (nothing would show it), or whose "{name}" is not a parameter."""
    shown = {id(n) for _, cond in shown_conditions(r) for n in reasoned_branches(cond)}
    for owner, cond, _ in conditions(r):
        for n in walk(cond):
            if n.reason is None:
                continue
            where = r.files.get(owner, r.root)
            if id(n) not in shown:
                raise RulesError(f"{where}: {clip(owner)}: a reason is given to a condition that is not a branch of "
                                 "an 'any:' of an indicator's deprived_when or an item's eligible_when (outside "
                                 "member aggregations): nothing would show it",
                                 "move the reason to a branch of an 'any:', or give the rule its own reason",
                                 vi=f"{where}: {clip(owner)}: lý do đặt cho một điều kiện không phải là một nhánh "
                                    "của 'any:' trong deprived_when của chỉ số hoặc eligible_when của hạng mục "
                                    "(ngoài các phép gộp thành viên): không nơi nào hiển thị lý do này",
                                 vi_hint="chuyển lý do sang một nhánh của 'any:', hoặc dùng lý do của chính quy định",
                                 code="reason_not_on_a_branch")
            for text in (n.reason.vi, n.reason.en):
                for pid in placeholders(text):
                    if pid not in r.parameters:
                        raise RulesError(f"{where}: {clip(owner)}: a branch reason names unknown parameter "
                                         f"'{{{clip(pid)}}}'", _fix(pid, r.parameters),
                                         vi=f"{where}: {clip(owner)}: lý do của một nhánh dùng tham số không có: "
                                            f"'{{{clip(pid)}}}'", code='parameter_unknown')


def _fix(name: str, known: Iterable[str]) -> str:
    return "fix the name in the rule file" + suggest(difflib.get_close_matches(name, list(known), n=1))[0]


def placeholders(text: str) -> list[str]:
    """The "{name}" fields of a reason text (parameter ids)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def check_condition(r: Regime, where: Path | str, owner: str, cond, level: str, hh: set, mem: set) -> None:
    """RulesError when condition `cond` of rule `owner`, read at `level`, names a field (of `hh` / `mem`), variable,
    parameter, indicator or code that does not exist, or a member one outside a member aggregation."""
    def fail(msg: str, choices, code: str):
        close = difflib.get_close_matches(msg.split("'")[1] if "'" in msg else "", list(choices), n=1)
        raise RulesError(f"{where}: {owner}: {msg}" + (f" — did you mean '{close[0]}'?" if close else ""),
                         "fix the name in the rule file", code=code)

    def param(ref) -> None:
        if isinstance(ref, m.ParamRef) and ref.param not in r.parameters:
            fail(f"unknown parameter '{clip(ref.param)}'", r.parameters, 'parameter_unknown')

    def field_ok(name: str) -> None:
        if name in IDENTIFIERS or name in known_personal_columns():
            raise RulesError(f"{where}: {owner}: '{clip(name)}' is personal data; rules may not use it",
                             "personal data (names, ids) is carried through but never decides anything",
                             code='rule_uses_personal_data')
        allowed = hh | mem if level == MEMBER else hh
        if name not in allowed:
            if level == HOUSEHOLD and name in mem:
                fail(f"member field '{clip(name)}' used outside a member aggregation (any_member, count_members …)", (),
                     'member_field_outside_aggregation')
            fail(f"unknown field '{clip(name)}'", allowed, 'field_unknown')

    if isinstance(cond, m.Compare):
        field_ok(cond.field)
        if cond.per:
            field_ok(cond.per)
        param(cond.op[1])
        _check_codes(r, where, owner, cond)
    elif isinstance(cond, (m.Missing, m.Present)):
        field_ok(cond.missing if isinstance(cond, m.Missing) else cond.present)
    elif isinstance(cond, m.Var):
        d = r.derived.get(cond.var)
        if d is None:
            fail(f"unknown variable '{clip(cond.var)}'", r.derived, 'variable_unknown')
        if d.level == MEMBER and level == HOUSEHOLD:
            fail(f"member variable '{clip(cond.var)}' used outside a member aggregation", (),
                 'member_field_outside_aggregation')
        if d.id == owner:
            fail(f"variable '{clip(cond.var)}' refers to itself", (), 'variable_refers_to_itself')
    elif isinstance(cond, m.Flag):
        if cond.flag not in r.parameters:
            fail(f"unknown parameter '{clip(cond.flag)}'", r.parameters, 'parameter_unknown')
        if r.parameters[cond.flag].unit != "bool":
            fail(f"flag '{clip(cond.flag)}' is not a bool parameter", (), 'flag_not_bool')
    elif isinstance(cond, m.ReachedAge):
        param(cond.reached_age)
        if level != MEMBER:
            fail("reached_age is a member condition; use it inside a member aggregation", (),
                 'member_field_outside_aggregation')
    elif isinstance(cond, (m.AnyMember, m.AllMembers, m.CountMembers, m.ShareOfMembers)):
        if level == MEMBER:
            fail("member aggregations cannot be nested", (), 'member_aggregation_nested')
        if isinstance(cond, (m.CountMembers, m.ShareOfMembers)):
            param(cond.op[1])
        for child in children(cond):
            check_condition(r, where, owner, child, MEMBER, hh, mem)
        return
    elif isinstance(cond, (m.CountOf, m.CountDeprived)):
        param(cond.op[1])
        if isinstance(cond, m.CountDeprived) and cond.count_deprived != "all":
            for ind in cond.count_deprived:
                if ind not in r.ruleset.indicators:
                    fail(f"count_deprived: unknown indicator '{clip(ind)}'", r.ruleset.indicators, 'indicator_unknown')
    elif isinstance(cond, m.WithinMonths):
        spec = cond.within_months
        if spec.field not in hh:
            fail(f"unknown household date field '{clip(spec.field)}'", hh, 'field_unknown')
        param(spec.months)
    for child in children(cond):
        check_condition(r, where, owner, child, level, hh, mem)


# ----------------------------------------------------------------------------------------------------------------
# Codes


def _coded_field(name: str):
    """The contract's spec of a coded field a rule compares (eligibility_class has recognised_class's codes), else
    None."""
    name = "recognised_class" if name == "eligibility_class" else name  # the same codes
    spec = columns("members").get(name) or columns("households").get(name)
    return spec if spec is not None and spec.codes else None


def _check_codes(r: Regime, where: Path | str, owner: str, cond: m.Compare) -> None:
    """Code values a rule compares a coded field with must be codes of that field (contract §1)."""
    spec = _coded_field(cond.field)
    if spec is None:
        return
    op, operand = cond.op
    if op not in ("eq", "ne", "in", "not_in", "contains_any"):
        return
    value = r.parameters[operand.param].values if isinstance(operand, m.ParamRef) else None
    values = [v.value for v in value] if value is not None else [operand]
    allowed = set(spec.codes)
    for v in values:
        for code in (v if isinstance(v, list) else [v]):
            if str(code) not in allowed:
                close = difflib.get_close_matches(str(code), sorted(allowed), n=1)
                raise RulesError(f"{where}: {owner}: '{clip(code)}' is not a code of {cond.field}"
                                 + (f" — did you mean '{close[0]}'?" if close else ""),
                                 f"allowed: {', '.join(spec.codes)}", code='field_code_unknown')


def param_codes(r: Regime, pid: str) -> list[str] | None:
    """The codes a `codes` parameter may hold: those of every coded field a rule compares it with (None: unknown)."""
    allowed: list[str] | None = None
    for _, cond, _ in conditions(r):
        for n in walk(cond):
            if not isinstance(n, m.Compare):
                continue
            op, operand = n.op
            if not (isinstance(operand, m.ParamRef) and operand.param == pid):
                continue
            spec = _coded_field(n.field)
            if spec is None:
                continue
            allowed = [c for c in (allowed if allowed is not None else spec.codes) if c in set(spec.codes)]
    return allowed
