"""One poverty-rate rule (outputs/rates.py) for the classify summary, the report and the diff: on a survey where some
communes lack `households_total`, every output gives the same numerator, denominator, source and rate."""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tieuchi
from tieuchi.cli import app
from tieuchi.outputs import diff, report
from tieuchi.outputs.rates import ALL, RATES, rate_table, rejected_households
from tieuchi.outputs.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
ON = dt.date(2024, 12, 1)
LACKING = ("07213", "07222")  # communes whose households_total is blanked


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> Path:
    """The demo with two communes' households_total left empty."""
    folder = tmp_path_factory.mktemp("partial_totals")
    for name in ("households.csv", "members.csv"):
        shutil.copy(DEMO / name, folder / name)
    com = pd.read_csv(DEMO / "communes.csv", dtype=str, keep_default_na=False)
    com.loc[com["commune_code"].isin(LACKING), "households_total"] = ""
    com.to_csv(folder / "communes.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def result(survey):
    return tieuchi.classify_survey(tieuchi.read_survey(survey), on=ON)


def _computed(result):
    """The result with no recognised class, so that the summary (computed class) and the report (recognised class)
    count the same households."""
    hh = result.households.copy()
    hh["eligibility_class"] = hh["household_class"].astype("string").where(hh["household_class"] != "unknown")
    return replace(result, households=hh)


def test_the_summary_the_report_and_the_diff_give_one_rate_over_one_denominator(result):
    r = _computed(result)
    s = summarize(r)
    rates = report.rates(r).set_index(["scope", "rate_id"])
    d = diff.compare(r, r).measures
    for rid in RATES:
        row = rates.loc[(ALL, rid)]
        mine = s.rates[f"{rid}_rate"]
        assert (mine.numerator, mine.denominator) == (row["numerator"], row["denominator"])
        assert mine.value * 100 == pytest.approx(row["value"])
        m = d[(d["scope"] == ALL) & (d["kind"] == "rate") & (d["measure"] == rid)].iloc[0]
        assert m["before"] == pytest.approx(row["value"])
    assert s.denominator_source == rates.loc[(ALL, "poor"), "denominator_source"] == "mixed"
    totals = pd.read_csv(DEMO / "communes.csv", dtype={"commune_code": str}).set_index("commune_code")
    codes = r.households["commune_code"].astype("string")
    expected = sum(int(totals.loc[c, "households_total"]) if c not in LACKING else int((codes == c).sum())
                   for c in sorted(codes.unique()))
    assert s.denominator == expected  # the totals given, plus the surveyed households of the two without


def test_each_commune_has_one_denominator_in_the_summary_and_the_report(result):
    r = _computed(result)
    by = summarize(r).by_commune.set_index("commune_code")
    rates = report.rates(r).set_index(["scope", "rate_id"])
    for code in by.index:
        row = rates.loc[(str(code), "poor")]
        assert by.loc[code, "denominator"] == row["denominator"]
        assert by.loc[code, "denominator_source"] == row["denominator_source"]
        assert row["denominator_source"] == ("surveyed" if code in LACKING else "communes")


def test_the_printed_summary_and_rates_csv_agree_on_a_survey_lacking_some_totals(survey, tmp_path):
    runner = CliRunner()
    shown = runner.invoke(app, ["classify", str(survey), "--on", ON.isoformat(), "--out", str(tmp_path / "c"),
                                "--lang", "en"], env={"COLUMNS": "160"})
    assert shown.exit_code in (0, 1), shown.output
    done = runner.invoke(app, ["report", str(survey), "--plan", "tan_yen_2024", "--on", ON.isoformat(),
                               "--out", str(tmp_path / "r")])
    assert done.exit_code in (0, 1), done.output
    rates = pd.read_csv(tmp_path / "r" / "rates.csv", dtype={"scope": str})
    hh = pd.read_csv(tmp_path / "c" / "households.csv", dtype=str, keep_default_na=False)
    # the demo gives no recognised_class: the summary's computed class is the report's class
    assert (hh["eligibility_class"].replace("", "unknown") == hh["household_class"]).all()
    row = rates[(rates["scope"] == ALL) & (rates["rate_id"] == "poor")].iloc[0]
    assert row["denominator_source"] == "mixed"
    assert f"{row['value']:.2f}%" in shown.output
    assert f"{int(row['denominator']):,}" in shown.output
    assert "commune(s) without a total use their surveyed households" in shown.output


def test_the_summary_and_the_report_count_the_same_rejected_households(result, survey):
    raw = tieuchi.read_survey(survey).households
    assert summarize(result).n_rejected == rejected_households(result)[ALL] == \
        int(report.rates(result, raw).iloc[0]["rejected"]) > 0


def test_a_member_whose_household_does_not_exist_is_no_rejected_household():
    hh = pd.DataFrame({"household_id": ["1"], "commune_code": ["A"], "household_class": ["poor"]})
    rejects = pd.DataFrame({"table": ["members", "households", "members"], "row": [4, 2, 5],
                            "household_id": ["9", "2", "2"],
                            "problem": ["unknown_household", "member_rejected", "invalid_code"]})
    from types import SimpleNamespace

    r = SimpleNamespace(households=hh, rejects=rejects, n_households_in=2, communes=None,
                        regime="vn_2022_2026", reference_date=ON)
    assert rejected_households(r)[ALL] == 1
    r.n_households_in = 0  # not known: the distinct household rows of the rejects
    assert rejected_households(r)[ALL] == 1
    assert summarize(r).n_rejected == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", None]),
                          st.sampled_from(["poor", "near_poor", "average_living", "other", "unknown", ""])),
                min_size=0, max_size=40),
       st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 500), max_size=4))
def test_an_areas_numerator_and_denominator_are_the_sums_over_its_communes(rows, totals):
    codes = pd.Series([c for c, _ in rows], dtype="string")
    classes = pd.Series([k for _, k in rows], dtype="string")
    communes = pd.DataFrame({"commune_code": list(totals), "households_total": list(totals.values())})
    t = rate_table(classes, codes, communes)
    area, parts = t[t["scope"] == ALL], t[t["scope"] != ALL]
    no_code = codes.isna()
    for rid, wanted in RATES.items():
        a = area[area["rate_id"] == rid].iloc[0]
        p = parts[parts["rate_id"] == rid]
        orphan_num = int((no_code & classes.isin(list(wanted))).sum())
        assert a["numerator"] == p["numerator"].sum() + orphan_num
        assert a["denominator"] == p["denominator"].sum() + int(no_code.sum())  # no commune: its surveyed count
        assert a["numerator"] == int(classes.isin(list(wanted)).sum())
        assert a["unknown"] == int(classes.isin(["", "unknown"]).sum())
    assert set(parts["scope"]) == {str(c) for c in codes.dropna()}
