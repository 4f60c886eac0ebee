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
from typing import Any

import pandas as pd

from tieuchi.errors import RulesError
from tieuchi.errors import clip
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.source import shown
from tieuchi.rulebook.yaml_lines import read_yaml

CASE_KEYS = {"name", "on", "household", "members", "expect", "covers"}
FILE_KEYS = {"rule", "on", "extends", "household", "cases"}


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


def _merge_members(members: list[dict], changes: dict) -> list[dict]:
    out = [dict(mb) for mb in members]
    for no, change in changes.items():
        target = next((mb for mb in out if _member_no(mb.get("member_no")) == _member_no(no)), None)
        if target is None:
            raise KeyError(f"member {no} is not in the base household")
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


class _Refused(Exception):
    def __init__(self, line: int, en: str, vi: str):
        super().__init__(en)
        self.line, self.en, self.vi = line, en, vi


def _line(node, key: str | None = None, default: int = 1) -> int:
    if key is not None and isinstance(getattr(node, "key_lines", None), dict) and key in node.key_lines:
        return node.key_lines[key]
    return getattr(node, "line", 0) or default


def _household_shape(raw, line: int, what: str = "'household'") -> None:
    """A household document (or changes to one): a mapping whose `members` is a list of mappings."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise _Refused(line, f"{what} is a mapping of household fields, not {shown(raw)}",
                       f"{what} là một ánh xạ các trường của hộ, không phải {shown(raw)}")
    if "members" in raw and raw["members"] is not None:
        mem = raw["members"]
        at = _line(raw, "members", line)
        if not isinstance(mem, list):
            raise _Refused(at, f"'members' is a list of members, not {shown(mem)}",
                           f"'members' là danh sách các thành viên, không phải {shown(mem)}")
        for mb in mem:
            if not isinstance(mb, dict):
                raise _Refused(_line(mb, None, at), f"a member is a mapping of member fields, not {shown(mb)}",
                               f"mỗi thành viên là một ánh xạ các trường của thành viên, không phải {shown(mb)}")


def _member_changes_shape(raw, line: int) -> None:
    if raw is None or isinstance(raw, list):
        _household_shape({"members": raw} if raw is not None else None, line)
        return
    if not isinstance(raw, dict):
        raise _Refused(line, f"'members' is a list of members or a mapping of changes by member number, not "
                             f"{shown(raw)}",
                       f"'members' là danh sách thành viên hoặc ánh xạ thay đổi theo số thứ tự thành viên, không phải "
                       f"{shown(raw)}")
    for no, change in raw.items():
        at = _line(raw, no, line)
        if _member_no(no) is None:
            raise _Refused(at, f"member number {shown(no)} is not a number", f"số thứ tự thành viên {shown(no)} "
                                                                             f"không phải là số")
        if not isinstance(change, dict):
            raise _Refused(at, f"changes to member {no} are a mapping of member fields, not {shown(change)}",
                           f"thay đổi cho thành viên {no} là một ánh xạ các trường, không phải {shown(change)}")


def _expect_shape(raw, line: int) -> None:
    if not isinstance(raw, dict):
        raise _Refused(line, f"'expect' is a mapping of result columns to expected values, not {shown(raw)}",
                       f"'expect' là một ánh xạ từ cột kết quả tới giá trị mong đợi, không phải {shown(raw)}")
    undecided = raw.get("undecided_by")
    if undecided is not None and not (isinstance(undecided, list) and all(isinstance(x, str) for x in undecided)):
        raise _Refused(_line(raw, "undecided_by", line), f"'undecided_by' is a list of indicator ids, not "
                                                         f"{shown(undecided)}",
                       f"'undecided_by' là danh sách mã chỉ số, không phải {shown(undecided)}")
    if "members" in raw:
        mem, at = raw["members"], _line(raw, "members", line)
        if not isinstance(mem, dict):
            raise _Refused(at, f"expected members are a mapping of member number to expected columns, not "
                               f"{shown(mem)}",
                           f"kết quả mong đợi của thành viên là ánh xạ từ số thứ tự thành viên tới các cột, không phải "
                           f"{shown(mem)}")
        for no, cols in mem.items():
            if _member_no(no) is None:
                raise _Refused(_line(mem, no, at), f"member number {shown(no)} is not a number",
                               f"số thứ tự thành viên {shown(no)} không phải là số")
            if not isinstance(cols, dict):
                raise _Refused(_line(mem, no, at), f"the expected columns of member {no} are a mapping, not "
                                                   f"{shown(cols)}",
                               f"các cột mong đợi của thành viên {no} là một ánh xạ, không phải {shown(cols)}")


def _rules_of(path: Path) -> tuple[str, str, set[str]]:
    """The rule ids a case file may name (its `rule`, its cases' `covers`), and whose rules they are, in English and
    Vietnamese: those of the regime, or of the program, whose folder holds the file's cases/ folder; else those of
    every shipped regime and its program."""
    owner = path.resolve().parent.parent
    if path.resolve().parent.name == "cases":
        if (owner / "ruleset.yaml").is_file():
            r = load_regime(owner)
            return f"regime {r.id}", f"bộ tiêu chí {r.id}", rule_ids(r)
        if (owner / "program.yaml").is_file():
            mine = [r for r in (load_regime(f) for f in discover_regimes(owner.parents[1]))
                    if r.program is not None and r.program.root.resolve() == owner]
            if mine:
                pid = mine[0].program.id
                return f"program {pid}", f"chương trình {pid}", set().union(*(rule_ids(r) for r in mine))
    regimes = [load_regime(f) for f in discover_regimes()]
    return "the shipped rules", "bộ quy tắc kèm theo", set().union(*(rule_ids(r) for r in regimes))


def rule_ids(r) -> set[str]:
    """Every id a case may pin down in regime `r`: its indicators, variables, parameters, classification and classes,
    and its program's items, shares, variables and parameters."""
    return set(r.files) | {c.id for c in r.classification.classes}


def _rule_problem(ids, line: int, rule, what: str) -> None:
    owner, owner_vi, known = ids()
    if not isinstance(rule, str):
        raise _Refused(line, f"{what} must be the id of a rule of {owner}, not {shown(rule)}",
                       f"{what} phải là mã của một quy tắc của {owner_vi}, không phải {shown(rule)}")
    if rule not in known:
        close = difflib.get_close_matches(rule, sorted(known), n=1)
        sug = f" — did you mean '{close[0]}'?" if close else ""
        sug_vi = f" — có phải là '{close[0]}'?" if close else ""
        if what == "rule":
            raise _Refused(line, f"rule '{clip(rule)}' is not a rule of {owner}{sug}",
                           f"rule '{clip(rule)}' không phải là quy tắc của {owner_vi}{sug_vi}")
        raise _Refused(line, f"the case covers '{clip(rule)}', which is not a rule of {owner}{sug}",
                       f"trường hợp kiểm thử ghi covers '{clip(rule)}', không phải là quy tắc của {owner_vi}{sug_vi}")


def load_case_file(path: Path) -> list[Case]:
    """Read one case file. Refused (RulesError, exit 3) with file:line when it is not of the shape above, when its
    `rule` or a case's `covers` names no rule of its regime or program, or when a date does not exist."""
    path = Path(path)
    try:
        return _load_case_file(path)
    except _Refused as exc:
        raise RulesError(f"{path}:{exc.line}: {exc.en}", "fix the case file; see a shipped one for its shape, e.g. "
                                                         "rules/poverty/vn_2022_2026/cases/housing_area.yaml",
                         vi=f"{path}:{exc.line}: {exc.vi}",
                         vi_hint="sửa tệp trường hợp kiểm thử; xem cấu trúc ở một tệp kèm theo, ví dụ "
                                 "rules/poverty/vn_2022_2026/cases/housing_area.yaml") from None


def _load_case_file(path: Path) -> list[Case]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise _Refused(_line(data), "a case file is a mapping with 'rule' and 'cases'",
                       "tệp trường hợp kiểm thử là một ánh xạ có 'rule' và 'cases'")
    unknown = set(data) - FILE_KEYS
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise _Refused(data.key_lines[key], f"unknown key '{clip(key)}' (allowed: {', '.join(sorted(FILE_KEYS))})",
                       f"khoá không hợp lệ '{clip(key)}' (các khoá được dùng: {', '.join(sorted(FILE_KEYS))})")
    known = functools.lru_cache(maxsize=None)(lambda: _rules_of(path))
    if "rule" in data:
        _rule_problem(known, data.key_lines["rule"], data["rule"], "rule")
    if "on" in data and not isinstance(data["on"], dt.date):
        raise _Refused(data.key_lines["on"], f"'on' is a date (YYYY-MM-DD), not {shown(data['on'])}",
                       f"'on' là một ngày (YYYY-MM-DD), không phải {shown(data['on'])}")
    base: dict = {}
    if data.get("extends") is not None:
        name, at = data["extends"], data.key_lines["extends"]
        if not isinstance(name, str):
            raise _Refused(at, f"'extends' names a base household of _bases.yaml, not {shown(name)}",
                           f"'extends' là tên một hộ mẫu trong _bases.yaml, không phải {shown(name)}")
        bases_path = path.parent / "_bases.yaml"
        if not bases_path.is_file():
            raise _Refused(at, f"extends: {clip(name)} needs {bases_path} (the base households), which is not there",
                           f"extends: {clip(name)} cần tệp {bases_path} (các hộ mẫu) nhưng không có tệp này")
        bases = read_yaml(bases_path)
        if not isinstance(bases, dict) or name not in bases:
            raise _Refused(at, f"no base '{clip(name)}' in {bases_path}", f"không có hộ mẫu '{clip(name)}' trong "
                                                                          f"{bases_path}")
        try:
            _household_shape(bases[name], _line(bases, name), f"base '{clip(name)}'")
        except _Refused as exc:
            raise RulesError(f"{bases_path}:{exc.line}: {exc.en}", vi=f"{bases_path}:{exc.line}: {exc.vi}") from None
        base = _plain(bases[name])
    _household_shape(data.get("household"), _line(data, "household"))
    base = _apply(base, _plain(data.get("household")))
    raw_cases = data.get("cases")
    if raw_cases is not None and not isinstance(raw_cases, list):
        raise _Refused(data.key_lines["cases"], f"'cases' is a list of cases, not {shown(raw_cases)}",
                       f"'cases' là danh sách các trường hợp kiểm thử, không phải {shown(raw_cases)}")
    out = []
    for raw in raw_cases or []:
        if not isinstance(raw, dict):
            raise _Refused(_line(raw, None, data.key_lines["cases"]),
                           f"a case is a mapping with 'name' and 'expect', not {shown(raw)}",
                           f"mỗi trường hợp kiểm thử là một ánh xạ có 'name' và 'expect', không phải {shown(raw)}")
        bad = set(raw) - CASE_KEYS
        if bad:
            key = sorted(bad, key=str)[0]
            raise _Refused(raw.key_lines[key], f"unknown key '{clip(key)}' in a case (allowed: "
                                               f"{', '.join(sorted(CASE_KEYS))})",
                           f"khoá không hợp lệ '{clip(key)}' trong trường hợp kiểm thử (các khoá được dùng: "
                           f"{', '.join(sorted(CASE_KEYS))})")
        for key in ("name", "expect"):
            if key not in raw:
                raise _Refused(raw.line, f"a case needs '{key}'", f"trường hợp kiểm thử cần có '{key}'")
        if not isinstance(raw["name"], str) or not raw["name"].strip():
            raise _Refused(raw.key_lines["name"], f"'name' is a sentence saying what the case shows, not "
                                                  f"{shown(raw['name'])}",
                           f"'name' là một câu nói trường hợp cho thấy điều gì, không phải {shown(raw['name'])}")
        _expect_shape(raw["expect"], raw.key_lines["expect"])
        _household_shape(raw.get("household"), _line(raw, "household"))
        _member_changes_shape(raw.get("members"), _line(raw, "members"))
        covers = raw.get("covers")
        if covers is not None and not isinstance(covers, list):
            raise _Refused(raw.key_lines["covers"], f"'covers' is a list of rule ids, not {shown(covers)}",
                           f"'covers' là danh sách mã quy tắc, không phải {shown(covers)}")
        for rule in covers or []:
            _rule_problem(known, _line(covers, None, raw.key_lines["covers"]), rule, "covers")
        try:
            hh = _apply(base, _plain(raw.get("household")), _plain(raw.get("members")))
        except KeyError as exc:
            raise _Refused(raw.line, exc.args[0], f"thành viên {exc.args[0].split()[1]} không có trong hộ mẫu") \
                from None
        on = raw.get("on", data.get("on"))
        if not isinstance(on, dt.date):
            at = raw.key_lines["on"] if "on" in raw else raw.line
            raise _Refused(at, f"case '{clip(raw['name'])}' has no reference date 'on' (YYYY-MM-DD)",
                           f"trường hợp '{clip(raw['name'])}' không có ngày tham chiếu 'on' (YYYY-MM-DD)")
        out.append(Case(name=raw["name"], rule=data.get("rule", path.stem), on=on, household=hh,
                        expect=_plain(raw["expect"]), covers=list(covers or []), path=path, line=raw.line))
    return out


def case_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("cases/*.yaml") if not p.name.startswith("_"))


def tables(documents: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households as JSON documents (data contract §1.4) → raw households and members tables."""
    from tieuchi.contract.read import _json_cell, canonicalise

    hh_rows, mem_rows = [], []
    for doc in documents:
        hh_rows.append({k: _json_cell(v) for k, v in doc.items() if k != "members"})
        for mb in doc.get("members") or []:
            mem_rows.append({"household_id": _json_cell(doc.get("household_id")),
                             **{k: _json_cell(v) for k, v in mb.items()}})
    hh = pd.DataFrame(hh_rows, dtype="str")
    mem = pd.DataFrame(mem_rows, dtype="str") if mem_rows else pd.DataFrame({"household_id": []}, dtype="str")
    return canonicalise(hh, "households", "case"), canonicalise(mem, "members", "case")


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


def differences(case: Case, outcome: Outcome) -> list[Difference]:
    """Differences between a case's expectations and an outcome."""
    if outcome.error is not None:
        return [Difference("household", None, outcome.error, problem="rejected")]
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


def outcome(case: Case, engine: str = "vectorized", rules=None) -> Outcome:
    """Run one case with a backend (`engine`: "vectorized" or "durable") against `rules` (None: the shipped rules in
    force on the case's date; else a regime folder, an overlay file or a loaded RulesAt, as `tieuchi.classify`)."""
    from tieuchi.api import classify

    hh, mem = tables([case.household])
    result = classify(hh, mem, on=case.on, rules=rules, lang="en", engine=engine)
    if len(result.rejects):
        rej = result.rejects.iloc[0]
        return Outcome(None, error=f"the case household was rejected: {rej['column']}={rej['value']!r}: "
                                   f"{rej['problem']}")
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
    from tieuchi.api import classify
    from tieuchi.errors import TieuchiError

    groups: dict[tuple, list[int]] = {}
    for i, case in enumerate(cases):
        hh_keys = tuple(sorted(k for k in case.household if k != "members"))
        mem_keys = tuple(sorted({k for mb in case.household.get("members") or [] for k in mb}))
        groups.setdefault((case.on, hh_keys, mem_keys), []).append(i)
    out: list[Outcome | None] = [None] * len(cases)
    for (on, _, _), idx in groups.items():
        docs = []
        for k, i in enumerate(idx):
            doc = copy.deepcopy(cases[i].household)
            doc["household_id"] = f"case-{k}"
            docs.append(doc)
        try:
            hh, mem = tables(docs)
            result = classify(hh, mem, on=on, rules=rules, lang="en", engine=engine)
        except TieuchiError:
            for i in idx:
                try:
                    out[i] = outcome(cases[i], engine, rules)
                except TieuchiError as exc:
                    out[i] = Outcome(None, error=exc.message)
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
                    f": {rej['column']}={rej['value']!r}: {rej['problem']}" if rej is not None else ""))
                continue
            hh_row = {**rows[hid], "household_id": own}
            mems = {no: {**r, "household_id": own} for no, r in members.get(hid, {}).items()}
            out[i] = Outcome(hh_row, mems)
    return out
