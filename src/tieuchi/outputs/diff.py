"""What a change of rules does to a survey (`tieuchi diff`): the same households classified twice — at two dates
(say under vn_2022_2026 and vn_2027_2030), or under the shipped rules and an overlay — and compared: the transition
matrix, the households that change class with their reasons before and after, and the change in every rate,
Alkire–Foster measure and, with a plan, every target.

Classes compared are the computed ones (`household_class`): a rule change is judged on what the rules decide, not on
the class a commune recognised. Households are matched by `household_id`; one accepted on one side only (a birth date
after the first reference date, say) is counted apart, never silently dropped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tieuchi.contract.read import REJECT_COLUMNS, REJECT_WHERE, sort_rejects
from tieuchi.contract.write import make_out_dir, write_csv, writing
from tieuchi.i18n import LANGS
from tieuchi.outputs import report
from tieuchi.outputs.rates import ALL
from tieuchi.outputs.report_render import RATES, fmt_number
from tieuchi.rulebook.load import rules_of
from tieuchi.rulebook.regime import UNKNOWN

@dataclass
class Diff:
    transitions: pd.DataFrame  # scope, before, after, households, percent
    changed: pd.DataFrame  # household_id, commune_code, before, after, reasons_before, reasons_after
    measures: pd.DataFrame  # scope, kind (rate | mpi | target), measure, before, after, change, note
    before_label: str
    after_label: str
    only_before: list[str] = field(default_factory=list)  # ids accepted on one side only
    only_after: list[str] = field(default_factory=list)
    target_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # for the text: target id -> {vi, en}
    classes: list[str] = field(default_factory=list)  # class ids of both sides, in the rules' order, unknown last
    class_names: dict[str, dict[str, str]] = field(default_factory=dict)  # for the text: lang -> class id -> short

    def to_json(self) -> dict:
        def records(df: pd.DataFrame) -> list[dict]:
            out = []
            for rec in df.to_dict("records"):
                out.append({k: (None if _missing(v) else (v.item() if hasattr(v, "item") else v))
                            for k, v in rec.items()})
            return out

        return {"before": self.before_label, "after": self.after_label, "transitions": records(self.transitions),
                "changed": records(self.changed), "measures": records(self.measures),
                "only_before": self.only_before, "only_after": self.only_after}


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _computed(result):
    """The result as reports read it, with the computed class in place of the recognised one."""
    hh = result.households.copy(deep=False)
    cls = hh["household_class"].astype("string")
    hh["eligibility_class"] = cls.where(cls != "unknown")
    return replace(result, households=hh)


def class_order(*results) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The class ids of the results' rules (the first's order, then any the others add; unknown last) and their
    short labels per language."""
    ids: list[str] = []
    names: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for r in results:
        regime = getattr(rules_of(r), "regime", None)
        if regime is None:
            continue
        ids += [c for c in regime.class_ids if c not in ids]
        for lang in LANGS:
            names[lang] = regime.class_labels(lang, short=True) | names[lang]
    seen = {str(c) for r in results for c in r.households["household_class"].dropna().unique()}
    ids += sorted(seen - set(ids))  # classes of a result without rules: as they are
    ids = [c for c in ids if c != UNKNOWN] + [UNKNOWN]
    return ids, names


def label(result) -> str:
    return f"{result.regime} @ {result.reference_date.isoformat()} ({result.rules_version})"


def compare(before, after, plan=None, lang: str = "vi", raw_households: pd.DataFrame | None = None,
            support: pd.DataFrame | None = None, program_data: pd.DataFrame | None = None) -> Diff:
    """Compare two classifications of the same survey (`tieuchi.classify` results)."""
    b_hh, a_hh = before.households, after.households
    b_id = b_hh["household_id"].astype("string")
    a_id = a_hh["household_id"].astype("string")
    common = pd.Index(b_id).intersection(pd.Index(a_id), sort=False)
    b_pos = pd.Series(np.arange(len(b_hh)), index=b_id.to_numpy()).loc[common].to_numpy()
    a_pos = pd.Series(np.arange(len(a_hh)), index=a_id.to_numpy()).loc[common].to_numpy()
    cls_b = b_hh["household_class"].astype("string").to_numpy(dtype=object)[b_pos]
    cls_a = a_hh["household_class"].astype("string").to_numpy(dtype=object)[a_pos]
    communes = b_hh["commune_code"].astype("string").to_numpy(dtype=object)[b_pos]

    classes, class_names = class_order(before, after)
    rows = []
    scopes = [ALL] + sorted({str(c) for c in communes if not _missing(c)})
    for scope in scopes:
        inside = np.ones(len(common), bool) if scope == ALL else (communes == scope)
        total = int(inside.sum())
        pairs = pd.Series(list(zip(cls_b[inside], cls_a[inside]))).value_counts() if total else pd.Series(dtype=int)
        for b in classes:
            for a in classes:
                n = int(pairs.get((b, a), 0))
                if n:
                    rows.append({"scope": scope, "before": b, "after": a, "households": n,
                                 "percent": 100.0 * n / total})
    transitions = pd.DataFrame(rows, columns=["scope", "before", "after", "households", "percent"])

    moved = np.flatnonzero(cls_b != cls_a)
    reasons_b = before.reasons(lang).astype("string").to_numpy(dtype=object)
    reasons_a = after.reasons(lang).astype("string").to_numpy(dtype=object)
    changed = pd.DataFrame({
        "household_id": np.asarray(common, dtype=object)[moved],
        "commune_code": communes[moved],
        "before": cls_b[moved], "after": cls_a[moved],
        "reasons_before": reasons_b[b_pos[moved]], "reasons_after": reasons_a[a_pos[moved]],
    })
    order = {c: i for i, c in enumerate(classes)}
    if len(changed):
        changed = changed.assign(_b=changed["before"].map(order), _a=changed["after"].map(order)) \
            .sort_values(["commune_code", "_b", "_a", "household_id"], kind="stable") \
            .drop(columns=["_b", "_a"]).reset_index(drop=True)

    vb, va = _computed(before), _computed(after)
    measures = []
    rb, ra = report.rates(vb, raw_households), report.rates(va, raw_households)
    for (scope, rid), x in rb.set_index(["scope", "rate_id"]).iterrows():
        y = ra.set_index(["scope", "rate_id"]).loc[(scope, rid)] if (scope, rid) in \
            ra.set_index(["scope", "rate_id"]).index else None
        measures.append(_measure(scope, "rate", rid, x["value"], None if y is None else y["value"]))
    (mb, _), (ma, _) = report.mpi_tables(vb), report.mpi_tables(va)
    ma_i = ma.set_index("scope")
    for row in mb.itertuples(index=False):
        for name in ("H", "A", "M0"):
            after_v = ma_i.loc[row.scope, name] if row.scope in ma_i.index else np.nan
            measures.append(_measure(row.scope, "mpi", name, getattr(row, name), after_v))
    if plan is not None:
        tb, _ = report.achievement(vb, plan, support, program_data, raw_households)
        ta, _ = report.achievement(va, plan, support, program_data, raw_households)
        ta_i = ta.set_index(["target_id", "scope"])
        for row in tb.itertuples(index=False):
            other = ta_i.loc[(row.target_id, row.scope)]
            note = ""
            if row.status == "not_measurable" or other["status"] == "not_measurable":
                note = "not_measurable_before" if row.status == "not_measurable" else ""
                if other["status"] == "not_measurable":
                    note = (note + ";" if note else "") + "not_measurable_after"
            measures.append(_measure(row.scope, "target", row.target_id, row.value, other["value"], note))
    measures = pd.DataFrame(measures, columns=["scope", "kind", "measure", "before", "after", "change", "note"])
    return Diff(transitions=transitions, changed=changed, measures=measures, before_label=label(before),
                after_label=label(after), only_before=sorted(set(b_id) - set(common)),
                only_after=sorted(set(a_id) - set(common)),
                target_labels={tg.id: {"vi": tg.label.vi, "en": tg.label.en} for tg in plan.targets} if plan else {},
                classes=classes, class_names=class_names)


def _measure(scope, kind, name, before, after, note: str = "") -> dict:
    b = np.nan if _missing(before) else float(before)
    a = np.nan if _missing(after) else float(after)
    return {"scope": scope, "kind": kind, "measure": name, "before": b, "after": a,
            "change": a - b if not (np.isnan(a) or np.isnan(b)) else np.nan, "note": note}


# ------------------------------------------------------------------------------------------------------------------
# As text

_T = {
    "vi": {"title": "So sánh phân loại", "before": "Trước", "after": "Sau",
           "matrix": "Ma trận chuyển đổi (số hộ, toàn bộ dữ liệu): hàng = trước, cột = sau",
           "changed": "{n} hộ đổi phân loại", "measures": "Các chỉ số (toàn bộ)",
           "only": "{n} hộ chỉ được phân loại ở một phía (bị loại ở phía kia)", "more": "… và {n} hộ khác (xem --out)",
           "rate": "tỷ lệ", "mpi": "Alkire–Foster", "target": "chỉ tiêu", "nm": "không đo được"},
    "en": {"title": "Classification compared", "before": "Before", "after": "After", "matrix": "Transition matrix "
           "(households, whole survey): rows = before, columns = after", "changed": "{n} households change class",
           "measures": "Measures (whole survey)", "only": "{n} households classified on one side only (rejected on "
           "the other)", "more": "… and {n} more (see --out)", "rate": "rate", "mpi": "Alkire–Foster",
           "target": "target", "nm": "not measurable"},
}


def text(d: Diff, lang: str = "vi", limit: int = 20) -> str:
    t = _T[lang]
    names, classes = d.class_names.get(lang, {}), d.classes
    lines = [t["title"], f"  {t['before']}: {d.before_label}", f"  {t['after']}: {d.after_label}", "", t["matrix"]]
    tr = d.transitions[d.transitions["scope"] == ALL]
    width = max([len(names.get(c, c)) for c in classes] or [0]) + 2
    lines.append(" " * width + "".join(f"{names.get(c, c):>{width}}" for c in classes))
    for b in classes:
        counts = [int(tr[(tr["before"] == b) & (tr["after"] == a)]["households"].sum()) for a in classes]
        lines.append(f"{names.get(b, b):<{width}}" + "".join(f"{n:>{width}}" for n in counts))
    lines += ["", t["changed"].format(n=len(d.changed))]
    for row in d.changed.head(limit).itertuples(index=False):
        lines.append(f"  {row.household_id} ({row.commune_code}): {names.get(row.before, row.before)} → "
                     f"{names.get(row.after, row.after)}")
        lines.append(f"      {t['before']}: {row.reasons_before}")
        lines.append(f"      {t['after']}: {row.reasons_after}")
    if len(d.changed) > limit:
        lines.append("  " + t["more"].format(n=len(d.changed) - limit))
    if d.only_before or d.only_after:
        lines.append(t["only"].format(n=len(d.only_before) + len(d.only_after)))
    lines += ["", t["measures"]]

    m = d.measures[d.measures["scope"] == ALL]
    for row in m.itertuples(index=False):
        digits, unit = (4, "") if row.kind == "mpi" else (2, "%")

        def show(v, digits=digits, unit=unit):
            return "—" if np.isnan(v) else fmt_number(v, lang, digits) + unit

        change = "" if np.isnan(row.change) else \
            f" ({'+' if row.change >= 0 else '−'}{fmt_number(abs(row.change), lang, digits)})"
        note = f" [{t['nm']}]" if row.note else ""
        if row.kind == "rate" and row.measure in RATES:
            name = RATES[row.measure][0 if lang == "vi" else 1]
        elif row.kind == "target":
            name = f"{t['target']} {d.target_labels.get(row.measure, {}).get(lang, row.measure)}"
        else:
            name = f"{t[row.kind]} {row.measure}"
        lines.append(f"  {name}: {show(row.before)} → {show(row.after)}{change}{note}")
    return "\n".join(lines)


OUTPUTS = ("transitions.csv", "changed.csv", "measures.csv", "diff.json", "rejects.csv")  # what the command writes


def write(d: Diff, out, raw_text: bool = False, bom: bool = True) -> list:
    """transitions.csv, changed.csv, measures.csv (text cells escaped against formula injection unless `raw_text`;
    UTF-8 with a byte-order mark unless not `bom`) and diff.json (the raw values: JSON is not opened by a
    spreadsheet) in `out`."""

    out = make_out_dir(out)
    paths = [write_csv(getattr(d, name), out / f"{name}.csv", escape=not raw_text, bom=bom)
             for name in ("transitions", "changed", "measures")]
    p = out / "diff.json"
    with writing(p):
        p.write_text(json.dumps(d.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    paths.append(p)
    return paths


SIDES = {"both": "both", "left_only": "before", "right_only": "after"}


def rejects(before, after) -> pd.DataFrame:
    """The rows refused on either side, each once, with `side` (`both`, `before` or `after`): validation depends on
    the reference date (a birth date after it, a birth year past its year), so the two sides may refuse different
    rows; a household refused on one side only is also counted apart in the comparison."""
    b, a = before.rejects, after.rejects
    kept = REJECT_COLUMNS + REJECT_WHERE  # where each row is (its file, for a survey of several files) too
    b = b[[c for c in kept if c in b.columns]].astype({"row": "int64"})
    a = a[[c for c in kept if c in a.columns]].astype({"row": "int64"})
    if not len(a) and not len(b):
        return b.assign(side=pd.Series(dtype=object))
    key = [c for c in kept if c in a.columns and c in b.columns]
    as_text = {c: "string" for c in key if c != "row"}
    both = pd.merge(b.astype(as_text), a.astype(as_text), on=key, how="outer", indicator="side", sort=False)
    both["side"] = both["side"].astype(str).map(SIDES)
    return sort_rejects(both)
