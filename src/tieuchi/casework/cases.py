"""YAML cases: households with expected results, named as sentences, kept beside the rules they pin down.

A case file (`rules/**/cases/*.yaml`):

    rule: housing_area            # the rule (indicator, variable, class or parameter id) the cases pin down
    on: 2024-12-01                # default reference date
    extends: default              # a base household from `_bases.yaml` in the same folder (optional)
    household: {...}              # changes to the base for every case of the file (optional)
    cases:
      - name: A household of four with 32 m² (exactly 8 m² per person) is not deprived on housing area
        covers: [min_floor_area_per_person]   # more rule ids this case pins down (optional)
        household: {floor_area_m2: 32}        # merged onto the base; `members` replaces the list
        members: {1: {has_health_insurance: null}}   # or: changes per member number, merged
        expect:
          household_class: near_poor
          deprived_housing_area: false
          undecided_by: []
          members: {1: {working_age: true}}

`null` is an empty answer. Expected keys are result columns (data contract §2.1/§2.2).
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Optional, Union

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from tieuchi.api import classify
from tieuchi.contract.read import document_tables as tables  # the case households as the contract's raw tables
from tieuchi.errors import RulesError, TieuchiError, clip
from tieuchi.i18n import LANGS, table, text
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.source import listed, rules_root, shown, tree_of
from tieuchi.rulebook.yaml_lines import read_yaml

HINT_EXAMPLE = "rules/poverty/vn_2022_2026/cases/housing_area.yaml"

T = table(
    vi={
        "file_not_mapping": "tệp trường hợp kiểm thử là một ánh xạ có 'rule' và 'cases'",
        "unknown_key": "khoá không hợp lệ '{key}' (các khoá được dùng: {allowed})",
        "unknown_case_key": "khoá không hợp lệ '{key}' trong trường hợp kiểm thử (các khoá được dùng: {allowed})",
        "on_not_date": "'on' là một ngày (YYYY-MM-DD), không phải {shown}",
        "extends_not_name": "'extends' là tên một hộ mẫu trong _bases.yaml, không phải {shown}",
        "household_not_mapping": "{what} là một ánh xạ các trường của hộ, không phải {shown}",
        "members_not_list": "'members' là danh sách các thành viên, không phải {shown}",
        "member_not_mapping": "mỗi thành viên là một ánh xạ các trường của thành viên, không phải {shown}",
        "member_changes_invalid": "'members' là danh sách thành viên hoặc ánh xạ thay đổi theo số thứ tự thành viên, "
                                  "không phải {shown}",
        "member_no_invalid": "số thứ tự thành viên {shown} không phải là số",
        "member_change_not_mapping": "thay đổi cho thành viên {no} là một ánh xạ các trường, không phải {shown}",
        "expect_not_mapping": "'expect' là một ánh xạ từ cột kết quả tới giá trị mong đợi, không phải {shown}",
        "undecided_by_not_list": "'undecided_by' là danh sách mã chỉ số, không phải {shown}",
        "expected_members_not_mapping": "kết quả mong đợi của thành viên là ánh xạ từ số thứ tự thành viên tới các "
                                        "cột, không phải {shown}",
        "expected_member_not_mapping": "các cột mong đợi của thành viên {no} là một ánh xạ, không phải {shown}",
        "cases_not_list": "'cases' là danh sách các trường hợp kiểm thử, không phải {shown}",
        "case_not_mapping": "mỗi trường hợp kiểm thử là một ánh xạ có 'name' và 'expect', không phải {shown}",
        "case_needs": "trường hợp kiểm thử cần có '{key}'",
        "name_not_sentence": "'name' là một câu nói trường hợp cho thấy điều gì, không phải {shown}",
        "covers_not_list": "'covers' là danh sách mã quy tắc, không phải {shown}",
        "rule_not_id": "{what} phải là mã của một quy tắc của {owner}, không phải {shown}",
        "rule_unknown": "rule '{rule}' không phải là quy tắc của {owner}{suggestion}",
        "covers_unknown": "trường hợp kiểm thử ghi covers '{rule}', không phải là quy tắc của {owner}{suggestion}",
        "suggestion": " — có phải là '{close}'?",
        "bases_missing": "extends: {name} cần tệp {path} (các hộ mẫu) nhưng không có tệp này",
        "base_unknown": "không có hộ mẫu '{name}' trong {path}",
        "member_not_in_base": "thành viên {no} không có trong hộ mẫu",
        "no_date": "trường hợp '{name}' không có ngày tham chiếu 'on' (YYYY-MM-DD)",
        "owner_regime": "bộ tiêu chí {id}", "owner_program": "chương trình {id}",
        "owner_shipped": "bộ quy tắc kèm theo",
        "fix": "sửa tệp trường hợp kiểm thử; xem cấu trúc ở một tệp kèm theo, ví dụ " + HINT_EXAMPLE,
    },
    en={
        "file_not_mapping": "a case file is a mapping with 'rule' and 'cases'",
        "unknown_key": "unknown key '{key}' (allowed: {allowed})",
        "unknown_case_key": "unknown key '{key}' in a case (allowed: {allowed})",
        "on_not_date": "'on' is a date (YYYY-MM-DD), not {shown}",
        "extends_not_name": "'extends' names a base household of _bases.yaml, not {shown}",
        "household_not_mapping": "{what} is a mapping of household fields, not {shown}",
        "members_not_list": "'members' is a list of members, not {shown}",
        "member_not_mapping": "a member is a mapping of member fields, not {shown}",
        "member_changes_invalid": "'members' is a list of members or a mapping of changes by member number, not "
                                  "{shown}",
        "member_no_invalid": "member number {shown} is not a number",
        "member_change_not_mapping": "changes to member {no} are a mapping of member fields, not {shown}",
        "expect_not_mapping": "'expect' is a mapping of result columns to expected values, not {shown}",
        "undecided_by_not_list": "'undecided_by' is a list of indicator ids, not {shown}",
        "expected_members_not_mapping": "expected members are a mapping of member number to expected columns, not "
                                        "{shown}",
        "expected_member_not_mapping": "the expected columns of member {no} are a mapping, not {shown}",
        "cases_not_list": "'cases' is a list of cases, not {shown}",
        "case_not_mapping": "a case is a mapping with 'name' and 'expect', not {shown}",
        "case_needs": "a case needs '{key}'",
        "name_not_sentence": "'name' is a sentence saying what the case shows, not {shown}",
        "covers_not_list": "'covers' is a list of rule ids, not {shown}",
        "rule_not_id": "{what} must be the id of a rule of {owner}, not {shown}",
        "rule_unknown": "rule '{rule}' is not a rule of {owner}{suggestion}",
        "covers_unknown": "the case covers '{rule}', which is not a rule of {owner}{suggestion}",
        "suggestion": " — did you mean '{close}'?",
        "bases_missing": "extends: {name} needs {path} (the base households), which is not there",
        "base_unknown": "no base '{name}' in {path}",
        "member_not_in_base": "member {no} is not in the base household",
        "no_date": "case '{name}' has no reference date 'on' (YYYY-MM-DD)",
        "owner_regime": "regime {id}", "owner_program": "program {id}",
        "owner_shipped": "the shipped rules",
        "fix": "fix the case file; see a shipped one for its shape, e.g. " + HINT_EXAMPLE,
    },
)


@dataclass
class Case:
    name: str
    rule: str
    on: dt.date
    household: dict
    expect: dict
    covers: list[str] = field(default_factory=list)
    path: Path | None = None
    line: int = 0


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def _member_no(x) -> int | None:
    """A member number as a case gives it (1, or '1'); None when it is not one."""
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    if isinstance(x, str) and x.strip().isdigit():
        return int(x)
    return None


class _NotInBase(Exception):
    def __init__(self, no):
        super().__init__(no)
        self.no = no


def _merge_members(members: list[dict], changes: dict) -> list[dict]:
    out = [dict(mb) for mb in members]
    for no, change in changes.items():
        target = next((mb for mb in out if _member_no(mb.get("member_no")) == _member_no(no)), None)
        if target is None:
            raise _NotInBase(no)
        target.update(change)
    return out


def _apply(base: dict, change: dict | None, members: Any = None) -> dict:
    hh = copy.deepcopy(base)
    change = dict(change or {})
    if "members" in change:
        hh["members"] = change.pop("members")
    hh.update(change)
    if isinstance(members, list):
        hh["members"] = members
    elif isinstance(members, dict):
        hh["members"] = _merge_members(hh.get("members", []), members)
    return hh


# ----------------------------------------------------------------------------------------------------------------
# The shape of a case file, as pydantic models. They only check the shape (the values go on as read, with their
# lines); a value of the wrong kind is refused with the message of T under its key, which is the error's type.


def _refusal(key: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(key, key, {"shown": shown(value)})


def _must(test, key: str) -> BeforeValidator:
    """A value that passes `test`, else the problem `key` of T."""
    def check(value):
        if not test(value):
            raise _refusal(key, value)
        return value

    return BeforeValidator(check)


def _never(key: str) -> BeforeValidator:
    return _must(lambda value: False, key)


def _mapping(v) -> bool:
    return isinstance(v, dict)


class _Shape(BaseModel):
    """A mapping; anything else is the problem `not_mapping` of T."""

    model_config = ConfigDict(extra="forbid")
    not_mapping: ClassVar[str] = "case_not_mapping"  # the problem of T when it is not a mapping, per shape

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, value):
        if not isinstance(value, dict):
            raise _refusal(cls.not_mapping, value)
        return value


MemberNo = Annotated[Any, _must(lambda v: _member_no(v) is not None, "member_no_invalid")]
MemberFields = Annotated[dict, _must(_mapping, "member_not_mapping")]


class HouseholdShape(_Shape):
    """A household document, or changes to one: a mapping whose `members` is a list of mappings."""

    model_config = ConfigDict(extra="allow")
    not_mapping: ClassVar[str] = "household_not_mapping"
    members: Optional[Annotated[list[MemberFields], _must(lambda v: isinstance(v, list), "members_not_list")]] = None


def _member_changes_kind(value) -> str:
    return "list of members" if isinstance(value, list) else "changes by number" if isinstance(value, dict) else \
        "neither"


MemberChanges = Annotated[Union[
    Annotated[list[MemberFields], Tag("list of members")],
    Annotated[dict[MemberNo, Annotated[dict, _must(_mapping, "member_change_not_mapping")]], Tag("changes by number")],
    Annotated[Any, _never("member_changes_invalid"), Tag("neither")],
], Discriminator(_member_changes_kind)]


class ExpectShape(_Shape):
    """Result columns (data contract §2.1/§2.2) and their expected values; `members` by member number."""

    model_config = ConfigDict(extra="allow")
    not_mapping: ClassVar[str] = "expect_not_mapping"
    undecided_by: Optional[Annotated[list, _must(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                                                 "undecided_by_not_list")]] = None
    members: Annotated[dict[MemberNo, Annotated[dict, _must(_mapping, "expected_member_not_mapping")]],
                       _must(_mapping, "expected_members_not_mapping")] = None


class CaseShape(_Shape):
    """One case. `on` (a date, or the file's) and the ids of `covers` are checked with the rules, after the shape."""

    not_mapping: ClassVar[str] = "case_not_mapping"
    name: Annotated[str, _must(lambda v: isinstance(v, str) and bool(v.strip()), "name_not_sentence")]
    on: Any = None
    household: Optional[HouseholdShape] = None
    members: Optional[MemberChanges] = None
    expect: ExpectShape
    covers: Optional[Annotated[list, _must(lambda v: isinstance(v, list), "covers_not_list")]] = None


class CaseFileShape(_Shape):
    """A case file. Its `rule` is checked with the rules, after the shape."""

    not_mapping: ClassVar[str] = "file_not_mapping"
    rule: Any = None
    on: Annotated[dt.date, _must(lambda v: isinstance(v, dt.date), "on_not_date")] = None
    extends: Optional[Annotated[str, _must(lambda v: isinstance(v, str), "extends_not_name")]] = None
    household: Optional[HouseholdShape] = None
    cases: Optional[Annotated[list[CaseShape], _must(lambda v: isinstance(v, list), "cases_not_list")]] = None


def _line_at(data, loc: tuple, default: int = 1) -> int:
    """The line of the place `loc` (a pydantic error location) in parsed YAML: that of the last key on the way, or of
    the last list item that has one; parts that are not in the data (a missing key, a pydantic tag) are passed."""
    line = getattr(data, "line", 0) or default
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = getattr(node, "key_lines", {}).get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", 0) or line
    return line


def _shape_problems(model: type[BaseModel], data, what: str = "'household'",
                    line_of=None) -> list[tuple[int, dict[str, str]]]:
    """Every problem of the shape of `data` (a case file, or a base household, `what`): (line, message per
    language). `line_of(loc)`: the line of a place in `data` (default: as `_line_at` finds it in `data`)."""
    line_of = line_of or (lambda loc: _line_at(data, loc))
    try:
        model.model_validate(data)
        return []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    out = []
    for e in errors:
        loc, kind = tuple(e["loc"]), e["type"]
        values: dict[str, Any] = {"shown": (e.get("ctx") or {}).get("shown", ""), "what": what,
                                  "no": next((p for p in reversed(loc) if _member_no(p) is not None), "")}
        if kind in ("extra_forbidden", "invalid_key"):
            key = "unknown_key" if len(loc) == 1 else "unknown_case_key"
            allowed = CaseFileShape.model_fields if len(loc) == 1 else CaseShape.model_fields
            values |= {"key": clip(loc[-1]), "allowed": ", ".join(sorted(allowed))}
        elif kind == "missing":
            key, values["key"] = "case_needs", loc[-1]
        elif kind in T[LANGS[0]]:
            key = kind
        else:  # pragma: no cover - every shape above refuses with a message of T
            out.append((line_of(loc), {lang: f"{'.'.join(map(str, loc))}: {e['msg']}" for lang in LANGS}))
            continue
        out.append((line_of(loc), {lang: text(T, key, lang, **values) for lang in LANGS}))
    return out


# ----------------------------------------------------------------------------------------------------------------
# Reading a case file


class _Refused(Exception):
    """A case file problem at a line, in every language (`said`); `code` the RulesError's."""

    def __init__(self, line: int, code: str, said: dict[str, str]):
        super().__init__(said["en"])
        self.line, self.code, self.said = line, code, said


def _refused(line: int, code: str, key: str, **values) -> _Refused:
    return _Refused(line, code, {lang: text(T, key, lang, **values) for lang in LANGS})


def _rules_of(path: Path) -> tuple[dict[str, str], set[str]]:
    """The rule ids a case file may name (its `rule`, its cases' `covers`), and whose rules they are (per language):
    those of the regime, or of the program, whose folder holds the file's cases/ folder; else those of every shipped
    regime and its program."""
    owner = path.resolve().parent.parent
    if path.resolve().parent.name == "cases":
        if (owner / "ruleset.yaml").is_file():
            r = load_regime(owner)
            return {lang: text(T, "owner_regime", lang, id=r.id) for lang in LANGS}, rule_ids(r)
        if (owner / "program.yaml").is_file():
            mine = [r for r in (load_regime(f) for f in discover_regimes(owner.parents[1]))
                    if r.program is not None and r.program.root.resolve() == owner]
            if mine:
                pid = mine[0].program.id
                return ({lang: text(T, "owner_program", lang, id=pid) for lang in LANGS},
                        set().union(*(rule_ids(r) for r in mine)))
    regimes = [load_regime(f) for f in discover_regimes()]
    return {lang: text(T, "owner_shipped", lang) for lang in LANGS}, set().union(*(rule_ids(r) for r in regimes))


def rule_ids(r) -> set[str]:
    """Every id a case may pin down in regime `r`: its indicators, variables, parameters, classification and classes,
    and its program's items, shares, variables and parameters."""
    return set(r.files) | {c.id for c in r.classification.classes}


def _rule_problem(ids, line: int, rule, what: str) -> None:
    owner, known = ids()
    if not isinstance(rule, str):
        raise _Refused(line, "case_rule_unknown", {lang: text(T, "rule_not_id", lang, what=what, owner=owner[lang],
                                                              shown=shown(rule)) for lang in LANGS})
    if rule not in known:
        close = difflib.get_close_matches(rule, sorted(known), n=1)
        key = "rule_unknown" if what == "rule" else "covers_unknown"
        raise _Refused(line, "case_rule_unknown", {
            lang: text(T, key, lang, rule=clip(rule), owner=owner[lang],
                       suggestion=text(T, "suggestion", lang, close=close[0]) if close else "") for lang in LANGS})


def load_case_file(path: Path) -> list[Case]:
    """Read one case file. Refused (RulesError, exit 3) with file:line when it is not of the shape above (every
    problem of its shape at once), when its `rule` or a case's `covers` names no rule of its regime or program, or
    when a date does not exist."""
    path = Path(path)
    try:
        return _load_case_file(path)
    except _Refused as exc:
        raise RulesError(f"{path}:{exc.line}: {exc.said['en']}", text(T, "fix", "en"),
                         vi=f"{path}:{exc.line}: {exc.said['vi']}", vi_hint=text(T, "fix", "vi"),
                         code=exc.code) from None


def _load_case_file(path: Path) -> list[Case]:
    data = read_yaml(path)
    problems = _shape_problems(CaseFileShape, data)
    if problems:
        if len(problems) == 1:
            raise _Refused(problems[0][0], "case_file_invalid", problems[0][1])
        raise RulesError(listed([f"{path}:{line}: {said['en']}" for line, said in problems]), text(T, "fix", "en"),
                         vi=listed([f"{path}:{line}: {said['vi']}" for line, said in problems], "vi"),
                         vi_hint=text(T, "fix", "vi"), code="case_file_invalid")
    known = functools.lru_cache(maxsize=None)(lambda: _rules_of(path))
    if "rule" in data:
        _rule_problem(known, data.key_lines["rule"], data["rule"], "rule")
    base: dict = {}
    if data.get("extends") is not None:
        name, at = data["extends"], data.key_lines["extends"]
        bases_path = path.parent / "_bases.yaml"
        if not bases_path.is_file():
            raise _refused(at, "case_bases_missing", "bases_missing", name=clip(name), path=bases_path)
        bases = read_yaml(bases_path)
        if not isinstance(bases, dict) or name not in bases:
            raise _refused(at, "case_base_unknown", "base_unknown", name=clip(name), path=bases_path)
        wrong = _shape_problems(HouseholdShape, bases[name], f"base '{clip(name)}'",
                                lambda loc: _line_at(bases, (name, *loc)))
        if wrong:
            raise RulesError(listed([f"{bases_path}:{line}: {said['en']}" for line, said in wrong]),
                             vi=listed([f"{bases_path}:{line}: {said['vi']}" for line, said in wrong], "vi"),
                             code="case_file_invalid")
        base = _plain(bases[name])
    base = _apply(base, _plain(data.get("household")))
    out = []
    for raw in data.get("cases") or []:
        covers = raw.get("covers")
        for rule in covers or []:
            _rule_problem(known, _line_at(covers, (), raw.key_lines["covers"]), rule, "covers")
        try:
            hh = _apply(base, _plain(raw.get("household")), _plain(raw.get("members")))
        except _NotInBase as exc:
            raise _refused(raw.line, "case_member_not_in_base", "member_not_in_base", no=exc.no) from None
        on = raw.get("on", data.get("on"))
        if not isinstance(on, dt.date):
            at = raw.key_lines["on"] if "on" in raw else raw.line
            raise _refused(at, "case_date_missing", "no_date", name=clip(raw["name"]))
        out.append(Case(name=raw["name"], rule=data.get("rule", path.stem), on=on, household=hh,
                        expect=_plain(raw["expect"]), covers=list(covers or []), path=path, line=raw.line))
    return out


def case_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("cases/*.yaml") if not p.name.startswith("_"))


def _norm(v):
    if v is pd.NA or v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v


@dataclass
class Difference:
    """One way a case's results differ from what it expects. `member_no` is None for a household column."""

    field: str
    expected: Any
    got: Any = None
    member_no: int | None = None
    problem: str = "differs"  # differs | no_column | no_member | rejected
    code: str | None = None  # rejected: the code of the error that kept the case from running

    def sentence(self) -> str:
        if self.problem == "rejected":
            return str(self.got)
        if self.problem == "no_member":
            return f"member {self.member_no}: not in the results"
        if self.problem == "no_column":
            return f"{self.field}: no such result column"
        who = f"member {self.member_no} " if self.member_no is not None else ""
        return f"{who}{self.field}: expected {self.expected!r}, got {self.got!r}"


@dataclass
class Outcome:
    """What the rules gave for one case: its household's result row and its members' rows by number, or, when the
    household was rejected or the rules could not be applied, why (`error`)."""

    household: dict | None
    members: dict[int, dict] = field(default_factory=dict)
    error: str | None = None
    code: str | None = None  # the error's code: a TieuchiError's, or household_rejected


def differences(case: Case, outcome: Outcome) -> list[Difference]:
    """Differences between a case's expectations and an outcome."""
    if outcome.error is not None:
        return [Difference("household", None, outcome.error, problem="rejected", code=outcome.code)]
    hh_row, members = outcome.household, outcome.members
    problems = []
    for key, want in case.expect.items():
        if key == "members":
            for no, cols in want.items():
                got_m = members.get(int(no))
                if got_m is None:
                    problems.append(Difference("members", None, None, int(no), "no_member"))
                    continue
                for col, w in cols.items():
                    g = _norm(got_m.get(col))
                    if g != w:
                        problems.append(Difference(col, w, g, int(no)))
            continue
        if key not in hh_row:
            problems.append(Difference(key, want, None, problem="no_column"))
            continue
        got = observed_value(key, hh_row[key])
        if key == "undecided_by":
            want = sorted(want or [])
        if got != want:
            problems.append(Difference(key, want, got))
    return problems


def observed_value(key: str, value: Any) -> Any:
    """A result cell as a case states it (None for empty; `undecided_by` as a sorted list)."""
    got = _norm(value)
    if key == "undecided_by":
        got = sorted(got.split(";")) if got else []
    return got


def observed(case: Case, outcome: Outcome) -> dict[tuple[str, int | None], Any]:
    """The values of the outcome for every result the case expects: {(column, member_no or None): value}."""
    if outcome.error is not None:
        return {("household", None): outcome.error}
    out: dict[tuple[str, int | None], Any] = {}
    for key, want in case.expect.items():
        if key == "members":
            for no, cols in want.items():
                got_m = outcome.members.get(int(no)) or {}
                for col in cols:
                    out[(col, int(no))] = _norm(got_m.get(col))
        else:
            out[(key, None)] = observed_value(key, outcome.household.get(key))
    return out


def compare(case: Case, hh_row: dict, members: dict[int, dict]) -> list[str]:
    """Differences between a case's expectations and the results, as sentences."""
    return [d.sentence() for d in differences(case, Outcome(hh_row, members))]


@functools.lru_cache(maxsize=8)
def _regime_folders(tree: Path) -> list[tuple[Path, Any]]:
    return [(folder, load_regime(folder).ruleset.validity) for folder in discover_regimes(tree)]


def rules_beside(case: Case) -> Path | None:
    """The rules a case pins down: those beside it. When its file is in another rules tree than the one tieuchi
    loads by default (a source checkout's rules/ while the installed copy is loaded), the regime folder of that tree
    in force on the case's date; None for the default rules. So `python -m pytest rules` and `tieuchi test PATH` in a
    checkout test the checkout's rules, whatever copy is installed."""
    tree = tree_of(case.path) if case.path is not None else None
    if tree is None or tree == rules_root().resolve():
        return None
    return next((folder for folder, validity in _regime_folders(tree) if validity.covers(case.on)), None)


def outcome(case: Case, engine: str = "vectorized", rules=None) -> Outcome:
    """Run one case with a backend (`engine`: "vectorized" or "durable") against `rules` (None: the rules beside the
    case, see `rules_beside`; else a regime folder, an overlay file or a loaded RulesAt, as `tieuchi.classify`)."""
    rules = rules if rules is not None else rules_beside(case)
    hh, mem = tables([case.household])
    result = classify(hh, mem, on=case.on, rules=rules, lang="en", engine=engine)
    if len(result.rejects):
        rej = result.rejects.iloc[0]
        return Outcome(None, error=f"the case household was rejected: {rej['column']}={rej['value']!r}: "
                                   f"{rej['problem']}", code="household_rejected")
    hh_row = result.households.iloc[0].to_dict()
    members = {int(r["member_no"]): r for r in result.members.to_dict("records")}
    return Outcome(hh_row, members)


def run_case(case: Case, engine: str = "vectorized", rules=None) -> list[str]:
    """Run one case with a backend (`engine`: "vectorized" or "durable"); returns the list of differences (empty
    when it passes)."""
    return [d.sentence() for d in differences(case, outcome(case, engine, rules))]


def outcomes(cases: list[Case], rules=None, engine: str = "vectorized") -> list[Outcome]:
    """Run many cases at once: the cases that share a reference date and the same input columns are classified in one
    call (each household under an id of its own), which gives what one call per case gives, many times faster. A group
    whose call fails (a rules or usage error) is run case by case, each failure becoming that case's `error`."""
    groups: dict[tuple, list[int]] = {}
    for i, case in enumerate(cases):
        hh_keys = tuple(sorted(k for k in case.household if k != "members"))
        mem_keys = tuple(sorted({k for mb in case.household.get("members") or [] for k in mb}))
        beside = rules_beside(case) if rules is None else None  # a path: the group's rules when none are given
        groups.setdefault((case.on, hh_keys, mem_keys, beside), []).append(i)
    out: list[Outcome | None] = [None] * len(cases)
    for (on, _, _, beside), idx in groups.items():
        docs = []
        for k, i in enumerate(idx):
            doc = copy.deepcopy(cases[i].household)
            doc["household_id"] = f"case-{k}"
            docs.append(doc)
        try:
            hh, mem = tables(docs)
            result = classify(hh, mem, on=on, rules=rules if rules is not None else beside, lang="en", engine=engine)
        except TieuchiError:
            for i in idx:
                try:
                    out[i] = outcome(cases[i], engine, rules)
                except TieuchiError as exc:
                    out[i] = Outcome(None, error=exc.message, code=exc.code)
            continue
        rows = {str(r["household_id"]): r for r in result.households.to_dict("records")}
        members: dict[str, dict[int, dict]] = {}
        for r in result.members.to_dict("records"):
            members.setdefault(str(r["household_id"]), {})[int(r["member_no"])] = r
        rejects = result.rejects
        for k, i in enumerate(idx):
            hid, own = f"case-{k}", cases[i].household.get("household_id")
            if hid not in rows:
                mine = rejects[rejects["household_id"].astype("string") == hid] if len(rejects) else rejects
                rej = mine.iloc[0] if len(mine) else None
                out[i] = Outcome(None, error="the case household was rejected" + (
                    f": {rej['column']}={rej['value']!r}: {rej['problem']}" if rej is not None else ""),
                    code="household_rejected")
                continue
            hh_row = {**rows[hid], "household_id": own}
            mems = {no: {**r, "household_id": own} for no, r in members.get(hid, {}).items()}
            out[i] = Outcome(hh_row, mems)
    return out
