"""One household's full explanation (`tieuchi.explain`, `tieuchi check`): per indicator, the members and the values
that decided it, with citations, in Vietnamese (default) or English."""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from tieuchi.contract.columns import columns
from tieuchi.contract.parse import to_text
from tieuchi.engine.unknowns import undecided_fields
from tieuchi.engine.vectorized import evaluator_for
from tieuchi.errors import UsageError
from tieuchi.engine.reasons import (AREA_LABELS, BASIS_INCOME, BASIS_NONE, BASIS_SCORE,  # noqa: F401
                                    branch_reasons, citation_text, household_reason, indicator_list, money)
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER, children, member_child, walk

# ------------------------------------------------------------------------------------------------------------------
# One household's full explanation (`tieuchi.explain`, `tieuchi check`)
#
# The household-level answers (class, indicators, counts, undecided_by, member outputs) are read from the batch
# result; the detail (which member, which value) comes from re-running the vectorized evaluator over that one
# household's typed rows — the same compiled conditions, no rule logic here.

_OPS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "ne": "≠", "in": "∈", "not_in": "∉", "is": "=",
        "contains_any": "∋"}
_AGGREGATES = ("AnyMember", "AllMembers", "CountMembers", "ShareOfMembers")


def _plain(v):
    """A cell or numpy value as a JSON value (None for missing)."""

    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if v != v else (float(v))
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v.astype("datetime64[D]"))
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return v
    return v.item() if hasattr(v, "item") else str(v)


def _tri(tri, i: int):
    t, f = tri
    t = bool(np.asarray(t).reshape(-1)[i] if np.ndim(t) else t)
    f = bool(np.asarray(f).reshape(-1)[i] if np.ndim(f) else f)
    return True if t else (False if f else None)


def _one_household(result, household_id):
    """(position in result.households, typed household frame, typed member frame, member result rows) of one id."""

    ids = result.households["household_id"]
    want = to_text(household_id)
    hits = np.flatnonzero((ids == household_id).to_numpy(dtype=bool, na_value=False)) \
        if not isinstance(household_id, str) or pd.api.types.is_string_dtype(ids.dtype) else np.array([], int)
    if not len(hits):
        hits = np.flatnonzero(np.asarray([to_text(v) == want for v in ids], dtype=bool))
    if not len(hits):
        raise UsageError(f"household '{want}' is not in the results", "give the id of an accepted household",
                         vi=f"không có hộ '{want}' trong kết quả", vi_hint="cho mã của một hộ đã được phân loại",
                         code="household_not_in_results")
    i = int(hits[0])
    hid = ids.iloc[i]
    mem_mask = (result.members["household_id"] == hid).to_numpy(dtype=bool, na_value=False)
    hh_cols = [c for c in columns("households") if c in result.households.columns]
    mem_cols = [c for c in columns("members") if c in result.members.columns]
    hh = result.households.iloc[[i]][hh_cols].reset_index(drop=True)
    mem_rows = result.members.iloc[np.flatnonzero(mem_mask)]
    return i, hh, mem_rows[mem_cols].reset_index(drop=True), mem_rows.reset_index(drop=True)


def _fields_read(regime, node, seen=None) -> list[tuple[str, str]]:
    """(kind, name) of every input and variable a member condition reads, in order: ('field', x) or ('var', x)."""
    out = [] if seen is None else seen
    for n in walk(node):
        kind = type(n).__name__
        if kind == "Compare":
            for name in (n.field, n.per):
                if name and ("field", name) not in out:
                    out.append(("field", name))
            op = n.op[1]
            if isinstance(op, m.ParamRef) and regime.parameters[op.param].keyed_by:
                key = ("field", regime.parameters[op.param].keyed_by)
                if key not in out:
                    out.append(key)
        elif kind in ("Missing", "Present"):
            name = n.missing if kind == "Missing" else n.present
            if ("field", name) not in out:
                out.append(("field", name))
        elif kind == "ReachedAge":
            for key in (("field", "age"), ("field", regime.parameters[n.reached_age.param].keyed_by)):
                if key[1] and key not in out:
                    out.append(key)
        elif kind == "Var" and ("var", n.var) not in out:
            out.append(("var", n.var))
            _fields_read(regime, regime.derived[n.var].condition, out)
    return out


def _param_value(ev, operand, level: str, i: int = 0):
    value = ev.param(operand, level)
    if isinstance(value, np.ndarray) and value.ndim:
        value = value[i]
    return _plain(value)


def _household_checks(ev, node) -> list[dict]:
    """Every household-level comparison of an indicator (member aggregations excluded): field, value, threshold."""
    out = []

    def value_of(name):
        c, _ = ev.col(name, HOUSEHOLD)
        if c.kind == "absent" or (c.missing is not None and c.missing[0]):
            return None
        if c.kind == "cat":
            return c.categories[int(c.values[0])]
        return _plain(c.values[0])

    def visit(n):
        kind = type(n).__name__
        if kind in _AGGREGATES:
            return
        if kind == "Compare":
            op, operand = n.op
            item = {"field": n.field, "value": value_of(n.field), "op": op,
                    "threshold": _param_value(ev, operand, HOUSEHOLD)}
            if isinstance(operand, m.ParamRef):
                item["param"] = operand.param
            if n.per:
                per = value_of(n.per)
                item["per"] = n.per
                item["per_value"] = per
                item["value_per"] = None if item["value"] is None or not per else round(item["value"] / per, 2)
            item["result"] = _tri(ev.eval(n, HOUSEHOLD), 0)
            out.append(item)
            return
        if kind == "CountOf":
            tris = [ev.eval(c, HOUSEHOLD) for c in n.count_of]
            vals = [_tri(t, 0) for t in tris]
            op, operand = n.op
            for c in n.count_of:
                visit(c)
            out.append({"count_of": sum(v is True for v in vals), "unknown": sum(v is None for v in vals), "op": op,
                        "threshold": _param_value(ev, operand, HOUSEHOLD), "result": _tri(ev.eval(n, HOUSEHOLD), 0)})
            return
        if kind == "Var":
            out.append({"var": n.var, "result": _tri(ev.var(n.var, HOUSEHOLD), 0)})
            return
        for c in children(n):
            visit(c)

    visit(node)
    return out


def _member_detail(ev, regime, node, mem_nos: list[int]) -> tuple[list[dict], list[dict]]:
    """(members, aggregates) of the member aggregations in an indicator: the members whose member-level condition is
    true or unknown (for `all_members` found false: the members that made it false), with the values read."""

    members: dict[int, dict] = {}
    aggregates = []
    for agg in (n for n in walk(node) if type(n).__name__ in _AGGREGATES):
        child = member_child(agg)
        t, f = (np.broadcast_to(x, (ev.n_m,)) for x in ev.eval(child, MEMBER))
        n_true, n_unknown = int(t.sum()), int((~(t | f)).sum())
        kind = type(agg).__name__
        summary = {"kind": {"AnyMember": "any_member", "AllMembers": "all_members", "CountMembers": "count_members",
                            "ShareOfMembers": "share_of_members"}[kind],
                   "true": n_true, "unknown": n_unknown, "members": ev.n_m,
                   "result": _tri(ev.eval(agg, "household"), 0)}
        if kind in ("CountMembers", "ShareOfMembers"):
            op, operand = agg.op
            summary["op"] = op
            summary["threshold"] = _param_value(ev, operand, "household")
        aggregates.append(summary)
        show = (f & ~t) if kind == "AllMembers" and summary["result"] is False else (t | ~(t | f))
        reads = _fields_read(regime, child)
        for i in np.flatnonzero(show):
            entry = members.setdefault(mem_nos[i], {"member_no": mem_nos[i], "condition": _tri((t, f), i),
                                                     "values": {}})
            for kind_, name in reads:
                if kind_ == "var":
                    entry["values"][name] = _tri(ev.var(name, MEMBER), i)
                elif name == "age":
                    entry["values"]["age"] = int(ev.age[i])
                else:
                    c, lvl = ev.col(name, MEMBER)
                    if lvl != MEMBER:
                        continue  # a household field: shown with the household's values
                    miss = c.kind == "absent" or (c.missing is not None and c.missing[i])
                    entry["values"][name] = None if miss else (
                        c.categories[int(c.values[i])] if c.kind == "cat" else _plain(c.values[i]))
    return [members[k] for k in sorted(members)], aggregates


def explain_household(result, household_id, lang: str | None = None, show_names: bool = False) -> dict:
    """One household's full explanation from a batch `Result` (see `tieuchi.explain`)."""

    lang = lang or result.lang
    rules = result.rules
    regime = rules.regime
    i, hh, mem, mem_res = _one_household(result, household_id)
    row = result.households.iloc[i]
    ev = evaluator_for(rules, hh, mem, keep_all=True)
    mem_nos = [int(x) for x in mem["member_no"]]

    indicators = {}
    for ind in rules.indicators:
        col = f"deprived_{ind.id}"
        deprived = _plain(row[col]) if col in row.index else _tri(ev.indicator(ind), 0)
        members, aggregates = _member_detail(ev, regime, ind.deprived_when, mem_nos)
        entry = {
            "label": getattr(ind.label, lang),
            "dimension": getattr(ind.dimension, lang),
            "deprived": deprived,
            "reason": (_held(ev, ind.deprived_when, HOUSEHOLD, rules.params, lang, 0) if deprived else None)
            or getattr(ind.reason, lang),  # the branches that hold, when the rule gives them reasons
            "citation": citation_text(ind.citation, regime.instruments, lang),
            "household": _household_checks(ev, ind.deprived_when),
            "aggregates": aggregates,
            "members": members,
            "undecided_by": [],
        }
        if deprived is None:
            found = undecided_fields(ev, ind.deprived_when, HOUSEHOLD, np.array([0]))
            entry["undecided_by"] = sorted(k for k, v in found.items() if v[0])
        indicators[ind.id] = entry

    undecided = _plain(row["undecided_by"])
    out_members = []
    wanted = {"age", *(d.output for d in regime.derived.values() if d.output and d.level == "member")}
    outputs = [c for c in mem_res.columns if c in wanted]  # the result's column order (contract §2.2)
    for _, r in mem_res.iterrows():
        one = {"member_no": int(r["member_no"]), **{c: _plain(r[c]) for c in outputs}}
        if show_names:
            one["full_name"] = _plain(r["full_name"]) if "full_name" in r.index else None
        out_members.append(one)

    ex = {
        "household_id": _plain(row["household_id"]) if isinstance(_plain(row["household_id"]), str)
        else str(_plain(row["household_id"])),
        "regime": str(row["regime"]),
        "rules_version": str(row["rules_version"]),
        "reference_date": str(row["reference_date"]),
        "household_class": str(row["household_class"]),
        "income_line": _plain(row["income_line"]),
        "deprivation_count": int(row["deprivation_count"]),
        "unknown_count": int(row["unknown_count"]),
        "undecided_by": sorted(undecided.split(";")) if undecided else [],
        "indicators": indicators,
        "reasons": [],
        "members": out_members,
    }
    ex["reasons"] = _reason_sentences(result, row, ex, ev, lang)

    ex["eligibility"] = explain_eligibility(result, row, mem_res, ev, lang)
    return ex


def _held(ev, cond, level: str, params: dict, lang: str, i: int) -> str | None:
    """The reasons of the branches of `cond` that hold for row `i` (of `level`), joined by "; "; None when the rule
    gives no branch a reason or none of them holds."""
    texts = [text for text, mask in branch_reasons(ev, cond, level, params, lang) if mask[i]]
    return "; ".join(texts) or None


def _reason_sentences(result, row, ex: dict, ev, lang: str) -> list[str]:
    vi = lang == "vi"
    out = []
    key = row["reasons"]
    if result.render_reasons is not None and not isinstance(key, str):
        out.append(result.render_reasons([int(key)], lang)[0])
    elif isinstance(key, str):
        out.append(key)
    income = income_sentence(result.rules, ev, ex, lang)
    if income:
        out.append(income)
    for d in ex["indicators"].values():
        who = sorted({mb["member_no"] for mb in d["members"] if mb["condition"] is True})
        whose = ""
        if who:
            whose = (" (thành viên số " if vi else " (member ") + ", ".join(map(str, who)) + ")"
        if d["deprived"] is True:
            out.append((f"Thiếu hụt chỉ số {d['label'].lower()}: " if vi else f"Deprived on {d['label'].lower()}: ")
                       + d["reason"] + whose + f" [{d['citation']}].")
        elif d["deprived"] is None:
            need = ", ".join(d["undecided_by"])
            out.append((f"Chưa xác định được chỉ số {d['label'].lower()}" if vi
                        else f"{d['label']} cannot be decided")
                       + ((": cần bổ sung " if vi else ": would be decided by ") + need if need else "") + ".")
    return out


def income_sentence(rules, ev, ex: dict, lang: str) -> str:
    """Income against the line (or score A against its cut-off), with the citation of the line."""
    vi = lang == "vi"
    regime = rules.regime
    day = rules.day

    def value(name):
        if not ev.has_field(name, HOUSEHOLD):
            return None
        c, _ = ev.col(name, HOUSEHOLD)
        if c.missing is not None and c.missing[0]:
            return None
        return c.categories[int(c.values[0])] if c.kind == "cat" else _plain(c.values[0])

    area = value("area")
    area_label = AREA_LABELS.get(area, {}).get(lang, area or "")
    line = ex["income_line"]
    line_p = regime.parameters.get(regime.classification.income_line)
    cite = ""
    if line_p is not None and line_p.at(day) is not None:
        cite = f" [{citation_text(line_p.at(day).citation, regime.instruments, lang)}]"
    test = regime.classification.income  # which inputs and parameters the income test reads
    income = value(test.field)
    upper = rules.params.get(test.average_living_upper) if test.average_living_upper else None
    if isinstance(upper, dict):
        upper = upper.get(area)
    if income is not None and line is not None:
        amount = money(income, lang) + ("/người/tháng" if vi else " per person per month")
        if income <= line:
            return (f"Thu nhập bình quân {amount}, từ chuẩn nghèo {money(line, lang)} ({area_label}) trở xuống{cite}."
                    if vi else f"Income {amount} is at or below the poverty line of {money(line, lang)} "
                               f"({area_label}){cite}.")
        if upper is not None and income <= upper:
            return (f"Thu nhập bình quân {amount}, trên chuẩn nghèo {money(line, lang)} ({area_label}) và không quá "
                    f"mức sống trung bình {money(upper, lang)}{cite}." if vi
                    else f"Income {amount} is above the poverty line of {money(line, lang)} ({area_label}) and at "
                         f"or below the average-living limit of {money(upper, lang)}{cite}.")
        if upper is not None:
            return (f"Thu nhập bình quân {amount}, trên mức sống trung bình {money(upper, lang)} (chuẩn nghèo "
                    f"{money(line, lang)}, {area_label}){cite}." if vi
                    else f"Income {amount} is above the average-living limit of {money(upper, lang)} (poverty line "
                         f"{money(line, lang)}, {area_label}){cite}.")
        return (f"Thu nhập bình quân {amount}, trên chuẩn nghèo {money(line, lang)} ({area_label}){cite}." if vi
                else f"Income {amount} is above the poverty line of {money(line, lang)} ({area_label}){cite}.")
    score = value(test.score) if test.score else None
    cutoff = rules.params.get(test.score_cutoff) if test.score_cutoff else None
    if isinstance(cutoff, dict):
        cutoff = cutoff.get(area)
    if income is None and score is not None and cutoff is not None:
        p = regime.parameters.get(test.score_cutoff)
        sc = f" [{citation_text(p.at(day).citation, regime.instruments, lang)}]" if p is not None and p.at(day) else ""
        if score <= cutoff:
            return (f"Chưa có thu nhập bình quân; điểm A là {score}, từ ngưỡng {cutoff} điểm ({area_label}) trở "
                    f"xuống: coi như thu nhập từ chuẩn nghèo trở xuống{sc}." if vi
                    else f"No income given; score A is {score}, at or below the cut-off of {cutoff} points "
                         f"({area_label}): taken as income at or below the line{sc}.")
        return (f"Chưa có thu nhập bình quân; điểm A là {score}, trên ngưỡng {cutoff} điểm ({area_label}): thu nhập "
                f"trên chuẩn nghèo, nhưng chưa phân biệt được mức sống trung bình hay không{sc}." if vi
                else f"No income given; score A is {score}, above the cut-off of {cutoff} points ({area_label}): "
                     f"income above the line, but average-living or not cannot be told{sc}.")
    if income is None and score is not None:  # a score, but the regime sets no cut-off for it (2027–2030)
        return (f"Chưa có thu nhập bình quân; có điểm A ({score}) nhưng chuẩn {regime.id} chưa có ngưỡng điểm A: cần "
                "thu nhập bình quân để so với chuẩn nghèo." if vi
                else f"No income given; score A is {score}, but {regime.id} sets no score A cut-off: the income is "
                     "needed to compare with the line.")
    return ("Chưa có thu nhập bình quân và điểm A: chưa so được với chuẩn nghèo." if vi
            else "No income and no score A: income cannot be compared with the line.")


def explain(result, household_id, lang: str | None = None, show_names: bool = False) -> dict:
    """One household's full explanation from a batch result: `tieuchi.explain(result, "BG-0001", lang="vi")`.

    Keys: household_id, regime, rules_version, reference_date, household_class, income_line, deprivation_count,
    unknown_count, undecided_by (list), indicators ({id: {label, dimension, deprived, reason, citation, household,
    aggregates, members, undecided_by}}), reasons (sentences), members (member_no, age, working_age, dependant,
    low_income_worker; full_name only with show_names), eligibility (None without a program: eligibility_class,
    recognised_class, class_mismatch, statuses, items {id: eligible / eligible_members, priority, reason, citation,
    conditions, undecided_by}, health_insurance_support {members: member_no, share, because})."""
    return explain_household(result, household_id, lang=lang, show_names=show_names)


# ------------------------------------------------------------------------------------------------------------------
# The explanation as text (`tieuchi check --format text`)

_TEXT = {
    "vi": {"household": "Hộ", "regime": "Chế độ", "version": "phiên bản", "on": "ngày tham chiếu",
           "class": "Phân loại", "basis": "Căn cứ", "income": "Thu nhập", "indicators": "Các chỉ số",
           "deprived": "thiếu hụt", "not_deprived": "không thiếu hụt", "unknown": "chưa rõ",
           "counts": "{d} chỉ số thiếu hụt, {u} chỉ số chưa rõ", "need": "cần bổ sung", "member": "thành viên số",
           "members": "Thành viên", "age": "tuổi", "empty": "(trống)", "true": "có", "false": "không",
           "to_decide": "Cần bổ sung để phân loại", "per": "người", "result": {True: "đúng", False: "sai",
                                                                                   None: "chưa rõ"},
           "count_of": "số điều kiện đúng", "share": "tỷ lệ", "count": "số thành viên"},
    "en": {"household": "Household", "regime": "Regime", "version": "version", "on": "reference date",
           "class": "Class", "basis": "Basis", "income": "Income", "indicators": "Indicators",
           "deprived": "deprived", "not_deprived": "not deprived", "unknown": "unknown",
           "counts": "{d} deprived, {u} unknown", "need": "would be decided by", "member": "member",
           "members": "Members", "age": "age", "empty": "(empty)", "true": "yes", "false": "no",
           "to_decide": "Inputs that would decide the class", "per": "persons",
           "result": {True: "true", False: "false", None: "unknown"},
           "count_of": "conditions true", "share": "share", "count": "members"},
}


def _field_label(regime, name: str, lang: str) -> str:
    if name == "age":
        return _TEXT[lang]["age"]
    if name == "member_count":
        return "số thành viên" if lang == "vi" else "members"
    if name in regime.derived:
        return getattr(regime.derived[name].label, lang).lower() if lang == "vi" else \
            getattr(regime.derived[name].label, lang)
    spec = columns("members").get(name) or columns("households").get(name)
    if spec is None:
        return name
    return spec.header if lang == "vi" else name


def inputs_text(regime, names: list[str], lang: str) -> str:
    """Empty inputs named for the reader: the template's Vietnamese headers (with the column name), or column names."""
    if lang != "vi":
        return ", ".join(names)
    return ", ".join(f"{_field_label(regime, n, lang)} ({n})" if _field_label(regime, n, lang) != n else n
                     for n in names)


def _value_text(name: str, v, lang: str) -> str:
    t = _TEXT[lang]
    if v is None:
        return t["empty"]
    if isinstance(v, bool):
        return t["true"] if v else t["false"]
    if isinstance(v, list):
        return "{" + ", ".join(_value_text(name, x, lang) for x in v) + "}"
    if isinstance(v, float):
        s = f"{v:g}"
        return s.replace(".", ",") if lang == "vi" else s
    spec = columns("members").get(name) or columns("households").get(name)
    if lang == "vi" and spec is not None and spec.labels and isinstance(v, str):
        return "; ".join(spec.labels.get(x, x) for x in v.split(";"))
    return str(v)


def explain_text(ex: dict, regime, lang: str = "vi") -> str:
    """A readable explanation of one household (the dict of `explain`), in Vietnamese or English."""
    t = _TEXT[lang]
    cl = regime.classification
    labels = {c.id: getattr(c.label, lang) for c in cl.classes} | {"unknown": getattr(cl.unknown, lang)}
    names = {mb["member_no"]: mb.get("full_name") for mb in ex["members"]}

    def who(no: int) -> str:
        name = names.get(no)
        return f"{t['member']} {no}" + (f" ({name})" if name else "")

    lines = [f"{t['household']} {ex['household_id']}: {labels.get(ex['household_class'], ex['household_class'])}",
             f"{t['regime']}: {ex['regime']} ({t['version']} {ex['rules_version']}), {t['on']} {ex['reference_date']}"]
    reasons = ex["reasons"]
    if reasons:
        lines.append(f"{t['basis']}: {reasons[0]}")
    if len(reasons) > 1:
        lines.append(f"{t['income']}: {reasons[1]}")
    lines.append("")
    lines.append(f"{t['indicators']} ({t['counts'].format(d=ex['deprivation_count'], u=ex['unknown_count'])}):")
    for d in ex["indicators"].values():
        mark, state = {True: ("[x]", t["deprived"]), False: ("[ ]", t["not_deprived"]),
                       None: ("[?]", t["unknown"])}[d["deprived"]]
        lines.append(f"  {mark} {d['label']}: {state} [{d['citation']}]")
        if d["deprived"] is not False:
            lines.append(f"      {d['reason']}")
        for c in d["household"]:
            lines.append("      " + _check_text(regime, c, lang))
        for a in d["aggregates"]:
            if a["kind"] == "share_of_members":
                lines.append(f"      {t['share']}: {a['true']}/{a['members']}"
                             + (f" (+{a['unknown']} {t['unknown']})" if a["unknown"] else "")
                             + f" {_OPS[a['op']]} {_value_text('', a['threshold'], lang)}: {t['result'][a['result']]}")
            elif a["kind"] == "count_members":
                lines.append(f"      {t['count']}: {a['true']}" + (f" (+{a['unknown']} {t['unknown']})"
                                                                  if a["unknown"] else "")
                             + f" {_OPS[a['op']]} {a['threshold']}: {t['result'][a['result']]}")
        for mb in d["members"]:
            vals = ", ".join(f"{_field_label(regime, k, lang)}: {_value_text(k, v, lang)}"
                             for k, v in mb["values"].items())
            lines.append(f"      {who(mb['member_no'])} ({t['result'][mb['condition']]}): {vals}")
        if d["undecided_by"]:
            lines.append(f"      {t['need']}: {inputs_text(regime, d['undecided_by'], lang)}")
    if ex["undecided_by"]:
        lines.append("")
        lines.append(f"{t['to_decide']}: {inputs_text(regime, ex['undecided_by'], lang)}")
    lines.append("")
    lines.append(f"{t['members']}:")
    for mb in ex["members"]:
        rest = ", ".join(f"{_field_label(regime, k, lang)}: {_value_text(k, v, lang)}" for k, v in mb.items()
                         if k not in ("member_no", "full_name"))
        lines.append(f"  {who(mb['member_no'])}: {rest}")

    lines += eligibility_text(ex, regime, lang)
    return "\n".join(lines)


def _check_text(regime, c: dict, lang: str) -> str:
    t = _TEXT[lang]
    res = t["result"][c["result"]]
    if "count_of" in c:
        return (f"{t['count_of']}: {c['count_of']}" + (f" (+{c['unknown']} {t['unknown']})" if c["unknown"] else "")
                + f" {_OPS[c['op']]} {c['threshold']}: {res}")
    if "var" in c:
        return f"{_field_label(regime, c['var'], lang)}: {res}"
    name = c["field"]
    value = _value_text(name, c["value"], lang)
    if c.get("per"):
        per_v = _value_text(c["per"], c["per_value"], lang)
        ratio = _value_text(name, c["value_per"], lang)
        value = f"{value} / {per_v} {t['per']} = {ratio}"
    test = "điều kiện" if lang == "vi" else "test"
    return (f"{_field_label(regime, name, lang)}: {value}; {test} {_OPS[c['op']]} "
            f"{_value_text(name, c['threshold'], lang)}: {res}")


# ------------------------------------------------------------------------------------------------------------------
# Eligibility: the class it follows, the statuses, each item in force, the health-insurance shares

_PROGRAM_T = {
    "vi": {"program": "Chương trình", "window": "áp dụng từ {start} đến {end}",
           "outside": "ngày tham chiếu {day} nằm ngoài thời gian áp dụng: không hạng mục nào được xét",
           "follows": "Diện xét hỗ trợ", "recognised": "theo diện xã công nhận",
           "mismatch": "khác với kết quả tính ({computed})", "unknown_class":
               "chưa rõ phân loại: điều kiện nào phụ thuộc vào phân loại thì chưa xác định được",
           "no_program": "Chương trình: không có chương trình nào áp dụng với chuẩn này — không hạng mục nào được "
                         "xét (tình trạng của hộ và mức hỗ trợ đóng bảo hiểm y tế vẫn áp dụng)",
           "statuses": "Tình trạng", "eligible": "đủ điều kiện", "not_eligible": "không đủ điều kiện",
           "undecided": "chưa rõ", "priority": "ưu tiên", "members": "thành viên số", "member": "thành viên số",
           "none": "không ai",
           "hi": "Mức hỗ trợ đóng bảo hiểm y tế", "share_none": "không thuộc nhóm được hỗ trợ",
           "need": "cần bổ sung", "yes": "có", "no": "không", "person": "người", "household": "hộ"},
    "en": {"program": "Program", "window": "applies from {start} to {end}",
           "outside": "the reference date {day} is outside it: no item is considered",
           "follows": "Eligibility follows", "recognised": "as recognised by the commune",
           "mismatch": "differs from the computed class ({computed})", "unknown_class":
               "class unknown: what depends on the class is undecided",
           "no_program": "Program: none applies with this standard — no item is considered (the household statuses "
                         "and health-insurance support still apply)",
           "statuses": "Statuses", "eligible": "eligible", "not_eligible": "not eligible",
           "undecided": "unknown", "priority": "priority", "members": "members", "member": "member", "none": "nobody",
           "hi": "Health-insurance premium support", "share_none": "in no supported group",
           "need": "would be decided by", "yes": "yes", "no": "no", "person": "person", "household": "household"},
}


def explain_eligibility(result, row, mem_res, ev, lang: str) -> dict[str, Any] | None:
    """The `eligibility` part of an explanation; None when neither a program nor a shared set (household statuses,
    health-insurance shares) applies. With no program (the 2027–2030 standard), `program`, `label`, `citation` and
    `window` are None and `items` is empty."""
    rules = result.rules
    regime = rules.regime
    er = rules.eligibility
    if er is None:
        return None
    pr = regime.program
    window = pr.program.validity if pr is not None else None
    items = er.items
    class_ids = [c.id for c in regime.classification.classes]
    computed = str(row["household_class"])
    ev.decide_eligibility_class(np.array([class_ids.index(computed) if computed in class_ids else len(class_ids)]))
    cite = lambda c: citation_text(c, regime.instruments, lang)  # noqa: E731
    mem_nos = [int(x) for x in mem_res["member_no"]]
    cls = _plain(row.get("eligibility_class"))
    recognised = _plain(row.get("recognised_class")) if "recognised_class" in row.index else None
    out: dict[str, Any] = {
        "program": pr.id if pr is not None else None,
        "label": getattr(pr.program.label, lang) if pr is not None else None,
        "citation": cite(pr.program.citation) if pr is not None else None,
        "window": {"from": window.start.isoformat(), "to": window.end.isoformat() if window.end else None}
        if window is not None else None,
        "in_force": bool(items),
        "eligibility_class": cls, "recognised_class": recognised,
        "class_mismatch": _plain(row.get("class_mismatch")),
        "statuses": {}, "items": {}, "health_insurance_support": None,
    }
    for sid in er.statuses:
        d = regime.derived[sid]
        out["statuses"][sid] = {"label": getattr(d.label, lang), "value": _plain(row.get(sid)),
                                "citation": cite(d.citation)}
    P = pr.priority_labels(lang) if pr is not None else {}
    for item in items:
        entry: dict[str, Any] = {"label": getattr(item.label, lang), "unit": item.unit, "citation": cite(item.citation),
                                 "reason": getattr(item.reason, lang)}
        checks = [c for c in _household_checks(ev, item.eligible_when) if _household_level(regime, c)]
        if item.unit == "household":
            value = _plain(row.get(f"eligible_{item.id}"))
            groups = _plain(row.get(f"priority_{item.id}"))
            entry |= {"eligible": value, "priority": groups.split(";") if groups else [],
                      "priority_labels": [P.get(g, g) for g in groups.split(";")] if groups else []}
            if value is True:  # the branches of the rule that hold, when it gives them reasons
                entry["reason"] = _held(ev, item.eligible_when, HOUSEHOLD, rules.params, lang, 0) or entry["reason"]
            if value is None and cls is not None:
                found = undecided_fields(ev, item.eligible_when, HOUSEHOLD, np.array([0]))
                entry["undecided_by"] = sorted(k for k, v in found.items() if v[0])
        else:
            col = mem_res.get(f"eligible_{item.id}")
            values = [None if col is None else _plain(v) for v in (col if col is not None else [None] * len(mem_nos))]
            entry |= {"eligible_members": [n for n, v in zip(mem_nos, values) if v is True],
                      "unknown_members": [n for n, v in zip(mem_nos, values) if v is None]}
            # per eligible member, the branches of the rule that hold (the rule's own reason when it gives none)
            entry["member_reasons"] = [
                {"member_no": n,
                 "reason": _held(ev, item.eligible_when, MEMBER, rules.params, lang, k) or entry["reason"]}
                for k, (n, v) in enumerate(zip(mem_nos, values)) if v is True]
            if entry["unknown_members"] and cls is not None:
                rows = np.array([mem_nos.index(n) for n in entry["unknown_members"]])
                found = undecided_fields(ev, item.eligible_when, MEMBER, rows)
                entry["undecided_by"] = sorted(k for k, v in found.items() if v.any())
        entry["conditions"] = checks
        out["items"][item.id] = entry
    for sr in er.shares:
        col = mem_res.get(sr.output)
        if col is None:
            continue
        members = []
        for i, no in enumerate(mem_nos):
            share = _plain(col.iloc[i])
            because = None
            if share:  # the group that gives this share: the first (in the rule's order) true at this value
                for sh in sr.shares:
                    t, _ = ev.eval(sh.when, MEMBER)
                    if float(ev.param(sh.value, MEMBER)) == share and bool(np.broadcast_to(t, (ev.n_m,))[i]):
                        because = {"id": sh.id, "label": getattr(sh.label, lang), "citation": cite(sh.citation)}
                        break
            one = {"member_no": no, "share": share, "because": because}
            if share is None and cls is not None:  # a higher share undecided: the inputs that would decide it
                need: set[str] = set()
                for sh in sr.shares:
                    t, f = (np.broadcast_to(x, (ev.n_m,)) for x in ev.eval(sh.when, MEMBER))
                    if not (t[i] or f[i]):
                        need |= {k for k, v in undecided_fields(ev, sh.when, MEMBER, np.array([i])).items() if v[0]}
                one["undecided_by"] = sorted(need)
            members.append(one)
        out["health_insurance_support"] = {"label": getattr(sr.label, lang), "citation": cite(sr.citation),
                                           "members": members}
    return out


def _household_level(regime, check: dict) -> bool:
    """A check of a household input or variable (person items also test members' inputs, shown per member)."""
    if "var" in check:
        return regime.derived[check["var"]].level == "household"
    name = check.get("field")
    return name is None or (name != "age" and name not in columns("members"))


def eligibility_text(ex: dict, regime, lang: str) -> list[str]:
    """Lines of `tieuchi check --format text` for the `eligibility` part of an explanation."""

    e = ex.get("eligibility")
    if not e:
        return []
    t = _PROGRAM_T[lang]
    cl = regime.classification
    labels = {c.id: getattr(c.label, lang) for c in cl.classes} | {"unknown": getattr(cl.unknown, lang)}
    if e["program"] is None:
        lines = ["", t["no_program"]]
    else:
        window = t["window"].format(start=e["window"]["from"], end=e["window"]["to"])
        lines = ["", f"{t['program']}: {e['label']} ({window})"]
        if not e["in_force"]:
            lines.append("  " + t["outside"].format(day=ex["reference_date"]))
    if e["eligibility_class"] is None:
        lines.append("  " + t["unknown_class"])
    else:
        text = f"  {t['follows']}: {labels.get(e['eligibility_class'], e['eligibility_class'])}"
        if e["recognised_class"]:
            text += f" ({t['recognised']})"
        if e["class_mismatch"]:
            text += "; " + t["mismatch"].format(computed=labels.get(ex["household_class"], ex["household_class"]))
        lines.append(text)
    yes_no = {True: t["yes"], False: t["no"], None: t["undecided"]}
    for s in e["statuses"].values():
        lines.append(f"  {s['label']}: {yes_no[s['value']]} [{s['citation']}]")
    for it in e["items"].values():
        if it["unit"] == "household":
            value = it["eligible"]
            mark = {True: "[x]", False: "[ ]", None: "[?]"}[value]
            state = {True: t["eligible"], False: t["not_eligible"], None: t["undecided"]}[value]
            head = f"  {mark} {it['label']}: {state}"
            if value:
                head += f" — {it['reason']}"
                if it["priority_labels"]:
                    head += f"; {t['priority']}: " + ", ".join(it["priority_labels"])
        else:
            who = it["eligible_members"]
            mark = "[x]" if who else ("[?]" if it["unknown_members"] else "[ ]")
            why: dict[str, list[int]] = {}  # members grouped by the reason that holds for them, in member order
            said = {mr["member_no"]: mr["reason"] for mr in it.get("member_reasons", [])}
            for no in who:
                why.setdefault(said.get(no, it["reason"]), []).append(no)
            head = f"  {mark} {it['label']} ({t['person']}): " + \
                ("; ".join(f"{t['members']} {', '.join(map(str, nos))} — {text}" for text, nos in why.items())
                 if who else t["none"])
            if it["unknown_members"]:
                head += f"; {t['undecided']}: {t['members']} {', '.join(map(str, it['unknown_members']))}"
        lines.append(f"{head} [{it['citation']}]")
        if it.get("eligible") is not True and not it.get("eligible_members"):
            for c in it["conditions"]:  # what decided it: the conditions not met (or not known)
                if c["result"] is not True:
                    lines.append("      " + _check_text(regime, c, lang))
        if it.get("undecided_by"):
            lines.append(f"      {t['need']}: {inputs_text(regime, it['undecided_by'], lang)}")
    hi = e["health_insurance_support"]
    if hi:
        lines.append(f"  {hi['label']} [{hi['citation']}]:")
        for mb in hi["members"]:
            share = mb["share"]
            if share is None:
                text = t["undecided"]
            elif share == 0:
                text = f"0% ({t['share_none']})"
            else:
                text = f"{share * 100:g}%" + (f" ({mb['because']['label']})" if mb["because"] else "")
            if mb.get("undecided_by"):
                text += f"; {t['need']}: {inputs_text(regime, mb['undecided_by'], lang)}"
            lines.append(f"      {t['member']} {mb['member_no']}: {text}")
    return lines
