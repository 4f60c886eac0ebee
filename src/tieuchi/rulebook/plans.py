"""Plans (rules/plans/<id>.yaml) read and checked: targets over a survey, and a budget whose numbers must add up.

The plan file's shape is `plan.Plan`; here a plan is found (a path or the id of a shipped plan), read with its
lines, its budget added up (project lines to each stated project total, project totals to the total, sources to the
total, the lines of each source to its amount), cross-checked against a regime (`check_plan`), and its parameters
added to the rules in force (`rules_with_plan`) so that target conditions can name them.
"""
from __future__ import annotations

import difflib
import hashlib
import math
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel

from tieuchi.errors import RulesError, UsageError, clip
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.checks import check_citations, check_condition, readable_fields
from tieuchi.rulebook.plan import Plan
from tieuchi.rulebook.folders import program_items
from tieuchi.rulebook.regime import RulesAt
from tieuchi.rulebook.source import (
    SHIPPED_ID,
    allowed_keys,
    known_keys_near,
    listed,
    model_in,
    shipped_file,
    shipped_ids,
    validate,
)
from tieuchi.rulebook.tree import walk
from tieuchi.rulebook.yaml_lines import YamlMap, key_line, read_yaml

_PLAN_VI_HINT = "sửa tệp kế hoạch; cấu trúc được mô tả ở đầu tệp rules/plans/tan_yen_2024.yaml"


def plan_path(plan: str | Path) -> Path:
    """A plan file given as a path (a .yaml file, or any file that exists), or the id of a plan shipped under
    rules/plans (`tan_yen_2024`). An id is a name, never a path: `../x` does not reach outside rules/plans."""
    p = Path(plan)
    if p.suffix.lower() in (".yaml", ".yml") or p.is_file():
        return p
    shipped = shipped_file("plans", str(plan))
    if shipped is not None:
        return shipped
    known = ", ".join(shipped_ids("plans"))
    given = clip(plan)
    if not SHIPPED_ID.fullmatch(str(plan)):
        raise UsageError(f"--plan '{given}': not a plan id (an id has no '/', '.' or '..') and not a .yaml file",
                         "give a plan file (.yaml) or the id of a shipped plan: " + known,
                         vi=f"--plan '{given}': không phải mã kế hoạch (mã không chứa '/', '.' hay '..') và cũng không "
                            f"phải tệp .yaml",
                         vi_hint="cho một tệp kế hoạch (.yaml) hoặc mã của một kế hoạch kèm theo: " + known,
                         code='plan_id_invalid')
    raise UsageError(f"--plan '{given}': no such file and no shipped plan of that id",
                     "give a plan file (.yaml) or one of: " + known,
                     vi=f"--plan '{given}': không có tệp này và không có kế hoạch nào có mã này",
                     vi_hint="cho một tệp kế hoạch (.yaml) hoặc một trong: " + known, code='plan_not_found')


def load_plan(path: str | Path, items: Iterable[str] | None = None) -> Plan:
    """Read and check one plan file. Refused (RulesError, exit 3) with file:line when a key is unknown, a target is
    inconsistent, an id repeats, a budget line names an item that is none of `items` (default: the items of the
    shipped programs; give ``rules_at.regime.item_ids`` for other rules), or the budget does not add up (project lines
    to each stated project total, project totals to the total, sources to the total, the lines of each source to its
    amount)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: plan file not found",
                         "give the path of a plan file, e.g. rules/plans/tan_yen_2024.yaml",
                         vi=f"{path}: không tìm thấy tệp kế hoạch",
                         vi_hint="nhập đường dẫn tới tệp kế hoạch, ví dụ rules/plans/tan_yen_2024.yaml",
                         code='plan_file_not_found')
    data = read_yaml(path)
    try:
        plan = validate(Plan, data, path, keys_near=_plan_keys_near)
    except RulesError as exc:
        raise RulesError(exc.message, exc.hint, vi=f"tệp kế hoạch không hợp lệ: {exc.message}",
                         vi_hint=_PLAN_VI_HINT, code="plan_invalid") from None
    problems: list[tuple[str, str]] = []
    if plan.id != path.stem:
        problems.append((f"{path}:{key_line(data, 'id')}: plan id '{clip(plan.id)}' differs from the file name "
                         f"'{path.stem}' — rename the file to {clip(plan.id)}.yaml or fix the id",
                         f"{path}:{key_line(data, 'id')}: mã kế hoạch '{clip(plan.id)}' khác tên tệp '{path.stem}'"))
    for key, what, what_vi in (("targets", "target", "chỉ tiêu"), ("parameters", "parameter", "tham số")):
        problems += _duplicates(path, data.get(key) or [], "id", what, what_vi)
    if plan.budget is not None:
        problems += _budget_problems(plan, data["budget"], path, list(program_items() if items is None else items))
    if problems:
        raise RulesError(listed([en for en, _ in problems]),
                         "fix the plan file so that its numbers are the plan's and add up",
                         vi=listed([vi for _, vi in problems], "vi"),
                         vi_hint="sửa tệp kế hoạch cho đúng số liệu của kế hoạch và khớp tổng",
                         code="plan_numbers_invalid")
    plan._source = str(path)
    plan._digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    for raw in data.get("targets") or []:
        plan._lines[raw["id"]] = raw.line
        for part in ("population", "count"):
            if part in raw:
                plan._lines[f"{raw['id']}.{part}"] = raw.key_lines[part]
    return plan


def check_plan(plan: Plan, rules_at: RulesAt) -> dict[str, str]:
    """Cross-check a plan against a regime, as rule conditions are checked: citations name known instruments, and
    each target's conditions name fields, variables and parameters (the plan's own included) that exist, at the
    target's level. Returns {target id: reason} for the targets the regime cannot measure because it lacks an
    indicator they count; any other problem is a RulesError (exit 3)."""
    merged = rules_with_plan(rules_at, plan)
    r = merged.regime
    source = plan.source or f"plan {plan.id}"
    check_citations([(source, owner, cite) for owner, cite in [
        (plan.id, plan.citation), *[(t.id, t.citation) for t in plan.targets],
        *[(p.id, v.citation) for p in plan.parameters for v in p.values],
        *([("budget", plan.budget.citation)] if plan.budget and plan.budget.citation else [])]], r.instruments)
    hh, mem = readable_fields()
    for p in plan.parameters:
        if p.keyed_by is not None and p.keyed_by not in hh | mem:
            raise RulesError(f"{source}: plan parameter '{p.id}' is keyed by unknown field '{p.keyed_by}'",
                             "key it by a household or member field of the data contract",
                             vi=f"{source}: tham số '{p.id}' của kế hoạch theo trường không tồn tại '{p.keyed_by}'",
                             code='field_unknown')
    unmeasurable: dict[str, str] = {}
    for t in plan.targets:
        conds = [(part, c) for part, c in (("population", t.population), ("count", t.count)) if c is not None]
        missing: list[str] = []
        for _, c in conds:
            for node in walk(c):
                if isinstance(node, m.CountDeprived) and node.count_deprived != "all":
                    missing += [i for i in node.count_deprived if i not in r.ruleset.indicators and i not in missing]
        view = r if not missing else replace(
            r, ruleset=r.ruleset.model_copy(update={"indicators": [*r.ruleset.indicators, *missing]}))
        for part, c in conds:
            where = f"{source}:{plan._lines.get(f'{t.id}.{part}', plan._lines.get(t.id, 0))}"
            try:
                check_condition(view, where, f"{t.id}.{part}", c, t.level, set(hh), set(mem))
            except RulesError as exc:
                raise RulesError(exc.message, exc.hint,
                                 vi=f"chỉ tiêu '{t.id}' của kế hoạch có điều kiện không dùng được với bộ tiêu chí "
                                    f"{r.id}: {exc.message}", vi_hint=_PLAN_VI_HINT,
                                 code="plan_target_invalid") from None
        if missing:
            unmeasurable[t.id] = (f"regime {r.id} has no indicator {', '.join(missing)}: target {t.id} is not "
                                  f"measurable under it")
    return unmeasurable


def rules_with_plan(rules_at: RulesAt, plan: Plan) -> RulesAt:
    """`rules_at` with the plan's parameters added at its date (regime parameters and `params`), so that target
    conditions can name them. A copy: the cached regime is not changed. Its version names the plan."""
    r = rules_at.regime
    source = plan.source or f"plan {plan.id}"
    mine = {p.id: p for p in plan.parameters}
    for clash in sorted(set(mine) & set(r.parameters)):
        raise RulesError(f"{source}: plan parameter '{clash}' is already declared by regime {r.id} "
                         f"({r.files.get(clash, r.root)})", "give the plan's parameter another id",
                         vi=f"{source}: tham số '{clash}' của kế hoạch trùng tên với tham số của bộ tiêu chí {r.id}",
                         vi_hint="đặt tên khác cho tham số của kế hoạch", code='plan_parameter_clash')
    params = dict(rules_at.params)
    provisional = set(rules_at.provisional_params)
    day = rules_at.day.isoformat()
    for pid, p in mine.items():
        dv = p.at(rules_at.day)
        if dv is None:
            raise RulesError(f"{source}: plan parameter '{pid}' has no value on {day} (its first value starts "
                             f"{p.values[0].start})", "add a value whose 'from' is on or before the reference date",
                             vi=f"{source}: tham số '{pid}' của kế hoạch chưa có giá trị vào ngày {day} (giá trị "
                                f"đầu tiên từ {p.values[0].start})",
                             vi_hint="thêm một giá trị có 'from' không muộn hơn ngày tham chiếu",
                             code='parameter_no_value')
        params[pid] = dv.value
        if dv.provisional:
            provisional.add(pid)
    digest = plan._digest or hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:12]
    where = Path(plan.source) if plan.source else r.root
    regime = replace(r, parameters={**r.parameters, **mine}, files={**r.files, **{pid: where for pid in mine}},
                     version=f"{r.version}+{plan.id}@{digest}")
    return RulesAt(regime=regime, day=rules_at.day, params=params, provisional_params=provisional)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _duplicates(path: Path, rows: list, key: str, what: str, what_vi: str) -> list[tuple[str, str]]:
    seen: dict = {}
    out = []
    for raw in rows:
        if not isinstance(raw, YamlMap) or key not in raw:
            continue
        value, line = raw[key], raw.key_lines[key]
        if value in seen:
            out.append((f"{path}:{line}: {what} {key} '{clip(value)}' is already used at line {seen[value]} — ids "
                        f"must be unique", f"{path}:{line}: {what_vi} '{clip(value)}' đã dùng ở dòng {seen[value]}"))
        else:
            seen[value] = line
    return out


def _budget_problems(plan: Plan, raw: YamlMap, path: Path, items: list[str]) -> list[tuple[str, str]]:
    """Every way the budget fails to add up, each at the line of the number that fails."""
    b = plan.budget
    raw_projects, raw_lines, raw_sources = raw["projects"], raw["lines"], raw["sources"]
    problems = _duplicates(path, raw_lines, "id", "budget line", "dòng ngân sách")
    problems += _duplicates(path, raw_projects, "project", "budget project", "dự án")
    listed = [p.project for p in b.projects]
    for line, rl in zip(b.lines, raw_lines):
        if line.project not in listed:
            at = f"{path}:{key_line(rl, 'project')}"
            problems.append((f"{at}: budget line {line.id}: project '{line.project}' is not listed under "
                             f"budget.projects (listed: {', '.join(listed)})",
                             f"{at}: dòng ngân sách {line.id}: dự án '{line.project}' không có trong budget.projects"))
        if line.sub_project is not None and not line.sub_project.startswith(f"{line.project}."):
            at = f"{path}:{key_line(rl, 'sub_project')}"
            problems.append((f"{at}: budget line {line.id}: sub-project '{line.sub_project}' is not a sub-project of "
                             f"project '{line.project}' (write it '{line.project}.<n>')",
                             f"{at}: dòng ngân sách {line.id}: tiểu dự án '{line.sub_project}' không thuộc dự án "
                             f"'{line.project}'"))
        if line.item is not None and line.item not in items:
            at = f"{path}:{key_line(rl, 'item')}"
            close = difflib.get_close_matches(line.item, items, n=1)
            hint = f" — did you mean '{close[0]}'?" if close else f" (use one of: {', '.join(items)})"
            problems.append((f"{at}: budget line {line.id}: '{line.item}' is not a program item id{hint}",
                             f"{at}: dòng ngân sách {line.id}: '{line.item}' không phải mã hạng mục của Chương trình"))

    def terms(lines, word: str = "line") -> str:
        return " + ".join(f"{x.id} {_num(x.amount)} ({word} {key_line(rl, 'amount')})" for x, rl in lines) or \
            ("none" if word == "line" else "không có")

    pairs = list(zip(b.lines, raw_lines))
    for p, rp in zip(b.projects, raw_projects):
        if p.total is None:
            continue
        mine = [(x, rl) for x, rl in pairs if x.project == p.project]
        total = sum(x.amount for x, _ in mine)
        if not _same(total, p.total):
            at = f"{path}:{key_line(rp, 'total')}"
            problems.append((f"{at}: budget: project {p.project} — the plan states a total of {_num(p.total)} but its "
                             f"lines add up to {_num(total)}: {terms(mine)}",
                             f"{at}: ngân sách: dự án {p.project} — tổng ghi {_num(p.total)} nhưng các dòng cộng lại "
                             f"được {_num(total)}: {terms(mine, 'dòng')}"))
    projects = [(p, b.project_total(p.project)) for p in b.projects]
    total = sum(v for _, v in projects)
    if not _same(total, b.total):
        at = f"{path}:{key_line(raw, 'total')}"
        each = " + ".join(f"project {p.project} {_num(v)}" + ("" if p.total is not None else " (sum of its lines)")
                          for p, v in projects)
        each_vi = " + ".join(f"dự án {p.project} {_num(v)}" for p, v in projects)
        problems.append((f"{at}: budget: the projects add up to {_num(total)} ({each}) but the total is "
                         f"{_num(b.total)}",
                         f"{at}: ngân sách: các dự án cộng lại được {_num(total)} ({each_vi}) nhưng tổng ghi "
                         f"{_num(b.total)}"))
    amounts = {s: getattr(b.sources, s) for s in type(b.sources).model_fields}
    total = sum(amounts.values())
    if not _same(total, b.total):
        at = f"{path}:{key_line(raw, 'sources')}"
        each = " + ".join(f"{s} {_num(v)}" for s, v in amounts.items())
        problems.append((f"{at}: budget: the sources add up to {_num(total)} ({each}) but the total is "
                         f"{_num(b.total)}",
                         f"{at}: ngân sách: các nguồn vốn cộng lại được {_num(total)} ({each}) nhưng tổng ghi "
                         f"{_num(b.total)}"))
    for source, amount in amounts.items():
        mine = [(x, rl) for x, rl in pairs if x.source == source]
        total = sum(x.amount for x, _ in mine)
        if not _same(total, amount):
            at = f"{path}:{key_line(raw_sources, source)}"
            problems.append((f"{at}: budget: sources.{source} is {_num(amount)} but the lines funded from it add up "
                             f"to {_num(total)}: {terms(mine)}",
                             f"{at}: ngân sách: nguồn {source} ghi {_num(amount)} nhưng các dòng dùng nguồn này cộng "
                             f"lại được {_num(total)}: {terms(mine, 'dòng')}"))
    return problems


def _plan_keys_near(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key of a plan file was met: follow the plan's models along the location."""
    if any(isinstance(p, str) and p[:1].isupper() for p in loc[:-1]):
        return known_keys_near(loc)  # inside a condition
    cls: type[BaseModel] = Plan
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = next((i for n, i in cls.model_fields.items() if part in (n, i.alias)), None)
        nxt = model_in(info.annotation) if info is not None else None
        if nxt is None:
            return known_keys_near(loc)
        cls = nxt
    return allowed_keys(cls)

