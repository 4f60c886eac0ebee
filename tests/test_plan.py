"""The Tân Yên 2024 plan as data: its targets and budget load, add up, and cross-check against the regime."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tieuchi.rulebook import vocabulary as m
from tieuchi.errors import RulesError, UsageError
from tieuchi.rulebook.load import load_rules
from tieuchi.rulebook.plans import check_plan, load_plan, rules_with_plan
from tieuchi.rulebook.source import rules_root

PLAN = rules_root() / "plans" / "tan_yen_2024.yaml"
DAY = dt.date(2024, 12, 31)


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN)


@pytest.fixture(scope="module")
def rules():
    return load_rules(DAY)


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped plan with one text replaced (exactly once)."""
    text = PLAN.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    out = tmp_path / "tan_yen_2024.yaml"
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines, 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def test_the_shipped_plan_loads_and_every_target_is_measurable_under_its_regime(plan, rules):
    assert plan.id == "tan_yen_2024" and plan.scope == "all" and plan.regimes == ["vn_2022_2026"]
    assert rules.regime.id in plan.regimes
    assert check_plan(plan, rules) == {}
    inst = rules.regime.instruments[plan.citation.instrument]
    assert inst.number is None and inst.issuer.vi == "Ủy ban nhân dân huyện Tân Yên"


def test_every_target_of_section_ii_is_encoded_with_the_plan_s_numbers(plan):
    expected = {  # id: (section, unit, comparator, value, requires)
        "poor_rate": ("II.1", "households", "le", 1.41, []),
        "models_completed": ("II.1", "models", "ge", 100, ["program_records"]),
        "agri_capacity_support": ("II.1", "persons", "ge", 65, ["need", "support_records"]),
        "stable_employment": ("II.1", "households", "ge", 80, []),
        "officials_trained": ("II.1", "officials", "ge", 100, ["program_records"]),
        "job_support": ("II.2", "persons", "ge", 100, ["need", "support_records"]),
        "health_insurance": ("II.2", "persons", "ge", 100, []),
        "child_schooling": ("II.2", "persons", "ge", 99, []),
        "housing_support": ("II.2", "households", None, None, ["support_records"]),
        "safe_water": ("II.2", "households", "ge", 90, []),
        "hygienic_latrine": ("II.2", "households", "ge", 80, []),
        "telecom_access": ("II.2", "households", "ge", 95, ["need"]),
    }
    got = {t.id: (t.section, t.unit, t.comparator, t.value, sorted(t.requires)) for t in plan.targets}
    assert got == expected
    assert plan.target("poor_rate").denominator_source == "communes"
    assert not plan.target("housing_support").numeric  # no number in the plan: no_numeric_target
    for t in plan.targets:
        assert t.label.vi and t.label.en and t.citation.instrument == plan.citation.instrument, t.id


def test_targets_read_the_class_and_indicators_at_the_level_of_what_they_count(plan):
    assert plan.target("health_insurance").level == "member"
    assert plan.target("safe_water").level == "household"
    assert plan.target("models_completed").level is None
    assert plan.target("health_insurance").population == \
        m.Compare.model_validate({"field": "eligibility_class", "in": ["poor", "near_poor"]})
    water = plan.target("safe_water").count
    assert isinstance(water, m.CountDeprived) and water.count_deprived == ["water"] and water.op == ("eq", 0)


def test_every_budget_line_of_sections_iii_and_iv_is_encoded_with_the_plan_s_numbers(plan):
    b = plan.budget
    assert (b.unit, b.total) == ("million_vnd", 6608)
    assert b.sources.model_dump() == {"central_recurrent": 6608, "central_investment": 0, "provincial": 0,
                                      "district": 0}
    assert {p.project: p.total for p in b.projects} == {"2": 2589, "3": None, "4": 1576, "6": 493, "7": 702}
    lines = {x.id: (x.project, x.sub_project, x.amount, x.source, x.item) for x in b.lines}
    assert lines == {
        "p2": ("2", None, 2589, "central_recurrent", "p2_livelihood"),
        "p3_1": ("3", "3.1", 1248, "central_recurrent", "p3_1_agri_production"),
        "p3_2": ("3", "3.2", 0, "central_recurrent", None),
        "p4_1": ("4", "4.1", 839, "central_recurrent", "p4_1_vocational"),
        "p4_3": ("4", "4.3", 737, "central_recurrent", "p4_3_jobs"),
        "p6_1": ("6", "6.1", 333, "central_recurrent", "p6_1_information"),
        "p6_2": ("6", "6.2", 160, "central_recurrent", None),
        "p7_1": ("7", "7.1", 429, "central_recurrent", None),
        "p7_2": ("7", "7.2", 273, "central_recurrent", None),
    }
    assert b.project_total("3") == 1248  # no total stated: the sum of its lines
    assert "Dự án 3" in next(p for p in b.projects if p.project == "4").note  # the plan's own label, kept
    assert "average" in next(x for x in b.lines if x.id == "p2").note


def test_a_budget_line_that_breaks_its_project_total_is_refused_naming_the_file_line_and_numbers(tmp_path):
    path = edited(tmp_path, "amount: 839", "amount: 840")
    with pytest.raises(RulesError) as err:
        load_plan(path)
    total_line, amount_line = line_of(path, "total: 1576"), line_of(path, "amount: 840")
    msg = err.value.message
    assert f"{path}:{total_line}: budget: project 4" in msg
    assert "total of 1576" in msg and "add up to 1577" in msg and f"p4_1 840 (line {amount_line})" in msg
    assert "central_recurrent is 6608" in msg and "6609" in msg  # the source no longer adds up either
    assert err.value.exit_code == 3
    assert "dự án 4" in err.value.vi and f"{path}:{total_line}" in err.value.vi


def test_sources_that_do_not_add_up_to_the_total_are_refused(tmp_path):
    path = edited(tmp_path, "central_investment: 0", "central_investment: 5")
    with pytest.raises(RulesError) as err:
        load_plan(path)
    at = line_of(path, "sources: {")
    assert f"{path}:{at}: budget: the sources add up to 6613" in err.value.message
    assert "but the total is 6608" in err.value.message
    assert "sources.central_investment is 5 but the lines funded from it add up to 0" in err.value.message
    assert "nguồn vốn" in err.value.vi and err.value.exit_code == 3


def test_a_total_the_projects_do_not_add_up_to_is_refused(tmp_path):
    path = edited(tmp_path, "total: 6608", "total: 6609")
    with pytest.raises(RulesError) as err:
        load_plan(path)
    at = line_of(path, "total: 6609")
    assert f"{path}:{at}: budget: the projects add up to 6608" in err.value.message
    assert "project 3 1248 (sum of its lines)" in err.value.message and "the total is 6609" in err.value.message
    assert err.value.exit_code == 3


def test_an_unknown_key_in_a_plan_is_refused_with_a_suggestion(tmp_path):
    path = edited(tmp_path, 'section: "II.2"\n    citation:\n      instrument: kh_tan_yen_2024\n      note: >-\n'
                            "        Mục II.2, chiều việc làm",
                  'sectoin: "II.2"\n    citation:\n      instrument: kh_tan_yen_2024\n      note: >-\n'
                  "        Mục II.2, chiều việc làm")
    with pytest.raises(RulesError) as err:
        load_plan(path)
    assert f"{path}:{line_of(path, 'sectoin')}:" in err.value.message
    assert "unknown key 'sectoin'" in err.value.message and "did you mean 'section'?" in err.value.message
    assert err.value.exit_code == 3 and err.value.vi


def test_an_unknown_key_in_a_budget_line_is_refused_with_a_suggestion(tmp_path):
    path = edited(tmp_path, "amount: 273", "amuont: 273")
    with pytest.raises(RulesError, match=r"unknown key 'amuont' — did you mean 'amount'\?"):
        load_plan(path)


def test_a_comparator_without_a_value_is_refused(tmp_path):
    path = edited(tmp_path, "    value: 1.41\n", "")
    with pytest.raises(RulesError, match="'comparator' is given without 'value'"):
        load_plan(path)


def test_a_target_id_used_twice_is_refused_with_both_lines(tmp_path):
    path = edited(tmp_path, "- id: hygienic_latrine", "- id: safe_water")
    with pytest.raises(RulesError) as err:
        load_plan(path)
    lines = [i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if t.endswith("id: safe_water")]
    assert f"{path}:{lines[1]}: target id 'safe_water' is already used at line {lines[0]}" in err.value.message


def test_a_budget_line_naming_an_unknown_item_is_refused_with_a_suggestion(tmp_path):
    path = edited(tmp_path, "item: p4_3_jobs", "item: p4_3_job")
    with pytest.raises(RulesError, match="did you mean 'p4_3_jobs'"):
        load_plan(path)


def test_a_target_condition_naming_an_unknown_field_is_refused_by_check_plan(tmp_path, rules):
    path = edited(tmp_path, "count: {field: has_health_insurance, is: true}",
                  "count: {field: has_health_insurence, is: true}")
    plan = load_plan(path)  # the shape is right; the name is checked against the regime
    with pytest.raises(RulesError) as err:
        check_plan(plan, rules)
    assert f"{path}:{line_of(path, 'has_health_insurence')}: health_insurance.count" in err.value.message
    assert "did you mean 'has_health_insurance'" in err.value.message
    assert err.value.exit_code == 3 and "health_insurance" in err.value.vi


def test_a_household_target_using_a_member_field_outside_an_aggregation_is_refused(tmp_path, rules):
    path = edited(tmp_path, "count: {count_deprived: [sanitation], eq: 0}", "count: {field: can_work, is: true}")
    with pytest.raises(RulesError, match="member field 'can_work' used outside a member aggregation"):
        check_plan(load_plan(path), rules)


def test_a_target_counting_an_indicator_the_regime_lacks_is_not_measurable_under_it(tmp_path, rules):
    path = edited(tmp_path, "count: {count_deprived: [telecom], eq: 0}",
                  "count: {count_deprived: [telecom, fake_indicator], eq: 0}")
    unmeasurable = check_plan(load_plan(path), rules)
    assert list(unmeasurable) == ["telecom_access"]
    assert "fake_indicator" in unmeasurable["telecom_access"] and "vn_2022_2026" in unmeasurable["telecom_access"]


def test_a_target_lacking_an_indicator_is_still_checked_for_other_errors(tmp_path, rules):
    path = edited(tmp_path, "population: {field: eligibility_class, in: [poor, near_poor]}\n"
                            "    count: {count_deprived: [telecom], eq: 0}",
                  "population: {field: eligibility_clas, in: [poor, near_poor]}\n"
                  "    count: {count_deprived: [fake_indicator], eq: 0}")
    with pytest.raises(RulesError, match="did you mean 'eligibility_class'"):
        check_plan(load_plan(path), rules)


def test_rules_with_plan_exposes_the_plan_parameters_at_the_date_without_changing_the_cached_rules(plan, rules):
    merged = rules_with_plan(rules, plan)
    assert merged.params["stable_employment_activities"] == ["wage_employee", "self_employed"]
    assert merged.params["stable_employment_wage_needs_contract"] is True
    assert merged.regime.parameters["stable_employment_activities"].confidence == "open"
    assert merged.params["income_line"] == rules.params["income_line"] and merged.day == rules.day
    assert "stable_employment_activities" not in rules.params
    assert "stable_employment_activities" not in rules.regime.parameters
    assert "stable_employment_activities" not in load_rules(DAY).regime.parameters
    assert merged.version.startswith(rules.version + "+tan_yen_2024@")


def test_the_cross_check_reads_the_plan_parameters_so_a_wrong_activity_code_there_is_refused(tmp_path, rules):
    path = edited(tmp_path, "value: [wage_employee, self_employed]", "value: [wage_employee, self_employd]")
    with pytest.raises(RulesError, match="'self_employd' is not a code of activity — did you mean 'self_employed'"):
        check_plan(load_plan(path), rules)


def test_a_plan_parameter_before_its_first_value_is_refused(plan):
    with pytest.raises(RulesError, match="plan parameter 'stable_employment_activities' has no value on 2023-06-30"):
        rules_with_plan(load_rules(dt.date(2023, 6, 30)), plan)


def test_a_plan_parameter_may_not_take_the_name_of_a_regime_parameter(tmp_path, rules):
    path = edited(tmp_path, "- id: stable_employment_wage_needs_contract", "- id: income_line")
    with pytest.raises(RulesError, match="plan parameter 'income_line' is already declared by regime vn_2022_2026"):
        rules_with_plan(rules, load_plan(path))


def test_a_plan_citation_must_name_a_known_instrument(tmp_path, rules):
    path = edited(tmp_path, "citation: {instrument: kh_tan_yen_2024}\n", "citation: {instrument: kh_tan_yen_2042}\n")
    with pytest.raises(RulesError, match="unknown instrument 'kh_tan_yen_2042' — did you mean 'kh_tan_yen_2024'"):
        check_plan(load_plan(path), rules)


def test_a_plan_file_that_does_not_exist_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="plan file not found") as err:
        load_plan(tmp_path / "nowhere.yaml")
    assert err.value.exit_code == 2 and err.value.vi


def test_the_unnumbered_plan_is_cited_by_its_kind_and_issuer_in_both_languages():
    from tieuchi.rulebook.plans import plan_path
    from tieuchi.engine.reasons import citation_text

    instruments = load_rules(dt.date(2024, 12, 1)).regime.instruments
    plan = load_plan(plan_path("tan_yen_2024"))
    assert citation_text(plan.citation, instruments, "vi") == "Kế hoạch không số của Ủy ban nhân dân huyện Tân Yên"
    assert "None" not in citation_text(plan.citation, instruments, "en")
