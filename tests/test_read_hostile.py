"""Reading a survey that a careless or hostile user gave (issue 10): every bad input is answered with a clear error
or a reject for its own row, never a crash, a silently lost row or a row number the user cannot find."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tieuchi.cli import app
from tieuchi.errors import UsageError
from tieuchi.contract.read import HEADER_SEARCH_ROWS, read_survey
from tieuchi.contract.validate import normalize_survey

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
ON = "2024-12-01"


def _table(name: str) -> list[list[str]]:
    """The tiny survey's table without BG-0007 (its one invalid household): every row is accepted."""
    with open(TINY / name, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return [rows[0]] + [r for r in rows[1:] if r[0] != "BG-0007"]


HH, MEM = _table("households.csv"), _table("members.csv")
N_HH, N_MEM = len(HH) - 1, len(MEM) - 1


def csv_text(rows, sep=",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def folder(path: Path, hh=None, mem=None, *, hh_bytes: bytes | None = None, mem_bytes: bytes | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "households.csv").write_bytes(hh_bytes if hh_bytes is not None else csv_text(hh or HH).encode())
    (path / "members.csv").write_bytes(mem_bytes if mem_bytes is not None else csv_text(mem or MEM).encode())
    return path


def workbook(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
    wb.save(path)
    return path


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def classify(survey: Path, out: Path):
    r = run("classify", survey, "--on", ON, "--out", out, "--lang", "en")
    read = {n: pd.read_csv(out / f"{n}.csv", dtype=str, keep_default_na=False)
            for n in ("households", "members", "rejects") if (out / f"{n}.csv").exists()}
    return r, read


def assert_nothing_lost(read, n_hh=N_HH, n_mem=N_MEM):
    """Contract §2.3: every input row is in the results or in the rejects, exactly once."""
    rej = read["rejects"]
    for table, n, res in (("households", n_hh, read["households"]), ("members", n_mem, read["members"])):
        rejected = set(rej.loc[rej["table"] == table, "row"].astype(int))
        assert len(res) + len(rejected) == n, table


# ------------------------------------------------------------------ item 3: reader errors wrapped


@pytest.mark.parametrize("content", [b"", b"\n\n\r\n  \n"], ids=["0 bytes", "blank lines only"])
def test_an_empty_or_blank_households_csv_is_a_usage_error_naming_it(tmp_path, content):
    r = run("classify", folder(tmp_path / "s", hh_bytes=content), "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2, r.output
    assert "households.csv" in r.output and "empty" in r.output and "header" in r.output


def test_an_empty_members_csv_is_a_usage_error_naming_it(tmp_path):
    with pytest.raises(UsageError, match="members.csv") as e:
        read_survey(folder(tmp_path / "s", mem_bytes=b""))
    assert "trống" in e.value.vi


@pytest.mark.parametrize("at", [1, 3], ids=["first data row", "a later row"])
def test_a_csv_row_with_more_fields_than_the_header_is_a_reject_for_that_row(tmp_path, at):
    hh = [list(r) for r in HH]
    hh[at] = hh[at] + ["EXTRA"]
    r, read = classify(folder(tmp_path / "s", hh), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    bad = hh[at][0]
    own = rej[rej["table"] == "households"]
    assert own[["row", "household_id", "problem"]].values.tolist() == [[str(at), bad, "too_many_fields"]]
    assert "more cells than the header" in own["message"].iloc[0]
    # every other household is read and classified, unshifted; the bad one's members go with it
    assert sorted(read["households"]["household_id"]) == sorted(h[0] for h in HH[1:] if h[0] != bad)
    assert set(read["households"]["area"]) <= {"rural", "urban"}
    assert set(rej.loc[rej["table"] == "members", "problem"]) == {"household_rejected"}
    assert set(rej.loc[rej["table"] == "members", "household_id"]) == {bad}
    assert_nothing_lost(read)


def test_a_member_row_with_more_fields_than_the_header_rejects_its_household_too(tmp_path):
    mem = [list(r) for r in MEM]
    at = next(i for i, m in enumerate(mem) if m[0] == "BG-0002" and m[1] == "2")
    mem[at][2] = "Nguyễn"  # an unquoted comma in a name splits the cell in two
    mem[at].insert(3, " Văn B")
    r, read = classify(folder(tmp_path / "s", mem=mem), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    first = str(next(i for i, m in enumerate(mem) if m[0] == "BG-0002"))
    assert rej[["table", "row", "household_id", "problem"]].values.tolist()[:2] == [
        ["households", "2", "BG-0002", "member_rejected"], ["members", first, "BG-0002", "household_rejected"]]
    assert rej.loc[(rej["table"] == "members") & (rej["row"] == str(at)), "problem"].tolist() == ["too_many_fields"]
    assert "BG-0002" not in set(read["households"]["household_id"])  # not classified on the members left
    assert "Văn B" not in "".join(rej["value"])  # the split name is not echoed
    assert_nothing_lost(read)


def test_extra_empty_cells_at_the_end_of_rows_lose_nothing_and_are_accepted(tmp_path):
    hh = [HH[0]] + [r + ["", ""] for r in HH[1:]]
    raw = read_survey(folder(tmp_path / "s", hh))
    assert raw.refused is None and list(raw.households.columns) == HH[0]
    assert len(normalize_survey(raw, on=pd.Timestamp(ON).date()).rejects) == 0


def test_a_row_with_fewer_fields_than_the_header_has_empty_trailing_cells(tmp_path):
    hh = [list(r) for r in HH]
    hh[2] = hh[2][:-1]  # no previous_class
    raw = read_survey(folder(tmp_path / "s", hh))
    assert pd.isna(raw.households["previous_class"].iloc[1]) and raw.households["area"].iloc[1] == HH[2][4]


def test_an_unclosed_quote_with_a_long_row_is_a_usage_error_not_a_swallowed_file(tmp_path):
    text = csv_text(HH[:3]) + csv_text([HH[3] + ["x"]]) + '"BG-9,' + csv_text(HH[4:])
    with pytest.raises(UsageError, match="households.csv"):
        read_survey(folder(tmp_path / "s", hh_bytes=text.encode()))


def test_households_csv_being_a_folder_is_a_usage_error_naming_it(tmp_path):
    s = folder(tmp_path / "s")
    (s / "households.csv").unlink()
    (s / "households.csv").mkdir()
    r = run("classify", s, "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2 and "households.csv" in r.output and "not a file" in r.output


def _parquet_folder(path: Path, table: pa.Table) -> Path:
    path.mkdir()
    pq.write_table(table, path / "households.parquet")
    (path / "members.csv").write_text(csv_text(MEM), encoding="utf-8")
    return path


def _hh_frame() -> pd.DataFrame:
    return pd.DataFrame(HH[1:], columns=HH[0]).replace("", None)


@pytest.mark.parametrize("content", [b"", b"PAR1 not a parquet file PAR1"], ids=["0 bytes", "corrupt"])
def test_an_empty_or_corrupt_parquet_is_a_usage_error_naming_it(tmp_path, content):
    s = tmp_path / "s"
    s.mkdir()
    (s / "households.parquet").write_bytes(content)
    (s / "members.csv").write_text(csv_text(MEM), encoding="utf-8")
    r = run("classify", s, "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2, r.output
    assert "households.parquet" in r.output and "Internal error" not in r.output


def test_a_parquet_list_column_is_read_as_codes_joined_with_semicolons(tmp_path):
    df = _hh_frame()
    df["info_devices"] = [v.split(";") if v else [] for v in df["info_devices"].fillna("")]
    s = _parquet_folder(tmp_path / "s", pa.Table.from_pandas(df, preserve_index=False))
    out = normalize_survey(read_survey(s), on=pd.Timestamp(ON).date())
    assert len(out.rejects) == 0
    want = [";".join(sorted(v.split(";"))) if v else None for v in _hh_frame()["info_devices"]]
    assert [v if isinstance(v, str) else None for v in out.households["info_devices"]] == want


def test_a_parquet_struct_column_is_refused_naming_it(tmp_path):
    t = pa.Table.from_pandas(_hh_frame(), preserve_index=False)
    t = t.append_column("toa_do", pa.array([{"lat": 1.0, "lon": 2.0}] * len(t)))
    with pytest.raises(UsageError, match="toa_do") as e:
        read_survey(_parquet_folder(tmp_path / "s", t))
    assert "nested" in e.value.message


def test_duplicate_parquet_column_names_are_refused_naming_the_column(tmp_path):
    t = pa.Table.from_pandas(_hh_frame(), preserve_index=False)
    t = pa.Table.from_arrays(t.columns + [t.column("area")], names=t.column_names + ["area"])
    with pytest.raises(UsageError, match="'area'"):
        read_survey(_parquet_folder(tmp_path / "s", t))


# ------------------------------------------------------------------ item 4 (reader part): deep nesting

DEEP = "[" * 100_000 + "]" * 100_000


def _jsonl_lines() -> list[str]:
    return [line for line in (TINY.parent / "tiny.jsonl").read_text(encoding="utf-8").split("\n") if line]


def test_a_jsonl_line_nested_100000_deep_is_an_invalid_json_reject_of_its_own(tmp_path):
    lines = _jsonl_lines()
    lines.insert(1, '{"household_id": "D", "members": ' + DEEP + "}")
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r, read = classify(tmp_path / "s.jsonl", tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    bad = rej[rej["problem"] == "invalid_json"]
    assert bad[["row", "problem"]].values.tolist() == [["2", "invalid_json"]]
    assert "nested too deeply" in bad["value"].iloc[0] and len(bad["value"].iloc[0]) <= 120
    assert len(read["households"]) == len(lines) - 2  # the deep line and BG-0007 (invalid area)


def test_a_jsonl_value_holding_an_object_rejects_its_line_only(tmp_path):
    lines = _jsonl_lines()
    doc = json.loads(lines[0])
    doc["village"] = {"a": [1, 2]}
    lines[0] = json.dumps(doc, ensure_ascii=False)
    (tmp_path / "s.jsonl").write_text("\n".join(lines), encoding="utf-8")
    raw = read_survey(tmp_path / "s.jsonl")
    assert raw.problems[["row", "problem"]].values.tolist() == [[1, "invalid_json"]]
    assert "'village'" in raw.problems["value"].iloc[0]
    assert len(raw.households) == len(lines) - 1


def test_a_check_document_nested_100000_deep_is_a_data_error_naming_the_file(tmp_path):
    doc = tmp_path / "hh.json"
    doc.write_text('{"household_id": "H", "members": ' + DEEP + "}", encoding="utf-8")
    r = run("check", doc, "--on", ON, "--lang", "en")
    assert r.exit_code == 1, r.output
    assert "hh.json" in r.output and "nested too deeply" in r.output and len(r.output) < 2000


# ------------------------------------------------------------------ duplicate keys in JSON


def test_a_key_given_twice_in_a_jsonl_line_rejects_that_line_naming_the_key(tmp_path):
    lines = _jsonl_lines()
    lines[1] = lines[1][:-1] + ', "area": "urban"}'
    (tmp_path / "s.jsonl").write_text("\n".join(lines), encoding="utf-8")
    raw = read_survey(tmp_path / "s.jsonl")
    assert raw.problems[["row", "value", "problem"]].values.tolist() == [[2, "duplicate key 'area'", "invalid_json"]]
    assert json.loads(lines[1])["household_id"] not in set(raw.households["household_id"])


def test_a_key_given_twice_in_a_check_document_is_refused_naming_the_key(tmp_path):
    text = json.dumps(json.loads(_jsonl_lines()[0]), ensure_ascii=False)
    doc = tmp_path / "hh.json"
    doc.write_text(text[:-1] + ', "area": "urban"}', encoding="utf-8")
    r = run("check", doc, "--on", ON, "--lang", "en")
    assert r.exit_code == 1, r.output
    assert "hh.json" in r.output and "duplicate key 'area'" in r.output


# ------------------------------------------------------------------ item 8: JSONL lines end at "\n" only


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\u0085"])
def test_a_line_separator_inside_a_json_string_does_not_split_a_household(tmp_path, sep):
    lines = _jsonl_lines()
    doc = json.loads(lines[0])
    doc["village"] = f"Thôn{sep}Trại Mới"
    lines[0] = json.dumps(doc, ensure_ascii=False)
    assert sep in lines[0]
    (tmp_path / "s.jsonl").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    raw = read_survey(tmp_path / "s.jsonl")
    assert len(raw.problems) == 0
    assert raw.households["village"].iloc[0] == f"Thôn{sep}Trại Mới"
    assert raw.household_rows.tolist() == list(range(1, len(lines) + 1))


# ------------------------------------------------------------------ item 9: an ambiguous workbook


@pytest.mark.parametrize("first,second", [("households", "Hộ"), ("members", "Thành viên"), ("communes", "Xã")])
def test_a_workbook_with_two_sheets_for_one_table_is_refused_naming_both(tmp_path, first, second):
    sheets = {"households": HH, "members": MEM}
    sheets.setdefault(first, [["Mã xã"], ["07216"]])
    sheets[second] = sheets[first][:2]
    r = run("classify", workbook(tmp_path / "s.xlsx", sheets), "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2, r.output
    assert f"'{first}'" in r.output and f"'{second}'" in r.output


# ------------------------------------------------------------------ item 10: a duplicated header


@pytest.mark.parametrize("extra", [["area"], ["Ghi chú", "Ghi chú"]], ids=["a contract column", "an extra column"])
def test_an_exactly_duplicated_csv_header_is_refused(tmp_path, extra):
    hh = [HH[0] + extra] + [r + ["rural"] * len(extra) for r in HH[1:]]
    r = run("classify", folder(tmp_path / "s", hh), "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2, r.output
    assert f"'{extra[0]}' appears twice" in r.output and "households.csv" in r.output


def test_an_exactly_duplicated_xlsx_header_is_refused_naming_the_columns(tmp_path):
    mem = [MEM[0] + ["sex"]] + [r + ["male"] for r in MEM[1:]]
    with pytest.raises(UsageError, match="appears twice") as e:
        read_survey(workbook(tmp_path / "s.xlsx", {"households": HH, "members": mem}))
    assert "[members]" in e.value.message and "columns D and " in e.value.message


# ------------------------------------------------------------------ item 11: blank household ids


def _merged_members(blank_ids: bool = True) -> tuple[list[list], list[str]]:
    """The members sheet as Excel users lay it out: one Mã hộ cell merged over each household's rows."""
    rows, merges, start = [MEM[0]], [], None
    for i, m in enumerate(MEM[1:], start=2):
        first = i == 2 or MEM[i - 2][0] != m[0]
        rows.append([m[0] if first or not blank_ids else None] + m[1:])
        if first:
            start = i
        last = i == len(MEM) or MEM[i][0] != m[0]
        if last and i > start:
            merges.append(f"A{start}:A{i}")
    return rows, merges


def test_merged_ma_ho_cells_in_the_members_sheet_give_the_id_to_every_row(tmp_path):
    rows, merges = _merged_members()
    assert merges
    path = workbook(tmp_path / "s.xlsx", {"households": HH, "members": rows}, {"members": merges})
    r, read = classify(path, tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert len(read["households"]) == N_HH and len(read["members"]) == N_MEM
    assert read["members"]["household_id"].tolist() == [m[0] for m in MEM[1:]]


def test_blank_ma_ho_cells_that_are_not_merged_are_never_guessed(tmp_path):
    rows, _ = _merged_members()
    path = workbook(tmp_path / "s.xlsx", {"households": HH, "members": rows})
    r, read = classify(path, tmp_path / "o")
    assert r.exit_code == 1, r.output
    multi = {m[0] for m in MEM[1:] if sum(x[0] == m[0] for x in MEM[1:]) > 1}
    assert not multi & set(read["households"]["household_id"])  # never classified on their first member alone
    rej = read["rejects"]
    assert set(rej.loc[rej["table"] == "households", "problem"]) == {"member_rejected"}
    assert set(rej.loc[rej["household_id"] == "", "problem"]) == {"household_id_blank"}
    assert_nothing_lost(read)


def test_a_member_row_with_a_blank_household_id_rejects_the_household_above_it(tmp_path):
    mem = [list(r) for r in MEM]
    at = next(i for i, m in enumerate(mem) if m[0] == "BG-0003" and m[1] == "2")
    mem[at][0] = ""
    r, read = classify(folder(tmp_path / "s", mem=mem), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    blank = rej[rej["problem"] == "household_id_blank"]
    assert blank[["table", "row", "household_id", "member_no"]].values.tolist() == [["members", str(at), "", "2"]]
    assert "Mã hộ" in blank["message"].iloc[0] or "household id" in blank["message"].iloc[0]
    assert rej.loc[rej["table"] == "households", ["household_id", "problem"]].values.tolist() == [
        ["BG-0003", "member_rejected"]]
    assert "BG-0003" not in set(read["households"]["household_id"])
    assert_nothing_lost(read)


# ------------------------------------------------------------------ semicolon, UTF-16, title rows, blank rows


def _same_as_utf8_comma(tmp_path, survey: Path):
    _, want = classify(folder(tmp_path / "ref"), tmp_path / "o_ref")
    r, got = classify(survey, tmp_path / "o_got")
    assert r.exit_code == 0, r.output
    for name in ("households", "members"):
        pd.testing.assert_frame_equal(got[name], want[name])


def test_a_semicolon_delimited_csv_reads_as_the_comma_one(tmp_path):
    s = folder(tmp_path / "s", hh_bytes=csv_text(HH, ";").encode("utf-8-sig"),
               mem_bytes=csv_text(MEM, ";").encode("utf-8-sig"))
    assert b'"tv;basic_phone"' in (s / "households.csv").read_bytes()
    _same_as_utf8_comma(tmp_path, s)


def test_semicolons_inside_the_values_of_a_comma_csv_are_not_taken_for_the_delimiter(tmp_path):
    raw = read_survey(folder(tmp_path / "s"))
    assert list(raw.households.columns) == HH[0]
    assert raw.households["info_devices"].iloc[0] == HH[1][HH[0].index("info_devices")]


@pytest.mark.parametrize("codec,sep", [("utf-16", "\t"), ("utf-16", ","), ("utf-32", "\t")])
def test_a_utf16_or_utf32_csv_with_its_byte_order_mark_is_read(tmp_path, codec, sep):
    s = folder(tmp_path / "s", hh_bytes=csv_text(HH, sep).encode(codec), mem_bytes=csv_text(MEM, sep).encode(codec))
    _same_as_utf8_comma(tmp_path, s)


def test_a_utf16_csv_without_its_byte_order_mark_is_refused_saying_so(tmp_path):
    with pytest.raises(UsageError, match="UTF-16") as e:
        read_survey(folder(tmp_path / "s", hh_bytes=csv_text(HH).encode("utf-16-le")))
    assert "1258" not in e.value.message


def test_an_xlsx_with_a_title_above_the_header_is_read_and_rows_count_from_the_header(tmp_path):
    hh = [list(r) for r in HH]
    hh[4][4] = "Nông trại"  # invalid area: Excel row 7 (title in 1, blank 2, header 3)
    sheets = {"households": [["DANH SÁCH HỘ RÀ SOÁT NĂM 2024"], [None], *hh],
              "members": [["DANH SÁCH THÀNH VIÊN"], *MEM]}
    r, read = classify(workbook(tmp_path / "s.xlsx", sheets), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    assert rej.loc[rej["table"] == "households", ["row", "household_id", "problem"]].values.tolist() == [
        ["4", hh[4][0], "invalid_code"]]
    members_of = [str(i) for i, m in enumerate(MEM) if m[0] == hh[4][0]]
    assert rej.loc[rej["table"] == "members", "row"].tolist() == members_of
    assert_nothing_lost(read)


def test_an_xlsx_without_the_headers_in_its_first_rows_says_where_they_are_expected(tmp_path):
    sheets = {"households": [["DANH SÁCH"], ["Mã", "Xã"], ["H1", "X"]], "members": MEM}
    r = run("classify", workbook(tmp_path / "s.xlsx", sheets), "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2, r.output
    assert "household_id" in r.output and "row 1" in r.output


@pytest.mark.parametrize("blank", [8, 9])
def test_a_header_below_a_title_is_looked_for_in_the_first_10_rows_blank_ones_counted_in_a_csv_as_in_a_sheet(
        tmp_path, blank):
    """Title in row 1, `blank` empty rows, then the header: found in row 10, not in row 11 — CSV and xlsx alike."""
    title = ["DANH SÁCH HỘ RÀ SOÁT NĂM 2024"]
    csv_survey = folder(tmp_path / "csv", hh_bytes=(csv_text([title]) + "\r\n" * blank + csv_text(HH)).encode())
    xlsx_survey = workbook(tmp_path / "s.xlsx", {"households": [title, *[[None]] * blank, *HH], "members": MEM})
    for survey in (csv_survey, xlsx_survey):
        raw = read_survey(survey)
        if blank + 2 <= HEADER_SEARCH_ROWS:
            assert list(raw.households.columns) == HH[0], survey
            assert len(normalize_survey(raw, on=pd.Timestamp(ON).date()).rejects) == 0, survey
        else:
            with pytest.raises(UsageError, match="household_id"):
                normalize_survey(raw, on=pd.Timestamp(ON).date())


def test_blank_rows_above_a_table_are_skipped_before_its_header_is_looked_for_in_a_csv_as_in_a_sheet(tmp_path):
    hh = [list(r) for r in HH]
    hh[4][4] = "Nông trại"  # invalid area: the 4th row below the header
    blank = HEADER_SEARCH_ROWS + 2
    csv_survey = folder(tmp_path / "csv", hh_bytes=("\r\n" * blank + csv_text(hh)).encode())
    xlsx_survey = workbook(tmp_path / "s.xlsx", {"households": [*[[None]] * blank, *hh], "members": MEM})
    for survey in (csv_survey, xlsx_survey):
        out = normalize_survey(read_survey(survey), on=pd.Timestamp(ON).date())
        rej = out.rejects
        assert rej.loc[rej["table"] == "households", ["row", "problem"]].values.tolist() == [[4, "invalid_code"]], \
            survey


def test_blank_xlsx_rows_are_skipped_and_rows_below_keep_their_sheet_numbers(tmp_path):
    hh = [list(r) for r in HH]
    hh[5][4] = "Nông trại"
    hh_rows = hh[:3] + [[None] * len(HH[0]), [None, "  "]] + hh[3:]  # two blank rows at Excel rows 4-5
    mem_rows = MEM[:2] + [[None] * 3] + MEM[2:]
    r, read = classify(workbook(tmp_path / "s.xlsx", {"households": hh_rows, "members": mem_rows}), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    assert rej.loc[rej["table"] == "households", ["row", "problem"]].values.tolist() == [["7", "invalid_code"]]
    members_of = [str(i + 1 if i >= 2 else i) for i, m in enumerate(MEM) if m[0] == hh[5][0]]
    assert rej.loc[rej["table"] == "members", "row"].tolist() == members_of
    assert_nothing_lost(read)
    assert len(read["households"]) + 1 == N_HH and len(read["members"]) + len(members_of) == N_MEM


def test_blank_csv_lines_and_rows_of_empty_cells_are_skipped_but_counted(tmp_path):
    hh = [list(r) for r in HH]
    hh[5][4] = "Nông trại"
    text = csv_text(hh[:3]) + "\r\n" + "," * (len(HH[0]) - 1) + "\r\n" + csv_text(hh[3:])
    r, read = classify(folder(tmp_path / "s", hh_bytes=text.encode()), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    assert rej.loc[rej["table"] == "households", ["row", "problem"]].values.tolist() == [["7", "invalid_code"]]
    assert len(read["households"]) + 1 == N_HH


def test_the_template_workbook_filled_in_reads_back_with_its_rows(tmp_path):
    from openpyxl import load_workbook

    from tieuchi.contract.template import write_template

    path = write_template(tmp_path / "mau.xlsx")
    wb = load_workbook(path)
    raw = read_survey(path)
    for table, rows in (("households", HH), ("members", MEM)):
        ws = wb[table]
        headers = [c.value for c in ws[1]]
        cols = list(getattr(raw, table).columns)
        for r, values in enumerate(rows[1:], start=2):
            for name, v in zip(rows[0], values):
                if name in cols and v != "":
                    ws.cell(row=r, column=cols.index(name) + 1, value=v)
        assert headers[0] == "Mã hộ"
    wb.save(path)
    out = normalize_survey(read_survey(path), on=pd.Timestamp(ON).date())
    assert len(out.rejects) == 0 and len(out.households) == N_HH and len(out.members) == N_MEM


def test_a_csv_with_a_title_row_above_the_header_is_read_and_rows_count_from_the_header(tmp_path):
    hh = [list(r) for r in HH]
    hh[2][4] = "Nông trại"
    text = csv_text([["DANH SÁCH HỘ RÀ SOÁT"], []] + hh)
    r, read = classify(folder(tmp_path / "s", hh_bytes=text.encode("utf-8-sig")), tmp_path / "o")
    assert r.exit_code == 1, r.output
    rej = read["rejects"]
    assert rej.loc[rej["table"] == "households", ["row", "problem"]].values.tolist() == [["2", "invalid_code"]]
    assert_nothing_lost(read)


def test_with_strict_the_rejects_of_a_jsonl_survey_carry_its_line_numbers(tmp_path):
    lines = _jsonl_lines()
    lines.insert(0, "{broken")
    (tmp_path / "s.jsonl").write_text("\n".join(lines), encoding="utf-8")
    r = run("classify", tmp_path / "s.jsonl", "--on", ON, "--out", tmp_path / "o", "--strict")
    assert r.exit_code == 1, r.output
    rej = pd.read_csv(tmp_path / "o" / "rejects.csv", dtype=str)
    bad = next(i for i, line in enumerate(lines, start=1) if '"BG-0007"' in line)
    assert rej.loc[rej["table"] == "households", ["row", "problem"]].values.tolist() == [
        ["1", "invalid_json"], [str(bad), "invalid_code"]]


def test_the_report_finds_the_commune_of_a_rejected_household_below_a_blank_row(tmp_path):
    hh = [list(r) for r in HH]
    bad = next(i for i, r in enumerate(hh) if r[0] == "BG-0006")
    hh[bad][4] = "Nông trại"
    text = csv_text(hh[:2]) + "\r\n" + csv_text(hh[2:])  # a blank line: BG-0006 is data row bad + 1
    s = folder(tmp_path / "s", hh_bytes=text.encode())
    r = run("report", s, "--plan", "tan_yen_2024", "--on", ON, "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 1, r.output  # BG-0006 is rejected
    rates = pd.read_csv(tmp_path / "o" / "rates.csv", dtype=str)
    rejected = rates.drop_duplicates("scope").set_index("scope")["rejected"].to_dict()
    assert rejected["all"] == "1" and rejected[hh[bad][1]] == "1"
