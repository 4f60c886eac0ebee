"""Read a survey (data contract §1): a folder of CSV or Parquet files, an .xlsx workbook, or a .jsonl file — or
several of them at once (one per commune), combined into one survey (`read_surveys`, "several files" below).

Reading finds the tables (and the header row), maps header aliases to canonical names and normalises text to NFC;
values stay as the user gave them (CSV: all strings, only the empty cell missing), with three exceptions, each a
reading of the file's own layout: a merged Mã hộ cell of an xlsx members sheet gives its id to every row it spans, a
Parquet list column becomes ';'-joined text (as a JSONL list does), and a row the reader could not read stays as a
placeholder holding its household id only (`RawSurvey.refused`). `tieuchi.contract.validate` does the typing and checks.

Row numbers: a reject's `row` is the 1-based data row of its table as the user's sheet shows it — the first row
below the header is row 1. Fully blank rows are skipped but still counted, so row N is always the N-th row below
the header (spreadsheet row N + 1 when the header is in row 1). The tables keep only the rows read; `RawSurvey`
says which user row each one is (`household_rows`, `member_rows`, `commune_rows`) when that is not simply 1..n, and
`with_reader_rejects` turns validation's positions into those rows.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import sys
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tieuchi.errors import UsageError, clip
from tieuchi.contract.columns import canonical_header, canonical_sheet, column_table, columns
from tieuchi.contract.parse import to_text
from tieuchi.contract.problems import table_label

REJECT_COLUMNS = ["table", "row", "household_id", "member_no", "column", "value", "problem"]
# where a reject is in the user's files, when known: written right after REJECT_COLUMNS in this order, and only when
# the rejects have them — `file` (the file the row is in) when the survey was read from several files, `cell` for a
# workbook (`tieuchi.contract.locate`)
REJECT_WHERE = ["file", "cell"]
TABLE_ORDER = {"households": 0, "members": 1, "communes": 2}
ENCODING_HINT_VI = (
    "Mở tệp bằng Excel hoặc LibreOffice và lưu lại dưới dạng 'CSV UTF-8' (Lưu Như / Save As → CSV UTF-8); "
    "với dữ liệu TCVN3/VNI, chuyển mã sang Unicode bằng Unikey (Công cụ chuyển mã) trước."
)
ENCODING_HINT = "Re-save the file as 'CSV UTF-8' (Excel: Save As → CSV UTF-8); convert TCVN3/VNI text to Unicode first."
# when row 1 does not hold a table's required headers, the header is the first of this many rows (blank rows counted,
# as a spreadsheet numbers them) that does: the same rule for a CSV file and a sheet (`find_header`)
HEADER_SEARCH_ROWS = 10
DELIMITERS = (",", ";", "\t")  # comma first; ';' is what Excel writes in a Vietnamese locale, tab its "Unicode text"
VALUE_CAP = 120  # characters of an input value or parser message echoed in a reject or an error


def _cap(text: str, n: int = VALUE_CAP) -> str:
    return clip(text, n)


def _header_vi(table: str, name: str) -> str:
    """A known column as a Vietnamese message names it: its Vietnamese header ("Giới tính"); else the name."""
    spec = columns(table).get(name) if table in column_table().columns else None
    return f"'{spec.header}'" if spec is not None else f"'{name}'"


@dataclass(frozen=True)
class TableSource:
    """Where the rows of one table came from in one file, so that a message can point at a row as the user sees it:
    the file, the sheet (a workbook), the line or sheet row of the header, and each column's header as the user
    wrote it with its position (0-based) in the file — e.g. for members!D17: sheet 'members', column position 3,
    header_line 1 and data row 16."""
    file: str
    sheet: str | None = None
    # the 1-based CSV record / sheet row of the header; 0 when the file has no header row (parquet, jsonl)
    header_line: int = 0
    headers: dict = field(default_factory=dict)  # canonical column -> the header as written
    positions: dict = field(default_factory=dict)  # canonical column -> 0-based position in the file / sheet


def table_source(file: str | Path, original: Sequence, canonical: Sequence, sheet: str | None = None,
                 header_line: int = 0) -> TableSource:
    """The TableSource of a table read with headers `original`, renamed by `canonicalise` to `canonical` (same
    order: canonicalise renames in place)."""
    headers = {c: str(o) for o, c in zip(original, canonical)}
    return TableSource(str(file), sheet, header_line, headers, {c: i for i, c in enumerate(canonical)})


@dataclass
class RawSurvey:
    households: pd.DataFrame
    members: pd.DataFrame
    communes: pd.DataFrame | None
    source: str
    # rejects for input rows that are in none of the tables (a JSON line that could not be read); `row` is the user's
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    # 1-based user row of each row of a table when it is not 1..n (jsonl: the line number of each household;
    # csv / xlsx: the row below the header, when blank rows were skipped)
    household_rows: object = None
    member_rows: object = None
    commune_rows: object = None
    # rejects for rows the reader could not read (a CSV row with more cells than the header) but keeps in its table
    # as a placeholder holding only the household id, so that the household is rejected with the row (contract
    # §2.3); `row` is the 1-based position in the table. They replace whatever validation says of the placeholder.
    refused: pd.DataFrame | None = None
    # where each table came from: one TableSource per file the table was read from (one for a single survey file)
    sources: dict = field(default_factory=dict)  # table -> list[TableSource]
    # table -> for each row of the table, the index of its file in sources[table]; None: every row from the first
    source_index: dict = field(default_factory=dict)

    def rows(self, table: str) -> np.ndarray | None:
        return {"households": self.household_rows, "members": self.member_rows,
                "communes": self.commune_rows}[table]

    @property
    def several_files(self) -> bool:
        """Read from several survey files (`read_surveys`): rows are numbered within each file, and every reject
        names its file (`file`)."""
        return len(self.sources.get("households") or []) > 1

    def files_of(self, table: str, positions: np.ndarray) -> np.ndarray:
        """The file (`TableSource.file`) of the rows at 0-based `positions` of `table`; None where not known."""
        found = self.sources.get(table) or []
        positions = np.asarray(positions, dtype=np.int64)
        out = np.full(len(positions), None, dtype=object)
        if not found:
            return out
        index = self.source_index.get(table)
        files = np.asarray([s.file for s in found] + [None], dtype=object)
        if index is None:
            out[:] = files[0]
            return out
        index = np.asarray(index, dtype=np.int64)
        ok = (positions >= 0) & (positions < len(index))
        out[ok] = files[index[positions[ok]]]
        return out

    def source_of(self, table: str, position: int) -> TableSource | None:
        """The TableSource of the row at 0-based `position` of `table` (None when the reader recorded none)."""
        found = self.sources.get(table) or []
        if not found:
            return None
        index = self.source_index.get(table)
        return found[int(index[position])] if index is not None else found[0]


def with_reader_rejects(rejects: pd.DataFrame, raw: RawSurvey) -> pd.DataFrame:
    """Validation's rejects of `raw`'s tables (row = position in the table) as the user's rows, with the reader's own.

    Placeholder rows (`raw.refused`) get the reader's problem instead of validation's; rows in no table
    (`raw.problems`) are added; the result is sorted by table and row."""
    rej = rejects
    refused = raw.refused if raw.refused is not None and len(raw.refused) else None
    if refused is not None:
        drop = np.zeros(len(rej), dtype=bool)
        for table, part in refused.groupby("table", sort=False):
            drop |= ((rej["table"] == table) & rej["row"].isin(part["row"])).to_numpy()
        rej = pd.concat([rej[~drop], refused], ignore_index=True) if len(rej) else refused.copy()
    if raw.several_files and len(rej):  # the file of each row, while `row` is still its position in the table
        rej = rej.copy() if rej is rejects else rej
        rej["file"] = _files_at(rej, raw)
    if any(raw.rows(t) is not None for t in TABLE_ORDER) and len(rej):
        rej = rej.copy() if rej is rejects else rej
        row = rej["row"].astype("int64").to_numpy(copy=True)
        for table in TABLE_ORDER:
            rows = raw.rows(table)
            if rows is None:
                continue
            rows = np.asarray(rows, dtype=np.int64)
            at = (rej["table"] == table).to_numpy()
            pos = row[at] - 1
            ok = (pos >= 0) & (pos < len(rows))
            mapped = row[at]
            mapped[ok] = rows[pos[ok]]
            row[at] = mapped
        rej["row"] = row
    problems = raw.problems if raw.problems is not None and len(raw.problems) else None
    if problems is not None:
        rej = pd.concat([problems.astype({"row": "int64"}), rej], ignore_index=True) if len(rej) else problems
    if raw.several_files and len(rej):
        rej = duplicates_across_files(rej)
    if rej is rejects:
        return rejects
    return sort_rejects(rej)


def _files_at(rej: pd.DataFrame, raw: RawSurvey) -> np.ndarray:
    """The file of each reject whose `row` is the 1-based position in its table (validation's rows)."""
    out = rej["file"].to_numpy(dtype=object, copy=True) if "file" in rej.columns else \
        np.full(len(rej), None, dtype=object)
    tables = rej["table"].to_numpy(dtype=object)
    row = pd.to_numeric(rej["row"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    for table in TABLE_ORDER:
        at = (tables == table) & pd.isna(out)
        if at.any():
            out[at] = raw.files_of(table, row[at] - 1)
    return out


def duplicates_across_files(rej: pd.DataFrame) -> pd.DataFrame:
    """A household id given in several files: its rows are rejected as duplicates (contract §2.3, every row with
    that id) with problem `household_id_in_several_files`, and `value` naming every file that has it ("a.xlsx;
    b.xlsx"), so that each file's officer sees where the other household is. Ids duplicated within one file only
    keep `duplicate_household_id`."""
    dup = ((rej["table"] == "households") & (rej["problem"] == "duplicate_household_id")).to_numpy()
    if not dup.any() or "file" not in rej.columns:
        return rej
    part = rej.loc[dup, ["household_id", "file"]].astype({"household_id": "string"})
    files = part.drop_duplicates()
    several = files.groupby("household_id", sort=False)["file"].agg(lambda f: "; ".join(f.astype(str)))
    several = several[files.groupby("household_id", sort=False).size() > 1]
    if not len(several):
        return rej
    named = part["household_id"].map(several)
    hit = named.notna().to_numpy()
    rej = rej.copy()
    where = np.flatnonzero(dup)[hit]
    rej.loc[rej.index[where], "problem"] = "household_id_in_several_files"
    rej["value"] = rej["value"].astype(object)
    rej.loc[rej.index[where], "value"] = named[hit].to_numpy(dtype=object)
    return rej


def sort_rejects(rej: pd.DataFrame) -> pd.DataFrame:
    """Rejects in the order they are written: by file (several files: in the order they were read), then table
    (households, members, communes), then row (stable)."""
    rej = rej.astype({"row": "int64"})
    order = rej["table"].map(TABLE_ORDER).to_numpy()
    keys = [rej["row"].to_numpy(), order]
    if "file" in rej.columns:  # files are read sorted by path, so their names sort in the order they were read
        keys.append(pd.factorize(rej["file"].astype(object).where(rej["file"].notna(), None), sort=True)[0])
    return rej.iloc[np.lexsort(keys)].reset_index(drop=True)


def read_survey(path) -> RawSurvey:
    """Read SURVEY: a folder (households/members[/communes] .csv or .parquet), an .xlsx workbook or a .jsonl file;
    or several surveys at once — a list of such paths, or a folder of them — combined into one (`read_surveys`)."""
    return read_surveys(path)


def read_surveys(paths) -> RawSurvey:
    """Read one survey or several (`paths`: a path or a list of paths), combined into one survey.

    Each path is a survey (a folder holding households.csv / members.csv or the .parquet pair, an .xlsx workbook,
    a .jsonl file) or a folder of surveys, one per commune: its .xlsx / .jsonl files and its subfolders holding a
    CSV or Parquet pair (`survey_files`). Files are read in a stable order, sorted by path. A file that cannot be
    read fails the whole run naming that file. One file gives exactly what reading it alone gives; several are
    combined by `combine_surveys`."""
    files = survey_files(paths)
    if len(files) == 1:
        return _read_one(files[0])
    return combine_surveys([_read_one(f) for f in files])


SURVEY_FILES = (".xlsx", ".xlsm", ".jsonl", ".ndjson")  # the survey files a folder of surveys is read for


def _not_found(p: Path) -> UsageError:
    return UsageError(f"survey not found: '{p}'",
                      "Give a folder with households.csv and members.csv, an .xlsx workbook or a .jsonl file.",
                      vi=f"không tìm thấy dữ liệu điều tra '{p}'",
                      vi_hint="Cho một thư mục có households.csv và members.csv, một tệp Excel .xlsx hoặc một tệp "
                              ".jsonl.", code="survey_not_found")


def _read_one(p: Path) -> RawSurvey:
    if not p.exists():
        raise _not_found(p)
    if p.is_dir():
        return _read_folder(p)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(p)
    raise _unsupported(p)


def _unsupported(p: Path) -> UsageError:
    suffix = p.suffix.lower()
    return UsageError(f"cannot read '{p}': unsupported survey format '{suffix}'",
                      "Use a folder of .csv or .parquet files, an .xlsx workbook or a .jsonl file.",
                      vi=f"không đọc được '{p}': định dạng '{suffix}' không được hỗ trợ",
                      vi_hint="Dùng một thư mục chứa các tệp .csv hoặc .parquet, một tệp Excel .xlsx hoặc một tệp "
                              ".jsonl.", code="survey_format_unsupported")


def table_folder(p: Path) -> bool:
    """Whether folder `p` is one survey of CSV or Parquet tables (it holds a households or members table), rather
    than a folder of surveys."""
    return any((p / f"{t}.{ext}").exists() for t in ("households", "members") for ext in ("csv", "parquet"))


def _folder_surveys(p: Path) -> list[Path]:
    """The surveys in a folder of surveys: its .xlsx / .jsonl files (not Excel's '~$' lock files nor hidden files)
    and its subfolders that hold a CSV or Parquet pair; anything else in it is not read."""
    found = []
    for entry in p.iterdir():
        if entry.name.startswith((".", "~$")):
            continue
        if entry.is_dir() and table_folder(entry):
            found.append(entry)
        elif entry.is_file() and entry.suffix.lower() in SURVEY_FILES:
            found.append(entry)
    if not found:
        raise UsageError(
            f"'{p}' holds no survey: neither households.csv and members.csv (or the .parquet pair), nor workbooks "
            "(.xlsx), .jsonl files or folders of CSV files, one per commune",
            "Give a folder with households.csv and members.csv, an .xlsx workbook or a .jsonl file, or a folder of "
            "them (one per commune).",
            vi=f"'{p}' không chứa dữ liệu điều tra nào: không có households.csv và members.csv (hoặc cặp .parquet), "
               "cũng không có sổ Excel (.xlsx), tệp .jsonl hay thư mục CSV của từng xã",
            vi_hint="Cho một thư mục có households.csv và members.csv, một sổ .xlsx hoặc một tệp .jsonl, hoặc một thư "
                    "mục chứa các tệp đó (mỗi xã một tệp).", code="survey_table_missing")
    return found


def survey_files(paths) -> list[Path]:
    """The surveys `paths` (a path or a list of them) stand for, sorted by path: a folder of surveys gives each
    survey in it (one level). Refused before anything is read: a path that does not exist, a file that is not a
    survey format, and a survey given twice (its households would all be duplicates)."""
    given = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not given:
        raise UsageError("no survey given", "Give a survey: a folder, an .xlsx workbook or a .jsonl file.",
                         vi="chưa cho dữ liệu điều tra",
                         vi_hint="Cho dữ liệu điều tra: một thư mục, một sổ .xlsx hoặc một tệp .jsonl.",
                         code="survey_not_found")
    found: list[Path] = []
    for g in given:
        p = Path(g)
        if not p.exists():
            raise _not_found(p)
        if p.is_dir():
            found += [p] if table_folder(p) else _folder_surveys(p)
        elif p.suffix.lower() in SURVEY_FILES:
            found.append(p)
        else:
            raise _unsupported(p)
    for p in found:  # a damaged workbook among many fails now, naming it, rather than after the others were read
        if p.suffix.lower() in (".xlsx", ".xlsm") and not zipfile.is_zipfile(p):
            raise UsageError(f"cannot read workbook '{p}': not an Excel .xlsx file (it is damaged, or another "
                             "format renamed)", "Save it again as an Excel .xlsx workbook.",
                             vi=f"không đọc được sổ Excel '{p}': đây không phải là tệp .xlsx (tệp bị hỏng, hoặc là "
                                "một định dạng khác bị đổi tên)", vi_hint="Lưu lại tệp dưới dạng sổ Excel .xlsx.",
                             code="workbook_unreadable")
    seen: dict[str, Path] = {}
    for f in found:
        key = str(f.resolve())
        if key in seen:
            raise UsageError(
                f"the survey '{f}' is given twice (as '{seen[key]}' and '{f}'): every household would be a duplicate",
                "Give each survey once.",
                vi=f"dữ liệu '{f}' được cho hai lần ('{seen[key]}' và '{f}'): mọi hộ sẽ bị trùng",
                vi_hint="Mỗi tệp dữ liệu chỉ cho một lần.", code="survey_given_twice")
        seen[key] = f
    return sorted(found, key=str)


# ---------------------------------------------------------------- shared helpers

def _nfc(s: pd.Series) -> pd.Series:
    """NFC-normalise a text column; leave non-text values (numbers, dates from xlsx/parquet) alone."""
    if pd.api.types.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        if s.dtype == object:
            return s.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
        arrow = getattr(s.array, "_pa_array", None)
        if arrow is not None and pc.all(pc.string_is_ascii(arrow)).as_py() is not False:
            return s  # ASCII text is NFC already: one C++ pass instead of normalising every cell (ids, codes, numbers)
        if arrow is not None:  # Arrow's own NFC in C++: names of 4M members in a fraction of a second, not seconds
            return pd.Series(pd.array(pc.utf8_normalize(arrow, form="NFC"), dtype=s.dtype), index=s.index,
                             name=s.name)
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
                f"{where}: columns '{seen[name]}' and '{col}' both mean '{name}'", "Keep one of them.",
                vi=f"{where}: hai cột '{seen[name]}' và '{col}' cùng là một cột ({_header_vi(table, name)})",
                vi_hint="Giữ một trong hai cột.", code="columns_same_meaning")
        seen[name] = col
        names.append(name)
    df = df.set_axis(names, axis=1)
    for col in df.columns:
        new = _nfc(df[col])
        if new is not df[col]:
            df[col] = new
    return df


def _has_required(table: str, headers) -> bool:
    """Whether a row of headers names every required column of `table` (and one of each one-of group)."""
    names = {canonical_header(table, h) for h in headers if h}
    specs = columns(table).values()
    if any(s.required and s.name not in names for s in specs):
        return False
    return all(any(s.name in names for s in specs if s.one_of == g) for g in {s.one_of for s in specs if s.one_of})


def find_header(rows: Iterable[Sequence], table: str) -> tuple[int, Sequence, bool] | None:
    """Where a table's header is, as (position, cells, named), one rule for CSV records and sheet rows alike.

    The table starts at its first non-blank row; the header is the first of the HEADER_SEARCH_ROWS rows from there
    (blank rows counted, as a spreadsheet numbers them) that names every required column of `table` (named: a
    title may stand above it), or else that first non-blank row (not named: validation then says which required
    column is missing). None when every row is blank."""
    rows = iter(rows)
    start, first = next(((i, r) for i, r in enumerate(rows) if any(to_text(c) for c in r)), (0, None))
    if first is None:
        return None
    for i, cells in enumerate(itertools.chain([first], itertools.islice(rows, HEADER_SEARCH_ROWS - 1))):
        if _has_required(table, [to_text(c) for c in cells]):
            return start + i, cells, True
    return start, first, False


def _header_names(cells) -> list[str]:
    """Column names from a header row's cells: the text, NFC and trimmed; an empty cell gives 'Unnamed: i'."""
    return [to_text(c) or f"Unnamed: {i}" for i, c in enumerate(cells)]


def _refuse_duplicate_headers(names: list[str], where: str, label) -> None:
    """Two columns with the same header: one of them would be read and the other silently renamed or ignored."""
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            a, b = label(first[name]), label(i)
            raise UsageError(
                f"{where}: the header '{_cap(name, 60)}' appears twice (columns {a} and {b})",
                "Rename or delete one of the two columns, so that every column has its own header.",
                vi=f"{where}: tiêu đề '{_cap(name, 60)}' xuất hiện hai lần (cột {a} và cột {b})",
                vi_hint="Đổi tên hoặc xóa một trong hai cột, để mỗi cột có một tiêu đề riêng.",
                code="column_header_twice")
        first[name] = i


def _blank_cells(s: pd.Series) -> np.ndarray:
    """Cells that are missing or hold only whitespace."""
    out = s.isna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.CategoricalDtype) or not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
        return out
    if s.dtype == object:
        return out | s.map(lambda v: isinstance(v, str) and not v.strip(), na_action="ignore").to_numpy(
            dtype=bool, na_value=False)
    return out | (s.str.strip() == "").to_numpy(dtype=bool, na_value=False)


def _blank_rows(df: pd.DataFrame) -> np.ndarray | None:
    """Rows whose every cell is blank (None when there are none). Cheap when there are none: a blank row is blank in
    its first column, so only the rows blank there are looked at further."""
    if not len(df) or not len(df.columns):
        return None
    cand = np.flatnonzero(_blank_cells(df.iloc[:, 0]))
    if not len(cand):
        return None
    sub = df.iloc[cand]
    blank = np.ones(len(cand), dtype=bool)
    for j in range(1, len(df.columns)):
        blank &= _blank_cells(sub.iloc[:, j])
        if not blank.any():
            return None
    out = np.zeros(len(df), dtype=bool)
    out[cand[blank]] = True
    return out


def _drop_blank_rows(df: pd.DataFrame, blank: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The table without its blank rows, and the user's row number (1-based, below the header) of each row kept."""
    if blank is None or not blank.any():
        return df, None
    keep = ~blank
    return df.iloc[np.flatnonzero(keep)].reset_index(drop=True), np.flatnonzero(keep).astype(np.int64) + 1


def _refuse_folder(p: Path) -> None:
    if not p.is_file():
        raise UsageError(f"'{p}' is not a file (it is a folder or a special file)",
                         f"{p.name} must be a file of the table; move or rename the folder.",
                         vi=f"'{p}' không phải là một tệp (đó là một thư mục hoặc tệp đặc biệt)",
                         vi_hint=f"{p.name} phải là tệp chứa bảng; hãy chuyển hoặc đổi tên thư mục đó.",
                         code="survey_not_a_file")


def _unreadable(p: Path, exc: Exception, hint: str, vi_hint: str) -> UsageError:
    what = _cap(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return UsageError(f"cannot read '{p}': {what}", hint, vi=f"không đọc được '{p}': {what}", vi_hint=vi_hint,
                      code="survey_file_unreadable")


# ---------------------------------------------------------------- csv

@contextlib.contextmanager
def _csv_field_limit():
    """Python's csv module refuses fields over 128 KiB; the C reader has no such limit, so neither may we."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _csv_encoding(p: Path) -> tuple[str, str | None]:
    """('utf-8-sig', None) for a UTF-8 file (checked whole, so another encoding is never misread), or
    (codec, text) for a UTF-16 / UTF-32 file with a byte-order mark (Excel's "Unicode text"), decoded."""
    with open(p, "rb") as fh:
        head = fh.read(4)
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            try:
                return codec, p.read_bytes().decode(codec)
            except UnicodeDecodeError as exc:
                raise UsageError(
                    f"'{p}' starts as {codec.upper()} but holds invalid bytes at position {exc.start}; it was not read",
                    ENCODING_HINT, vi=f"'{p}' bắt đầu như tệp {codec.upper()} nhưng có byte lỗi ở vị trí {exc.start}; "
                                      "tệp không được đọc", vi_hint=ENCODING_HINT_VI,
                    code="survey_encoding_invalid") from None
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with open(p, "rb") as fh:  # refuse other encodings before pandas could misread them
            while chunk := fh.read(1 << 20):
                nul = chunk.find(b"\x00")
                if nul >= 0:  # never in a text CSV: UTF-16 without its byte-order mark, or not a text file
                    raise UsageError(
                        f"'{p}' holds a NUL byte at position {offset + nul}: it looks like UTF-16 without a "
                        "byte-order mark, or not a text file; it was not read", ENCODING_HINT,
                        vi=f"'{p}' có byte NUL ở vị trí {offset + nul}: có thể là UTF-16 không có BOM, hoặc không "
                           "phải tệp văn bản; tệp không được đọc", vi_hint=ENCODING_HINT_VI,
                        code="survey_encoding_invalid")
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"'{p}' is not UTF-8: it looks like another encoding (Windows-1258 or TCVN3), invalid byte at position "
            f"{exc.start}; it was not read", ENCODING_HINT,
            vi=f"'{p}' không phải UTF-8 (có thể là Windows-1258 hoặc TCVN3), byte lỗi ở vị trí {exc.start}; tệp không "
               "được đọc", vi_hint=ENCODING_HINT_VI, code="survey_not_utf8") from None
    except OSError as exc:
        raise _unreadable(p, exc, "Check that the file exists and can be read.",
                          "Kiểm tra tệp có tồn tại và đọc được không.") from None
    return "utf-8-sig", None


def _csv_header(opener, table: str) -> tuple[str, int, list[str]] | None:
    """(delimiter, records before the header, header cells) of a CSV file, or None when it holds no header at all.

    The header is found as in a sheet (`find_header`): the first of HEADER_SEARCH_ROWS records from the first
    non-blank one that names the table's required columns (a title row above the header), else that first
    non-blank record. The delimiter is the first of ',', ';', tab that finds such a header; when none does, the one
    used most on the first non-blank line."""
    with _csv_field_limit():
        for sep in DELIMITERS:
            with opener() as fh:
                found = find_header(csv.reader(fh, delimiter=sep), table)
            if found is not None and found[2]:
                return sep, found[0], list(found[1])
    with opener() as fh:
        first = next((line for line in fh if line.strip()), None)
    if first is None:
        return None
    sep = max(DELIMITERS, key=first.count)  # ties (none found) keep the comma: max() returns the first maximum
    with _csv_field_limit(), opener() as fh:
        found = find_header(csv.reader(fh, delimiter=sep), table)
    return (sep, found[0], list(found[1])) if found is not None else None


def _read_csv(p: Path, table: str) -> tuple[pd.DataFrame, np.ndarray | None, list[dict], int]:
    """One CSV table: (frame, user row of each frame row or None for 1..n, rows refused as placeholders, the 1-based
    record of the header)."""
    _refuse_folder(p)
    encoding, text = _csv_encoding(p)

    def opener():
        return io.StringIO(text, newline="") if text is not None else open(p, encoding=encoding, newline="")

    try:
        found = _csv_header(opener, table)
    except csv.Error as exc:
        raise _unreadable(p, exc, "Save the table again as CSV (Excel: Save As → CSV UTF-8).",
                          "Lưu lại bảng dưới dạng CSV (Excel: Save As → CSV UTF-8).") from None
    if found is None:
        raise UsageError(f"'{p}' is empty: it has no header row (nor any data)",
                         "Save the table again with its header row; see `tieuchi template` for the headers.",
                         vi=f"'{p}' trống: không có dòng tiêu đề (cũng không có dữ liệu)",
                         vi_hint="Lưu lại bảng cùng dòng tiêu đề; xem `tieuchi template` để biết các tiêu đề.",
                         code="table_empty")
    sep, skip, header = found
    names = _header_names(header)
    _refuse_duplicate_headers(names, str(p), lambda i: str(i + 1))
    # names: the header as read above (pandas would rename a duplicate); skip_blank_lines=False: blank lines are
    # rows, counted and then skipped, as in a spreadsheet; index_col=False: never take a column as the index
    opts = dict(sep=sep, names=names, header=0, skiprows=skip or None, dtype=str, keep_default_na=False,
                na_values=[""], index_col=False, skip_blank_lines=False)
    refused: list[dict] = []
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops cells) when the first data row is longer than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text, newline="") if text is not None else p,
                             encoding=None if text is not None else encoding, **opts)
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        df, refused = _read_csv_long_rows(p, opener, sep, skip, names, table)
    except pd.errors.EmptyDataError:
        df = pd.DataFrame({n: pd.Series(dtype="str") for n in names})
    blank = _blank_rows(df)
    if blank is not None and refused:  # a placeholder stays, even with no household id: it is a row of the table
        blank[[r["row"] - 1 for r in refused]] = False
    df, rows = _drop_blank_rows(df, blank)
    if refused and rows is not None:  # positions in the table once the blank rows are dropped
        new_pos = np.zeros(int(rows[-1]) + 1, dtype=np.int64)
        new_pos[rows] = np.arange(1, len(rows) + 1)
        for r in refused:
            r["row"] = int(new_pos[r["row"]])
    return df, rows, refused, skip + 1


def _read_csv_long_rows(p: Path, opener, sep: str, skip: int, names: list[str], table: str):
    """The slow path, taken only when a row has more cells than the header: every record is read with the csv
    module; a row whose extra cells are not all empty is refused and kept as a placeholder that holds only its
    household id (so that its household is rejected too); the others are cut or padded to the header's width and
    read by pandas as on the fast path. Returns (frame, refused rows)."""
    n = len(names)
    hid = next((i for i, h in enumerate(names) if canonical_header(table, h) == "household_id"), None)
    mno = next((i for i, h in enumerate(names) if canonical_header(table, h) == "member_no"), None) \
        if table == "members" else None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    empty = [""] * n
    refused = []
    with _csv_field_limit(), opener() as fh:
        reader = csv.reader(fh, delimiter=sep, strict=True)  # strict: an unclosed quote must not swallow the file
        try:
            for _ in range(skip + 1):
                next(reader)
            records = list(reader)
        except csv.Error as exc:
            raise UsageError(
                f"'{p}', line {reader.line_num}: the file cannot be read as CSV ({exc}): most often a quote (\") "
                "that is opened and never closed", "Fix the quotes on that line (a quote inside a cell is written "
                "twice: \"\"), or save the table again from Excel as CSV UTF-8.",
                vi=f"'{p}', dòng {reader.line_num}: không đọc được tệp dạng CSV ({exc}): thường do một dấu ngoặc kép "
                   "(\") mở mà không đóng", vi_hint="Sửa dấu ngoặc kép ở dòng đó (dấu ngoặc kép trong một ô được viết "
                   "hai lần: \"\"), hoặc lưu lại bảng từ Excel dưới dạng CSV UTF-8.", code="csv_malformed") from None
        for i, rec in enumerate(records):
            if len(rec) == n:
                writer.writerow(rec)
            elif len(rec) < n:
                writer.writerow(rec + empty[len(rec):])
            elif not any(c.strip() for c in rec[n:]):
                writer.writerow(rec[:n])  # extra cells that are all empty (trailing delimiters) lose nothing
            else:
                holder = list(empty)
                if hid is not None and table != "communes":
                    holder[hid] = rec[hid]
                writer.writerow(holder)
                refused.append({"table": table, "row": i + 1,
                                "household_id": to_text(rec[hid]) if hid is not None else None,
                                "member_no": to_text(rec[mno]) if mno is not None else None,
                                "column": None, "value": f"{len(rec)} > {n}", "problem": "too_many_fields"})
    body = out.getvalue()
    if not body:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in names}), refused
    df = pd.read_csv(io.StringIO(body, newline=""), sep=",", header=None, names=names, dtype=str,
                     keep_default_na=False, na_values=[""], index_col=False, skip_blank_lines=False)
    return df, refused


# ---------------------------------------------------------------- parquet

def _read_parquet(p: Path) -> pd.DataFrame:
    """One Parquet table. A list column of plain values is read as text joined with ';' (as a JSON list is: that is
    how `info_devices` is written in CSV); a nested column (struct, map, list of lists) has no meaning as a cell and
    is refused, naming it."""
    _refuse_folder(p)
    try:
        schema = pq.read_schema(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for an empty, truncated or foreign file
        raise _unreadable(p, exc, "The file is empty or damaged: write the Parquet file again (or give a CSV).",
                          "Tệp trống hoặc bị hỏng: hãy ghi lại tệp Parquet (hoặc dùng tệp CSV).") from None
    first: dict[str, int] = {}
    for i, name in enumerate(schema.names):
        if name in first:
            raise UsageError(f"'{p}': two columns are named '{_cap(name, 60)}' (columns {first[name] + 1} and {i + 1})",
                             "Rename or drop one of them, so that every column has its own name.",
                             vi=f"'{p}': hai cột cùng tên '{_cap(name, 60)}' (cột {first[name] + 1} và {i + 1})",
                             vi_hint="Đổi tên hoặc bỏ một trong hai cột, để mỗi cột có một tên riêng.",
                             code="column_header_twice")
        first[name] = i
    lists = []
    for f in schema:
        t = f.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            if not pa.types.is_nested(t.value_type):
                lists.append(f.name)
                continue
        if pa.types.is_nested(t):
            raise UsageError(
                f"'{p}': column '{_cap(f.name, 60)}' holds nested values ({t}); a survey column holds one value per "
                "cell", "Write that column as text (a list of codes as 'tv;radio'), or leave it out.",
                vi=f"'{p}': cột '{_cap(f.name, 60)}' chứa giá trị lồng nhau ({t}); mỗi ô của bảng chỉ chứa một giá trị",
                vi_hint="Ghi cột đó dưới dạng chữ (danh sách mã như 'tv;radio'), hoặc bỏ cột đó.",
                code="column_nested_values")
    try:
        if not lists:
            df = pd.read_parquet(p)
        else:  # each column read once: the list columns by pyarrow alone, the others by pandas
            meta = schema.pandas_metadata or {}
            index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
            order = [n for n in schema.names if n not in index]
            df = pd.read_parquet(p, columns=[n for n in order if n not in lists])
            listed = pq.read_table(p, columns=lists)
            for name in lists:  # list<…> → text joined with ';' (C++ kernels); an empty list is missing, as in JSON
                joined = pc.binary_join(pc.cast(listed.column(name), pa.list_(pa.string())), ";")
                joined = pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)
                df.insert(order.index(name), name, pd.Series(joined.to_pandas(), index=df.index, dtype="str"))
    except Exception as exc:
        raise _unreadable(p, exc, "The file is damaged or uses a type tieuchi cannot read: write it again "
                          "(or give a CSV).",
                          "Tệp bị hỏng hoặc có kiểu dữ liệu không đọc được: hãy ghi lại (hoặc dùng tệp CSV).") from None
    return df


# ---------------------------------------------------------------- folder

def _read_folder(p: Path) -> RawSurvey:
    tables, rows, refused, sources = {}, {}, [], {}
    for table in ("households", "members", "communes"):
        csv_path, parquet = p / f"{table}.csv", p / f"{table}.parquet"
        if csv_path.exists():
            df, rows[table], bad, header_line = _read_csv(csv_path, table)
            tables[table] = canonicalise(df, table, str(csv_path))
            sources[table] = [table_source(csv_path, df.columns, tables[table].columns, header_line=header_line)]
            refused += bad
        elif parquet.exists():
            df = _read_parquet(parquet)
            tables[table] = canonicalise(df, table, str(parquet))
            sources[table] = [table_source(parquet, df.columns, tables[table].columns)]
        elif table != "communes":
            raise UsageError(f"missing {table}.csv (or {table}.parquet) in '{p}'",
                             "A survey folder holds households.csv and members.csv (and optionally communes.csv).",
                             vi=f"thiếu tệp {table}.csv (hoặc {table}.parquet) trong '{p}'",
                             vi_hint="Thư mục dữ liệu điều tra chứa households.csv và members.csv (và communes.csv "
                                     "nếu có).", code="survey_table_missing")
    return RawSurvey(tables["households"], tables["members"], tables.get("communes"), str(p),
                     household_rows=rows.get("households"), member_rows=rows.get("members"),
                     commune_rows=rows.get("communes"),
                     refused=pd.DataFrame(refused, columns=REJECT_COLUMNS) if refused else None, sources=sources)


# ---------------------------------------------------------------- xlsx

def _read_xlsx(p: Path) -> RawSurvey:
    try:
        book = pd.ExcelFile(p, engine="openpyxl")
    except Exception as exc:  # a corrupt or non-xlsx file
        raise UsageError(f"cannot read workbook '{p}': {_cap(str(exc))}", "Save it again as an Excel .xlsx workbook.",
                         vi=f"không đọc được tệp Excel '{p}': {_cap(str(exc))}",
                         vi_hint="Lưu lại tệp dưới dạng Excel .xlsx.", code="workbook_unreadable") from None
    with book:
        by_table: dict[str, list[str]] = {}
        for name in book.sheet_names:
            table = canonical_sheet(name)
            if table:
                by_table.setdefault(table, []).append(name)
        for table, names in by_table.items():
            if len(names) > 1:
                listed = ", ".join(f"'{n}'" for n in names)
                raise UsageError(
                    f"'{p}': {len(names)} sheets are the {table} table: {listed}; tieuchi would read one and leave "
                    "the other's rows out", "Keep one sheet per table: merge their rows into one sheet, or rename the "
                    "sheet that is not the table (e.g. 'Hộ (cũ)').",
                    vi=f"'{p}': có {len(names)} trang tính cùng là bảng {table}: {listed}; tieuchi sẽ chỉ đọc một "
                       "trang và bỏ sót các dòng của trang kia",
                    vi_hint="Mỗi bảng chỉ một trang tính: gộp các dòng vào một trang, hoặc đổi tên trang không phải "
                            "là bảng (ví dụ 'Hộ (cũ)').", code="workbook_sheets_same_table")
        for table in ("households", "members"):
            if table not in by_table:
                names = ", ".join(f"'{n}'" for n in column_table().sheet_names[table])
                found_names = ", ".join(f"'{n}'" for n in book.sheet_names)
                raise UsageError(f"workbook '{p}' has no sheet '{table}' (accepted names: {names})",
                                 f"Name the sheet of the {table} table one of those. Sheets found: {found_names}.",
                                 vi=f"tệp Excel '{p}' thiếu trang tính của bảng '{table_label(table)}' ({table}) "
                                    f"(tên được chấp nhận: {names})",
                                 vi_hint=f"Đặt tên trang tính của bảng này bằng một trong các tên trên. Các trang "
                                         f"tính có trong tệp: {found_names}.", code="survey_table_missing")
        found, rows, sources = {}, {}, {}
        for table, (name, ) in by_table.items():
            where = f"{p}[{name}]"
            try:
                # dtype=object: cells keep the type Excel gave them ("001" stays text); header=None: every row, so
                # that the header row can be found and row numbers stay the sheet's
                grid = pd.read_excel(book, sheet_name=name, header=None, keep_default_na=False, na_values=[""],
                                     dtype=object)
            except Exception as exc:
                raise UsageError(f"cannot read sheet '{where}': {_cap(str(exc))}",
                                 "Save it again as an Excel .xlsx workbook.",
                                 vi=f"không đọc được trang tính '{where}': {_cap(str(exc))}",
                                 vi_hint="Lưu lại tệp dưới dạng Excel .xlsx.", code="workbook_unreadable") from None
            df, rows[table], header_line = _sheet_table(grid, table, where, p, name)
            found[table] = canonicalise(df, table, where)
            sources[table] = [table_source(p, df.columns, found[table].columns, sheet=name, header_line=header_line)]
    return RawSurvey(found["households"], found["members"], found.get("communes"), str(p),
                     household_rows=rows.get("households"), member_rows=rows.get("members"),
                     commune_rows=rows.get("communes"), sources=sources)


def _sheet_table(grid: pd.DataFrame, table: str, where: str, p: Path, sheet: str):
    """A sheet's grid (every row, header=None) as (table, user row of each row kept or None for 1..n, the 1-based
    sheet row of the header).

    The header is found as in a CSV file (`find_header`): its first non-blank row, or the first of the next rows
    that names the table's required columns (a title above it). Rows are numbered from the header (the row below it
    is 1), fully blank rows are skipped, and in the members sheet a merged Mã hộ cell gives its value to every row it
    spans."""
    from openpyxl.utils import get_column_letter  # heavy: openpyxl, needed only for a workbook

    if not len(grid):
        raise UsageError(f"{where}: the sheet is empty; its first row must hold the column headers",
                         "Copy the header row from `tieuchi template`, or delete the sheet if it is not a table.",
                         vi=f"{where}: trang tính trống; dòng đầu tiên phải là dòng tiêu đề các cột",
                         vi_hint="Chép dòng tiêu đề từ `tieuchi template`, hoặc xóa trang tính nếu nó không phải "
                                 "là một bảng.", code="table_empty")
    found = find_header(grid.itertuples(index=False, name=None), table)
    h = found[0] if found is not None else 0  # not named: validation says which required column is missing
    names = _header_names(grid.iloc[h].tolist())
    _refuse_duplicate_headers(names, where, lambda i: get_column_letter(i + 1))
    data = grid.iloc[h + 1:].reset_index(drop=True).set_axis(names, axis=1)
    blank = _blank_rows(data)
    if table == "members":
        data = _fill_merged_ids(data, blank, p, sheet, header_row=h + 1)
    data, rows = _drop_blank_rows(data, blank)
    return data.infer_objects(), rows, h + 1


def _fill_merged_ids(data: pd.DataFrame, blank: np.ndarray | None, p: Path, sheet: str, header_row: int):
    """Members sheet: a Mã hộ cell merged over a household's rows (the usual layout) holds the id in its first row
    only; give it to every row of the merged range. Only a merged range is filled: any other blank id stays blank.

    The workbook is loaded a second time here, in full, and only when the id column has blank cells: pandas reads
    it read-only (fast, little memory on a large survey), and a read-only workbook does not know its merged cells."""
    j = next((i for i, h in enumerate(data.columns) if canonical_header("members", h) == "household_id"), None)
    if j is None:
        return data
    ids = data.iloc[:, j]
    empty = ids.isna().to_numpy() & (~blank if blank is not None else True)
    if not empty.any():
        return data
    from openpyxl import load_workbook  # heavy: openpyxl; a full (not read-only) load knows the merged cells

    try:
        ws = load_workbook(p, data_only=True)[sheet]
    except Exception:  # pragma: no cover - the same file was just read
        return data
    src = np.arange(len(data))
    for rng in ws.merged_cells.ranges:
        if rng.min_col != j + 1 or rng.min_row <= header_row or rng.max_row == rng.min_row:
            continue
        first = rng.min_row - header_row - 1  # 0-based position in `data` (Excel row header_row + 1 is position 0)
        src[first + 1:min(rng.max_row - header_row, len(data))] = first
    fill = empty & (src != np.arange(len(data)))
    if not fill.any():
        return data
    values = ids.to_numpy(dtype=object, copy=True)
    values[fill] = values[src[fill]]
    data = data.copy()
    data.isetitem(j, pd.Series(values, index=data.index, dtype=object))
    return data


# ---------------------------------------------------------------- jsonl

def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """json object_pairs_hook: a key given twice is an error, not "the last one wins"."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key '{_cap(dup, 60)}'")
    return out


def loads_strict(text: str):
    """json.loads refusing duplicate keys (ValueError) and nesting too deep for Python's parser (ValueError too:
    the parser's RecursionError is caught here, where the input is read)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply (lists or objects inside each other hundreds of times)") from None


def _json_cell(v, key: str = "value"):
    """A JSON value as the text a CSV cell would hold (null = missing); a list of plain values is joined with ';'."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        if any(isinstance(x, (list, dict)) for x in v):
            raise ValueError(f"'{_cap(key, 60)}' holds a nested list or object")
        return ";".join(_json_cell(x, key) or "" for x in v) if v else None
    if isinstance(v, dict):
        raise ValueError(f"'{_cap(key, 60)}' holds an object, not a value")
    if isinstance(v, str):
        return unicodedata.normalize("NFC", v)
    return str(v)


def document_tables(documents: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households as JSON documents (data contract §1.4) → raw households and members tables, as a survey's reader
    gives them (text cells, canonical column names)."""
    hh_rows, mem_rows = [], []
    for doc in documents:
        hh_rows.append({k: _json_cell(v) for k, v in doc.items() if k != "members"})
        for mb in doc.get("members") or []:
            mem_rows.append({"household_id": _json_cell(doc.get("household_id")),
                             **{k: _json_cell(v) for k, v in mb.items()}})
    hh = pd.DataFrame(hh_rows, dtype="str")
    mem = pd.DataFrame(mem_rows, dtype="str") if mem_rows else pd.DataFrame({"household_id": []}, dtype="str")
    return canonicalise(hh, "households", "case"), canonicalise(mem, "members", "case")


def _read_jsonl(p: Path) -> RawSurvey:
    households, members, rows, problems = [], [], [], []
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"'{p}' is not UTF-8 (it looks like Windows-1258 or TCVN3); it was not read",
                         ENCODING_HINT, vi=f"'{p}' không phải UTF-8 (có thể là Windows-1258 hoặc TCVN3); tệp không "
                                           "được đọc", vi_hint=ENCODING_HINT_VI, code="survey_not_utf8") from None
    except OSError as exc:
        raise _unreadable(p, exc, "Check that the file exists and can be read.",
                          "Kiểm tra tệp có tồn tại và đọc được không.") from None
    # lines end at "\n" only: U+2028, U+2029 and U+0085 (which str.splitlines() also splits at) are legal inside a
    # JSON string, and json.dumps(ensure_ascii=False) writes U+2028 as it is
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = loads_strict(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("members", []), list):
                raise ValueError("not a household object with a 'members' list")
            if not all(isinstance(m, dict) for m in obj.get("members", [])):
                raise ValueError("a member is not an object")
            hh = {k: _json_cell(v, k) for k, v in obj.items() if k != "members"}
            mems = [{k: _json_cell(v, k) for k, v in m.items()} for m in obj.get("members", [])]
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append({"table": "households", "row": lineno, "household_id": None, "member_no": None,
                             "column": None, "value": _cap(str(exc)), "problem": "invalid_json"})
            continue
        hh_id = next((v for k, v in hh.items() if canonical_header("households", k) == "household_id"), None)
        households.append(hh)
        rows.append(lineno)
        for m in mems:
            members.append({"household_id": hh_id, **m})
    hh_df = pd.DataFrame(households, dtype="str") if households else pd.DataFrame({"household_id": []}, dtype="str")
    mem_df = pd.DataFrame(members, dtype="str") if members else pd.DataFrame({"household_id": []}, dtype="str")
    hh_can, mem_can = canonicalise(hh_df, "households", str(p)), canonicalise(mem_df, "members", str(p))
    sources = {"households": [table_source(p, hh_df.columns, hh_can.columns)],
               "members": [table_source(p, mem_df.columns, mem_can.columns)]}
    return RawSurvey(hh_can, mem_can, None, str(p), pd.DataFrame(problems, columns=REJECT_COLUMNS),
                     np.asarray(rows, dtype=np.int64), sources=sources)


# ---------------------------------------------------------------- several files

def _missing_required(table: str, names) -> list[str]:
    """The required columns of `table` (and one-of groups, as 'a|b') that canonical column `names` lack."""
    names = set(names)
    specs = columns(table).values()
    missing = [s.name for s in specs if s.required and s.name not in names]
    for g in dict.fromkeys(s.one_of for s in specs if s.one_of):
        group = [s.name for s in specs if s.one_of == g]
        if not names.intersection(group):
            missing.append("|".join(group))
    return missing


def _refuse_missing_columns(raw: RawSurvey) -> None:
    """Each file must have its tables' required columns, as one survey must (a usage error, exit 2): combined with
    the other files, the missing column would otherwise only be blank for this file's rows."""
    for table in TABLE_ORDER:
        df = getattr(raw, table)
        if df is None:
            continue
        missing = _missing_required(table, df.columns)
        if missing:
            where = raw.sources[table][0].file if raw.sources.get(table) else raw.source
            names = ", ".join(f"'{m}'" for m in missing)
            raise UsageError(
                f"'{where}': table {table} has no required column {names}",
                "Add the column (the headers of `tieuchi template`), or leave this file out of the run.",
                vi=f"'{where}': bảng {table} thiếu cột bắt buộc {names}",
                vi_hint="Thêm cột đó (xem các tiêu đề của `tieuchi template`), hoặc bỏ tệp này ra khỏi lần chạy.",
                code="column_required_missing")


def _id_texts(values) -> pd.Index:
    """Distinct id values as the text `to_text` gives them (None: blank), whole columns at a time for the usual
    kinds (all text, all whole numbers); other mixtures one value at a time."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        text = pd.Series(values, dtype="string").str.strip()  # NFC already (canonicalise)
        return pd.Index(text.where(text != "", None).astype(object).to_numpy(), dtype=object)
    if kind == "integer":
        return pd.Index(np.asarray(values, dtype=np.int64).astype(str).astype(object), dtype=object)
    return pd.Index([to_text(v) or None for v in values], dtype=object)


def _id_keys(*parts: pd.Series) -> list[np.ndarray]:
    """The household ids of several columns as integer codes over them all (-1: blank), ids compared as their text
    (an integer id in one workbook equals the same id written as text in another): one hash pass per column, and
    the distinct ids converted to text as whole columns (`_id_texts`)."""
    lengths = np.cumsum([len(s) for s in parts])[:-1]
    if all(pd.api.types.is_integer_dtype(s.dtype) for s in parts):  # Parquet / typed ids: the numbers themselves
        codes, _ = pd.factorize(pd.concat([s.astype("Int64") for s in parts], ignore_index=True).array,
                                use_na_sentinel=True)
        return np.split(codes.astype(np.int64), lengths)
    if all(pd.api.types.is_string_dtype(s.dtype) and s.dtype != object and getattr(s.array, "_pa_array", None)
           is not None for s in parts):  # CSV text: trimmed and encoded in arrow (C++), no Python per id
        text = pc.utf8_trim_whitespace(pa.chunked_array([c.cast(pa.large_string()) for s in parts
                                                         for c in s.array._pa_array.chunks], type=pa.large_string()))
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
        codes = pc.fill_null(pc.dictionary_encode(text).combine_chunks().indices, -1)
        return np.split(codes.to_numpy(zero_copy_only=False).astype(np.int64), lengths)
    factorized = [pd.factorize(s.to_numpy(), use_na_sentinel=True) for s in parts]
    texts = [_id_texts(np.asarray(values, dtype=object)) for _, values in factorized]
    every = pd.Index(np.concatenate([t.to_numpy(dtype=object) for t in texts]), dtype=object).unique()
    every = every[pd.notna(every)]
    out = []
    for (codes, _), text in zip(factorized, texts):
        lut = np.append(every.get_indexer(text), -1)  # a blank id (None) is not in `every`: -1
        out.append(lut[codes].astype(np.int64))
    return out


def _members_of_other_files(members: pd.DataFrame, mem_file: np.ndarray, mem_key: np.ndarray,
                            hh_file: np.ndarray, hh_key: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, str]:
    """Member rows that would be joined to a household of another file: each file's members belong to that file's
    households (a household id is unique across files once duplicates are rejected). Returns the rows, and for each
    of them its problem: `unknown_household` for an id that is a household of another file only (an orphan of its
    own file), `household_id_blank` for a blank id with no member row above it in its own file (validation would
    give the row to the last household of the previous file)."""
    # ids are dense codes: the first and last file holding each id as households, looked up by array indexing
    n_ids = int(max(hh_key.max(initial=-1), mem_key.max(initial=-1))) + 1
    none = np.iinfo(np.int64).max
    lo, hi = np.full(n_ids + 1, none, dtype=np.int64), np.full(n_ids + 1, -1, dtype=np.int64)
    valid = hh_key >= 0
    np.minimum.at(lo, hh_key[valid], hh_file[valid])
    np.maximum.at(hi, hh_key[valid], hh_file[valid])
    key = np.where(mem_key >= 0, mem_key, n_ids)  # n_ids: no id, found nowhere
    has_id = mem_key >= 0
    first, last = lo[key], hi[key]
    elsewhere = has_id & (last >= 0)
    in_own = (first == mem_file) | (last == mem_file)
    between = elsewhere & ~in_own & (first < mem_file) & (mem_file < last)  # an id in three files or more: rare
    if between.any():
        own = pd.MultiIndex.from_arrays([hh_key[valid], hh_file[valid]]).unique()
        at = np.flatnonzero(between)
        in_own[at] = own.get_indexer(pd.MultiIndex.from_arrays([mem_key[at], mem_file[at]])) >= 0
    orphan = elsewhere & ~in_own
    blank = (_blank_cells(members["household_id"]) if "household_id" in members.columns else True) & ~has_id
    # a blank id belongs to the nearest member row above it with an id (validation's rule), within its own file
    above = np.where(blank, -1, np.arange(len(mem_key), dtype=np.int64))
    np.maximum.accumulate(above, out=above)
    first_of_file = starts[mem_file]
    cut = blank & ((above < first_of_file) & (mem_file > 0) | (above >= 0) & orphan[np.maximum(above, 0)])
    problem = np.where(orphan, "unknown_household", "household_id_blank")
    return orphan | cut, problem


def combine_surveys(raws: list[RawSurvey]) -> RawSurvey:
    """Several surveys as one: each table concatenated once (pd.concat) in the order given, each file's user rows
    kept (`household_rows` … hold the row within its file), `sources[table]` one TableSource per file and
    `source_index[table]` the file of each row; the reader's own rejects of each file (`refused`, `problems`) kept
    for their rows, `problems` naming the file (`file`).

    A household id given in several files is a duplicate (validation rejects every row with it; the rejects name the
    files: `duplicates_across_files`). A member row belongs to a household of its own file: a member whose id is a
    household of another file only, or a blank id with no row above it in its file, is rejected alone here (in
    `problems`) as it would be in a survey of its own, and not attached to another file's household."""
    for raw in raws:
        _refuse_missing_columns(raw)
    tables, rows, sources, index, refused = {}, {}, {}, {}, []
    problems = []
    for table in TABLE_ORDER:
        parts = [(i, raw) for i, raw in enumerate(raws) if getattr(raw, table) is not None]
        if not parts:
            continue
        frames = [getattr(raw, table) for _, raw in parts]
        lengths = np.asarray([len(f) for f in frames], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        tables[table] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        rows[table] = np.concatenate([np.asarray(raw.rows(table), dtype=np.int64) if raw.rows(table) is not None
                                      else np.arange(1, n + 1, dtype=np.int64)
                                      for (_, raw), n in zip(parts, lengths)]) if len(frames) else None
        sources[table] = [src for _, raw in parts for src in (raw.sources.get(table) or
                                                              [TableSource(raw.source)])[:1]]
        index[table] = np.repeat(np.arange(len(parts), dtype=np.int64), lengths)
        for (_, raw), offset in zip(parts, offsets):
            if raw.refused is not None and len(raw.refused):
                part = raw.refused[raw.refused["table"] == table]
                if len(part):
                    refused.append(part.assign(row=part["row"].astype("int64") + int(offset)))
    for raw in raws:
        if raw.problems is not None and len(raw.problems):
            first = raw.sources.get("households") or [TableSource(raw.source)]
            problems.append(raw.problems.assign(file=first[0].file))
    hh, mem = tables["households"], tables["members"]
    hh_key, mem_key = _id_keys(hh["household_id"], mem["household_id"]) if "household_id" in mem.columns else \
        (_id_keys(hh["household_id"])[0], np.full(len(mem), -1, dtype=np.int64))
    starts = np.concatenate([[0], np.cumsum(np.bincount(index["members"], minlength=len(sources["members"])))[:-1]])
    # the households' file index is the members' (every file has both tables)
    cut, problem = _members_of_other_files(mem, index["members"], mem_key, index["households"], hh_key, starts)
    if cut.any():
        at = np.flatnonzero(cut)
        mem_no = mem["member_no"].iloc[at] if "member_no" in mem.columns else pd.Series([None] * len(at))
        ids = mem["household_id"].iloc[at] if "household_id" in mem.columns else pd.Series([None] * len(at))
        files = np.asarray([s.file for s in sources["members"]], dtype=object)
        problems.append(pd.DataFrame({
            "table": "members", "row": rows["members"][at], "household_id": [to_text(v) for v in ids],
            "member_no": [to_text(v) for v in mem_no], "column": "household_id", "value": [to_text(v) for v in ids],
            "problem": problem[at], "file": files[index["members"][at]]}))
        keep = np.flatnonzero(~cut)
        if refused:  # refused rows are positions in the members table: renumber them without the cut rows
            moved = pd.concat(refused, ignore_index=True)
            is_m = (moved["table"] == "members").to_numpy()
            pos = moved["row"].to_numpy(dtype=np.int64, copy=True)
            gone = np.zeros(len(moved), dtype=bool)
            gone[is_m] = cut[pos[is_m] - 1]
            if gone.any():  # a cut row the reader refused too: its own problem joins the problems, for its row
                problems.append(moved[gone].assign(row=rows["members"][pos[gone] - 1],
                                                   file=files[index["members"][pos[gone] - 1]]))
            pos[is_m] = np.cumsum(~cut)[pos[is_m] - 1]
            refused = [moved.assign(row=pos)[~gone]]
        tables["members"] = mem.iloc[keep].reset_index(drop=True)
        rows["members"] = rows["members"][keep]
        index["members"] = index["members"][keep]
    return RawSurvey(
        tables["households"], tables["members"], tables.get("communes"),
        ", ".join(str(raw.source) for raw in raws),
        problems=pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=REJECT_COLUMNS),
        household_rows=rows["households"], member_rows=rows["members"], commune_rows=rows.get("communes"),
        refused=pd.concat(refused, ignore_index=True) if refused else None, sources=sources, source_index=index)
