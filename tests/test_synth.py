"""The synthetic survey generator: reproducible, contract-shaped, plausible, and calibrated.

The calibration test uses its own plain-pandas reading of the 12 indicators of the 2022–2026 standard (domain brief
§3), independent of the engine, so that the generator can be checked while the engine is being written.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

try:
    from tieuchi.devtools import synth
except ModuleNotFoundError:  # running from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from tieuchi.devtools import synth

REF = pd.Timestamp(synth.DEFAULT_REFERENCE_DATE)

HOUSEHOLD_COLUMNS = [
    "household_id", "commune_code", "commune_name", "village", "area", "income_per_capita_month", "income_score_a",
    "floor_area_m2", "has_dwelling", "foundation_durable", "frame_wall_durable", "roof_durable", "water_source",
    "toilet_type", "info_devices", "waste_treatment", "main_livelihood", "poor_commune", "independent_since",
    "previous_class", "exited_poverty_on", "exited_near_poverty_on", "received_housing_support",
]
MEMBER_COLUMNS = [
    "household_id", "member_no", "full_name", "sex", "birth_date", "birth_year", "ethnic_minority", "disability",
    "can_work", "activity", "has_labour_contract", "has_health_insurance", "stunted", "underweight", "enrolled",
    "school_level", "highest_qualification", "uses_internet", "uses_digital_services", "pregnant_or_nursing",
    "meritorious_family",
]
COMMUNE_COLUMNS = ["commune_code", "commune_name", "households_total", "population_total", "poor_commune"]


# ---- independent reference reading of the 2022–2026 standard (simple; missing answers read as "no") ----------------
SAFE_WATER = {"piped", "drilled_well", "protected_dug_well", "protected_spring", "rainwater", "bottled"}
HYGIENIC = {"septic", "semi_septic", "pour_flush", "double_vault", "ventilated_pit"}
DEVICES_COUNTED = {"tv", "radio", "desktop", "laptop", "smartphone", "tablet"}
QUAL_16_17 = {"lower_secondary", "upper_secondary", "vocational_elementary", "vocational_intermediate", "college",
              "university"}
QUAL_18_30 = {"upper_secondary", "vocational_elementary", "vocational_intermediate", "college", "university"}
LEVELS = ["preschool", "primary", "lower_secondary", "upper_secondary"]


def member_ages(members: pd.DataFrame, ref: pd.Timestamp = REF) -> pd.Series:
    birth = members["birth_date"].copy()
    by = members["birth_year"]
    birth = birth.where(birth.notna(), pd.to_datetime(by.astype("string") + "-07-01", errors="coerce"))
    years = ref.year - birth.dt.year
    before_birthday = (birth.dt.month > ref.month) | ((birth.dt.month == ref.month) & (birth.dt.day > ref.day))
    return (years - before_birthday.astype(int)).astype(float)


def over_working_age(members: pd.DataFrame, ref: pd.Timestamp = REF) -> pd.Series:
    """Decree 135/2020: men retire at 60y3m in 2021 + 3 months a year up to 62y; women 55y4m + 4 months a year up
    to 60y; the age that applies is the one of the year in which the member reaches it. A birth year alone means
    1 July."""
    birth = members["birth_date"].copy()
    birth = birth.where(birth.notna(), pd.to_datetime(members["birth_year"].astype("string") + "-07-01",
                                                      errors="coerce"))
    men = (members["sex"].astype("string") == "male").to_numpy()
    by, bm, bd = birth.dt.year.to_numpy(), birth.dt.month.to_numpy(), birth.dt.day.to_numpy()
    age_months = (ref.year - by) * 12 + (ref.month - bm) - (ref.day < bd)

    def rule(year):
        k = np.maximum(year - 2021, 0)
        return np.where(men, np.minimum(723 + 3 * k, 744), np.minimum(664 + 4 * k, 720))

    r = rule(np.full(len(by), ref.year))
    for _ in range(3):  # the year in which the member reaches retirement age decides which age applies
        r = rule(by + (bm - 1 + r) // 12)
    return pd.Series(age_months >= r, index=members.index)


def reference_deprivations(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per indicator, indexed by household_id."""
    m = members
    age = member_ages(m)
    t = lambda col: m[col].fillna(False).astype(bool)  # noqa: E731
    f = lambda col: (m[col] == False).fillna(False).astype(bool)  # noqa: E712,E731
    over = over_working_age(m)
    working = (age >= 15) & ~over
    act = m["activity"].astype("string")
    qual = m["highest_qualification"].astype("string")
    level = m["school_level"].astype("string")
    sev = m["disability"].astype("string").isin(["severe", "especially_severe"])

    employment = working & t("can_work") & ((act == "unemployed") | ((act == "wage_employee")
                                                                    & f("has_labour_contract")))
    dependant = (age < 16) | over | sev.fillna(False) | (working & f("can_work"))
    nutrition = (age < 16) & (t("stunted") | t("underweight"))
    uninsured = (age >= 6) & f("has_health_insurance")
    not_enrolled = f("enrolled")
    adult_edu = not_enrolled & (((age >= 16) & (age <= 17) & ~qual.isin(QUAL_16_17).fillna(False))
                                | ((age >= 18) & (age <= 30) & ~qual.isin(QUAL_18_30).fillna(False)))
    lvl = level.map({k: i for i, k in enumerate(LEVELS)}).astype(float)
    lvl = lvl.where(~level.isin(["vocational"]).fillna(False), 3.0)
    expected = np.select([age < 6, age < 11, age < 15], [0, 1, 2], 2)  # age 15: lower secondary or above
    child = (age >= 3) & (age < 16)
    wrong_level = t("enrolled") & (lvl < expected - (age >= 6).astype(int))
    child_school = child & (not_enrolled | wrong_level.fillna(False))

    g = pd.DataFrame({"household_id": m["household_id"], "employment": employment, "dependant": dependant,
                      "nutrition": nutrition, "health_insurance": uninsured, "adult_education": adult_edu,
                      "child_schooling": child_school, "internet": t("uses_internet"), "one": 1})
    agg = g.groupby("household_id", sort=False).agg(
        employment=("employment", "any"), dependants=("dependant", "sum"), nutrition=("nutrition", "any"),
        health_insurance=("health_insurance", "any"), adult_education=("adult_education", "any"),
        child_schooling=("child_schooling", "any"), internet=("internet", "any"), size=("one", "sum"))
    h = households.set_index("household_id")
    agg = agg.reindex(h.index)
    hb = lambda col: (h[col] == False).fillna(False).astype(bool)  # noqa: E712,E731
    non_durable = hb("foundation_durable").astype(int) + hb("frame_wall_durable").astype(int) + hb(
        "roof_durable").astype(int)
    devices = h["info_devices"].astype("string").fillna("").str.split(";")
    has_device = devices.map(lambda ds: bool(DEVICES_COUNTED.intersection(ds)))
    return pd.DataFrame({
        "employment": agg["employment"],
        "dependants": agg["dependants"] / agg["size"] > 0.5,
        "nutrition": agg["nutrition"],
        "health_insurance": agg["health_insurance"],
        "adult_education": agg["adult_education"],
        "child_schooling": agg["child_schooling"],
        "housing_quality": hb("has_dwelling") | (non_durable >= 2),
        "housing_area": (h["floor_area_m2"].astype(float) / agg["size"]) < 8,
        "water": ~h["water_source"].astype("string").isin(SAFE_WATER).fillna(False),
        "sanitation": ~h["toilet_type"].astype("string").isin(HYGIENIC).fillna(False),
        "telecom": ~agg["internet"],
        "information_devices": ~has_device,
    }, index=h.index).astype(bool)


def reference_classes(households: pd.DataFrame, members: pd.DataFrame) -> pd.Series:
    h = households.set_index("household_id")
    urban = h["area"].astype("string") == "urban"
    line = np.where(urban, 2_000_000, 1_500_000)
    upper = np.where(urban, 3_000_000, 2_250_000)
    cut = np.where(urban, 175, 140)
    inc = h["income_per_capita_month"].astype("Float64")
    score = h["income_score_a"].astype("Float64")
    low = (inc <= line).fillna(False) | (inc.isna() & (score <= cut).fillna(False))
    n = reference_deprivations(households, members).sum(axis=1)
    cls = np.select([low & (n >= 3), low, (inc <= upper).fillna(False), inc.notna()],
                    ["poor", "near_poor", "average_living", "other"], "unknown")
    return pd.Series(cls, index=h.index)


# ---- tests -----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def survey():
    return synth.generate_survey(4000, n_communes=6, seed=11)


def test_the_same_seed_gives_identical_frames_and_another_seed_does_not():
    a = synth.generate_survey(800, n_communes=4, seed=5, missing_rate=0.02)
    b = synth.generate_survey(800, n_communes=4, seed=5, missing_rate=0.02)
    c = synth.generate_survey(800, n_communes=4, seed=6, missing_rate=0.02)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    assert not a[0].equals(c[0])


def test_columns_follow_the_data_contract(survey):
    hh, mem, com = survey
    assert list(hh.columns) == HOUSEHOLD_COLUMNS
    assert list(mem.columns) == MEMBER_COLUMNS
    assert list(com.columns) == COMMUNE_COLUMNS


def test_typed_frames_have_parquet_like_dtypes(survey):
    hh, mem, com = survey
    assert hh["household_id"].dtype == "int64" and mem["household_id"].dtype == "int64"
    for col in ["area", "water_source", "toilet_type", "main_livelihood", "previous_class"]:
        assert isinstance(hh[col].dtype, pd.CategoricalDtype), col
    for col in ["sex", "disability", "activity", "school_level", "highest_qualification"]:
        assert isinstance(mem[col].dtype, pd.CategoricalDtype), col
    assert hh["income_per_capita_month"].dtype == "Int64"
    assert hh["has_dwelling"].dtype == "boolean" and mem["has_health_insurance"].dtype == "boolean"
    assert str(mem["birth_date"].dtype).startswith("datetime64")
    assert mem["full_name"].dtype == "string"
    # dictionary-encoded, as Parquet keeps codes
    for col in ["commune_code", "commune_name", "village", "info_devices"]:
        assert isinstance(hh[col].dtype, pd.CategoricalDtype), col


def test_every_code_is_one_the_contract_allows(survey):
    hh, mem, _ = survey
    allowed = {"area": synth.AREA, "water_source": synth.WATER, "toilet_type": synth.TOILET,
               "waste_treatment": synth.WASTE, "main_livelihood": synth.LIVELIHOOD, "previous_class": synth.CLASSES}
    for col, codes in allowed.items():
        assert set(hh[col].dropna().astype(str)) <= set(codes), col
    allowed_m = {"sex": synth.SEX, "disability": synth.DISABILITY, "activity": synth.ACTIVITY,
                 "school_level": synth.SCHOOL, "highest_qualification": synth.QUALIF}
    for col, codes in allowed_m.items():
        assert set(mem[col].dropna().astype(str)) <= set(codes), col
    devices = set(";".join(hh["info_devices"].dropna()).split(";"))
    assert devices <= set(synth.DEVICES) | {"none"}
    assert not hh["info_devices"].str.contains("none;|;none", regex=True).any()


def test_ids_are_unique_and_every_member_has_a_household(survey):
    hh, mem, com = survey
    assert hh["household_id"].is_unique
    assert mem["household_id"].isin(hh["household_id"]).all()
    assert not mem.duplicated(["household_id", "member_no"]).any()
    assert (mem.groupby("household_id")["member_no"].min() == 1).all()
    assert set(hh["commune_code"]) <= set(com["commune_code"])


def test_households_average_about_three_and_three_quarter_members_between_one_and_nine():
    hh, mem, _ = synth.generate_survey(20000, seed=3)
    sizes = mem.groupby("household_id").size()
    assert sizes.min() >= 1 and sizes.max() <= 9
    assert 3.6 <= sizes.mean() <= 3.9


def test_ages_are_plausible_and_heads_are_adults(survey):
    _, mem, _ = survey
    age = member_ages(mem)
    assert age.between(0, 102).all()
    assert (age[mem["member_no"] == 1] >= 18).all()
    assert 0.15 < (age < 16).mean() < 0.35
    assert 0.08 < (age >= 60).mean() < 0.30
    # each member has a birth date or a birth year, never neither
    assert (mem["birth_date"].notna() | mem["birth_year"].notna()).all()


def test_schooling_follows_age(survey):
    _, mem, _ = survey
    age = member_ages(mem)
    primary_age = mem[(age >= 7) & (age <= 10)]
    assert primary_age["enrolled"].mean() > 0.9
    assert (primary_age["school_level"].dropna().astype(str).isin(["preschool", "primary"])).all()
    assert mem.loc[age < 3, "school_level"].isna().all()
    assert mem.loc[age < 6, "highest_qualification"].dropna().astype(str).eq("none").all()


def test_about_nine_in_ten_members_are_insured_and_most_households_are_rural(survey):
    hh, mem, _ = survey
    assert 0.88 <= mem["has_health_insurance"].mean() <= 0.96
    assert 0.06 <= (hh["area"] == "urban").mean() <= 0.14


def test_the_commune_table_counts_more_households_than_were_surveyed(survey):
    hh, _, com = survey
    surveyed = hh.groupby("commune_code").size()
    total = com.set_index("commune_code")["households_total"]
    assert (total.reindex(surveyed.index) >= surveyed).all()
    assert (com["population_total"] > com["households_total"]).all()
    assert com["commune_name"].str.match(r"^(Xã|Thị trấn) ").all()


def test_a_small_share_gives_only_score_a_instead_of_income(survey):
    hh, _, _ = survey
    only_score = hh["income_per_capita_month"].isna() & hh["income_score_a"].notna()
    assert 0.01 < only_score.mean() < 0.06
    assert (hh["income_per_capita_month"].notna() ^ hh["income_score_a"].notna()).all()


def test_missing_rate_blanks_about_that_share_of_optional_answers():
    hh, mem, _ = synth.generate_survey(5000, seed=2, missing_rate=0.05)
    assert 0.03 < hh["toilet_type"].isna().mean() < 0.07
    assert 0.03 < mem["has_health_insurance"].isna().mean() < 0.07
    assert hh["area"].notna().all() and mem["sex"].notna().all()


def test_untyped_frames_are_text_with_empty_cells_for_missing():
    hh, mem, com = synth.generate_survey(300, n_communes=3, seed=4, missing_rate=0.05, typed=False)
    for df in (hh, mem, com):
        for col in df.columns:
            assert pd.api.types.is_string_dtype(df[col].dtype), col
    assert set(hh["has_dwelling"].dropna()) <= {"true", "false"}
    assert hh["commune_code"].str.fullmatch(r"\d{5}").all()
    csv = hh.to_csv(index=False)
    assert ",nan," not in csv and ",None," not in csv and ",<NA>," not in csv
    typed = synth.generate_survey(300, n_communes=3, seed=4, missing_rate=0.05)[0]
    assert (typed["income_per_capita_month"].isna() == hh["income_per_capita_month"].isna()).all()


def test_poor_and_near_poor_shares_are_calibrated_on_fifty_thousand_households():
    hh, mem, _ = synth.generate_survey(50_000, n_communes=20, seed=2024)
    cls = reference_classes(hh, mem)
    share = cls.value_counts(normalize=True)
    assert 0.015 <= share.get("poor", 0) <= 0.03, share
    assert 0.02 <= share.get("near_poor", 0) <= 0.04, share
    # deprivations go with low income: most poor-or-near-poor households have some, rich ones few
    n = reference_deprivations(hh, mem).sum(axis=1)
    assert n[cls.isin(["poor", "near_poor"])].mean() > 2 * n[cls == "other"].mean()


def test_the_manifest_matches_the_committed_dataset_files():
    import hashlib
    import json

    root = Path(__file__).resolve().parents[1] / "datasets"
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"], "manifest lists no files"
    for rel, entry in manifest["files"].items():
        data = (root / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{rel} changed: rerun scripts/make_datasets.py"
