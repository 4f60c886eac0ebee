"""The plan report at district scale: every scope in one grouped pass (equal to each commune computed alone), a
report for one commune (`--commune`), labels instead of ids, one unit per table, a progress bar that moves while the
report is written."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

import tieuchi
from tieuchi.cli import app
from tieuchi.contract.read import read_survey
from tieuchi.devtools.synth import generate_survey
from tieuchi.errors import DataError, UsageError
from tieuchi.outputs import report
from tieuchi.outputs.report_render import render_html
from tieuchi.rulebook.plans import load_plan, plan_path

ON = dt.date(2024, 12, 1)
DEMO = "datasets/demo"
FIGURES = ["numerator", "denominator", "unknown", "gap_units"]


@pytest.fixture(scope="module")
def rules():
    return tieuchi.load_rules(ON)


@pytest.fixture(scope="module")
def plan():
    return load_plan(plan_path("tan_yen_2024"))


def _support(members: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Need and support records for a persons target (agri_capacity_support) and a households one (telecom_access):
    the member and household paths of the grouped pass."""
    some = members.sample(frac=0.3, random_state=int(rng.integers(1 << 30)))
    people = pd.DataFrame({"target_id": "agri_capacity_support", "household_id": some["household_id"].astype(str),
                           "member_no": some["member_no"].astype(str),
                           "needed": np.where(rng.random(len(some)) < 0.8, "true", "false"),
                           "received": np.where(rng.random(len(some)) < 0.5, "true", "false")})
    ids = members["household_id"].astype(str).drop_duplicates()
    homes = ids.sample(frac=0.2, random_state=int(rng.integers(1 << 30)))
    return pd.concat([people, pd.DataFrame({"target_id": "telecom_access", "household_id": homes, "member_no": None,
                                            "needed": "true", "received": np.where(rng.random(len(homes)) < 0.5,
                                                                                   "true", "false")})])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(n=st.integers(20, 160), n_communes=st.integers(1, 5), seed=st.integers(0, 10_000), typed=st.booleans())
def test_the_grouped_pass_gives_each_commune_what_the_commune_alone_gives(rules, plan, n, n_communes, seed, typed):
    hh, mem, communes = generate_survey(n, n_communes=n_communes, seed=seed, missing_rate=0.05, typed=typed,
                                        reference_date=ON.isoformat())
    rng = np.random.default_rng(seed)
    support = _support(mem, rng)
    whole = tieuchi.classify(hh, mem, on=ON, rules=rules, communes=communes)
    lines = [ln.id for ln in plan.budget.lines]
    allocation = pd.DataFrame([(str(c), ln, "10") for c in communes["commune_code"] for ln in lines],
                              columns=["commune_code", "budget_line", "amount_million_vnd"])
    ach, _ = report.achievement(whole, plan, support=support)
    mv = report.movements(whole)
    bud, _ = report.budget(whole, plan, allocation)
    codes = whole.households["commune_code"].astype("string")
    assert set(ach["scope"]) == {"all", *codes.dropna().unique()}
    for code in codes.dropna().unique():
        inside = hh["commune_code"].astype("string") == code
        sub_hh = hh[inside.to_numpy(dtype=bool)]
        sub_mem = mem[mem["household_id"].isin(sub_hh["household_id"])]
        alone = tieuchi.classify(sub_hh, sub_mem, on=ON, rules=rules, communes=communes)
        a_alone, _ = report.achievement(alone, plan, support=support)
        got = ach[ach["scope"] == code].set_index("target_id")
        want = a_alone[a_alone["scope"] == "all"].set_index("target_id")
        for col in FIGURES:
            assert got[col].astype("Float64").fillna(-1).tolist() == want[col].astype("Float64").fillna(-1).tolist(), \
                (code, col)
        assert np.allclose(got["value"].to_numpy(float), want["value"].to_numpy(float), equal_nan=True), code
        assert np.allclose(got["gap"].to_numpy(float), want["gap"].to_numpy(float), equal_nan=True), code
        m_alone = report.movements(alone)
        assert (mv[mv["scope"] == code]["households"].tolist()
                == m_alone[m_alone["scope"] == "all"]["households"].tolist()), code
        b_alone, _ = report.budget(alone, plan)
        b_got = bud[bud["scope"] == code].set_index("budget_line")["eligible_units"]
        b_want = b_alone.set_index("budget_line")["eligible_units"]
        assert b_got.fillna(-1).tolist() == b_want.reindex(b_got.index).fillna(-1).tolist(), code
    # the whole survey's row counts every household, one without a commune code included
    assert (ach[ach["scope"] == "all"]["denominator"].fillna(0).to_numpy()
            >= ach[ach["scope"] != "all"].groupby("target_id", sort=False)["denominator"].sum().reindex(
                ach[ach["scope"] == "all"]["target_id"]).fillna(0).to_numpy()).all()


@pytest.fixture(scope="module")
def demo(rules):
    s = read_survey(DEMO)
    return tieuchi.classify(s.households, s.members, on=ON, rules=rules, communes=s.communes), s


def test_a_report_for_one_commune_keeps_the_whole_survey_row_and_that_communes_rows_only(demo, plan):
    result, s = demo
    full = report.build(result, plan, raw_households=s.households)
    one = report.build(result, plan, raw_households=s.households, communes=["07213"])
    for name in report.FILES:
        table = getattr(one, name)
        assert set(table["scope"]) <= {"all", "07213"}, name
        whole = getattr(full, name)
        kept = whole[whole["scope"].isin(["all", "07213"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(table.reset_index(drop=True), kept, check_dtype=False)
    assert one.selected == ["07213"] and one.communes == {"07213": "Xã Cao Xá"}
    page = render_html(one)
    assert "Báo cáo cho xã" in page and "Xã Cao Xá (07213)" in page and "Xã Lam Cốt" not in page
    text = report.summary_text(one, "en")
    assert "\nXã Cao Xá (07213)" in text and "Commune Xã" not in text and "persons short" in text
    assert "\nXã Cao Xá (07213)" in report.summary_text(one, "vi") and "Xã Xã" not in report.summary_text(one, "vi")
    one.communes = {}  # a commune without a name: its code, said as a commune
    assert "\nXã 07213\n" in report.summary_text(one, "vi") and "\nCommune 07213\n" in report.summary_text(one, "en")


def test_an_unknown_commune_code_is_refused_listing_the_codes_the_survey_has(demo, plan):
    result, s = demo
    with pytest.raises(UsageError) as e:
        report.build(result, plan, communes=["07213", "99999"])
    assert e.value.code == "commune_unknown" and "99999" in e.value.message
    assert "07210 (Thị trấn Cao Thượng)" in e.value.hint and "07222 (Xã Lam Cốt)" in e.value.vi_hint


def test_tieuchi_report_commune_option_takes_one_code_several_or_a_comma_list_and_refuses_an_unknown(tmp_path):
    runner = CliRunner()
    args = ["report", DEMO, "--plan", "tan_yen_2024", "--on", "2024-12-01"]
    r = runner.invoke(app, args + ["--out", str(tmp_path / "a"), "--commune", "07213", "--commune", "07216"])
    assert r.exit_code == 1, r.output  # the demo's rejected rows
    assert set(pd.read_csv(tmp_path / "a" / "rates.csv", dtype=str)["scope"]) == {"all", "07213", "07216"}
    r = runner.invoke(app, args + ["--out", str(tmp_path / "b"), "--commune", "07213,07216"])
    assert set(pd.read_csv(tmp_path / "b" / "rates.csv", dtype=str)["scope"]) == {"all", "07213", "07216"}
    r = runner.invoke(app, args + ["--out", str(tmp_path / "c"), "--commune", "7213"])
    assert r.exit_code == 2 and "commune_unknown" in r.output and "07213 (Xã Cao Xá)" in r.output


class Text(HTMLParser):
    """The text a reader sees (not the tooltips), and each table's header cells."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.words, self.headers, self._style, self._th = [], [], False, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self._style = tag == "style"
        if tag == "table":
            self.headers.append([])
        if tag == "th" and ("scope", "col") in attrs:
            self._th = []

    def handle_endtag(self, tag):
        if tag == "th" and self._th is not None:
            self.headers[-1].append("".join(self._th))
            self._th = None

    def handle_data(self, data):
        if not self._style:
            self.words.append(data)
            if self._th is not None:
                self._th.append(data)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_report_names_budget_lines_items_and_targets_by_their_labels_never_their_ids(demo, plan, lang):
    result, s = demo
    built = report.build(result, plan, raw_households=s.households)
    seen = " ".join(Text(render_html(built, lang)).words)
    ids = [t.id for t in plan.targets] + [ln.id for ln in plan.budget.lines] + \
        [ln.item for ln in plan.budget.lines if ln.item] + [result.regime]
    # (the rules version, regime@hash, is a stamp, not a name)
    assert not [i for i in ids if re.search(rf"(?<![\w.]){re.escape(i)}(?![\w@])", seen)]
    p2 = plan.budget.lines[0]
    assert getattr(p2.label, lang) in seen
    assert getattr(result.rules.regime.program.items[p2.item].label, lang) in seen
    assert "--program-data" in seen  # the note says which option gives the missing records


def test_english_says_one_household_and_two_households(demo, plan):
    result, s = demo
    built = report.build(result, plan, raw_households=s.households)
    seen = " ".join(Text(render_html(built, "en")).words)
    assert not re.search(r"(?<![\d.,])1 (households|persons)\b", seen)
    assert re.search(r"\b1 household\b", seen) and re.search(r"\d{2,} households", seen)


def test_the_mpi_table_is_all_in_percent_and_says_k_once(demo, plan):
    result, s = demo
    built = report.build(result, plan, raw_households=s.households)
    page = render_html(built)
    section = page[page.index('<section id="mpi"'):page.index("<h3>", page.index('<section id="mpi"'))]
    headers = Text(section).headers[0]
    assert [h for h in headers[3:]] == [h for h in headers[3:] if h.endswith("(%)")] and len(headers) == 6
    x = built.mpi[built.mpi["scope"] == "all"].iloc[0]
    m0 = f"{x['M0'] * 100:.2f}".replace(".", ",")
    assert m0 in section and "k = 25%" in section


def test_at_200_communes_each_commune_is_one_row_and_the_chart_shows_the_20_highest_rates(rules, plan):
    hh, mem, communes = generate_survey(3000, n_communes=200, seed=5, typed=True, reference_date=ON.isoformat())
    result = tieuchi.classify(hh, mem, on=ON, rules=rules, communes=communes)
    built = report.build(result, plan)
    page = render_html(built)
    rates = page[page.index('<section id="rates"'):page.index('<section id="movements"')]
    n = result.households["commune_code"].nunique()
    assert rates.count("<tr") == 1 + 1 + n  # header, whole survey, one per commune
    assert "20 xã có tỷ lệ hộ nghèo cao nhất" in rates
    per_target = page[page.index('<section id="communes"'):page.index('<section id="rates"')]
    measured = built.achievement[(built.achievement["scope"] != "all")
                                 & (built.achievement["status"] != "not_measurable")]["target_id"].nunique()
    assert per_target.count("<table") == measured
    assert per_target.count("<tr") == measured * (1 + 1 + n)


def test_the_progress_bar_moves_once_per_file_and_per_sheet_while_the_report_is_written(demo, plan, tmp_path):
    result, s = demo
    built = report.build(result, plan, raw_households=s.households)
    calls = []
    report.write(built, tmp_path / "out", progress=lambda stage, done, total: calls.append((stage, done, total)))
    total = calls[0][2]
    assert [c[1] for c in calls] == list(range(1, total + 1)) and {c[0] for c in calls} == {"write"}
    assert total == len(report.FILES) + 1 + len(load_workbook(tmp_path / "out" / "report.xlsx").sheetnames)


def test_program_records_of_one_scope_are_added_as_numbers_and_a_text_that_is_no_number_is_refused(demo, plan):
    result, s = demo
    program = pd.DataFrame({"target_id": ["models_completed"] * 3, "numerator": ["9", "1", "4"],
                            "denominator": ["10", "10", "5"], "scope": [None, None, "07213"]})
    a, _ = report.achievement(result, plan, program_data=program)
    models = a[a["target_id"] == "models_completed"].set_index("scope")
    assert (models.loc["all", "numerator"], models.loc["all", "denominator"]) == (10, 20)  # not "91" / "1010"
    assert models.loc["07213", "value"] == pytest.approx(80.0) and models.loc["07216", "status"] == "not_measurable"
    bad = program.assign(numerator=["9", "nine", "4"])
    with pytest.raises(DataError) as e:
        report.achievement(result, plan, program_data=bad)
    assert e.value.code == "program_data_not_a_number" and "models_completed" in e.value.message
