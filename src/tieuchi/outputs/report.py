"""The plan achievement report (`tieuchi report`): rates, movements, Alkire–Foster measures, budget per eligible unit
and each target of a plan against the survey — computed from a classified survey (`tieuchi.classify`'s Result).

Every figure uses `eligibility_class` (the class the commune recognised when the survey gives it, else the computed
one). Scopes: `all` (the whole survey — a district plan's area) and each commune code. Nothing is invented: a figure
the data cannot give is `not_measurable` with the reason, and every denominator says where it comes from.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tieuchi.contract.columns import columns
from tieuchi.contract.write import make_out_dir, write_csv, writing
from tieuchi.engine.vectorized import evaluator_for
from tieuchi.errors import DataError, RulesError, UsageError
from tieuchi.outputs.mpi import alkire_foster
from tieuchi.outputs.rates import ALL, rate_table, rejected_households
from tieuchi.outputs.report_render import COLUMNS, Report, fmt_number, write_html, write_xlsx
from tieuchi.rulebook.plans import check_plan, rules_with_plan
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER

MOVEMENTS = ("escaped_poverty", "escaped_near_poverty", "newly_poor", "newly_near_poor", "fell_back_into_poverty",
             "stayed_poor", "stayed_near_poor", "stayed_above_near_poverty", "no_previous_class", "unknown")


def _class(result) -> pd.Series:
    """The class reports use, as text ('' when unknown)."""
    hh = result.households
    col = hh["eligibility_class"] if "eligibility_class" in hh.columns else hh["household_class"]
    return col.astype("string").fillna("").replace("unknown", "")


def _communes_of(result) -> pd.Series:
    return result.households["commune_code"].astype("string")


def _scopes(codes: pd.Series) -> list[str]:
    return [ALL] + sorted(str(c) for c in codes.dropna().unique())


def rates(result, raw_households: pd.DataFrame | None = None) -> pd.DataFrame:
    """`rates.csv`: poor, near-poor and poor-or-near-poor rates (percent) for all and per commune, by the one rate
    rule of :mod:`tieuchi.outputs.rates` on `eligibility_class`: per commune the communes table's `households_total`
    (all resident households) when it gives one, else the surveyed households; for `all` the sum over the communes
    (`denominator_source`: communes, surveyed or mixed — the annual review surveys only part of the households, so a
    surveyed denominator is smaller than the resident households and the rate reads higher than it is). `unknown`:
    households of unknown class (counted in the denominator, never in the numerator: the rate is then a lower bound);
    `rejected`: households refused by validation, in no figure."""
    table = rate_table(_class(result), _communes_of(result), result.communes)
    rejected = rejected_households(result, raw_households)
    out = table.drop(columns="surveyed")
    den = out["denominator"].to_numpy(dtype=float)  # percent as 100 × num / den, to the last digit rates.csv had
    out["value"] = np.where(den > 0, 100.0 * out["numerator"].to_numpy(dtype=float) / np.where(den > 0, den, 1), np.nan)
    out["rejected"] = pd.array([rejected.get(scope, 0) if scope == ALL or raw_households is not None else pd.NA
                                for scope in out["scope"]], dtype="Int64")
    return out[COLUMNS["rates"]]


def movements(result) -> pd.DataFrame:
    """`movements.csv`: how households moved from `previous_class` (the last review) to this review's class.

    Every household is counted once: escaped_poverty (poor → better), escaped_near_poverty (near-poor → better),
    newly_poor (poor now, not before, no earlier exit from poverty), fell_back_into_poverty (poor now, not before,
    with an `exited_poverty_on` before the reference date), newly_near_poor (near-poor now, above before),
    stayed_poor, stayed_near_poor, stayed_above_near_poverty (average living or other, before and now),
    no_previous_class (none given) and unknown (this review's class unknown)."""
    hh = result.households
    now = _class(result)
    before = hh["previous_class"].astype("string").fillna("") if "previous_class" in hh.columns \
        else pd.Series("", index=hh.index, dtype="string")
    exited = pd.to_datetime(hh["exited_poverty_on"], errors="coerce") if "exited_poverty_on" in hh.columns \
        else pd.Series(pd.NaT, index=hh.index)
    earlier_exit = (exited < pd.Timestamp(result.reference_date)).fillna(False).to_numpy(dtype=bool)
    above = {"average_living", "other"}
    now_v, before_v = now.to_numpy(dtype=object), before.to_numpy(dtype=object)
    kind = np.full(len(hh), "", dtype=object)
    is_now = {c: now_v == c for c in ("poor", "near_poor")}
    now_above = np.isin(now_v, list(above))
    was = {c: before_v == c for c in ("poor", "near_poor")}
    was_above = np.isin(before_v, list(above))
    conditions = [
        ("unknown", now_v == ""),
        ("no_previous_class", before_v == ""),
        ("stayed_poor", is_now["poor"] & was["poor"]),
        ("fell_back_into_poverty", is_now["poor"] & ~was["poor"] & earlier_exit),
        ("newly_poor", is_now["poor"] & ~was["poor"]),
        ("escaped_poverty", was["poor"]),  # poor before, not poor now
        ("stayed_near_poor", is_now["near_poor"] & was["near_poor"]),
        ("newly_near_poor", is_now["near_poor"] & was_above),
        ("escaped_near_poverty", was["near_poor"] & now_above),
        ("stayed_above_near_poverty", was_above & now_above),
    ]
    for name, mask in conditions:
        kind[(kind == "") & mask] = name
    kind[kind == ""] = "no_previous_class"  # a previous class outside the known ids: nothing to compare with
    codes = _communes_of(result)
    rows = []
    for scope in _scopes(codes):
        inside = np.ones(len(hh), dtype=bool) if scope == ALL else (codes == scope).fillna(False).to_numpy(bool)
        counts = pd.Series(kind[inside]).value_counts()
        rows += [{"scope": scope, "movement": mv, "households": int(counts.get(mv, 0))} for mv in MOVEMENTS]
    return pd.DataFrame(rows)


def mpi_tables(result, unit: str = "households", k: float = 0.25,
               weights: dict[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`mpi.csv` and `contributions.csv`: Alkire–Foster over the regime's indicators, for all and per commune.
    `unit`: households (the program counts households) or persons (each member carries the household's
    deprivations: households are weighted by their members). Households with an unknown indicator are excluded and
    counted in `excluded`."""
    hh = result.households
    ids = [i for i in result.indicators if f"deprived_{i}" in hh.columns]
    deprived = pd.DataFrame({i: hh[f"deprived_{i}"].astype("boolean") for i in ids}, index=hh.index)
    unit_weights = None
    if unit == "persons":
        counts = result.members.groupby("household_id", sort=False).size() if len(result.members) else pd.Series()
        unit_weights = hh["household_id"].map(counts).fillna(0).astype("int64").to_numpy()
    try:
        return alkire_foster(deprived, weights=weights, k=k, groups=_communes_of(result).to_numpy(dtype=object),
                             unit_weights=unit_weights)
    except ValueError as e:  # declared weights or k the measures cannot use

        raise UsageError(f"Alkire–Foster: {e}", "check --weights and --k",
                         vi=f"Alkire–Foster: {e}", vi_hint="kiểm tra --weights và --k",
                         code="alkire_foster_invalid") from None


# ------------------------------------------------------------------------------------------------------------------
# Targets of a plan

ACHIEVEMENT_COLUMNS = COLUMNS["achievement"]
_NEEDS_VI = {"program_records": "số liệu chương trình (--program-data)",
             "support_records": "hồ sơ hỗ trợ (--support)", "need": "số liệu về nhu cầu (--support)"}
SUPPORT_COLUMNS = ("target_id", "household_id", "member_no", "needed", "received")
PROGRAM_COLUMNS = ("target_id", "numerator", "denominator")


def _evaluator(result, rules_at):
    """The vectorized evaluator over the classified survey's own rows (inputs as validated, eligibility_class as
    decided), so that target conditions read exactly what the classification read."""
    hh = result.households
    if "eligibility_class" not in hh.columns:  # no program applies (vn_2027_2030): the class reports use is the
        cls = hh["household_class"].astype("string")  # computed one, as in `_class`
        hh = hh[[c for c in columns("households") if c in hh.columns]].assign(eligibility_class=pd.Categorical(
            cls.where(cls != "unknown"), categories=[c.id for c in result.rules.regime.classification.classes]))
    return evaluator_for(rules_at, hh, result.members)


def _records(frame: pd.DataFrame | None, wanted: tuple, what: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    missing = [c for c in wanted if c not in frame.columns and c not in ("member_no", "needed")]
    if missing:
        raise DataError(f"{what}: missing column(s) {', '.join(missing)}",
                        f"give the columns {', '.join(wanted)} (see README, 'Plan report')",
                        vi=f"{what}: thiếu cột {', '.join(missing)}",
                        vi_hint=f"cần các cột {', '.join(wanted)} (xem README, mục báo cáo kế hoạch)",
                        code="table_columns_missing")
    return frame


def _truthy(s: pd.Series) -> np.ndarray:
    text = s.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "có", "co", "x"]).fillna(False).to_numpy(dtype=bool)


def _unit_keys(ev, result, level: str) -> pd.Series:
    """Per unit (household or member row of the evaluator), its key in support records."""
    hid = result.households["household_id"].astype("string").str.strip().reset_index(drop=True)
    if level == "household":
        return hid
    mem = result.members.reset_index(drop=True)
    return mem["household_id"].astype("string").str.strip() + "#" + mem["member_no"].astype("string").str.strip()


def plan_fit(plan, rules_at) -> dict[str, str]:
    """{target id: why the regime cannot measure it}. Under a regime the plan was written for, a condition that does
    not fit is an error in the plan (exit 3); under another regime (a diff against the next standard) each target the
    regime cannot evaluate — an indicator, variable or field it lacks — is not measurable there, and says why."""
    try:
        return check_plan(plan, rules_at)
    except RulesError:
        if rules_at.regime.id in plan.regimes:
            raise
    cannot: dict[str, str] = {}
    for target in plan.targets:
        try:
            cannot.update(check_plan(plan.model_copy(update={"targets": [target]}), rules_at))
        except RulesError as e:
            cannot[target.id] = f"{rules_at.regime.id} cannot evaluate it: {e.message}"
    return cannot


def achievement(result, plan, support: pd.DataFrame | None = None, program_data: pd.DataFrame | None = None,
                raw_households: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """`achievement.csv` rows and notes: every target of `plan` for all (judged) and per commune (not judged).

    A target is computed over the survey: `population` at the unit's level (households, or persons: every member,
    reading household fields of their household), `count` within it; value = count / population in percent among the
    units whose answer is known (`unknown` counts the others). `requires`: need and support records come from
    `support` (columns target_id, household_id, member_no for persons, needed, received: a unit without a record has
    no recorded need and received nothing); program records (models, officials) from `program_data` (target_id,
    numerator, denominator[, scope]). Without them the target is `not_measurable` — never invented. `gap`: percentage
    points short of the target (positive = shortfall); `gap_units`: households or people still needed."""
    cannot = plan_fit(plan, result.rules)
    rules_at = rules_with_plan(result.rules, plan)
    support = _records(support, SUPPORT_COLUMNS, "--support")
    program_data = _records(program_data, PROGRAM_COLUMNS, "--program-data")
    ev = None
    codes_h = _communes_of(result).reset_index(drop=True)
    scopes = _scopes(codes_h)
    rate_rows = rates(result, raw_households)
    notes: list[str] = []
    rows: list[dict] = []

    def emit(target, scope, status, value=np.nan, num=pd.NA, den=pd.NA, unknown=pd.NA, needed_units=pd.NA):
        row = {"target_id": target.id, "scope": scope, "value": value, "target": target.value if target.numeric
               else np.nan, "comparator": target.comparator or "", "met": pd.NA, "gap": np.nan, "gap_units": pd.NA,
               "unit": target.unit, "numerator": num, "denominator": den, "unknown": unknown, "status": status}
        if status in ("met", "not_met", "not_judged", "no_numeric_target") and not pd.isna(den) and den == 0:
            row["status"] = "not_measurable"  # nobody in the population: no rate to judge
        elif status in ("met", "not_met", "not_judged") and target.numeric and not pd.isna(value):
            gap = target.value - value if target.comparator == "ge" else value - target.value
            row["gap"] = max(gap, 0.0)
            if not pd.isna(den):
                goal = target.value / 100.0 * float(den)
                units = np.ceil(goal - float(num) - 1e-9) if target.comparator == "ge" \
                    else np.ceil(float(num) - goal - 1e-9)
                row["gap_units"] = int(max(units, 0))
            if scope == ALL:
                met = value >= target.value if target.comparator == "ge" else value <= target.value
                row["met"] = bool(met)
                row["status"] = "met" if met else "not_met"
        rows.append(row)

    for target in plan.targets:
        missing_data = [r for r in target.requires if
                        (r == "program_records" and (program_data is None or
                                                     not (program_data["target_id"] == target.id).any())) or
                        (r in ("support_records", "need") and (support is None or
                                                               not (support["target_id"] == target.id).any()))]
        status_base = "not_judged" if target.numeric else "no_numeric_target"
        if target.id in cannot or missing_data:
            need_vi = ", ".join(_NEEDS_VI.get(x, x) for x in missing_data)
            reason = cannot.get(target.id) or "needs " + ", ".join(missing_data)
            notes.append({"en": f"{target.id}: not measurable ({reason})",
                          "vi": f"{target.id}: không đo được ("
                                + (f"cần {need_vi}" if missing_data else cannot.get(target.id, "")) + ")"})
            for scope in scopes:
                emit(target, scope, "not_measurable")
            continue
        if "program_records" in target.requires:
            recs = program_data[program_data["target_id"] == target.id]
            for scope in scopes:
                at = recs[recs["scope"].astype("string") == scope] if "scope" in recs.columns else \
                    (recs if scope == ALL else recs.iloc[0:0])
                if scope == ALL and "scope" in recs.columns and not len(at):
                    at = recs[recs["scope"].isna()]
                if not len(at):
                    emit(target, scope, "not_measurable")
                    continue
                num, den = float(at["numerator"].sum()), float(at["denominator"].sum())
                emit(target, scope, status_base, 100.0 * num / den if den else np.nan, int(num), int(den), 0)
            continue
        if target.denominator_source == "communes":
            src = rate_rows[rate_rows["rate_id"] == "poor"].set_index("scope")
            t, f = None, None
            if ev is None:
                ev = _evaluator(result, rules_at)
            t, f = ev.eval(target.count, HOUSEHOLD)
            t = np.broadcast_to(t, (ev.n_h,))
            for scope in scopes:
                inside = np.ones(ev.n_h, bool) if scope == ALL else (codes_h == scope).fillna(False).to_numpy(bool)
                den = int(src.loc[scope, "denominator"])
                num = int((t & inside).sum())
                unk = int((~(t | np.broadcast_to(f, (ev.n_h,))) & inside).sum())
                emit(target, scope, status_base, 100.0 * num / den if den else np.nan, num, den, unk)
            if (src["denominator_source"] != "communes").any():
                notes.append({"en": f"{target.id}: some denominators are the surveyed households (no "
                                    "households_total in the communes table)",
                              "vi": f"{target.id}: một số mẫu số là số hộ được rà soát (bảng xã không có tổng số "
                                    "hộ)"})
            continue
        if ev is None:
            ev = _evaluator(result, rules_at)
        level = HOUSEHOLD if target.unit == "households" else MEMBER
        n = ev.n(level)
        pop_t, pop_f = (np.broadcast_to(x, (n,)) for x in
                        (ev.eval(target.population, level) if target.population is not None
                         else (np.ones(n, bool), np.zeros(n, bool))))
        cnt_t, cnt_f = (np.broadcast_to(x, (n,)) for x in
                        (ev.eval(target.count, level) if target.count is not None
                         else (np.ones(n, bool), np.zeros(n, bool))))
        if "need" in target.requires or "support_records" in target.requires:
            recs = support[support["target_id"] == target.id]
            keys = _unit_keys(ev, result, level)
            rk = recs["household_id"].astype("string").str.strip()
            if level == MEMBER:
                rk = rk + "#" + recs["member_no"].astype("string").str.strip()
            if "need" in target.requires:
                needed = keys.isin(set(rk[_truthy(recs["needed"])] if "needed" in recs.columns else rk)).to_numpy()
                pop_t, pop_f = pop_t & needed, pop_f | ~needed
            if "support_records" in target.requires:
                received = keys.isin(set(rk[_truthy(recs["received"])])).to_numpy()
                cnt_t, cnt_f = cnt_t & received, cnt_f | ~received
        num_m = pop_t & cnt_t
        den_m = pop_t & (cnt_t | cnt_f)
        unk_m = ~(pop_t | pop_f) | (pop_t & ~(cnt_t | cnt_f))
        codes = codes_h.to_numpy(dtype=object) if level == HOUSEHOLD else codes_h.to_numpy(dtype=object)[ev.pos]
        for scope in scopes:
            inside = np.ones(n, bool) if scope == ALL else (pd.Series(codes) == scope).fillna(False).to_numpy(bool)
            num, den, unk = int((num_m & inside).sum()), int((den_m & inside).sum()), int((unk_m & inside).sum())
            emit(target, scope, status_base, 100.0 * num / den if den else np.nan, num, den, unk)
    out = pd.DataFrame(rows, columns=ACHIEVEMENT_COLUMNS)
    for c in ("numerator", "denominator", "unknown", "gap_units"):
        out[c] = out[c].astype("Int64")
    out["met"] = out["met"].astype("boolean")
    return out, notes


# ------------------------------------------------------------------------------------------------------------------
# Budget per eligible unit

BUDGET_COLUMNS = COLUMNS["budget"]


def budget(result, plan, allocation: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """`budget.csv`: per budget line, its amount and — for a line that funds an eligibility item — the eligible
    households or people in scope and the budget per eligible unit (VND). Per commune only with an `allocation`
    table (commune_code, budget_line, amount_million_vnd): the plan's appendix, when a district has one."""
    if plan.budget is None:
        return pd.DataFrame(columns=BUDGET_COLUMNS), []
    hh, mem = result.households, result.members
    units = {}
    pr = result.rules.regime.program if result.rules is not None else None
    for line in plan.budget.lines:
        if line.item and pr is not None and line.item in pr.items:
            units[line.item] = "households" if pr.items[line.item].unit == "household" else "persons"
    codes_h = _communes_of(result)
    mem_codes = mem["household_id"].map(pd.Series(codes_h.to_numpy(), index=hh["household_id"])) if len(mem) \
        else pd.Series(dtype="string")
    notes: list[str] = []
    rows = []

    def eligible(item: str, scope: str):
        col = f"eligible_{item}"
        frame, codes = (hh, codes_h) if units[item] == "households" else (mem, mem_codes)
        if col not in frame.columns:
            return pd.NA
        mask = frame[col].fillna(False).to_numpy(dtype=bool)
        if scope != ALL:
            mask &= (codes.astype("string") == scope).fillna(False).to_numpy(dtype=bool)
        return int(mask.sum())

    alloc = None
    if allocation is not None:
        alloc = _records(allocation, ("commune_code", "budget_line", "amount_million_vnd"), "--allocation")
    scopes = [ALL] + (sorted(str(c) for c in alloc["commune_code"].astype("string").unique()) if alloc is not None
                      else [])
    for scope in scopes:
        for line in plan.budget.lines:
            if scope == ALL:
                amount = float(line.amount)
            else:
                at = alloc[(alloc["commune_code"].astype("string") == scope) & (alloc["budget_line"] == line.id)]
                if not len(at):
                    continue
                amount = float(pd.to_numeric(at["amount_million_vnd"]).sum())
            item = line.item if line.item in units else None
            n = eligible(item, scope) if item else pd.NA
            per = amount * 1e6 / n if item and not pd.isna(n) and n else np.nan
            rows.append({"scope": scope, "budget_line": line.id, "item": line.item or "", "amount_million_vnd": amount,
                         "eligible_units": n, "unit": units.get(line.item, "") if item else "",
                         "per_unit_vnd": per})
            if scope == ALL and line.item and item and pd.isna(n):
                notes.append({"en": f"{line.id}: item {line.item} is not in force on {result.reference_date}: no "
                                    "eligible units",
                              "vi": f"{line.id}: hạng mục {line.item} không áp dụng vào ngày {result.reference_date}: "
                                    "không có đối tượng"})
    if any(line.item for line in plan.budget.lines):
        notes.append({"en": "Budget per eligible unit = the line's amount ÷ the eligible households or people: an "
                            "average, not what a household receives (e.g. a project funding models that households "
                            "join).",
                      "vi": "Kinh phí bình quân = kinh phí của dòng ÷ số hộ hoặc người đủ điều kiện: là số bình quân, "
                            "không phải mức mỗi hộ nhận (ví dụ dự án hỗ trợ các mô hình mà hộ tham gia)."})
    out = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    out["eligible_units"] = out["eligible_units"].astype("Int64")
    return out, notes


# ------------------------------------------------------------------------------------------------------------------
# The whole report

FILES = ("achievement", "rates", "movements", "mpi", "contributions", "budget")


def build(result, plan, survey_name: str = "", support: pd.DataFrame | None = None,
          program_data: pd.DataFrame | None = None, allocation: pd.DataFrame | None = None,
          raw_households: pd.DataFrame | None = None, unit: str = "households", k: float = 0.25,
          weights: dict[str, float] | None = None):
    """Every table of the report and what the renderer needs to show them (`report_render.Report`)."""
    ach, notes = achievement(result, plan, support, program_data, raw_households)
    bud, bud_notes = budget(result, plan, allocation)
    mpi, contributions = mpi_tables(result, unit=unit, k=k, weights=weights)
    rt = rates(result, raw_households)
    if (rt["denominator_source"] != "communes").any():
        notes.insert(0, {"en": "Some rates use the surveyed households as denominator (no households_total in the "
                               "communes table): the annual review surveys only part of the households.",
                         "vi": "Một số tỷ lệ lấy số hộ được rà soát làm mẫu số (bảng xã không có tổng số hộ): kỳ rà "
                               "soát hằng năm chỉ rà soát một phần số hộ."})
    if unit == "persons":
        notes.append({"en": "Alkire–Foster measures count persons (each member carries the household's "
                            "deprivations).",
                      "vi": "Chỉ số nghèo đa chiều Alkire–Foster tính theo người (mỗi thành viên mang thiếu hụt của "
                            "hộ)."})
    communes = {}
    if result.communes is not None and "commune_name" in result.communes.columns:
        communes = {str(c): str(nm) for c, nm in zip(result.communes["commune_code"], result.communes["commune_name"])
                    if not pd.isna(nm)}
    if "commune_name" in result.households.columns:
        for c, nm in result.households[["commune_code", "commune_name"]].drop_duplicates().itertuples(index=False):
            if not pd.isna(nm):
                communes.setdefault(str(c), str(nm))
    indicator_labels = {i.id: {"vi": i.label.vi, "en": i.label.en} for i in result.rules.indicators}
    return Report(plan_id=plan.id, plan_label={"vi": plan.label.vi, "en": plan.label.en}, regime=result.regime,
                  rules_version=result.rules_version, reference_date=result.reference_date, survey=survey_name,
                  achievement=ach, rates=rt, movements=movements(result), mpi=mpi, contributions=contributions,
                  budget=bud, target_labels={t.id: {"vi": t.label.vi, "en": t.label.en} for t in plan.targets},
                  target_sections={t.id: t.section for t in plan.targets}, communes=communes,
                  indicator_labels=indicator_labels, notes=notes + bud_notes)


def output_names() -> list[str]:
    """The files :func:`write` writes (the CLI adds rejects.csv): checked before a survey is read."""
    return [f"{name}.csv" for name in FILES] + ["report.html", "report.xlsx"]


def write(report, out, lang: str = "vi", raw_text: bool = False, bom: bool = True) -> list:
    """achievement.csv … budget.csv (UTF-8 with a byte-order mark unless not `bom`, machine ids, numbers as numbers,
    text cells escaped against formula injection unless `raw_text`), report.html and report.xlsx."""
    out = make_out_dir(out)
    paths = [write_csv(getattr(report, name), out / f"{name}.csv", escape=not raw_text, bom=bom) for name in FILES]
    for name, writer in (("report.html", write_html), ("report.xlsx", write_xlsx)):
        with writing(out / name):
            paths.append(writer(report, out / name, lang=lang))
    return paths


def read_table(path, what: str) -> pd.DataFrame:
    """A small input table (--support, --program-data, --allocation): CSV (UTF-8) or the first sheet of an .xlsx."""

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what}: no file {p}", "give the path of a .csv or .xlsx file",
                         vi=f"{what}: không có tệp {p}", vi_hint="cho đường dẫn của một tệp .csv hoặc .xlsx",
                         code="input_file_not_found")
    if p.suffix.lower() == ".xlsx":
        return pd.read_excel(p, dtype=str)
    return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


_SUMMARY = {
    "vi": {"title": "Kết quả thực hiện chỉ tiêu (toàn địa bàn khảo sát)", "met": "đạt", "not_met": "chưa đạt",
           "not_measurable": "không đo được", "no_numeric_target": "không có chỉ tiêu bằng số",
           "not_judged": "không đánh giá", "poor": "Tỷ lệ hộ nghèo", "near_poor": "Tỷ lệ hộ cận nghèo",
           "mpi": "Chỉ số nghèo đa chiều (Alkire–Foster)"},
    "en": {"title": "Target achievement (whole survey)", "met": "met", "not_met": "not met",
           "not_measurable": "not measurable", "no_numeric_target": "no numeric target", "not_judged": "not judged",
           "poor": "Poverty rate", "near_poor": "Near-poverty rate", "mpi": "Multidimensional poverty (Alkire–Foster)"},
}


def summary_text(report, lang: str = "vi") -> str:
    """A few lines for the terminal: each target's value against the plan, the rates and M0."""
    t = _SUMMARY[lang]
    ops = {"ge": "≥", "le": "≤", "": ""}
    lines = [t["title"]]
    a = report.achievement[report.achievement["scope"] == ALL]
    for row in a.itertuples(index=False):
        label = report.target_labels.get(row.target_id, {}).get(lang, row.target_id)
        value = "—" if pd.isna(row.value) else fmt_number(row.value, lang, 2) + "%"
        goal = "" if pd.isna(row.target) else f" ({ops[row.comparator]} {fmt_number(row.target, lang, 2)}%)"
        lines.append(f"  {label}: {value}{goal} — {t.get(row.status, row.status)}")
    r = report.rates[report.rates["scope"] == ALL].set_index("rate_id")
    for rid in ("poor", "near_poor"):
        if rid in r.index:
            lines.append(f"{t[rid]}: {fmt_number(r.loc[rid, 'value'], lang, 2)}% "
                         f"({int(r.loc[rid, 'numerator'])}/{int(r.loc[rid, 'denominator'])})")
    m = report.mpi[report.mpi["scope"] == ALL]
    if len(m) and not pd.isna(m.iloc[0]["M0"]):
        x = m.iloc[0]
        lines.append(f"{t['mpi']}: H = {fmt_number(x['H'], lang, 3)}, A = {fmt_number(x['A'], lang, 3)}, "
                     f"M0 = {fmt_number(x['M0'], lang, 3)} (k = {fmt_number(x['k'], lang, 2)})")
    return "\n".join(lines)
