"""The one module that reads rule files: safe, strict, and precise about where a problem is."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tieuchi.errors import RulesError, UsageError
from tieuchi.rulebook.folders import load_regime
from tieuchi.rulebook.load import load_rules
from tieuchi.rulebook.source import rules_root
from tieuchi.rulebook.yaml_lines import read_yaml

REGIME = rules_root() / "poverty" / "vn_2022_2026"


def copy_regime(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(rules_root(), root, ignore=shutil.ignore_patterns("cases"))
    return root / "poverty" / "vn_2022_2026"


def test_the_shipped_regime_loads_and_resolves_its_parameters_at_a_date():
    rules = load_rules(dt.date(2024, 12, 1))
    assert rules.regime.id == "vn_2022_2026"
    assert rules.params["income_line"] == {"rural": 1500000, "urban": 2000000}
    assert rules.params["retirement_age"] == {"male": 732, "female": 676}
    assert rules.version.startswith("vn_2022_2026@")


def test_a_date_no_regime_covers_is_a_usage_error_naming_the_windows():
    with pytest.raises(UsageError) as err:
        load_rules(dt.date(2019, 6, 1))
    assert "vn_2022_2026: 2022-01-01 → 2026-12-31" in err.value.message
    assert err.value.exit_code == 2


def test_a_dated_parameter_takes_the_value_in_force_on_the_reference_date():
    assert load_rules(dt.date(2025, 2, 23)).params["low_income_worker_in_force"] is False
    assert load_rules(dt.date(2025, 2, 24)).params["low_income_worker_in_force"] is True


def test_a_duplicate_key_is_refused_with_its_line(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("id: a\nlabel: {vi: a, en: a}\nid: b\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"x.yaml:3: duplicate key 'id' \(first given at line 1\)"):
        read_yaml(f)


@pytest.mark.parametrize("text", ["a: !!python/object/apply:os.system ['echo hacked']\n", "a: !custom 1\n"])
def test_a_rule_file_cannot_run_code_every_tag_is_refused(tmp_path, text):
    f = tmp_path / "x.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match="not allowed"):
        read_yaml(f)


def test_yes_no_on_off_are_words_not_booleans_in_rule_files(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("on: 2024-12-01\nx: yes\ny: true\n", encoding="utf-8")
    assert read_yaml(f) == {"on": dt.date(2024, 12, 1), "x": "yes", "y": True}


def test_an_unknown_key_is_refused_with_file_line_and_a_suggestion(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "water.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("reason:", "reasn:"), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_regime(folder)
    assert "water.yaml:" in err.value.message and "unknown key 'reasn'" in err.value.message
    assert "did you mean 'reason'" in err.value.message


def test_an_unknown_field_in_a_condition_is_refused_with_a_suggestion(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "health_insurance.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("has_health_insurance", "has_health_insurence"), "utf-8")
    with pytest.raises(RulesError, match="did you mean 'has_health_insurance'"):
        load_regime(folder)


def test_an_unknown_code_value_in_a_parameter_is_refused(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "parameters" / "safe_water_sources.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("drilled_well", "drilled_wel"), "utf-8")
    with pytest.raises(RulesError, match="did you mean 'drilled_well'"):
        load_regime(folder)


def test_a_member_field_outside_a_member_aggregation_is_refused(tmp_path):
    folder = copy_regime(tmp_path)
    (folder / "indicators" / "water.yaml").write_text(
        (folder / "indicators" / "water.yaml").read_text("utf-8").replace(
            "{field: water_source, not_in: {param: safe_water_sources}}", "{field: has_health_insurance, is: false}"),
        "utf-8")
    with pytest.raises(RulesError, match="member field 'has_health_insurance' used outside a member aggregation"):
        load_regime(folder)


def test_a_citation_must_name_a_known_instrument(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "water.yaml"
    p.write_text(p.read_text("utf-8").replace("instrument: nd_07_2021", "instrument: nd_07_2012"), "utf-8")
    with pytest.raises(RulesError, match="unknown instrument 'nd_07_2012'"):
        load_regime(folder)


@pytest.mark.parametrize("where, rel, known, typo", [
    ("an indicator", "poverty/vn_2022_2026/indicators/water.yaml", "nd_07_2021", "nd_07_2012"),
    ("a program item", "programs/ntp_2021_2025/items/p5_housing.yaml", "qd_90_2022", "qd_90_2202"),
    ("a share of a shared set", "shared/health_insurance/shares/hi_support.yaml", "luat_bhyt", "luat_bhty"),
])
def test_a_citation_of_an_unknown_instrument_is_refused_the_same_way_wherever_it_is(tmp_path, where, rel, known,
                                                                                   typo):
    folder = copy_regime(tmp_path)
    p = folder.parents[1] / rel
    p.write_text(p.read_text("utf-8").replace(f"instrument: {known}", f"instrument: {typo}", 1), "utf-8")
    with pytest.raises(RulesError) as err:
        load_regime(folder)
    e = err.value
    assert f"{p}: " in e.message, where
    assert f"citation names unknown instrument '{typo}' — did you mean '{known}'?" in e.message, where
    assert e.hint == "add it to rules/instruments.yaml or fix the id", where
    assert f"trích dẫn văn bản không có trong danh mục: '{typo}' — có phải là '{known}'?" in e.vi, where


def test_a_condition_with_two_comparisons_is_refused(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "health_insurance.yaml"
    p.write_text(p.read_text("utf-8").replace("{field: age, ge: 6}", "{field: age, ge: 6, lt: 9}"), "utf-8")
    with pytest.raises(RulesError, match="exactly one comparison"):
        load_regime(folder)


@pytest.mark.parametrize("field", ["full_name", "household_id"])
def test_a_rule_may_not_use_personal_data(tmp_path, field):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "health_insurance.yaml"
    p.write_text(p.read_text("utf-8").replace("{field: has_health_insurance, is: false}",
                                              f"{{field: {field}, eq: 'x'}}"), "utf-8")
    with pytest.raises(RulesError, match="personal data"):
        load_regime(folder)


# ---------------------------------------------------------------------------------------------------------- programs

def test_the_program_loads_with_its_regime_with_every_contract_item_and_health_insurance_shares():
    import datetime as dt

    from tieuchi.rulebook.load import load_rules

    contract_items = ["p2_livelihood", "p3_1_agri_production", "p3_2_nutrition", "p4_1_vocational",
                      "p4_2_work_abroad", "p4_3_jobs", "p5_housing", "p6_1_information"]  # data contract §2.1
    rules = load_rules(dt.date(2024, 12, 1))
    prog = rules.regime.program
    assert prog.id == "ntp_2021_2025"
    assert list(prog.items) == prog.program.items == contract_items
    assert {i.unit for i in prog.items.values()} == {"household", "person"}
    hi = next(s for s in rules.regime.shared if s.id == "health_insurance")  # the law's, not the program's
    assert [s.id for s in hi.shares["hi_support"].shares][0] == "poor"
    assert "newly_escaped_months" in rules.params and rules.params["newly_escaped_months"] == 36


def test_program_items_are_out_of_force_after_the_program_window_and_say_why():
    import datetime as dt

    from tieuchi.rulebook.load import load_rules

    rules = load_rules(dt.date(2026, 3, 1))
    inside, notes = rules.regime.program.items_at(rules.day)
    assert inside == [] and len(notes) == 8
    assert "2025-12-31" in notes[0]
    assert [s.id for s in rules.eligibility.shares] == ["hi_support"]


def test_within_months_needs_a_field_and_months_and_knows_two_modes():
    import pytest as _pytest
    from pydantic import TypeAdapter, ValidationError

    from tieuchi.rulebook import vocabulary as m

    ta = TypeAdapter(m.Condition)
    node = ta.validate_python({"within_months": {"field": "exited_poverty_on", "months": {"param": "x"}}})
    assert isinstance(node, m.WithinMonths) and node.within_months.mode == "within"
    with _pytest.raises(ValidationError):
        ta.validate_python({"within_months": {"field": "exited_poverty_on", "months": 3, "mode": "before"}})


def test_a_count_of_deprivations_naming_an_indicator_the_regime_lacks_is_refused_with_a_suggestion(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p6_1_information.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("[telecom, information_devices]", "[telecom, info_devices]"),
                 encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_regime(folder)
    assert "p6_1_information" in err.value.message and "unknown indicator 'info_devices'" in err.value.message
    assert "did you mean 'information_devices'" in err.value.message


# ------------------------------------------------------------------ what the outputs read, declared in rules/


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_item_file_the_program_does_not_list_is_refused_naming_the_list(tmp_path):
    folder = copy_regime(tmp_path)
    program = folder.parents[1] / "programs" / "ntp_2021_2025" / "program.yaml"
    _edit(program, "p4_3_jobs,", "")
    with pytest.raises(RulesError, match="'p4_3_jobs' is not an item of the program") as e:
        load_regime(folder)
    assert e.value.code == "program_item_unknown"


def test_a_listed_item_without_its_file_is_refused(tmp_path):
    folder = copy_regime(tmp_path)
    (folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p5_housing.yaml").unlink()
    with pytest.raises(RulesError, match="has no file items/p5_housing.yaml"):
        load_regime(folder)


def test_a_priority_group_the_program_does_not_declare_is_refused_with_the_groups(tmp_path):
    folder = copy_regime(tmp_path)
    _edit(folder.parents[1] / "programs" / "ntp_2021_2025" / "items" / "p2_livelihood.yaml",
          "  meritorious_family: {any_member", "  meritorius_family: {any_member")
    with pytest.raises(RulesError, match="priority group 'meritorius_family' is not one of the program's") as e:
        load_regime(folder)
    assert e.value.code == "priority_group_unknown" and "meritorious_family" in e.value.hint


def test_the_priority_groups_rank_lists_in_the_order_the_program_declares():
    rules = load_rules(dt.date(2025, 6, 30))
    program = rules.regime.program
    assert program.priority_order[0] == "ethnic_minority" and program.priority_order[-1] == "information_deprived"
    assert program.priority_labels("vi")["no_labour_capacity"] == "hộ không có khả năng lao động"


def test_the_income_test_names_parameters_and_fields_that_exist(tmp_path):
    folder = copy_regime(tmp_path)
    _edit(folder / "classification.yaml", "  score_cutoff: score_a_cutoff", "  score_cutoff: score_a_cutof")
    with pytest.raises(RulesError, match="income.score_cutoff names unknown parameter 'score_a_cutof'") as e:
        load_regime(folder)
    assert "did you mean 'score_a_cutoff'" in e.value.hint

    folder = copy_regime(tmp_path / "again")
    _edit(folder / "classification.yaml", "  field: income_per_capita_month", "  field: income_per_capita")
    with pytest.raises(RulesError, match="income.field names 'income_per_capita', not a household field"):
        load_regime(folder)


def test_a_status_reason_may_name_only_parameters_of_the_regime(tmp_path):
    folder = copy_regime(tmp_path)
    _edit(folder.parents[1] / "shared" / "household_status" / "derived" / "newly_escaped_poverty.yaml",
          "{newly_escaped_months} tháng", "{newly_escaped_month} tháng")
    with pytest.raises(RulesError, match=r"reason names unknown parameter '\{newly_escaped_month\}'"):
        load_regime(folder)


def test_the_classes_and_their_labels_are_the_rules_with_unknown_last():
    regime = load_rules(dt.date(2024, 12, 1)).regime
    assert regime.class_ids == ["poor", "near_poor", "average_living", "other", "unknown"]
    assert regime.class_labels("en")["poor"] == "Poor household"
    assert regime.class_labels("vi", short=True) == {"poor": "nghèo", "near_poor": "cận nghèo",
                                                     "average_living": "trung bình", "other": "khác",
                                                     "unknown": "chưa rõ"}
