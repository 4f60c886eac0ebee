"""The problems a user reads: root problems first on screen, the column named as the user wrote it, the cell of a
workbook, the allowed values as typed, one language per run."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi.contract.write as w
from tieuchi.cli import app
from tieuchi.contract.columns import TABLES, columns
from tieuchi.contract.locate import column_letter
from tieuchi.contract.problems import PROBLEMS, reject_message
from tieuchi.contract.read import read_survey
from tieuchi.engine.reasons import inputs_named
from tieuchi.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
TINY = ROOT / "datasets" / "examples" / "tiny"
ON = "2024-12-01"
VIETNAMESE = re.compile(r"[À-ỹĐđ]")  # a letter with a Vietnamese diacritic (or đ)
# English words a Vietnamese message must not hold: codes a user does not type in Vietnamese, and English prose
ENGLISH = ("male", "female", "rural", "urban", "true/false", "yes/no", "Save As", " sheet", "not found", "Give a")


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo_vi(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_vi")
    r = run("classify", DEMO, "--on", ON, "--out", out)
    assert r.exit_code == 1, r.output
    return r, pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def demo_en(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_en")
    r = run("classify", DEMO, "--on", ON, "--out", out, "--lang", "en")
    assert r.exit_code == 1, r.output
    return r, pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)


def test_on_the_demo_the_screen_lists_the_orphan_member_before_any_consequence_row_and_counts_the_consequences(
        demo_vi):
    r, rejects = demo_vi
    consequences = rejects["problem"].isin(["household_rejected", "member_rejected"])
    assert consequences.sum() == 17 and len(rejects) == 23  # the file keeps every row, in its order
    for _, part in rejects.groupby("table"):
        assert part["row"].astype(int).is_monotonic_increasing
    assert rejects.iloc[-1]["problem"] == "unknown_household"  # the member of a household that does not exist
    screen = r.stderr
    assert "999999" in screen  # the orphan member, listed (it came 23rd of 23 rows before)
    assert "Thành viên không lỗi" not in screen and "Hộ bị loại vì có thành viên" not in screen
    assert "16 thành viên bị loại theo hộ của mình" in screen and "1 hộ bị loại vì có thành viên bị lỗi" in screen
    assert "6 trong 6 lỗi cần sửa (tất cả 23 dòng lỗi" in screen


def test_the_screen_in_english_counts_the_consequences_in_english(demo_en):
    r, _ = demo_en
    assert "16 member(s) rejected with their household" in r.stderr and "6 of 6 problems to fix" in r.stderr
    assert not VIETNAMESE.search(r.stderr.split("rejects.csv")[0].split("problems to fix")[1].replace("Nông trại", ""))


def test_vietnamese_messages_name_the_column_and_list_the_values_a_user_types_not_the_codes(demo_vi):
    _, rejects = demo_vi
    sex = rejects.loc[rejects["column"] == "sex", "message"].iloc[0]
    assert sex == "Cột 'sex' (Giới tính): giá trị không nằm trong danh mục: ghi một trong: Nam, Nữ."
    area = rejects.loc[rejects["column"] == "area", "message"].iloc[0]
    assert "Nông thôn, Thành thị" in area
    for message in rejects["message"]:
        assert not any(word in message for word in ENGLISH), message
        assert "Hướng dẫn" not in message  # a CSV survey has no guide sheet to point to


def test_english_messages_have_no_vietnamese(demo_en):
    _, rejects = demo_en
    sex = rejects.loc[rejects["column"] == "sex", "message"].iloc[0]
    assert sex == "Column 'sex': the value is not one of the allowed codes: write one of: male, female."
    for message in rejects["message"]:
        assert not VIETNAMESE.search(message), message


def test_every_message_of_every_column_is_in_one_language():
    for table in TABLES:
        for name, spec in columns(table).items():
            for code in PROBLEMS:
                en = reject_message(code, "en", table, name)
                vi = reject_message(code, "vi", table, name)
                assert en.isascii(), en
                if spec.type in ("code", "codes") and code == "invalid_code":
                    assert all(label in vi for label in spec.labels.values()), vi
                    assert not any(re.search(rf"\b{c}\b", vi) for c in spec.codes if c != name), vi
                    assert all(c in en for c in spec.codes), en


def test_a_workbook_reject_shows_its_cell_and_the_header_as_written(tmp_path):
    hh = pd.read_csv(TINY / "households.csv", dtype=str)
    mem = pd.read_csv(TINY / "members.csv", dtype=str).rename(
        columns={"household_id": "Mã hộ", "member_no": "STT", "sex": "Giới tính"})
    assert list(mem.columns).index("Giới tính") == 3  # column D
    mem.loc[15, "Giới tính"] = "Trai"  # data row 16, below the header in sheet row 1: sheet row 17
    book = tmp_path / "survey.xlsx"
    with pd.ExcelWriter(book) as xw:
        hh.to_excel(xw, sheet_name="households", index=False)
        mem.to_excel(xw, sheet_name="Thành viên", index=False)
    r = run("classify", book, "--on", ON, "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", dtype=str, keep_default_na=False)
    assert list(rejects.columns) == w.REJECT_COLUMNS + ["cell", "message"]
    bad = rejects[rejects["problem"] == "invalid_code"].set_index("column")
    assert bad.loc["sex", "cell"] == "Thành viên!D17" and bad.loc["sex", "row"] == "16"
    assert bad.loc["sex", "message"].startswith("Cột 'Giới tính': ")  # as written: no second name needed
    assert bad.loc["area", "cell"] == "households!E8"
    assert bad.loc["area", "message"].startswith("Cột 'area' (Khu vực): ")
    whole_row = rejects[rejects["problem"] == "household_rejected"]
    assert set(whole_row["cell"].str.split("!").str[1].str[0]) == {"A"}  # a whole row's problem: its Mã hộ cell
    assert "Thành viên!D17" in r.stderr and "households!E8" in r.stderr


def test_a_csv_survey_has_no_cell_column(demo_vi):
    _, rejects = demo_vi
    assert list(rejects.columns) == w.REJECT_COLUMNS + ["message"]


def test_column_letters_run_past_z():
    assert [column_letter(i) for i in (0, 3, 25, 26, 27, 701, 702)] == ["A", "D", "Z", "AA", "AB", "ZZ", "AAA"]


def test_the_missing_survey_error_is_in_one_language(tmp_path):
    with pytest.raises(UsageError) as e:
        read_survey(tmp_path / "nope")
    vi, vi_hint = e.value.in_lang("vi")
    en, en_hint = e.value.in_lang("en")
    assert "không tìm thấy" in vi and not any(word in vi + vi_hint for word in ENGLISH)
    assert "not found" in en and not VIETNAMESE.search(en + en_hint)
    r = run("classify", tmp_path / "nope", "--on", ON, "--out", tmp_path / "out")
    assert r.exit_code == 2 and "survey not found" not in r.stderr and "Give a" not in r.stderr


def test_every_usage_error_of_the_reader_and_the_validator_has_a_vietnamese_text():
    import ast

    for name in ("read.py", "validate.py"):
        tree = ast.parse((ROOT / "src" / "tieuchi" / "contract" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "UsageError":
                assert "vi" in {k.arg for k in node.keywords}, f"{name}:{node.lineno}"


def test_messages_are_rendered_once_per_distinct_problem_and_column_not_per_row(monkeypatch):
    calls = []

    def counting(code, lang, table, column, header):
        calls.append((code, table, column, header))
        return f"{code}:{column}:{header}"

    monkeypatch.setattr(w, "reject_message", counting)
    n = 30_000
    problems = pd.Series(["invalid_code", "household_rejected", "required"] * (n // 3))
    tables = pd.Series(["members"] * n)
    cols = pd.Series(["sex", None, "sex"] * (n // 3))
    headers = pd.Series(["Giới tính", None, "Giới tính"] * (n // 3))
    got = w.messages(problems, "vi", tables, cols, headers)
    assert len(calls) == 3
    assert list(got[:3]) == ["invalid_code:sex:Giới tính", "household_rejected:None:None", "required:sex:Giới tính"]


def test_the_reasons_of_an_undecided_household_name_its_missing_inputs_by_their_vietnamese_header():
    assert inputs_named(["has_dwelling", "sex", "member_count"], "vi") == \
        "Có nhà ở (has_dwelling), Giới tính (sex), member_count"
    assert inputs_named(["has_dwelling"], "en") == "has_dwelling"


def _shown(n_roots: int, n_members: int) -> pd.DataFrame:
    rows = [{"table": "members", "row": i + 1, "household_id": f"H{i}", "member_no": 1, "column": "sex",
             "value": "X", "problem": "invalid_code"} for i in range(n_roots)]
    rows += [{"table": "members", "row": n_roots + i + 1, "household_id": "H0", "member_no": i + 2, "column": None,
              "value": None, "problem": "household_rejected"} for i in range(n_members)]
    return w.prepare_rejects(pd.DataFrame(rows), "vi")


def test_past_twenty_root_problems_the_screen_says_how_many_are_left_and_still_lists_no_consequence(capsys):
    from tieuchi.cli.common import SCREEN_REJECTS, show_rejects

    show_rejects(_shown(25, 30), None, "vi")
    err = capsys.readouterr().err
    assert f"{SCREEN_REJECTS} trong 25 lỗi cần sửa (tất cả 55 dòng lỗi):" in err
    assert "H19" in err and "H20 " not in err and "Thành viên không lỗi" not in err
    assert "… và 30 thành viên bị loại theo hộ của mình:" in err


def test_without_consequences_the_screen_has_no_count_line(capsys):
    from tieuchi.cli.common import show_rejects

    show_rejects(_shown(2, 0), None, "en")
    err = capsys.readouterr().err
    assert "2 of 2 problems to fix (all 2 rejected rows):" in err and "rejected with their household" not in err


def test_an_empty_birth_date_and_year_name_both_columns():
    assert reject_message("required", "vi", "members", "birth_date", "Ngày sinh") == \
        "Cột 'Ngày sinh' hoặc 'Năm sinh': cả hai ô đều trống: điền một trong hai."
    assert reject_message("required", "en", "members", "birth_date") == \
        "Column 'birth_date' or 'birth_year': both cells are empty: fill in one of them."
