"""The one workbook style of tieuchi: every .xlsx it writes for people (results.xlsx, eligible.xlsx, report.xlsx).

A table sheet has **two header rows**: row 1 the header a person reads (bold; Vietnamese by default, English with
``--lang en``), row 2 the machine id of the column (grey italic); data from row 3, the header frozen (A3), an
autofilter over row 2 and the data, widths fitted to the content (bounded), numbers as numbers with their format
(money with thousands separators, dates as dates). A program reads a sheet back with ``pd.read_excel(path,
sheet_name=..., header=1)`` — the ids as columns — or with :func:`read_workbook`, which also gives back the machine
codes of a labelled workbook (``Nam`` → ``male``, ``Có`` → ``True``) from its hidden ``codes`` sheet.

A labelled workbook (:func:`write_workbook`) has, around its table sheets: an info sheet first ("Thông tin" /
"Info": regime, rules version, reference date, tieuchi version, the options of the run), a column sheet last ("Cột"
/ "Columns": what each column of each sheet means) and the hidden ``codes`` sheet (sheet, column, kind, code,
label).

Every text stays a text cell, never a formula or an error (:func:`keep_text`), and holds no character an xlsx file
cannot hold (:func:`excel_text`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from tieuchi.contract.results import LABEL_SEP, SEP, Labelled, bool_values, recode
from tieuchi.i18n import table, text

# Excel number formats by kind of column; the cell keeps the raw number, only the display changes
NUMBER_FORMATS = {"int": "#,##0", "money": "#,##0", "number": "General", "share": "0%", "pct": "0.00",
                  "frac_pct": "0.00%", "m0": "0.000", "million": "#,##0.0", "vnd": "#,##0", "general": "General"}
DATE_FORMATS = {"vi": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
WIDTH_ROWS = 400  # widths from the first rows: enough, and keeps big sheets fast
MIN_WIDTH, MAX_WIDTH = 8, 60
HEADER_WIDTH = 28  # a long header wraps within this many characters rather than widen its column
CODES_SHEET = "codes"
INFO_KEYS = ("item", "key", "value")
COLUMN_KEYS = ("sheet", "column", "header", "meaning")
CODE_KEYS = ("sheet", "column", "kind", "code", "label")

T = table(
    vi={"info": "Thông tin", "columns": "Cột", "item": "Mục", "key": "Mã", "value": "Giá trị", "sheet": "Trang",
        "column": "Mã cột", "header": "Tiêu đề", "meaning": "Ý nghĩa", "kind": "Loại", "code": "Mã",
        "label": "Nhãn", "regime": "Chuẩn nghèo", "regime_label": "Tên chuẩn nghèo",
        "rules_version": "Phiên bản quy tắc", "reference_date": "Ngày tham chiếu", "tieuchi": "Phiên bản tieuchi",
        "survey": "Dữ liệu điều tra", "lang": "Ngôn ngữ", "option": "Tuỳ chọn {o}",
        "read_back_item": "Cách đọc bằng chương trình", "read_back":
        "Dòng 1 là tiêu đề, dòng 2 là mã cột (để chương trình đọc: pandas.read_excel(..., header=1)); trang "
        "'codes' (ẩn) cho mã của từng nhãn"},
    en={"info": "Info", "columns": "Columns", "item": "Item", "key": "Key", "value": "Value", "sheet": "Sheet",
        "column": "Column id", "header": "Header", "meaning": "Meaning", "kind": "Kind", "code": "Code",
        "label": "Label", "regime": "Poverty standard", "regime_label": "Standard name",
        "rules_version": "Rules version", "reference_date": "Reference date", "tieuchi": "tieuchi version",
        "survey": "Survey", "lang": "Language", "option": "Option {o}",
        "read_back_item": "Reading it by program", "read_back":
        "Row 1 holds the headers, row 2 the column ids (for programs: pandas.read_excel(..., header=1)); the hidden "
        "'codes' sheet gives the code of every label"},
)
META_SHEETS = frozenset({CODES_SHEET} | {text(T, k, lang) for k in ("info", "columns") for lang in ("vi", "en")})


# --------------------------------------------------------------------------------------------------------------
# cells that stay text


_EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def keep_text(cells: Iterable[Any]) -> None:
    """openpyxl reads a text beginning with '=' as a formula and '#N/A'… as an error: make every such text cell a
    text cell again (the value is unchanged)."""
    for c in cells:
        if c.data_type in ("f", "e") and isinstance(c.value, str):
            c.data_type = "s"


def excel_text(value: str) -> str:
    """A text Excel can hold: the control characters an xlsx file cannot contain become U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # heavy: openpyxl, needed only for an xlsx file

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def text_mask(s: pd.Series, test) -> np.ndarray:
    """``test`` on the text values of an object column (pandas' vectorised string methods); False elsewhere."""
    try:
        got = test(s.str)
    except (AttributeError, TypeError):  # no text in the column at all
        return np.zeros(len(s), dtype=bool)
    return got.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _cell_values(s: pd.Series) -> tuple[list, np.ndarray]:
    """One column as the Python values openpyxl writes (missing: None, dates as dates, lists joined, text without
    illegal characters), and where a text would be taken for a formula or an error."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # heavy: openpyxl, needed only for an xlsx file

    if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple)), na_action="ignore").fillna(False).any():
        s = s.map(lambda v: SEP.join(str(x) for x in v) if isinstance(v, (list, tuple)) else v, na_action="ignore")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        v = s.dropna()
        if bool((v == v.dt.normalize()).all()):
            s = s.dt.date
    s = s.astype(object)
    s = s.where(s.notna(), None)
    if s.dtype == object and text_mask(s, lambda t: t.contains(ILLEGAL_CHARACTERS_RE, regex=True)).any():
        s = s.map(lambda v: excel_text(v) if isinstance(v, str) else v)
    odd = text_mask(s, lambda t: t.startswith("=") & (t.len() > 1)) | s.isin(_EXCEL_ERRORS).to_numpy(bool)
    return s.tolist(), odd


# --------------------------------------------------------------------------------------------------------------
# a table sheet


def style_sheet(ws: Any, n_columns: int, n_rows: int, widths: list[int], kinds: list[str | None],
                formats: dict[str, str], wrap_header: bool = False) -> None:
    """The two header rows' fonts, the column widths, number formats of the data rows, the frozen header and the
    autofilter, on a sheet whose rows 1–2 are the headers and ``n_rows`` the last row written."""
    from openpyxl.styles import Alignment, Font  # heavy: openpyxl
    from openpyxl.utils import get_column_letter  # heavy: openpyxl

    for cell in ws[1]:
        cell.font = Font(bold=True)
        if wrap_header:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="808080")
    for j in range(1, n_columns + 1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = min(max(widths[j - 1] + 2, MIN_WIDTH), MAX_WIDTH)
        fmt = formats.get(kinds[j - 1]) if kinds[j - 1] else None
        if fmt and n_rows > 2:
            for (cell,) in ws.iter_rows(min_row=3, max_row=n_rows, min_col=j, max_col=j):
                if cell.value is not None:  # an empty cell without a format is not written at all
                    cell.number_format = fmt
    ws.freeze_panes = "A3"
    if n_rows > 2:
        ws.auto_filter.ref = f"A2:{get_column_letter(n_columns)}{n_rows}"


def write_sheet(ws: Any, ids: list[str], headers: list[str], rows: Iterable[list[Any]], kinds: list[str | None],
                formats: dict[str, str] = NUMBER_FORMATS) -> None:
    """A small table, row by row (report.xlsx's sheets, the info sheet): headers, ids, then ``rows``; every text
    checked as it is written."""
    ws.append(headers)
    ws.append(ids)
    widths = [max(len(h), len(c)) for h, c in zip(headers, ids)]
    n = 2
    for row in rows:
        row = [excel_text(v) if isinstance(v, str) else v for v in row]
        ws.append(row)
        n += 1
        # names, codes, labels from the data: text, never a formula — the row's own cells: ws[n] scans every cell
        # of the sheet for its width, once per row, which made a 200-commune workbook take tens of seconds
        keep_text(ws.cell(row=n, column=j) for j in range(1, len(row) + 1))
        for j, (v, kind) in enumerate(zip(row, kinds)):
            if n <= WIDTH_ROWS:
                widths[j] = max(widths[j], len(str(v)) + (3 if kind else 0) if v is not None else 0)
    keep_text(ws[1])
    style_sheet(ws, len(ids), n, widths, kinds, formats)


def write_frame(ws: Any, lab: Labelled, lang: str = "vi") -> None:
    """A whole labelled frame: values cleaned and checked column by column, then written row by row (openpyxl
    writes per cell in any case), then styled."""
    df = lab.frame
    ids = [str(c) for c in df.columns]
    headers = [excel_text(h) for h in lab.headers]
    ws.append(headers)
    ws.append([excel_text(i) for i in ids])
    keep_text(ws[1])
    keep_text(ws[2])
    cols, odds, widths = [], [], []
    for j in range(len(ids)):
        values, odd = _cell_values(df.iloc[:, j])
        cols.append(values)
        odds.append(odd)
        head = df.iloc[:WIDTH_ROWS, j]
        shown = head.dropna().astype(str).str.len().max() if head.notna().any() else 0
        shown = int(shown) + (3 if lab.kinds[j] in ("int", "money", "number", "share") else 0)
        if lab.kinds[j] == "date":
            shown = 10
        widths.append(max(min(len(headers[j]), HEADER_WIDTH), len(ids[j]), shown))
    for row in zip(*cols):
        ws.append(row)
    for j, odd in enumerate(odds):
        if odd.any():
            keep_text(ws.cell(row=int(i) + 3, column=j + 1) for i in np.flatnonzero(odd))
    formats = {**NUMBER_FORMATS, "date": DATE_FORMATS.get(lang, DATE_FORMATS["vi"])}
    style_sheet(ws, len(ids), len(df) + 2, widths, lab.kinds, formats, wrap_header=True)
    ws.row_dimensions[1].height = LINE_HEIGHT * header_lines(headers, widths)  # a spreadsheet may not fit it itself
    ws.page_setup.orientation = "landscape"  # printed: wide tables across, both header rows on every page
    ws.print_title_rows = "1:2"


LINE_HEIGHT = 15  # points per line of an 11-point header


def header_lines(headers: list[str], widths: list[int]) -> int:
    """How many lines the widest-wrapping header takes in its column (``widths`` as given to :func:`style_sheet`;
    a bold glyph is about 1.15 average characters wide), so that the header row is tall enough to show it."""
    lines = 1
    for h, w in zip(headers, widths):
        room = max(int((min(max(w + 2, MIN_WIDTH), MAX_WIDTH) - 1) / 1.15), 1)
        words, n, used = str(h).split(), 1, 0
        for word in words:
            if used and used + 1 + len(word) > room:
                n, used = n + 1, len(word)
            else:
                used += len(word) + (1 if used else 0)
        lines = max(lines, n)
    return min(lines, 6)


# --------------------------------------------------------------------------------------------------------------
# a labelled workbook


def info_rows(lang: str, rules: Any = None, meta: Iterable[tuple[str, Any]] = ()) -> list[tuple[str, str, Any]]:
    """The info sheet's rows (label, key, value): the rules' regime, version and reference date (``rules``: a
    :class:`tieuchi.contract.results.RuleLabels`), then ``meta`` (key, value) — ``tieuchi``, ``survey``, options
    as ``--format`` … — then how a program reads the workbook."""
    rows: list[tuple[str, str, Any]] = []
    if rules is not None and rules.regime:
        rows += [(text(T, "regime", lang), "regime", rules.regime),
                 (text(T, "regime_label", lang), "regime_label", rules.regime_label),
                 (text(T, "rules_version", lang), "rules_version", rules.rules_version),
                 (text(T, "reference_date", lang), "reference_date", rules.reference_date)]
    for key, value in meta:
        label = text(T, "option", lang, o=key) if key.startswith("--") else \
            (text(T, key, lang) if key in T[lang] else key)
        rows.append((label, key, value if isinstance(value, (int, float, str)) or value is None else str(value)))
    rows.append((text(T, "lang", lang), "lang", lang))
    rows.append((text(T, "read_back_item", lang), "read_back", text(T, "read_back", lang)))
    return rows


def write_workbook(path: str | Path, sheets: dict[str, Labelled], lang: str = "vi",
                   info: list[tuple[str, str, Any]] | None = None) -> Path:
    """One labelled workbook (see the module's docstring): the info sheet, a sheet per labelled frame (sheet name =
    key), the column sheet and the hidden codes sheet. Return the path."""
    from openpyxl import Workbook  # heavy: openpyxl

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = text(T, "info", lang)
    write_sheet(ws, list(INFO_KEYS), [text(T, k, lang) for k in INFO_KEYS], [list(r) for r in info or []],
                [None, None, None])
    for row in ws.iter_rows(min_row=3):
        if hasattr(row[2].value, "year"):
            row[2].number_format = DATE_FORMATS.get(lang, DATE_FORMATS["vi"])
    for name, lab in sheets.items():
        write_frame(wb.create_sheet(name), lab, lang)
    described = [[name, str(c), h, n] for name, lab in sheets.items()
                 for c, h, n in zip(lab.frame.columns, lab.headers, lab.notes)]
    write_sheet(wb.create_sheet(text(T, "columns", lang)), list(COLUMN_KEYS), [text(T, k, lang) for k in COLUMN_KEYS],
                described, [None] * len(COLUMN_KEYS))
    codes = [[name, c, kind, code, label] for name, lab in sheets.items() for c, kind, code, label in lab.codes]
    ws = wb.create_sheet(CODES_SHEET)
    write_sheet(ws, list(CODE_KEYS), [text(T, k, lang) for k in CODE_KEYS], codes, [None] * len(CODE_KEYS))
    ws.sheet_state = "hidden"
    wb.save(path)
    return path


def read_workbook(path: str | Path, sheet_name: str | None = None, **read_excel: Any) -> dict[str, pd.DataFrame]:
    """A workbook tieuchi wrote, as a program reads it: every table sheet (or only ``sheet_name``) with the machine
    ids as columns (row 2) and, where the hidden ``codes`` sheet says so, the machine codes in place of the labels
    (``Có`` → True, ``Hộ cận nghèo`` → ``near_poor``, ``Đối tượng A; B`` → ``a;b``). ``read_excel``: passed on to
    :func:`pandas.read_excel` (e.g. ``dtype=str``)."""
    book = pd.read_excel(path, sheet_name=None, header=1, **read_excel)
    codes = book.get(CODES_SHEET)
    out: dict[str, pd.DataFrame] = {}
    for name, df in book.items():
        if name in META_SHEETS or (sheet_name is not None and name != sheet_name):
            continue
        if codes is not None and len(codes):
            df = _decode(df, codes[codes["sheet"].astype(str) == name])
        out[name] = df
    return out


def _decode(df: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for (column, kind), pairs in codes.groupby(["column", "kind"], sort=False):
        if column in df.columns:
            df[column] = _decoded(df[column], str(kind), dict(zip(pairs["label"].astype(str),
                                                                  pairs["code"].astype(str))))
    return df


def _decoded(s: pd.Series, kind: str, back: dict[str, str]) -> pd.Series:
    """One column's labels back to codes, per distinct value."""
    if kind == "bool":
        truth = bool_values()
        flags = {lab: code == "true" for lab, code in back.items()}
        return pd.Series(pd.array(recode(s, lambda v: flags.get(v, truth.get(v.strip().casefold()))).tolist(),
                                  dtype="boolean"), index=s.index)
    if kind == "many":
        return recode(s, lambda v: SEP.join(back.get(x, x) for x in v.split(LABEL_SEP))).astype(object)
    return recode(s, lambda v: back.get(v, v)).astype(object)
