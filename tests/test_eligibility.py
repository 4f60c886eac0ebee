"""Eligibility columns (data contract §2.1/§2.2, issue 4): statuses, recognised class, items, priority, shares."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import tieuchi
from hypothesis import given, settings, strategies as st

from tieuchi.contract.ages import add_months, add_months_one, last_start_ended_by

ADULT = {"activity": "self_employed", "has_health_insurance": "true", "enrolled": "false",
         "highest_qualification": "upper_secondary", "uses_internet": "true"}
MEMBERS = [
    {"member_no": 1, "sex": "male", "birth_date": "1984-03-10", "disability": "none", "can_work": "true",
     "ethnic_minority": "false", "meritorious_family": "false", **ADULT},
    {"member_no": 2, "sex": "female", "birth_date": "1986-07-20", "disability": "none", "can_work": "true",
     "ethnic_minority": "true", "meritorious_family": "false", "pregnant_or_nursing": "false", **ADULT},
    {"member_no": 3, "sex": "female", "birth_date": "2021-09-01", "disability": "none",
     "ethnic_minority": "true", "meritorious_family": "false", "pregnant_or_nursing": "false",
     "has_health_insurance": "true", "stunted": "false", "underweight": "false", "enrolled": "true",
     "school_level": "preschool", "uses_internet": "false"},
]
BASE = {"commune_code": "X01", "area": "rural", "income_per_capita_month": "1000000", "floor_area_m2": "60",
        "has_dwelling": "true", "foundation_durable": "true", "frame_wall_durable": "true", "roof_durable": "true",
        "water_source": "piped", "toilet_type": "septic", "info_devices": "tv;smartphone", "poor_commune": "false",
        "poor_district": "false", "main_livelihood": "agriculture"}


def survey(*households: dict):
    hh, mem = [], []
    for i, h in enumerate(households):
        hid = f"H{i}"
        hh.append({**BASE, **{k: v for k, v in h.items() if k != "members"}, "household_id": hid})
        for mb in h.get("members", MEMBERS):
            mem.append({**mb, "household_id": hid})
    return pd.DataFrame(hh).fillna(""), pd.DataFrame(mem).fillna("")


def run(*households, on="2024-12-01", engine="vectorized"):
    return tieuchi.classify(*survey(*households), on=on, engine=engine)


def test_add_months_clamps_to_the_end_of_the_month():
    days = np.array(["2022-01-31", "2021-02-28", "NaT"], dtype="datetime64[D]")
    out = add_months(days, 1)
    assert str(out[0]) == "2022-02-28" and str(out[1]) == "2021-03-28" and np.isnat(out[2])
    assert add_months_one(dt.date(2021, 11, 30), 36) == dt.date(2024, 11, 30)
    assert add_months_one(dt.date(2020, 2, 29), 12) == dt.date(2021, 2, 28)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)), months=st.integers(0, 120))
def test_a_window_still_open_is_exactly_a_start_after_the_last_start_that_has_ended(day, months):
    """`day < E + months` ⟺ `E > last_start_ended_by(day, months)`, the comparison the vectorized backend makes."""
    ended = last_start_ended_by(day, months)
    assert add_months_one(ended, months) <= day < add_months_one(ended + dt.timedelta(days=1), months)
    first = np.datetime64(day) - np.timedelta64(31 * months + 40, "D")
    last = np.datetime64(day) + np.timedelta64(3, "D")
    starts = np.arange(first, last)
    assert ((np.datetime64(day) < add_months(starts, months)) == (starts > np.datetime64(ended))).all()


def test_a_near_poor_household_gets_every_eligibility_column_and_its_members_shares():
    r = run({})
    h = r.households.iloc[0]
    assert h["household_class"] == "near_poor" and h["eligibility_class"] == "near_poor"
    assert h["class_mismatch"] is False or h["class_mismatch"] == False  # noqa: E712
    assert h["newly_escaped_poverty"] == False and h["no_labour_capacity"] == False  # noqa: E712
    for item in ("p2_livelihood", "p3_1_agri_production", "p6_1_information"):
        assert h[f"eligible_{item}"] == True, item  # noqa: E712
    assert h["eligible_p5_housing"] == False  # noqa: E712 - not a poor district
    assert h["priority_p2_livelihood"] == "ethnic_minority"
    m = r.members
    assert list(m["health_insurance_support"]) == [0.7, 0.7, 1.0]  # the child under 6 is paid in full
    assert list(m["eligible_p3_2_nutrition"]) == [False, False, True]
    assert list(m["eligible_p4_3_jobs"]) == [True, True, False]
    assert r.notes == []


def test_recognised_class_decides_eligibility_and_a_difference_is_flagged():
    r = run({"recognised_class": "poor"})
    h = r.households.iloc[0]
    assert h["household_class"] == "near_poor" and h["eligibility_class"] == "poor"
    assert h["class_mismatch"] == True  # noqa: E712
    assert h["priority_p2_livelihood"] == "ethnic_minority;woman_in_poor_household;poor"
    assert list(r.members["health_insurance_support"]) == [1.0, 1.0, 1.0]


def test_a_household_of_unknown_class_has_empty_only_what_its_class_would_decide():
    """Issue 10, item 18: each column follows its own condition; the class no longer blanks them all."""
    r = run({"income_per_capita_month": "", "floor_area_m2": ""})
    h = r.households.iloc[0]
    assert h["household_class"] == "unknown"
    for col in ("eligibility_class", "class_mismatch", "eligible_p2_livelihood"):
        assert pd.isna(h[col]), col
    assert h["newly_escaped_poverty"] == False  # noqa: E712 - no exit date: never exited
    assert h["no_labour_capacity"] == False  # noqa: E712 - two members can work, whatever the class
    assert h["priority_p2_livelihood"] == "ethnic_minority"  # the groups known to hold rank it, were it eligible
    assert r.members["health_insurance_support"].isna().tolist() == [True, True, False]
    assert r.members["health_insurance_support"].iloc[2] == 1.0  # the child under 6: paid whatever the class
    assert r.members["eligible_p4_3_jobs"].isna().tolist() == [True, True, False]


@pytest.mark.parametrize("exited, on, expected", [
    ("2022-06-30", "2022-06-30", True),  # first day of the window: the exit date itself
    ("2022-06-30", "2025-06-29", True),  # last day of the window
    ("2022-06-30", "2025-06-30", False),  # E + 36 months
    ("2022-06-30", "2022-06-29", False),  # before the exit
])
def test_newly_escaped_poverty_window(exited, on, expected):
    r = run({"income_per_capita_month": "5000000", "exited_poverty_on": exited}, on=on)
    h = r.households.iloc[0]
    assert h["newly_escaped_poverty"] == expected
    assert h["eligible_p2_livelihood"] == expected


def test_outside_the_program_window_items_are_absent_and_the_result_says_why():
    r = run({}, on="2026-03-01")
    assert not any(c.startswith("eligible_") for c in r.households.columns)
    assert not any(c.startswith("eligible_") for c in r.members.columns)
    assert "health_insurance_support" in r.members.columns
    assert len(r.notes) == 8 and all("2025-12-31" in n for n in r.notes)


def test_the_durable_backend_writes_the_same_eligibility_columns():
    pytest.importorskip("durable.engine")
    cases = [{}, {"recognised_class": "poor"}, {"income_per_capita_month": ""},
             {"income_per_capita_month": "5000000", "exited_poverty_on": "2021-12-01"},
             {"poor_commune": ""}, {"main_livelihood": "fishery", "income_per_capita_month": "2000000"},
             {"poor_district": "true", "independent_since": "2021-12-01", "floor_area_m2": "10",
              "received_housing_support": "false"}]
    a, b = run(*cases), run(*cases, engine="durable")
    for table in ("households", "members"):
        x, y = getattr(a, table), getattr(b, table)
        cols = [c for c in x.columns if c.startswith(("eligible_", "priority_")) or c in
                ("newly_escaped_poverty", "no_labour_capacity", "eligibility_class", "class_mismatch",
                 "health_insurance_support")]
        assert cols
        pd.testing.assert_frame_equal(x[cols], y[cols])
    assert a.households["eligible_p5_housing"].tolist()[-1] == True  # noqa: E712 - independent exactly 36 months


def test_the_communes_table_says_whether_a_commune_is_poor_and_the_household_column_is_used_only_without_it():
    import tieuchi
    from tieuchi.casework.cases import tables

    doc = {"household_id": "H1", "commune_code": "X01", "area": "rural", "income_per_capita_month": 1200000,
           "members": [{"member_no": 1, "sex": "female", "birth_date": "1990-01-01", "has_health_insurance": True}]}
    other = dict(doc, household_id="H2", commune_code="X02", poor_commune=True)
    hh, mem = tables([doc, other])
    communes = pd.DataFrame({"commune_code": ["X01", "X02"], "poor_commune": ["true", ""]})
    r = tieuchi.classify(hh, mem, on="2025-06-30", communes=communes)
    poor = dict(zip(r.households["household_id"], r.households["poor_commune"]))
    assert poor == {"H1": True, "H2": True}  # H1 from the communes table, H2 from its own column
    r2 = tieuchi.classify(hh, mem, on="2025-06-30")
    assert pd.isna(dict(zip(r2.households["household_id"], r2.households["poor_commune"]))["H1"])
