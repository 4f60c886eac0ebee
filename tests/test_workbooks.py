"""Workbooks and CSV for people (issue 12, items 1 and 2): results.xlsx and eligible.xlsx in report.xlsx's style —
labels over the column ids, codes shown as a person types them, widths, frozen header, filter, info sheet — read
back by a program as machine codes; CSV with a byte-order mark unless --no-bom; --labels for the labelled CSV."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tieuchi.cli import app
from tieuchi.contract import results as res
from tieuchi.contract.columns import TABLES, columns
from tieuchi.contract.workbook import read_workbook
from tieuchi.rulebook.labels import rule_labels
from tieuchi.rulebook.load import load_rules

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
ON = "2025-01-01"
BOM = b"\xef\xbb\xbf"


def run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output
    return r


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """TINY classified twice at the same date: machine CSV, and results.xlsx."""
    base = tmp_path_factory.mktemp("wb")
    run("classify", TINY, "--on", ON, "--out", base / "csv")
    run("classify", TINY, "--on", ON, "--out", base / "xlsx", "--format", "xlsx")
    return base


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _row(ws, n: int) -> list:
    return [c.value for c in ws[n]]


def test_results_xlsx_has_vietnamese_headers_over_the_column_ids(classified):
    wb = load_workbook(classified / "xlsx" / "results.xlsx")
    ws = wb["households"]
    ids = _row(ws, 2)
    assert ids[:5] == ["household_id", "regime", "rules_version", "reference_date", "household_class"]
    heads = dict(zip(ids, _row(ws, 1)))
    assert heads["household_id"] == "Mã hộ" and heads["household_class"] == "Phân loại hộ"
    assert heads["deprived_water"] == "Thiếu hụt: Nguồn nước sinh hoạt"  # the indicator's label in the rules
    assert heads["eligible_p5_housing"].startswith("Đối tượng: Dự án 5")  # the item's label in the rules
    assert heads["area"] == "Khu vực"  # a survey column: the template's header
    assert dict(zip(_row(wb["members"], 2), _row(wb["members"], 1)))["sex"] == "Giới tính"


def test_results_xlsx_shows_codes_as_the_labels_a_person_types(classified):
    wb = load_workbook(classified / "xlsx" / "results.xlsx")
    hh = pd.DataFrame(list(wb["households"].iter_rows(min_row=3, values_only=True)), columns=_row(wb["households"], 2))
    mem = pd.DataFrame(list(wb["members"].iter_rows(min_row=3, values_only=True)), columns=_row(wb["members"], 2))
    by_id = hh.set_index("household_id")
    assert by_id.loc["BG-0002", "household_class"] == "Hộ cận nghèo"
    assert by_id.loc["BG-0005", "household_class"] == "Chưa xác định được"  # the rules' label for unknown
    assert by_id.loc["BG-0006", "deprived_water"] == "Có" and by_id.loc["BG-0001", "deprived_water"] == "Không"
    assert by_id.loc["BG-0001", "priority_p2_livelihood"] == "phụ nữ thuộc hộ nghèo; hộ nghèo"
    assert by_id.loc["BG-0001", "area"] in ("Nông thôn", "Thành thị")
    assert set(mem["sex"]) == {"Nam", "Nữ"}


def test_results_xlsx_has_widths_a_frozen_header_and_a_filter_over_the_ids_and_data(classified):
    wb = load_workbook(classified / "xlsx" / "results.xlsx")
    for name in ("households", "members", "rejects"):
        ws = wb[name]
        assert ws.freeze_panes == "A3"
        assert ws.auto_filter.ref is None or ws.auto_filter.ref.startswith("A2:")
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[2]]
        assert all(8 <= w <= 60 for w in widths), (name, widths)
        assert ws[1][0].font.bold and ws[2][0].font.italic
    ws = wb["households"]
    assert ws.auto_filter.ref == f"A2:{ws[2][-1].column_letter}{ws.max_row}"
    assert ws[1][0].alignment.wrap_text and ws.row_dimensions[1].height >= 30  # long headers wrap, the row shows them
    ids = _row(ws, 2)
    ref = ws.cell(row=3, column=ids.index("reference_date") + 1)
    assert ref.value == dt.datetime(2025, 1, 1) and ref.number_format == "dd/mm/yyyy"  # a date, not a text
    line = ws.cell(row=3, column=ids.index("income_line") + 1)
    assert isinstance(line.value, int) and line.number_format == "#,##0"  # money with thousands separators


def test_results_xlsx_opens_on_an_info_sheet_and_ends_with_what_each_column_means(classified):
    wb = load_workbook(classified / "xlsx" / "results.xlsx")
    assert wb.sheetnames == ["Thông tin", "households", "members", "rejects", "Cột", "codes"]
    assert wb["codes"].sheet_state == "hidden"
    info = {r[1]: r[2] for r in wb["Thông tin"].iter_rows(min_row=3, values_only=True)}
    rules = load_rules(dt.date.fromisoformat(ON))
    assert info["regime"] == rules.regime.id and info["rules_version"] == rules.version
    assert info["reference_date"] == dt.datetime(2025, 1, 1)
    assert info["tieuchi"] and info["--on"] == ON and info["--engine"] == "vectorized"
    assert info["survey"] == str(TINY)  # the path as given, not a list's repr
    meaning = {(r[0], r[1]): r[3] for r in wb["Cột"].iter_rows(min_row=3, values_only=True)}
    assert meaning[("households", "household_class")] == "Kết quả phân loại theo chuẩn nghèo"
    assert meaning[("members", "sex")] == "Giới tính"


def test_a_workbook_read_back_by_a_program_gives_the_machine_ids_and_codes(classified):
    book = read_workbook(classified / "xlsx" / "results.xlsx", dtype={"household_id": str})
    assert list(book) == ["households", "members", "rejects"]
    for name in ("households", "members"):
        csv = _csv(classified / "csv" / f"{name}.csv")
        got = book[name]
        assert list(got.columns) == list(csv.columns)
        for col in ("household_class", "deprived_water", "priority_p2_livelihood", "sex", "area", "undecided_by"):
            if col in csv.columns:
                back = got[col].astype("string").str.lower().fillna("").tolist()
                assert back == csv[col].str.lower().tolist(), col


def test_english_workbook_has_english_headers_and_labels(tmp_path):
    run("classify", TINY, "--on", ON, "--out", tmp_path, "--format", "xlsx", "--lang", "en")
    wb = load_workbook(tmp_path / "results.xlsx")
    assert wb.sheetnames[0] == "Info" and wb.sheetnames[-2] == "Columns"
    ws = wb["households"]
    heads = dict(zip(_row(ws, 2), _row(ws, 1)))
    assert heads["household_class"] == "Household class" and heads["reference_date"] == "Reference date"
    values = dict(zip(_row(ws, 2), _row(ws, 4)))  # BG-0002
    assert values["household_class"] == "Near-poor household" or values["household_class"] == \
        rule_labels(load_rules(dt.date.fromisoformat(ON)), "en").classes["near_poor"]
    assert values["deprived_water"] in ("Yes", "No")


def test_labels_csv_gives_the_labelled_view_and_machine_codes_stay_the_default(tmp_path):
    run("classify", TINY, "--on", ON, "--out", tmp_path / "plain")
    run("classify", TINY, "--on", ON, "--out", tmp_path / "labels", "--labels")
    plain = _csv(tmp_path / "plain" / "households.csv")
    lab = _csv(tmp_path / "labels" / "households.csv")
    assert plain.columns[0] == "household_id" and "near_poor" in set(plain["household_class"])
    assert lab.columns[0] == "Mã hộ" and "Phân loại hộ" in lab.columns
    assert "Hộ cận nghèo" in set(lab["Phân loại hộ"]) and set(lab["Thiếu hụt: Nguồn nước sinh hoạt"]) <= {"Có", "Không"}
    mem = _csv(tmp_path / "labels" / "members.csv")
    assert set(mem["Giới tính"]) == {"Nam", "Nữ"}


@pytest.mark.parametrize("args, names", [
    (["classify", TINY, "--on", ON], ["households.csv", "members.csv", "rejects.csv"]),
    (["eligible", TINY, "--on", "2025-06-30"], ["counts.csv", "rejects.csv", "eligible_p2_livelihood.csv"]),
    (["diff", TINY, "--on", ON, "--vs-on", "2027-06-30"], ["transitions.csv", "changed.csv", "measures.csv",
                                                           "rejects.csv"]),
])
def test_every_csv_begins_with_a_byte_order_mark_unless_no_bom(tmp_path, args, names):
    run(*args, "--out", tmp_path / "bom")
    run(*args, "--out", tmp_path / "plain", "--no-bom")
    for name in names:
        with_bom = (tmp_path / "bom" / name).read_bytes()
        without = (tmp_path / "plain" / name).read_bytes()
        assert with_bom.startswith(BOM) and not with_bom[3:].startswith(BOM), name
        assert not without.startswith(BOM) and with_bom[3:] == without, name


def test_eligible_xlsx_is_labelled_as_results_xlsx_is(tmp_path):
    run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path, "--format", "xlsx")
    wb = load_workbook(tmp_path / "eligible.xlsx")
    assert wb.sheetnames[0] == "Thông tin" and "counts" in wb.sheetnames
    ws = wb["p2_livelihood"]
    assert _row(ws, 2)[:2] == ["rank", "household_id"] and _row(ws, 1)[:2] == ["STT", "Mã hộ"]
    row = dict(zip(_row(ws, 2), _row(ws, 3)))
    assert row["eligibility_class"] == "Hộ nghèo" and row["priority_groups"] == "phụ nữ thuộc hộ nghèo; hộ nghèo"
    counts = wb["counts"]
    item = dict(zip(_row(counts, 2), _row(counts, 3)))["item"]
    assert item.startswith("Dự án 2") and ws.freeze_panes == "A3"
    back = read_workbook(tmp_path / "eligible.xlsx")
    assert back["p2_livelihood"]["priority_groups"].iloc[0] == "woman_in_poor_household;poor"
    assert back["counts"]["item"].iloc[0] == "p2_livelihood"


def test_the_info_sheet_names_every_survey_file_of_a_several_file_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, keep in ((a, 0), (b, 1)):  # TINY's households split in two CSV pairs
        folder.mkdir()
        hh = pd.read_csv(TINY / "households.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        mem = pd.read_csv(TINY / "members.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        part = hh.iloc[keep::2]
        part.to_csv(folder / "households.csv", index=False)
        mem[mem["household_id"].isin(part["household_id"])].to_csv(folder / "members.csv", index=False)
    run("classify", a, b, "--on", ON, "--out", tmp_path / "out", "--format", "xlsx")
    info = {r[1]: r[2] for r in load_workbook(tmp_path / "out" / "results.xlsx")["Thông tin"].iter_rows(
        min_row=3, values_only=True)}
    assert info["survey"] == f"{a}; {b}"
    assert info["read_back"].startswith("Dòng 1 là tiêu đề")


def test_every_column_tieuchi_writes_has_a_header_and_a_meaning_in_both_languages(classified, tmp_path):
    run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path)
    rules = load_rules(dt.date(2025, 6, 30))
    written = {(t, c) for t in ("households", "members", "rejects")
               for c in _csv(classified / "csv" / f"{t}.csv").columns}
    written |= {(None, c) for p in tmp_path.glob("*.csv") for c in _csv(p).columns}
    survey = {n for t in TABLES for n in columns(t)}
    for lang in ("vi", "en"):
        labels = rule_labels(rules, lang)
        for table, c in sorted(written, key=str):
            head = res.header(c, lang, labels, table)
            assert head and (head != c or c in survey and lang == "en"), (lang, c)
            assert res.note(c, lang, labels, table), (lang, c)
    for c, entry in res.spec()["columns"].items():
        assert all(entry.get(k) for k in ("vi", "en", "vi_note", "en_note")), c


def test_the_labelled_view_works_per_distinct_value_and_keeps_unknown_codes():
    s = pd.Series(["poor", "near_poor", None, "made_up"] * 3)
    lab = res.labelled(pd.DataFrame({"household_class": s}), "households", "vi",
                       rule_labels(load_rules(dt.date.fromisoformat(ON)), "vi"))
    shown = lab.frame["household_class"]
    assert [None if pd.isna(v) else v for v in shown.tolist()[:4]] == ["Hộ nghèo", "Hộ cận nghèo", None, "made_up"]
    assert list(shown.cat.categories) == ["Hộ nghèo", "Hộ cận nghèo", "made_up"]  # one label per distinct value
