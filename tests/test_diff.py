"""`tieuchi diff`: the same survey classified twice and compared — transitions, changed households, measures."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tieuchi
from tieuchi.outputs import diff
from tieuchi.contract.read import read_survey
from tieuchi.rulebook.plans import load_plan, plan_path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"


@pytest.fixture(scope="module")
def survey():
    return read_survey(DEMO)


@pytest.fixture(scope="module")
def pair(survey):
    s = survey
    before = tieuchi.classify(s.households, s.members, on="2024-12-01", communes=s.communes)
    after = tieuchi.classify(s.households, s.members, on="2026-06-30", communes=s.communes)
    return before, after


def test_the_transition_matrix_counts_every_household_once_and_its_off_diagonal_is_the_changed_list(pair, survey):
    before, after = pair
    d = diff.compare(before, after, raw_households=survey.households)
    everyone = d.transitions[d.transitions["scope"] == "all"]
    assert everyone["households"].sum() == len(before.households)
    assert everyone["percent"].sum() == pytest.approx(100.0)
    off = everyone[everyone["before"] != everyone["after"]]["households"].sum()
    assert off == len(d.changed) > 0
    communes = d.transitions[d.transitions["scope"] != "all"]
    assert communes["households"].sum() == everyone["households"].sum()
    b = before.households.set_index(before.households["household_id"].astype(str))["household_class"].astype(str)
    a = after.households.set_index(after.households["household_id"].astype(str))["household_class"].astype(str)
    for row in d.changed.itertuples():
        assert (b[row.household_id], a[row.household_id]) == (row.before, row.after)
        assert row.before != row.after and row.reasons_before and row.reasons_after


def test_each_measure_change_is_after_minus_before_and_rates_match_the_report(pair, survey):
    from tieuchi.outputs import report

    before, after = pair
    d = diff.compare(before, after, plan=load_plan(plan_path("tan_yen_2024")), raw_households=survey.households)
    m = d.measures
    known = m.dropna(subset=["before", "after"])
    assert np.allclose(known["change"], known["after"] - known["before"])
    assert set(m["kind"]) == {"rate", "mpi", "target"}
    poor = m[(m["scope"] == "all") & (m["measure"] == "poor")].iloc[0]
    want = report.rates(diff._computed(before), survey.households)
    assert poor["before"] == pytest.approx(
        want[(want["scope"] == "all") & (want["rate_id"] == "poor")]["value"].iloc[0])
    nm = m[(m["kind"] == "target") & (m["measure"] == "models_completed") & (m["scope"] == "all")].iloc[0]
    assert "not_measurable_before" in nm["note"] and np.isnan(nm["change"])


def test_the_json_has_transitions_changed_and_measures_and_write_puts_them_in_files(pair, tmp_path):
    before, after = pair
    d = diff.compare(*pair)
    j = json.loads(json.dumps(d.to_json(), ensure_ascii=False))
    assert {"transitions", "changed", "measures"} <= set(j)
    assert set(j["changed"][0]) == {"household_id", "commune_code", "before", "after", "reasons_before",
                                    "reasons_after"}
    paths = diff.write(d, tmp_path)
    assert {p.name for p in paths} == {"transitions.csv", "changed.csv", "measures.csv", "diff.json"}
    assert len(pd.read_csv(tmp_path / "changed.csv")) == len(d.changed)


def test_the_text_is_vietnamese_by_default_with_the_matrix_and_reasons(pair):
    d = diff.compare(*pair)
    vi = diff.text(d, "vi", limit=2)
    assert "Ma trận chuyển đổi" in vi and "hộ đổi phân loại" in vi and "Tỷ lệ hộ nghèo" in vi
    assert "Hộ nghèo —" in vi  # the reasons before/after, rendered
    en = diff.text(d, "en", limit=2)
    assert "Transition matrix" in en and "households change class" in en


def test_the_class_compared_is_the_computed_one_not_the_recognised_one(survey):
    s = survey
    hh = s.households.copy()
    hh["recognised_class"] = "poor"  # the commune recognised everyone as poor: a rule change must not see that
    before = tieuchi.classify(hh, s.members, on="2024-12-01", communes=s.communes)
    d = diff.compare(before, before)
    assert len(d.changed) == 0
    poor = d.measures[(d.measures["scope"] == "all") & (d.measures["measure"] == "poor")].iloc[0]
    assert poor["before"] < 5  # the computed poor rate, not 100%


def test_a_household_accepted_on_one_side_only_is_reported_not_dropped(pair):
    before, after = pair
    fewer = type(after)(**{**after.__dict__, "households": after.households.iloc[10:]})
    d = diff.compare(before, fewer)
    assert len(d.only_before) == 10 and d.only_after == []


# ------------------------------------------------------------------ the command

from typer.testing import CliRunner  # noqa: E402

from tieuchi.cli import app  # noqa: E402

OVERLAY = ROOT / "rules" / "overlays" / "example_higher_rural_line.yaml"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_demo_diffed_from_2026_to_2027_has_more_poor_households_and_lists_who_changed(tmp_path):
    r = run("diff", DEMO, "--on", "2026-06-30", "--vs-on", "2027-06-30", "--format", "json", "--out", tmp_path)
    assert r.exit_code == 1, r.output  # the demo's five invalid households are rejected, and written
    assert len(pd.read_csv(tmp_path / "rejects.csv").query("table == 'households'")) == 5
    j = json.loads(r.stdout)
    assert "vn_2022_2026" in j["before"] and "vn_2027_2030" in j["after"]
    everyone = [t for t in j["transitions"] if t["scope"] == "all"]
    poor_before = sum(t["households"] for t in everyone if t["before"] == "poor")
    poor_after = sum(t["households"] for t in everyone if t["after"] == "poor")
    assert poor_after > poor_before  # higher lines
    into_poverty = [c for c in j["changed"] if c["after"] == "poor"]
    assert into_poverty and all(c["reasons_before"] and c["reasons_after"] for c in into_poverty)
    assert "2.200.000" in into_poverty[0]["reasons_after"] or "2.800.000" in into_poverty[0]["reasons_after"]
    rate = [m for m in j["measures"] if m["scope"] == "all" and m["measure"] == "poor"][0]
    assert rate["after"] > rate["before"]
    assert (tmp_path / "changed.csv").is_file() and len(pd.read_csv(tmp_path / "changed.csv")) == len(j["changed"])


def test_a_target_the_next_standard_cannot_measure_is_reported_not_measurable_there():
    r = run("diff", DEMO, "--on", "2026-06-30", "--vs-on", "2027-06-30", "--plan", "tan_yen_2024", "--format", "json")
    assert r.exit_code == 1, r.output  # the demo's invalid households
    telecom = [m for m in json.loads(r.stdout)["measures"] if m["measure"] == "telecom_access" and m["scope"] == "all"]
    assert "not_measurable_after" in telecom[0]["note"]


def test_diffing_the_rules_against_an_overlay_raising_the_rural_line_moves_only_rural_households_near_the_line():
    r = run("diff", DEMO, "--on", "2024-12-01", "--vs-on", "2024-12-01", "--vs-rules", OVERLAY, "--format", "json")
    assert r.exit_code == 1, r.output  # the demo's invalid households
    j = json.loads(r.stdout)
    assert "example_higher_rural_line" in j["after"]
    survey = read_survey(DEMO)
    hh = survey.households.set_index(survey.households["household_id"].astype(str))
    income = pd.to_numeric(hh["income_per_capita_month"].astype(str).str.replace(".", "", regex=False),
                           errors="coerce")
    assert j["changed"]
    for c in j["changed"]:
        area = str(hh.loc[c["household_id"], "area"]).strip().lower()
        assert area in ("rural", "nông thôn"), c
        assert 1_500_000 < income[c["household_id"]] <= 1_800_000, c


def test_diff_without_the_second_side_is_a_usage_error():
    r = run("diff", DEMO, "--on", "2026-06-30")
    assert r.exit_code == 2 and "--vs-on" in r.output
