"""The `tieuchi` command: exit codes (contract §3), output files (§2), options and messages."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.cli import app
from tieuchi.contract.workbook import read_workbook

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
RESULT_HEAD = ["household_id", "regime", "rules_version", "reference_date", "household_class", "income_line",
               "deprivation_count", "unknown_count"]
INDICATORS = ["employment", "dependants", "nutrition", "health_insurance", "adult_education", "child_schooling",
              "housing_quality", "housing_area", "water", "sanitation", "telecom", "information_devices"]
MEMBER_HEAD = ["household_id", "member_no", "age", "working_age", "dependant", "low_income_worker"]
REJECT_HEAD = ["table", "row", "household_id", "member_no", "column", "value", "problem"]

def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture()
def clean(tmp_path) -> Path:
    """The tiny survey without its households that have data problems: every row is accepted."""
    out = tmp_path / "clean"
    out.mkdir()
    probe = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "probe")
    bad = set(_read(tmp_path / "probe" / "rejects.csv")["household_id"])
    for name in ("households.csv", "members.csv"):
        df = _read(TINY / name)
        df[~df["household_id"].isin(bad)].to_csv(out / name, index=False)
    assert probe.exit_code in (0, 1)
    return out


# ------------------------------------------------------------------ exit codes


def test_a_survey_with_no_problems_exits_0_and_writes_the_three_files(clean, tmp_path):
    r = run("classify", clean, "--on", "2025-01-01", "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"households.csv", "members.csv", "rejects.csv"}
    assert len(_read(tmp_path / "out" / "rejects.csv")) == 0


def test_a_survey_with_rejected_rows_exits_1_and_still_writes_the_other_households(tmp_path):
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    hh, rej = _read(tmp_path / "out" / "households.csv"), _read(tmp_path / "out" / "rejects.csv")
    assert len(hh) > 0 and len(rej) > 0
    assert "rejects.csv" in r.output


def test_every_input_household_is_in_the_results_or_the_rejects_exactly_once(tmp_path):
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out")
    ids_in = set(_read(TINY / "households.csv")["household_id"])
    accepted = set(_read(tmp_path / "out" / "households.csv")["household_id"])
    rej = _read(tmp_path / "out" / "rejects.csv")
    rejected = set(rej.loc[rej["table"] == "households", "household_id"]) | set(rej["household_id"])
    assert accepted | (rejected & ids_in) == ids_in
    assert not accepted & rejected


def test_giving_neither_on_nor_for_year_is_a_usage_error(tmp_path):
    r = run("classify", TINY, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "--on" in r.stderr and "--for-year" in r.stderr
    assert "Traceback" not in r.output


def test_giving_both_on_and_for_year_is_a_usage_error(tmp_path):
    r = run("classify", TINY, "--on", "2025-01-01", "--for-year", "2025", "--out", tmp_path / "out")
    assert r.exit_code == 2


def test_a_malformed_date_is_a_usage_error(tmp_path):
    r = run("classify", TINY, "--on", "2025-13-45", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "2025-13-45" in r.stderr


def test_a_date_no_regime_covers_is_a_usage_error_that_names_the_windows(tmp_path):
    r = run("classify", TINY, "--on", "2019-06-01", "--out", tmp_path / "out", "--lang", "en")
    assert r.exit_code == 2
    assert "2019-06-01" in r.stderr and "vn_2022_2026" in r.stderr and "2022-01-01" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_survey_is_a_usage_error(tmp_path):
    r = run("classify", tmp_path / "nowhere", "--on", "2025-01-01", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "nowhere" in r.stderr


def test_a_required_column_missing_from_a_table_is_a_usage_error_that_names_it(tmp_path):
    survey = tmp_path / "survey"
    survey.mkdir()
    _read(TINY / "households.csv").drop(columns=["area"]).to_csv(survey / "households.csv", index=False)
    shutil.copy(TINY / "members.csv", survey / "members.csv")
    r = run("classify", survey, "--on", "2025-01-01", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "area" in r.stderr


def test_invalid_rules_exit_3(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    rules = tmp_path / "rules" / "poverty" / "vn_2022_2026"
    with open(rules / "ruleset.yaml", "a", encoding="utf-8") as f:
        f.write("\nno_such_key: 1\n")
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--rules", rules)
    assert r.exit_code == 3, r.output


def test_an_unexpected_error_is_exit_2_naming_the_input_asking_for_a_report_without_a_traceback(tmp_path,
                                                                                                monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("tieuchi.api.classify", boom)
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--lang", "en")
    assert r.exit_code == 2  # the contract's codes only: the input could not be processed
    assert "please report" in r.stderr and "Traceback" not in r.stderr
    assert str(TINY) in r.stderr and "RuntimeError" in r.stderr
    assert "kaboom" not in r.stderr  # an exception's text may quote the data (names): only with TIEUCHI_DEBUG
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", env={"TIEUCHI_DEBUG": "1"})
    assert r.exit_code == 2 and "Traceback" in r.stderr


def test_a_failure_after_the_rows_were_checked_still_writes_the_rejects(tmp_path, monkeypatch):
    import tieuchi.contract.write as write

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(write, "write_results", boom)
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--lang", "en")
    assert r.exit_code == 2, r.output
    rej = _read(tmp_path / "out" / "rejects.csv")
    assert "BG-0007" in set(rej["household_id"])  # the tiny survey's invalid household
    assert "rejects.csv" in r.stderr and "RuntimeError" in r.stderr


def test_a_household_tieuchi_itself_fails_on_costs_that_household_only(tmp_path, monkeypatch):
    import tieuchi.engine.vectorized as vectorized

    real = vectorized.classify_tables

    def fails_on_bg_0002(rules, hh, mem, pos, birth):  # a defect that only one household's data triggers
        if (hh["household_id"].astype(str) == "BG-0002").any():
            raise ZeroDivisionError("a defect")
        return real(rules, hh, mem, pos, birth)

    monkeypatch.setattr(vectorized, "classify_tables", fails_on_bg_0002)
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--lang", "en")
    assert r.exit_code == 1, r.output
    hh, mem, rej = (_read(tmp_path / "out" / f"{t}.csv") for t in ("households", "members", "rejects"))
    assert list(hh["household_id"]) == ["BG-0001", "BG-0003", "BG-0004", "BG-0005", "BG-0006"]  # input order
    internal = rej[rej["problem"] == "internal_error"]
    assert list(internal["household_id"]) == ["BG-0002"] and list(internal["row"]) == ["2"]
    assert "defect" in internal["message"].iloc[0]
    members_in = _read(TINY / "members.csv")
    assert len(mem) + (rej["table"] == "members").sum() == len(members_in)
    assert set(rej.loc[rej["table"] == "members", "household_id"]) == {"BG-0002", "BG-0007"}


def test_finding_the_household_tieuchi_fails_on_keeps_a_blank_id_member_with_the_household_above_it(tmp_path,
                                                                                                 monkeypatch):
    import tieuchi.engine.vectorized as vectorized

    real = vectorized.classify_tables

    def fails_on_bg_0003(rules, hh, mem, pos, birth):
        if (hh["household_id"].astype(str) == "BG-0003").any():
            raise ZeroDivisionError("a defect")
        return real(rules, hh, mem, pos, birth)

    survey = tmp_path / "s"
    shutil.copytree(TINY, survey)
    mem = _read(survey / "members.csv")
    mem.loc[1, "household_id"] = ""  # BG-0001's second member: attached to BG-0001 by its place, which is rejected
    mem.to_csv(survey / "members.csv", index=False)
    plain = run("classify", survey, "--on", "2025-01-01", "--out", tmp_path / "plain")
    monkeypatch.setattr(vectorized, "classify_tables", fails_on_bg_0003)
    r = run("classify", survey, "--on", "2025-01-01", "--out", tmp_path / "out")
    assert plain.exit_code == r.exit_code == 1, r.output
    hh, rej = _read(tmp_path / "out" / "households.csv"), _read(tmp_path / "out" / "rejects.csv")
    assert "BG-0001" not in set(hh["household_id"]) and "BG-0003" not in set(hh["household_id"])
    plain_rej = _read(tmp_path / "plain" / "rejects.csv")
    same = rej[rej["household_id"] != "BG-0003"][["table", "row", "problem"]].reset_index(drop=True)
    assert same.equals(plain_rej[["table", "row", "problem"]].reset_index(drop=True))


def test_an_unknown_format_or_language_is_a_usage_error(tmp_path):
    assert run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "o", "--format", "json").exit_code == 2
    assert run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "o", "--lang", "fr").exit_code == 2


# ------------------------------------------------------------------ strict


def test_strict_refuses_a_survey_with_any_bad_row_writing_only_rejects(tmp_path):
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--strict")
    assert r.exit_code == 1, r.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["rejects.csv"]
    assert len(_read(tmp_path / "out" / "rejects.csv")) > 0


def test_strict_on_a_clean_survey_classifies_as_usual(clean, tmp_path):
    r = run("classify", clean, "--on", "2025-01-01", "--out", tmp_path / "out", "--strict")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "households.csv").exists()


# ------------------------------------------------------------------ outputs


def test_output_files_start_with_the_contract_columns(tmp_path):
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out")
    hh = _read(tmp_path / "out" / "households.csv")
    head = RESULT_HEAD + [f"deprived_{i}" for i in INDICATORS] + ["undecided_by", "provisional", "reasons"]
    assert list(hh.columns[: len(head)]) == head
    assert set(hh["reference_date"]) == {"2025-01-01"}
    assert set(hh[[f"deprived_{i}" for i in INDICATORS]].stack()) <= {"true", "false", ""}
    assert list(_read(tmp_path / "out" / "members.csv").columns[: len(MEMBER_HEAD)]) == MEMBER_HEAD
    assert list(_read(tmp_path / "out" / "rejects.csv").columns[: len(REJECT_HEAD)]) == REJECT_HEAD


def test_for_year_2025_gives_the_same_results_as_on_2025_01_01(tmp_path):
    run("classify", TINY, "--for-year", "2025", "--out", tmp_path / "a")
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "b")
    for name in ("households.csv", "members.csv", "rejects.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_parquet_format_writes_parquet_files(tmp_path):
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--format", "parquet")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"households.parquet", "members.parquet", "rejects.parquet"}
    assert list(pd.read_parquet(tmp_path / "out" / "households.parquet").columns[:8]) == RESULT_HEAD


def test_xlsx_format_writes_one_workbook_with_three_sheets(tmp_path):
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out", "--format", "xlsx")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.xlsx"]
    sheets = read_workbook(tmp_path / "out" / "results.xlsx")
    assert list(sheets) == ["households", "members", "rejects"]


def test_full_name_is_written_only_with_show_names(tmp_path):
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "hidden")
    assert "full_name" not in _read(tmp_path / "hidden" / "members.csv").columns
    run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "shown", "--show-names")
    assert "full_name" in _read(tmp_path / "shown" / "members.csv").columns


def test_names_never_reach_the_screen_without_show_names(tmp_path):
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out")
    names = set(_read(TINY / "members.csv")["full_name"]) - {""}
    assert not any(n in r.output for n in names)


def test_the_summary_is_printed_in_vietnamese_by_default_and_in_english_on_request(tmp_path):
    vi = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "vi")
    assert "Tỷ lệ hộ nghèo" in vi.stdout and "Mẫu số" in vi.stdout
    en = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "en", "--lang", "en")
    assert "Poor-household rate" in en.stdout and "Denominator" in en.stdout


# ------------------------------------------------------------------ help, version, template


def test_version_prints_the_package_version():
    r = run("--version")
    assert r.exit_code == 0 and tieuchi.__version__ in r.stdout


@pytest.mark.parametrize("command", [[], ["classify"], ["template"]])
def test_every_command_has_help(command):
    r = run(*command, "--help")
    assert r.exit_code == 0 and "Usage" in r.stdout


def test_template_writes_a_workbook_that_reads_back(tmp_path):
    pytest.importorskip("tieuchi.contract.template")
    from tieuchi.contract.read import read_survey

    out = tmp_path / "mau.xlsx"
    r = run("template", "--out", out)
    assert r.exit_code == 0, r.output
    assert out.exists()
    read_survey(out)


def test_a_jsonl_survey_is_classified_too(tmp_path):
    jsonl = TINY.parent / "tiny.jsonl"
    r = run("classify", jsonl, "--on", "2025-01-01", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output  # one household of the seven has an invalid area
    from_jsonl = _read(tmp_path / "out" / "households.csv")
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "csv")
    from_csv = _read(tmp_path / "csv" / "households.csv")
    assert len(from_jsonl) == 6
    assert list(from_jsonl["household_class"]) == list(from_csv["household_class"])


def test_a_date_no_regime_covers_is_explained_in_vietnamese_by_default_and_in_english_on_request(tmp_path):
    vi = run("classify", TINY, "--on", "2019-06-01", "--out", tmp_path / "a")
    en = run("classify", TINY, "--on", "2019-06-01", "--out", tmp_path / "b", "--lang", "en")
    assert vi.exit_code == en.exit_code == 2
    assert "không có bộ tiêu chí nào áp dụng cho ngày 2019-06-01" in vi.output
    assert "vn_2022_2026: 2022-01-01 → 2026-12-31" in vi.output
    assert "no regime covers 2019-06-01" in en.output


def test_a_run_whose_stderr_is_not_a_terminal_says_each_stage_once_on_a_line_of_its_own(tmp_path):
    r = run("classify", TINY, "--on", "2025-01-01", "--out", tmp_path / "out")
    stages = [x for x in r.stderr.splitlines() if x.startswith("tieuchi: ")]
    assert stages == ["tieuchi: đọc dữ liệu…", "tieuchi: kiểm tra…", "tieuchi: phân loại…", "tieuchi: ghi kết quả…"]
    r = run("eligible", TINY, "--on", "2025-01-01", "--out", tmp_path / "lists", "--lang", "en")
    stages = [x for x in r.stderr.splitlines() if x.startswith("tieuchi: ")]
    assert stages == ["tieuchi: reading…", "tieuchi: checking…", "tieuchi: classifying…", "tieuchi: writing results…"]
