"""The plan report's figures: rates, movements (and, with the plan, targets and budget) from a classified survey."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieuchi import report
from tieuchi.api import Result

CLASSES = ["poor", "near_poor", "average_living", "other", "unknown"]


def fake_result(classes, communes, previous=None, exited=None, totals=None, rejects=None, on=dt.date(2024, 12, 1)):
    """A classified survey built by hand: only the columns the report reads."""
    n = len(classes)
    hh = pd.DataFrame({
        "household_id": [str(i + 1) for i in range(n)],
        "commune_code": pd.array(communes, dtype="string"),
        "household_class": pd.Categorical(classes, categories=CLASSES),
        "eligibility_class": pd.Categorical([None if c == "unknown" else c for c in classes], categories=CLASSES[:4]),
        "previous_class": pd.array(previous if previous is not None else [None] * n, dtype="string"),
        "exited_poverty_on": pd.to_datetime(pd.Series(exited if exited is not None else [None] * n)),
    })
    com = None
    if totals is not None:
        com = pd.DataFrame({"commune_code": pd.array(list(totals), dtype="string"),
                            "households_total": pd.array(list(totals.values()), dtype="Int64")})
    rej = rejects if rejects is not None else pd.DataFrame(columns=["table", "row", "household_id", "problem"])
    return Result(households=hh, members=pd.DataFrame(), rejects=rej, regime="vn_2022_2026", rules_version="t",
                  reference_date=on, indicators=[], communes=com)


def value(df, **where):
    rows = df
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return rows.iloc[0]


def test_rates_use_the_communes_households_total_and_say_so():
    r = fake_result(["poor", "near_poor", "other", "unknown"], ["A", "A", "B", "B"], totals={"A": 10, "B": 30})
    out = report.rates(r)
    row = value(out, scope="all", rate_id="poor")
    assert row["numerator"] == 1 and row["denominator"] == 40 and row["denominator_source"] == "communes"
    assert row["value"] == pytest.approx(2.5) and row["unknown"] == 1
    assert value(out, scope="A", rate_id="poor_or_near_poor")["value"] == pytest.approx(20.0)
    assert value(out, scope="B", rate_id="poor")["unknown"] == 1


def test_without_a_households_total_rates_use_the_surveyed_households_and_say_so():
    r = fake_result(["poor", "other", "other", "other"], ["A", "A", "B", "B"], totals={"A": 10})
    out = report.rates(r)
    assert value(out, scope="A", rate_id="poor")["denominator_source"] == "communes"
    b = value(out, scope="B", rate_id="poor")
    assert b["denominator_source"] == "surveyed" and b["denominator"] == 2
    everyone = value(out, scope="all", rate_id="poor")  # one commune lacks a total: the whole uses the survey
    assert everyone["denominator_source"] == "surveyed" and everyone["denominator"] == 4


def test_rates_follow_the_class_the_commune_recognised():
    r = fake_result(["near_poor", "other"], ["A", "A"])
    r.households["eligibility_class"] = pd.Categorical(["poor", "other"], categories=CLASSES[:4])
    assert value(report.rates(r), scope="all", rate_id="poor")["numerator"] == 1


def test_rejected_households_are_counted_per_commune_from_the_raw_table():
    raw = pd.DataFrame({"household_id": ["1", "2", "3"], "commune_code": ["A", "B", "B"]})
    rejects = pd.DataFrame({"table": ["households", "members", "households"], "row": [2, 5, 3],
                            "household_id": ["2", "2", "3"], "problem": ["invalid_code", "invalid_code", "x"]})
    r = fake_result(["poor"], ["A"], rejects=rejects)
    out = report.rates(r, raw)
    assert value(out, scope="all", rate_id="poor")["rejected"] == 2
    assert value(out, scope="A", rate_id="poor")["rejected"] == 0


def test_each_movement_is_named_by_the_previous_and_this_reviews_class():
    on = dt.date(2024, 12, 1)
    cases = [  # (previous, now, exited_poverty_on, movement)
        ("poor", "near_poor", None, "escaped_poverty"),
        ("poor", "other", None, "escaped_poverty"),
        ("near_poor", "average_living", None, "escaped_near_poverty"),
        ("near_poor", "poor", None, "newly_poor"),
        ("other", "poor", "2022-03-01", "fell_back_into_poverty"),
        ("other", "poor", "2025-03-01", "newly_poor"),  # an exit after the reference date is not earlier
        ("average_living", "near_poor", None, "newly_near_poor"),
        ("poor", "poor", None, "stayed_poor"),
        ("near_poor", "near_poor", None, "stayed_near_poor"),
        ("other", "average_living", None, "stayed_above_near_poverty"),
        (None, "poor", None, "no_previous_class"),
        ("poor", "unknown", None, "unknown"),
    ]
    r = fake_result([c[1] for c in cases], ["A"] * len(cases), previous=[c[0] for c in cases],
                    exited=[c[2] for c in cases], on=on)
    out = report.movements(r)
    got = out[out["scope"] == "all"].set_index("movement")["households"]
    want = pd.Series([c[3] for c in cases]).value_counts()
    for mv in report.MOVEMENTS:
        assert got[mv] == want.get(mv, 0), mv


classes = st.lists(st.tuples(st.sampled_from(CLASSES), st.sampled_from(["A", "B", "C"]),
                             st.sampled_from([None, "poor", "near_poor", "average_living", "other"])),
                   min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=classes, seed=st.integers(0, 1000))
def test_no_rate_or_movement_changes_when_households_are_reordered_and_every_household_moves_once(rows, seed):
    r = fake_result([x[0] for x in rows], [x[1] for x in rows], previous=[x[2] for x in rows],
                    totals={"A": 100, "B": 50, "C": 70})
    order = np.random.default_rng(seed).permutation(len(rows))
    shuffled = fake_result([rows[i][0] for i in order], [rows[i][1] for i in order],
                           previous=[rows[i][2] for i in order], totals={"A": 100, "B": 50, "C": 70})
    pd.testing.assert_frame_equal(report.rates(r), report.rates(shuffled))
    mv = report.movements(r)
    pd.testing.assert_frame_equal(mv, report.movements(shuffled))
    per_scope = mv.groupby("scope")["households"].sum()
    assert per_scope["all"] == len(rows)
    assert sum(per_scope[s] for s in per_scope.index if s != "all") == len(rows)
    rt = report.rates(r)
    assert (rt["numerator"] <= rt["denominator"]).all()
    both = rt[rt["rate_id"] == "poor_or_near_poor"].set_index("scope")["numerator"]
    parts = rt[rt["rate_id"].isin(["poor", "near_poor"])].groupby("scope")["numerator"].sum()
    assert (both == parts[both.index]).all()
