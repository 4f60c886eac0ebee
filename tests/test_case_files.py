"""The shape of a case file, as pydantic models (tieuchi.casework.cases): every problem of its shape is reported
at once, each with its line, in both languages."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tieuchi.casework.cases import CaseFileShape, CaseShape, load_case_file
from tieuchi.errors import RulesError
from tieuchi.rulebook.source import rules_root

CASES = rules_root() / "poverty" / "vn_2022_2026" / "cases"


def case_file(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    shutil.copy(CASES / "_bases.yaml", folder / "_bases.yaml")
    text = (CASES / "housing_area.yaml").read_text("utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    p = folder / "housing_area.yaml"
    p.write_text(text, "utf-8")
    return p


def test_a_case_file_with_two_problems_of_shape_reports_both_with_their_lines(tmp_path):
    p = case_file(tmp_path, ("household: {floor_area_m2: 32}", "household: [1, 2]"),
                  ("expect: {deprived_housing_area: false, household_class: near_poor}", "expect: 5"))
    with pytest.raises(RulesError) as err:
        load_case_file(p)
    lines = err.value.message.splitlines()
    assert lines == [f"{p}:7: 'household' is a mapping of household fields, not [1, 2]",
                     f"{p}:8: 'expect' is a mapping of result columns to expected values, not 5"]
    assert err.value.vi.splitlines()[1] == f"{p}:8: 'expect' là một ánh xạ từ cột kết quả tới giá trị mong đợi, " \
                                           "không phải 5"
    assert err.value.code == "case_file_invalid" and err.value.hint.startswith("fix the case file")


def test_a_base_household_of_the_wrong_shape_is_refused_at_its_line_in_the_bases_file(tmp_path):
    p = case_file(tmp_path)
    bases = p.parent / "_bases.yaml"
    bases.write_text(bases.read_text("utf-8").replace("default:", "default: 5\nother:", 1), "utf-8")
    with pytest.raises(RulesError) as err:
        load_case_file(p)
    assert err.value.message.startswith(f"{bases}:") and "base 'default' is a mapping of household fields, not 5" \
        in err.value.message


def test_the_keys_a_case_file_and_a_case_allow_are_those_of_their_models():
    assert sorted(CaseFileShape.model_fields) == ["cases", "extends", "household", "on", "rule"]
    assert sorted(CaseShape.model_fields) == ["covers", "expect", "household", "members", "name", "on"]


def test_every_shipped_case_file_fits_the_models():
    files = sorted(p for p in rules_root().rglob("cases/*.yaml") if not p.name.startswith("_"))
    assert files and all(load_case_file(p) for p in files)
