"""Several survey files in one run (issue 12 item 7): `SURVEY` given several times, or a folder of workbooks / CSV
pairs (one per commune), read as one survey; ids duplicated across files rejected naming the files; every reject
naming its file, with the row in that file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.cli import app
from tieuchi.contract.read import read_survey, survey_files
from tieuchi.contract.validate import normalize_survey
from tieuchi.contract.write import prepare_rejects
from tieuchi.errors import UsageError
from tieuchi.outputs.rates import rejected_households

ON = "2024-12-01"
DEMO = Path(__file__).resolve().parents[1] / "datasets" / "demo"


def _demo():
    hh = pd.read_csv(DEMO / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(DEMO / "members.csv", dtype=str, keep_default_na=False)
    return hh, mem


def _part(hh, mem, codes):
    """The demo's households of communes `codes`, and their members."""
    h = hh[hh["commune_code"].isin(codes)]
    return h, mem[mem["household_id"].isin(h["household_id"])]


def _workbook(path: Path, hh: pd.DataFrame, mem: pd.DataFrame) -> Path:
    with pd.ExcelWriter(path) as w:
        hh.to_excel(w, sheet_name="households", index=False)
        mem.to_excel(w, sheet_name="members", index=False)
    return path


def _pair(folder: Path, hh: pd.DataFrame, mem: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    hh.to_csv(folder / "households.csv", index=False)
    mem.to_csv(folder / "members.csv", index=False)
    return folder


def _sorted(df: pd.DataFrame, key) -> pd.DataFrame:
    return df.astype("string").sort_values(key).reset_index(drop=True)


HH = pd.DataFrame({"household_id": ["A1", "A2"], "commune_code": ["X1", "X1"], "area": ["rural", "rural"]})
MEM = pd.DataFrame({"household_id": ["A1", "A2"], "member_no": ["1", "1"], "sex": ["male", "female"],
                    "birth_date": ["1980-01-01", "1985-01-01"]})


def _small(hid, code="X1", members=None):
    hh = pd.DataFrame({"household_id": hid, "commune_code": [code] * len(hid), "area": ["rural"] * len(hid)})
    mids = members if members is not None else hid
    mem = pd.DataFrame({"household_id": mids, "member_no": ["1"] * len(mids), "sex": ["male"] * len(mids),
                        "birth_date": ["1980-01-01"] * len(mids)})
    return hh, mem


def test_two_workbooks_give_the_results_of_one_merged_workbook_row_for_row(tmp_path):
    hh, mem = _demo()
    a, b = _part(hh, mem, ["07210", "07213"]), _part(hh, mem, ["07216", "07219", "07222"])
    merged = tieuchi.classify_survey(_workbook(tmp_path / "all.xlsx", pd.concat([a[0], b[0]]),
                                               pd.concat([a[1], b[1]])), on=ON)
    files = [_workbook(tmp_path / "a.xlsx", *a), _workbook(tmp_path / "b.xlsx", *b)]
    both = tieuchi.classify_survey(files, on=ON)
    cols = [c for c in merged.households.columns if c != "reasons"]
    assert len(both.households) == len(merged.households) > 2000
    pd.testing.assert_frame_equal(_sorted(both.households_with_reasons()[cols + ["reasons"]], ["household_id"]),
                                  _sorted(merged.households_with_reasons()[cols + ["reasons"]], ["household_id"]))
    pd.testing.assert_frame_equal(_sorted(both.members, ["household_id", "member_no"]),
                                  _sorted(merged.members, ["household_id", "member_no"]))
    key = ["table", "household_id", "member_no", "column", "problem"]
    assert len(both.rejects) == len(merged.rejects) > 0
    pd.testing.assert_frame_equal(_sorted(both.rejects[key], key), _sorted(merged.rejects[key], key))
    assert both.n_households_in == merged.n_households_in


def test_a_folder_of_three_csv_pairs_is_read_as_one_survey_in_the_order_of_its_paths(tmp_path):
    hh, mem = _demo()
    for i, codes in enumerate([["07216"], ["07210", "07213"], ["07219", "07222"]]):
        _pair(tmp_path / "district" / f"xa_{2 - i}", *_part(hh, mem, codes))
    (tmp_path / "district" / "notes.txt").write_text("not a survey", encoding="utf-8")
    raw = read_survey(tmp_path / "district")
    assert [Path(s.file).parent.name for s in raw.sources["households"]] == ["xa_0", "xa_1", "xa_2"]
    assert [Path(s.file).name for s in raw.sources["members"]] == ["members.csv"] * 3
    sizes = [len(_part(hh, mem, c)[0]) for c in (["07219", "07222"], ["07210", "07213"], ["07216"])]
    assert np.bincount(raw.source_index["households"]).tolist() == sizes
    assert len(raw.households) == len(hh)
    # each file's rows are numbered from 1 within that file
    starts = np.cumsum([0] + sizes[:-1])
    assert raw.household_rows[starts].tolist() == [1, 1, 1]
    assert raw.source_of("households", int(starts[1])).file.endswith("xa_1/households.csv")


def test_a_folder_holding_households_csv_stays_one_survey_with_no_file_column(tmp_path):
    hh, mem = _demo()
    folder = _pair(tmp_path / "one", *_part(hh, mem, ["07210"]))
    raw = read_survey(folder)
    assert not raw.several_files and len(raw.sources["households"]) == 1
    result = tieuchi.classify_survey(folder, on=ON)
    assert len(result.rejects) and "file" not in result.rejects.columns


def test_a_household_id_in_two_files_is_rejected_in_both_naming_both_files(tmp_path):
    a = _workbook(tmp_path / "xa_a.xlsx", *_small(["H1", "H2"], "X1"))
    b = _workbook(tmp_path / "xa_b.xlsx", *_small(["H3", "H1"], "X2"))
    result = tieuchi.classify_survey([a, b], on=ON)
    assert sorted(result.households["household_id"]) == ["H2", "H3"]
    rej = result.rejects
    dup = rej[rej["table"] == "households"]
    assert dup["problem"].tolist() == ["household_id_in_several_files"] * 2
    assert dup["file"].tolist() == [str(a), str(b)]
    assert dup["row"].tolist() == [1, 2]  # H1 is row 1 of xa_a and row 2 of xa_b
    assert dup["value"].tolist() == [f"{a}; {b}"] * 2
    members = rej[rej["table"] == "members"]
    assert members["problem"].tolist() == ["household_rejected"] * 2
    assert members["file"].tolist() == [str(a), str(b)]
    shown = prepare_rejects(rej, "vi")
    assert shown.columns.tolist()[:10] == ["table", "row", "household_id", "member_no", "column", "value", "problem",
                                           "file", "cell", "message"]
    # each file's own sheet and row: H1 is in row 2 of xa_a's sheet and row 3 of xa_b's (header in row 1)
    assert shown.loc[shown["table"] == "households", "cell"].str.extract(r"(\d+)$")[0].tolist() == ["2", "3"]
    assert "mã hộ này có ở nhiều tệp" in shown["message"].iloc[0]


def test_an_id_duplicated_within_one_file_of_several_keeps_its_own_problem(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["H1", "H1"], members=["H1"]))
    b = _workbook(tmp_path / "b.xlsx", *_small(["H2"]))
    rej = tieuchi.classify_survey([a, b], on=ON).rejects
    assert rej.loc[rej["table"] == "households", "problem"].tolist() == ["duplicate_household_id"] * 2


def test_every_reject_names_its_file_and_the_row_in_that_file(tmp_path):
    hh_a, mem_a = _small(["A1", "A2", "A3"])
    hh_b, mem_b = _small(["B1", "B2", "B3"])
    hh_b.loc[2, "area"] = "Nông trại"  # B3: row 3 of b's households
    mem_a.loc[1, "sex"] = "?"  # A2's member: row 2 of a's members
    a, b = _pair(tmp_path / "a", hh_a, mem_a), _workbook(tmp_path / "b.xlsx", hh_b, mem_b)
    rej = tieuchi.classify_survey([b, a], on=ON).rejects  # read in order of their paths: a, then b.xlsx
    got = rej[["file", "table", "row", "household_id", "problem"]].astype(str).values.tolist()
    assert got == [
        [str(a / "households.csv"), "households", "2", "A2", "member_rejected"],
        [str(a / "members.csv"), "members", "2", "A2", "invalid_code"],
        [str(b), "households", "3", "B3", "invalid_code"],
        [str(b), "members", "3", "B3", "household_rejected"],
    ]
    assert rejected_households(tieuchi.classify_survey([a, b], on=ON), None) == {"all": 2}


def test_rejected_households_are_counted_per_commune_by_their_file_and_row(tmp_path):
    hh_a, mem_a = _small(["A1", "A2"], "X1")
    hh_b, mem_b = _small(["B1", "B2"], "X2")
    hh_b.loc[0, "area"] = "?"  # row 1 of b: the same row number as nothing rejected in a
    hh_a.loc[1, "area"] = "?"  # row 2 of a
    result = tieuchi.classify_survey([_pair(tmp_path / "a", hh_a, mem_a), _pair(tmp_path / "b", hh_b, mem_b)], on=ON)
    assert rejected_households(result, result.households_by_row) == {"all": 2, "X1": 1, "X2": 1}


def test_a_member_whose_household_is_only_in_another_file_is_an_orphan_of_its_own_file(tmp_path):
    # b's second member row says household A1, which is a household of a only: it is not A1's member
    hh_b, mem_b = _small(["B1"], members=["B1", "A1"])
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    b = _workbook(tmp_path / "b.xlsx", hh_b, mem_b)
    result = tieuchi.classify_survey([a, b], on=ON)
    assert sorted(result.households["household_id"]) == ["A1", "B1"]
    assert result.members.groupby("household_id").size().to_dict() == {"A1": 1, "B1": 1}
    rej = result.rejects
    assert rej[["file", "table", "row", "household_id", "problem"]].astype(str).values.tolist() == [
        [str(b), "members", "2", "A1", "unknown_household"]]


def test_a_blank_household_id_at_the_top_of_a_file_does_not_reject_the_previous_files_last_household(tmp_path):
    hh_b, mem_b = _small(["B1"], members=[None, "B1"])
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    b = _pair(tmp_path / "b", hh_b, mem_b)
    result = tieuchi.classify_survey([a, b], on=ON)
    assert sorted(result.households["household_id"]) == ["A1", "B1"]
    rej = result.rejects
    assert rej[["file", "row", "problem"]].astype(str).values.tolist() == [
        [str(b / "members.csv"), "1", "household_id_blank"]]
    # normalize_survey sees the same survey as classify_survey
    assert normalize_survey(read_survey([a, b])).rejects["problem"].tolist() == ["household_id_blank"]


def test_a_damaged_second_workbook_fails_the_run_naming_it_before_anything_is_read(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(b"this is not a workbook")
    with pytest.raises(UsageError, match="b.xlsx") as e:
        survey_files([a, bad])
    assert e.value.code == "workbook_unreadable"
    r = CliRunner().invoke(app, ["classify", str(a), str(bad), "--on", ON, "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "b.xlsx" in r.output and not (tmp_path / "out").exists()


def test_a_second_file_that_cannot_be_read_fails_naming_it(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    b = _pair(tmp_path / "b", *_small(["B1"]))
    (b / "members.csv").write_bytes(b"household_id,member_no,sex,birth_date\nB1,1,Nam,1980\xe0\xff\n")  # not UTF-8
    with pytest.raises(UsageError, match="members.csv") as e:
        read_survey([a, b])
    assert e.value.code == "survey_not_utf8"


def test_a_file_missing_a_required_column_is_a_usage_error_naming_it(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    hh_b, mem_b = _small(["B1"])
    b = _workbook(tmp_path / "b.xlsx", hh_b.drop(columns="area"), mem_b)
    with pytest.raises(UsageError, match="b.xlsx.*area") as e:
        read_survey([a, b])
    assert e.value.code == "column_required_missing"


def test_the_same_survey_given_twice_is_refused(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1"]))
    with pytest.raises(UsageError) as e:
        survey_files([a, tmp_path / "." / "a.xlsx"])
    assert e.value.code == "survey_given_twice"


def test_a_folder_with_no_survey_in_it_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="households.csv") as e:
        read_survey(tmp_path / "empty")
    assert e.value.code == "survey_table_missing"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_classify_a_xlsx_b_xlsx_end_to_end_exits_as_the_contract_says(tmp_path):
    a = _workbook(tmp_path / "a.xlsx", *_small(["A1", "A2"], "X1"))
    b = _workbook(tmp_path / "b.xlsx", *_small(["B1"], "X2"))
    r = _run("classify", a, b, "--on", ON, "--out", tmp_path / "ok")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "ok" / "households.csv", dtype=str, encoding="utf-8-sig")
    assert out["household_id"].tolist() == ["A1", "A2", "B1"]
    rejects = pd.read_csv(tmp_path / "ok" / "rejects.csv", dtype=str, encoding="utf-8-sig")
    assert len(rejects) == 0

    c = _workbook(tmp_path / "c.xlsx", *_small(["A2"], "X3"))  # A2 again, in another file
    r = _run("classify", a, b, c, "--on", ON, "--out", tmp_path / "dup")
    assert r.exit_code == 1, r.output
    rejects = pd.read_csv(tmp_path / "dup" / "rejects.csv", dtype=str, encoding="utf-8-sig")
    assert set(rejects["file"]) == {str(a), str(c)}
    assert "household_id_in_several_files" in set(rejects["problem"])
    assert "a.xlsx" in r.output and "c.xlsx" in r.output  # the screen's problems name the files

    r = _run("classify", a, tmp_path / "missing.xlsx", "--on", ON, "--out", tmp_path / "no")
    assert r.exit_code == 2 and "missing.xlsx" in r.output


def test_every_command_that_reads_a_survey_takes_several_files(tmp_path):
    hh, mem = _demo()
    a = _workbook(tmp_path / "a.xlsx", *_part(hh, mem, ["07210"]))
    b = _workbook(tmp_path / "b.xlsx", *_part(hh, mem, ["07213"]))
    r = _run("eligible", a, b, "--on", ON, "--out", tmp_path / "el")
    assert r.exit_code == 1, r.output  # the demo's rejected rows
    assert "file" in pd.read_csv(tmp_path / "el" / "rejects.csv", dtype=str, encoding="utf-8-sig").columns
    r = _run("diff", a, b, "--on", ON, "--vs-on", "2025-06-30", "--out", tmp_path / "df")
    assert r.exit_code in (0, 1), r.output
    rej = pd.read_csv(tmp_path / "df" / "rejects.csv", dtype=str, encoding="utf-8-sig")
    assert set(rej["file"]) <= {str(a), str(b)} and len(rej)


def test_an_out_folder_inside_a_folder_of_surveys_is_refused(tmp_path):
    district = tmp_path / "district"
    district.mkdir()
    _workbook(district / "a.xlsx", *_small(["A1"]))
    _workbook(district / "b.xlsx", *_small(["B1"]))
    r = _run("classify", district, "--on", ON, "--out", district / "out")
    assert r.exit_code == 2 and "out_overwrites_input" in r.output
    assert not (district / "out").exists()
    pair = _pair(tmp_path / "pairs" / "xa", *_small(["C1"]))
    r = _run("classify", district, tmp_path / "pairs", "--on", ON, "--out", pair)  # over a survey's own tables
    assert r.exit_code == 2 and "out_overwrites_input" in r.output
    r = _run("classify", district, tmp_path / "pairs", "--on", ON, "--out", tmp_path / "ok")
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "ok" / "households.csv", encoding="utf-8-sig")) == 3


def test_an_id_in_three_files_is_rejected_in_all_three_and_its_members_are_of_their_own_files(tmp_path):
    files = [_workbook(tmp_path / f"{n}.xlsx", *_small(["H1", f"{n.upper()}1"])) for n in ("a", "b", "c")]
    rej = tieuchi.classify_survey(files, on=ON).rejects
    hh = rej[rej["table"] == "households"]
    assert hh["problem"].tolist() == ["household_id_in_several_files"] * 3
    assert hh["value"].tolist() == ["; ".join(map(str, files))] * 3
    members = rej[rej["table"] == "members"]
    assert members["problem"].tolist() == ["household_rejected"] * 3  # none an orphan of its file
    assert members["file"].tolist() == [str(f) for f in files]


def test_a_broken_line_of_the_second_jsonl_file_is_a_reject_of_that_files_line(tmp_path):
    line = '{{"household_id": "{h}", "commune_code": "X1", "area": "rural", "members": [{{"member_no": 1, ' \
           '"sex": "male", "birth_date": "1980-01-01"}}]}}\n'
    (tmp_path / "a.jsonl").write_text(line.format(h="A1") + line.format(h="A2"), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(line.format(h="B1") + "{not json\n" + line.format(h="B2"), encoding="utf-8")
    result = tieuchi.classify_survey(tmp_path, on=ON)  # a folder of .jsonl files
    assert sorted(result.households["household_id"]) == ["A1", "A2", "B1", "B2"]
    assert result.rejects[["file", "row", "problem"]].astype(str).values.tolist() == [
        [str(tmp_path / "b.jsonl"), "2", "invalid_json"]]
    assert result.n_households_in == 5
