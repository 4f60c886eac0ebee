"""`tieuchi test`: the YAML cases as a gate for a rule change — passed / failed, changed outcomes, exit 4."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tieuchi.casework.cases import case_files, load_case_file
from tieuchi.cli import app
from tieuchi.rulebook.source import rules_root

OVERLAY = rules_root() / "overlays" / "example_higher_rural_line.yaml"
REGIME = rules_root() / "poverty" / "vn_2022_2026"
PROGRAM = rules_root() / "programs" / "ntp_2021_2025"
SHARED = sorted(p.parent for p in (rules_root() / "shared").glob("*/shared.yaml"))  # every regime loads them
WATER = REGIME / "cases" / "water.yaml"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def n_cases(*roots: Path) -> int:
    return sum(len(load_case_file(f)) for root in roots for f in case_files(root))


def test_the_shipped_cases_all_pass_and_the_command_exits_0():
    r = run("test", "--lang", "en")
    assert r.exit_code == 0, r.output
    n = n_cases(rules_root())
    assert n >= 300
    assert f"tieuchi test: {n} cases" in r.stdout and f"Passed {n}, failed 0" in r.stdout
    assert "All passed." in r.stdout


def test_the_report_is_in_vietnamese_by_default():
    r = run("test", WATER)
    assert r.exit_code == 0, r.output
    assert f"Đạt {len(load_case_file(WATER))}, không đạt 0" in r.stdout and "Tất cả đều đạt." in r.stdout


def test_a_candidate_overlay_raising_the_rural_line_reports_the_outcomes_it_changes_and_exits_4():
    r = run("test", "--rules", OVERLAY, "--lang", "en")
    assert r.exit_code == 4, r.output
    out = r.stdout
    assert "Candidate rules:" in out and "+example_higher_rural_line@" in out
    assert "Expected outcomes the change alters (base → candidate)" in out
    # the case a rural line of 1,800,000 turns over: 1 đồng above 1,500,000 with 3 deprivations is now poor
    case = "A rural household 1 đồng above the income line with 3 deprivations is average-living"
    assert case in out.split("Expected outcomes the change alters")[1]
    assert "household_class: 'average_living' → 'poor'" in out
    assert "income_line: 1500000 → 1800000" in out
    assert "household_class: expected 'average_living', got 'poor'" in out  # and it is listed as failed


def test_changed_outcomes_are_exactly_the_cases_the_candidate_makes_fail():
    r = run("test", "--rules", OVERLAY, "--format", "json")
    assert r.exit_code == 4, r.output
    data = json.loads(r.stdout)
    in_window = sum(1 for root in SHARED for f in case_files(root) for c in load_case_file(f)
                    if c.on <= dt.date(2026, 12, 31))  # the shared sets' cases under the candidate's standard
    assert data["cases"] == n_cases(REGIME, PROGRAM) + in_window and data["not_run"] == 0
    failed = {(f["file"], f["line"]) for f in data["failures"]}
    changed = {(c["file"], c["line"]) for c in data["changed"]}
    assert failed == changed and len(failed) == data["failed"] > 0
    assert data["passed"] + data["failed"] == data["cases"]
    for c in data["changed"]:
        assert c["base"] != c["candidate"]
    # nothing the line does not reach: no water, sanitation or housing case changes
    assert not {Path(f).name for f, _ in changed} & {"water.yaml", "sanitation.yaml", "housing_area.yaml"}
    # a change by member is named with its member
    assert any(c["member_no"] is not None for c in data["changed"])


def test_path_restricts_which_cases_run(tmp_path):
    r = run("test", WATER, REGIME / "cases" / "sanitation.yaml", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["cases"] == len(load_case_file(WATER)) + len(load_case_file(REGIME / "cases" / "sanitation.yaml"))
    # the line does not reach the water cases: the candidate passes them and changes nothing
    r = run("test", WATER, "--rules", OVERLAY, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["cases"] == len(load_case_file(WATER)) and data["changed"] == [] and data["failed"] == 0
    # a folder: every case file under it (a cases/ folder itself too)
    r = run("test", PROGRAM, "--format", "json")
    assert json.loads(r.stdout)["cases"] == n_cases(PROGRAM)
    r = run("test", PROGRAM / "cases", "--format", "json")
    assert json.loads(r.stdout)["cases"] == n_cases(PROGRAM)


def test_the_json_report_has_counts_failures_changed_outcomes_and_cases_not_run():
    r = run("test", "--rules", OVERLAY, "--format", "json")
    data = json.loads(r.stdout)
    assert set(data) == {"rules", "rules_versions", "base_versions", "cases", "passed", "failed", "not_run",
                         "failures", "changed", "not_run_cases"}
    assert data["rules"] == str(OVERLAY)
    assert data["rules_versions"][0].startswith("vn_2022_2026@") and "+example_higher_rural_line@" in \
        data["rules_versions"][0]
    assert data["base_versions"] == [data["rules_versions"][0].split("+")[0]]
    failure = data["failures"][0]
    assert set(failure) == {"file", "line", "case", "rule", "on", "differences"}
    assert set(failure["differences"][0]) == {"field", "member_no", "expected", "got", "problem"}
    assert set(data["changed"][0]) == {"file", "line", "case", "rule", "on", "field", "member_no", "base",
                                       "candidate"}
    shipped = json.loads(run("test", WATER, "--format", "json").stdout)
    assert shipped["rules"] == "shipped" and shipped["base_versions"] is None


CASE_FILE = """rule: water
on: 2024-12-01
extends: default
cases:
  - name: A household drinking bottled water is not deprived on water
    household: {water_source: bottled}
    expect: {deprived_water: false}
  - name: A household drinking surface water is deprived on water (stated wrongly here on purpose)
    household: {water_source: surface_water}
    expect: {deprived_water: false}
"""


def test_a_failing_case_is_reported_with_file_line_expected_and_got_and_exits_4(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "_bases.yaml").write_text((REGIME / "cases" / "_bases.yaml").read_text(encoding="utf-8"), "utf-8")
    (cases / "water.yaml").write_text(CASE_FILE, encoding="utf-8")
    r = run("test", cases / "water.yaml", "--lang", "en")
    assert r.exit_code == 4, r.output
    assert "Passed 1, failed 1" in r.stdout
    assert "water.yaml:8: A household drinking surface water is deprived on water" in r.stdout
    assert "deprived_water: expected false, got true" in r.stdout
    r = run("test", cases)
    assert r.exit_code == 4 and "mong đợi false, nhận được true" in r.stdout


@pytest.mark.parametrize("args, code, words", [
    (["no/such/folder"], 2, "no such file or folder"),
    ([REGIME / "cases" / "_bases.yaml"], 2, "not a case file"),
    (["--rules", "no_such_overlay"], 2, "no shipped overlay of that id"),
    (["--format", "xml"], 2, "--format 'xml' is not valid"),
])
def test_what_cannot_be_run_is_a_usage_error(args, code, words):
    r = run("test", *args, "--lang", "en")
    assert r.exit_code == code, r.output
    assert words in r.stderr and "Traceback" not in r.output


def test_an_invalid_candidate_overlay_exits_3(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(OVERLAY.read_text(encoding="utf-8").replace("overlay: example_higher_rural_line", "overlay: bad")
                 .replace("value: {rural: 1800000", "value: {rural: true"), encoding="utf-8")
    r = run("test", "--rules", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert "is not an amount in VND per person per month" in r.stderr
