"""Writing results (data contract §2): files, columns, booleans, personal data, Excel's row limit."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from tieuchi.errors import UsageError
from tieuchi.contract import write as w
from tieuchi.contract.workbook import read_workbook
from tieuchi.contract.write import REJECT_COLUMNS, write_results

HEAD = ["household_id", "regime", "rules_version", "reference_date", "household_class", "income_line",
        "deprivation_count", "unknown_count", "deprived_water", "undecided_by", "provisional", "reasons"]


def _result(n: int = 3, rejects: pd.DataFrame | None = None) -> SimpleNamespace:
    hh = pd.DataFrame({
        "household_id": [f"H{i}" for i in range(n)],
        "regime": "vn_2022_2026",
        "rules_version": "v1",
        "reference_date": dt.date(2025, 1, 1),
        "household_class": (["poor", "unknown", "other"] * n)[:n],
        "income_line": pd.array([1_500_000] * n, dtype="Int64"),
        "deprivation_count": [3] * n,
        "unknown_count": [0] * n,
        "deprived_water": pd.array(([True, None, False] * n)[:n], dtype="boolean"),
        "undecided_by": pd.array(([None, "has_health_insurance;income_per_capita_month", None] * n)[:n],
                                 dtype="string"),
        "provisional": [False] * n,
        "reasons": ["Hộ nghèo, thiếu hụt 3 chỉ số"] * n,
        "commune_code": ["07216"] * n,
    })
    mem = pd.DataFrame({
        "household_id": hh["household_id"], "member_no": [1] * n, "age": [40] * n,
        "working_age": pd.array([True] * n, dtype="boolean"), "dependant": pd.array([False] * n, dtype="boolean"),
        "low_income_worker": pd.array([None] * n, dtype="boolean"),
        "full_name": ["Nguyễn Văn An"] * n, "birth_date": [dt.date(1984, 7, 1)] * n,
    })
    if rejects is None:
        rejects = pd.DataFrame(columns=REJECT_COLUMNS)
    return SimpleNamespace(households=hh, members=mem, rejects=rejects)


def _rejects() -> pd.DataFrame:
    return pd.DataFrame({"table": ["members", "members"], "row": [4, 5], "household_id": ["H9", "H9"],
                         "member_no": [1, 2], "column": ["full_name", "sex"], "value": ["Lê Thị Secret", "x"],
                         "problem": ["too_long", "invalid_code"]})


def test_csv_writes_the_three_contract_files_with_result_columns_first(tmp_path):
    paths = write_results(_result(), tmp_path)
    assert [p.name for p in paths] == ["households.csv", "members.csv", "rejects.csv"]
    hh = pd.read_csv(tmp_path / "households.csv", dtype=str, keep_default_na=False)
    assert list(hh.columns[: len(HEAD)]) == HEAD
    rej = pd.read_csv(tmp_path / "rejects.csv", dtype=str)
    assert list(rej.columns) == REJECT_COLUMNS + ["message"]


def test_csv_booleans_are_true_false_or_empty_and_dates_are_iso(tmp_path):
    write_results(_result(), tmp_path)
    hh = pd.read_csv(tmp_path / "households.csv", dtype=str, keep_default_na=False)
    assert list(hh["deprived_water"]) == ["true", "", "false"]
    assert set(hh["provisional"]) == {"false"}
    assert set(hh["reference_date"]) == {"2025-01-01"}
    assert hh.loc[1, "undecided_by"] == "has_health_insurance;income_per_capita_month"
    mem = pd.read_csv(tmp_path / "members.csv", dtype=str, keep_default_na=False)
    assert set(mem["low_income_worker"]) == {""}
    assert set(mem["birth_date"]) == {"1984-07-01"}


def test_csv_is_utf8_with_a_byte_order_mark_by_default_so_that_excel_reads_vietnamese_text(tmp_path):
    write_results(_result(), tmp_path)
    for name in ("households.csv", "members.csv", "rejects.csv"):
        raw = (tmp_path / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and not raw[3:].startswith(b"\xef\xbb\xbf")
    assert "Hộ nghèo, thiếu hụt 3 chỉ số" in (tmp_path / "households.csv").read_bytes().decode("utf-8-sig")


def test_csv_without_bom_has_no_byte_order_mark(tmp_path):
    write_results(_result(), tmp_path, how=w.Written(bom=False))
    raw = (tmp_path / "households.csv").read_bytes()
    assert raw.startswith(b'"household_id"')
    assert "Hộ nghèo, thiếu hụt 3 chỉ số" in raw.decode("utf-8")


def test_the_survey_reader_reads_a_csv_with_the_byte_order_mark_tieuchi_writes(tmp_path):
    from tieuchi.contract.read import read_survey

    hh = pd.DataFrame({"household_id": ["H1"], "commune_code": ["07216"], "area": ["Nông thôn"]})
    mem = pd.DataFrame({"household_id": ["H1"], "member_no": [1], "sex": ["Nam"], "birth_year": [1980]})
    w.write_csv(hh, tmp_path / "households.csv")
    w.write_csv(mem, tmp_path / "members.csv")
    raw = read_survey(tmp_path)
    assert list(raw.households.columns[:3]) == ["household_id", "commune_code", "area"]
    assert raw.households["household_id"].tolist() == ["H1"]


def test_full_name_is_left_out_unless_names_are_asked_for(tmp_path):
    write_results(_result(rejects=_rejects()), tmp_path / "hidden")
    mem = pd.read_csv(tmp_path / "hidden" / "members.csv", dtype=str)
    assert "full_name" not in mem.columns
    rej = pd.read_csv(tmp_path / "hidden" / "rejects.csv", dtype=str, keep_default_na=False)
    assert "Lê Thị Secret" not in set(rej["value"])
    write_results(_result(rejects=_rejects()), tmp_path / "shown", show_names=True)
    mem = pd.read_csv(tmp_path / "shown" / "members.csv", dtype=str)
    assert set(mem["full_name"]) == {"Nguyễn Văn An"}


def test_rejects_get_a_message_column_in_the_chosen_language(tmp_path, monkeypatch):
    monkeypatch.setattr(w, "reject_message", lambda code, lang, table, column, header: f"{lang}:{code}:{column}")
    write_results(_result(rejects=_rejects()), tmp_path, lang="en")
    rej = pd.read_csv(tmp_path / "rejects.csv", dtype=str)
    assert list(rej["message"]) == ["en:too_long:full_name", "en:invalid_code:sex"]


def test_an_empty_rejects_table_is_still_written_with_its_header(tmp_path):
    write_results(_result(), tmp_path)
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").strip().replace('"', "") == ",".join(
        REJECT_COLUMNS + ["message"])


def test_parquet_writes_three_files_that_keep_nullable_booleans(tmp_path):
    paths = write_results(_result(), tmp_path, fmt="parquet")
    assert [p.name for p in paths] == ["households.parquet", "members.parquet", "rejects.parquet"]
    hh = pd.read_parquet(tmp_path / "households.parquet")
    assert list(hh.columns[: len(HEAD)]) == HEAD
    assert hh["deprived_water"].isna().tolist() == [False, True, False]


def test_xlsx_writes_one_workbook_with_three_sheets(tmp_path):
    paths = write_results(_result(rejects=_rejects()), tmp_path, fmt="xlsx")
    assert [p.name for p in paths] == ["results.xlsx"]
    sheets = read_workbook(paths[0])
    assert list(sheets) == ["households", "members", "rejects"]
    assert list(sheets["households"].columns[: len(HEAD)]) == HEAD
    assert "full_name" not in sheets["members"].columns


def test_xlsx_is_refused_before_writing_when_a_sheet_would_pass_excels_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(w, "EXCEL_MAX_ROWS", 3)  # 2 data rows + header
    with pytest.raises(UsageError) as e:
        write_results(_result(n=3), tmp_path / "out", fmt="xlsx")
    assert "csv" in e.value.hint and "parquet" in e.value.hint
    assert not (tmp_path / "out").exists()


def test_an_unknown_format_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        write_results(_result(), tmp_path, fmt="json")


def test_an_out_path_that_is_a_file_is_a_usage_error(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(UsageError):
        write_results(_result(), f)


def test_an_odd_carried_through_column_falls_back_to_text(tmp_path):
    r = _result()
    r.households["mixed"] = [1, "a", dt.date(2024, 1, 2)]
    r.households["listy"] = [["a", "b"], None, ["c"]]
    write_results(r, tmp_path)
    hh = pd.read_csv(tmp_path / "households.csv", dtype=str, keep_default_na=False)
    assert list(hh["mixed"]) == ["1", "a", "2024-01-02"]
    assert list(hh["listy"]) == ["a;b", "", "c"]


def test_dates_read_as_timestamps_are_written_as_iso_dates(tmp_path):
    r = _result()
    r.members["birth_date"] = pd.to_datetime(["1980-03-12", None, "2001-01-31"])
    write_results(r, tmp_path)
    mem = pd.read_csv(tmp_path / "members.csv", dtype=str, keep_default_na=False)
    assert list(mem["birth_date"]) == ["1980-03-12", "", "2001-01-31"]


def test_result_columns_are_put_in_the_contract_order_before_the_input_columns(tmp_path):
    r = _result()
    r.members = r.members[["household_id", "member_no", "full_name", "age", "dependant", "low_income_worker",
                           "working_age", "birth_date"]]
    write_results(r, tmp_path)
    mem = pd.read_csv(tmp_path / "members.csv", dtype=str)
    assert list(mem.columns) == ["household_id", "member_no", "age", "working_age", "dependant",
                                 "low_income_worker", "birth_date"]
