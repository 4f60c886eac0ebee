"""`tieuchi.explain` (one household from a batch result) and the household document model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import tieuchi
from tieuchi.casework.cases import tables
from tieuchi.contract.household import DocumentError, document, parse_household

ROOT = Path(__file__).resolve().parents[1]
POOR = ROOT / "datasets" / "examples" / "one_poor_household.json"
ON = "2024-12-01"


def load() -> dict:
    return json.loads(POOR.read_text(encoding="utf-8"))


def classify_docs(*docs, lang="vi"):
    hh, mem = tables([document(parse_household(d)) for d in docs])
    return tieuchi.classify(hh, mem, on=ON, lang=lang)


def other_household() -> dict:
    doc = load()
    doc["household_id"] = "BG-0002"
    doc["income_per_capita_month"] = 5_000_000
    doc["floor_area_m2"] = 20
    return doc


# ------------------------------------------------------------------ explain


def test_explain_picks_one_household_out_of_a_batch_result():
    result = classify_docs(load(), other_household())
    ex = tieuchi.explain(result, "BG-0002")
    assert ex["household_id"] == "BG-0002" and ex["household_class"] == "other"
    assert tieuchi.explain(result, "BG-0001")["household_class"] == "poor"


def test_tieuchi_explain_is_the_function_even_after_its_module_is_imported():
    import tieuchi.outputs.explanation as module

    assert tieuchi.explain is module.explain
    assert tieuchi.explain(classify_docs(load()), "BG-0001")["regime"] == "vn_2022_2026"


def test_a_member_level_indicator_names_the_member_and_the_values_that_decided_it():
    ex = tieuchi.explain(classify_docs(load()), "BG-0001")
    hi = ex["indicators"]["health_insurance"]
    assert hi["deprived"] is True
    assert hi["members"] == [{"member_no": 1, "condition": True,
                              "values": {"age": 44, "has_health_insurance": False}}]
    ae = ex["indicators"]["adult_education"]["members"]
    assert [m["member_no"] for m in ae] == [3] and ae[0]["values"]["highest_qualification"] == "primary"


def test_a_household_level_indicator_shows_the_fields_read_and_the_threshold():
    doc = other_household()  # 20 m² for 4 people: 5 m² per person, below 8
    ex = tieuchi.explain(classify_docs(doc), "BG-0002")
    area = ex["indicators"]["housing_area"]
    assert area["deprived"] is True
    check = next(c for c in area["household"] if c.get("field") == "floor_area_m2")
    assert check == {"field": "floor_area_m2", "value": 20.0, "op": "lt", "threshold": 8,
                     "param": "min_floor_area_per_person", "per": "member_count", "per_value": 4, "value_per": 5.0,
                     "result": True}


def test_the_dependants_share_is_shown_against_its_threshold():
    ex = tieuchi.explain(classify_docs(load()), "BG-0001")
    share = ex["indicators"]["dependants"]["aggregates"][0]
    assert share == {"kind": "share_of_members", "true": 1, "unknown": 0, "members": 4, "result": False,
                     "op": "gt", "threshold": 0.5}


def test_an_unknown_indicator_lists_the_empty_inputs_that_would_decide_it():
    doc = load()
    doc["water_source"] = None
    doc["members"][0]["has_health_insurance"] = None
    ex = tieuchi.explain(classify_docs(doc), "BG-0001")
    assert ex["indicators"]["water"]["deprived"] is None
    assert ex["indicators"]["water"]["undecided_by"] == ["water_source"]
    assert ex["indicators"]["health_insurance"]["undecided_by"] == ["has_health_insurance"]
    assert ex["unknown_count"] == 2


def test_reasons_give_the_rule_with_its_citation_and_income_against_the_line_in_both_languages():
    result = classify_docs(load())
    vi = tieuchi.explain(result, "BG-0001")["reasons"]
    assert "[điểm a khoản 2 Điều 3 Nghị định 07/2021/NĐ-CP]" in vi[0]
    assert vi[1].startswith("Thu nhập bình quân 1.200.000 đồng/người/tháng, từ chuẩn nghèo 1.500.000 đồng")
    assert any(s.startswith("Thiếu hụt chỉ số bảo hiểm y tế") and "(thành viên số 1)" in s for s in vi)
    en = tieuchi.explain(result, "BG-0001", lang="en")["reasons"]
    assert "Decree 07/2021/NĐ-CP, Article 3(2)(a)" in en[0] and en[1].startswith("Income 1,200,000 VND")


def test_score_a_stands_in_for_income_when_income_is_empty():
    doc = load()
    doc["income_per_capita_month"] = None
    doc["income_score_a"] = 120
    ex = tieuchi.explain(classify_docs(doc), "BG-0001")
    assert ex["household_class"] == "poor"
    assert "điểm A là 120, từ ngưỡng 140 điểm (nông thôn) trở xuống" in ex["reasons"][1]


def test_members_carry_their_results_and_names_only_when_asked():
    result = classify_docs(load())
    ex = tieuchi.explain(result, "BG-0001")
    assert ex["members"][0] == {"member_no": 1, "age": 44, "working_age": True, "dependant": False,
                                "low_income_worker": None}
    assert tieuchi.explain(result, "BG-0001", show_names=True)["members"][0]["full_name"] == "Nguyễn Văn An"


def test_an_id_not_in_the_result_is_a_usage_error():
    with pytest.raises(tieuchi.UsageError):
        tieuchi.explain(classify_docs(load()), "nope")


# ------------------------------------------------------------------ the document model


def test_the_document_model_accepts_text_cells_and_vietnamese_aliases_as_the_survey_reader_does():
    doc = load()
    doc.update(area="Nông thôn", income_per_capita_month="1.200.000", has_dwelling="có", info_devices=["Ti vi"])
    doc["members"][0].update(sex="Nam", birth_date="12/03/1980")
    got = document(parse_household(doc))
    assert (got["area"], got["income_per_capita_month"], got["has_dwelling"], got["info_devices"]) == \
        ("rural", 1200000, True, "tv")
    assert (got["members"][0]["sex"], got["members"][0]["birth_date"]) == ("male", "1980-03-12")


def test_every_problem_of_a_document_is_reported_at_once_with_its_field():
    doc = load()
    doc["floor_area_m2"] = -1
    doc["members"][3]["birth_date"] = None
    doc["income_per_capita"] = 3
    with pytest.raises(DocumentError) as info:
        parse_household(doc, "en")
    where = dict(info.value.problems)
    assert "below the minimum" in where["floor_area_m2"]
    assert "birth_date, birth_year" in where["members[3] (member_no 4)"]
    assert "did you mean 'income_per_capita_month'?" in where["income_per_capita"]


def test_a_household_without_members_is_refused():
    doc = load()
    doc["members"] = []
    with pytest.raises(DocumentError) as info:
        parse_household(doc)
    assert info.value.problems[0][0] == "members"


def test_the_model_has_a_field_for_every_column_of_the_contract():
    from tieuchi.contract.columns import columns
    from tieuchi.contract.household import Household, Member

    assert set(Household.model_fields) == set(columns("households")) | {"members"}
    assert set(Member.model_fields) == set(columns("members")) - {"household_id"}
