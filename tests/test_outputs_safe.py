"""What tieuchi writes is safe to open and never destroys what it read (issue 10, items 7, 13, 15, 16).

- Formula injection: a text cell from the data that begins with = + - @ tab or CR is never a live formula: xlsx
  cells are text cells; CSV text cells get a leading ' (OWASP) unless --raw-text; Parquet keeps the raw value.
- Personal data: the usual Vietnamese name headers are full_name; any other column whose header looks like a name is
  personal too — left out without --show-names, said so, and never echoed in a reject.
- Output paths: a folder where a file should go, a file where a folder should go, an unwritable place — a usage error
  (exit 2) naming the path, checked before the survey is read; and no output may be a file the command reads.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tieuchi.cli import app
from tieuchi.errors import UsageError
from tieuchi.contract import write as w
from tieuchi.contract.columns import canonical_header, personal_columns

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
DEMO = ROOT / "datasets" / "demo"
ON = "2024-12-01"

HYPERLINK = '=HYPERLINK("http://example.invalid/?leak","Bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"
PLUS = "+1+1"
AT = "@SUM(1)"
MINUS = "-2+3"
TAB = "\tTAB=1+1"
CR = "\rCR=1+1"
QUOTED = "'already quoted"


def run(*args, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture()
def hostile(tmp_path) -> Path:
    """The tiny survey with formula-like text in ids, villages, commune names, names and a carried-through column."""
    out = tmp_path / "hostile"
    out.mkdir()
    hh, mem = _read(TINY / "households.csv"), _read(TINY / "members.csv")
    old = hh.loc[1, "household_id"]
    hh.loc[1, "household_id"] = AT
    mem.loc[mem["household_id"] == old, "household_id"] = AT
    hh.loc[0, "village"] = HYPERLINK
    hh.loc[0, "commune_name"] = PLUS
    hh.loc[2, "village"] = TAB
    hh.loc[3, "village"] = CR
    hh["ghi_chu"] = [MINUS, "-5", "+1.5", QUOTED, "bình thường", "", "x"]
    hh.loc[6, "area"] = "=1+1"  # an invalid code: a reject whose value is formula-like
    mem.loc[0, "full_name"] = DDE
    hh.to_csv(out / "households.csv", index=False, quoting=csv.QUOTE_ALL)  # the CR cell stays one cell
    mem.to_csv(out / "members.csv", index=False)
    return out


def _formula_cells(path: Path) -> list[str]:
    wb = load_workbook(path)
    return [f"{ws.title}!{c.coordinate}={c.value!r}" for ws in wb for row in ws.iter_rows() for c in row
            if c.data_type in ("f", "e")]


def _values(path: Path) -> set:
    wb = load_workbook(path)
    return {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


# ================================================================== 15. formula injection: xlsx


def test_results_xlsx_holds_no_formula_cell_and_every_hostile_text_reads_back_exactly(hostile, tmp_path):
    r = run("classify", hostile, "--on", ON, "--out", tmp_path / "x", "--format", "xlsx", "--show-names")
    assert r.exit_code == 1, r.output  # one household has an invalid area
    path = tmp_path / "x" / "results.xlsx"
    assert _formula_cells(path) == []
    values = _values(path)
    for v in (HYPERLINK, PLUS, AT, MINUS, DDE, QUOTED, "=1+1"):
        assert v in values, v
    # tab and CR lead values are kept as text too (openpyxl may normalise the line end, the text must be there)
    assert any(v.endswith("TAB=1+1") for v in values) and any(v.endswith("CR=1+1") for v in values)


def test_results_xlsx_without_show_names_has_no_formula_cell_either(hostile, tmp_path):
    run("classify", hostile, "--on", ON, "--out", tmp_path / "x", "--format", "xlsx")
    assert _formula_cells(tmp_path / "x" / "results.xlsx") == []


def test_a_carried_through_header_that_looks_like_a_formula_is_a_text_cell(hostile, tmp_path):
    hh = _read(hostile / "households.csv")
    hh["=1+2"] = "a"
    hh.to_csv(hostile / "households.csv", index=False)
    run("classify", hostile, "--on", ON, "--out", tmp_path / "x", "--format", "xlsx")
    assert _formula_cells(tmp_path / "x" / "results.xlsx") == []
    assert "=1+2" in _values(tmp_path / "x" / "results.xlsx")
    run("classify", hostile, "--on", ON, "--out", tmp_path / "c")
    assert "'=1+2" in _read(tmp_path / "c" / "households.csv").columns


def test_eligible_xlsx_holds_no_formula_cell(hostile, tmp_path):
    r = run("eligible", hostile, "--on", ON, "--out", tmp_path / "e", "--format", "xlsx", "--show-names",
            "--by", "village")
    assert r.exit_code == 1, r.output
    path = tmp_path / "e" / "eligible.xlsx"
    assert _formula_cells(path) == []
    assert {HYPERLINK, PLUS} <= _values(path)


@pytest.fixture()
def hostile_demo(tmp_path) -> Path:
    out = tmp_path / "demo"
    shutil.copytree(DEMO, out)
    communes = _read(out / "communes.csv")
    communes.loc[0, "commune_name"] = HYPERLINK
    communes.to_csv(out / "communes.csv", index=False)
    hh = _read(out / "households.csv")
    hh.loc[hh["commune_code"] == communes.loc[0, "commune_code"], "commune_name"] = HYPERLINK
    hh.to_csv(out / "households.csv", index=False)
    return out


def test_report_xlsx_holds_no_formula_cell(hostile_demo, tmp_path):
    r = run("report", hostile_demo, "--plan", "tan_yen_2024", "--on", ON, "--out", tmp_path / "r")
    assert r.exit_code == 1, r.output
    path = tmp_path / "r" / "report.xlsx"
    assert _formula_cells(path) == []
    assert HYPERLINK in _values(path)


# ================================================================== 15. formula injection: CSV and Parquet


def test_csv_text_cells_that_begin_like_a_formula_get_a_leading_quote_and_numbers_do_not(hostile, tmp_path):
    r = run("classify", hostile, "--on", ON, "--out", tmp_path / "c", "--show-names")
    assert r.exit_code == 1, r.output
    hh, mem = _read(tmp_path / "c" / "households.csv"), _read(tmp_path / "c" / "members.csv")
    assert "'" + AT in set(hh["household_id"]) and "'" + AT in set(mem["household_id"])
    assert "'" + HYPERLINK in set(hh["village"]) and "'" + PLUS in set(hh["commune_name"])
    assert "'" + DDE in set(mem["full_name"])
    assert {"'" + MINUS, "''already quoted", "-5", "+1.5", "bình thường"} <= set(hh["ghi_chu"])
    villages = [v for v in hh["village"] if "TAB" in v or "CR" in v]
    assert len(villages) == 2 and all(v.startswith("'") for v in villages)
    rej = _read(tmp_path / "c" / "rejects.csv")
    assert "'=1+1" in set(rej["value"])
    # numbers stay numbers: no quote before a negative or any number
    assert not hh["income_per_capita_month"].str.startswith("'").any()
    assert not hh["floor_area_m2"].str.startswith("'").any()


def test_raw_text_writes_csv_text_exactly_as_in_the_data(hostile, tmp_path):
    r = run("classify", hostile, "--on", ON, "--out", tmp_path / "c", "--raw-text", "--show-names")
    assert r.exit_code == 1, r.output
    hh, mem = _read(tmp_path / "c" / "households.csv"), _read(tmp_path / "c" / "members.csv")
    assert AT in set(hh["household_id"]) and HYPERLINK in set(hh["village"]) and DDE in set(mem["full_name"])
    assert {MINUS, QUOTED} <= set(hh["ghi_chu"])


def test_parquet_keeps_the_raw_text(hostile, tmp_path):
    run("classify", hostile, "--on", ON, "--out", tmp_path / "p", "--format", "parquet")
    hh = pd.read_parquet(tmp_path / "p" / "households.parquet")
    assert AT in set(hh["household_id"]) and HYPERLINK in set(hh["village"]) and QUOTED in set(hh["ghi_chu"])


def test_eligible_csv_lists_and_counts_are_escaped_too(hostile, tmp_path):
    run("eligible", hostile, "--on", ON, "--out", tmp_path / "e", "--by", "village")
    counts = _read(tmp_path / "e" / "counts.csv")
    assert "'" + HYPERLINK in set(counts["village"]) and "'" + PLUS in set(counts["commune_name"])
    lists = pd.concat([_read(p) for p in (tmp_path / "e").glob("eligible_*.csv")])
    assert not lists.isin([HYPERLINK, PLUS, AT]).any().any()
    raw = tmp_path / "raw"
    run("eligible", hostile, "--on", ON, "--out", raw, "--by", "village", "--raw-text")
    assert HYPERLINK in set(_read(raw / "counts.csv")["village"])


def test_report_csv_tables_are_escaped_and_keep_numbers(tmp_path):
    survey = tmp_path / "s"
    shutil.copytree(TINY, survey)
    hh = _read(survey / "households.csv")
    hh.loc[hh["commune_code"] == "07216", "commune_code"] = "@X1"
    hh.to_csv(survey / "households.csv", index=False)
    r = run("report", survey, "--plan", "tan_yen_2024", "--on", ON, "--out", tmp_path / "r")
    assert r.exit_code == 1, r.output
    rates = _read(tmp_path / "r" / "rates.csv")
    assert "'@X1" in set(rates["scope"]) and "@X1" not in set(rates["scope"])
    assert not rates["value"].str.startswith("'").any()
    ach = _read(tmp_path / "r" / "achievement.csv")
    gaps = pd.to_numeric(ach["gap"], errors="coerce")
    assert gaps.notna().any()  # still numbers, never quoted
    raw = run("report", survey, "--plan", "tan_yen_2024", "--on", ON, "--out", tmp_path / "raw", "--raw-text")
    assert raw.exit_code == 1 and "@X1" in set(_read(tmp_path / "raw" / "rates.csv")["scope"])


def test_diff_csv_tables_are_escaped(tmp_path):
    survey = tmp_path / "s"
    shutil.copytree(TINY, survey)
    for t in ("households", "members"):
        df = _read(survey / f"{t}.csv")
        df["household_id"] = "=" + df["household_id"]
        df.to_csv(survey / f"{t}.csv", index=False)
    r = run("diff", survey, "--on", ON, "--vs-on", "2027-06-30", "--out", tmp_path / "d")
    assert r.exit_code == 1, r.output  # the tiny survey's BG-0007 is rejected
    changed = _read(tmp_path / "d" / "changed.csv")
    assert len(changed) and changed["household_id"].str.startswith("'=").all()
    transitions = _read(tmp_path / "d" / "transitions.csv")
    assert not transitions["percent"].str.startswith("'").any()


def test_the_escape_is_vectorised_on_text_only_and_leaves_nulls_numbers_and_plain_text_alone():
    arr = pa.array([HYPERLINK, PLUS, AT, MINUS, TAB, CR, QUOTED, "-5", "+1.5", "-0,5", "-1e5", "abc", "", None,
                    "x=1"], type=pa.large_string())
    got = w.escape_formulas(arr).to_pylist()
    assert got == ["'" + HYPERLINK, "'" + PLUS, "'" + AT, "'" + MINUS, "'" + TAB, "'" + CR, "''already quoted",
                   "-5", "+1.5", "-0,5", "-1e5", "abc", "", None, "x=1"]
    nums = pa.array([-1, -2, None])
    assert w.escape_formulas(nums) is nums


def test_a_categorical_text_column_is_escaped_in_csv(tmp_path):
    df = pd.DataFrame({"village": pd.Categorical([HYPERLINK, "Thôn A", HYPERLINK, None]),
                       "amount": [-1, -2, 3, 4]})
    w.write_csv(df, tmp_path / "t.csv")
    out = _read(tmp_path / "t.csv")
    assert list(out["village"]) == ["'" + HYPERLINK, "Thôn A", "'" + HYPERLINK, ""]
    assert list(out["amount"]) == ["-1", "-2", "3", "4"]


def test_writing_50k_rows_of_csv_is_not_slowed_much_by_the_escape(tmp_path):
    import time

    n = 50_000
    df = pd.DataFrame({"household_id": [f"H{i:06d}" for i in range(n)],
                       "village": pd.array([f"Thôn {i % 300}" for i in range(n)], dtype="string"),
                       "note": [("=1+1" if i % 1000 == 0 else f"ghi chú {i}") for i in range(n)],
                       "amount": range(n)})
    best = {}
    for escape in (False, True):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            w.write_csv(df, tmp_path / f"{escape}.csv", escape=escape)
            times.append(time.perf_counter() - t)
        best[escape] = min(times)
    assert best[True] < best[False] * 1.6 + 0.05, best


# ================================================================== 16. personal data


@pytest.mark.parametrize("header", ["Họ và tên thành viên", "Họ tên thành viên", "Ho va ten thanh vien",
                                    "Họ và tên", "Họ tên", "Full name", "Tên thành viên"])
def test_the_usual_member_name_headers_are_full_name(header):
    assert canonical_header("members", header) == "full_name"


@pytest.mark.parametrize("header", ["Họ tên chủ hộ", "Họ và tên chủ hộ", "Tên chủ hộ", "HO TEN CHU HO", "Chủ hộ",
                                    "head_name", "ten_nguoi_giam_ho", "Guardian name", "Họ tên người khai",
                                    "fullName", "full_name", "Tên", "Name", "Họ đệm"])
def test_a_header_that_looks_like_a_persons_name_is_personal(header):
    assert personal_columns([header]) == [header]


@pytest.mark.parametrize("header", ["Tên xã", "commune_name", "Tên thôn", "village", "Tên huyện", "district_name",
                                    "Tên tỉnh", "province_name", "Tên tổ dân phố", "Ghi chú", "maintenance",
                                    "tenure", "Quan hệ với chủ hộ", "reasons", "household_id"])
def test_place_names_and_other_columns_are_not_taken_for_personal(header):
    assert personal_columns([header]) == []


def _with_names(survey: Path) -> None:
    hh, mem = _read(survey / "households.csv"), _read(survey / "members.csv")
    hh["Họ tên chủ hộ"] = "Phạm Văn Chủ"
    hh["Tên huyện"] = "Yên Dũng"
    mem = mem.rename(columns={"full_name": "Họ và tên thành viên"})
    mem["Tên người giám hộ"] = "Lê Thị Giám"
    hh.to_csv(survey / "households.csv", index=False)
    mem.to_csv(survey / "members.csv", index=False)


@pytest.mark.parametrize("fmt,files", [("csv", ["households.csv", "members.csv", "rejects.csv"]),
                                       ("xlsx", ["results.xlsx"])])
def test_name_columns_under_unknown_headers_are_left_out_without_show_names_and_it_is_said(tmp_path, fmt, files):
    survey = tmp_path / "s"
    shutil.copytree(TINY, survey)
    _with_names(survey)
    r = run("classify", survey, "--on", ON, "--out", tmp_path / "o", "--format", fmt)
    assert r.exit_code == 1, r.output
    text = "".join((tmp_path / "o" / f).read_bytes().decode("utf-8", "replace") for f in files if f.endswith("csv"))
    if fmt == "xlsx":
        text = " ".join(str(v) for v in _values(tmp_path / "o" / "results.xlsx"))
    for secret in ("Phạm Văn Chủ", "Lê Thị Giám", "Nguyễn Văn An"):
        assert secret not in text
    assert "Yên Dũng" in text  # a district name is not a person's name
    assert "'Họ tên chủ hộ'" in r.output and "'Tên người giám hộ'" in r.output
    assert "--show-names" in r.output and "họ tên" in r.output
    shown = run("classify", survey, "--on", ON, "--out", tmp_path / "shown", "--lang", "en", "--show-names")
    assert shown.exit_code == 1
    hh = _read(tmp_path / "shown" / "households.csv")
    mem = _read(tmp_path / "shown" / "members.csv")
    assert "Phạm Văn Chủ" in set(hh["Họ tên chủ hộ"]) and "Lê Thị Giám" in set(mem["Tên người giám hộ"])
    assert "Nguyễn Văn An" in set(mem["full_name"])
    assert "looks like" not in shown.output


def test_the_english_note_names_the_column_too(tmp_path):
    survey = tmp_path / "s"
    shutil.copytree(TINY, survey)
    _with_names(survey)
    r = run("classify", survey, "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert "'Họ tên chủ hộ'" in r.output and "looks like a name" in r.output and "--show-names" in r.output


def test_reject_values_of_every_personal_column_are_blanked():
    rejects = pd.DataFrame({"table": ["households", "members", "members"], "row": [1, 2, 3],
                            "household_id": ["H1", "H1", "H1"], "member_no": [None, 1, 2],
                            "column": ["Họ tên chủ hộ", "full_name", "sex"],
                            "value": ["Phạm Văn Chủ", "Lê Thị Bí Mật", "x"], "problem": ["too_long"] * 3})
    hidden = w.prepare_rejects(rejects, "vi")
    assert hidden["value"].isna().tolist() == [True, True, False]
    shown = w.prepare_rejects(rejects, "vi", show_names=True)
    assert shown["value"].tolist() == ["Phạm Văn Chủ", "Lê Thị Bí Mật", "x"]


def test_the_results_writer_drops_every_personal_column_through_one_rule():
    df = pd.DataFrame({"household_id": ["H1"], "Họ tên chủ hộ": ["x"], "full_name": ["y"], "Tên xã": ["z"],
                       "commune_name": ["c"]})
    assert list(w.prepare_table(df).columns) == ["household_id", "Tên xã", "commune_name"]
    assert list(w.prepare_table(df, show_names=True).columns) == list(df.columns)


# ================================================================== 7. output paths


def _usage_error_naming(r, path) -> None:
    assert r.exit_code == 2, r.output
    assert "Lỗi nội bộ" not in r.output and "Internal error" not in r.output
    assert str(path) in r.output.replace("\n", "")


def test_template_out_an_existing_folder_is_a_usage_error(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    _usage_error_naming(run("template", "--out", d), d)


def test_template_out_under_a_file_is_a_usage_error(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    _usage_error_naming(run("template", "--out", f / "mau.xlsx"), f / "mau.xlsx")


def test_template_does_not_overwrite_an_existing_file_without_force(tmp_path):
    f = tmp_path / "phieu.xlsx"
    assert run("template", "--out", f).exit_code == 0
    f.write_bytes(b"filled-in survey")
    r = run("template", "--out", f)
    _usage_error_naming(r, f)
    assert "--force" in r.output and f.read_bytes() == b"filled-in survey"
    assert run("template", "--out", f, "--force").exit_code == 0 and f.read_bytes() != b"filled-in survey"


def test_template_creates_the_missing_parent_folders(tmp_path):
    out = tmp_path / "a" / "b" / "mau.xlsx"
    assert run("template", "--out", out).exit_code == 0 and out.is_file()


CASES = [
    (["classify", TINY], [], "households.csv"),
    (["classify", TINY], ["--format", "xlsx"], "results.xlsx"),
    (["classify", TINY], ["--format", "parquet"], "members.parquet"),
    (["classify", TINY], [], "rejects.csv"),
    (["eligible", TINY], [], "counts.csv"),
    (["eligible", TINY], ["--format", "xlsx"], "eligible.xlsx"),
    (["eligible", TINY], [], "eligible_p5_housing.csv"),
    (["report", DEMO, "--plan", "tan_yen_2024"], [], "report.html"),
    (["report", DEMO, "--plan", "tan_yen_2024"], [], "rates.csv"),
    (["report", DEMO, "--plan", "tan_yen_2024"], [], "report.xlsx"),
    (["report", DEMO, "--plan", "tan_yen_2024"], [], "rejects.csv"),
    (["diff", TINY, "--vs-on", "2027-06-30"], [], "diff.json"),
    (["diff", TINY, "--vs-on", "2027-06-30"], [], "changed.csv"),
]


@pytest.mark.parametrize("command,extra,blocked", CASES, ids=[f"{c[0][0]}-{c[2]}" for c in CASES])
def test_an_output_file_that_is_a_folder_is_a_usage_error_before_the_survey_is_read(tmp_path, command, extra,
                                                                                   blocked):
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)
    r = run(*command, "--on", ON, "--out", out, *extra)
    _usage_error_naming(r, out / blocked)
    assert sorted(p.name for p in out.iterdir()) == [blocked]  # nothing else written


@pytest.mark.parametrize("command", [CASES[i][0] for i in (0, 4, 7, 11)], ids=lambda c: c[0])
def test_out_an_existing_file_is_a_usage_error(tmp_path, command):
    f = tmp_path / "file.txt"
    f.write_text("x")
    _usage_error_naming(run(*command, "--on", ON, "--out", f), f)


@pytest.mark.parametrize("command", [CASES[i][0] for i in (0, 4, 7, 11)], ids=lambda c: c[0])
def test_out_under_a_file_is_a_usage_error(tmp_path, command):
    f = tmp_path / "file.txt"
    f.write_text("x")
    _usage_error_naming(run(*command, "--on", ON, "--out", f / "sub"), f / "sub")


def test_a_write_that_fails_midway_is_a_usage_error_naming_the_file(tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(w, "_write_parquet", full)
    r = run("classify", TINY, "--on", ON, "--out", tmp_path / "o", "--format", "parquet")
    _usage_error_naming(r, tmp_path / "o" / "households.parquet")
    assert "No space left" in r.output


# ================================================================== 13. never write over an input


def _digest(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _refused(r, before: dict, folder: Path) -> None:
    assert r.exit_code == 2, r.output
    assert _digest(folder) == before
    assert "Lỗi nội bộ" not in r.output


@pytest.mark.parametrize("spelling", ["same", "slash", "relative", "dot", "symlink", "dotdot"])
def test_classify_refuses_to_write_over_the_survey_it_reads(tmp_path, monkeypatch, spelling):
    survey = tmp_path / "survey"
    shutil.copytree(TINY, survey)
    before = _digest(survey)
    monkeypatch.chdir(survey if spelling == "dot" else tmp_path)
    out = {"same": survey, "slash": f"{survey}/", "relative": "survey", "dot": ".", "dotdot": "survey/../survey",
           "symlink": tmp_path / "link"}[spelling]
    if spelling == "symlink":
        os.symlink(survey, tmp_path / "link")
    arg = "." if spelling == "dot" else survey
    r = run("classify", arg, "--on", ON, "--out", out)
    _refused(r, before, survey)
    assert "households.csv" in r.output


def test_classify_refuses_csv_results_in_a_parquet_survey_folder(tmp_path):
    """households.csv written beside households.parquet would be read instead of it next time."""
    survey = tmp_path / "pq"
    survey.mkdir()
    for t in ("households", "members"):
        _read(TINY / f"{t}.csv").to_parquet(survey / f"{t}.parquet")
    before = _digest(survey)
    _refused(run("classify", survey, "--on", ON, "--out", survey), before, survey)
    _refused(run("classify", survey, "--on", ON, "--out", survey, "--format", "parquet"), before, survey)


def test_classify_refuses_results_xlsx_over_the_workbook_it_reads(tmp_path):
    book = tmp_path / "results.xlsx"
    with pd.ExcelWriter(book) as xw:
        _read(TINY / "households.csv").to_excel(xw, sheet_name="households", index=False)
        _read(TINY / "members.csv").to_excel(xw, sheet_name="members", index=False)
    before = _digest(tmp_path)
    _refused(run("classify", book, "--on", ON, "--out", tmp_path, "--format", "xlsx"), before, tmp_path)
    assert run("classify", book, "--on", ON, "--out", tmp_path / "o", "--format", "xlsx").exit_code == 1


def test_eligible_and_diff_may_write_beside_the_survey_when_no_file_is_overwritten(tmp_path):
    survey = tmp_path / "survey"
    shutil.copytree(TINY, survey)
    before = _digest(survey)
    assert run("eligible", survey, "--on", ON, "--out", survey).exit_code == 1
    assert run("diff", survey, "--on", ON, "--vs-on", "2027-06-30", "--out", survey).exit_code == 1
    after = _digest(survey)
    assert {k: after[k] for k in before} == before and "counts.csv" in after


def test_report_refuses_to_write_over_its_allocation_file(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    allocation = out / "budget.csv"
    allocation.write_text("commune_code,budget_line,amount_million_vnd\n07210,p2,100\n", encoding="utf-8")
    before = _digest(out)
    r = run("report", DEMO, "--plan", "tan_yen_2024", "--on", ON, "--out", out, "--allocation", allocation)
    _refused(r, before, out)
    assert "--allocation" in r.output or "budget.csv" in r.output


def test_report_refuses_to_write_over_its_support_file_however_it_is_spelt(tmp_path, monkeypatch):
    out = tmp_path / "r"
    out.mkdir()
    (out / "achievement.csv").write_text("target_id,household_id,member_no,needed,received\n", encoding="utf-8")
    before = _digest(out)
    monkeypatch.chdir(tmp_path)
    r = run("report", DEMO, "--plan", "tan_yen_2024", "--on", ON, "--out", "r/", "--support", "./r/achievement.csv")
    _refused(r, before, out)


def test_no_output_may_be_any_input_of_the_run(tmp_path):
    rules = tmp_path / "x.yaml"
    rules.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        w.check_out(tmp_path, ["x.yaml"], [(rules, "rules")])
    assert "--rules" in str(e.value) and str(rules) in str(e.value)
    w.check_out(tmp_path, ["y.yaml"], [(rules, "rules")])  # another name: fine


def test_the_raw_text_option_is_in_every_writing_commands_help():
    for command in ("classify", "eligible", "report", "diff"):
        r = run(command, "--help")
        assert "--raw-text" in r.stdout, command


def test_the_cli_never_reports_an_internal_error_for_an_output_folder_in_a_subprocess(tmp_path):
    """The real entry point, not the test runner: exit 2 and a message."""
    out = tmp_path / "o"
    (out / "households.csv").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.run([sys.executable, "-m", "tieuchi.cli", "classify", str(TINY), "--on", ON, "--out", str(out)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 2, p.stderr
    assert str(out / "households.csv") in p.stderr.replace("\n", "")
