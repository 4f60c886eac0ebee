"""One household's eligibility explained (`tieuchi check`, `tieuchi.explain`): the class eligibility follows, the
program's statuses, each item in force with its reason, priority groups and the conditions that decided it, and each
member's health-insurance share with the group that gives it — in Vietnamese (default) or English.

The values come from the batch result (whichever backend computed it); the detail comes from the vectorized
evaluator over the household's rows, as for the indicators. No rule logic here."""
from __future__ import annotations

from typing import Any

import numpy as np

from tieuchi.engine.reasons import citation_text

_T = {
    "vi": {"program": "Chương trình", "window": "áp dụng từ {start} đến {end}",
           "outside": "ngày tham chiếu {day} nằm ngoài thời gian áp dụng: không hạng mục nào được xét",
           "follows": "Diện xét hỗ trợ", "recognised": "theo diện xã công nhận",
           "mismatch": "khác với kết quả tính ({computed})", "unknown_class":
               "chưa rõ phân loại: điều kiện nào phụ thuộc vào phân loại thì chưa xác định được",
           "no_program": "Chương trình: không có chương trình nào áp dụng với chuẩn này — không hạng mục nào được "
                         "xét (tình trạng của hộ và mức hỗ trợ đóng bảo hiểm y tế vẫn áp dụng)",
           "statuses": "Tình trạng", "eligible": "đủ điều kiện", "not_eligible": "không đủ điều kiện",
           "undecided": "chưa rõ", "priority": "ưu tiên", "members": "thành viên số", "member": "thành viên số", "none": "không ai",
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
    from tieuchi.engine.vectorized import HOUSEHOLD, MEMBER, eligibility
    from tieuchi.engine.unknowns import undecided_fields
    from tieuchi.outputs.eligible import PRIORITY_LABELS
    from tieuchi.outputs.explanation import _household_checks, _plain

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
    eligibility(ev, np.array([class_ids.index(computed) if computed in class_ids else len(class_ids)]))
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
    P = PRIORITY_LABELS[lang]
    for item in items:
        entry: dict[str, Any] = {"label": getattr(item.label, lang), "unit": item.unit, "citation": cite(item.citation),
                                 "reason": getattr(item.reason, lang)}
        checks = [c for c in _household_checks(ev, item.eligible_when) if _household_level(regime, c)]
        if item.unit == "household":
            value = _plain(row.get(f"eligible_{item.id}"))
            groups = _plain(row.get(f"priority_{item.id}"))
            entry |= {"eligible": value, "priority": groups.split(";") if groups else [],
                      "priority_labels": [P[g] for g in groups.split(";")] if groups else []}
            if value is None and cls is not None:
                found = undecided_fields(ev, item.eligible_when, HOUSEHOLD, np.array([0]))
                entry["undecided_by"] = sorted(k for k, v in found.items() if v[0])
        else:
            col = mem_res.get(f"eligible_{item.id}")
            values = [None if col is None else _plain(v) for v in (col if col is not None else [None] * len(mem_nos))]
            entry |= {"eligible_members": [n for n, v in zip(mem_nos, values) if v is True],
                      "unknown_members": [n for n, v in zip(mem_nos, values) if v is None]}
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
    from tieuchi.contract.columns import columns

    if "var" in check:
        return regime.derived[check["var"]].level == "household"
    name = check.get("field")
    return name is None or (name != "age" and name not in columns("members"))


def eligibility_text(ex: dict, regime, lang: str) -> list[str]:
    """Lines of `tieuchi check --format text` for the `eligibility` part of an explanation."""
    from tieuchi.outputs.explanation import _check_text, inputs_text

    e = ex.get("eligibility")
    if not e:
        return []
    t = _T[lang]
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
            head = f"  {mark} {it['label']} ({t['person']}): " + \
                (f"{t['members']} {', '.join(map(str, who))} — {it['reason']}" if who else t["none"])
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
