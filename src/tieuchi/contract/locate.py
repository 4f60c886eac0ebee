"""Where a reject is in the user's own file: the header the user wrote for its column, and for a workbook the cell
(`members!D17`: the sheet's name as written — never quoted, so that no text cell begins with a quote —, '!', the
column's letter and the sheet row = header row + data row).

`locate(rejects, raw)` adds two columns to the rejects of a survey read by `tieuchi.contract.read.read_survey`:
- `cell` (written with the rejects, data contract §2.3): for a row of a sheet, the cell of the reject's column in
  that row — or the row's id cell (Mã hộ / Mã xã) when the problem is the whole row's or its column is not in the
  sheet; empty for CSV, Parquet and JSONL (`row` says the row there);
- `header` (not written: `tieuchi.contract.write.prepare_rejects` reads it into the message): the column's header as
  the user wrote it ("Giới tính", "sex").

Whole columns: one pass per (table, file), a dictionary lookup per distinct column and a vectorised join per row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tieuchi.contract.read import RawSurvey, TableSource

ID_COLUMN = {"households": "household_id", "members": "household_id", "communes": "commune_code"}


def column_letter(position: int) -> str:
    """The spreadsheet letter of a 0-based column position: 0 → A, 25 → Z, 26 → AA."""
    n, out = position + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _which_source(rejects: pd.DataFrame, at: np.ndarray, found: list[TableSource]) -> np.ndarray | None:
    """For the rejects `at` of one table, the index in `found` of the file each came from (-1: not known); None when
    it cannot be told (several files and no `file` column)."""
    if len(found) == 1:
        return np.zeros(int(at.sum()), dtype=np.int64)
    if "file" not in rejects.columns:
        return None
    index = {str(s.file): i for i, s in enumerate(found)}
    got = rejects.loc[at, "file"].map(index)
    return got.fillna(-1).to_numpy(dtype=np.int64)


def locate(rejects: pd.DataFrame, raw: RawSurvey) -> pd.DataFrame:
    """`rejects` (rows already the user's, as `with_reader_rejects` gives them) with `cell` and `header` added."""
    if rejects is None or not len(rejects) or not raw.sources:
        return rejects
    n = len(rejects)
    header = np.full(n, None, dtype=object)
    cell = np.full(n, None, dtype=object)
    table_codes, table_names = pd.factorize(rejects["table"])
    col_codes, col_names = pd.factorize(rejects["column"])  # -1: no column (a whole row's problem)
    col_names = [str(c) for c in col_names]
    row = pd.to_numeric(rejects["row"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    for t, table in enumerate(table_names):
        found = raw.sources.get(table) or []
        at = table_codes == t
        which = _which_source(rejects, at, found) if found else None
        if which is None:
            continue
        where = np.flatnonzero(at)
        for i, source in enumerate(found):
            sel = where[which == i]
            if not len(sel):
                continue
            codes = col_codes[sel]
            # per distinct column, then indexed by each row's column code (the last entry serves code -1)
            headers = np.array([source.headers.get(c) for c in col_names] + [None], dtype=object)
            header[sel] = headers[codes]
            if source.sheet is None:
                continue
            id_pos = source.positions.get(ID_COLUMN.get(table, ""), -1)
            positions = np.array([source.positions.get(c, id_pos) for c in col_names] + [id_pos], dtype=np.int64)
            pos, rows = positions[codes], row[sel]
            ok = (pos >= 0) & ~np.isnan(rows)
            if not ok.any():
                continue
            prefix = np.array([f"{source.sheet}!{column_letter(int(p))}" if p >= 0 else "" for p in positions],
                              dtype=object)
            numbers = (rows[ok].astype(np.int64) + source.header_line).astype(str).astype(object)
            cell[sel[ok]] = prefix[codes[ok]] + numbers
    out = rejects.copy(deep=False)
    if np.not_equal(cell, None).any():  # a workbook: CSV, Parquet and JSONL rejects have no cell column
        out["cell"] = cell
    out["header"] = header
    return out
