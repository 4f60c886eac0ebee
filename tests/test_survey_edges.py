"""Surveys at the edges: nothing in them, nothing left after validation, a member number no integer holds, birth
dates and years at the limits — every command answers with the contract's exit codes and writes what it decided."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
DEMO = ROOT / "datasets" / "demo"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _header_only(tmp_path: Path) -> Path:
    d = tmp_path / "header_only"
    d.mkdir()
    for t in ("households", "members"):
        (d / f"{t}.csv").write_text((DEMO / f"{t}.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
                                    encoding="utf-8")
    return d


def _zero_row_parquet(tmp_path: Path) -> Path:
    d = tmp_path / "zero_rows"
    d.mkdir()
    for t in ("households", "members"):
        _read(DEMO / f"{t}.csv").iloc[:0].to_parquet(d / f"{t}.parquet")
    return d


def _template(tmp_path: Path) -> Path:
    path = tmp_path / "phieu.xlsx"
    assert run("template", "--out", path).exit_code == 0
    return path


EMPTY = {"a header-only CSV folder": _header_only, "a zero-row Parquet folder": _zero_row_parquet,
         "the empty workbook tieuchi template writes": _template}


def _commands(survey: Path, out: Path) -> dict[str, list]:
    return {
        "classify": ["classify", survey, "--on", "2024-12-01", "--out", out],
        "classify 2027": ["classify", survey, "--on", "2027-06-30", "--out", out, "--format", "xlsx"],
        "eligible": ["eligible", survey, "--on", "2024-12-01", "--out", out],
        "report": ["report", survey, "--plan", "tan_yen_2024", "--on", "2024-12-01", "--out", out],
        "diff": ["diff", survey, "--on", "2024-12-01", "--vs-on", "2027-06-30", "--out", out],
    }


@pytest.mark.parametrize("kind", list(EMPTY))
@pytest.mark.parametrize("command", ["classify", "classify 2027", "eligible", "report", "diff"])
def test_an_empty_survey_gives_exit_0_and_empty_results_in_every_command(tmp_path, kind, command):
    survey = EMPTY[kind](tmp_path)
    out = tmp_path / "out"
    r = run(*_commands(survey, out)[command])
    assert r.exit_code == 0, r.output
    if command == "classify":
        assert len(_read(out / "households.csv")) == 0 and len(_read(out / "rejects.csv")) == 0
        assert "household_class" in _read(out / "households.csv").columns


def _all_rejected(tmp_path: Path) -> Path:
    d = tmp_path / "all_rejected"
    shutil.copytree(TINY, d)
    hh = _read(d / "households.csv")
    hh["area"] = "vùng cao"  # not a code: every household rejected
    hh.to_csv(d / "households.csv", index=False)
    return d


@pytest.mark.parametrize("command", ["classify", "eligible", "report", "diff"])
def test_a_survey_whose_every_household_is_rejected_exits_1_with_every_reject_written(tmp_path, command):
    survey = _all_rejected(tmp_path)
    out = tmp_path / "out"
    r = run(*_commands(survey, out)[command])
    assert r.exit_code == 1, r.output
    rej = _read(out / "rejects.csv")
    n_hh, n_mem = len(_read(survey / "households.csv")), len(_read(survey / "members.csv"))
    assert set(rej.loc[rej["table"] == "households", "row"].astype(int)) == set(range(1, n_hh + 1))
    assert set(rej.loc[rej["table"] == "members", "row"].astype(int)) == set(range(1, n_mem + 1))


# ------------------------------------------------------------------ diff writes its rejects


def test_diff_on_a_survey_with_a_rejected_household_exits_1_and_writes_the_rejects(tmp_path):
    out = tmp_path / "out"
    r = run("diff", TINY, "--on", "2024-12-01", "--vs-on", "2027-06-30", "--out", out, "--lang", "en")
    assert r.exit_code == 1, r.output
    rej = _read(out / "rejects.csv")
    bad = rej[rej["table"] == "households"]
    assert list(bad["household_id"]) == ["BG-0007"] and list(bad["side"]) == ["both"]
    assert "rejected" in r.stderr and "BG-0007" in r.stderr


def test_diff_without_out_shows_the_rejects_and_still_exits_1(tmp_path):
    r = run("diff", TINY, "--on", "2024-12-01", "--vs-on", "2027-06-30", "--lang", "en")
    assert r.exit_code == 1, r.output
    assert "BG-0007" in r.stderr and "--out" in r.stderr


def test_diff_says_which_side_refused_a_row_when_only_one_did(tmp_path):
    d = tmp_path / "s"
    shutil.copytree(TINY, d)
    mem = _read(d / "members.csv")
    mem.loc[0, "birth_date"] = "2026-03-01"  # born after the first date, before the second
    mem.to_csv(d / "members.csv", index=False)
    r = run("diff", d, "--on", "2024-12-01", "--vs-on", "2027-06-30", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    rej = _read(tmp_path / "out" / "rejects.csv")
    future = rej[rej["problem"] == "birth_in_future"]
    assert list(future["side"]) == ["before"] and list(future["row"]) == ["1"]


# ------------------------------------------------------------------ member numbers no integer holds


@pytest.mark.parametrize("member_no", ["1.5", "99999999999999999999", "inf", "-inf", "9223372036854775808", "1e400"])
def test_a_member_number_that_is_no_whole_number_costs_its_household_only(tmp_path, member_no):
    d = tmp_path / "s"
    shutil.copytree(TINY, d)
    mem = _read(d / "members.csv")
    mem.loc[2, "member_no"] = member_no  # BG-0001's third member
    mem.to_csv(d / "members.csv", index=False)
    r = run("classify", d, "--on", "2024-12-01", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    hh, rej = _read(tmp_path / "out" / "households.csv"), _read(tmp_path / "out" / "rejects.csv")
    own = rej[(rej["table"] == "members") & (rej["row"] == "3")]
    shown = "'" + member_no if member_no.startswith("-") else member_no  # CSV text that begins like a formula
    assert list(own["column"]) == ["member_no"] and list(own["value"]) == [shown]
    assert own["member_no"].iloc[0] == ""  # no whole number to show: the raw text is in `value`
    assert "BG-0001" not in set(hh["household_id"]) and "BG-0002" in set(hh["household_id"])
    assert len(hh) + rej.loc[rej["table"] == "households", "row"].nunique() == len(_read(d / "households.csv"))


# ------------------------------------------------------------------ birth dates and years at the limits


def _one_household(birth: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    hh = pd.DataFrame([{"household_id": "H1", "commune_code": "07216", "area": "rural",
                        "income_per_capita_month": "1000000"}])
    mem = pd.DataFrame([{"household_id": "H1", "member_no": "1", "sex": "female", "birth_date": "1980-01-01"},
                        {"household_id": "H1", "member_no": "2", "sex": "male", **birth}])
    return hh, mem


@pytest.mark.parametrize("birth_date", ["1850-01-01", "0001-01-01", "1899-12-31"])
def test_a_birth_date_before_1900_is_out_of_range_as_a_birth_year_before_1900_is(birth_date):
    hh, mem = _one_household({"birth_date": birth_date})
    r = tieuchi.classify(hh, mem, on="2024-12-01")
    own = r.rejects[r.rejects["table"] == "members"]
    assert list(own[own["problem"] == "out_of_range"]["column"]) == ["birth_date"]
    assert len(r.households) == 0


def test_a_birth_date_on_1_january_1900_is_accepted():
    hh, mem = _one_household({"birth_date": "1900-01-01"})
    r = tieuchi.classify(hh, mem, on="2024-12-01")
    assert len(r.rejects) == 0 and r.members["age"].tolist() == [44, 124]


@pytest.mark.parametrize("on", ["2025-01-01", "2025-06-30"])
def test_a_member_known_by_a_birth_year_equal_to_the_reference_year_before_1_july_is_aged_0_not_minus_1(on):
    hh, mem = _one_household({"birth_year": "2025"})
    mem["birth_date"] = [mem.loc[0, "birth_date"], None]
    r = tieuchi.classify(hh, mem, on=on)
    assert len(r.rejects) == 0
    assert r.members["age"].tolist()[1] == 0


def test_a_member_known_by_a_birth_year_is_still_taken_as_born_on_1_july():
    hh, mem = _one_household({"birth_year": "2019"})
    mem["birth_date"] = [mem.loc[0, "birth_date"], None]
    assert tieuchi.classify(hh, mem, on="2025-06-30").members["age"].tolist()[1] == 5
    assert tieuchi.classify(hh, mem, on="2025-07-01").members["age"].tolist()[1] == 6


# ------------------------------------------------------------------ a row that contradicts itself about its dwelling


def _dwelling(has_dwelling, floor_area) -> tuple[pd.DataFrame, pd.DataFrame]:
    hh, mem = _one_household({"birth_date": "1990-01-01"})
    hh["has_dwelling"], hh["floor_area_m2"] = has_dwelling, floor_area
    return hh, mem


def test_no_dwelling_with_a_floor_area_above_0_is_rejected_as_a_contradiction():
    r = tieuchi.classify(*_dwelling("không", "60"), on="2024-12-01")
    own = r.rejects[r.rejects["table"] == "households"]
    assert list(own["problem"]) == ["dwelling_mismatch"] and list(own["column"]) == ["floor_area_m2"]
    assert len(r.households) == 0


@pytest.mark.parametrize("has_dwelling, floor_area, deprived", [("không", "0", True), ("không", None, True),
                                                                  ("có", "60", False), (None, "60", False)])
def test_a_dwelling_answer_and_a_floor_area_that_agree_are_accepted(has_dwelling, floor_area, deprived):
    r = tieuchi.classify(*_dwelling(has_dwelling, floor_area), on="2024-12-01")
    assert len(r.rejects) == 0
    assert bool(r.households["deprived_housing_area"].iloc[0]) is deprived


# ------------------------------------------------------------------ the API gives the rows the CLI gives


def test_classify_survey_gives_the_reader_s_rejects_and_the_user_s_rows_as_the_command_does(tmp_path):
    d = tmp_path / "s"
    shutil.copytree(TINY, d)
    lines = (d / "households.csv").read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # a blank line after the first household
    lines[4] += ",extra"  # the third household's row has one cell too many
    (d / "households.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = tieuchi.classify_survey(d, on="2024-12-01")
    cli = run("classify", d, "--on", "2024-12-01", "--out", tmp_path / "out")
    assert cli.exit_code == 1
    written = _read(tmp_path / "out" / "rejects.csv")
    api = r.rejects[["table", "row", "problem"]].astype(str).reset_index(drop=True)
    assert api.equals(written[["table", "row", "problem"]].reset_index(drop=True))
    own = r.rejects[r.rejects["table"] == "households"]
    assert ("4", "too_many_fields") in set(zip(own["row"].astype(str), own["problem"]))
    assert "8" in set(own["row"].astype(str))  # BG-0007, row 7 of the file, 8 with the blank row counted
    assert r.n_households_in == 7 and len(r.households) + own["row"].nunique() == 7
