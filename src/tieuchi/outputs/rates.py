"""The poverty rates and their denominators: one rule, used by the classify summary, the report (rates.csv, its
workbook and page, the plan targets that are rates) and the diff.

Domain §7: the poor-household rate is poor households / all resident households; the near-poor rate likewise; the
multidimensional poverty rate (tỷ lệ nghèo đa chiều) is (poor + near-poor) / all resident households.

The denominator, per commune: its ``households_total`` (all resident households) when the communes table gives one,
else its surveyed (accepted) households — the annual review surveys only part of the households, so a surveyed
denominator is smaller and the rate reads higher than it is. The denominator of an area (``all``: the whole survey,
a district) is the sum of its communes' denominators, so that figures add up across communes and across parts of a
survey (never an average of rates). ``denominator_source`` says which: ``communes`` (every commune gave its total),
``surveyed`` (none did) or ``mixed``. Households of unknown class stay in the denominator and in no numerator (the
rate is then a lower bound); rejected households are in no figure and are counted beside the rates.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tieuchi.rulebook.regime import UNKNOWN

ALL = "all"

# rate id -> the classes it counts (domain §7), in the order rates are shown
RATES: dict[str, tuple[str, ...]] = {
    "poor": ("poor",),
    "near_poor": ("near_poor",),
    "poor_or_near_poor": ("poor", "near_poor"),
}
COMMUNES, SURVEYED, MIXED = "communes", "surveyed", "mixed"


def commune_denominators(codes: pd.Series, communes: pd.DataFrame | None) -> pd.DataFrame:
    """Per commune code of the survey (households with no commune code form one group, code <NA>): ``surveyed``,
    ``households_total`` (Int64, empty when the communes table gives none), ``denominator`` and
    ``denominator_source`` (``communes`` | ``surveyed``), indexed by commune code, in code order."""
    ids, texts = _factorized(codes)
    n_per = np.bincount(ids[ids >= 0], minlength=len(texts))
    surveyed = pd.Series(n_per, index=pd.array(texts, dtype="string")).groupby(level=0, sort=False).sum()
    n_none = int((ids < 0).sum())
    if n_none:  # households with no commune code: one group, code <NA>
        surveyed = pd.concat([surveyed, pd.Series([n_none], index=pd.array([pd.NA], dtype="string"))])
    surveyed.index = pd.Index(surveyed.index, dtype="string", name="commune_code")
    surveyed = surveyed.sort_index(na_position="last")
    by = pd.DataFrame({"surveyed": surveyed.astype("int64")})
    totals = pd.Series(pd.NA, index=by.index, dtype="Int64")
    if communes is not None and len(communes) and {"commune_code", "households_total"} <= set(communes.columns):
        given = pd.to_numeric(communes["households_total"], errors="coerce")
        given.index = communes["commune_code"].astype("string").str.strip()
        given = given[given.notna() & ~given.index.duplicated()]
        totals = pd.Series(pd.array(given.reindex(by.index).to_numpy(), dtype="Float64").astype("Int64"),
                           index=by.index)
    by["households_total"] = totals
    has = by["households_total"].notna().to_numpy()
    by["denominator"] = np.where(has, by["households_total"].fillna(0).to_numpy(dtype="int64"),
                                 by["surveyed"].to_numpy())
    by["denominator_source"] = np.where(has, COMMUNES, SURVEYED)
    return by


def _factorized(values: pd.Series, strip: bool = True) -> tuple[np.ndarray, list[str]]:
    """(position of each row's value among the distinct values, -1 when missing; the distinct values as text,
    stripped): only the distinct values are turned into text, so a categorical or long column costs one pass."""
    ids, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(ids, dtype=np.int64), [str(u).strip() if strip else str(u) for u in uniques]


def area_source(sources: pd.Series) -> str:
    """The denominator source of an area from its communes' sources."""
    kinds = set(sources)
    if kinds == {COMMUNES}:
        return COMMUNES
    return MIXED if COMMUNES in kinds else SURVEYED


def rate_table(classes: pd.Series, codes: pd.Series, communes: pd.DataFrame | None,
               by: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scope (``all``, then each commune code with at least one surveyed household) and rate id:
    ``scope``, ``rate_id``, ``numerator``, ``denominator``, ``denominator_source``, ``value`` (a fraction 0–1, NaN
    when the denominator is 0), ``unknown`` (households of unknown class in the scope) and ``surveyed``.

    `classes`: each household's class as text (empty or NA: unknown), aligned with `codes` (its commune code);
    `by`: :func:`commune_denominators` of them, when the caller has it already."""
    class_ids, class_texts = _factorized(classes, strip=False)
    class_texts = np.array(class_texts + [""], dtype=object)  # the last: a missing class
    class_ids = np.where(class_ids < 0, len(class_texts) - 1, class_ids)

    def of_class(wanted) -> np.ndarray:
        return np.isin(class_texts, list(wanted))[class_ids]

    by = commune_denominators(codes, communes) if by is None else by
    n_groups = len(by)
    ids, texts = _factorized(codes)
    at = {c: i for i, c in enumerate(by.index) if not pd.isna(c)}
    lookup = np.array([at.get(t, n_groups - 1) for t in texts] + [n_groups - 1], dtype=np.int64)
    pos = lookup[ids] if len(ids) else ids  # -1 (no commune code): the last group of `by`
    counts = {rid: np.bincount(pos, weights=of_class(wanted), minlength=n_groups).astype(np.int64)
              for rid, wanted in RATES.items()}
    unknown = np.bincount(pos, weights=of_class(["", UNKNOWN]), minlength=n_groups).astype(np.int64)
    rows = []
    den, sources, surveyed = by["denominator"].to_numpy(), by["denominator_source"], by["surveyed"].to_numpy()

    def emit(scope: str, inside: np.ndarray, source: str) -> None:
        d = int(den[inside].sum())
        for rid in RATES:
            num = int(counts[rid][inside].sum())
            rows.append({"scope": scope, "rate_id": rid, "numerator": num, "denominator": d,
                         "denominator_source": source, "value": num / d if d else np.nan,
                         "unknown": int(unknown[inside].sum()), "surveyed": int(surveyed[inside].sum())})

    emit(ALL, np.ones(n_groups, dtype=bool), area_source(sources) if n_groups else SURVEYED)
    for k, c in enumerate(by.index):
        if not pd.isna(c):
            emit(str(c), np.arange(n_groups) == k, str(sources.iloc[k]))
    return pd.DataFrame(rows, columns=["scope", "rate_id", "numerator", "denominator", "denominator_source", "value",
                                       "unknown", "surveyed"])


def rejected_households(result: Any, raw_households: pd.DataFrame | None = None) -> dict[str, int]:
    """Rejected households: ``all``, and per commune code when the raw households table says where each rejected row
    was. ``all`` is the input households less the accepted ones when the result knows how many it read (every input
    row is in the results or the rejects, contract §2), else the distinct household rows of the rejects. The summary,
    the report and the diff all count with this function."""
    rej = getattr(result, "rejects", None)
    by_file = rej is not None and "file" in rej.columns  # a survey of several files: rows are numbered per file
    rows = rej[rej["table"] == "households"].drop_duplicates(["file", "row"] if by_file else "row") \
        if rej is not None and len(rej) else None
    n_in = getattr(result, "n_households_in", None) or None  # 0: not known (a result built by hand)
    accepted = len(result.households) if getattr(result, "households", None) is not None else 0
    out = {ALL: max(int(n_in) - accepted, 0) if n_in is not None else (len(rows) if rows is not None else 0)}
    if rows is not None and raw_households is not None and "commune_code" in raw_households.columns:
        if isinstance(raw_households.index, pd.MultiIndex):  # indexed by (file, row): `tieuchi.api.Result`
            at = raw_households.index.get_indexer(pd.MultiIndex.from_arrays(
                [rows["file"].astype(object).to_numpy() if by_file else np.full(len(rows), None, dtype=object),
                 pd.to_numeric(rows["row"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()]))
            at = pd.Series(at[at >= 0])
        else:
            at = pd.to_numeric(rows["row"], errors="coerce").dropna().astype(int) - 1
            at = at[(at >= 0) & (at < len(raw_households))]
        where = raw_households["commune_code"].iloc[at.to_numpy()].astype("string").str.strip()
        for code, n in where.value_counts().items():
            out[str(code)] = int(n)
    return out
