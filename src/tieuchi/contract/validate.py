"""Normalise and validate a survey column-wise (data contract §1 and §2.3).

`normalize()` types every known column (see `tieuchi.contract.parse`), checks required cells, ranges, duplicates and
membership, and applies the rejection rules of §2.3. Nothing loops over rows in Python: typed columns are checked
vectorised (Categoricals through their categories), text columns are factorised and only unique values are parsed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from pandas.core.arrays.masked import BaseMaskedArray

from tieuchi.errors import UsageError, clip
from tieuchi.contract.columns import ColumnSpec, columns
from tieuchi.contract.locate import locate
from tieuchi.contract.parse import INVALID_PROBLEM, PARSERS, factorize, to_text
from tieuchi.contract.problems import problem_text  # noqa: F401  (re-exported)
from tieuchi.contract.problems import table_label
from tieuchi.contract.read import (HEADER_SEARCH_ROWS, REJECT_COLUMNS, VALUE_CAP, RawSurvey, sort_rejects,
                             with_reader_rejects)


@dataclass
class Normalized:
    households: pd.DataFrame  # accepted households, typed, input order, index 0..n-1
    members: pd.DataFrame  # accepted members, typed, input order, index 0..m-1
    member_hh_pos: np.ndarray  # int64: position in `households` of each accepted member's household
    birth: np.ndarray  # datetime64[D] per accepted member: birth_date, else 1 July of birth_year
    communes: pd.DataFrame | None
    rejects: pd.DataFrame  # columns REJECT_COLUMNS, one row per problem
    hh_rows: np.ndarray  # 1-based input row of each accepted household
    member_rows: np.ndarray  # 1-based input row of each accepted member
    n_households_in: int
    n_members_in: int


class _Problems:
    """Problems collected as (table, positions, column, code) batches; turned into the rejects table at the end."""

    def __init__(self, frames: dict[str, pd.DataFrame], rows: dict[str, np.ndarray]):
        self.frames, self.rows, self.parts = frames, rows, []

    def add(self, table: str, where, column: str | None, problem: str) -> None:
        pos = np.flatnonzero(where) if np.asarray(where).dtype == bool else np.asarray(where, dtype=np.int64)
        if len(pos):
            self.parts.append((table, pos, column, problem))

    def mask(self, table: str) -> np.ndarray:
        m = np.zeros(len(self.frames[table]), dtype=bool)
        for t, pos, _, _ in self.parts:
            if t == table:
                m[pos] = True
        return m

    def table(self) -> pd.DataFrame:
        out = []
        for table, pos, column, problem in self.parts:
            df = self.frames[table]

            def cells(col, df=df, pos=pos):
                if col is None or col not in df.columns:
                    return [None] * len(pos)
                return [to_text(v) for v in df[col].iloc[pos]]

            out.append(pd.DataFrame({
                "table": table, "row": self.rows[table][pos], "household_id": cells("household_id"),
                "member_no": cells("member_no") if table == "members" else None, "column": column,
                "value": cells(column), "problem": problem}, columns=REJECT_COLUMNS))
        if not out:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in REJECT_COLUMNS})
        return sort_rejects(pd.concat(out, ignore_index=True))


def _require_columns(df: pd.DataFrame, table: str) -> None:
    specs = columns(table)
    found = clip(', '.join(map(str, df.columns)), VALUE_CAP * 4)
    for spec in specs.values():
        if spec.required and spec.name not in df.columns:
            raise UsageError(
                f"table {table} has no required column '{spec.name}' ('{spec.header}')",
                f"Add a column '{spec.name}' or '{spec.header}'; in a CSV file or a sheet the headers are read from "
                f"row 1 (or from the first of its first {HEADER_SEARCH_ROWS} rows that names the required columns, "
                f"below a title). Columns found: {found}.",
                vi=f"bảng {table_label(table)} ({table}) thiếu cột bắt buộc '{spec.header}' ({spec.name})",
                vi_hint=f"Thêm cột có tiêu đề '{spec.header}' (hoặc '{spec.name}'); trong tệp CSV hay trang tính, "
                        f"tiêu đề được đọc ở dòng 1 (hoặc ở dòng đầu tiên trong {HEADER_SEARCH_ROWS} dòng đầu có "
                        f"tên các cột bắt buộc, bên dưới một dòng tiêu đề chung). Các cột đang có: {found}.",
                code="column_required_missing")
    groups = {s.one_of for s in specs.values() if s.one_of}
    for g in groups:
        names = [s for s in specs.values() if s.one_of == g]
        if not any(s.name in df.columns for s in names):
            raise UsageError(
                f"table {table} needs one of the columns " + ", ".join(f"'{s.name}' ('{s.header}')" for s in names),
                "Add one of them: " + " or ".join(f"'{s.name}'" for s in names) + ".",
                vi=f"bảng {table_label(table)} ({table}) cần một trong các cột "
                   + ", ".join(f"'{s.header}' ({s.name})" for s in names),
                vi_hint="Thêm một trong các cột: " + " hoặc ".join(f"'{s.header}'" for s in names) + ".",
                code="column_required_missing")


def _type_table(df: pd.DataFrame, table: str, probs: _Problems, ref_year: int,
                not_required: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Type each known column; record invalid, required and out-of-range cells. Returns the typed table and the
    empty cells of each required column; an empty cell of a column in `not_required` is left to the caller."""
    specs = columns(table)
    changed, empty = {}, {}
    for spec in specs.values():
        if spec.name not in df.columns:
            continue
        raw = df[spec.name]
        typed, bad = PARSERS[spec.type](raw, spec)
        if bad is not None:
            probs.add(table, bad, spec.name, INVALID_PROBLEM[spec.type])
        if spec.required or spec.one_of:
            empty[spec.name] = _empty(raw, typed, bad)
        _check_range(typed, spec, probs, ref_year)
        if typed is not raw:
            changed[spec.name] = typed
    for name, e in empty.items():
        if specs[name].required and name not in not_required:
            probs.add(table, e, name, "required")
    for group in {s.one_of for s in specs.values() if s.one_of}:
        names = [n for n, s in specs.items() if s.one_of == group and n in empty]
        probs.add(table, np.logical_and.reduce([empty[n] for n in names]), names[0], "required")
    if not changed:
        return df, empty
    out = df.copy(deep=False)
    for name, col in changed.items():
        out[name] = col
    return out, empty


def _empty(raw: pd.Series, typed: pd.Series, bad: np.ndarray | None) -> np.ndarray:
    """Cells that are empty (missing, or a blank string) — not those that were invalid."""
    if not typed.hasnans:
        e = np.zeros(len(typed), dtype=bool)
    else:
        e = typed.isna().to_numpy().copy()
        if bad is not None:
            e &= ~bad
    if isinstance(raw.dtype, pd.CategoricalDtype) and typed is raw:  # blank categories: check the categories only
        blank_cats = np.flatnonzero([isinstance(c, str) and not c.strip() for c in raw.cat.categories])
        if len(blank_cats):
            e = e | np.isin(raw.cat.codes.to_numpy(), blank_cats)
    elif typed is raw and pd.api.types.is_string_dtype(raw.dtype):
        text = raw if raw.dtype != object else raw.astype("str")
        blank = (text == "") | text.str.isspace()  # both vectorised kernels; .str.strip() is several times slower
        e = e | blank.to_numpy(dtype=bool, na_value=False)
    return e


def _check_range(s: pd.Series, spec: ColumnSpec, probs: _Problems, ref_year: int) -> None:
    high = ref_year if spec.name == "birth_year" else spec.max
    for bound, op in ((spec.min, np.less), (high, np.greater)):
        if bound is None or not pd.api.types.is_numeric_dtype(s.dtype):
            continue
        arr = s.array
        if isinstance(arr, BaseMaskedArray):  # compare the data, then drop masked cells only when something fails
            out = op(arr._data, bound)
            if out.any():
                probs.add(spec.table, out & ~arr._mask, spec.name, "out_of_range")
        else:
            probs.add(spec.table, op(s, bound).to_numpy(dtype=bool, na_value=False), spec.name, "out_of_range")


def _values(s: pd.Series):
    return s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array


def _duplicated(s: pd.Series) -> np.ndarray | None:
    """Every row whose (non-missing) id occurs more than once; None when there are none (fast for sorted ints)."""
    if pd.api.types.is_integer_dtype(s.dtype) and not s.hasnans:
        v = s.to_numpy()
        if len(v) < 2 or bool(np.all(v[1:] > v[:-1])):
            return None
    arrow = getattr(s.array, "_pa_array", None)
    if arrow is not None and len(pc.unique(arrow)) == len(s) - arrow.null_count + (arrow.null_count > 0):
        return None  # arrow-backed text ids: one C++ hash pass says "all unique" (pandas' duplicated is ~3x slower)
    dup = s.duplicated(keep=False).to_numpy() & s.notna().to_numpy()
    return dup if dup.any() else None


def _member_positions(hh_ids: pd.Series, mem_ids: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """(pos, run_start): position in the households table of each member's household (-1: unknown or missing id).

    Fast path, O(n) without hashing: member ids come in contiguous runs in the same order as the households; then
    `run_start` flags each run's first member (and every household has members). Otherwise a hash lookup."""
    n_hh, n_mem = len(hh_ids), len(mem_ids)
    if pd.api.types.is_numeric_dtype(hh_ids.dtype) != pd.api.types.is_numeric_dtype(mem_ids.dtype):
        hh_ids, mem_ids = _as_text(hh_ids), _as_text(mem_ids)  # e.g. integer ids in one sheet, text in the other
    if n_mem and n_hh and not mem_ids.hasnans and not hh_ids.hasnans:
        m = _values(mem_ids)
        run_start = np.empty(n_mem, dtype=bool)
        run_start[0] = True
        run_start[1:] = np.asarray(m[1:] != m[:-1], dtype=bool)
        pos = np.cumsum(run_start, dtype=np.int64)
        pos -= 1
        if pos[-1] == n_hh - 1 and bool(np.all(np.asarray(m[run_start] == _values(hh_ids), dtype=bool))):
            return pos, run_start
    first = (~hh_ids.duplicated(keep="first") & hh_ids.notna()).to_numpy()
    first_pos = np.flatnonzero(first)
    idx = pd.Index(hh_ids[first].to_numpy() if isinstance(hh_ids.dtype, np.dtype) else hh_ids[first].array)
    got = idx.get_indexer(mem_ids)
    got[mem_ids.isna().to_numpy()] = -1
    return np.append(first_pos, -1).astype(np.int64)[got], None  # got == -1 picks the trailing -1


def _household_above(pos: np.ndarray, blank_id: np.ndarray) -> np.ndarray:
    """A member row with a blank household id belongs, by its place, to the household of the nearest member row
    above it that has an id (a merged or left-out Mã hộ cell): that household must not be classified without it, so
    the row is attached to it — and, being rejected itself, rejects it (data contract §2.3). -1 when no row above."""
    above = np.where(blank_id, -1, np.arange(len(pos), dtype=np.int64))
    np.maximum.accumulate(above, out=above)
    at = above[blank_id]
    out = pos.copy()
    out[blank_id] = np.where(at >= 0, pos[np.maximum(at, 0)], -1)
    return out


def _as_text(s: pd.Series) -> pd.Series:
    codes, uniques = factorize(s)
    texts = np.asarray([to_text(u) for u in uniques] + [None], dtype=object)
    return pd.Series(texts[codes], index=s.index, dtype="str")


def _member_dup(mem: pd.DataFrame, run_start: np.ndarray | None) -> np.ndarray | None:
    """Rows whose (household, member_no) occurs more than once; O(n) when members come sorted within households."""
    mno = mem["member_no"]
    if run_start is not None and not mno.hasnans and len(mno) > 1:
        v = mno.array._data if isinstance(mno.array, BaseMaskedArray) else mno.to_numpy(dtype=np.int64)
        if bool(np.all((v[1:] > v[:-1]) | run_start[1:])):
            return None
    key = pd.DataFrame({"h": mem["household_id"], "m": mno})
    dup = key.duplicated(keep=False).to_numpy() & key.notna().all(axis=1).to_numpy()
    return dup if dup.any() else None


def _dwelling_mismatch(hh: pd.DataFrame, probs: _Problems) -> None:
    """"No dwelling" with a floor area above 0 contradicts itself: the rules read a recorded floor area as a dwelling
    when the answer is empty (no_dwelling), so both cannot stand."""
    if "has_dwelling" not in hh.columns or "floor_area_m2" not in hh.columns:
        return
    no = (hh["has_dwelling"] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712 - nullable boolean
    if no.any():
        area = pd.to_numeric(hh["floor_area_m2"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        probs.add("households", no & (area > 0), "floor_area_m2", "dwelling_mismatch")


def _birth(mem: pd.DataFrame, probs: _Problems, on: dt.date | None) -> np.ndarray:
    """Birth date per member (datetime64[D]); year-only members are born on 1 July. Checks future and mismatch."""
    n = len(mem)
    bd = mem["birth_date"] if "birth_date" in mem.columns else None
    by = mem["birth_year"] if "birth_year" in mem.columns else None
    birth = bd.to_numpy().astype("datetime64[D]") if bd is not None else np.full(n, np.datetime64("NaT", "D"))
    no_date = np.isnat(birth)
    has_year = by.notna().to_numpy() if by is not None else np.zeros(n, dtype=bool)
    if bd is not None:
        if on is not None:
            probs.add("members", birth > np.datetime64(on, "D"), "birth_date", "birth_in_future")
        # the same lower bound as birth_year's (columns.yaml): a birth date in 1850 or in year 1 is a typo
        earliest = np.datetime64(f"{int(columns('members')['birth_year'].min):04d}-01-01", "D")
        probs.add("members", birth < earliest, "birth_date", "out_of_range")
    if by is not None and has_year.any():
        years = by.to_numpy(dtype=np.int64, na_value=1970)
        both = has_year & ~no_date
        if both.any():
            rows = np.flatnonzero(both)
            mismatch = np.zeros(n, dtype=bool)
            mismatch[rows] = birth[rows].astype("datetime64[Y]").astype(np.int64) + 1970 != years[rows]
            probs.add("members", mismatch, "birth_year", "birth_mismatch")
        fill = no_date & has_year
        if fill.any():
            birth = birth.copy()
            wanted = np.clip(years[fill], 1800, 2300)  # out-of-range years are rejected by the range check
            lo, hi = int(wanted.min()), int(wanted.max())
            july_first = (np.arange(lo - 1970, hi - 1969).astype("datetime64[Y]").astype("datetime64[M]")
                          + np.timedelta64(6, "M")).astype("datetime64[D]")  # one per year, then looked up
            birth[fill] = july_first[wanted - lo]
            if on is not None:  # born in the reference year and reviewed before 1 July: born by the reference date
                birth[fill] = np.minimum(birth[fill], np.datetime64(on, "D"))
    return birth




def _keep(df: pd.DataFrame, keep: np.ndarray | None) -> pd.DataFrame:
    if keep is not None:
        df = df.iloc[np.flatnonzero(keep)]
    return df if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1 \
        else df.reset_index(drop=True)


def _communes(df: pd.DataFrame, probs: _Problems, ref_year: int) -> pd.DataFrame:
    _require_columns(df, "communes")
    typed, _ = _type_table(df, "communes", probs, ref_year)
    probs.add("communes", _duplicated(typed["commune_code"]) if _duplicated(typed["commune_code"]) is not None
              else np.zeros(len(df), dtype=bool), "commune_code", "duplicate_commune_code")
    bad = probs.mask("communes")
    return _keep(typed, ~bad if bad.any() else None)


def normalize(households: pd.DataFrame, members: pd.DataFrame, communes: pd.DataFrame | None = None,
              on: dt.date | None = None, *, household_rows: np.ndarray | None = None) -> Normalized:
    """Type and validate a survey; split it into accepted rows and rejects (data contract §2.3).

    `on` is the reference date (birth dates after it are rejected; birth_year may not pass its year).
    `household_rows` gives the 1-based row number of each household when it is not 1..n (jsonl line numbers)."""
    _require_columns(households, "households")
    _require_columns(members, "members")
    n_hh, n_mem = len(households), len(members)
    rows = {"households": np.asarray(household_rows, dtype=np.int64) if household_rows is not None
            else np.arange(1, n_hh + 1, dtype=np.int64),
            "members": np.arange(1, n_mem + 1, dtype=np.int64),
            "communes": np.arange(1, (len(communes) if communes is not None else 0) + 1, dtype=np.int64)}
    probs = _Problems({"households": households, "members": members,
                       "communes": communes if communes is not None else pd.DataFrame()}, rows)
    ref_year = (on or dt.date.today()).year
    hh, _ = _type_table(households, "households", probs, ref_year)
    _dwelling_mismatch(hh, probs)
    mem, mem_empty = _type_table(members, "members", probs, ref_year, not_required=("household_id",))
    com = _communes(communes, probs, ref_year) if communes is not None else None

    dup = _duplicated(hh["household_id"])
    if dup is not None:
        probs.add("households", dup, "household_id", "duplicate_household_id")
    pos, run_start = _member_positions(hh["household_id"], mem["household_id"])
    blank_id = mem_empty["household_id"]
    if not blank_id.any():
        blank_id = None
    if run_start is None:
        unknown = (pos < 0) & mem["household_id"].notna().to_numpy()
        probs.add("members", unknown & ~blank_id if blank_id is not None else unknown, "household_id",
                  "unknown_household")
    if blank_id is not None:
        probs.add("members", blank_id, "household_id", "household_id_blank")
        pos = _household_above(pos, blank_id)
    mdup = _member_dup(mem, run_start)
    if mdup is not None:
        probs.add("members", mdup, "member_no", "duplicate_member_no")
    birth = _birth(mem, probs, on)
    if run_start is None:  # (on the fast path every household has members)
        no_members = (np.bincount(pos[pos >= 0], minlength=n_hh) == 0) & hh["household_id"].notna().to_numpy()
        if dup is not None:
            no_members &= ~dup
        probs.add("households", no_members, None, "no_members")

    hh_bad, mem_bad = probs.mask("households"), probs.mask("members")
    if not hh_bad.any() and not mem_bad.any():  # the common case: nothing to drop, nothing copied
        return Normalized(_keep(hh, None), _keep(mem, None), pos, birth, com, probs.table(), rows["households"],
                          rows["members"], n_hh, n_mem)
    hh_rej = hh_bad.copy()
    hh_rej[pos[mem_bad & (pos >= 0)]] = True
    probs.add("households", hh_rej & ~hh_bad, None, "member_rejected")
    mem_rej = mem_bad | np.append(hh_rej, False)[pos]  # pos == -1 (no household) picks the trailing False
    probs.add("members", mem_rej & ~mem_bad, None, "household_rejected")
    hh_keep, mem_keep = ~hh_rej, ~mem_rej
    new_pos = np.cumsum(hh_keep) - 1
    return Normalized(
        households=_keep(hh, hh_keep), members=_keep(mem, mem_keep), member_hh_pos=new_pos[pos[mem_keep]],
        birth=birth[mem_keep], communes=com, rejects=probs.table(), hh_rows=rows["households"][hh_keep],
        member_rows=rows["members"][mem_keep], n_households_in=n_hh, n_members_in=n_mem)


def normalize_survey(raw: RawSurvey, on: dt.date | None = None) -> Normalized:
    """`normalize` a `read_survey` result: rows are the user's (jsonl line numbers, blank rows counted), and the rows
    the reader refused (a broken JSON line, a CSV row with too many cells) join the rejects, each reject with its
    header as written and, in a workbook, its cell (`tieuchi.contract.locate`)."""
    out = normalize(raw.households, raw.members, raw.communes, on)
    out.rejects = locate(with_reader_rejects(out.rejects, raw), raw)
    if raw.household_rows is not None:
        out.hh_rows = np.asarray(raw.household_rows, dtype=np.int64)[out.hh_rows - 1]
    if raw.member_rows is not None:
        out.member_rows = np.asarray(raw.member_rows, dtype=np.int64)[out.member_rows - 1]
    return out
