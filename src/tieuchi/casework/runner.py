"""`tieuchi test`: the YAML cases beside the rules, run against the shipped rules or against a candidate change.

A candidate is an overlay file (or a regime folder) given with `--rules`. Its cases are those of its base regime and
of the program that follows it (or the ones under the paths given); each runs twice — under the base rules and under
the candidate — so that the report can say, besides which cases fail, which expected outcomes the change alters
(case, result, base value → candidate value). With base rules that pass every case, the changed outcomes are exactly
the candidate's failures. Cases are run by `tieuchi.casework.cases.outcomes` (one classify call per date and set of
input columns), so the few hundred shipped cases take seconds.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tieuchi.casework.cases import (Case, Difference, case_files, differences, load_case_file, observed, outcomes,
                                    rules_beside)
from tieuchi.errors import UsageError
from tieuchi.i18n import table, text
from tieuchi.rulebook.regime import Regime
from tieuchi.rulebook.load import load_candidate
from tieuchi.rulebook.source import packaged_rules, rules_root, tree_of


T = table(
    vi={
        "head": "tieuchi test: {n} trường hợp kiểm thử",
        "rules": "Quy tắc", "shipped": "quy tắc kèm theo", "candidate": "Quy tắc đề xuất", "base": "gốc",
        "counts": "Đạt {p}, không đạt {f}",
        "not_run_count": ", không chạy {k}",
        "failures": "Không đạt:",
        "expected": "{field}: mong đợi {want}, nhận được {got}",
        "member": "thành viên {no}",
        "no_member": "thành viên {no}: không có trong kết quả",
        "no_column": "{field}: không có cột kết quả này",
        "changed": "Kết quả mong đợi bị thay đổi (quy tắc gốc → quy tắc đề xuất): {k} giá trị, {c} trường hợp",
        "no_change": "Không có kết quả mong đợi nào bị thay đổi.",
        "not_run": "Không chạy (ngày tham chiếu ngoài thời gian áp dụng của quy tắc đề xuất):",
        "all_passed": "Tất cả đều đạt.",
        "not_case_file": "{p}: không phải tệp trường hợp kiểm thử",
        "not_case_file_hint": "cho một tệp trường hợp (rules/**/cases/<rule>.yaml; tệp bắt đầu bằng '_' là hộ mẫu) "
                              "hoặc một thư mục",
        "no_cases": "{p}: không có tệp trường hợp kiểm thử (cases/*.yaml) trong thư mục này",
        "no_cases_hint": "cho một thư mục quy tắc, ví dụ rules/poverty/vn_2022_2026",
        "no_path": "{p}: không có tệp hay thư mục này",
        "no_path_hint": "cho các tệp hoặc thư mục trường hợp kiểm thử",
    },
    en={
        "head": "tieuchi test: {n} cases",
        "rules": "Rules", "shipped": "shipped rules", "candidate": "Candidate rules", "base": "base",
        "counts": "Passed {p}, failed {f}",
        "not_run_count": ", not run {k}",
        "failures": "Failed:",
        "expected": "{field}: expected {want}, got {got}",
        "member": "member {no}",
        "no_member": "member {no}: not in the results",
        "no_column": "{field}: no such result column",
        "changed": "Expected outcomes the change alters (base → candidate): {k} value(s) in {c} case(s)",
        "no_change": "No expected outcome is altered.",
        "not_run": "Not run (reference date outside the candidate's window):",
        "all_passed": "All passed.",
        "not_case_file": "{p}: not a case file",
        "not_case_file_hint": "give a case file (rules/**/cases/<rule>.yaml; files starting with '_' hold bases) or a "
                              "folder",
        "no_cases": "{p}: no case files (cases/*.yaml) under this folder",
        "no_cases_hint": "give a folder of the rules, e.g. rules/poverty/vn_2022_2026",
        "no_path": "{p}: no such file or folder",
        "no_path_hint": "give case files or folders of the rules",
    },
)


@dataclass
class Change:
    """An expected outcome a candidate alters: the value of `column` (of member `member_no`) under the base rules
    and under the candidate."""

    case: Case
    column: str
    member_no: int | None
    base: Any
    candidate: Any


@dataclass
class SuiteResult:
    cases: list[Case]
    failures: list[tuple[Case, list[Difference]]]
    changed: list[Change] = field(default_factory=list)
    not_run: list[tuple[Case, str]] = field(default_factory=list)  # cases outside the candidate's window
    versions: list[str] = field(default_factory=list)  # rules_version of the rules the cases ran under
    candidate: str | None = None  # the --rules given
    base_versions: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # rules trees other than the default the cases ran under

    @property
    def passed(self) -> int:
        return len(self.cases) - len(self.failures) - len(self.not_run)

    @property
    def ok(self) -> bool:
        return not self.failures


def collect(paths: list[Path] | None = None, candidate: Regime | None = None) -> list[Case]:
    """The cases to run: those in the files and folders of `paths`; else those of the candidate's regime, of the
    program that follows it and of the shared rule sets (only their cases dated inside the candidate's window: the
    others pin the rules down under another standard); else every case of the shipped rules. A path that does not
    exist or holds no case is a UsageError (exit 2); a case file that is not valid is a RulesError (exit 3)."""
    files: list[Path] = []
    shared_files: set[Path] = set()
    if paths:
        for p in paths:
            p = Path(p)
            if p.is_file():
                if p.suffix not in (".yaml", ".yml") or p.name.startswith("_"):
                    raise UsageError.from_table(T, "not_case_file", hint="not_case_file_hint",
                                                code="case_path_not_case_file", p=p)
                files.append(p)
            elif p.is_dir():
                found = sorted(x for x in p.glob("*.yaml") if not x.name.startswith("_")) if p.name == "cases" \
                    else case_files(p)
                if not found:
                    raise UsageError.from_table(T, "no_cases", hint="no_cases_hint", code="case_path_empty", p=p)
                files += found
            else:
                raise UsageError.from_table(T, "no_path", hint="no_path_hint", code="case_path_not_found", p=p)
    elif candidate is not None:
        files = case_files(candidate.root)
        for shared in candidate.shared:
            mine = case_files(shared.root)
            files += mine
            shared_files |= {f.resolve() for f in mine}
        if candidate.program is not None:
            files += case_files(candidate.program.root)
    else:
        files = case_files(rules_root())
    seen: set[Path] = set()
    out: list[Case] = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            cases = load_case_file(f)
            if key in shared_files:
                cases = [c for c in cases if candidate.ruleset.validity.covers(c.on)]
            out += cases
    return out


def run(paths: list[Path] | None = None, rules: str | Path | None = None) -> SuiteResult:
    """Run the cases (see `collect`) against the shipped rules, or against the candidate `rules` (an overlay file or
    a regime folder) and its base, reporting failures and changed outcomes."""
    candidate = load_candidate(rules) if rules is not None else None
    cases = collect(paths, candidate)
    if candidate is None:
        outs = outcomes(cases)
        failures = [(c, d) for c, o in zip(cases, outs) if (d := differences(c, o))]
        folders = sorted({shown_path(tree_of(c.path)) for c in cases if rules_beside(c) is not None})
        return SuiteResult(cases, failures, versions=_versions(outs), folders=folders)
    window = candidate.ruleset.validity
    not_run = [(c, f"{c.on.isoformat()} is outside {candidate.id} ({window})") for c in cases
               if not window.covers(c.on)]
    inside = [c for c in cases if window.covers(c.on)]
    mine = outcomes(inside, rules=rules)
    base = outcomes(inside, rules=str(candidate.base.root) if candidate.base is not None else None)
    failures = [(c, d) for c, o in zip(inside, mine) if (d := differences(c, o))]
    changed = []
    for c, b, o in zip(inside, base, mine):
        before, after = observed(c, b), observed(c, o)
        for (column, no), value in after.items():
            if (column, no) not in before or before[(column, no)] != value:
                changed.append(Change(c, column, no, before.get((column, no)), value))
        for (column, no), value in before.items():
            if (column, no) not in after:
                changed.append(Change(c, column, no, value, None))
    return SuiteResult(cases, failures, changed, not_run, versions=_versions(mine), candidate=str(rules),
                       base_versions=_versions(base))


def _versions(outs) -> list[str]:
    return sorted({str(o.household["rules_version"]) for o in outs if o.household is not None})


# ----------------------------------------------------------------------------------------------------------------
# output

def shown_path(path: Path) -> str:
    """A case file as the user has it: relative to the current folder when it is under it, else relative to its
    rules tree, named `rules/` for the copy an install carries (the checkout's rules/ it was built from) — never a
    path into site-packages."""
    p = Path(path).resolve()
    try:
        return p.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        pass
    tree = tree_of(p)
    if tree is None:
        return Path(path).as_posix()
    packaged = packaged_rules()
    name = "rules" if packaged is not None and tree == packaged.resolve() else tree.name
    inside = p.relative_to(tree).as_posix()
    return name if inside == "." else f"{name}/{inside}"


def _where(case: Case) -> str:
    if case.path is None:
        return "?"
    return f"{shown_path(case.path)}:{case.line}"


def _v(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    return repr(str(value))


def _difference(d: Difference, lang: str) -> str:
    if d.problem == "rejected":
        return str(d.got)
    if d.problem == "no_member":
        return text(T, "no_member", lang, no=d.member_no)
    if d.problem == "no_column":
        return text(T, "no_column", lang, field=d.field)
    name = (text(T, "member", lang, no=d.member_no) + " " if d.member_no is not None else "") + d.field
    return text(T, "expected", lang, field=name, want=_v(d.expected), got=_v(d.got))


def render_text(res: SuiteResult, lang: str = "vi") -> str:
    lines = [text(T, "head", lang, n=len(res.cases))]
    if res.candidate is None:
        which = ", ".join(res.folders) or text(T, "shipped", lang)
        lines.append(f"{text(T, 'rules', lang)}: {which} ({', '.join(res.versions)})")
    else:
        lines.append(f"{text(T, 'candidate', lang)}: {res.candidate} ({', '.join(res.versions)}; "
                     f"{text(T, 'base', lang)} {', '.join(res.base_versions)})")
    lines.append(text(T, "counts", lang, p=res.passed, f=len(res.failures))
                 + (text(T, "not_run_count", lang, k=len(res.not_run)) if res.not_run else ""))
    if res.failures:
        lines += ["", text(T, "failures", lang)]
        for case, diffs in res.failures:
            lines.append(f"  {_where(case)}: {case.name}")
            lines += [f"    {_difference(d, lang)}" for d in diffs]
    if res.candidate is not None:
        lines.append("")
        if res.changed:
            n_cases = len({id(c.case) for c in res.changed})
            lines.append(text(T, "changed", lang, k=len(res.changed), c=n_cases))
            last = None
            for ch in res.changed:
                if ch.case is not last:
                    lines.append(f"  {_where(ch.case)}: {ch.case.name}")
                    last = ch.case
                member = text(T, "member", lang, no=ch.member_no) + " " if ch.member_no is not None else ""
                name = member + ch.column
                lines.append(f"    {name}: {_v(ch.base)} → {_v(ch.candidate)}")
        else:
            lines.append(text(T, "no_change", lang))
    if res.not_run:
        lines += ["", text(T, "not_run", lang)]
        lines += [f"  {_where(c)}: {c.name} — {why}" for c, why in res.not_run]
    if res.ok:
        lines += ["", text(T, "all_passed", lang)]
    return "\n".join(lines)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _case_json(case: Case) -> dict:
    return {"file": shown_path(case.path) if case.path else None, "line": case.line, "case": case.name,
            "rule": case.rule, "on": case.on.isoformat()}


def to_json(res: SuiteResult) -> dict:
    """The report as plain JSON data: counts, failures (with each difference), changed outcomes and cases not run."""
    return {
        "rules": res.candidate or "shipped",
        "rules_versions": res.versions,
        "base_versions": res.base_versions if res.candidate is not None else None,
        "cases": len(res.cases),
        "passed": res.passed,
        "failed": len(res.failures),
        "not_run": len(res.not_run),
        "failures": [{**_case_json(c), "differences": [
            {"field": d.field, "member_no": d.member_no, "expected": _json_value(d.expected),
             "got": _json_value(d.got), "problem": d.problem, **({"code": d.code} if d.problem == "rejected" else {})}
            for d in diffs]} for c, diffs in res.failures],
        "changed": [{**_case_json(ch.case), "field": ch.column, "member_no": ch.member_no,
                     "base": _json_value(ch.base), "candidate": _json_value(ch.candidate)} for ch in res.changed],
        "not_run_cases": [{**_case_json(c), "reason": why} for c, why in res.not_run],
    }
