"""The data-entry template: an empty survey workbook written from columns.yaml, so that it always reads back.

Sheets households / members / communes have the Vietnamese headers and a drop-down list (Vietnamese labels) on every
code and yes/no column; "Hướng dẫn" explains each column in Vietnamese and English; "Danh mục" holds the lists.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from tieuchi.contract.columns import TABLES, ColumnSpec, column_table, columns
from tieuchi.contract.write import writing

LISTS_SHEET = "Danh mục"
GUIDE_SHEET = "Hướng dẫn"
LAST_ROW = 20000  # rows that carry the drop-down lists
TYPE_VI = {"text": "chữ", "code": "danh mục", "codes": "nhiều giá trị, cách nhau bằng ;", "bool": "Có/Không",
           "int": "số nguyên", "number": "số", "date": "ngày (DD/MM/YYYY)"}
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")


def labels(spec: ColumnSpec) -> list[str]:
    """The drop-down values of a column: the Vietnamese label of each code (Có/Không for yes/no columns)."""
    if spec.type == "bool":
        return list(column_table().bool_labels)
    return [spec.labels[c] for c in spec.codes]


def _allowed(spec: ColumnSpec) -> str:
    if spec.type in ("code", "codes"):
        return "; ".join(f"{spec.labels[c]} ({c})" for c in spec.codes)
    if spec.type == "bool":
        return "Có (true) / Không (false)"
    bound = [f"≥ {spec.min:g}" if spec.min is not None else "", f"≤ {spec.max:g}" if spec.max is not None else ""]
    return " ".join(b for b in bound if b)


def write_template(path: str | Path) -> Path:
    """Write an empty survey workbook for data entry at `path` (.xlsx); return the path."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {t: wb.create_sheet(t) for t in TABLES}
    guide = wb.create_sheet(GUIDE_SHEET)
    lists = wb.create_sheet(LISTS_SHEET)
    list_col = 0
    for table, ws in sheets.items():
        for i, spec in enumerate(columns(table).values(), start=1):
            letter = get_column_letter(i)
            cell = ws.cell(row=1, column=i, value=spec.header)
            cell.font, cell.fill = HEAD, FILL
            ws.column_dimensions[letter].width = max(12, len(spec.header) + 4)
            if spec.type == "text":  # ids stay text ("001" keeps its zeros)
                for row in ws.iter_rows(min_row=2, max_row=2, min_col=i, max_col=i):
                    row[0].number_format = "@"
            if spec.type not in ("code", "codes", "bool"):
                continue
            list_col += 1
            values = labels(spec)
            lists.cell(row=1, column=list_col, value=f"{table}.{spec.name}").font = HEAD
            for r, v in enumerate(values, start=2):
                lists.cell(row=r, column=list_col, value=v)
            lc = get_column_letter(list_col)
            dv = DataValidation(type="list", allow_blank=True,
                                formula1=f"{quote_sheetname(LISTS_SHEET)}!${lc}$2:${lc}${len(values) + 1}")
            dv.promptTitle, dv.prompt = spec.header[:32], spec.vi[:255]
            dv.showInputMessage = True
            # several devices may be typed, separated by ';' — so that column warns instead of refusing
            dv.showErrorMessage = spec.type != "codes"
            dv.error = "Chọn một giá trị trong danh sách / pick a listed value"
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.freeze_panes = "A2"
    _write_guide(guide)
    lists.sheet_state = "hidden"
    with writing(path):  # a folder in the way, no permission, a full disk: a usage error naming the path
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    return path


def _write_guide(ws) -> None:
    head = ["Bảng / table", "Tiêu đề cột / header", "Tên chuẩn / name", "Kiểu / type", "Bắt buộc / required",
            "Giá trị cho phép / allowed values", "Mô tả", "Description"]
    ws.append(head)
    for c in ws[1]:
        c.font, c.fill = HEAD, FILL
    for table in TABLES:
        for spec in columns(table).values():
            required = "Có / yes" if spec.required else (
                "Ngày sinh hoặc năm sinh / birth date or year" if spec.one_of else "Không / no")
            ws.append([table, spec.header, spec.name, f"{TYPE_VI[spec.type]} / {spec.type}", required,
                       _allowed(spec), spec.vi, spec.en])
    for i, width in enumerate([12, 30, 26, 26, 20, 60, 60, 60], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
