"""Write classification results as the data contract §2 says: households, members and rejects.

Formats: ``csv`` (UTF-8 without a byte-order mark, booleans ``true``/``false``/empty, dates ISO, lists ``;``-joined),
``parquet`` (native types), or one ``results.xlsx`` with three sheets. ``full_name`` is personal data and is dropped
unless ``show_names``; a reject row about ``full_name`` then has its value blanked too.

CSV goes through pyarrow's writer: about ten times faster than ``DataFrame.to_csv`` on a million rows and it writes
nullable booleans as ``true``/``false``/empty without any per-cell Python.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from tieuchi.errors import UsageError

FORMATS = ("csv", "parquet", "xlsx")
TABLES = ("households", "members", "rejects")
REJECT_COLUMNS = ["table", "row", "household_id", "member_no", "column", "value", "problem"]
PERSONAL_COLUMNS = ("full_name",)
EXCEL_MAX_ROWS = 1_048_576  # including the header row
XLSX_NAME = "results.xlsx"


# --------------------------------------------------------------------------------------------------------------
# public


def write_results(result: Any, out_dir: str | Path, fmt: str = "csv", lang: str = "vi",
                  show_names: bool = False) -> list[Path]:
    """Write ``result`` (a :class:`tieuchi.api.Result`) into ``out_dir``; return the paths written."""
    households = result.households_with_reasons(lang) if hasattr(result, "households_with_reasons") \
        else result.households  # reasons are compact codes in the frame: rendered once per distinct reason here
    frames = {
        "households": prepare_table(households, show_names, HOUSEHOLD_HEAD),
        "members": prepare_table(result.members, show_names, MEMBER_HEAD),
        "rejects": prepare_rejects(result.rejects, lang, show_names),
    }
    return _write(frames, out_dir, fmt)


def write_rejects(rejects: pd.DataFrame | None, out_dir: str | Path, fmt: str = "csv", lang: str = "vi",
                  show_names: bool = False) -> list[Path]:
    """Write only the rejects table (``--strict`` refusing a survey: nothing was evaluated)."""
    return _write({"rejects": prepare_rejects(rejects, lang, show_names)}, out_dir, fmt)


def output_paths(out_dir: str | Path, fmt: str = "csv", tables: Iterable[str] = TABLES) -> list[Path]:
    """The files ``write_results`` would write."""
    out = Path(out_dir)
    if fmt == "xlsx":
        return [out / XLSX_NAME]
    return [out / f"{t}.{fmt}" for t in tables]


def rejects_path(out_dir: str | Path, fmt: str = "csv") -> Path:
    out = Path(out_dir)
    return out / XLSX_NAME if fmt == "xlsx" else out / f"rejects.{fmt}"


# --------------------------------------------------------------------------------------------------------------
# preparing the frames


# contract §2.1 / §2.2: result columns first, in this order (prefixes stand for one column per indicator or item)
HOUSEHOLD_HEAD = ["household_id", "regime", "rules_version", "reference_date", "household_class", "income_line",
                  "deprivation_count", "unknown_count", "deprived_*", "undecided_by", "provisional", "reasons",
                  "newly_escaped_poverty", "no_labour_capacity", "eligibility_class", "class_mismatch", "eligible_*",
                  "priority_*"]
MEMBER_HEAD = ["household_id", "member_no", "age", "working_age", "dependant", "low_income_worker",
               "health_insurance_support", "eligible_*"]


def prepare_table(df: pd.DataFrame | None, show_names: bool = False, head: list[str] | None = None) -> pd.DataFrame:
    """The frame as written: personal columns dropped unless asked for; the contract's result columns first, in
    the contract's order, then the input columns carried through in their own order."""
    if df is None:
        return pd.DataFrame()
    if not show_names:
        drop = [c for c in df.columns if c in PERSONAL_COLUMNS]
        if drop:
            df = df.drop(columns=drop)
    if head:
        order = contract_order(list(df.columns), head)
        if order != list(df.columns):
            df = df[order]
    return df


def contract_order(columns: list[str], head: list[str]) -> list[str]:
    first: list[str] = []
    for h in head:
        if h.endswith("*"):
            first += [c for c in columns if isinstance(c, str) and c.startswith(h[:-1]) and c not in first]
        elif h in columns:
            first.append(h)
    return first + [c for c in columns if c not in first]


def prepare_rejects(rejects: pd.DataFrame | None, lang: str = "vi", show_names: bool = False) -> pd.DataFrame:
    """Rejects with the contract columns first, then ``message`` (the problem in ``lang``), then anything else."""
    if rejects is None:
        rejects = pd.DataFrame(columns=REJECT_COLUMNS)
    df = rejects.copy()
    for c in REJECT_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    # `value` holds whatever the bad cell held; write it as text so that one column has one type.
    df["value"] = _as_text(df["value"])
    if not show_names:
        personal = df["column"].isin(PERSONAL_COLUMNS)
        if personal.any():
            df.loc[personal, "value"] = pd.NA
    df["row"] = _whole_numbers(df["row"])
    # a rejected member's own number may be anything the user typed (1.5, 1e20, inf): it stays in `value` of that
    # reject; the member_no column holds it only when it is a whole number
    df["member_no"] = _whole_numbers(df["member_no"])
    df["message"] = messages(df["problem"], lang)
    rest = [c for c in df.columns if c not in REJECT_COLUMNS and c != "message"]
    return df[REJECT_COLUMNS + ["message"] + rest].reset_index(drop=True)


_EXACT_INT = 2 ** 53  # beyond this a number read as float is no longer the whole number the user typed


def _whole_numbers(s: pd.Series) -> pd.Series:
    """Int64: whole numbers kept, anything else (fractions, huge, infinite, text) empty."""
    x = pd.to_numeric(s, errors="coerce").astype("float64")
    ok = np.isfinite(x) & (x == np.round(x)) & (np.abs(x) <= _EXACT_INT)
    return x.where(ok).astype("Int64")


def messages(problems: pd.Series, lang: str = "vi") -> pd.Series:
    """Render each distinct problem code once (there are few codes and maybe millions of rows)."""
    text = _problem_text()
    codes = problems.dropna().unique()
    table = {}
    for code in codes:
        try:
            table[code] = text(str(code), lang)
        except Exception:  # an unknown code: show the code rather than fail the whole write
            table[code] = str(code)
    return problems.map(table).astype("string")


def _problem_text():
    try:
        from tieuchi.io.validate import problem_text
    except ImportError:  # the validator not installed: the code itself is the message
        return lambda code, lang: code
    return problem_text


def _as_text(s: pd.Series) -> pd.Series:
    if s.dtype != object and pd.api.types.is_string_dtype(s.dtype):
        return s.astype("string")
    return s.map(lambda v: v if _isna(v) else _text_of(v), na_action="ignore").astype("string")


def _text_of(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # list-likes
        return False


# --------------------------------------------------------------------------------------------------------------
# writing


def _out_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder",
                         "give a folder; tieuchi writes households, members and rejects into it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot create the folder ({e.strerror or e})",
                         "choose a folder you can write to") from e
    return out


def _write(frames: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str) -> list[Path]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
    if fmt == "xlsx":
        _check_excel_rows(frames)  # before anything is written
    out = _out_dir(out_dir)
    try:
        if fmt == "xlsx":
            path = out / XLSX_NAME
            _write_xlsx(frames, path)
            return [path]
        paths = [out / f"{name}.{fmt}" for name in frames]
        writer = _write_csv if fmt == "csv" else _write_parquet
        for df, path in zip(frames.values(), paths):
            writer(df, path)
        return paths
    except PermissionError as e:
        raise UsageError(f"cannot write {e.filename or out}: permission denied",
                         "close the file if it is open in Excel, or choose another --out folder") from e


def _check_excel_rows(frames: dict[str, pd.DataFrame]) -> None:
    for name, df in frames.items():
        if len(df) + 1 > EXCEL_MAX_ROWS:
            raise UsageError(
                f"the {name} sheet would have {len(df):,} rows; Excel holds at most {EXCEL_MAX_ROWS - 1:,} "
                "data rows per sheet",
                "use --format csv or --format parquet for a survey this large")


def _arrow_table(df: pd.DataFrame, for_csv: bool):
    """pandas -> arrow, one column at a time so that one odd carried-through column falls back to text alone."""
    import pyarrow as pa

    names, arrays = [], []
    for name in df.columns:
        s = df[name]
        if isinstance(s.dtype, pd.CategoricalDtype):  # codes stay codes: decoded in arrow, no Python per cell
            arr = _categorical(s, decode=for_csv)
            if arr is not None:
                names.append(str(name))
                arrays.append(arr)
                continue
            s = s.astype(object).where(s.notna(), None)
        if _is_midnight_datetimes(s):  # dates read as timestamps: write them as ISO dates, not "… 00:00:00"
            names.append(str(name))
            arrays.append(pa.Array.from_pandas(s).cast(pa.date32()))
            continue
        if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple)), na_action="ignore").fillna(False).any():
            arr = None if for_csv else _try_arrow(s)  # parquet keeps lists; csv joins them with ';'
        else:
            arr = _try_arrow(s)
        if arr is None:
            arr = pa.array(_as_text(s), type=pa.large_string(), from_pandas=True)
        names.append(str(name))
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=names)


def _categorical(s: pd.Series, decode: bool):
    """Categories and codes copied into arrow-owned memory (no zero-copy view of pandas buffers), then either
    decoded with one vectorised take (csv) or kept as a dictionary (parquet)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cats = pa.array(s.cat.categories.to_numpy(dtype=object), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    codes = np.array(s.cat.codes.to_numpy(), dtype=np.int32, copy=True)
    indices = pa.array(codes, mask=codes < 0)
    return pc.take(cats, indices) if decode else pa.DictionaryArray.from_arrays(indices, cats)


def _is_midnight_datetimes(s: pd.Series) -> bool:
    if not pd.api.types.is_datetime64_dtype(s.dtype):  # tz-aware timestamps are real instants: leave them
        return False
    v = s.dropna()
    return bool((v == v.dt.normalize()).all())


def _try_arrow(s: pd.Series):
    import pyarrow as pa

    try:
        return pa.Array.from_pandas(s)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    import pyarrow.csv as pcsv

    table = _arrow_table(df, for_csv=True)
    pcsv.write_csv(table, path, pcsv.WriteOptions(include_header=True, quoting_style="needed"))


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow_table(df, for_csv=False), path)


def _write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in frames.items():
            _excel_ready(df).to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"


def _excel_ready(df: pd.DataFrame) -> pd.DataFrame:
    """openpyxl writes a pandas NA as an error; make missing cells empty and lists text."""
    out = {}
    for name in df.columns:
        s = df[name]
        if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple)), na_action="ignore").fillna(False).any():
            s = _as_text(s)
        elif _is_midnight_datetimes(s):
            s = s.dt.date
        s = s.astype(object)
        out[name] = s.where(s.notna(), None)
    return pd.DataFrame(out, columns=df.columns, index=df.index)
