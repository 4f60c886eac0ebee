"""Reading a survey in every form of data contract §1: csv / parquet folders, xlsx, jsonl."""
from __future__ import annotations

import json
import unicodedata

import pandas as pd
import pytest
from openpyxl import Workbook

from tieuchi.errors import UsageError
from tieuchi.contract.read import read_survey
from tieuchi.contract.validate import normalize_survey

HH_CSV = ("Mã hộ,Mã xã,Khu vực,Thu nhập bình quân,Ghi chú\nH1,X01,Nông thôn,1.500.000,None\n"
          "H2,X01,urban,\"1,500,000\",\n")
MEM_CSV = ("Mã hộ,STT,Họ và tên,Giới tính,Ngày sinh,Có BHYT\nH1,1,Nguyễn Văn A,Nam,15/03/1980,Có\n"
           "H1,2,Trần Thị B,Nữ,1982-07-01,không\nH2,1,Lê Văn C,male,01/01/1990,\n")


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: precomposed vowels where they exist, tone marks as combining bytes."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base, tone = "".join(c for c in d if c not in tones), "".join(c for c in d if c in tones)
            out += (unicodedata.normalize("NFC", base) + tone).encode("cp1258")
    return out


def write_csv_folder(folder, hh=HH_CSV, mem=MEM_CSV, encoding="utf-8"):
    folder.mkdir(exist_ok=True)
    encode = cp1258 if encoding == "cp1258" else (lambda t: t.encode(encoding))
    (folder / "households.csv").write_bytes(encode(hh))
    (folder / "members.csv").write_bytes(encode(mem))
    return folder


def test_a_csv_folder_with_vietnamese_headers_reads_to_canonical_columns(tmp_path):
    raw = read_survey(write_csv_folder(tmp_path / "s"))
    assert list(raw.households.columns) == ["household_id", "commune_code", "area", "income_per_capita_month",
                                            "Ghi chú"]
    assert raw.members.columns[:6].tolist() == ["household_id", "member_no", "full_name", "sex", "birth_date",
                                                "has_health_insurance"]
    assert raw.communes is None


def test_the_words_none_na_null_are_values_and_only_the_empty_cell_is_missing(tmp_path):
    raw = read_survey(write_csv_folder(tmp_path / "s"))
    assert raw.households["Ghi chú"].tolist()[0] == "None"
    assert pd.isna(raw.households["Ghi chú"].tolist()[1])


def test_unknown_extra_columns_are_carried_through_untouched(tmp_path):
    out = normalize_survey(read_survey(write_csv_folder(tmp_path / "s")))
    assert out.households["Ghi chú"].tolist()[0] == "None"


def test_a_byte_order_mark_is_ignored(tmp_path):
    raw = read_survey(write_csv_folder(tmp_path / "s", encoding="utf-8-sig"))
    assert raw.households.columns[0] == "household_id"


def test_text_is_normalised_to_nfc(tmp_path):
    mem = unicodedata.normalize("NFD", MEM_CSV)
    raw = read_survey(write_csv_folder(tmp_path / "s", mem=mem))
    assert "sex" in raw.members.columns and raw.members["sex"].tolist()[1] == "Nữ"
    assert raw.members["full_name"].tolist()[1] == unicodedata.normalize("NFC", "Trần Thị B")


def test_a_windows_1258_file_is_refused_and_never_misread(tmp_path):
    with pytest.raises(UsageError) as e:
        read_survey(write_csv_folder(tmp_path / "s", encoding="cp1258"))
    assert "UTF-8" in e.value.message and "1258" in e.value.message and "UTF-8" in e.value.hint


def test_a_missing_members_file_is_a_usage_error_naming_it(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "households.csv").write_text(HH_CSV, encoding="utf-8")
    with pytest.raises(UsageError, match="members.csv"):
        read_survey(tmp_path / "s")


def test_a_missing_survey_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        read_survey(tmp_path / "nope")


def test_a_parquet_folder_keeps_its_typed_columns(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    hh = pd.DataFrame({"household_id": [1, 2], "commune_code": ["X", "X"],
                       "area": pd.Categorical(["rural", "urban"]),
                       "income_per_capita_month": pd.array([100, None], dtype="Int64")})
    mem = pd.DataFrame({"household_id": [1, 2], "member_no": [1, 1], "sex": pd.Categorical(["male", "female"]),
                        "birth_year": [1980, 1990], "has_health_insurance": pd.array([True, None], dtype="boolean")})
    hh.to_parquet(folder / "households.parquet")
    mem.to_parquet(folder / "members.parquet")
    raw = read_survey(folder)
    assert raw.households["household_id"].dtype == "int64"
    out = normalize_survey(raw)
    assert len(out.rejects) == 0 and out.households["household_id"].tolist() == [1, 2]
    assert str(out.members["has_health_insurance"].dtype) == "boolean"


def test_an_xlsx_workbook_with_vietnamese_sheet_names_reads_back(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Hộ"
    ws.append(["Mã hộ", "Mã xã", "Khu vực", "Thu nhập bình quân"])
    ws.append(["001", "X01", "Thành thị", 2_000_000])
    ws2 = wb.create_sheet("Thành viên")
    ws2.append(["Mã hộ", "STT", "Giới tính", "Ngày sinh", "Có BHYT"])
    ws2.append(["001", 1, "Nữ", "15/03/1980", "Có"])
    ws3 = wb.create_sheet("Xã")
    ws3.append(["Mã xã", "Tổng số hộ"])
    ws3.append(["X01", 1200])
    wb.save(tmp_path / "s.xlsx")
    raw = read_survey(tmp_path / "s.xlsx")
    assert raw.households["household_id"].tolist() == ["001"]
    out = normalize_survey(raw)
    assert len(out.rejects) == 0
    assert out.households["area"].tolist() == ["urban"] and out.communes["households_total"].tolist() == [1200]


def test_a_workbook_without_a_members_sheet_is_a_usage_error_naming_it(tmp_path):
    wb = Workbook()
    wb.active.title = "households"
    wb.save(tmp_path / "s.xlsx")
    with pytest.raises(UsageError, match="members"):
        read_survey(tmp_path / "s.xlsx")


def test_a_jsonl_file_reads_nested_members_and_reports_a_bad_line(tmp_path):
    lines = [
        json.dumps({"household_id": "H1", "commune_code": "X", "area": "rural", "info_devices": ["tv", "radio"],
                    "members": [{"member_no": 1, "sex": "male", "birth_year": 1970, "has_health_insurance": True}]}),
        "{not json",
        "",
        json.dumps({"household_id": "H2", "commune_code": "X", "area": "urban", "income_per_capita_month": None,
                    "members": [{"member_no": 1, "sex": "Nữ", "birth_date": "2000-02-29"}]}),
    ]
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_survey(tmp_path / "s.jsonl")
    assert raw.households["household_id"].tolist() == ["H1", "H2"]
    assert raw.members["household_id"].tolist() == ["H1", "H2"]
    assert raw.problems[["table", "row", "problem"]].values.tolist() == [["households", 2, "invalid_json"]]
    out = normalize_survey(raw)
    assert out.rejects["problem"].tolist() == ["invalid_json"]
    assert out.households["info_devices"].tolist()[0] == "radio;tv"
    assert out.hh_rows.tolist() == [1, 4]  # jsonl rows are line numbers


def test_a_csv_survey_records_each_tables_file_header_line_and_headers_as_written(tmp_path):
    folder = write_csv_folder(tmp_path / "s", hh="Danh sách hộ\n" + HH_CSV)
    raw = read_survey(folder)
    hh = raw.source_of("households", 0)
    assert hh.file == str(folder / "households.csv") and hh.sheet is None
    assert hh.header_line == 2  # a title line above the header
    assert hh.headers["household_id"] == "Mã hộ" and hh.headers["area"] == "Khu vực"
    assert hh.positions["area"] == 2
    assert raw.source_of("members", 2).headers["sex"] == "Giới tính"


def test_a_workbook_survey_records_each_tables_sheet_and_header_row(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Hộ"
    ws.append(["Phiếu rà soát"])
    ws.append([])
    for line in HH_CSV.splitlines():
        ws.append(line.split(",")[:5])
    ws2 = wb.create_sheet("Thành viên")
    for line in MEM_CSV.splitlines():
        ws2.append(line.split(","))
    wb.save(tmp_path / "s.xlsx")
    raw = read_survey(tmp_path / "s.xlsx")
    hh, mem = raw.source_of("households", 1), raw.source_of("members", 0)
    assert (hh.sheet, hh.header_line, hh.headers["income_per_capita_month"]) == ("Hộ", 3, "Thu nhập bình quân")
    assert (mem.sheet, mem.header_line, mem.positions["sex"]) == ("Thành viên", 1, 3)


def test_a_jsonl_survey_records_its_keys_as_the_headers(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"household_id": "H1", "commune_code": "X", "area": "rural", "income_per_capita": 1,
                             "members": [{"member_no": 1, "Giới tính": "Nam"}]}) + "\n", encoding="utf-8")
    raw = read_survey(p)
    assert raw.source_of("members", 0).headers["sex"] == "Giới tính"
    assert raw.source_of("households", 0).header_line == 0
