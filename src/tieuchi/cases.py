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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tieuchi.errors import RulesError
from tieuchi.loader import read_yaml

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


def _merge_members(members: list[dict], changes: dict) -> list[dict]:
    out = [dict(mb) for mb in members]
    for no, change in changes.items():
        target = next((mb for mb in out if int(mb.get("member_no", -1)) == int(no)), None)
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


def load_case_file(path: Path) -> list[Case]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}:1: a case file is a mapping with 'rule' and 'cases'")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise RulesError(f"{path}:{data.key_lines[sorted(unknown)[0]]}: unknown key '{sorted(unknown)[0]}'",
                         f"allowed: {', '.join(sorted(FILE_KEYS))}")
    base: dict = {}
    if data.get("extends"):
        bases = read_yaml(path.parent / "_bases.yaml")
        if data["extends"] not in bases:
            raise RulesError(f"{path}:{data.key_lines['extends']}: no base '{data['extends']}' in _bases.yaml")
        base = _plain(bases[data["extends"]])
    base = _apply(base, _plain(data.get("household")))
    out = []
    for raw in data.get("cases") or []:
        bad = set(raw) - CASE_KEYS
        if bad:
            raise RulesError(f"{path}:{raw.line}: unknown key '{sorted(bad)[0]}' in a case",
                             f"allowed: {', '.join(sorted(CASE_KEYS))}")
        for key in ("name", "expect"):
            if key not in raw:
                raise RulesError(f"{path}:{raw.line}: a case needs '{key}'")
        try:
            hh = _apply(base, _plain(raw.get("household")), _plain(raw.get("members")))
        except KeyError as exc:
            raise RulesError(f"{path}:{raw.line}: {exc.args[0]}") from None
        on = raw.get("on", data.get("on"))
        if not isinstance(on, dt.date):
            raise RulesError(f"{path}:{raw.line}: case '{raw['name']}' has no reference date 'on'")
        out.append(Case(name=raw["name"], rule=data.get("rule", path.stem), on=on, household=hh,
                        expect=_plain(raw["expect"]), covers=list(raw.get("covers") or []), path=path,
                        line=raw.line))
    return out


def case_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("cases/*.yaml") if not p.name.startswith("_"))


def tables(documents: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households as JSON documents (data contract §1.4) → raw households and members tables."""
    from tieuchi.io.read import _json_cell, canonicalise

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
