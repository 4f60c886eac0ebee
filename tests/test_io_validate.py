"""Column-wise normalisation and the rejection rules of data contract §2.3."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieuchi.errors import UsageError
from tieuchi.contract.problems import PROBLEMS
from tieuchi.contract.read import REJECT_COLUMNS
from tieuchi.contract.validate import normalize, problem_text

ON = dt.date(2025, 1, 1)


def survey(hh_rows, mem_rows):
    hh = pd.DataFrame(hh_rows, columns=["household_id", "commune_code", "area", "income_per_capita_month"],
                      dtype="str")
    mem = pd.DataFrame(mem_rows, columns=["household_id", "member_no", "sex", "birth_date", "birth_year"],
                       dtype="str")
    return hh, mem


def good():
    return survey([["H1", "X", "rural", "1000000"], ["H2", "X", "Thành thị", "1.500.000"]],
                  [["H1", "1", "Nam", "15/03/1980", None], ["H1", "2", "Nữ", None, "1982"],
                   ["H2", "1", "female", "1990-01-01", "1990"]])


def problems(out):
    return sorted(zip(out.rejects["table"], out.rejects["row"], out.rejects["column"].fillna(""),
                      out.rejects["problem"]))


def test_a_clean_text_survey_is_typed_with_the_contract_dtypes():
    out = normalize(*good(), on=ON)
    assert len(out.rejects) == 0 and list(out.rejects.columns) == REJECT_COLUMNS
    h, m = out.households, out.members
    assert isinstance(h["area"].dtype, pd.CategoricalDtype) and h["area"].tolist() == ["rural", "urban"]
    assert str(h["income_per_capita_month"].dtype) == "Int64"
    assert h["income_per_capita_month"].tolist() == [1_000_000, 1_500_000]
    assert m["sex"].tolist() == ["male", "female", "female"]
    assert str(m["birth_year"].dtype) == "Int64" and str(m["member_no"].dtype) == "Int64"
    assert np.issubdtype(m["birth_date"].dtype, np.datetime64)
    assert out.member_hh_pos.tolist() == [0, 0, 1]
    assert out.birth.dtype == np.dtype("datetime64[D]")
    assert out.birth.astype(str).tolist() == ["1980-03-15", "1982-07-01", "1990-01-01"]
    assert pd.isna(m["birth_date"][1])  # the 1 July default is not written into birth_date
    assert out.hh_rows.tolist() == [1, 2] and out.member_rows.tolist() == [1, 2, 3]


def test_booleans_numbers_and_device_sets_are_parsed_in_every_accepted_spelling():
    hh, mem = good()
    hh["received_housing_support"] = ["CÓ", "no"]  # (not has_dwelling: "no dwelling" with a floor area is refused)
    hh["floor_area_m2"] = ["45,5", "1,500"]
    hh["info_devices"] = ["Ti vi; smartphone;tv", "Không có thiết bị nào"]
    mem["has_health_insurance"] = ["true", "0", "Không"]
    out = normalize(hh, mem, on=ON)
    assert len(out.rejects) == 0
    assert str(out.households["received_housing_support"].dtype) == "boolean"
    assert out.households["received_housing_support"].tolist() == [True, False]
    assert str(out.households["floor_area_m2"].dtype) == "Float64"
    assert out.households["floor_area_m2"].tolist() == [45.5, 1500.0]
    assert out.households["info_devices"].tolist() == ["smartphone;tv", "none"]
    assert out.members["has_health_insurance"].tolist() == [True, False, False]


def test_na_is_a_value_and_is_rejected_as_an_invalid_code():
    hh, mem = good()
    hh.loc[0, "area"] = "NA"
    out = normalize(hh, mem, on=ON)
    assert ("households", 1, "area", "invalid_code") in problems(out)
    assert out.rejects.loc[out.rejects["column"] == "area", "value"].tolist() == ["NA"]


def test_none_combined_with_a_device_is_invalid():
    hh, mem = good()
    hh["info_devices"] = ["none;tv", None]
    assert ("households", 1, "info_devices", "invalid_code") in problems(normalize(hh, mem, on=ON))


@pytest.mark.parametrize("column,value,problem", [
    ("income_per_capita_month", "-5", "out_of_range"),
    ("income_per_capita_month", "abc", "invalid_number"),
    ("commune_code", None, "required"),
    ("area", None, "required"),
    ("area", "núi", "invalid_code"),
])
def test_an_invalid_household_row_rejects_the_household_and_all_its_members(column, value, problem):
    hh, mem = good()
    hh.loc[0, column] = value
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("households", 1, column, problem),
                             ("members", 1, "", "household_rejected"), ("members", 2, "", "household_rejected")]
    assert out.households["household_id"].tolist() == ["H2"] and out.member_hh_pos.tolist() == [0]
    assert out.hh_rows.tolist() == [2] and out.member_rows.tolist() == [3]


@pytest.mark.parametrize("column,value,problem", [
    ("member_no", "0", "out_of_range"),
    ("member_no", "1.5", "invalid_number"),
    ("sex", "x", "invalid_code"),
    ("sex", None, "required"),
    ("birth_date", "31/02/1980", "invalid_date"),
    ("birth_date", "2030-01-01", "birth_in_future"),
    ("birth_year", "1978", "birth_mismatch"),
])
def test_an_invalid_member_row_rejects_its_whole_household(column, value, problem):
    hh, mem = good()
    mem.loc[0, column] = value
    if column == "birth_year":
        mem.loc[0, "birth_date"] = "1979-05-05"
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("households", 1, "", "member_rejected"), ("members", 1, column, problem),
                             ("members", 2, "", "household_rejected")]
    assert out.members["household_id"].tolist() == ["H2"]


def test_a_birth_year_before_1900_or_after_the_reference_year_is_out_of_range():
    hh, mem = good()
    mem.loc[1, "birth_year"] = "1850"
    mem.loc[2, "birth_year"] = "2026"
    mem.loc[2, "birth_date"] = None
    found = problems(normalize(hh, mem, on=ON))
    assert ("members", 2, "birth_year", "out_of_range") in found
    assert ("members", 3, "birth_year", "out_of_range") in found


def test_a_member_with_neither_birth_date_nor_birth_year_is_rejected():
    hh, mem = good()
    mem.loc[1, "birth_year"] = None
    assert ("members", 2, "birth_date", "required") in problems(normalize(hh, mem, on=ON))


def test_every_row_of_a_duplicated_household_id_is_rejected():
    hh, mem = survey([["H1", "X", "rural", "1"], ["H2", "X", "rural", "1"], ["H1", "Y", "urban", "2"]],
                     [["H1", "1", "Nam", None, "1980"], ["H2", "1", "Nam", None, "1980"]])
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("households", 1, "household_id", "duplicate_household_id"),
                             ("households", 3, "household_id", "duplicate_household_id"),
                             ("members", 1, "", "household_rejected")]


def test_a_duplicated_member_number_rejects_the_household():
    hh, mem = good()
    mem.loc[1, "member_no"] = "1"
    assert problems(normalize(hh, mem, on=ON)) == [
        ("households", 1, "", "member_rejected"), ("members", 1, "member_no", "duplicate_member_no"),
        ("members", 2, "member_no", "duplicate_member_no")]


def test_a_household_with_no_members_is_rejected():
    hh, mem = good()
    out = normalize(hh, mem[mem["household_id"] == "H1"].reset_index(drop=True), on=ON)
    assert problems(out) == [("households", 2, "", "no_members")]


def test_a_member_whose_household_does_not_exist_is_rejected_alone():
    hh, mem = good()
    mem.loc[3] = ["H9", "1", "Nam", None, "1970"]
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("members", 4, "household_id", "unknown_household")]
    assert len(out.households) == 2 and len(out.members) == 3


def test_a_member_with_a_blank_household_id_rejects_the_household_above_it_and_itself():
    hh, mem = good()
    mem.loc[1, "household_id"] = None  # H1's second member, below H1's first
    mem.loc[3] = ["  ", "2", "Nam", None, "1970"]  # below H2's member: whitespace is blank too
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("households", 1, "", "member_rejected"), ("households", 2, "", "member_rejected"),
                             ("members", 1, "", "household_rejected"), ("members", 2, "household_id",
                             "household_id_blank"), ("members", 3, "", "household_rejected"),
                             ("members", 4, "household_id", "household_id_blank")]
    assert len(out.households) == 0 and len(out.members) == 0


def test_a_member_with_a_blank_household_id_and_no_row_above_is_rejected_alone():
    hh, mem = good()
    mem = pd.concat([pd.DataFrame([[None, "1", "Nam", None, "1970"]], columns=mem.columns), mem], ignore_index=True)
    out = normalize(hh, mem, on=ON)
    assert problems(out) == [("members", 1, "household_id", "household_id_blank")]
    assert len(out.households) == 2 and len(out.members) == 3


def test_members_out_of_household_order_are_matched_by_lookup():
    hh, mem = good()
    out = normalize(hh, mem.iloc[[2, 0, 1]].reset_index(drop=True), on=ON)
    assert len(out.rejects) == 0 and out.member_hh_pos.tolist() == [1, 0, 0]


def test_a_required_column_missing_from_a_table_is_a_usage_error_naming_it_and_its_vietnamese_header():
    hh, mem = good()
    with pytest.raises(UsageError) as e:
        normalize(hh.drop(columns="area"), mem)
    assert "area" in e.value.message and "Khu vực" in e.value.message and "households" in e.value.message
    with pytest.raises(UsageError, match="birth_date"):
        normalize(hh, mem.drop(columns=["birth_date", "birth_year"]))


def test_typed_input_passes_through_without_copying():
    hh = pd.DataFrame({"household_id": np.arange(3), "commune_code": ["X"] * 3,
                       "area": pd.Categorical(["rural", "urban", "rural"]),
                       "income_per_capita_month": pd.array([1, None, 3], dtype="Int64")})
    mem = pd.DataFrame({"household_id": np.repeat(np.arange(3), 2), "member_no": pd.array([1, 2] * 3, dtype="Int64"),
                        "sex": pd.Categorical(["male", "female"] * 3),
                        "birth_date": pd.to_datetime(["1980-01-01"] * 6),
                        "can_work": pd.array([True, None] * 3, dtype="boolean")})
    out = normalize(hh, mem, on=ON)
    assert len(out.rejects) == 0
    assert out.households is hh and out.members is mem
    assert out.member_hh_pos.tolist() == [0, 0, 1, 1, 2, 2]


def test_categorical_aliases_are_recoded_through_their_categories():
    hh, mem = good()
    mem["sex"] = pd.Categorical(["Nam", "Nữ", "NA"])
    out = normalize(hh, mem, on=ON)
    assert ("members", 3, "sex", "invalid_code") in problems(out)
    assert out.members["sex"].tolist() == ["male", "female"]
    assert set(out.members["sex"].cat.categories) <= {"male", "female"}


def test_a_bad_communes_row_is_dropped_without_rejecting_households():
    hh, mem = good()
    com = pd.DataFrame({"Mã xã": ["X", "Y", "Y", "Z"], "Tổng số hộ": ["100", "5", "6", "-1"]}, dtype="str")
    from tieuchi.contract.read import canonicalise

    out = normalize(hh, mem, canonicalise(com, "communes", "test"), on=ON)
    assert problems(out) == [("communes", 2, "commune_code", "duplicate_commune_code"),
                             ("communes", 3, "commune_code", "duplicate_commune_code"),
                             ("communes", 4, "households_total", "out_of_range")]
    assert out.communes["commune_code"].tolist() == ["X"] and len(out.households) == 2


def test_every_problem_code_has_a_vietnamese_and_an_english_sentence():
    for code in PROBLEMS:
        assert problem_text(code, "vi") != problem_text(code, "en")
    assert "Mã hộ" in problem_text("duplicate_household_id")


# --------------------------------------------------------------------------- nothing lost, nothing doubled

CELL = {
    "household_id": st.sampled_from(["H1", "H2", "H3", None]),
    "commune_code": st.sampled_from(["X", None]),
    "area": st.sampled_from(["rural", "Thành thị", "NA", None]),
    "income_per_capita_month": st.sampled_from(["1.500.000", "0", "-1", "x", None]),
    "member_no": st.sampled_from(["1", "2", "0", "a", None]),
    "sex": st.sampled_from(["Nam", "female", "?", None]),
    "birth_date": st.sampled_from(["15/03/1980", "1980-13-01", "2099-01-01", None]),
    "birth_year": st.sampled_from(["1980", "1850", "1981", None]),
}
HH_COLS = ["household_id", "commune_code", "area", "income_per_capita_month"]
MEM_COLS = ["household_id", "member_no", "sex", "birth_date", "birth_year"]


def rows(cols, n):
    return st.lists(st.fixed_dictionaries({c: CELL[c] for c in cols}), max_size=n)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows(HH_COLS, 5), rows(MEM_COLS, 8))
def test_every_input_row_is_either_accepted_or_rejected_never_both_never_neither(hh_rows, mem_rows):
    hh = pd.DataFrame(hh_rows, columns=HH_COLS, dtype="str")
    mem = pd.DataFrame(mem_rows, columns=MEM_COLS, dtype="str")
    out = normalize(hh, mem, on=ON)
    for table, n, accepted in (("households", len(hh), out.hh_rows), ("members", len(mem), out.member_rows)):
        rejected = set(out.rejects.loc[out.rejects["table"] == table, "row"])
        assert rejected.isdisjoint(accepted)
        assert rejected | set(accepted) == set(range(1, n + 1))
    # accepted members point at their own, accepted household
    assert (out.households["household_id"].to_numpy()[out.member_hh_pos]
            == out.members["household_id"].to_numpy()).all()
    # a household is accepted only with all its members
    kept = set(out.households["household_id"])
    assert sum(mem["household_id"].isin(kept)) == len(out.members)
    # ... and a member row with a blank id belongs to the household of the nearest row above that has one
    above = mem["household_id"].ffill()
    assert not set(above[mem["household_id"].isna()].dropna()) & kept


def test_integer_household_ids_match_members_whose_ids_are_text():
    hh, mem = good()
    hh["household_id"] = [1, 2]
    mem["household_id"] = ["1", "1", "2"]
    out = normalize(hh, mem, on=ON)
    assert len(out.rejects) == 0 and out.member_hh_pos.tolist() == [0, 0, 1]
    assert out.households["household_id"].tolist() == [1, 2]  # the user's dtype is kept
