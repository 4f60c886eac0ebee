"""Write classification results as the data contract §2 says: households, members and rejects.

Formats: ``csv`` (UTF-8 without a byte-order mark, booleans ``true``/``false``/empty, dates ISO, lists ``;``-joined),
``parquet`` (native types), or one ``results.xlsx`` with three sheets. Personal columns (``full_name`` and any column
whose header looks like a name: :func:`tieuchi.contract.columns.personal_columns`) are dropped unless ``show_names``; a
reject row about a personal column then has its value blanked too.

CSV goes through pyarrow's writer: about ten times faster than ``DataFrame.to_csv`` on a million rows and it writes
nullable booleans as ``true``/``false``/empty without any per-cell Python.

This module is also the one owner of what makes an output file safe, for every writer of tieuchi (results, rejects,
eligible lists, report and diff tables):

- **Formula injection** (OWASP, "CSV injection"): a text cell from the data that begins with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return would be run as a formula by a spreadsheet. In CSV such a text cell gets a
  leading ``'`` (:func:`escape_formulas`, vectorised; a text cell that already begins with ``'`` gets one too, so
  that dropping one leading ``'`` always gives the data back; plain numbers such as ``-5`` are left alone; numeric
  columns are never touched); ``raw_text`` writes the data verbatim. In xlsx every text is a text cell
  (:func:`keep_text`), never a formula, with the value unchanged. Parquet keeps the raw value.
- **Output paths** (:func:`check_out`): a folder where a file goes, a file where a folder goes, an unwritable place,
  or an output that is one of the command's own input files — a usage error before anything is read; a write that
  fails later is a usage error naming the file (:func:`writing`).
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from tieuchi.contract.columns import TABLES as SURVEY_TABLES
from tieuchi.contract.columns import known_personal_columns, personal_columns
from tieuchi.contract.problems import reject_message
from tieuchi.contract.read import REJECT_COLUMNS  # noqa: F401 - the contract's reject columns, one owner (re-exported)
from tieuchi.contract.read import REJECT_WHERE, survey_files, table_folder
from tieuchi.contract.results import RuleLabels, labelled
from tieuchi.contract.workbook import excel_text, info_rows, keep_text, write_workbook  # noqa: F401 - xlsx text safety (re-exported)
from tieuchi.errors import UsageError

FORMATS = ("csv", "parquet", "xlsx")
TABLES = ("households", "members", "rejects")
PERSONAL_COLUMNS = known_personal_columns()  # the contract's own; personal_columns() also finds name-like headers
EXCEL_MAX_ROWS = 1_048_576  # including the header rows
HEADER_ROWS = 2  # a workbook's headers: the labels a person reads, then the column ids (tieuchi.contract.workbook)
XLSX_NAME = "results.xlsx"

# Formula injection (OWASP): what a spreadsheet runs as a formula when a cell begins with it; ESCAPE is prefixed.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_ESCAPED_START = "".join(FORMULA_START) + ESCAPE  # a leading ' is escaped too: one ' dropped gives the data back
_PLAIN_NUMBER = r"^[+-]?[0-9]+([.,][0-9]+)*([eE][+-]?[0-9]+)?$"  # "-5", "+1.5", "-0,5": a number, not a formula
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
_START_BYTES = np.zeros(256, dtype=bool)
_START_BYTES[[ord(c) for c in _ESCAPED_START]] = True  # all ASCII: the first byte of the UTF-8 text decides


# --------------------------------------------------------------------------------------------------------------
# public


def write_results(result: Any, out_dir: str | Path, fmt: str = "csv", lang: str = "vi",
                  show_names: bool = False, raw_text: bool = False, how: "Written | None" = None) -> list[Path]:
    """Write ``result`` (a :class:`tieuchi.api.Result`) into ``out_dir``; return the paths written. ``raw_text``:
    CSV text cells exactly as in the data (no ``'`` before a formula-like value). ``how``: BOM, ``--labels``, the
    rules' labels and the info sheet's lines (:class:`Written`)."""
    households = result.households_with_reasons(lang) if hasattr(result, "households_with_reasons") \
        else result.households  # reasons are compact codes in the frame: rendered once per distinct reason here
    frames = {
        "households": prepare_table(households, show_names, household_head(_statuses(result))),
        "members": prepare_table(result.members, show_names, MEMBER_HEAD),
        "rejects": prepare_rejects(result.rejects, lang, show_names),
    }
    return write_tables(frames, out_dir, fmt, how=settled(how, lang, raw_text))


def write_rejects(rejects: pd.DataFrame | None, out_dir: str | Path, fmt: str = "csv", lang: str = "vi",
                  show_names: bool = False, raw_text: bool = False, how: "Written | None" = None) -> list[Path]:
    """Write only the rejects table (``--strict`` refusing a survey: nothing was evaluated)."""
    return write_tables({"rejects": prepare_rejects(rejects, lang, show_names)}, out_dir, fmt,
                        how=settled(how, lang, raw_text))


def settled(how: "Written | None", lang: str, raw_text: bool = False) -> "Written":
    """``how`` (or the defaults) in ``lang``, its CSV text escaped unless ``raw_text``."""
    how = how or Written()
    return replace(how, lang=lang, escape=how.escape and not raw_text)


def withheld_columns(result: Any, show_names: bool = False) -> list[str]:
    """The columns of ``result`` left out as personal data that the contract does not name (``full_name`` is
    documented): headers that look like a name. The CLI says so, so that nothing disappears unexplained."""
    if show_names:
        return []
    out: list[str] = []
    for df in (getattr(result, "households", None), getattr(result, "members", None)):
        if df is not None:
            out += [c for c in personal_columns(df.columns) if c not in PERSONAL_COLUMNS and c not in out]
    return out


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


# contract §2.1 / §2.2: result columns first, in this order (prefixes stand for one column per indicator or item;
# STATUSES for the household statuses of the rules, in the rules' order: newly escaped poverty, no labour capacity…)
STATUSES = "<statuses>"
HOUSEHOLD_HEAD = ["household_id", "regime", "rules_version", "reference_date", "household_class", "income_line",
                  "deprivation_count", "unknown_count", "deprived_*", "undecided_by", "provisional", "reasons",
                  STATUSES, "eligibility_class", "class_mismatch", "eligible_*", "priority_*"]
MEMBER_HEAD = ["household_id", "member_no", "age", "working_age", "dependant", "low_income_worker",
               "health_insurance_support", "eligible_*"]


def household_head(statuses: Iterable[str] = ()) -> list[str]:
    """HOUSEHOLD_HEAD with the statuses of the rules in place of STATUSES."""
    return [c for h in HOUSEHOLD_HEAD for c in (list(statuses) if h == STATUSES else [h])]


def _statuses(result: Any) -> list[str]:
    """The household status ids of the rules a result was classified with (none without rules or eligibility)."""
    eligibility = getattr(getattr(result, "rules", None), "eligibility", None)
    return list(getattr(eligibility, "statuses", None) or [])


def prepare_table(df: pd.DataFrame | None, show_names: bool = False, head: list[str] | None = None) -> pd.DataFrame:
    """The frame as written: personal columns dropped unless asked for; the contract's result columns first, in
    the contract's order, then the input columns carried through in their own order."""
    if df is None:
        return pd.DataFrame()
    if not show_names:
        drop = personal_columns(df.columns)
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
    """Rejects as written: the contract columns first, then where each is (``REJECT_WHERE``: its ``file`` when the
    survey was read from several files, the ``cell`` of a workbook when known), then ``message`` (the problem in
    ``lang``, naming the column by the header the user wrote: :func:`tieuchi.contract.problems.reject_message`), then
    anything else. The ``header`` column (:func:`tieuchi.contract.locate.locate`) is read into the message and not
    written."""
    if rejects is None:
        rejects = pd.DataFrame(columns=REJECT_COLUMNS)
    df = rejects.copy()
    for c in REJECT_COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    # `value` holds whatever the bad cell held; write it as text so that one column has one type.
    df["value"] = _as_text(df["value"])
    if not show_names:
        personal = df["column"].isin(personal_columns(df["column"].dropna().unique()))
        if personal.any():
            df.loc[personal, "value"] = pd.NA
    df["row"] = _whole_numbers(df["row"])
    # a rejected member's own number may be anything the user typed (1.5, 1e20, inf): it stays in `value` of that
    # reject; the member_no column holds it only when it is a whole number
    df["member_no"] = _whole_numbers(df["member_no"])
    df["message"] = messages(df["problem"], lang, df["table"], df["column"],
                             df["header"] if "header" in df.columns else None)
    where = [c for c in REJECT_WHERE if c in df.columns]
    rest = [c for c in df.columns if c not in REJECT_COLUMNS and c not in where and c not in ("message", "header")]
    return df[REJECT_COLUMNS + where + ["message"] + rest].reset_index(drop=True)


_EXACT_INT = 2 ** 53  # beyond this a number read as float is no longer the whole number the user typed


def _whole_numbers(s: pd.Series) -> pd.Series:
    """Int64: whole numbers kept, anything else (fractions, huge, infinite, text) empty."""
    x = pd.to_numeric(s, errors="coerce").astype("float64")
    ok = np.isfinite(x) & (x == np.round(x)) & (np.abs(x) <= _EXACT_INT)
    return x.where(ok).astype("Int64")


def messages(problems: pd.Series, lang: str = "vi", tables: pd.Series | None = None,
             columns: pd.Series | None = None, headers: pd.Series | None = None) -> pd.Series:
    """The message of each reject in ``lang`` (:func:`tieuchi.contract.problems.reject_message`), rendered once per
    distinct (problem, table, column, header) — there are few of them and maybe millions of rows — and taken onto the
    rows by integer codes."""
    parts = [s for s in (problems, tables, columns, headers) if s is not None]
    key = np.zeros(len(problems), dtype=np.int64)
    values = []
    for s in parts:  # one integer per distinct combination (mixed radix over each part's codes; -1 = missing)
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        key = key * (len(uniques) + 1) + (codes + 1)
        values.append((codes, uniques))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    said = []
    for i in first:
        args = [uniques[codes[i]] if codes[i] >= 0 else None for codes, uniques in values]
        code, table, column, header = args + [None] * (4 - len(args))
        if code is None:
            said.append(None)
            continue
        try:
            said.append(reject_message(str(code), lang, table, column, header))
        except Exception:  # an unknown code or column: show the code rather than fail the whole write
            said.append(str(code))
    texts = np.asarray(said + [None], dtype=object)
    return pd.Series(pd.array(texts[inverse.reshape(-1)] if len(problems) else [], dtype="string"),
                     index=problems.index)


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
# output paths: checked before a survey is read; a failed write named


def check_out(out: str | Path, files: Iterable[str | Path], inputs: Iterable[tuple[str | Path, str]] = (),
              option: str = "--out") -> Path:
    """Refuse, before anything is read or written, an output folder ``out`` that cannot hold ``files`` (names in
    it): ``out`` a file or under a file, a folder that cannot be written, one of the files a folder, or one of the
    files an input of the run (``inputs``: (path, what) pairs, ``what`` a key of :data:`INPUT_LABELS` — see
    :func:`survey_inputs`). Nothing is created."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise _usage(f"{option} {out}: exists and is not a folder",
                     "give a folder (a new one is created); tieuchi writes its files into it",
                     f"{option} {out}: đã có và không phải là thư mục",
                     "cho một thư mục (thư mục mới sẽ được tạo); tieuchi ghi các tệp kết quả vào đó",
                     code="out_not_folder")
    _check_parent(out, option)
    paths = [out / f for f in files]
    for p in paths:
        if p.is_dir():
            raise _usage(f"cannot write {p}: a folder of that name is in the way",
                         f"remove or rename the folder {p}, or choose another {option} folder",
                         f"không ghi được {p}: đã có một thư mục trùng tên",
                         f"xoá hoặc đổi tên thư mục {p}, hoặc chọn thư mục {option} khác", code="out_path_blocked")
    for source, what in inputs:
        if what == "survey_folder" and _inside(out, Path(source)):
            raise _usage(f"{option} {out}: is inside the folder of surveys {source}, which this command reads: a "
                         "later run would read the results as one more commune's survey",
                         f"choose an {option} folder outside {source}",
                         f"{option} {out}: nằm trong thư mục dữ liệu {source} mà lệnh này đang đọc: lần chạy sau sẽ "
                         "đọc các tệp kết quả như dữ liệu của thêm một xã",
                         f"chọn thư mục {option} nằm ngoài {source}", code="out_overwrites_input")
        for p in paths:
            if _same_file(p, Path(source)):
                en, vi = INPUT_LABELS.get(what, (what, what))
                raise _usage(f"{option} {out}: writing {p} would overwrite or change {en} ({source}), which this "
                             "command reads",
                             f"choose another {option} folder: tieuchi never writes over the files it reads",
                             f"{option} {out}: ghi {p} sẽ ghi đè hoặc làm thay đổi {vi} ({source}) mà lệnh này "
                             "đang đọc",
                             f"chọn thư mục {option} khác: tieuchi không bao giờ ghi đè tệp mà nó đọc",
                             code="out_overwrites_input")
    return out


def check_out_file(path: str | Path, force: bool = False, option: str = "--out") -> Path:
    """The same for one output file (``tieuchi template --out FILE``): not a folder, in a place that can be written,
    and not an existing file unless ``force`` (it may be a filled-in survey)."""
    path = Path(path)
    if path.is_dir():
        raise _usage(f"{option} {path}: is a folder", f"give a file name, e.g. {option} {path / 'phieu-ra-soat.xlsx'}",
                     f"{option} {path}: là một thư mục", f"cho tên tệp, ví dụ {option} {path / 'phieu-ra-soat.xlsx'}",
                     code="out_is_folder")
    if path.exists() and not force:
        raise _usage(f"{option} {path}: the file exists (it may be a filled-in survey) and was left untouched",
                     "choose another file name, or add --force to replace it",
                     f"{option} {path}: tệp đã có (có thể là phiếu đã nhập liệu) nên không bị ghi đè",
                     "chọn tên tệp khác, hoặc thêm --force để ghi đè", code="out_file_exists")
    _check_parent(path.parent, option, shown=path)
    return path


def survey_inputs(survey) -> list[tuple[Path, str]]:
    """The files a SURVEY argument (a path or several) stands for: each workbook or JSONL file itself, for a folder
    of CSV or Parquet tables every table file the reader looks for there — even one that does not exist yet, since
    writing it would change the survey —, and a folder of surveys as a whole (``survey_folder``: nothing may be
    written inside it, or the next run would read it). A survey that cannot be found is refused here, before a long
    read (:func:`tieuchi.contract.read.survey_files`)."""
    given = [survey] if isinstance(survey, (str, Path)) else list(survey)
    out: list[tuple[Path, str]] = [(Path(g), "survey_folder") for g in given
                                   if Path(g).is_dir() and not table_folder(Path(g))]
    for p in survey_files(given):
        if p.is_dir():
            out += [(p / f"{t}.{ext}", "survey") for t in SURVEY_TABLES for ext in ("csv", "parquet")]
        else:
            out.append((p, "survey"))
    return out


# what an input of a run is, for the message (en, vi)
INPUT_LABELS = {
    "survey": ("the survey", "dữ liệu điều tra"),
    "survey_folder": ("the folder of surveys", "thư mục dữ liệu điều tra"),
    "rules": ("the rules (--rules)", "bộ quy tắc (--rules)"),
    "vs_rules": ("the second rules (--vs-rules)", "bộ quy tắc thứ hai (--vs-rules)"),
    "plan": ("the plan (--plan)", "kế hoạch (--plan)"),
    "support": ("the --support file", "tệp --support"),
    "program_data": ("the --program-data file", "tệp --program-data"),
    "allocation": ("the --allocation file", "tệp --allocation"),
}


def _check_parent(out: Path, option: str, shown: Path | None = None) -> None:
    """The nearest existing folder of ``out`` must be a folder that can be written."""
    shown = shown or out
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise _usage(f"{option} {shown}: cannot create it: {probe} is a file, not a folder",
                     f"choose a {option} path inside a folder",
                     f"{option} {shown}: không tạo được: {probe} là một tệp, không phải thư mục",
                     f"chọn đường dẫn {option} nằm trong một thư mục", code="out_parent_not_folder")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise _usage(f"{option} {shown}: cannot write in {probe} (permission denied)",
                     "choose a folder you can write to",
                     f"{option} {shown}: không có quyền ghi vào {probe}", "chọn thư mục mà bạn có quyền ghi",
                     code="out_permission_denied")


def _inside(a: Path, folder: Path) -> bool:
    """Whether `a` is `folder` or under it, however spelt (symlinks resolved)."""
    a, folder = Path(os.path.realpath(a)), Path(os.path.realpath(folder))
    return a == folder or folder in a.parents


def _same_file(a: Path, b: Path) -> bool:
    """The same file however spelt: relative or absolute, trailing slash, '..', symlinks, hard links."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _usage(en: str, hint: str, vi: str, vi_hint: str, *, code: str) -> UsageError:
    return UsageError(en, hint, vi=vi, vi_hint=vi_hint, code=code)


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into a usage error that names it (exit 2, never an
    internal error): permission denied, a folder in the way, a full disk …"""
    try:
        yield
    except PermissionError as e:
        raise _usage(f"cannot write {path}: permission denied",
                     "close the file if it is open in Excel, or choose another --out",
                     f"không ghi được {path}: không có quyền",
                     "đóng tệp nếu đang mở trong Excel, hoặc chọn --out khác", code="write_permission_denied") from e
    except OSError as e:
        why = e.strerror or str(e)
        raise _usage(f"cannot write {path}: {why}", "check the path and the free disk space, or choose another --out",
                     f"không ghi được {path}: {why}",
                     "kiểm tra đường dẫn và dung lượng đĩa còn trống, hoặc chọn --out khác", code="write_failed") from e


def make_out_dir(out_dir: str | Path) -> Path:
    """The output folder, created when missing; a usage error when it cannot be."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise _usage(f"--out {out}: exists and is not a folder",
                     "give a folder; tieuchi writes its files into it",
                     f"--out {out}: đã có và không phải là thư mục", "cho một thư mục; tieuchi ghi các tệp vào đó",
                     code="out_not_folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _usage(f"--out {out}: cannot create the folder ({e.strerror or e})", "choose a folder you can write to",
                     f"--out {out}: không tạo được thư mục ({e.strerror or e})",
                     "chọn thư mục mà bạn có quyền ghi", code="out_cannot_create") from e
    return out


# --------------------------------------------------------------------------------------------------------------
# formula injection: one rule for every writer


def escape_formulas(arr):
    """A text array with ``'`` put before every value that a spreadsheet would run as a formula (see the module's
    docstring); any other array (numbers, booleans, dates) is returned as it is. Vectorised: the first byte of every
    value is read from the arrow buffers at once; only the few values that begin like a formula are looked at
    again."""
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([escape_formulas(c) for c in arr.chunks], type=arr.type)
    t = arr.type
    if pa.types.is_dictionary(t):
        return pa.DictionaryArray.from_arrays(arr.indices, escape_formulas(arr.dictionary))
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)) or len(arr) == 0:
        return arr
    start = _leading(arr)
    if not start.any():
        return arr
    where = np.flatnonzero(start)
    candidates = arr.take(pa.array(where))
    number = pc.fill_null(pc.match_substring_regex(candidates, _PLAIN_NUMBER), False).to_numpy(zero_copy_only=False)
    if number.all():
        return arr
    where = where[~number]
    mask = np.zeros(len(arr), dtype=bool)
    mask[where] = True
    values = pc.binary_join_element_wise(pa.scalar(ESCAPE, t), arr.take(pa.array(where)), pa.scalar("", t))
    return pc.replace_with_mask(arr, pa.array(mask), values)


def _leading(arr) -> np.ndarray:
    """True where a (non-null, non-empty) value begins with a character of ``_ESCAPED_START``."""
    _, offsets, data = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(offsets, dtype=width)[arr.offset: arr.offset + len(arr) + 1]
    first = offs[:-1]
    filled = offs[1:] > first
    out = np.zeros(len(arr), dtype=bool)
    if data is not None and filled.any():
        out[filled] = _START_BYTES[np.frombuffer(data, dtype=np.uint8)[first[filled]]]
    if arr.null_count:
        out &= arr.is_valid().to_numpy(zero_copy_only=False)
    return out


def escape_text(value: str) -> str:
    """One text (a header) escaped as :func:`escape_formulas` escapes a column."""
    if value[:1] and value[0] in _ESCAPED_START and not _PLAIN_NUMBER_RE.match(value):
        return ESCAPE + value
    return value


# --------------------------------------------------------------------------------------------------------------
# writing


BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark: Excel then opens a CSV as UTF-8, not as the local code page
SHEET_TABLES = {"households": "households", "members": "members", "rejects": None}  # sheet -> survey table it carries


@dataclass(frozen=True)
class Written:
    """How a run's tables are written, beside the format: ``escape`` (CSV text cells escaped against formula
    injection), ``bom`` (CSV begins with UTF-8's byte-order mark), ``labels`` (CSV: the labelled view a workbook
    shows), ``lang``, ``rules`` (the rules' labels, :class:`RuleLabels`) and ``meta`` (the (key, value) pairs of the
    workbook's info sheet: tieuchi's version, the survey, the options that matter)."""

    escape: bool = True
    bom: bool = True
    labels: bool = False
    lang: str = "vi"
    rules: RuleLabels | None = None
    meta: tuple[tuple[str, Any], ...] = ()


def write_csv(df: pd.DataFrame, path: str | Path, escape: bool = True, bom: bool = True) -> Path:
    """One table as CSV, as every tieuchi CSV is written: UTF-8 with a byte-order mark unless ``bom`` is false,
    ``true``/``false``, ISO dates, text cells escaped against formula injection unless ``escape`` is false."""
    path = Path(path)
    with writing(path):
        _write_csv(df, path, escape, bom)
    return path


def write_tables(frames: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str, escape: bool = True,
                 how: Written | None = None, tables: dict[str, str | None] | None = None) -> list[Path]:
    """Write each frame as ``<name>.<fmt>`` in ``out_dir`` (created when missing), or all of them as the sheets of
    one ``results.xlsx``; return the paths written. ``how``: BOM, labels, language, the rules' labels (``escape``
    alone is the older spelling of ``how.escape``); ``tables``: the survey table each frame's input columns come
    from (for their headers and codes)."""
    how = how or Written(escape=escape)
    if fmt not in FORMATS:
        raise _usage(f"unknown output format {fmt!r}", f"use one of: {', '.join(FORMATS)}",
                     f"định dạng kết quả {fmt!r} không hợp lệ", f"dùng một trong: {', '.join(FORMATS)}",
                     code="output_format_unknown")
    if fmt == "xlsx":
        check_excel_rows(frames)  # before anything is written
    out = make_out_dir(out_dir)
    if fmt == "xlsx":
        return [write_xlsx(frames, out / XLSX_NAME, how, tables)]
    paths = [out / f"{name}.{fmt}" for name in frames]
    for (name, df), path in zip(frames.items(), paths):
        with writing(path):
            if fmt == "csv":
                if how.labels:
                    lab = labelled(df, _table_of(name, tables), how.lang, how.rules)
                    df = lab.frame.set_axis(lab.headers, axis=1)
                _write_csv(df, path, how.escape, how.bom)
            else:
                _write_parquet(df, path)
    return paths


def _table_of(name: str, tables: dict[str, str | None] | None) -> str | None:
    return (tables or SHEET_TABLES).get(name, SHEET_TABLES.get(name))


def write_xlsx(frames: dict[str, pd.DataFrame], path: Path, how: Written | None = None,
               tables: dict[str, str | None] | None = None) -> Path:
    """One workbook for people (:mod:`tieuchi.contract.workbook`): an info sheet, a sheet per frame (sheet name =
    key) with headers in ``how.lang`` over the column ids, codes shown as labels, widths, filter and frozen
    header, a column sheet and the hidden codes sheet; every text a text cell, never a formula."""
    how = how or Written()
    sheets = {name: labelled(df, _table_of(name, tables), how.lang, how.rules) for name, df in frames.items()}
    with writing(path):
        write_workbook(path, sheets, how.lang, info_rows(how.lang, how.rules, how.meta))
    return path


def check_excel_rows(frames: dict[str, pd.DataFrame]) -> None:
    """Refuse (a usage error), before anything is written, a frame too long for one Excel sheet."""
    for name, df in frames.items():
        if len(df) + HEADER_ROWS > EXCEL_MAX_ROWS:
            raise _usage(
                f"the {name} sheet would have {len(df):,} rows; Excel holds at most {EXCEL_MAX_ROWS - 1:,} "
                "data rows per sheet",
                "use --format csv or --format parquet for a survey this large",
                f"trang {name} sẽ có {len(df):,} dòng; Excel chỉ chứa tối đa {EXCEL_MAX_ROWS - 1:,} dòng dữ liệu "
                "mỗi trang",
                "dùng --format csv hoặc --format parquet cho bộ dữ liệu lớn như vậy", code="xlsx_too_many_rows")


def _arrow_table(df: pd.DataFrame, for_csv: bool, escape: bool = False):
    """pandas -> arrow, one column at a time so that one odd carried-through column falls back to text alone.
    ``escape``: text columns (and headers) escaped against formula injection (CSV)."""
    names, arrays = [], []
    for name in df.columns:
        s = df[name]
        arr = None
        if isinstance(s.dtype, pd.CategoricalDtype):  # codes stay codes: decoded in arrow, no Python per cell
            arr = _categorical(s, decode=for_csv, escape=escape)  # escaped in its categories only
            if arr is None:
                s = s.astype(object).where(s.notna(), None)
        if arr is not None:
            pass
        elif _is_midnight_datetimes(s):  # dates read as timestamps: write them as ISO dates, not "… 00:00:00"
            arr = pa.Array.from_pandas(s).cast(pa.date32())
        elif s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple)), na_action="ignore").fillna(
                False).any():
            arr = None if for_csv else _try_arrow(s)  # parquet keeps lists; csv joins them with ';'
        else:
            arr = _try_arrow(s)
        if arr is None:
            arr = pa.array(_as_text(s), type=pa.large_string(), from_pandas=True)
        if escape and not isinstance(s.dtype, pd.CategoricalDtype):
            arr = escape_formulas(arr)
        names.append(escape_text(str(name)) if escape else str(name))
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=names)


def _categorical(s: pd.Series, decode: bool, escape: bool = False):
    """Categories and codes copied into arrow-owned memory (no zero-copy view of pandas buffers), then either
    decoded with one vectorised take (csv) or kept as a dictionary (parquet). Escaping touches the categories only."""
    try:
        cats = pa.array(s.cat.categories.to_numpy(dtype=object), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if escape:
        cats = escape_formulas(cats)
    codes = np.array(s.cat.codes.to_numpy(), dtype=np.int32, copy=True)
    indices = pa.array(codes, mask=codes < 0)
    return pc.take(cats, indices) if decode else pa.DictionaryArray.from_arrays(indices, cats)


def _is_midnight_datetimes(s: pd.Series) -> bool:
    if not pd.api.types.is_datetime64_dtype(s.dtype):  # tz-aware timestamps are real instants: leave them
        return False
    v = s.dropna()
    return bool((v == v.dt.normalize()).all())


def _try_arrow(s: pd.Series):
    try:
        return pa.Array.from_pandas(s)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _write_csv(df: pd.DataFrame, path: Path, escape: bool = True, bom: bool = True) -> None:
    table = _arrow_table(df, for_csv=True, escape=escape)
    with open(path, "wb") as f:
        if bom:
            f.write(BOM)
        pcsv.write_csv(table, f, pcsv.WriteOptions(include_header=True, quoting_style="needed"))


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    pq.write_table(_arrow_table(df, for_csv=False), path)


