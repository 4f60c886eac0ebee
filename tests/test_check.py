"""`tieuchi check`: one household document in, its class and the reasons out (text or JSON), exit codes of §3."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tests.test_backends_agree import _require_durable
from tieuchi.cli import app
from tieuchi.contract.read import read_survey

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
POOR = ROOT / "datasets" / "examples" / "one_poor_household.json"
ON = "2024-12-01"
KEYS = ["household_id", "regime", "rules_version", "reference_date", "household_class", "income_line",
        "deprivation_count", "unknown_count", "undecided_by", "indicators", "reasons", "members", "eligibility"]


def run(*args, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def demo_documents() -> dict[str, dict]:
    """Every demo household as a JSON document (contract §1.4), built from the CSV cells as given."""
    hh = pd.read_csv(DEMO / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(DEMO / "members.csv", dtype=str, keep_default_na=False)
    cell = lambda v: v if v != "" else None  # noqa: E731 - only an empty cell is missing
    members: dict[str, list] = {}
    for rec in mem.to_dict("records"):
        members.setdefault(rec["household_id"], []).append(
            {k: cell(v) for k, v in rec.items() if k != "household_id"})
    return {rec["household_id"]: {**{k: cell(v) for k, v in rec.items()},
                                  "members": members.get(rec["household_id"], [])}
            for rec in hh.to_dict("records")}


@pytest.fixture(scope="module")
def demo():
    survey = read_survey(DEMO)
    result = tieuchi.classify(survey.households, survey.members, on=ON, communes=survey.communes)
    return result, demo_documents()


def sample_ids(result, n: int = 50) -> list[str]:
    """n accepted households spread over every class, unknown ones included."""
    hh = result.households
    ids = []
    for _cls, group in hh.groupby("household_class", observed=True):
        ids += [str(x) for x in group["household_id"].head(max(3, n // 5))]
    return ids[:n]


def check_json(doc: dict, *extra) -> dict:
    r = run("check", "-", "--on", ON, "--format", "json", *extra, input=json.dumps(doc, ensure_ascii=False))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# ------------------------------------------------------------------ agreement with classify


def test_check_gives_the_same_answers_as_classify_for_50_demo_households(demo):
    result, docs = demo
    hh = result.households.set_index(result.households["household_id"].astype(str))
    mem = result.members
    ids = sample_ids(result)
    assert len(ids) == 50 and {str(c) for c in hh.loc[ids, "household_class"]} >= {"poor", "near_poor", "unknown"}
    for hid in ids:
        got = check_json(docs[hid])
        row = hh.loc[hid]
        assert list(got) == KEYS
        assert got["household_class"] == str(row["household_class"]), hid
        assert got["deprivation_count"] == int(row["deprivation_count"])
        assert got["unknown_count"] == int(row["unknown_count"])
        assert got["income_line"] == int(row["income_line"])
        want_undecided = str(row["undecided_by"]) if not pd.isna(row["undecided_by"]) else ""
        assert got["undecided_by"] == sorted(want_undecided.split(";")) if want_undecided else got["undecided_by"] == []
        for ind, detail in got["indicators"].items():
            want = row[f"deprived_{ind}"]
            assert detail["deprived"] == (None if pd.isna(want) else bool(want)), (hid, ind)
        rows = mem[(mem["household_id"].astype(str) == hid).to_numpy()]
        for m, (_, want_m) in zip(got["members"], rows.iterrows()):
            assert m["member_no"] == int(want_m["member_no"])
            for col in ("age", "working_age", "dependant", "low_income_worker"):
                w = want_m[col]
                assert m[col] == (None if pd.isna(w) else (int(w) if col == "age" else bool(w))), (hid, col)


def test_tieuchi_explain_on_a_batch_result_equals_check_format_json(demo):
    result, docs = demo
    for hid in sample_ids(result, 15):
        assert tieuchi.explain(result, hid) == check_json(docs[hid])
    en = tieuchi.explain(result, sample_ids(result, 1)[0], lang="en")
    assert en == check_json(docs[sample_ids(result, 1)[0]], "--lang", "en")


# ------------------------------------------------------------------ text and JSON, both languages


def test_the_text_explanation_is_vietnamese_by_default_with_the_rule_citation_and_the_deciding_member():
    r = run("check", POOR, "--on", ON)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Hộ nghèo" in out
    assert "điểm a khoản 2 Điều 3 Nghị định 07/2021/NĐ-CP" in out  # the class rule
    assert "1.200.000 đồng/người/tháng, từ chuẩn nghèo 1.500.000 đồng (nông thôn) trở xuống" in out  # income vs line
    assert "[x] Bảo hiểm y tế: thiếu hụt" in out
    assert "thành viên số 1 (đúng): tuổi: 44, Có BHYT: không" in out  # the member and the value that decided it
    assert "Diện tích nhà ở (m²): 40 / 4 người = 10; điều kiện < 8: sai" in out
    assert "Nguyễn" not in out  # no names unless asked


def test_the_text_explanation_in_english_cites_the_decree_in_english():
    r = run("check", POOR, "--on", ON, "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "Poor household" in r.stdout
    assert "Decree 07/2021/NĐ-CP, Article 3(2)(a)" in r.stdout
    assert "[x] Health insurance: deprived" in r.stdout
    assert "member 1 (true): age: 44, has_health_insurance: no" in r.stdout


def test_json_output_has_exactly_the_contract_keys_and_undecided_by_as_a_list():
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    doc["members"][0]["has_health_insurance"] = None
    doc["income_per_capita_month"] = None
    got = check_json(doc)
    assert list(got) == KEYS
    assert got["household_class"] == "unknown"
    assert isinstance(got["undecided_by"], list) and "income_per_capita_month" in got["undecided_by"]
    hi = got["indicators"]["health_insurance"]
    assert hi["deprived"] is None and hi["undecided_by"] == ["has_health_insurance"]
    assert [m["member_no"] for m in hi["members"]] == [1] and hi["members"][0]["condition"] is None
    assert got["indicators"]["housing_area"]["citation"] == \
        "điểm b khoản 1 Điều 3 và mục 8 Phụ lục Nghị định 07/2021/NĐ-CP"  # the appendix item holding the threshold


def test_an_unknown_household_in_text_says_which_inputs_would_decide_it():
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    doc["income_per_capita_month"] = None
    r = run("check", "-", "--for-year", "2025", input=json.dumps(doc))
    assert r.exit_code == 0, r.output
    assert "Chưa xác định được" in r.stdout
    assert "Cần bổ sung để phân loại: Thu nhập bình quân (income_per_capita_month)" in r.stdout


def test_standard_input_is_read_with_a_dash():
    r = run("check", "-", "--on", ON, "--format", "json", input=POOR.read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["household_class"] == "poor"


def test_names_are_shown_only_with_show_names():
    plain = run("check", POOR, "--on", ON, "--format", "json")
    named = run("check", POOR, "--on", ON, "--format", "json", "--show-names")
    assert "full_name" not in plain.stdout and "Nguyễn Văn An" not in plain.stdout
    assert json.loads(named.stdout)["members"][0]["full_name"] == "Nguyễn Văn An"
    assert "thành viên số 1 (Nguyễn Văn An)" in run("check", POOR, "--on", ON, "--show-names").stdout


def test_vietnamese_values_and_headers_in_the_document_are_accepted():
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    doc["area"] = "Nông thôn"
    doc["members"][1]["sex"] = "Nữ"
    doc["members"][0]["Có BHYT"] = doc["members"][0].pop("has_health_insurance") and "Có" or "Không"
    assert check_json(doc)["household_class"] == "poor"


# ------------------------------------------------------------------ bad documents: exit 1, the field named


def bad(change, *options: str) -> str:
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    change(doc)
    r = run("check", "-", "--on", ON, *options, input=json.dumps(doc))
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    return r.output


def test_an_unknown_key_is_refused_with_the_nearest_column_name():
    out = bad(lambda d: d["members"][1].update(has_helth_insurance=True))
    assert "members[1].has_helth_insurance" in out and "has_health_insurance" in out.split("has_helth_insurance")[-1]


def test_a_wrong_code_is_refused_naming_the_field_and_the_allowed_values_in_the_language_of_the_run():
    out = bad(lambda d: d["members"][2].update(sex="X"))
    assert "members[2].sex" in out and "dùng một trong: Nam, Nữ" in out and "male" not in out
    out = bad(lambda d: d["members"][2].update(sex="X"), "--lang", "en")
    assert "members[2].sex" in out and "use one of: male, female" in out and "Nữ" not in out


def test_a_missing_sex_is_refused_naming_the_member():
    out = bad(lambda d: d["members"][0].pop("sex"))
    assert "members[0].sex" in out and "bắt buộc" in out


def test_a_household_the_survey_validation_rejects_exits_1_with_the_problems():
    out = bad(lambda d: d["members"][1].update(member_no=1))
    assert "member_no" in out and "STT" in out


def test_text_that_is_not_json_exits_1():
    r = run("check", "-", "--on", ON, input="{not json")
    assert r.exit_code == 1 and "JSON" in r.output


# ------------------------------------------------------------------ usage errors: exit 2


@pytest.mark.parametrize("args", [["--on", "2024-13-01"], ["--on", "2019-06-01"], [], ["--engine", "quantum"],
                                  ["--on", ON, "--format", "xml"]])
def test_bad_options_exit_2(args):
    r = run("check", POOR, *(args if args[:1] != ["--engine"] else ["--on", ON, *args]))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_a_missing_file_exits_2():
    assert run("check", ROOT / "no_such.json", "--on", ON).exit_code == 2


def test_the_durable_engine_either_works_or_is_a_clear_usage_error():
    for cmd in (["check", POOR, "--on", ON, "--format", "json", "--engine", "durable"],):
        r = run(*cmd)
        assert r.exit_code in (0, 2), r.output
        if r.exit_code == 2:
            assert "durable" in r.output and "Traceback" not in r.output
        else:
            assert json.loads(r.stdout)["household_class"] == "poor"


def test_classify_takes_engine_and_refuses_an_unknown_one(tmp_path):
    tiny = ROOT / "datasets" / "examples" / "tiny"
    assert run("classify", tiny, "--on", ON, "--out", tmp_path / "a", "--engine", "vectorized").exit_code in (0, 1)
    r = run("classify", tiny, "--on", ON, "--out", tmp_path / "b", "--engine", "quantum")
    assert r.exit_code == 2 and "vectorized" in r.output
    r = run("classify", tiny, "--on", ON, "--out", tmp_path / "c", "--engine", "durable")
    assert r.exit_code in (0, 1, 2) and "Traceback" not in r.output
    if r.exit_code == 2:
        assert "durable" in r.output


# ------------------------------------------------------------------ eligibility, with reasons


NEAR_POOR = ROOT / "datasets" / "examples" / "one_near_poor_household.json"
IN_PROGRAM = "2025-06-30"


def test_check_gives_the_same_eligibility_as_classify_for_demo_households_on_both_engines(demo):
    survey = read_survey(DEMO)
    result = tieuchi.classify(survey.households, survey.members, on=IN_PROGRAM, communes=survey.communes)
    _, docs = demo
    hh = result.households.set_index(result.households["household_id"].astype(str))
    mem = result.members
    ids = sample_ids(result, 20)
    try:
        _require_durable()  # fails without durable-rules under TIEUCHI_REQUIRE_DURABLE=1
        engines = ["vectorized", "durable"]
    except pytest.skip.Exception:
        engines = ["vectorized"]  # the core install (Python 3.13): the vectorized half still runs
    for hid in ids:
        row = hh.loc[hid]
        doc = {**docs[hid], "poor_commune": None}  # check reads no communes table: give what classify had
        doc["poor_commune"] = None if pd.isna(row["poor_commune"]) else bool(row["poor_commune"])
        rows = mem[(mem["household_id"].astype(str) == hid).to_numpy()]
        for engine in engines:
            r = run("check", "-", "--on", IN_PROGRAM, "--format", "json", "--engine", engine,
                    input=json.dumps(doc, ensure_ascii=False))
            assert r.exit_code == 0, r.output
            e = json.loads(r.stdout)["eligibility"]
            cell = lambda v: None if pd.isna(v) else v  # noqa: E731
            assert e["eligibility_class"] == cell(row["eligibility_class"]), (hid, engine)
            for sid in ("newly_escaped_poverty", "no_labour_capacity"):
                assert e["statuses"][sid]["value"] == cell(row[sid]), (hid, sid, engine)
            for item, got in e["items"].items():
                if got["unit"] == "household":
                    assert got["eligible"] == cell(row[f"eligible_{item}"]), (hid, item, engine)
                    want = cell(row[f"priority_{item}"])
                    assert got["priority"] == (want.split(";") if want else []), (hid, item, engine)
                else:
                    want = [int(n) for n, v in zip(rows["member_no"], rows[f"eligible_{item}"])
                            if not pd.isna(v) and bool(v)]
                    assert got["eligible_members"] == want, (hid, item, engine)
            shares = [cell(v) for v in rows["health_insurance_support"]]
            assert [mb["share"] for mb in e["health_insurance_support"]["members"]] == shares, (hid, engine)


def test_check_shows_each_item_with_the_rules_reason_priority_groups_and_health_insurance_share():
    r = run("check", POOR, "--on", IN_PROGRAM)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Diện xét hỗ trợ: Hộ nghèo" in out
    assert "[x] Dự án 2: Đa dạng hóa sinh kế, phát triển mô hình giảm nghèo: đủ điều kiện — hộ nghèo, cận nghèo " \
           "hoặc mới thoát nghèo; ưu tiên: phụ nữ thuộc hộ nghèo, hộ nghèo [Quyết định 90/QĐ-TTg]" in out
    assert "[x] Tiểu dự án 3.2: Cải thiện dinh dưỡng (người): thành viên số 4 — trẻ em dưới 16 tuổi" in out
    assert "thành viên số 1: 100% (thành viên hộ nghèo)" in out
    assert "[?] Dự án 5: Hỗ trợ nhà ở: chưa rõ" in out
    assert "cần bổ sung: Huyện nghèo (poor_district), Đã được hỗ trợ nhà ở (received_housing_support)" in out
    got = check_json(json.loads(POOR.read_text(encoding="utf-8")), "--on", IN_PROGRAM)["eligibility"]
    assert got["items"]["p2_livelihood"]["reason"] == "hộ nghèo, cận nghèo hoặc mới thoát nghèo"
    assert got["items"]["p5_housing"]["undecided_by"] == ["poor_district", "received_housing_support"]
    assert got["health_insurance_support"]["members"][0]["because"]["id"] == "poor"


def test_an_item_not_met_shows_the_conditions_that_failed_and_an_undecided_share_names_the_input_needed():
    r = run("check", NEAR_POOR, "--on", IN_PROGRAM, "--lang", "en")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "[ ] Project 5: housing support: not eligible" in out
    assert "The household has no dwelling: false" in out  # no_dwelling, as the housing indicators read it
    assert "member 1: unknown; would be decided by: poor_district" in out  # 100% in a poor district, else 70%
    doc = json.loads(NEAR_POOR.read_text(encoding="utf-8"))
    doc["poor_district"] = False
    got = check_json(doc, "--on", IN_PROGRAM)["eligibility"]["health_insurance_support"]["members"][0]
    assert got["share"] == 0.7 and got["because"]["id"] == "near_poor"


def test_outside_the_program_window_check_says_no_item_is_considered_but_health_insurance_still_applies():
    r = run("check", POOR, "--on", "2026-06-30")
    assert r.exit_code == 0, r.output
    assert "ngày tham chiếu 2026-06-30 nằm ngoài thời gian áp dụng: không hạng mục nào được xét" in r.stdout
    got = check_json(json.loads(POOR.read_text(encoding="utf-8")), "--on", "2026-06-30")["eligibility"]
    assert got["in_force"] is False and got["items"] == {}
    assert got["health_insurance_support"]["members"][0]["share"] == 1.0


def test_a_recognised_class_that_differs_is_shown_with_the_computed_one():
    doc = json.loads(NEAR_POOR.read_text(encoding="utf-8"))
    doc["recognised_class"] = "poor"
    r = run("check", "-", "--on", IN_PROGRAM, input=json.dumps(doc, ensure_ascii=False))
    assert r.exit_code == 0, r.output
    assert "Diện xét hỗ trợ: Hộ nghèo (theo diện xã công nhận); khác với kết quả tính (Hộ cận nghèo)" in r.stdout


def test_a_score_alone_under_a_standard_without_a_score_cut_off_says_income_is_needed():
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    doc["income_per_capita_month"], doc["income_score_a"] = None, 100
    got = check_json(doc, "--on", "2027-06-30")
    assert got["household_class"] == "unknown" and "income_per_capita_month" in got["undecided_by"]
    assert "chưa có ngưỡng điểm A" in got["reasons"][0] and "None" not in " ".join(got["reasons"])
    assert "chưa có ngưỡng điểm A: cần thu nhập bình quân" in got["reasons"][1]


def test_the_api_checks_one_household_document_as_the_command_does():
    doc = json.loads(POOR.read_text(encoding="utf-8"))
    ex = tieuchi.check(doc, on=ON, lang="en")
    assert list(ex) == KEYS and ex["household_class"] == "poor"
    r = run("check", POOR, "--on", ON, "--format", "json", "--lang", "en")
    assert json.loads(r.stdout) == ex


def test_read_survey_is_part_of_the_public_api():
    assert "read_survey" in tieuchi.__all__ and "check" in tieuchi.__all__
    assert tieuchi.read_survey is read_survey
