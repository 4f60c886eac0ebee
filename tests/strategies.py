"""Hypothesis strategies: whole households as JSON documents (data contract §1.4), missing answers included."""
from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

ON = dt.date(2024, 12, 1)
LINES = {"rural": (1_500_000, 2_250_000), "urban": (2_000_000, 3_000_000)}

WATER = ["piped", "drilled_well", "protected_dug_well", "unprotected_dug_well", "protected_spring",
         "unprotected_spring", "rainwater", "bottled", "surface_water", "other"]
TOILET = ["septic", "semi_septic", "pour_flush", "double_vault", "ventilated_pit", "simple_pit", "bucket", "none",
          "other"]
DEVICES = ["tv", "radio", "desktop", "laptop", "smartphone", "basic_phone", "tablet"]
ACTIVITY = ["wage_employee", "self_employed", "family_worker", "unemployed", "student", "inactive", "retired"]
LEVELS = ["preschool", "primary", "lower_secondary", "upper_secondary", "vocational", "college", "university"]
QUALS = ["none", "primary", "lower_secondary", "upper_secondary", "vocational_elementary", "vocational_intermediate",
         "college", "university"]
DISABILITY = ["none", "mild", "severe", "especially_severe"]
CLASSES = ["poor", "near_poor", "average_living", "other"]
# the differential batches' reference dates, 36 months earlier, and the days either side
_REFS = [dt.date(2024, 12, 1), dt.date(2025, 3, 1), dt.date(2026, 1, 10)]
EDGE_DATES = sorted({d + dt.timedelta(days=k) for r in _REFS for d in (r, r.replace(year=r.year - 3))
                     for k in (-1, 0, 1)})


def maybe(strategy, missing: bool = True):
    return st.one_of(st.none(), strategy) if missing else strategy


def incomes(area: str):
    line, upper = LINES[area]
    edges = [0, line - 1, line, line + 1, upper - 1, upper, upper + 1]
    return st.one_of(st.sampled_from(edges), st.integers(0, 4_000_000))


@st.composite
def member(draw, no: int, missing: bool = True):
    born = draw(st.one_of(st.dates(dt.date(1930, 1, 1), ON),
                          st.sampled_from([dt.date(ON.year - a, ON.month, ON.day)
                                           for a in (3, 6, 14, 15, 16, 30, 31, 49, 50)])))
    opt = lambda s: draw(maybe(s, missing))  # noqa: E731
    return {
        "member_no": no, "sex": draw(st.sampled_from(["male", "female"])), "birth_date": born.isoformat(),
        "disability": opt(st.sampled_from(DISABILITY)), "can_work": opt(st.booleans()),
        "activity": opt(st.sampled_from(ACTIVITY)), "has_labour_contract": opt(st.booleans()),
        "has_health_insurance": opt(st.booleans()), "stunted": opt(st.booleans()), "underweight": opt(st.booleans()),
        "enrolled": opt(st.booleans()), "school_level": opt(st.sampled_from(LEVELS)),
        "highest_qualification": opt(st.sampled_from(QUALS)), "uses_internet": opt(st.booleans()),
        "ethnic_minority": opt(st.booleans()), "meritorious_family": opt(st.booleans()),
        "pregnant_or_nursing": opt(st.booleans()),
    }


@st.composite
def household(draw, hid: str = "H1", missing: bool = True):
    area = draw(st.sampled_from(["rural", "urban"]))
    opt = lambda s: draw(maybe(s, missing))  # noqa: E731
    n = draw(st.integers(1, 6))
    devices = opt(st.one_of(st.just("none"), st.lists(st.sampled_from(DEVICES), min_size=1, max_size=3,
                                                       unique=True).map(";".join)))
    dwelling = opt(st.booleans())
    # no dwelling with a floor area above 0 contradicts itself and is rejected (dwelling_mismatch): not drawn
    area_m2 = st.just(0) if dwelling is False else \
        st.one_of(st.integers(0, 200), st.sampled_from([8 * n, 8 * n - 1, 8 * n + 1]))
    return {
        "household_id": hid, "commune_code": "X01", "area": area,
        "income_per_capita_month": opt(incomes(area)), "income_score_a": opt(st.integers(0, 300)),
        "floor_area_m2": opt(area_m2),
        "has_dwelling": dwelling, "foundation_durable": opt(st.booleans()),
        "frame_wall_durable": opt(st.booleans()), "roof_durable": opt(st.booleans()),
        "water_source": opt(st.sampled_from(WATER)), "toilet_type": opt(st.sampled_from(TOILET)),
        "info_devices": devices,
        # eligibility inputs (issue 4): dates on both sides of the 36-month window of the batches' dates
        "recognised_class": draw(st.one_of(st.none(), st.sampled_from(CLASSES))),
        "exited_poverty_on": draw(st.one_of(
            st.none(), st.sampled_from(EDGE_DATES).map(dt.date.isoformat),
            st.dates(dt.date(2018, 1, 1), dt.date(2026, 12, 31)).map(dt.date.isoformat))),
        "exited_near_poverty_on": draw(st.one_of(st.none(), st.sampled_from(EDGE_DATES).map(dt.date.isoformat))),
        "independent_since": draw(st.one_of(st.none(), st.sampled_from(EDGE_DATES).map(dt.date.isoformat))),
        "poor_commune": opt(st.booleans()), "poor_district": opt(st.booleans()),
        "received_housing_support": opt(st.booleans()),
        "main_livelihood": opt(st.sampled_from(["agriculture", "forestry", "fishery", "salt", "other"])),
        "members": [draw(member(i + 1, missing)) for i in range(n)],
    }


def survey(max_size: int = 20, missing: bool = True):
    return st.lists(st.integers(), min_size=1, max_size=max_size).flatmap(
        lambda xs: st.tuples(*[household(f"H{i + 1}", missing) for i in range(len(xs))]).map(list))
