"""Alkire–Foster measures (domain §7): hand-computed figures, the cutoff boundary, and the identities the report
relies on (M0 = H × A, contributions sum to 100%, subgroups add up to the whole, censored ≤ uncensored)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tieuchi.outputs.mpi import CONTRIBUTION_COLUMNS, MPI_COLUMNS, TOLERANCE, alkire_foster

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T, F, N = True, False, pd.NA


def _matrix(rows, indicators=None) -> pd.DataFrame:
    d = len(rows[0]) if rows else len(indicators)
    return pd.DataFrame(rows, columns=indicators or [f"i{j}" for j in range(d)]).astype("boolean")


# Four households with known answers and one with an unknown; equal weights 1/4. Scores: 1, 0.5, 0.25, 0.
HAND = _matrix([[T, T, T, T], [T, T, F, F], [F, T, F, F], [F, F, F, F], [T, N, T, T]], ["a", "b", "c", "d"])


def _row(mpi, scope="all"):
    return mpi.set_index("scope").loc[scope]


def _contrib(contributions, scope="all"):
    return contributions[contributions["scope"] == scope].set_index("indicator")


# --- hand-computed figures ----------------------------------------------------------------------------------------

def test_the_outputs_have_the_columns_the_report_writes():
    mpi, contributions = alkire_foster(HAND)
    assert list(mpi.columns) == MPI_COLUMNS == ["scope", "population", "excluded", "H", "A", "M0", "k"]
    assert list(contributions.columns) == CONTRIBUTION_COLUMNS
    assert list(contributions["indicator"]) == ["a", "b", "c", "d"]


def test_at_k_one_quarter_three_of_four_known_households_are_poor_and_the_unknown_one_is_excluded():
    mpi, contributions = alkire_foster(HAND, k=0.25)
    row = _row(mpi)
    assert (row["population"], row["excluded"], row["k"]) == (4, 1, 0.25)
    assert row["H"] == pytest.approx(3 / 4)
    assert row["A"] == pytest.approx((1 + 0.5 + 0.25) / 3)
    assert row["M0"] == pytest.approx(1.75 / 4)
    c = _contrib(contributions)
    assert list(c["uncensored_headcount"]) == pytest.approx([2 / 4, 3 / 4, 1 / 4, 1 / 4])
    assert list(c["censored_headcount"]) == pytest.approx([2 / 4, 3 / 4, 1 / 4, 1 / 4])  # every deprived one is poor
    assert list(c["contribution"]) == pytest.approx([200 / 7, 300 / 7, 100 / 7, 100 / 7])


def test_at_k_one_half_the_household_deprived_in_one_of_four_is_censored():
    mpi, contributions = alkire_foster(HAND, k=0.5)
    row = _row(mpi)
    assert (row["population"], row["excluded"]) == (4, 1)
    assert (row["H"], row["A"], row["M0"]) == pytest.approx((2 / 4, 1.5 / 2, 1.5 / 4))
    c = _contrib(contributions)
    assert list(c["uncensored_headcount"]) == pytest.approx([2 / 4, 3 / 4, 1 / 4, 1 / 4])
    assert list(c["censored_headcount"]) == pytest.approx([2 / 4, 2 / 4, 1 / 4, 1 / 4])
    assert list(c["contribution"]) == pytest.approx([100 / 3, 100 / 3, 50 / 3, 50 / 3])


def test_declared_weights_are_normalised_and_weigh_the_score():
    # weights 2:1:1:0 -> 1/2, 1/4, 1/4, 0; scores 1, 3/4, 1/4, 0; at k = 0.5 the first two households are poor
    mpi, contributions = alkire_foster(HAND, weights={"a": 2, "b": 1, "c": 1, "d": 0}, k=0.5)
    row = _row(mpi)
    assert (row["H"], row["A"], row["M0"]) == pytest.approx((2 / 4, 1.75 / 2, 1.75 / 4))
    c = _contrib(contributions)
    assert list(c["censored_headcount"]) == pytest.approx([2 / 4, 2 / 4, 1 / 4, 1 / 4])
    assert list(c["contribution"]) == pytest.approx([100 * 0.5 * 0.5 / 0.4375, 100 * 0.25 * 0.5 / 0.4375,
                                                     100 * 0.25 * 0.25 / 0.4375, 0.0])


def test_groups_follow_the_whole_sorted_as_text_and_their_weighted_m0s_add_up_to_it():
    mpi, contributions = alkire_foster(HAND, groups=pd.Series(["B", "A", "B", "A", "A"]))
    assert list(mpi["scope"]) == ["all", "A", "B"]
    a, b = _row(mpi, "A"), _row(mpi, "B")
    assert (a["population"], a["excluded"], a["H"], a["A"], a["M0"]) == (2, 1, 0.5, 0.5, 0.25)
    assert (b["population"], b["excluded"], b["H"], b["A"], b["M0"]) == (2, 0, 1.0, 0.625, 0.625)
    assert 2 / 4 * a["M0"] + 2 / 4 * b["M0"] == pytest.approx(_row(mpi)["M0"])
    assert list(contributions["scope"]) == ["all"] * 4 + ["A"] * 4 + ["B"] * 4
    assert list(_contrib(contributions, "A")["contribution"]) == pytest.approx([50, 50, 0, 0])


def test_numeric_group_codes_are_sorted_as_text_and_rows_without_a_group_count_in_all_only():
    mpi, _ = alkire_foster(HAND, groups=pd.Series([10, 9, None, 10, 9], dtype=object))
    assert list(mpi["scope"]) == ["all", "10", "9"]
    assert list(mpi["population"]) == [4, 2, 1]
    assert list(mpi["excluded"]) == [1, 0, 1]


def test_for_persons_each_household_counts_its_members():
    members = np.array([3, 1, 5, 2, 4])
    mpi, contributions = alkire_foster(HAND, k=0.25, unit_weights=members)
    row = _row(mpi)
    assert (row["population"], row["excluded"]) == (11, 4)  # the unknown household's 4 members are excluded
    assert row["H"] == pytest.approx(9 / 11)
    assert row["A"] == pytest.approx((3 * 1 + 1 * 0.5 + 5 * 0.25) / 9)
    assert row["M0"] == pytest.approx(4.75 / 11)
    c = _contrib(contributions)
    assert list(c["uncensored_headcount"]) == pytest.approx([4 / 11, 9 / 11, 3 / 11, 3 / 11])
    assert list(c["contribution"]) == pytest.approx([100 * 0.25 * 4 / 4.75, 100 * 0.25 * 9 / 4.75,
                                                     100 * 0.25 * 3 / 4.75, 100 * 0.25 * 3 / 4.75])


def test_counts_are_integers_for_households_and_member_counts_and_floats_for_fractional_weights():
    assert mpi_dtype(None) == np.int64
    assert mpi_dtype(pd.Series([3, 1, 5, 2, 4], dtype="Int64")) == np.int64
    assert mpi_dtype(np.array([1.5, 1, 1, 1, 1])) == np.float64


def mpi_dtype(unit_weights):
    mpi, _ = alkire_foster(HAND, unit_weights=unit_weights)
    assert mpi["population"].dtype == mpi["excluded"].dtype
    return mpi["population"].dtype


# --- the cutoff boundary ------------------------------------------------------------------------------------------

def test_a_household_deprived_in_3_of_12_equally_weighted_indicators_is_poor_at_the_default_cutoff():
    rows = [[j < 3 for j in range(12)], [j >= 9 for j in range(12)], [j % 4 == 0 for j in range(12)],
            [j < 2 for j in range(12)]]
    mpi, _ = alkire_foster(_matrix(rows))
    assert _row(mpi)["H"] == 3 / 4  # the three with 3 of 12 are poor, the one with 2 of 12 is not
    assert _row(mpi)["A"] == pytest.approx(0.25)


@pytest.mark.parametrize("d", [6, 7, 10, 12])
def test_m_of_d_equally_weighted_deprivations_reach_a_cutoff_of_m_over_d_although_the_float_sum_falls_short(d):
    # 5 × (1/12) sums to less than 5/12 in floating point; the boundary must not flip with it
    for m in range(1, d + 1):
        mpi, _ = alkire_foster(_matrix([[j < m for j in range(d)], [j < m - 1 for j in range(d)]]), k=m / d)
        assert _row(mpi)["H"] == 0.5, f"{m} of {d}"


def test_declared_weights_reach_the_cutoff_their_exact_sum_reaches():
    weights = {"a": 0.1, "b": 0.2, "c": 0.7}  # 0.1 + 0.2 = 0.30000000000000004, and 0.7 + 0.2 + 0.1 < 1 in floats
    mpi, _ = alkire_foster(_matrix([[T, T, F]], ["a", "b", "c"]), weights=weights, k=0.3)
    assert _row(mpi)["H"] == 1
    mpi, _ = alkire_foster(_matrix([[T, T, T]], ["a", "b", "c"]), weights=weights, k=1)
    assert _row(mpi)["H"] == 1


def test_a_score_clearly_below_the_cutoff_is_not_poor():
    mpi, _ = alkire_foster(_matrix([[j < 3 for j in range(12)]]), k=0.25 + 10 * TOLERANCE)
    assert _row(mpi)["H"] == 0


# --- undefined values ---------------------------------------------------------------------------------------------

def test_when_nobody_is_poor_h_and_m0_are_zero_and_intensity_and_contributions_are_undefined():
    mpi, contributions = alkire_foster(_matrix([[F, F], [T, F]]), k=1)
    row = _row(mpi)
    assert (row["H"], row["M0"]) == (0, 0)
    assert math.isnan(row["A"])
    assert contributions["contribution"].isna().all()
    assert list(contributions["uncensored_headcount"]) == [0.5, 0]
    assert list(contributions["censored_headcount"]) == [0, 0]


def test_when_every_household_has_an_unknown_every_measure_is_undefined_and_all_are_excluded():
    mpi, contributions = alkire_foster(_matrix([[N, T], [F, N]]), groups=pd.Series(["X", "Y"]))
    assert list(mpi["population"]) == [0, 0, 0]
    assert list(mpi["excluded"]) == [2, 1, 1]
    assert mpi[["H", "A", "M0"]].isna().all().all()
    assert contributions[["uncensored_headcount", "censored_headcount", "contribution"]].isna().all().all()


def test_an_empty_matrix_gives_one_undefined_row_for_the_whole():
    mpi, contributions = alkire_foster(_matrix([], ["a", "b"]))
    assert list(mpi["scope"]) == ["all"] and list(mpi["population"]) == [0] and list(mpi["excluded"]) == [0]
    assert mpi[["H", "A", "M0"]].isna().all().all()
    assert len(contributions) == 2


# --- refused inputs -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("weights, message", [
    ({"a": 1, "b": -1, "c": 1, "d": 1}, r"finite non-negative numbers: b=-1"),
    ({"a": 1, "b": 1, "c": 1, "d": 1, "water": 1}, r"not in the matrix: water"),
    ({"a": 1, "b": 1, "c": 1}, r"no weight for indicators in the matrix: d"),
    ({"a": 0, "b": 0, "c": 0, "d": 0}, r"sum to 0"),
    ({"a": float("nan"), "b": 1, "c": 1, "d": 1}, r"finite non-negative numbers: a=nan"),
    ({"a": "1", "b": 1, "c": 1, "d": 1}, r"finite non-negative numbers: a='1'"),
])
def test_bad_weights_are_refused_with_the_indicator_named(weights, message):
    with pytest.raises(ValueError, match=message):
        alkire_foster(HAND, weights=weights)


def test_every_weight_problem_is_named_in_one_message():
    with pytest.raises(ValueError, match=r"not in the matrix: x.*no weight .*: c, d.*non-negative numbers: b=-2"):
        alkire_foster(HAND, weights={"a": 1, "b": -2, "x": 1})


@pytest.mark.parametrize("k", [0, -0.25, 1.0000001, float("nan"), float("inf"), True, "0.25"])
def test_a_cutoff_outside_zero_to_one_is_refused(k):
    with pytest.raises(ValueError, match=r"k must be the poverty cutoff as a share in \(0, 1\]"):
        alkire_foster(HAND, k=k)


def test_a_cutoff_given_as_a_count_of_indicators_is_refused_with_the_share_it_probably_meant():
    with pytest.raises(ValueError, match=r"did you mean a count of indicators, k=3/4 = 0.75\?"):
        alkire_foster(HAND, k=3)


def test_a_cutoff_of_exactly_one_is_accepted():
    mpi, _ = alkire_foster(HAND, k=1)
    assert _row(mpi)["H"] == 0.25


def test_columns_that_are_not_booleans_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"these columns do not: b \(int64\).*astype\('boolean'\)"):
        alkire_foster(pd.DataFrame({"a": [True, False], "b": [1, 0]}))


def test_plain_numpy_booleans_are_read_as_known_answers():
    mpi, _ = alkire_foster(pd.DataFrame({"a": [True, False], "b": [True, True]}))
    assert (_row(mpi)["population"], _row(mpi)["H"]) == (2, 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"unit_weights": np.array([1, 2, -1, 1, 1])}, r"finite and non-negative .* at positions 2"),
    ({"unit_weights": np.array([1.0, np.nan, 1, 1, 1])}, r"finite and non-negative .* at positions 1"),
    ({"unit_weights": np.array([1, 1])}, r"unit_weights has 2 values but deprived has 5 rows"),
    ({"groups": ["A", "B"]}, r"groups has 2 values but deprived has 5 rows"),
    ({"groups": pd.Series(list("AABBA"), index=[5, 6, 7, 8, 9])}, r"groups is a Series whose index differs"),
    ({"groups": pd.Series(["all", "A", "A", "B", "B"])}, r"a group is labelled 'all'"),
])
def test_unit_weights_and_groups_that_do_not_fit_the_rows_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alkire_foster(HAND, **kwargs)


def test_duplicated_indicator_columns_are_refused():
    with pytest.raises(ValueError, match=r"duplicated indicator columns: a"):
        alkire_foster(pd.DataFrame([[True, False]], columns=["a", "a"]).astype("boolean"))


# --- properties ---------------------------------------------------------------------------------------------------

LABELS = ["C01", "C02", "C10", "X"]


@st.composite
def problems(draw, every_row_grouped: bool = False):
    """A random deprivation matrix with unknowns, weights, cutoff, groups and unit weights, edge cases included;
    ``every_row_grouped`` always gives groups, none missing (the case where subgroups must add up to the whole)."""
    d = draw(st.integers(1, 6))
    n = draw(st.integers(0, 25))
    p_na = draw(st.sampled_from([0.0, 0.1, 1.0]))
    cell = st.sampled_from([True, False]) if p_na == 0 else (
        st.just(None) if p_na == 1 else st.sampled_from([True, False, True, False, None]))
    rows = [[draw(cell) for _ in range(d)] for _ in range(n)]
    indicators = [f"i{j}" for j in range(d)]
    deprived = pd.DataFrame(rows, columns=indicators, dtype=object).astype("boolean")
    weights = draw(st.one_of(
        st.none(),
        st.lists(st.integers(0, 5), min_size=d, max_size=d).filter(any),
        st.lists(st.floats(0, 10, allow_subnormal=False), min_size=d, max_size=d).filter(lambda w: sum(w) > 1e-3)))
    if weights is not None:
        weights = dict(zip(indicators, weights))
    k = draw(st.one_of(st.floats(1e-3, 1.0), st.integers(1, d).map(lambda m: m / d),
                       st.sampled_from([0.25, 1 / 3, 0.5, 1.0])))
    group_values = st.sampled_from(LABELS if every_row_grouped else LABELS + [None])
    labelled = st.lists(group_values, min_size=n, max_size=n).map(lambda g: pd.Series(g, dtype=object))
    groups = draw(labelled if every_row_grouped else st.one_of(st.none(), labelled))
    unit_weights = draw(st.one_of(
        st.none(),
        st.lists(st.integers(0, 8), min_size=n, max_size=n).map(lambda u: np.array(u, dtype=np.int64)),
        st.lists(st.floats(0, 10, allow_subnormal=False).map(lambda x: round(x, 3)), min_size=n, max_size=n)
        .map(np.array)))
    return dict(deprived=deprived, weights=weights, k=k, groups=groups, unit_weights=unit_weights)


def _reference(deprived, weights, k, groups, unit_weights):
    """Row by row in exact fractions, with the same tolerance: what the vectorised sums must equal."""
    indicators = list(deprived.columns)
    raw = {i: Fraction(1) for i in indicators} if weights is None else {i: Fraction(weights[i]) for i in indicators}
    total = sum(raw.values())
    w = {i: raw[i] / total for i in indicators}
    cut = Fraction(k) - Fraction(TOLERANCE)
    scopes = {"all": []}
    for r in range(len(deprived)):
        label = None if groups is None or pd.isna(groups.iloc[r]) else str(groups.iloc[r])
        for scope in ["all"] + ([label] if label is not None else []):
            scopes.setdefault(scope, []).append(r)
    out = {}
    for scope, rows in scopes.items():
        excl = n = q = s = Fraction(0)
        unc = {i: Fraction(0) for i in indicators}
        cen = dict(unc)
        for r in rows:
            u = Fraction(1) if unit_weights is None else Fraction(float(unit_weights[r]))
            values = [deprived.iloc[r][i] for i in indicators]
            if any(v is pd.NA for v in values):
                excl += u
                continue
            n += u
            c = sum((w[i] for i, v in zip(indicators, values) if v), Fraction(0))
            poor = c >= cut
            q += u * poor
            s += u * c * poor
            for i, v in zip(indicators, values):
                unc[i] += u * v
                cen[i] += u * (v and poor)
        nan = float("nan")
        out[scope] = dict(
            population=float(n), excluded=float(excl),
            H=float(q / n) if n else nan, A=float(s / q) if q else nan, M0=float(s / n) if n else nan,
            contributions=[(float(unc[i] / n) if n else nan, float(cen[i] / n) if n else nan,
                            float(100 * w[i] * cen[i] / s) if s else nan) for i in indicators])
    return out


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-12,
                               equal_nan=True)


@FAST
@given(problems())
def test_the_vectorised_measures_equal_an_exact_row_by_row_reference(p):
    mpi, contributions = alkire_foster(**p)
    expected = _reference(**p)
    assert list(mpi["scope"]) == ["all"] + sorted(set(expected) - {"all"})
    for scope, e in expected.items():
        row = _row(mpi, scope)
        _close([row["population"], row["excluded"], row["H"], row["A"], row["M0"]],
               [e["population"], e["excluded"], e["H"], e["A"], e["M0"]])
        _close(_contrib(contributions, scope)[["uncensored_headcount", "censored_headcount", "contribution"]],
               e["contributions"])
    assert (mpi["k"] == p["k"]).all()


@FAST
@given(problems())
def test_m0_is_h_times_a_and_intensity_is_at_least_the_cutoff(p):
    mpi, _ = alkire_foster(**p)
    defined = mpi["A"].notna()
    np.testing.assert_allclose(mpi.loc[defined, "M0"], mpi.loc[defined, "H"] * mpi.loc[defined, "A"],
                               rtol=1e-9, atol=1e-12)
    assert (mpi.loc[defined, "A"] >= p["k"] - TOLERANCE - 1e-12).all()
    assert (mpi.loc[defined, "A"] <= 1 + 1e-12).all()
    nobody_poor = mpi["population"].gt(0) & mpi["A"].isna()
    assert (mpi.loc[nobody_poor, ["H", "M0"]] == 0).all().all()
    for column in ["H", "M0"]:
        assert mpi[column].dropna().between(0, 1 + 1e-12).all()


@FAST
@given(problems())
def test_contributions_sum_to_one_hundred_percent_wherever_m0_is_positive(p):
    mpi, contributions = alkire_foster(**p)
    sums = contributions.groupby("scope", sort=False)["contribution"].sum(min_count=1)
    for scope, m0 in zip(mpi["scope"], mpi["M0"]):
        if m0 > 0:
            assert sums[scope] == pytest.approx(100, abs=1e-6)
        else:
            assert math.isnan(sums[scope])


@FAST
@given(problems())
def test_censored_headcounts_never_exceed_uncensored_ones(p):
    _, contributions = alkire_foster(**p)
    known = contributions["uncensored_headcount"].notna()
    assert (contributions["censored_headcount"].isna() == ~known).all()
    assert (contributions.loc[known, "censored_headcount"] <= contributions.loc[known, "uncensored_headcount"]).all()
    assert contributions.loc[known, "uncensored_headcount"].between(0, 1 + 1e-12).all()


@FAST
@given(problems(every_row_grouped=True))
def test_population_weighted_subgroup_m0s_add_up_to_the_whole(p):
    mpi, contributions = alkire_foster(**p)
    whole, parts = mpi.iloc[0], mpi.iloc[1:]
    assume(whole["population"] > 0)
    share = parts["population"] / whole["population"]
    assert (share * parts["M0"].fillna(0)).sum() == pytest.approx(whole["M0"], rel=1e-9, abs=1e-12)
    assert (share * parts["H"].fillna(0)).sum() == pytest.approx(whole["H"], rel=1e-9, abs=1e-12)
    assert parts["population"].sum() == pytest.approx(whole["population"], rel=1e-9)
    assert parts["excluded"].sum() == pytest.approx(whole["excluded"], rel=1e-9)
    # the censored headcount ratios decompose the same way
    by_scope = contributions.set_index(["scope", "indicator"])["censored_headcount"].unstack().fillna(0)
    weighted = by_scope.loc[parts["scope"]].mul(share.to_numpy(), axis=0).sum()
    np.testing.assert_allclose(weighted, by_scope.loc["all"], rtol=1e-9, atol=1e-12)


@FAST
@given(problems(), st.randoms(use_true_random=False))
def test_reordering_the_rows_changes_no_value(p, random):
    order = list(range(len(p["deprived"])))
    random.shuffle(order)
    shuffled = dict(p, deprived=p["deprived"].iloc[order].reset_index(drop=True))
    if p["groups"] is not None:
        shuffled["groups"] = p["groups"].iloc[order].reset_index(drop=True)
    if p["unit_weights"] is not None:
        shuffled["unit_weights"] = p["unit_weights"][order]
    (m1, c1), (m2, c2) = alkire_foster(**p), alkire_foster(**shuffled)
    assert list(m1["scope"]) == list(m2["scope"]) and list(c1["indicator"]) == list(c2["indicator"])
    _close(m1.drop(columns="scope"), m2.drop(columns="scope"))
    _close(c1.drop(columns=["scope", "indicator"]), c2.drop(columns=["scope", "indicator"]))


@FAST
@given(problems())
def test_excluded_and_population_add_up_to_the_total_weight(p):
    mpi, _ = alkire_foster(**p)
    total = len(p["deprived"]) if p["unit_weights"] is None else float(np.sum(p["unit_weights"]))
    assert mpi["population"].iloc[0] + mpi["excluded"].iloc[0] == pytest.approx(total, rel=1e-9, abs=1e-12)
    unknown = p["deprived"].isna().any(axis=1).to_numpy()
    if p["unit_weights"] is None:
        assert mpi["excluded"].iloc[0] == unknown.sum()


@FAST
@given(problems(), st.data())
def test_one_more_deprivation_never_lowers_m0(p, data):
    deprived = p["deprived"]
    known = deprived.notna().to_numpy()
    cells = [(r, c) for r, c in zip(*np.nonzero(known & ~deprived.fillna(True).to_numpy(dtype=bool)))]
    assume(cells)
    r, c = data.draw(st.sampled_from(cells))
    more = deprived.copy()
    more.iat[r, c] = True
    before, _ = alkire_foster(**p)
    after, _ = alkire_foster(**dict(p, deprived=more))
    defined = before["M0"].notna()
    assert (after["M0"].notna() == defined).all()
    assert (after.loc[defined, "M0"] >= before.loc[defined, "M0"] - 1e-12).all()
    assert (after.loc[defined, "H"] >= before.loc[defined, "H"] - 1e-12).all()
