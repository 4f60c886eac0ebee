"""Alkire–Foster measures (OPHI's adjusted headcount M0) over a deprivation matrix.

Domain §7: the plan report gives, beside the poor-household rate, the Alkire–Foster measures over the same
deprivation matrix — headcount H, intensity A, M0 = H × A, uncensored and censored headcount ratios, each
indicator's percentage contribution, and the decomposition by commune or area. They are computed here, once, as
whole-array numpy sums so that a province's million households take a fraction of a second; per-group figures come
from ``np.bincount`` on group codes, never from a loop over rows.

Conventions, chosen so that every identity the report relies on holds exactly where it is defined:

- Unit: households by default (each row counts 1); for persons the caller passes each household's member count as
  ``unit_weights`` (every member shares the household's deprivations).
- A household with any unknown indicator cannot be scored, so it is left out of every measure and counted in
  ``excluded`` (in the unit's terms: persons for the persons unit). ``population + excluded`` is the total weight.
- The cutoff compares with a tolerance: a unit is poor when ``c_i >= k - 1e-9`` (``TOLERANCE``). Scores are sums of
  at most a few dozen normalised weights, so their rounding error is about 1e-15, far below 1e-9, while scores that
  really differ do so by far more; without it 5 × (1/12) falls below k = 5/12 and a household on the boundary
  would flip. A declared weighting whose exact score is within 1e-9 under k therefore counts as reaching it.
- n = 0 (nobody included): H, A, M0 and the headcount ratios are NaN — there is nobody to measure.
  q = 0 (nobody poor): H = 0 and M0 = 0, but A (the mean score among the poor) is NaN, undefined rather than 0,
  and contributions are NaN because there is no M0 to share out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

TOLERANCE = 1e-9
ALL = "all"
MPI_COLUMNS = ["scope", "population", "excluded", "H", "A", "M0", "k"]
CONTRIBUTION_COLUMNS = ["scope", "indicator", "uncensored_headcount", "censored_headcount", "contribution"]


def alkire_foster(deprived: pd.DataFrame, weights: dict[str, float] | None = None, k: float = 0.25,
                  groups: pd.Series | None = None, unit_weights: np.ndarray | pd.Series | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """-> (mpi, contributions): the Alkire–Foster measures of ``deprived`` for the whole and for each group.

    ``deprived`` has one row per household and one nullable-boolean column per indicator (True = deprived, <NA> =
    unknown); column order is the order reported. ``weights`` maps every indicator to a non-negative weight (None:
    equal weights) and is normalised to sum 1. ``k`` is the poverty cutoff as a share of the weighted indicators,
    in (0, 1]; a unit is poor when its score reaches k within ``TOLERANCE`` (see the module docstring for why).
    ``groups`` and ``unit_weights`` go with the rows by position; when given as Series their index must equal
    ``deprived``'s, so that a Series from another frame is not matched silently by position. Rows with a missing
    group count in "all" only.

    ``mpi`` has columns scope, population, excluded, H, A, M0, k: "all" first, then one row per group, sorted by the
    group label as text. ``population`` and ``excluded`` are integers when the unit weights are (households, member
    counts) and floats otherwise. ``contributions`` has scope, indicator, uncensored_headcount, censored_headcount
    (fractions of the included units) and contribution (percent of M0) for each scope and indicator.
    """
    indicators = _indicators(deprived)
    w = _weights(indicators, weights)
    k = _cutoff(k, len(indicators))
    n_rows = len(deprived)
    unit, integral = _unit_weights(unit_weights, deprived)
    codes, labels = _groups(groups, deprived)
    columns, unknown = _matrix(deprived, indicators)

    def tally(values: np.ndarray) -> np.ndarray:
        """Weighted sum for "all" then for each group (bin 0 of ``codes`` holds rows without a group)."""
        out = np.empty(len(labels) + 1)
        if codes is None:
            out[0] = values.sum()
        else:
            bins = np.bincount(codes, weights=values, minlength=len(labels) + 1)
            out[0] = bins.sum()
            out[1:] = bins[1:]
        return out

    included = ~unknown
    score = np.zeros(n_rows)
    for wj, dj in zip(w, columns):
        np.add(score, wj, out=score, where=dj)  # the same order of additions for every row: reordering is harmless
    poor = included & (score >= k - TOLERANCE)
    w_in = np.where(included, unit, 0.0)
    w_poor = np.where(poor, unit, 0.0)

    n = tally(w_in)
    excluded = tally(np.where(unknown, unit, 0.0))
    q = tally(w_poor)
    s = tally(w_poor * score)  # the sum of censored scores
    uncensored = np.column_stack([tally(np.where(dj, w_in, 0.0)) for dj in columns])
    censored = np.column_stack([tally(np.where(dj, w_poor, 0.0)) for dj in columns])

    with np.errstate(divide="ignore", invalid="ignore"):
        has_n = n > 0
        h = np.where(has_n, q / n, np.nan)
        a = np.where(q > 0, s / q, np.nan)
        m0 = np.where(has_n, s / n, np.nan)
        uncensored = np.where(has_n[:, None], uncensored / n[:, None], np.nan)
        # 100 · w_j · (C_j / n) / (S / n) = 100 · w_j · C_j / S; S > 0 implies n > 0.
        contribution = np.where((s > 0)[:, None], 100.0 * w[None, :] * censored / s[:, None], np.nan)
        censored = np.where(has_n[:, None], censored / n[:, None], np.nan)

    scopes = [ALL, *labels]
    count_type = np.int64 if integral else np.float64
    mpi = pd.DataFrame({
        "scope": scopes,
        "population": _counts(n, count_type),
        "excluded": _counts(excluded, count_type),
        "H": h, "A": a, "M0": m0,
        "k": np.full(len(scopes), k),
    }, columns=MPI_COLUMNS)
    d = len(indicators)
    contributions = pd.DataFrame({
        "scope": np.repeat(np.array(scopes, dtype=object), d),
        "indicator": np.tile(np.array(indicators, dtype=object), len(scopes)),
        "uncensored_headcount": uncensored.ravel(),
        "censored_headcount": censored.ravel(),
        "contribution": contribution.ravel(),
    }, columns=CONTRIBUTION_COLUMNS)
    return mpi, contributions


def _counts(values: np.ndarray, dtype) -> np.ndarray:
    """Integer weights sum exactly in float64 below 2**53, so rounding only removes the float type."""
    return np.rint(values).astype(np.int64) if dtype is np.int64 else values


def _indicators(deprived: pd.DataFrame) -> list:
    if not isinstance(deprived, pd.DataFrame):
        raise TypeError(f"deprived must be a pandas DataFrame (one row per household, one column per indicator); "
                        f"got {type(deprived).__name__}")
    indicators = list(deprived.columns)
    if not indicators:
        raise ValueError("deprived has no indicator columns; pass one nullable-boolean column per indicator")
    duplicated = sorted({str(c) for c in deprived.columns[deprived.columns.duplicated()]})
    if duplicated:
        raise ValueError(f"deprived has duplicated indicator columns: {', '.join(duplicated)}; "
                         f"each indicator must appear once")
    return indicators


def _weights(indicators: list, weights: Mapping[str, float] | None) -> np.ndarray:
    """Equal weights, or the declared ones normalised to sum 1; every problem is named in one message."""
    if weights is None:
        return np.full(len(indicators), 1.0 / len(indicators))
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a dict of indicator id -> weight, or None for equal weights; "
                        f"got {type(weights).__name__}")
    problems = []
    unknown = [key for key in weights if key not in indicators]
    if unknown:
        problems.append(f"weights for indicators not in the matrix: {', '.join(map(str, unknown))} "
                        f"(the matrix has {', '.join(map(str, indicators))})")
    missing = [ind for ind in indicators if ind not in weights]
    if missing:
        problems.append(f"no weight for indicators in the matrix: {', '.join(map(str, missing))}")
    bad = [f"{key}={value!r}" for key, value in weights.items()
           if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0]
    if bad:
        problems.append(f"weights must be finite non-negative numbers: {', '.join(bad)}")
    if not problems and sum(weights[ind] for ind in indicators) <= 0:
        problems.append("the weights sum to 0, so they cannot be normalised; give at least one positive weight")
    if problems:
        raise ValueError("invalid indicator weights: " + "; ".join(problems))
    raw = np.array([float(weights[ind]) for ind in indicators])
    return raw / raw.sum()


def _cutoff(k: float, d: int) -> float:
    if isinstance(k, bool) or not isinstance(k, Real) or not math.isfinite(k) or not 0 < k <= 1:
        hint = ""
        if isinstance(k, Real) and not isinstance(k, bool) and 1 < k <= d:
            hint = f"; did you mean a count of indicators, k={k}/{d} = {k / d:.6g}?"
        raise ValueError(f"k must be the poverty cutoff as a share in (0, 1], e.g. 0.25 for 3 of 12 equally "
                         f"weighted indicators; got {k!r}{hint}")
    return float(k)


def _same_rows(values, deprived: pd.DataFrame, name: str) -> np.ndarray | pd.Series:
    if isinstance(values, pd.Series):
        if not values.index.equals(deprived.index):
            raise ValueError(f"{name} is a Series whose index differs from deprived's; reindex it to deprived.index, "
                             f"or pass .to_numpy() to match rows by position")
        return values
    if len(values) != len(deprived):
        raise ValueError(f"{name} has {len(values)} values but deprived has {len(deprived)} rows; give one per row")
    return values


def _unit_weights(unit_weights, deprived: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """-> (weight per row as float64, whether the weights are integers so counts can be reported as integers)."""
    if unit_weights is None:
        return np.ones(len(deprived)), True
    unit_weights = _same_rows(unit_weights, deprived, "unit_weights")
    dtype = unit_weights.dtype if hasattr(unit_weights, "dtype") else np.asarray(unit_weights).dtype
    integral = pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    if isinstance(unit_weights, pd.Series):
        values = unit_weights.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(unit_weights, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"unit_weights must be one-dimensional (one weight per row); got shape {values.shape}")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(f"unit_weights must be finite and non-negative (member counts for the persons unit); "
                         f"{len(rows)} rows are not, at positions {', '.join(map(str, rows[:20]))}"
                         f"{' …' if len(rows) > 20 else ''}")
    return values, integral


def _groups(groups, deprived: pd.DataFrame) -> tuple[np.ndarray | None, list[str]]:
    """-> (code per row: 0 = no group, 1.. = position in the labels + 1; labels sorted as text).

    Labels are compared as text, so 1 and "1" are one group; factorising first keeps the text conversion to the
    distinct labels rather than every row.
    """
    if groups is None:
        return None, []
    groups = _same_rows(groups, deprived, "groups")
    if not isinstance(groups, pd.Series):
        groups = pd.Series(np.asarray(groups, dtype=object))
    codes, uniques = pd.factorize(groups, use_na_sentinel=True)
    texts = [str(u) for u in uniques]
    labels = sorted(set(texts))
    if ALL in labels:
        raise ValueError(f"a group is labelled {ALL!r}, which is the scope of the whole; rename it")
    position = {label: i + 1 for i, label in enumerate(labels)}
    lookup = np.array([0] + [position[t] for t in texts], dtype=np.intp)
    return lookup[codes + 1], labels


def _matrix(deprived: pd.DataFrame, indicators: list) -> tuple[list[np.ndarray], np.ndarray]:
    """-> (deprived flag per indicator with unknown read as False, rows with any unknown indicator)."""
    columns = []
    unknown = np.zeros(len(deprived), dtype=bool)
    wrong = []
    for j, ind in enumerate(indicators):
        col = deprived.iloc[:, j]
        if isinstance(col.dtype, pd.BooleanDtype):
            columns.append(col.to_numpy(dtype=bool, na_value=False))
            unknown |= col.isna().to_numpy()
        elif col.dtype == np.bool_:
            columns.append(col.to_numpy())
        else:
            wrong.append(f"{ind} ({col.dtype})")
    if wrong:
        raise ValueError(f"deprived must hold nullable booleans (True = deprived, <NA> = unknown); these columns do "
                         f"not: {', '.join(wrong)}; convert them with .astype('boolean')")
    return columns, unknown
