"""Column-wise parsing of survey values (data contract §1): codes, booleans, numbers, dates.

Every parser works on a whole column: typed input (Categorical, "boolean", "Int64", datetime64 …) is taken as it is
or checked through its categories; anything else is factorised and only the *unique* values are parsed in Python.
Each returns `(typed, bad)`: the typed Series (a bad cell is missing) and a bool array of invalid cells (or None).
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from tieuchi.contract.columns import ColumnSpec, column_table, lookup

MISSING, INVALID = -2, -1


def to_text(v) -> str | None:
    """A cell value of any type as the text a CSV cell would hold (None when missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        return unicodedata.normalize("NFC", v).strip()
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return None
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """(codes, uniques): codes index the uniques, -1 = missing. Categoricals use their categories (no hashing)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.asarray(s.cat.codes), list(s.cat.categories)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, list(uniques)


def _take(lut: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """lut[codes] with code -1 (missing) giving MISSING."""
    return np.append(lut, MISSING)[codes]


# ------------------------------------------------------------------ codes

def _canonical_set(text: str, spec: ColumnSpec) -> str | None:
    parts = [p for p in (x.strip() for x in text.split(";")) if p]
    found = {lookup(spec.value_map, p) for p in parts}
    if not parts or None in found or ("none" in found and len(found) > 1):
        return None
    return ";".join(sorted(found))


def parse_code(s: pd.Series, spec: ColumnSpec):
    codes, cats = factorize(s)
    canonical = set(spec.codes) if spec.type == "code" else set()
    if isinstance(s.dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in cats) and set(cats) <= canonical:
        return s, None  # the fast path: categories already canonical, nothing to recode
    targets, missing = [], []
    for c in cats:
        t = to_text(c)
        missing.append(not t)
        if not t:
            targets.append(None)
        elif spec.type == "code":
            targets.append(lookup(spec.value_map, t))
        else:
            targets.append(_canonical_set(t, spec))
    new_cats = sorted({t for t in targets if t is not None})
    index = {c: i for i, c in enumerate(new_cats)}
    lut = np.array([MISSING if m else index.get(t, INVALID) for t, m in zip(targets, missing)], dtype=np.int64)
    mapped = _take(lut, codes)
    bad = mapped == INVALID
    new_codes = np.where(mapped >= 0, mapped, -1)
    cat = pd.Categorical.from_codes(new_codes, categories=pd.Index(new_cats, dtype=object))
    return pd.Series(cat, index=s.index, name=s.name), (bad if bad.any() else None)


_CANONICAL_SETS: dict[tuple[str, str], bool] = {}


def _is_canonical_info_set(c: str, spec: ColumnSpec) -> bool:
    """Remembered per value: a Categorical keeps all its categories however few rows it has (one household, say)."""
    key = (spec.name, c)
    if key not in _CANONICAL_SETS:
        if len(_CANONICAL_SETS) > 100_000:
            _CANONICAL_SETS.clear()
        _CANONICAL_SETS[key] = _canonical_set(c, spec) == c
    return _CANONICAL_SETS[key]


def parse_codes(s: pd.Series, spec: ColumnSpec):
    if isinstance(s.dtype, pd.CategoricalDtype) and all(
            isinstance(c, str) and _is_canonical_info_set(c, spec) for c in s.cat.categories):
        return s, None
    return parse_code(s, spec)


# ------------------------------------------------------------------ booleans

def parse_bool(s: pd.Series, spec: ColumnSpec | None = None):
    if isinstance(s.dtype, pd.BooleanDtype):
        return s, None
    if s.dtype == np.bool_:
        return s.astype("boolean"), None
    codes, uniques = factorize(s)
    bmap = column_table().bool_map
    lut = []
    for u in uniques:
        t = to_text(u)
        b = lookup(bmap, t) if t else None
        lut.append(MISSING if not t else INVALID if b is None else int(b))
    v = _take(np.asarray(lut, dtype=np.int64), codes)
    arr = pd.arrays.BooleanArray(v == 1, v < 0)
    bad = v == INVALID
    return pd.Series(arr, index=s.index, name=s.name), (bad if bad.any() else None)


# ------------------------------------------------------------------ numbers

_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([.,  ])\d{3})(?:\1\d{3})*")
_VN_DECIMAL = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+")
_EN_DECIMAL = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")


def _number_text(t: str, integer: bool) -> float | None:
    t = t.strip().replace("\u00a0", " ")
    if _GROUPED.fullmatch(t):
        t = re.sub(r"[., ]", "", t)
    elif not integer and _VN_DECIMAL.fullmatch(t):
        t = t.replace(".", "").replace(",", ".")
    elif not integer and _EN_DECIMAL.fullmatch(t):
        t = t.replace(",", "")
    elif not integer and _COMMA_DECIMAL.fullmatch(t):
        t = t.replace(",", ".")
    try:
        x = float(t)
    except ValueError:
        return None
    if not math.isfinite(x) or (integer and not x.is_integer()):
        return None
    return x


def parse_number(s: pd.Series, spec: ColumnSpec):
    """int columns -> "Int64", number columns -> "Float64"; '1.500.000' and '1,500,000' are 1500000."""
    integer = spec.type == "int"
    target = "Int64" if integer else "Float64"
    if isinstance(s.dtype, (pd.Int64Dtype, pd.Float64Dtype)) and str(s.dtype) == target:
        return s, None
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(target), None
    if pd.api.types.is_float_dtype(s.dtype):
        x = s.astype("Float64")
        bad = ~np.isfinite(x.to_numpy(dtype="float64", na_value=0.0))
        if integer:
            bad |= (x.round() != x).to_numpy(dtype=bool, na_value=False)
        x = x.mask(bad) if bad.any() else x
        return x.astype(target), (bad if bad.any() else None)
    codes, uniques = factorize(s)
    texts = [to_text(u) or None for u in uniques]
    quick = pd.to_numeric(pd.Series([t if t is not None else "" for t in texts], dtype=object), errors="coerce")
    vals = quick.to_numpy(dtype="float64", na_value=np.nan).copy()
    with np.errstate(invalid="ignore"):  # inf % 1 is nan: such a cell is retried as text below, then refused
        retry = np.flatnonzero(~np.isfinite(vals) | ((vals % 1 != 0) if integer else False))
    for i in retry:
        x = _number_text(texts[i], integer) if texts[i] is not None else None
        vals[i] = np.nan if x is None else x
    state = np.where([t is None for t in texts], MISSING, np.where(np.isfinite(vals), 0, INVALID)).astype(np.int64)
    st = _take(state, codes)
    v = np.append(vals, np.nan)[codes]
    arr = pd.array(np.where(st == 0, v, np.nan), dtype="Float64")
    out = pd.Series(arr, index=s.index, name=s.name)
    if integer:
        out = out.astype("Int64")
    bad = st == INVALID
    return out, (bad if bad.any() else None)


# ------------------------------------------------------------------ dates

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def date_of_text(t: str) -> dt.date | None:
    """ISO YYYY-MM-DD or DD/MM/YYYY (text already trimmed) -> a date, or None when it is not a valid one."""
    m = _ISO.fullmatch(t)
    if m:
        y, mo, d = map(int, m.groups())
    elif m := _DMY.fullmatch(t):
        d, mo, y = map(int, m.groups())
    else:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


def parse_date(s: pd.Series, spec: ColumnSpec | None = None):
    """ISO YYYY-MM-DD or DD/MM/YYYY -> datetime64 (NaT = missing)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return s.dt.tz_localize(None), None
        return s, None
    codes, uniques = factorize(s)
    vals, state = [], []
    for u in uniques:
        t = to_text(u)
        d = date_of_text(t) if t else None
        vals.append(d if d is not None else np.datetime64("NaT", "D"))
        state.append(MISSING if not t else 0 if d is not None else INVALID)
    st = _take(np.asarray(state, dtype=np.int64), codes)
    v = np.append(np.asarray(vals, dtype="datetime64[D]"), np.datetime64("NaT", "D"))[codes]
    bad = st == INVALID
    return pd.Series(v.astype("datetime64[s]"), index=s.index, name=s.name), (bad if bad.any() else None)


# ------------------------------------------------------------------ text ids

def parse_text(s: pd.Series, spec: ColumnSpec):
    """Ids stay as given (text, or integers); float ids from a spreadsheet become Int64; mixed cells become text."""
    if spec.name not in ("household_id", "commune_code"):
        return s, None
    if pd.api.types.is_float_dtype(s.dtype):
        return parse_number(s, ColumnSpec(table=spec.table, name=spec.name, type="int"))
    if s.dtype == object and not all(isinstance(v, str) for v in s.dropna().unique()):
        codes, uniques = factorize(s)
        texts = np.asarray([to_text(u) for u in uniques] + [None], dtype=object)
        return pd.Series(texts[codes], index=s.index, name=s.name, dtype="str"), None
    return s, None


PARSERS = {"code": parse_code, "codes": parse_codes, "bool": parse_bool, "int": parse_number,
           "number": parse_number, "date": parse_date, "text": parse_text}
INVALID_PROBLEM = {"code": "invalid_code", "codes": "invalid_code", "bool": "invalid_bool", "int": "invalid_number",
                   "number": "invalid_number", "date": "invalid_date", "text": "invalid_id"}
