"""Issue 10, rule defects 17–20: what a case cannot express.

17. The household statuses and the health-insurance shares are not the 2021–2025 program's: they live in
    rules/shared/ and apply under every standard whose dates they cover, the 2027–2030 one included, while the
    program's items stay absent outside its window.
18. Newly escaped poverty (and what reads it) follows its own inputs, not the class (the YAML cases pin the values;
    here: both engines agree on them).
19. Housing area and quality read `no_dwelling`, which a recorded floor area or a structure answer decides (cases).
20. The wording of the rules as a legal officer reads them: citations name the appendix item holding the threshold,
    the employment reason names the capacity to work, housing quality's confidence, the health-insurance citations.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.rulebook import vocabulary as m
from tieuchi.casework.cases import case_files, load_case_file
from tieuchi.cli import app
from tieuchi.errors import RulesError
from tieuchi.contract.read import read_survey
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.load import load_rules
from tieuchi.rulebook.source import rules_root
from tieuchi.rulebook.tree import walk
from tieuchi.engine.reasons import citation_text

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
POOR = ROOT / "datasets" / "examples" / "one_poor_household.json"
STATUSES = ["newly_escaped_poverty", "no_labour_capacity"]
ELIGIBILITY_KEYS = ["program", "label", "citation", "window", "in_force", "eligibility_class", "recognised_class",
                    "class_mismatch", "statuses", "items", "health_insurance_support"]
# The numbered items of the Appendix of Decree 07/2021/NĐ-CP (domain brief §3, "#" column: the indicator order, LAW).
APPENDIX_ITEM = {"employment": "1", "dependants": "2", "nutrition": "3", "health_insurance": "4",
                 "adult_education": "5", "child_schooling": "6", "housing_quality": "7", "housing_area": "8",
                 "water": "9", "sanitation": "10", "telecom": "11", "information_devices": "12"}


def run(*args, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def regimes():
    return [load_regime(p) for p in discover_regimes()]


def regime(rid: str):
    return next(r for r in regimes() if r.id == rid)


@lru_cache(maxsize=1)
def demo():
    return read_survey(DEMO)


@lru_cache(maxsize=4)
def classify_demo(on: str):
    s = demo()
    return tieuchi.classify(s.households, s.members, on=on, communes=s.communes, lang="en")


def check_json(on: str, doc: dict | None = None) -> dict:
    text = json.dumps(doc, ensure_ascii=False) if doc is not None else None
    r = run("check", "-" if doc is not None else POOR, "--on", on, "--format", "json", input=text)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# ------------------------------------------------------------------------------------- 17: beyond the program window

def test_under_the_2027_standard_classify_writes_the_statuses_the_class_eligibility_follows_and_the_shares():
    result = classify_demo("2027-06-30")
    hh, mem = result.households, result.members
    for col in [*STATUSES, "eligibility_class", "class_mismatch"]:
        assert col in hh.columns, col
    assert "health_insurance_support" in mem.columns
    assert not [c for c in [*hh.columns, *mem.columns] if c.startswith(("eligible_", "priority_"))]
    assert hh["newly_escaped_poverty"].notna().all()  # the demo's exit dates decide it for every household
    assert hh["newly_escaped_poverty"].any()
    assert mem["health_insurance_support"].notna().mean() > 0.9
    classes = hh.set_index("household_id")["household_class"]
    share = mem.assign(cls=mem["household_id"].map(classes))
    assert (share.loc[share["cls"] == "poor", "health_insurance_support"] == 1.0).all()


def test_under_the_2027_standard_the_notes_say_the_program_window_is_over():
    notes = classify_demo("2027-06-30").notes
    assert len(notes) == 1
    assert "ntp_2021_2025" in notes[0] and "2025-12-31" in notes[0] and "eligible_" in notes[0]
    assert "health-insurance" in notes[0]


def test_the_eligibility_columns_under_2027_are_those_of_2026_outside_the_program_window_in_the_same_order():
    def eligibility_columns(frame: pd.DataFrame, after: str) -> list[str]:
        cols = list(frame.columns)
        return cols[cols.index(after) + 1:cols.index(after) + 5]

    h26, h27 = classify_demo("2026-06-30").households, classify_demo("2027-06-30").households
    assert eligibility_columns(h26, "reasons") == eligibility_columns(h27, "reasons") == \
        [*STATUSES, "eligibility_class", "class_mismatch"]
    m26, m27 = classify_demo("2026-06-30").members, classify_demo("2027-06-30").members
    assert [c for c in m26.columns if c not in m27.columns] == []
    assert [c for c in m27.columns if c not in m26.columns] == []


def test_inside_the_program_window_the_statuses_and_shares_come_first_and_the_items_follow_as_before():
    hh = classify_demo("2024-12-01").households
    cols = list(hh.columns)
    at = cols.index("reasons") + 1
    assert cols[at:at + 4] == [*STATUSES, "eligibility_class", "class_mismatch"]
    assert cols[at + 4:at + 6] == ["eligible_p2_livelihood", "priority_p2_livelihood"]
    mem = list(classify_demo("2024-12-01").members.columns)
    assert mem[mem.index("low_income_worker") + 1:mem.index("low_income_worker") + 3] == \
        ["health_insurance_support", "eligible_p3_2_nutrition"]


def test_check_under_the_2027_standard_gives_the_statuses_and_shares_with_no_item_in_the_documented_shape():
    before, after = check_json("2026-06-30"), check_json("2027-06-30")
    e = after["eligibility"]
    assert e is not None
    assert list(e) == list(before["eligibility"]) == ELIGIBILITY_KEYS
    assert e["items"] == {} and e["in_force"] is False
    assert e["program"] is None and e["window"] is None
    assert e["eligibility_class"] == after["household_class"] == "poor"
    assert list(e["statuses"]) == STATUSES
    assert e["statuses"]["newly_escaped_poverty"]["value"] is False
    shares = e["health_insurance_support"]["members"]
    assert [s["share"] for s in shares] == [1.0] * len(shares)
    assert all(s["because"]["id"] == "poor" for s in shares)
    assert shares[0]["because"]["citation"] == "khoản 3 Điều 12 Luật 25/2008/QH12"


def test_check_text_under_the_2027_standard_says_no_program_applies_and_shows_the_statuses_and_shares():
    r = run("check", POOR, "--on", "2027-06-30")
    assert r.exit_code == 0, r.output
    assert "không có chương trình nào áp dụng với chuẩn này" in r.stdout
    assert "Hộ mới thoát nghèo: không" in r.stdout
    assert "Mức hỗ trợ đóng bảo hiểm y tế" in r.stdout and "100% (thành viên hộ nghèo)" in r.stdout
    en = run("check", POOR, "--on", "2027-06-30", "--lang", "en")
    assert "Program: none applies with this standard" in en.stdout and "100% (member of a poor household)" in en.stdout


def test_eligible_under_the_2027_standard_still_exits_2_naming_the_programs_window(tmp_path):
    r = run("eligible", DEMO, "--on", "2027-06-30", "--out", tmp_path / "lists")
    assert r.exit_code == 2
    assert "2022-01-01" in r.stderr and "2025-12-31" in r.stderr
    assert not (tmp_path / "lists").exists()


def test_report_under_the_2027_standard_reads_the_class_eligibility_follows_and_writes_its_tables(tmp_path):
    from tieuchi.outputs import report

    r = classify_demo("2027-06-30")
    rate = report.rates(r, demo().households)
    poor = rate[(rate["rate_id"] == "poor") & (rate["scope"] == "all")].iloc[0]
    assert poor["numerator"] == int((r.households["eligibility_class"] == "poor").sum()) > 0
    out = run("report", DEMO, "--plan", "tan_yen_2024", "--on", "2027-06-30", "--out", tmp_path / "report")
    assert out.exit_code == 1, out.output  # the demo's five deliberate rejects
    for name in ("achievement.csv", "rates.csv", "movements.csv", "mpi.csv", "budget.csv", "report.html"):
        assert (tmp_path / "report" / name).is_file(), name


def test_every_regime_loads_the_shared_sets_and_only_the_2022_2026_one_has_the_program():
    for r in regimes():
        assert [s.id for s in r.shared] == ["health_insurance", "household_status"], r.id
        for sid in STATUSES:
            assert sid in r.derived and r.files[sid].parts[-4:-2] == ("shared", "household_status"), sid
        assert "hi_share_near_poor" in r.parameters
    assert regime("vn_2022_2026").program.id == "ntp_2021_2025"
    assert regime("vn_2027_2030").program is None
    assert [p.id for p in regime("vn_2027_2030").programs] == ["ntp_2021_2025"]


def test_the_eligibility_rules_at_a_date_take_the_statuses_and_shares_from_the_shared_sets_and_items_from_the_program():
    inside = load_rules(dt.date(2024, 12, 1)).eligibility
    assert inside.statuses == STATUSES and [s.id for s in inside.shares] == ["hi_support"]
    assert len(inside.items) == 8 and inside.notes == []
    after = load_rules(dt.date(2026, 3, 1)).eligibility
    assert after.statuses == STATUSES and after.items == [] and len(after.notes) == 8
    later = load_rules(dt.date(2027, 6, 30)).eligibility
    assert later.statuses == STATUSES and [s.id for s in later.shares] == ["hi_support"] and later.items == []


def test_the_program_keeps_only_its_own_rules():
    pr = regime("vn_2022_2026").program
    assert pr.program.statuses == [] and pr.shares == {}
    assert {"program_household", "member_able_to_work", "newly_escaped_near_poverty"} == set(pr.derived)
    assert not {p for p in pr.parameters if p.startswith("hi_")}


def test_the_health_insurance_shares_keep_their_2026_values_in_2027_and_say_why():
    r26, r27 = load_rules(dt.date(2026, 6, 30)), load_rules(dt.date(2027, 6, 30))
    hi = [p for p in r27.regime.parameters if p.startswith("hi_share_")]
    assert len(hi) == 5
    for pid in hi:
        assert r27.params[pid] == r26.params[pid], pid
    for pid in ("hi_share_near_poor", "hi_share_near_poor_poor_area", "hi_share_average_living_agri"):
        p = r27.regime.parameters[pid]
        v27 = p.at(dt.date(2027, 1, 1))
        assert v27.start == dt.date(2027, 1, 1) and v27.citation.note and "2027" in p.notes and "likely" in p.notes


def copy_rules(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(rules_root(), root, ignore=shutil.ignore_patterns("cases"))
    return root


def test_a_shared_set_applies_only_on_the_dates_its_validity_covers(tmp_path):
    root = copy_rules(tmp_path)
    p = root / "shared" / "health_insurance" / "shared.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("validity: {from: 2022-01-01}",
                                                       "validity: {from: 2022-01-01, to: 2026-12-31}"), "utf-8")
    r27 = load_regime(root / "poverty" / "vn_2027_2030")
    assert [s.id for s in r27.shared] == ["household_status"]  # its window ends before the regime starts
    r22 = load_regime(root / "poverty" / "vn_2022_2026")
    assert [s.id for s in r22.shared] == ["health_insurance", "household_status"]


def test_a_shared_set_whose_window_ends_inside_a_regime_writes_no_share_after_it(tmp_path):
    root = copy_rules(tmp_path)
    p = root / "shared" / "health_insurance" / "shared.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("validity: {from: 2022-01-01}",
                                                       "validity: {from: 2022-01-01, to: 2025-06-30}"), "utf-8")
    s = demo()
    folder = root / "poverty" / "vn_2022_2026"
    before = tieuchi.classify(s.households, s.members, on="2025-06-30", rules=folder)
    after = tieuchi.classify(s.households, s.members, on="2025-07-01", rules=folder)
    assert "health_insurance_support" in before.members.columns
    assert "health_insurance_support" not in after.members.columns
    assert "newly_escaped_poverty" in after.households.columns


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def test_a_shared_status_that_is_not_a_household_variable_of_the_set_is_refused(tmp_path):
    root = copy_rules(tmp_path)
    _edit(root / "shared" / "household_status" / "shared.yaml", "statuses: [newly_escaped_poverty, no_labour_capacity]",
          "statuses: [newly_escaped_poverty, working_age]")
    with pytest.raises(RulesError, match="status 'working_age' is not a household variable"):
        load_regime(root / "poverty" / "vn_2022_2026")


def test_a_shared_set_whose_id_differs_from_its_folder_is_refused(tmp_path):
    root = copy_rules(tmp_path)
    _edit(root / "shared" / "household_status" / "shared.yaml", "id: household_status", "id: household_statuses")
    with pytest.raises(RulesError, match="differs from its folder name 'household_status'"):
        load_regime(root / "poverty" / "vn_2022_2026")


def test_a_shared_parameter_named_like_one_of_the_regime_is_refused_naming_both_files(tmp_path):
    root = copy_rules(tmp_path)
    params = root / "shared" / "household_status" / "parameters"
    text = (params / "newly_escaped_months.yaml").read_text(encoding="utf-8")
    (params / "min_working_age.yaml").write_text(text.replace("id: newly_escaped_months", "id: min_working_age"),
                                                 "utf-8")
    with pytest.raises(RulesError) as err:
        load_regime(root / "poverty" / "vn_2022_2026")
    assert "parameter 'min_working_age' is already declared" in err.value.message
    assert "min_working_age.yaml" in err.value.message and "vn_2022_2026" in err.value.message


def test_an_overlay_may_change_a_shared_parameter(tmp_path):
    overlay = tmp_path / "province_hi.yaml"
    overlay.write_text("""overlay: province_hi
label: {vi: Tỉnh hỗ trợ thêm BHYT hộ cận nghèo, en: A province tops up the near-poor share}
base: vn_2027_2030
citation: {instrument: local_decision}
instruments:
  local_decision: {kind: {vi: Quyết định, en: Decision}, number: 1/2027/QĐ-UBND, title: {vi: Ví dụ, en: Example},
                   status: open}
parameters:
  hi_share_near_poor:
    - {from: 2027-01-01, value: 1.0, citation: {instrument: local_decision, article: 1}}
""", encoding="utf-8")
    s = demo()
    r = tieuchi.classify(s.households, s.members, on="2027-06-30", rules=overlay)
    classes = r.households.set_index("household_id")["eligibility_class"].astype("string")
    near = r.members[r.members["household_id"].map(classes) == "near_poor"]
    assert len(near) and (near["health_insurance_support"] == 1.0).all()


def test_the_shared_sets_rules_and_parameters_are_cited_and_covered_by_their_own_cases_under_both_standards():
    for r in regimes():
        for s in r.shared:
            assert s.set.citation.instrument in r.instruments, s.id
            for x in [*s.derived.values(), *s.shares.values()]:
                assert x.citation.instrument in r.instruments, x.id
            for sr in s.shares.values():
                assert all(sh.citation.instrument in r.instruments for sh in sr.shares), sr.id
            for p in s.parameters.values():
                assert all(v.citation.instrument in r.instruments for v in p.values), p.id
                if p.confidence in ("open", "likely"):
                    assert p.notes, p.id
            cases = [c for f in case_files(s.root) for c in load_case_file(f)]
            mine = [c for c in cases if r.ruleset.validity.covers(c.on)]
            covered = {c.rule for c in mine} | {x for c in mine for x in c.covers}
            used = set()
            for node in [n for d in s.derived.values() for n in walk(d.condition)] + \
                    [n for sr in s.shares.values() for sh in sr.shares for n in walk(sh.when)]:
                if isinstance(node, m.Flag):
                    used.add(node.flag)
                elif isinstance(node, m.WithinMonths) and isinstance(node.within_months.months, m.ParamRef):
                    used.add(node.within_months.months.param)
                elif isinstance(node, m.Compare) and isinstance(node.op[1], m.ParamRef):
                    used.add(node.op[1].param)
            used |= {sh.value.param for sr in s.shares.values() for sh in sr.shares if isinstance(sh.value, m.ParamRef)}
            wanted = set(s.derived) | set(s.shares) | (used & set(s.parameters))
            assert not sorted(wanted - covered), (r.id, s.id, sorted(wanted - covered))


# ----------------------------------------------------------------------------------- 18: both engines, unknown class

def _require_durable():
    from tests.test_backends_agree import _require_durable as require

    require()


def _docs() -> list[dict]:
    base = json.loads(POOR.read_text(encoding="utf-8"))
    score_only = {**base, "income_per_capita_month": None, "income_score_a": 150}
    return [
        {**base, "household_id": "A"},
        {**score_only, "household_id": "B", "exited_poverty_on": "2023-12-20"},
        {**score_only, "household_id": "C", "exited_poverty_on": None},
        {**score_only, "household_id": "D", "has_dwelling": None, "floor_area_m2": 147},
        {**base, "household_id": "E", "has_dwelling": None, "recognised_class": "near_poor"},
    ]


@pytest.mark.parametrize("on", ["2024-12-01", "2026-06-30", "2027-06-30"])
def test_the_durable_backend_writes_the_same_statuses_items_and_shares_under_each_standard(on):
    _require_durable()
    from tieuchi.casework.cases import tables

    hh, mem = tables(_docs())
    a = tieuchi.classify(hh, mem, on=on, engine="vectorized")
    b = tieuchi.classify(hh, mem, on=on, engine="durable")
    assert list(a.households.columns) == list(b.households.columns)
    assert list(a.members.columns) == list(b.members.columns)
    pd.testing.assert_frame_equal(a.households.drop(columns=["reasons"]), b.households.drop(columns=["reasons"]),
                                  check_dtype=False, check_categorical=False)
    pd.testing.assert_frame_equal(a.members, b.members, check_dtype=False, check_categorical=False)
    assert "newly_escaped_poverty" in a.households.columns


def test_a_newly_escaped_household_known_only_by_score_a_is_newly_escaped_and_supported():
    from tieuchi.casework.cases import tables

    hh, mem = tables(_docs())
    h = tieuchi.classify(hh, mem, on="2024-12-01").households.set_index("household_id")
    assert h.loc["B", "household_class"] == "unknown" and pd.isna(h.loc["B", "eligibility_class"])
    assert h.loc["B", "newly_escaped_poverty"] == True  # noqa: E712
    assert h.loc["B", "eligible_p2_livelihood"] == True  # noqa: E712
    assert h.loc["C", "newly_escaped_poverty"] == False and pd.isna(h.loc["C", "eligible_p2_livelihood"])  # noqa: E712


# ----------------------------------------------------------------------------------------------- 20: the wording

def test_an_article_and_an_appendix_item_are_cited_in_vietnamese_order_joined_by_and():
    inst = regime("vn_2022_2026").instruments
    c = m.Citation(instrument="nd_07_2021", article=3, clause=1, point="b", appendix="Phụ lục", item="8")
    assert citation_text(c, inst, "vi") == "điểm b khoản 1 Điều 3 và mục 8 Phụ lục Nghị định 07/2021/NĐ-CP"
    assert citation_text(c, inst, "en") == "Decree 07/2021/NĐ-CP, Article 3(1)(b) and Appendix item 8"
    only = m.Citation(instrument="nd_07_2021", appendix="Phụ lục", item="2")
    assert citation_text(only, inst, "vi") == "mục 2 Phụ lục Nghị định 07/2021/NĐ-CP"
    assert citation_text(only, inst, "en") == "Decree 07/2021/NĐ-CP, Appendix item 2"


def test_every_indicator_citing_decree_07_names_the_appendix_item_that_holds_its_threshold():
    for r in regimes():
        for ind in r.indicators.values():
            c = ind.citation
            if c.instrument != "nd_07_2021":
                continue
            assert (c.article, c.clause, c.point) == (3, 1, "b"), (r.id, ind.id)
            assert (c.appendix, c.item) == ("Phụ lục", APPENDIX_ITEM[ind.id]), (r.id, ind.id)


def test_an_indicator_citation_in_check_names_its_appendix_item():
    e = check_json("2024-12-01")
    assert e["indicators"]["water"]["citation"] == "điểm b khoản 1 Điều 3 và mục 9 Phụ lục Nghị định 07/2021/NĐ-CP"


def test_the_employment_reason_names_the_members_capacity_to_work_in_both_languages_and_regimes():
    for r in regimes():
        reason = r.indicators["employment"].reason
        assert "trong độ tuổi lao động" in reason.vi and "có khả năng lao động" in reason.vi, r.id
        assert "working-age" in reason.en and "able to work" in reason.en, r.id


def test_housing_quality_is_likely_because_of_the_three_structures_reading_in_both_regimes():
    for r in regimes():
        ind = r.indicators["housing_quality"]
        assert ind.confidence == "likely" and "likely" in ind.notes, r.id


def test_the_poor_and_child_health_insurance_shares_cite_the_same_clause_of_the_law_as_their_parameters():
    r = regime("vn_2022_2026")
    sr = next(s for s in r.shared if s.id == "health_insurance").shares["hi_support"]
    for share_id, pid in (("poor", "hi_share_poor"), ("child", "hi_share_child")):
        share = next(sh for sh in sr.shares if sh.id == share_id)
        values = r.parameters[pid].values
        assert all(v.citation == share.citation for v in values), pid
        assert (share.citation.instrument, share.citation.article, share.citation.clause) == ("luat_bhyt", 12, 3)
    assert r.parameters["hi_child_age_below"].values[0].citation == share.citation
