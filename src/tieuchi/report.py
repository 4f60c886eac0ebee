"""The plan achievement report (`tieuchi report`): rates, movements, Alkire–Foster measures, budget per eligible unit
and each target of a plan against the survey — computed from a classified survey (`tieuchi.classify`'s Result).

Every figure uses `eligibility_class` (the class the commune recognised when the survey gives it, else the computed
one). Scopes: `all` (the whole survey — a district plan's area) and each commune code. Nothing is invented: a figure
the data cannot give is `not_measurable` with the reason, and every denominator says where it comes from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

ALL = "all"
RATE_IDS = ("poor", "near_poor", "poor_or_near_poor")
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


def rejected_households(result, raw_households: pd.DataFrame | None = None) -> dict[str, int]:
    """Rejected households per scope: all, and per commune when the raw households table says where they were."""
    rej = result.rejects
    if rej is None or not len(rej):
        return {ALL: 0}
    rows = rej[rej["table"] == "households"]
    rows = rows.drop_duplicates("row")
    out = {ALL: int(len(rows))}
    if raw_households is not None and "commune_code" in raw_households.columns:
        at = pd.to_numeric(rows["row"], errors="coerce").dropna().astype(int) - 1
        at = at[(at >= 0) & (at < len(raw_households))]
        codes = raw_households["commune_code"].iloc[at.to_numpy()].astype("string").str.strip()
        for code, n in codes.value_counts().items():
            out[str(code)] = int(n)
    return out


def rates(result, raw_households: pd.DataFrame | None = None) -> pd.DataFrame:
    """`rates.csv`: poor, near-poor and poor-or-near-poor rates (percent) for all and per commune.

    Denominator: the communes table's `households_total` (all resident households) when it gives one for the scope —
    for `all`, when it gives one for every surveyed commune, summed over them — else the surveyed households
    (`denominator_source` says which: the annual review surveys only part of the households, so a surveyed
    denominator is smaller than the resident households and the rate reads higher than it is). `unknown`: households of unknown class (counted in the
    denominator, never in the numerator: the rate is then a lower bound); `rejected`: households refused by
    validation, in no figure."""
    cls = _class(result)
    codes = _communes_of(result)
    totals: dict[str, int] = {}
    com = result.communes
    if com is not None and len(com) and "households_total" in com.columns:
        for code, total in zip(com["commune_code"].astype("string"), com["households_total"]):
            if not pd.isna(total):
                totals[str(code)] = int(total)
    rejected = rejected_households(result, raw_households)
    wanted = {"poor": cls == "poor", "near_poor": cls == "near_poor",
              "poor_or_near_poor": cls.isin(["poor", "near_poor"])}
    unknown = cls == ""
    rows = []
    surveyed_codes = sorted(str(c) for c in codes.dropna().unique())
    for scope in _scopes(codes):
        inside = pd.Series(True, index=cls.index) if scope == ALL else (codes == scope).fillna(False)
        surveyed = int(inside.sum())
        if scope == ALL:
            given = all(c in totals for c in surveyed_codes) and surveyed_codes
            denominator = sum(totals[c] for c in surveyed_codes) if given else surveyed
        else:
            given = scope in totals
            denominator = totals[scope] if given else surveyed
        for rid in RATE_IDS:
            num = int((wanted[rid] & inside).sum())
            rows.append({"scope": scope, "rate_id": rid,
                         "value": 100.0 * num / denominator if denominator else np.nan,
                         "numerator": num, "denominator": int(denominator),
                         "denominator_source": "communes" if given else "surveyed",
                         "unknown": int((unknown & inside).sum()),
                         "rejected": rejected.get(scope, 0) if scope == ALL or raw_households is not None else pd.NA})
    out = pd.DataFrame(rows)
    out["rejected"] = out["rejected"].astype("Int64")
    return out


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
    from tieuchi.mpi import alkire_foster

    hh = result.households
    ids = [i for i in result.indicators if f"deprived_{i}" in hh.columns]
    deprived = pd.DataFrame({i: hh[f"deprived_{i}"].astype("boolean") for i in ids}, index=hh.index)
    unit_weights = None
    if unit == "persons":
        counts = result.members.groupby("household_id", sort=False).size() if len(result.members) else pd.Series()
        unit_weights = hh["household_id"].map(counts).fillna(0).astype("int64").to_numpy()
    return alkire_foster(deprived, weights=weights, k=k, groups=_communes_of(result).to_numpy(dtype=object),
                         unit_weights=unit_weights)
