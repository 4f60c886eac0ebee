"""`tieuchi eligible` and tieuchi.outputs.eligible: who each program item may support, as ranked lists and counts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.api import Result
from tieuchi.cli import app
from tieuchi.outputs.eligible import eligibility_counts, eligibility_lists, item_units, require_program, write_lists
from tieuchi.errors import UsageError
from tieuchi.contract.workbook import read_workbook

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
TINY = ROOT / "datasets" / "examples" / "tiny"
RULES = tieuchi.load_rules(dt.date(2025, 6, 30))  # the items, their units and the priority groups are the rules'
ITEMS = item_units(RULES)
PRIORITY_ORDER = RULES.regime.program.priority_order
PROGRAM = RULES.regime.program.program
HOUSEHOLD_ITEMS = [i for i, u in ITEMS.items() if u == "household"]
PERSON_ITEMS = [i for i, u in ITEMS.items() if u == "person"]
WINDOW_VI = f"{PROGRAM.label.vi} áp dụng từ 2022-01-01 đến 2025-12-31"

B = "boolean"


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def hand_built(with_items: bool = True) -> Result:
    """Two communes, three villages; ids that sort differently as text and as numbers (2 < 10)."""
    hh = pd.DataFrame({
        "household_id": ["10", "2", "3", "1", "7", "8"],
        "regime": "vn_2022_2026",
        "household_class": ["poor", "near_poor", "poor", "other", "unknown", "poor"],
        "commune_code": ["07210", "07210", "07213", "07210", "07213", "07210"],
        "commune_name": ["Thị trấn Cao Thượng"] * 2 + ["Xã Cao Xá"] + ["Thị trấn Cao Thượng"] + ["Xã Cao Xá"]
                        + ["Thị trấn Cao Thượng"],
        "village": ["Tổ 1", "Tổ 2", "Thôn Hậu", "Tổ 1", "Thôn Hậu", "Tổ 2"],
    })
    mem = pd.DataFrame({
        "household_id": ["10", "10", "2", "3", "1", "7", "8", "8"],
        "member_no": [1, 2, 1, 1, 1, 1, 1, 2],
        "full_name": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Chi", "Phạm Văn Dũng", "Hoàng Thị Em", "Vũ Văn Giang",
                      "Đỗ Văn Hải", "Đỗ Thị Lan"],
        "age": [40, 12, 35, 50, 30, 44, 60, 9],
    })
    if with_items:
        hh["newly_escaped_poverty"] = pd.array([False, False, False, True, None, False], dtype=B)
        hh["no_labour_capacity"] = pd.array([False, False, False, False, None, True], dtype=B)
        hh["eligibility_class"] = ["poor", "near_poor", "poor", "other", "unknown", "poor"]
        hh["class_mismatch"] = pd.array([False, False, False, False, None, False], dtype=B)
        for i in HOUSEHOLD_ITEMS:
            hh[f"eligible_{i}"] = pd.array([True, True, True, True, None, True], dtype=B)
            hh[f"priority_{i}"] = pd.array([pd.NA] * 6, dtype="string")
        hh["eligible_p5_housing"] = pd.array([False, False, True, False, None, False], dtype=B)
        # household 8: two groups; 2: two groups of which one is higher than any of 8's; 10: one group
        hh["priority_p2_livelihood"] = pd.array(["poor", "disability;ethnic_minority", pd.NA, pd.NA, pd.NA,
                                                 "no_labour_capacity;poor"], dtype="string")
        for i in PERSON_ITEMS:
            mem[f"eligible_{i}"] = pd.array([True, False, True, True, True, None, False, False], dtype=B)
        mem["eligible_p3_2_nutrition"] = pd.array([False, True, False, False, False, None, False, True], dtype=B)
        mem["health_insurance_support"] = [1.0, 1.0, 0.7, 1.0, 0.0, None, 1.0, 1.0]
    return Result(households=hh, members=mem, rejects=pd.DataFrame(), regime="vn_2022_2026", rules_version="test",
                  reference_date=dt.date(2025, 6, 30), indicators=[])


# ------------------------------------------------------------------ the lists


def test_each_item_lists_exactly_the_rows_whose_eligible_column_is_true():
    r = hand_built()
    lists = eligibility_lists(r)
    assert list(lists) == list(ITEMS)
    for i in HOUSEHOLD_ITEMS:
        want = set(r.households.loc[r.households[f"eligible_{i}"].fillna(False).to_numpy(), "household_id"])
        assert set(lists[i]["household_id"]) == want
    for i in PERSON_ITEMS:
        m = r.members[r.members[f"eligible_{i}"].fillna(False).to_numpy()]
        assert set(zip(lists[i]["household_id"], lists[i]["member_no"])) == set(zip(m["household_id"], m["member_no"]))


def test_a_household_whose_class_is_unknown_is_on_no_list():
    lists = eligibility_lists(hand_built())
    assert all("7" not in set(df["household_id"]) for df in lists.values())


def test_a_list_is_ranked_by_commune_then_more_and_higher_priority_groups_then_id():
    df = eligibility_lists(hand_built(), item="p2_livelihood")["p2_livelihood"]
    # 07210: 2 (ethnic_minority+disability) before 8 (no_labour_capacity+poor), both two groups; then 10 (one group);
    # then 1 (none). 07213 comes after 07210.
    assert list(df["household_id"]) == ["2", "8", "10", "1", "3"]
    assert list(df["commune_code"]) == ["07210"] * 4 + ["07213"]
    assert list(df["rank"]) == [1, 2, 3, 4, 1]
    assert df["priority_groups"].iloc[0] == "ethnic_minority;disability"  # written in the order of PRIORITY_ORDER
    assert PRIORITY_ORDER[0] == "ethnic_minority"


def test_ids_that_are_all_digits_sort_as_numbers_and_members_by_member_no():
    df = eligibility_lists(hand_built(), item="p4_3_jobs")["p4_3_jobs"]
    assert list(zip(df["household_id"], df["member_no"])) == [("1", 1), ("2", 1), ("10", 1), ("3", 1)]


def test_a_person_list_carries_the_household_commune_village_and_class():
    df = eligibility_lists(hand_built(), item="p3_2_nutrition")["p3_2_nutrition"]
    assert list(df.columns) == ["rank", "household_id", "member_no", "commune_code", "commune_name", "village",
                                "eligibility_class", "priority_groups", "reason"]
    assert list(zip(df["household_id"], df["member_no"], df["village"])) == [("8", 2, "Tổ 2"), ("10", 2, "Tổ 1")]


def test_by_village_ranks_within_each_village():
    df = eligibility_lists(hand_built(), item="p2_livelihood", by="village")["p2_livelihood"]
    assert list(zip(df["village"], df["household_id"], df["rank"])) == [
        ("Tổ 1", "10", 1), ("Tổ 1", "1", 2), ("Tổ 2", "2", 1), ("Tổ 2", "8", 2), ("Thôn Hậu", "3", 1)]


def test_names_appear_only_when_asked_and_a_household_list_shows_the_head():
    r = hand_built()
    assert all("full_name" not in df.columns for df in eligibility_lists(r).values())
    named = eligibility_lists(r, show_names=True)
    hh = named["p2_livelihood"].set_index("household_id")["full_name"]
    assert hh["10"] == "Nguyễn Văn An" and hh["8"] == "Đỗ Văn Hải"
    people = named["p3_2_nutrition"]
    assert list(people["full_name"]) == ["Đỗ Thị Lan", "Trần Thị Bình"]


def test_the_reason_says_the_status_the_item_rules_reason_and_the_priority_groups_in_the_language_asked_for():
    vi = eligibility_lists(hand_built(), item="p2_livelihood")["p2_livelihood"].set_index("household_id")["reason"]
    en = eligibility_lists(hand_built(), item="p2_livelihood", lang="en")["p2_livelihood"] \
        .set_index("household_id")["reason"]
    assert vi["2"] == "Hộ cận nghèo: hộ nghèo, cận nghèo hoặc mới thoát nghèo; ưu tiên: dân tộc thiểu số, " \
        "người khuyết tật"
    assert en["2"] == "Near-poor household: poor, near-poor or newly escaped household; priority: ethnic minority, " \
        "disability"
    assert vi["1"].startswith("Hộ mới thoát nghèo")
    people = eligibility_lists(hand_built(), item="p4_3_jobs", lang="en")["p4_3_jobs"]
    assert people.set_index("household_id").loc["10", "reason"] == \
        "Member of a poor household: member able to work of a supported household"
    housing = eligibility_lists(hand_built(), item="p5_housing")["p5_housing"]
    assert housing["reason"].iloc[0].endswith("hộ nghèo, cận nghèo ở huyện nghèo thiếu nhà ở")


def test_the_commune_filter_keeps_one_commune_and_an_unknown_commune_is_a_usage_error():
    r = hand_built()
    lists = eligibility_lists(r, commune="07213")
    assert all(set(df["commune_code"]) <= {"07213"} for df in lists.values())
    assert set(eligibility_counts(r, commune="07213")["commune_code"]) == {"07213"}
    with pytest.raises(UsageError) as e:
        eligibility_lists(r, commune="99999")
    assert e.value.exit_code == 2 and "07210" in e.value.hint


# ------------------------------------------------------------------ the counts


def test_counts_equal_the_true_eligible_values_per_item_and_commune():
    r = hand_built()
    counts = eligibility_counts(r)
    hh, mem = r.households, r.members.merge(r.households[["household_id", "commune_code"]], on="household_id")
    for i, unit in ITEMS.items():
        rows = hh if unit == "household" else mem
        want = rows.groupby("commune_code")[f"eligible_{i}"].apply(lambda s: int(s.fillna(False).sum()))
        undecided = rows.groupby("commune_code")[f"eligible_{i}"].apply(lambda s: int(s.isna().sum()))
        got = counts[counts["item"] == i].set_index("commune_code")
        assert got["eligible"].to_dict() == want.to_dict(), i
        assert got["undecided"].to_dict() == undecided.to_dict(), i
        assert set(got["unit"]) == {unit}


def test_counts_per_village_include_villages_where_nobody_is_eligible():
    c = eligibility_counts(hand_built(), item="p5_housing", by="village")
    assert list(zip(c["commune_code"], c["village"], c["eligible"], c["undecided"])) == [
        ("07210", "Tổ 1", 0, 0), ("07210", "Tổ 2", 0, 0), ("07213", "Thôn Hậu", 1, 1)]


def test_by_village_without_a_village_column_is_a_usage_error():
    r = hand_built()
    r.households = r.households.drop(columns="village")
    with pytest.raises(UsageError, match="village"):
        eligibility_counts(r, by="village")


# ------------------------------------------------------------------ outside the program, unknown items


def test_a_result_without_item_columns_is_refused_naming_the_programs_window():
    with pytest.raises(UsageError) as e:
        require_program(hand_built(with_items=False))
    assert e.value.exit_code == 2
    assert e.value.in_lang("vi")[0] == WINDOW_VI
    assert "2022-01-01" in e.value.message and "2025-12-31" in e.value.message


def _rules_with_program(items_in_force: list, start=dt.date(2022, 1, 1), end=dt.date(2025, 12, 31)):
    from types import SimpleNamespace as NS

    validity = NS(start=start, end=end)
    program = NS(program=NS(validity=validity, label=PROGRAM.label), items=RULES.regime.program.items,
                 items_at=lambda day: (items_in_force, []))
    return NS(regime=NS(program=program))


def test_the_window_is_refused_before_reading_when_the_rules_put_no_item_in_force():
    from tieuchi.outputs.eligible import refuse_outside

    with pytest.raises(UsageError) as e:
        refuse_outside(_rules_with_program([]), dt.date(2026, 6, 30))
    assert e.value.in_lang("vi")[0] == WINDOW_VI and "2026-06-30" in e.value.in_lang("vi")[1]
    refuse_outside(_rules_with_program(["p2_livelihood"]), dt.date(2025, 6, 30))  # items in force: go on
    refuse_outside(object(), dt.date(2026, 6, 30))  # rules that know no programs: the result decides


def test_the_window_named_is_the_one_the_programs_rules_declare():
    r = hand_built(with_items=False)
    r.rules = _rules_with_program([], end=dt.date(2025, 11, 30))
    with pytest.raises(UsageError, match="2025-11-30"):
        require_program(r)


def test_an_unknown_item_is_a_usage_error_that_lists_the_items():
    with pytest.raises(UsageError) as e:
        eligibility_lists(hand_built(), item="p9_moon")
    assert all(i in e.value.hint for i in ITEMS)


# ------------------------------------------------------------------ files


def test_csv_and_parquet_write_one_file_per_item_counts_and_rejects(tmp_path):
    r = hand_built()
    lists, counts = eligibility_lists(r), eligibility_counts(r)
    for fmt in ("csv", "parquet"):
        paths = write_lists(lists, counts, r.rejects, tmp_path / fmt, fmt)
        assert {p.name for p in paths} == {f"eligible_{i}.{fmt}" for i in ITEMS} | {f"counts.{fmt}", f"rejects.{fmt}"}
    back = _read(tmp_path / "csv" / "eligible_p2_livelihood.csv")
    assert list(back["household_id"]) == ["2", "8", "10", "1", "3"]
    assert pd.read_parquet(tmp_path / "parquet" / "counts.parquet")["eligible"].sum() == counts["eligible"].sum()


def test_xlsx_writes_one_workbook_with_a_sheet_per_item_and_a_counts_sheet(tmp_path):
    r = hand_built()
    paths = write_lists(eligibility_lists(r), eligibility_counts(r), r.rejects, tmp_path, "xlsx")
    assert [p.name for p in paths] == ["eligible.xlsx"]
    sheets = read_workbook(paths[0], dtype=str)
    assert list(sheets) == list(ITEMS) + ["counts", "rejects"]
    assert len(sheets["p2_livelihood"]) == 5


# ------------------------------------------------------------------ the command


@pytest.fixture()
def fake_classify(monkeypatch):
    """The command's plumbing alone: classification replaced by the hand-built result."""
    calls = []

    def fake(households, members, on, **kw):
        calls.append(on)
        return hand_built()

    monkeypatch.setattr("tieuchi.api.classify", fake)  # what tieuchi.classify_survey calls after reading
    # the rules are read once (they name the items, their labels and the program's window), not per call
    monkeypatch.setattr("tieuchi.rulebook.load.load_rules", lambda day, rules=None: RULES)
    return calls


def test_the_command_writes_the_lists_counts_and_rejects_and_prints_the_counts(fake_classify, tmp_path):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {f"eligible_{i}.csv" for i in ITEMS} | {"counts.csv", "rejects.csv"}
    assert "Dự án 2" in r.stdout and "Đủ điều kiện" in r.stdout
    assert "full_name" not in _read(tmp_path / "out" / "eligible_p3_2_nutrition.csv").columns


def test_the_command_writes_names_only_with_show_names(fake_classify, tmp_path):
    run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "a", "--item", "p3_2_nutrition")
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "b", "--item", "p3_2_nutrition",
            "--show-names")
    assert r.exit_code == 0, r.output
    assert "full_name" not in _read(tmp_path / "a" / "eligible_p3_2_nutrition.csv").columns
    assert list(_read(tmp_path / "b" / "eligible_p3_2_nutrition.csv")["full_name"]) == ["Đỗ Thị Lan", "Trần Thị Bình"]


def test_the_command_with_one_item_and_xlsx_writes_one_sheet_and_counts(fake_classify, tmp_path):
    r = run("eligible", TINY, "--for-year", "2025", "--out", tmp_path, "--item", "p5_housing", "--format", "xlsx",
            "--by", "village")
    assert r.exit_code == 0, r.output
    sheets = read_workbook(tmp_path / "eligible.xlsx", dtype=str)
    assert list(sheets) == ["p5_housing", "counts", "rejects"]
    assert "village" in sheets["counts"].columns


def test_the_command_refuses_a_date_outside_the_program_with_exit_2_naming_the_window(monkeypatch, tmp_path):
    monkeypatch.setattr("tieuchi.api.classify", lambda *a, **k: hand_built(with_items=False))
    # the rules are read once (they name the items, their labels and the program's window), not per call
    monkeypatch.setattr("tieuchi.rulebook.load.load_rules", lambda day, rules=None: RULES)
    r = run("eligible", TINY, "--on", "2026-06-30", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert WINDOW_VI in r.stderr
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_an_unknown_item_with_exit_2_listing_the_items(tmp_path):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", "--item", "p9_moon", "--lang", "en")
    assert r.exit_code == 2
    assert "p9_moon" in r.stderr and all(i in r.stderr for i in ITEMS)


def test_the_command_refuses_an_unknown_by_or_format_with_exit_2(tmp_path):
    assert run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path, "--by", "district").exit_code == 2
    assert run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path, "--format", "pdf").exit_code == 2


# ------------------------------------------------------------------ on the real classification


@pytest.fixture(scope="module")
def demo_result():
    from tieuchi.contract.read import read_survey

    survey = read_survey(DEMO)
    return tieuchi.classify(survey.households, survey.members, on="2025-06-30", communes=survey.communes)


def test_the_real_classification_outside_the_program_window_is_refused_with_exit_2(tmp_path):
    r = run("eligible", TINY, "--on", "2026-06-30", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert WINDOW_VI in r.stderr


def test_on_the_demo_survey_at_2025_06_30_the_lists_and_counts_match_the_eligible_columns(demo_result, tmp_path):
    from tieuchi.outputs.eligible import items_in

    assert items_in(demo_result), "classify gives no eligible_<item> columns at 2025-06-30"
    r = run("eligible", DEMO, "--on", "2025-06-30", "--out", tmp_path)
    assert r.exit_code == 1, r.output  # the demo's five invalid households are rejected on purpose
    assert len(_read(tmp_path / "rejects.csv")) > 0
    counts = _read(tmp_path / "counts.csv")
    hh = demo_result.households.assign(commune_code=demo_result.households["commune_code"].astype(str),
                                       household_id=demo_result.households["household_id"].astype(str))
    mem = demo_result.members.assign(household_id=demo_result.members["household_id"].astype(str)) \
        .merge(hh[["household_id", "commune_code"]], on="household_id")
    assert set(items_in(demo_result)) == set(ITEMS)
    for i, unit in ITEMS.items():
        rows = hh if unit == "household" else mem
        flag = rows[f"eligible_{i}"].astype("boolean")
        want = flag.fillna(False).groupby(rows["commune_code"]).sum().astype(int).to_dict()
        got = counts[counts["item"] == i].set_index("commune_code")["eligible"].astype(int).to_dict()
        assert got == want, i
        listed = _read(tmp_path / f"eligible_{i}.csv")
        assert len(listed) == int(flag.fillna(False).sum()), i
        ids = ["household_id"] + (["member_no"] if unit == "person" else [])
        assert set(map(tuple, listed[ids].to_numpy().tolist())) == \
            set(map(tuple, rows.loc[flag.fillna(False).to_numpy(), ids].astype(str).to_numpy().tolist())), i


def test_a_status_the_programs_target_reads_gives_the_reason_of_a_household_it_qualifies():
    r = hand_built()
    r.households["eligibility_class"] = ["other", "near_poor", "poor", "other", "unknown", "poor"]
    r.households.loc[0, "newly_escaped_poverty"] = True  # household 10: class other, but newly escaped
    months = RULES.params["newly_escaped_months"]
    lists = eligibility_lists(r, "p2_livelihood")
    reason = lists["p2_livelihood"].set_index("household_id").loc["10", "reason"]
    assert reason.startswith(f"Hộ mới thoát nghèo (trong {months} tháng): ")
