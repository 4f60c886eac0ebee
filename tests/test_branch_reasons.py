"""Reasons per branch of an `any:` and questions that cannot apply (`not_applicable:`), declared in the rules: lists,
`tieuchi check` and counts show the branch that applied; a blank answer to a question that cannot apply never makes
anyone undecided, in either engine."""
from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tieuchi
import tieuchi.outputs.explanation
from tieuchi.api import classify
from tieuchi.casework.cases import tables
from tieuchi.errors import RulesError
from tieuchi.outputs.eligible import COUNT_LABELS, eligibility_counts, eligibility_lists, render_counts
from tieuchi.rulebook.folders import load_regime
from tieuchi.rulebook.source import rules_root
from tieuchi.rulebook.tree import reasoned_branches

ON = dt.date(2025, 6, 30)  # Decree 30/2025 in force: the low-income workers' branch of p4_1 applies
RULES = tieuchi.load_rules(ON)
ITEMS = RULES.regime.program.items


def _reason(item: str, k: int, lang: str = "vi") -> str:
    """The reason the rules give the k-th reasoned branch of an item (placeholders filled as lists fill them)."""
    from tieuchi.engine.reasons import filled
    return filled(getattr(reasoned_branches(ITEMS[item].eligible_when)[k].reason, lang), RULES.params)


def family(**household) -> dict:
    """A rural family of four (near-poor at this income), not in a poor commune; members as `members=` overrides."""
    members = household.pop("members", {})
    doc = {
        "household_id": "F1", "commune_code": "X01", "village": "Thôn Đông", "area": "rural",
        "income_per_capita_month": 1_000_000, "floor_area_m2": 60, "has_dwelling": True, "foundation_durable": True,
        "frame_wall_durable": True, "roof_durable": True, "water_source": "piped", "toilet_type": "septic",
        "info_devices": "tv;smartphone", "poor_commune": False, "poor_district": False,
        "main_livelihood": "agriculture", "independent_since": "2010-01-01", "received_housing_support": False,
        "members": [
            {"member_no": 1, "sex": "male", "birth_date": "1984-03-10", "disability": "none", "can_work": True,
             "activity": "self_employed", "has_health_insurance": True, "enrolled": False,
             "highest_qualification": "upper_secondary", "uses_internet": True, "ethnic_minority": False,
             "meritorious_family": False},
            {"member_no": 2, "sex": "female", "birth_date": "1986-07-20", "disability": "none", "can_work": True,
             "activity": "self_employed", "has_health_insurance": True, "enrolled": False,
             "highest_qualification": "upper_secondary", "uses_internet": True, "ethnic_minority": False,
             "meritorious_family": False, "pregnant_or_nursing": False},
            {"member_no": 3, "sex": "female", "birth_date": "2014-09-01", "disability": "none",
             "has_health_insurance": True, "stunted": False, "underweight": False, "enrolled": True,
             "school_level": "primary", "uses_internet": False, "ethnic_minority": False, "meritorious_family": False,
             "pregnant_or_nursing": False},
        ],
    }
    doc.update(household)
    for no, changes in members.items():
        doc["members"][no - 1].update(changes)
    return doc


def run(docs: list[dict], engine: str = "vectorized"):
    hh, mem = tables([copy.deepcopy(d) for d in docs])
    return classify(hh, mem, on=ON, lang="vi", engine=engine)


def member(result, hid: str, no: int) -> dict:
    m = result.members
    return m[(m["household_id"].astype(str) == hid) & (m["member_no"] == no)].iloc[0].to_dict()


# -------------------------------------------------------------------------------------- questions that cannot apply


WOMAN_70 = family(household_id="W70", income_per_capita_month=3_000_000, poor_commune=True,
                  members={2: {"birth_date": "1954-06-01", "pregnant_or_nursing": None}})
WOMAN_25 = family(household_id="W25", income_per_capita_month=3_000_000, poor_commune=True,
                  members={2: {"birth_date": "2000-01-15", "pregnant_or_nursing": None}})


@pytest.mark.parametrize("engine", ["vectorized", "durable"])
def test_a_70_year_old_woman_with_a_blank_pregnant_or_nursing_is_decided_and_a_25_year_old_is_not(engine):
    if engine == "durable":
        pytest.importorskip("durable.engine")
    r = run([WOMAN_70, WOMAN_25], engine)
    old, young = member(r, "W70", 2), member(r, "W25", 2)
    assert (old["age"], young["age"]) == (71, 25)
    assert old["eligible_p3_2_nutrition"] is False  # decided: not supported
    assert young["eligible_p3_2_nutrition"] is None  # undecided: her answer is missing


def test_what_would_decide_the_item_never_asks_a_question_that_cannot_apply():
    # a household of unknown class (no income, no score): the 70-year-old woman is not asked about pregnancy
    doc = copy.deepcopy(WOMAN_70)
    doc.update(household_id="U70", income_per_capita_month=None)
    r = run([doc, WOMAN_25])
    ex = tieuchi.explain(r, "U70")
    assert "pregnant_or_nursing" not in ex["eligibility"]["items"]["p3_2_nutrition"].get("undecided_by", [])
    ex = tieuchi.explain(r, "W25")
    assert ex["eligibility"]["items"]["p3_2_nutrition"]["undecided_by"] == ["pregnant_or_nursing"]


def test_counts_split_the_undecided_into_class_unknown_and_an_answer_missing():
    unknown = copy.deepcopy(WOMAN_25)
    unknown.update(household_id="U25", income_per_capita_month=None)
    counts = eligibility_counts(run([WOMAN_25, unknown, WOMAN_70]), item="p3_2_nutrition")
    row = counts.iloc[0]
    # W25: the class is known, her answer is missing; U25: the child and the woman of 25 wait for the class (the man
    # is decided: neither a child nor a woman); W70: decided
    assert (row["undecided_answer_missing"], row["undecided_class_unknown"]) == (1, 2)
    assert row["undecided"] == row["undecided_answer_missing"] + row["undecided_class_unknown"]
    assert set(COUNT_LABELS) <= set(counts.columns)
    assert COUNT_LABELS["undecided_class_unknown"]["vi"] == "Chưa xác định: chưa rõ phân loại hộ"


def test_the_counts_on_screen_show_both_causes_of_undecided():
    from rich.console import Console
    counts = eligibility_counts(run([WOMAN_25]), item="p3_2_nutrition")
    console = Console(width=200, record=True)
    console.print(render_counts(counts, "vi", RULES))
    text = console.export_text()
    assert "1 = 0 + 1" in text and "Chưa xác định = chưa rõ phân loại hộ + thiếu thông tin" in text


# -------------------------------------------------------------------------------------- a reason per branch


def test_each_branch_reason_appears_for_a_household_that_meets_only_that_branch():
    # p4_1: member 1 of a near-poor family (program branch); member 1 of an average-living family at Decree 30/2025
    # (low-income worker branch) — the second has no status that qualifies the household
    near_poor = family(household_id="NP")
    low_income = family(household_id="LI", income_per_capita_month=1_800_000)
    r = run([near_poor, low_income])
    lists = eligibility_lists(r, item="p4_1_vocational")["p4_1_vocational"]
    by_row = {(h, int(n)): text for h, n, text in zip(lists["household_id"], lists["member_no"], lists["reason"])}
    program, worker = _reason("p4_1_vocational", 0), _reason("p4_1_vocational", 1)
    assert by_row[("NP", 1)] == f"Thành viên hộ cận nghèo: {program}"
    assert by_row[("LI", 1)] == worker[:1].upper() + worker[1:]
    assert "đủ điều kiện theo quy định" not in " ".join(by_row.values()).lower()


def test_a_pregnant_woman_of_a_poor_commune_gets_her_branch_reason_in_the_list_and_in_check():
    doc = family(household_id="PW", income_per_capita_month=3_000_000, poor_commune=True,
                 members={2: {"pregnant_or_nursing": True}})
    r = run([doc])
    lists = eligibility_lists(r, item="p3_2_nutrition", lang="en")["p3_2_nutrition"]
    assert list(lists["reason"]) == [_reason("p3_2_nutrition", 1, "en")[:1].upper() + _reason("p3_2_nutrition", 1,
                                                                                                "en")[1:]]
    ex = tieuchi.explain(r, "PW", lang="vi")
    assert ex["eligibility"]["items"]["p3_2_nutrition"]["member_reasons"] == [
        {"member_no": 2, "reason": _reason("p3_2_nutrition", 1)}]
    text = "\n".join(tieuchi.outputs.explanation.eligibility_text(ex, RULES.regime, "vi"))
    assert f"thành viên số 2 — {_reason('p3_2_nutrition', 1)}" in text


def test_a_household_item_shows_the_branch_that_holds_in_check():
    # p5_housing: a poor household in a poor district with 3 non-durable structures, never supported
    doc = family(household_id="H5", income_per_capita_month=900_000, poor_district=True, foundation_durable=False,
                 frame_wall_durable=False, roof_durable=False)
    r = run([doc])
    assert bool(r.households["eligible_p5_housing"].iloc[0]) is True
    ex = tieuchi.explain(r, "H5")
    assert ex["eligibility"]["items"]["p5_housing"]["reason"] == _reason("p5_housing", 1)
    assert ex["indicators"]["housing_quality"]["reason"].startswith("nhà ở không bền chắc")


def test_a_branch_reason_fills_its_parameter_from_the_rules_at_the_date():
    assert _reason("p3_2_nutrition", 0) == \
        f"trẻ em dưới {RULES.params['nutrition_child_age_below']} tuổi của hộ thuộc đối tượng"


def test_on_the_demo_no_listed_row_has_the_empty_reason_and_p3_2_undecided_fell(tmp_path):
    survey = tieuchi.read_survey(Path(__file__).resolve().parents[1] / "datasets" / "demo")
    r = tieuchi.classify_survey(survey, on=ON)
    lists = eligibility_lists(r)
    empty = {i: int(df["reason"].str.startswith("Đủ điều kiện theo quy định").sum()) for i, df in lists.items()}
    assert not any(empty.values()), empty
    counts = eligibility_counts(r, item="p3_2_nutrition")
    assert counts["undecided"].sum() < 200  # 689 before the rules declared where pregnant_or_nursing applies


# -------------------------------------------------------------------------------------- the loader refuses


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(rules_root(), root, ignore=shutil.ignore_patterns("cases"))
    return root / "poverty" / "vn_2022_2026"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_loader_refuses_a_branch_reason_with_an_unknown_placeholder(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p3_2_nutrition.yaml",
          "trẻ em dưới {nutrition_child_age_below} tuổi", "trẻ em dưới {nutrition_child_age_belo} tuổi")
    with pytest.raises(RulesError, match=r"branch reason names unknown parameter '\{nutrition_child_age_belo\}'") \
            as e:
        load_regime(folder)
    assert e.value.code == "parameter_unknown" and "nutrition_child_age_below" in e.value.hint


def test_the_loader_refuses_an_applicability_condition_on_an_unknown_field(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p3_2_nutrition.yaml",
          "- {field: sex, eq: male}", "- {field: gender, eq: male}")
    with pytest.raises(RulesError, match="unknown field 'gender'") as e:
        load_regime(folder)
    assert e.value.code == "field_unknown"


def test_the_loader_refuses_an_applicability_citation_of_an_unknown_instrument(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p3_2_nutrition.yaml",
          "citation: {instrument: qd_90_2022, note: \"Dự án 3, Tiểu dự án 2: phụ nữ",
          "citation: {instrument: qd_90_2O22, note: \"Dự án 3, Tiểu dự án 2: phụ nữ")
    with pytest.raises(RulesError, match="unknown instrument 'qd_90_2O22'") as e:
        load_regime(folder)
    assert e.value.code == "citation_unknown_instrument"


def test_the_loader_refuses_a_reason_nothing_would_show(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "derived" / "working_age.yaml", "    - {field: age, ge: {param: min_working_age}}",
          "    - {field: age, ge: {param: min_working_age}, reason: {vi: đủ tuổi, en: old enough}}")
    with pytest.raises(RulesError, match="not a branch of an 'any:'") as e:
        load_regime(folder)
    assert e.value.code == "reason_not_on_a_branch"


def test_reasoned_branches_skip_member_aggregations_and_keep_the_rules_order():
    branches = reasoned_branches(ITEMS["p5_housing"].eligible_when)
    assert [b.reason.en.split(" with")[-1] for b in branches][1:] == [" a non-durable dwelling",
                                                                     " less than {min_floor_area_per_person} m² "
                                                                     "per person"]
    assert not reasoned_branches(RULES.regime.indicators["nutrition"].deprived_when)
    assert np.all([b.reason is not None for b in branches])


# -------------------------------------------------------------------------------------- both engines, undecided_by


@pytest.mark.parametrize("engine", ["vectorized", "durable"])
def test_both_engines_take_a_blank_answer_that_cannot_apply_as_no_and_never_list_it_in_undecided_by(tmp_path, engine):
    """A regime whose water question does not apply in towns (an edit for this test): an urban household with no
    water answer is decided, a rural one is not and is asked it — the same in both engines."""
    if engine == "durable":
        pytest.importorskip("durable.engine")
    folder = _copy(tmp_path)
    _edit(folder / "indicators" / "water.yaml", "  {field: water_source, not_in: {param: safe_water_sources}}",
          "  field: water_source\n  not_in: {param: safe_water_sources}\n"
          "  not_applicable: {when: {field: area, eq: urban}, citation: {instrument: nd_07_2021}}")
    town = family(household_id="T", area="urban", water_source=None, income_per_capita_month=None,
                  income_score_a=None)
    village = family(household_id="V", water_source=None, income_per_capita_month=None, income_score_a=None)
    hh, mem = tables([town, village])
    r = classify(hh, mem, on=dt.date(2024, 12, 1), rules=folder, lang="vi", engine=engine)
    rows = {str(h): (d, u) for h, d, u in zip(r.households["household_id"], r.households["deprived_water"],
                                             r.households["undecided_by"])}
    assert rows["T"][0] is not pd.NA and not rows["T"][0]  # decided: not deprived
    assert "water_source" not in str(rows["T"][1]).split(";")
    assert rows["V"][0] is pd.NA and "water_source" in str(rows["V"][1]).split(";")
