"""Summary rates (domain §7): the denominator, unknowns kept in it, rejected counted beside it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tieuchi.outputs.summary import render_text, summarize


def _result(classes, communes=None, n_in=None, codes=None):
    hh = pd.DataFrame({"household_id": [f"H{i}" for i in range(len(classes))],
                       "commune_code": codes or ["C1"] * len(classes), "household_class": classes})
    return SimpleNamespace(households=hh, rejects=pd.DataFrame(), communes=communes,
                           n_households_in=len(classes) if n_in is None else n_in,
                           regime="vn_2022_2026", reference_date=dt.date(2025, 1, 1))


CLASSES = ["poor", "poor", "near_poor", "average_living", "other", "unknown", "unknown", "other"]


def test_households_are_counted_per_class():
    s = summarize(_result(CLASSES))
    assert s.counts == {"poor": 2, "near_poor": 1, "average_living": 1, "other": 2, "unknown": 2}


def test_without_a_communes_table_the_surveyed_households_are_the_denominator():
    s = summarize(_result(CLASSES))
    assert (s.denominator, s.denominator_source) == (8, "surveyed")
    assert s.rates["poor_rate"].value == pytest.approx(2 / 8)


def test_unknown_households_stay_in_the_denominator():
    s = summarize(_result(CLASSES))
    assert s.n_unknown == 2
    assert s.rates["poor_rate"].denominator == len(CLASSES)


def test_with_commune_totals_the_denominator_is_their_sum_over_the_surveyed_communes():
    communes = pd.DataFrame({"commune_code": ["C1", "C2", "C3"], "households_total": [100, 300, 999]})
    s = summarize(_result(CLASSES, communes, codes=["C1"] * 4 + ["C2"] * 4))
    assert (s.denominator, s.denominator_source) == (400, "communes")  # C3 has no surveyed household
    assert s.rates["poor_rate"].value == pytest.approx(2 / 400)
    assert s.rates["near_poor_rate"].value == pytest.approx(1 / 400)
    assert s.rates["poor_or_near_poor_rate"].value == pytest.approx(3 / 400)


def test_a_commune_missing_from_the_table_counts_its_surveyed_households_and_is_named():
    communes = pd.DataFrame({"commune_code": ["C1"], "households_total": [100]})
    s = summarize(_result(CLASSES, communes, codes=["C1"] * 5 + ["C9"] * 3))
    assert (s.denominator, s.denominator_source) == (103, "mixed")
    assert s.communes_surveyed_denominator == ["C9"]


def test_a_communes_table_without_households_total_falls_back_to_surveyed():
    communes = pd.DataFrame({"commune_code": ["C1"], "poor_commune": [True]})
    s = summarize(_result(CLASSES, communes))
    assert (s.denominator, s.denominator_source) == (8, "surveyed")


def test_rejected_households_are_counted_beside_the_rates_not_in_them():
    s = summarize(_result(CLASSES, n_in=11))
    assert s.n_rejected == 3
    assert s.denominator == 8


def test_no_household_at_all_gives_no_rate_rather_than_a_division_by_zero():
    s = summarize(_result([]))
    assert s.rates["poor_rate"].value is None


def test_the_vietnamese_summary_uses_the_official_labels_and_says_what_the_denominator_is():
    text = render_text(summarize(_result(CLASSES, n_in=9)), "vi", width=160)
    for label in ("Hộ nghèo", "Hộ cận nghèo", "Hộ có mức sống trung bình", "Hộ không thuộc các diện trên",
                  "Chưa xác định", "Tỷ lệ hộ nghèo", "Tỷ lệ nghèo đa chiều", "Mẫu số", "số hộ được điều tra"):
        assert label in text
    assert "25,00%" in text


def test_the_english_summary_says_the_rates_use_surveyed_households():
    text = render_text(summarize(_result(CLASSES)), "en", width=160)
    assert "Poor-household rate" in text and "surveyed" in text and "25.00%" in text


def test_the_class_labels_are_the_rules_own_in_each_language():
    from tieuchi.rulebook.load import load_rules

    regime = load_rules(dt.date(2025, 1, 1)).regime
    s = summarize(_result(CLASSES))  # a result without its rules: the shipped rules at its date
    for lang in ("vi", "en"):
        text = render_text(s, lang, width=160)
        for c in regime.classification.classes:
            assert getattr(c.label, lang) in text
        assert getattr(regime.classification.unknown, lang) in text
    assert "Poor household" in render_text(s, "en", width=160)  # was "Poor", a copy that had drifted


def test_the_summary_names_the_local_overlay_the_rules_were_changed_by_and_none_without_one():
    import tieuchi

    tiny = Path(__file__).resolve().parents[1] / "datasets" / "examples" / "tiny"
    survey = tieuchi.read_survey(tiny)
    with_overlay = tieuchi.classify_survey(survey, on="2024-12-01", rules="example_higher_rural_line")
    s = summarize(with_overlay)
    assert s.overlay == "example_higher_rural_line"
    vi, en = render_text(s, "vi"), render_text(s, "en")
    assert "Bộ điều chỉnh của địa phương: example_higher_rural_line — Ví dụ minh hoạ" in " ".join(vi.split())
    assert "Local overlay: example_higher_rural_line — Example only" in " ".join(en.split())
    plain = summarize(tieuchi.classify_survey(survey, on="2024-12-01"))
    assert plain.overlay is None and "Bộ điều chỉnh" not in render_text(plain, "vi")
