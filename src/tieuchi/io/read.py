"""Read a survey (data contract §1): a folder of CSV or Parquet files, an .xlsx workbook, or a .jsonl file.

Reading only finds the tables, maps header aliases to canonical names and normalises text to NFC; every value stays
as the user gave it (CSV: all strings, only the empty cell missing). `tieuchi.io.validate` does the typing and checks.
"""
from __future__ import annotations

import codecs
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tieuchi.errors import UsageError
from tieuchi.io.columns import canonical_header, canonical_sheet, column_table

REJECT_COLUMNS = ["table", "row", "household_id", "member_no", "column", "value", "problem"]
ENCODING_HINT = (
    "Mở tệp bằng Excel hoặc LibreOffice và lưu lại dưới dạng 'CSV UTF-8' (Save As → CSV UTF-8); "
    "với dữ liệu TCVN3/VNI, chuyển mã sang Unicode bằng Unikey (Công cụ chuyển mã) trước. / "
    "Re-save the file as 'CSV UTF-8' (Excel: Save As → CSV UTF-8); convert TCVN3/VNI text to Unicode first."
)


@dataclass
class RawSurvey:
    households: pd.DataFrame
    members: pd.DataFrame
    communes: pd.DataFrame | None
    source: str
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    # 1-based row numbers of the households table when they are not 1..n (jsonl: the line number of each household)
    household_rows: object = None


def read_survey(path: str | Path) -> RawSurvey:
    """Read SURVEY: a folder (households/members[/communes] .csv or .parquet), an .xlsx workbook or a .jsonl file."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"Không tìm thấy '{p}' / survey not found: '{p}'",
                         "Give a folder with households.csv and members.csv, an .xlsx workbook or a .jsonl file.")
    if p.is_dir():
        return _read_folder(p)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(p)
    raise UsageError(f"Không đọc được '{p}': định dạng không hỗ trợ / unsupported survey format '{suffix}'",
                     "Use a folder of .csv or .parquet files, an .xlsx workbook or a .jsonl file.")


# ---------------------------------------------------------------- shared helpers

def _nfc(s: pd.Series) -> pd.Series:
    """NFC-normalise a text column; leave non-text values (numbers, dates from xlsx/parquet) alone."""
    if pd.api.types.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        if s.dtype == object:
            return s.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
        return s.str.normalize("NFC")
    if isinstance(s.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(s.cat.categories.dtype):
        cats = [unicodedata.normalize("NFC", c) for c in s.cat.categories]
        if len(set(cats)) == len(cats) and cats != list(s.cat.categories):
            return s.cat.rename_categories(cats)
    return s


def canonicalise(df: pd.DataFrame, table: str, where: str) -> pd.DataFrame:
    """Map header aliases to canonical names (unknown columns kept as they are) and NFC-normalise text."""
    names, seen = [], {}
    for col in df.columns:
        header = unicodedata.normalize("NFC", str(col)).strip()
        name = canonical_header(table, header) or header
        if name in seen:
            raise UsageError(
                f"{where}: hai cột '{seen[name]}' và '{col}' cùng là cột '{name}' / "
                f"columns '{seen[name]}' and '{col}' both mean '{name}'", "Keep one of them.")
        seen[name] = col
        names.append(name)
    df = df.set_axis(names, axis=1)
    for col in df.columns:
        new = _nfc(df[col])
        if new is not df[col]:
            df[col] = new
    return df


def _read_csv(p: Path) -> pd.DataFrame:
    try:
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(p, "rb") as fh:  # refuse other encodings before pandas could misread them
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"'{p}' không phải UTF-8 (có thể là Windows-1258 hoặc TCVN3), byte lỗi ở vị trí {exc.start} / "
            f"'{p}' is not UTF-8: it looks like another encoding (Windows-1258 or TCVN3); it was not read",
            ENCODING_HINT) from None
    return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


def _read_folder(p: Path) -> RawSurvey:
    tables = {}
    for table in ("households", "members", "communes"):
        csv, parquet = p / f"{table}.csv", p / f"{table}.parquet"
        if csv.exists():
            tables[table] = canonicalise(_read_csv(csv), table, str(csv))
        elif parquet.exists():
            tables[table] = canonicalise(pd.read_parquet(parquet), table, str(parquet))
        elif table != "communes":
            raise UsageError(f"Thiếu tệp {table}.csv (hoặc {table}.parquet) trong '{p}' / "
                             f"missing {table}.csv (or {table}.parquet) in '{p}'",
                             "A survey folder holds households.csv and members.csv (and optionally communes.csv).")
    return RawSurvey(tables["households"], tables["members"], tables.get("communes"), str(p))


def _read_xlsx(p: Path) -> RawSurvey:
    try:
        # dtype=object: cells keep the type Excel gave them ("001" stays text); then infer each column's dtype
        sheets = pd.read_excel(p, sheet_name=None, keep_default_na=False, na_values=[""], dtype=object,
                               engine="openpyxl")
    except Exception as exc:  # a corrupt or non-xlsx file
        raise UsageError(f"Không đọc được '{p}' / cannot read workbook '{p}': {exc}",
                         "Save it again as an Excel .xlsx workbook.") from None
    found: dict[str, pd.DataFrame] = {}
    for name, df in sheets.items():
        table = canonical_sheet(name)
        if table and table not in found:
            found[table] = canonicalise(df.infer_objects(), table, f"{p}[{name}]")
    for table in ("households", "members"):
        if table not in found:
            names = ", ".join(f"'{n}'" for n in column_table().sheet_names[table])
            raise UsageError(f"'{p}' thiếu trang tính {table} / workbook has no sheet '{table}' (accepted: {names})",
                             f"Sheets found: {', '.join(map(str, sheets))}.")
    return RawSurvey(found["households"], found["members"], found.get("communes"), str(p))


def _json_cell(v):
    """A JSON value as the text a CSV cell would hold (null = missing)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(str(x) for x in v) if v else None
    if isinstance(v, str):
        return unicodedata.normalize("NFC", v)
    return str(v)


def _read_jsonl(p: Path) -> RawSurvey:
    households, members, rows, problems = [], [], [], []
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"'{p}' is not UTF-8 (it looks like Windows-1258 or TCVN3); it was not read",
                         ENCODING_HINT) from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("members", []), list):
                raise ValueError("not a household object with a 'members' list")
            if not all(isinstance(m, dict) for m in obj.get("members", [])):
                raise ValueError("a member is not an object")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append({"table": "households", "row": lineno, "household_id": None, "member_no": None,
                             "column": None, "value": str(exc)[:120], "problem": "invalid_json"})
            continue
        hh = {k: _json_cell(v) for k, v in obj.items() if k != "members"}
        hh_id = next((v for k, v in hh.items() if canonical_header("households", k) == "household_id"), None)
        households.append(hh)
        rows.append(lineno)
        for m in obj.get("members", []):
            members.append({"household_id": hh_id, **{k: _json_cell(v) for k, v in m.items()}})
    hh_df = pd.DataFrame(households, dtype="str") if households else pd.DataFrame({"household_id": []}, dtype="str")
    mem_df = pd.DataFrame(members, dtype="str") if members else pd.DataFrame({"household_id": []}, dtype="str")
    return RawSurvey(canonicalise(hh_df, "households", str(p)), canonicalise(mem_df, "members", str(p)), None,
                     str(p), pd.DataFrame(problems, columns=REJECT_COLUMNS), np.asarray(rows, dtype=np.int64))
