"""The plan achievement report (`tieuchi report`): rates, movements, Alkire–Foster measures, budget per eligible unit
and each target of a plan against the survey — computed from a classified survey (`tieuchi.classify`'s Result).

Every figure uses `eligibility_class` (the class the commune recognised when the survey gives it, else the computed
one). Scopes: `all` (the whole survey — a district plan's area) and each commune code. Nothing is invented: a figure
the data cannot give is `not_measurable` with the reason, and every denominator says where it comes from.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from tieuchi.contract.columns import columns
from tieuchi.contract.write import make_out_dir, write_csv, writing
from tieuchi.engine.vectorized import evaluator_for
from tieuchi.errors import DataError, RulesError, UsageError
from tieuchi.i18n import LANGS, table, text
from tieuchi.outputs.mpi import alkire_foster
from tieuchi.outputs.rates import ALL, rate_table, rejected_households
from tieuchi.outputs.report_render import (COLUMNS, SHEETS, Report, fmt_date, fmt_number, unit_word, write_html,
                                           write_xlsx)
from tieuchi.rulebook.plans import check_plan, rules_with_plan
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER

MOVEMENTS = ("escaped_poverty", "escaped_near_poverty", "newly_poor", "newly_near_poor", "fell_back_into_poverty",
             "stayed_poor", "stayed_near_poor", "stayed_above_near_poverty", "no_previous_class", "unknown")


def _is(col: pd.Series, values: list[str], missing: bool = False) -> np.ndarray:
    """Whether each value of `col`, as text, is one of `values` (`missing`: a missing value counts too). A
    categorical column is compared by its categories, not row by row."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.array([str(c) for c in col.cat.categories], dtype=object)
        wanted = np.flatnonzero(np.isin(cats, values))
        codes = col.cat.codes.to_numpy()
        out = np.isin(codes, wanted)
        return out | (codes < 0) if missing else out
    text = col.astype("string")
    out = text.isin(values).fillna(False).to_numpy(dtype=bool)
    return out | text.isna().to_numpy(dtype=bool) if missing else out


def rates(result, raw_households: pd.DataFrame | None = None) -> pd.DataFrame:
    """`rates.csv`: poor, near-poor and poor-or-near-poor rates (percent) for all and per commune, by the one rate
    rule of :mod:`tieuchi.outputs.rates` on `eligibility_class`: per commune the communes table's `households_total`
    (all resident households) when it gives one, else the surveyed households; for `all` the sum over the communes
    (`denominator_source`: communes, surveyed or mixed — the annual review surveys only part of the households, so a
    surveyed denominator is smaller than the resident households and the rate reads higher than it is). `unknown`:
    households of unknown class (counted in the denominator, never in the numerator: the rate is then a lower bound);
    `rejected`: households refused by validation, in no figure."""
    hh = result.households  # the class column as it is (a categorical costs nothing): rate_table reads 'unknown'
    table = rate_table(hh["eligibility_class"] if "eligibility_class" in hh.columns else hh["household_class"],
                       hh["commune_code"], result.communes)  # and a missing class alike
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
    now = hh["eligibility_class"] if "eligibility_class" in hh.columns else hh["household_class"]
    before = hh["previous_class"] if "previous_class" in hh.columns else pd.Series(pd.NA, index=hh.index,
                                                                                   dtype="string")
    exited = pd.to_datetime(hh["exited_poverty_on"], errors="coerce") if "exited_poverty_on" in hh.columns \
        else pd.Series(pd.NaT, index=hh.index)
    earlier_exit = (exited < pd.Timestamp(result.reference_date)).fillna(False).to_numpy(dtype=bool)
    above = ["average_living", "other"]
    kind = np.full(len(hh), -1, dtype=np.int64)  # position in MOVEMENTS
    is_now = {c: _is(now, [c]) for c in ("poor", "near_poor")}
    now_above = _is(now, above)
    was = {c: _is(before, [c]) for c in ("poor", "near_poor")}
    was_above = _is(before, above)
    conditions = [
        ("unknown", _is(now, ["", "unknown"], missing=True)),  # the class reports use, unknown ('' or none)
        ("no_previous_class", _is(before, [""], missing=True)),
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
        kind[(kind < 0) & mask] = MOVEMENTS.index(name)
    kind[kind < 0] = MOVEMENTS.index("no_previous_class")  # a previous class outside the known ids: nothing to
    # compare with
    communes, pos = _groups(result.households["commune_code"])
    which = kind
    m = len(MOVEMENTS)
    counts = np.bincount((pos + 1) * m + which, minlength=(len(communes) + 1) * m).reshape(len(communes) + 1, m)
    counts[0] = counts.sum(axis=0)  # all: every household, one without a commune code included
    return pd.DataFrame({"scope": np.repeat(np.array([ALL] + communes, dtype=object), m),
                         "movement": np.tile(np.array(MOVEMENTS, dtype=object), len(communes) + 1),
                         "households": counts.ravel().astype(np.int64)})


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
        return alkire_foster(deprived, weights=weights, k=k, groups=hh["commune_code"],
                             unit_weights=unit_weights)
    except ValueError as e:  # declared weights or k the measures cannot use

        raise UsageError(f"Alkire–Foster: {e}", "check --weights and --k",
                         vi=f"Alkire–Foster: {e}", vi_hint="kiểm tra --weights và --k",
                         code="alkire_foster_invalid") from None


# ------------------------------------------------------------------------------------------------------------------
# Targets of a plan

ACHIEVEMENT_COLUMNS = COLUMNS["achievement"]
# the report's notes: sentences in each language that name a target, a budget line or an item by its label
NOTES = table(
    vi={"not_measurable_needs": "Chưa đo được chỉ tiêu “{label}”: cần {needs}.",
        "needs_program_records": "số liệu của chương trình (cho bằng tùy chọn --program-data)",
        "needs_support_records": "hồ sơ hỗ trợ (cho bằng tùy chọn --support)",
        "needs_need": "danh sách người hoặc hộ có nhu cầu (cho bằng tùy chọn --support)",
        "needs_need_support": "danh sách người hoặc hộ có nhu cầu và hồ sơ hỗ trợ (cho bằng tùy chọn --support)",
        "not_measurable_regime": "Chưa đo được chỉ tiêu “{label}” theo chuẩn nghèo {regime}: {why}",
        "surveyed_denominators": "Chỉ tiêu “{label}”: một số xã không có tổng số hộ trong bảng xã, nên mẫu số là số "
                                 "hộ được rà soát.",
        "item_not_in_force": "Dòng kinh phí “{line}”: nội dung hỗ trợ “{item}” không áp dụng vào ngày {day}, nên "
                             "không có đối tượng đủ điều kiện.",
        "per_unit": "Kinh phí bình quân = kinh phí của dòng ÷ số hộ hoặc số người đủ điều kiện: là số bình quân, "
                    "không phải mức mỗi hộ nhận (ví dụ dự án hỗ trợ các mô hình mà hộ tham gia).",
        "surveyed_rates": "Một số tỷ lệ lấy số hộ được rà soát làm mẫu số (bảng xã không có tổng số hộ): kỳ rà soát "
                          "hằng năm chỉ rà soát một phần số hộ.",
        "persons": "Chỉ số nghèo đa chiều Alkire–Foster tính theo người (mỗi thành viên mang thiếu hụt của hộ).",
        "program_not_number": "--program-data: chỉ tiêu {target} có tử số hoặc mẫu số không phải là số",
        "program_not_number_hint": "ghi tử số và mẫu số bằng số, ví dụ 9 và 10",
        "commune_unknown": "--commune: không có xã mã {codes} trong cuộc rà soát",
        "commune_unknown_hint": "dùng một trong các mã xã: {known}"},
    en={"not_measurable_needs": "“{label}” cannot be measured: it needs {needs}.",
        "needs_program_records": "the program's records (give them with --program-data)",
        "needs_support_records": "the support records (give them with --support)",
        "needs_need": "the list of people or households who need the support (give it with --support)",
        "needs_need_support": "the list of people or households who need the support and the support records "
                              "(give them with --support)",
        "not_measurable_regime": "“{label}” cannot be measured under the poverty standard {regime}: {why}",
        "surveyed_denominators": "“{label}”: some communes have no households_total in the communes table, so the "
                                 "denominator is the surveyed households.",
        "item_not_in_force": "Budget line “{line}”: the item “{item}” is not in force on {day}, so nobody is "
                             "eligible.",
        "per_unit": "Budget per eligible unit = the line's amount ÷ the eligible households or people: an average, not "
                    "what a household receives (e.g. a project funding models that households join).",
        "surveyed_rates": "Some rates use the surveyed households as denominator (no households_total in the communes "
                          "table): the annual review surveys only part of the households.",
        "persons": "Alkire–Foster measures count persons (each member carries the household's deprivations).",
        "program_not_number": "--program-data: target {target} has a numerator or denominator that is not a number",
        "program_not_number_hint": "write the numerator and denominator as numbers, e.g. 9 and 10",
        "commune_unknown": "--commune: no commune with code {codes} in the survey",
        "commune_unknown_hint": "use one of the commune codes: {known}"},
)
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


def _plan_fit_errors(plan, rules_at) -> dict[str, RulesError]:
    """{target id: the error that says why the regime cannot measure it} (see :func:`plan_fit`)."""
    try:
        check_plan(plan, rules_at)
        return {}
    except RulesError:
        if rules_at.regime.id in plan.regimes:
            raise
    cannot: dict[str, RulesError] = {}
    for target in plan.targets:
        try:
            check_plan(plan.model_copy(update={"targets": [target]}), rules_at)
        except RulesError as e:
            cannot[target.id] = e
    return cannot


def plan_fit(plan, rules_at) -> dict[str, str]:
    """{target id: why the regime cannot measure it}. Under a regime the plan was written for, a condition that does
    not fit is an error in the plan (exit 3); under another regime (a diff against the next standard) each target the
    regime cannot evaluate — an indicator, variable or field it lacks — is not measurable there, and says why."""
    return {tid: f"{rules_at.regime.id} cannot evaluate it: {e.message}"
            for tid, e in _plan_fit_errors(plan, rules_at).items()}


def _groups(codes: pd.Series, scopes: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The commune scopes (the codes as text, sorted, unless given) and each row's position among them (-1: a row
    with no commune code, or one outside `scopes`). Factorised first, so that only the distinct codes are turned into
    text (a categorical column costs nothing): grouped once, every figure is then one bincount (`_tally`)."""
    codes = pd.Series(codes) if not isinstance(codes, pd.Series) else codes
    ids, uniques = pd.factorize(codes, use_na_sentinel=True)
    texts = [str(u) for u in uniques]
    if scopes is None:
        scopes = sorted(set(texts))
    at = {scope: i for i, scope in enumerate(scopes)}
    lookup = np.array([at.get(t, -1) for t in texts] + [-1], dtype=np.int64)  # the last: the NA sentinel
    return scopes, lookup[np.asarray(ids, dtype=np.int64)]


def _tally(mask: np.ndarray, pos: np.ndarray, n_groups: int) -> np.ndarray:
    """Counts of `mask` for `all` (every row, a row without a commune included) then for each group."""
    mask = np.asarray(mask, dtype=bool)
    out = np.bincount(pos[mask] + 1, minlength=n_groups + 1).astype(np.int64)
    out[0] = int(mask.sum())
    return out


def _program_sums(recs: pd.DataFrame, scopes: list[str]) -> dict[str, tuple[float, float]]:
    """{scope: (numerator, denominator)} of a target's program records: per commune the rows of its code; for `all`
    the rows whose scope is `all`, else those with no scope, else (no scope column) every row."""
    num = pd.to_numeric(recs["numerator"], errors="coerce")
    den = pd.to_numeric(recs["denominator"], errors="coerce")
    bad = (num.isna() & recs["numerator"].notna()) | (den.isna() & recs["denominator"].notna())
    if bad.any():
        raise DataError.from_table(NOTES, "program_not_number", hint="program_not_number_hint",
                                   code="program_data_not_a_number",
                                   target=str(recs["target_id"].iloc[0]))
    if "scope" not in recs.columns:
        return {ALL: (float(num.sum()), float(den.sum()))} if len(recs) else {}
    sc = recs["scope"].astype("string")
    out: dict[str, tuple[float, float]] = {}
    for scope, part in pd.DataFrame({"s": sc, "n": num, "d": den}).groupby("s", sort=False):
        out[str(scope)] = (float(part["n"].sum()), float(part["d"].sum()))
    if ALL not in out and sc.isna().any():
        out[ALL] = (float(num[sc.isna()].sum()), float(den[sc.isna()].sum()))
    return {s: v for s, v in out.items() if s == ALL or s in set(scopes)}


def achievement(result, plan, support: pd.DataFrame | None = None, program_data: pd.DataFrame | None = None,
                raw_households: pd.DataFrame | None = None, rate_rows: pd.DataFrame | None = None
                ) -> tuple[pd.DataFrame, list[dict]]:
    """`achievement.csv` rows and notes: every target of `plan` for all (judged) and per commune (not judged).

    A target is computed over the survey: `population` at the unit's level (households, or persons: every member,
    reading household fields of their household), `count` within it; value = count / population in percent among the
    units whose answer is known (`unknown` counts the others). `requires`: need and support records come from
    `support` (columns target_id, household_id, member_no for persons, needed, received: a unit without a record has
    no recorded need and received nothing); program records (models, officials) from `program_data` (target_id,
    numerator, denominator[, scope]). Without them the target is `not_measurable` — never invented. `gap`: percentage
    points short of the target (positive = shortfall); `gap_units`: households or people still needed.

    One grouped pass: the households are grouped by commune once, each target's conditions are evaluated once over
    the whole survey, and every scope's counts come from one bincount per figure (`_tally`). Notes are
    ``{"vi", "en", "target_id"}``: sentences naming the target by its label. `rate_rows`: :func:`rates` of the same
    result and raw households, when the caller has them already."""
    cannot = _plan_fit_errors(plan, result.rules)
    rules_at = rules_with_plan(result.rules, plan)
    support = _records(support, SUPPORT_COLUMNS, "--support")
    program_data = _records(program_data, PROGRAM_COLUMNS, "--program-data")
    ev = None
    communes, pos_h = _groups(result.households["commune_code"])
    scopes = [ALL] + communes
    n_groups = len(communes)
    rate_rows = rates(result, raw_households) if rate_rows is None else rate_rows
    labels = {t.id: t.label for t in plan.targets}
    keys: dict[str, pd.Series] = {}  # support-record key per unit, by level: built once
    notes: list[dict] = []
    rows: list[dict] = []

    def note(key: str, target, **values) -> None:
        label = labels[target.id]
        notes.append({**{lang: text(NOTES, key, lang, label=getattr(label, lang) or target.id,
                                    **{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})
                         for lang in LANGS}, "target_id": target.id})

    def emit(target, scope, status, value=np.nan, num=pd.NA, den=pd.NA, unknown=pd.NA):
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

    def emit_counts(target, status, num: np.ndarray, den: np.ndarray, unk: np.ndarray) -> None:
        for i, scope in enumerate(scopes):
            n, d = int(num[i]), int(den[i])
            emit(target, scope, status, 100.0 * n / d if d else np.nan, n, d, int(unk[i]))

    for target in plan.targets:
        missing_data = [r for r in target.requires if
                        (r == "program_records" and (program_data is None or
                                                     not (program_data["target_id"] == target.id).any())) or
                        (r in ("support_records", "need") and (support is None or
                                                               not (support["target_id"] == target.id).any()))]
        status_base = "not_judged" if target.numeric else "no_numeric_target"
        if target.id in cannot or missing_data:
            if missing_data:
                kinds = ["need_support"] if set(missing_data) == {"need", "support_records"} else missing_data
                needs = {lang: ", ".join(text(NOTES, "needs_" + x, lang) for x in kinds) for lang in LANGS}
                note("not_measurable_needs", target, needs=needs)
            else:
                e = cannot[target.id]
                note("not_measurable_regime", target, regime=result.regime,
                     why={"en": e.message, "vi": e.vi or e.message})
            for scope in scopes:
                emit(target, scope, "not_measurable")
            continue
        if "program_records" in target.requires:
            sums = _program_sums(program_data[program_data["target_id"] == target.id], communes)
            for scope in scopes:
                if scope not in sums:
                    emit(target, scope, "not_measurable")
                    continue
                num, den = sums[scope]
                emit(target, scope, status_base, 100.0 * num / den if den else np.nan, int(num), int(den), 0)
            continue
        if ev is None:
            ev = _evaluator(result, rules_at)
        if target.denominator_source == "communes":
            src = rate_rows[rate_rows["rate_id"] == "poor"].set_index("scope")
            t, f = ev.eval(target.count, HOUSEHOLD)
            t, f = np.broadcast_to(t, (ev.n_h,)), np.broadcast_to(f, (ev.n_h,))
            den = np.array([int(src.loc[scope, "denominator"]) for scope in scopes], dtype=np.int64)
            emit_counts(target, status_base, _tally(t, pos_h, n_groups), den, _tally(~(t | f), pos_h, n_groups))
            if (src["denominator_source"] != "communes").any():
                note("surveyed_denominators", target)
            continue
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
            if level not in keys:
                keys[level] = _unit_keys(ev, result, level)
            rk = recs["household_id"].astype("string").str.strip()
            if level == MEMBER:
                rk = rk + "#" + recs["member_no"].astype("string").str.strip()
            if "need" in target.requires:
                needed = keys[level].isin(set(rk[_truthy(recs["needed"])] if "needed" in recs.columns
                                              else rk)).to_numpy()
                pop_t, pop_f = pop_t & needed, pop_f | ~needed
            if "support_records" in target.requires:
                received = keys[level].isin(set(rk[_truthy(recs["received"])])).to_numpy()
                cnt_t, cnt_f = cnt_t & received, cnt_f | ~received
        pos = pos_h if level == HOUSEHOLD else pos_h[ev.pos]
        emit_counts(target, status_base, _tally(pop_t & cnt_t, pos, n_groups),
                    _tally(pop_t & (cnt_t | cnt_f), pos, n_groups),
                    _tally(~(pop_t | pop_f) | (pop_t & ~(cnt_t | cnt_f)), pos, n_groups))
    out = pd.DataFrame(rows, columns=ACHIEVEMENT_COLUMNS)
    for c in ("numerator", "denominator", "unknown", "gap_units"):
        out[c] = out[c].astype("Int64")
    out["met"] = out["met"].astype("boolean")
    return out, notes


# ------------------------------------------------------------------------------------------------------------------
# Budget per eligible unit

BUDGET_COLUMNS = COLUMNS["budget"]


def budget(result, plan, allocation: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """`budget.csv`: per budget line, its amount and — for a line that funds an eligibility item — the eligible
    households or people in scope and the budget per eligible unit (VND). Per commune only with an `allocation`
    table (commune_code, budget_line, amount_million_vnd): the plan's appendix, when a district has one. The eligible
    units of every scope come from one grouped count per item."""
    if plan.budget is None:
        return pd.DataFrame(columns=BUDGET_COLUMNS), []
    hh, mem = result.households, result.members
    units, item_labels = {}, {}
    pr = result.rules.regime.program if result.rules is not None else None
    for line in plan.budget.lines:
        if line.item and pr is not None and line.item in pr.items:
            units[line.item] = "households" if pr.items[line.item].unit == "household" else "persons"
            item_labels[line.item] = pr.items[line.item].label
    notes: list[dict] = []
    rows = []

    alloc = None
    if allocation is not None:
        alloc = _records(allocation, ("commune_code", "budget_line", "amount_million_vnd"), "--allocation")
    communes = sorted(str(c) for c in alloc["commune_code"].astype("string").unique()) if alloc is not None else []
    scopes = [ALL] + communes
    amounts: dict[tuple[str, str], float] = {}
    if alloc is not None:
        given = pd.DataFrame({"c": alloc["commune_code"].astype("string"), "l": alloc["budget_line"],
                              "a": pd.to_numeric(alloc["amount_million_vnd"])})
        amounts = {(str(c), str(ln)): float(a) for (c, ln), a in given.groupby(["c", "l"], sort=False)["a"].sum()
                   .items()}
    pos_h = _groups(hh["commune_code"], communes)[1]
    of_member = pd.Index(hh["household_id"]).get_indexer(mem["household_id"]) if len(mem) and len(hh) \
        else np.full(len(mem), -1, dtype=np.int64)
    pos = {"households": pos_h, "persons": np.where(of_member >= 0, pos_h[of_member] if len(pos_h) else -1, -1)}
    eligible: dict[str, np.ndarray | None] = {}
    for item, unit_ in units.items():
        frame = hh if unit_ == "households" else mem
        col = f"eligible_{item}"
        eligible[item] = _tally(frame[col].fillna(False).to_numpy(dtype=bool), pos[unit_], len(communes)) \
            if col in frame.columns else None

    def line_label(line, lang):
        return getattr(line.label, lang) or line.id

    for i, scope in enumerate(scopes):
        for line in plan.budget.lines:
            if scope == ALL:
                amount = float(line.amount)
            elif (scope, line.id) in amounts:
                amount = amounts[(scope, line.id)]
            else:
                continue
            item = line.item if line.item in units else None
            n = pd.NA if not item or eligible[item] is None else int(eligible[item][i])
            per = amount * 1e6 / n if item and not pd.isna(n) and n else np.nan
            rows.append({"scope": scope, "budget_line": line.id, "item": line.item or "", "amount_million_vnd": amount,
                         "eligible_units": n, "unit": units.get(line.item, "") if item else "",
                         "per_unit_vnd": per})
            if scope == ALL and line.item and item and pd.isna(n):
                notes.append({lang: text(NOTES, "item_not_in_force", lang, line=line_label(line, lang),
                                         item=getattr(item_labels[item], lang) or item,
                                         day=fmt_date(result.reference_date, lang)) for lang in LANGS})
    if any(line.item for line in plan.budget.lines):
        notes.append({lang: text(NOTES, "per_unit", lang) for lang in LANGS})
    out = pd.DataFrame(rows, columns=BUDGET_COLUMNS)
    out["eligible_units"] = out["eligible_units"].astype("Int64")
    return out, notes


# ------------------------------------------------------------------------------------------------------------------
# The whole report

FILES = ("achievement", "rates", "movements", "mpi", "contributions", "budget")


def build(result, plan, survey_name: str = "", support: pd.DataFrame | None = None,
          program_data: pd.DataFrame | None = None, allocation: pd.DataFrame | None = None,
          raw_households: pd.DataFrame | None = None, unit: str = "households", k: float = 0.25,
          weights: dict[str, float] | None = None, communes: list[str] | tuple[str, ...] | None = None):
    """Every table of the report and what the renderer needs to show them (`report_render.Report`).

    `communes`: commune codes (`--commune`) for one or a few communes' report: every figure is computed over the
    whole survey as without them (the whole-survey row stays, as the reference the plan's targets are set for), and
    the tables keep that row and the chosen communes' rows only. A code the survey does not have is a usage error
    listing the codes it has."""
    names = commune_names(result)
    chosen = _chosen(result, communes, names)
    rt = rates(result, raw_households)
    ach, notes = achievement(result, plan, support, program_data, raw_households, rate_rows=rt)
    bud, bud_notes = budget(result, plan, allocation)
    mpi, contributions = mpi_tables(result, unit=unit, k=k, weights=weights)
    if (rt["denominator_source"] != "communes").any():
        notes.insert(0, {lang: text(NOTES, "surveyed_rates", lang) for lang in LANGS})
    if unit == "persons":
        notes.append({lang: text(NOTES, "persons", lang) for lang in LANGS})
    tables = dict(achievement=ach, rates=rt, movements=movements(result), mpi=mpi, contributions=contributions,
                  budget=bud)
    if chosen:
        keep = {ALL, *chosen}
        tables = {name: t[t["scope"].astype("string").isin(keep).to_numpy(dtype=bool)].reset_index(drop=True)
                  for name, t in tables.items()}
        names = {c: names.get(c, c) for c in chosen}
    pr = result.rules.regime.program if result.rules is not None else None
    lines = plan.budget.lines if plan.budget is not None else []
    items = {ln.item: pr.items[ln.item].label for ln in lines if ln.item and pr is not None and ln.item in pr.items}
    ruleset = result.rules.regime.ruleset if result.rules is not None else None
    indicator_labels = {i.id: {"vi": i.label.vi, "en": i.label.en} for i in result.rules.indicators}
    return Report(plan_id=plan.id, plan_label={"vi": plan.label.vi, "en": plan.label.en}, regime=result.regime,
                  rules_version=result.rules_version, reference_date=result.reference_date, survey=survey_name,
                  **tables, target_labels={t.id: {"vi": t.label.vi, "en": t.label.en} for t in plan.targets},
                  target_sections={t.id: t.section for t in plan.targets}, communes=names,
                  indicator_labels=indicator_labels, notes=notes + bud_notes,
                  budget_labels={ln.id: {"vi": ln.label.vi, "en": ln.label.en} for ln in lines},
                  budget_sections={ln.id: ln.section or "" for ln in lines},
                  item_labels={i: {"vi": lb.vi, "en": lb.en} for i, lb in items.items()},
                  regime_label={"vi": ruleset.label.vi, "en": ruleset.label.en} if ruleset is not None else {},
                  selected=list(chosen), k=float(k), unit=unit)


def commune_names(result) -> dict[str, str]:
    """{commune code: name} from the communes table, else from the households' commune_name column."""
    names: dict[str, str] = {}
    if result.communes is not None and "commune_name" in result.communes.columns:
        names = {str(c): str(nm) for c, nm in zip(result.communes["commune_code"], result.communes["commune_name"])
                 if not pd.isna(nm)}
    if "commune_name" in result.households.columns:
        for c, nm in result.households[["commune_code", "commune_name"]].drop_duplicates().itertuples(index=False):
            if not pd.isna(nm):
                names.setdefault(str(c), str(nm))
    return names


def _chosen(result, communes, names: dict[str, str]) -> list[str]:
    """The --commune codes as the survey writes them, in the order given; an unknown one is refused."""
    if not communes:
        return []
    have = _groups(result.households["commune_code"])[0]
    wanted = list(dict.fromkeys(str(c).strip() for c in communes))
    unknown = [c for c in wanted if c not in have]
    if unknown:
        known = ", ".join(f"{c} ({names[c]})" if c in names else c for c in have)
        raise UsageError.from_table(NOTES, "commune_unknown", hint="commune_unknown_hint", code="commune_unknown",
                                    codes=", ".join(unknown), known=known)
    return wanted


def output_names() -> list[str]:
    """The files :func:`write` writes (the CLI adds rejects.csv): checked before a survey is read."""
    return [f"{name}.csv" for name in FILES] + ["report.html", "report.xlsx"]


def write(report, out, lang: str = "vi", raw_text: bool = False, bom: bool = True,
          progress: Callable[[str, int, int], None] | None = None) -> list:
    """achievement.csv … budget.csv (UTF-8 with a byte-order mark unless not `bom`, machine ids, numbers as numbers,
    text cells escaped against formula injection unless `raw_text`), report.html and report.xlsx.
    `progress("write", done, total)` after each file and each sheet of the workbook, so that a progress bar moves
    while the report is written."""
    out = make_out_dir(out)
    total = len(FILES) + 1 + len(SHEETS) + 1  # the CSV tables, the page, the workbook's info sheet and tables
    done = 0

    def step(*_) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("write", min(done, total), total)

    paths = []
    for name in FILES:
        paths.append(write_csv(getattr(report, name), out / f"{name}.csv", escape=not raw_text, bom=bom))
        step()
    with writing(out / "report.html"):
        paths.append(write_html(report, out / "report.html", lang=lang))
    step()
    with writing(out / "report.xlsx"):
        paths.append(write_xlsx(report, out / "report.xlsx", lang=lang, progress=step))
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
           "mpi": "Chỉ số nghèo đa chiều (Alkire–Foster)", "commune": "{name} ({code})", "commune_code": "Xã {code}",
           "short": "còn thiếu {n} {unit}"},
    "en": {"title": "Target achievement (whole survey)", "met": "met", "not_met": "not met",
           "not_measurable": "not measurable", "no_numeric_target": "no numeric target", "not_judged": "not judged",
           "poor": "Poverty rate", "near_poor": "Near-poverty rate", "mpi": "Multidimensional poverty (Alkire–Foster)",
           "commune": "{name} ({code})", "commune_code": "Commune {code}", "short": "{n} {unit} short"},
}


def summary_text(report, lang: str = "vi") -> str:
    """A few lines for the terminal: each target's value against the plan, the rates and H, A, M0 (in percent, as
    the report shows them); with --commune, each chosen commune's values and shortfalls after the whole survey's."""
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
                         f"({fmt_number(r.loc[rid, 'numerator'], lang)}/{fmt_number(r.loc[rid, 'denominator'], lang)})")
    m = report.mpi[report.mpi["scope"] == ALL]
    if len(m) and not pd.isna(m.iloc[0]["M0"]):
        x = m.iloc[0]
        k = float(x["k"])
        k_text = fmt_number(k * 100, lang, 0) + "%" if k <= 1 else fmt_number(k, lang, 0)
        lines.append(f"{t['mpi']}: H = {fmt_number(x['H'] * 100, lang, 2)}%, A = {fmt_number(x['A'] * 100, lang, 2)}%, "
                     f"M0 = {fmt_number(x['M0'] * 100, lang, 2)}% (k = {k_text})")
    for code in report.selected:
        # a commune's name says what it is ("Xã Cao Xá", "Thị trấn Cao Thượng"); a commune without a name: its code
        name = report.communes.get(code)
        lines.append(t["commune"].format(name=name, code=code) if name and name != code else
                     t["commune_code"].format(code=code))
        own = report.achievement[report.achievement["scope"].astype("string") == code]
        for row in own.itertuples(index=False):
            if row.status == "not_measurable":
                continue
            label = report.target_labels.get(row.target_id, {}).get(lang, row.target_id)
            value = "—" if pd.isna(row.value) else fmt_number(row.value, lang, 2) + "%"
            short = "" if pd.isna(row.gap_units) or not row.gap_units else \
                " — " + t["short"].format(n=fmt_number(row.gap_units, lang), unit=unit_word(row.unit, lang,
                                                                                          row.gap_units))
            lines.append(f"  {label}: {value}{short}")
    return "\n".join(lines)
