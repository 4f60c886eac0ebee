"""Overlays: a local standard as changes to parameters of a national regime, usable by every command with --rules."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tests.test_backends_agree import _require_durable
from tieuchi.cli import app
from tieuchi.errors import RulesError, UsageError
from tieuchi.rulebook.load import load_rules
from tieuchi.rulebook.source import rules_root
from tieuchi.devtools.synth import generate_survey, write_survey

OVERLAY = rules_root() / "overlays" / "example_higher_rural_line.yaml"
ON = dt.date(2024, 12, 1)  # before Decree 30/2025: no indicator reads the class, so only the line moves
OLD_RURAL, NEW_RURAL = 1_500_000, 1_800_000
POOR_HOUSEHOLD = Path(__file__).resolve().parents[1] / "datasets" / "examples" / "one_poor_household.json"

HEAD = """overlay: {name}
label: {{vi: Thử nghiệm, en: Test}}
base: {base}
citation: {{instrument: nd_07_2021, note: a test}}
parameters:
"""


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def overlay(tmp_path: Path, body: str, name: str = "local", base: str = "vn_2022_2026") -> Path:
    """An overlay file `name`.yaml whose `parameters:` block is `body` (indented by the caller)."""
    p = tmp_path / f"{name}.yaml"
    p.write_text(HEAD.format(name=name, base=base) + body, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def survey():
    hh, mem, communes = generate_survey(3000, n_communes=4, seed=7, missing_rate=0.05)
    return hh, mem, communes


@pytest.fixture(scope="module")
def survey_dir(tmp_path_factory, survey):
    """A small synthetic survey written as CSV, for the commands."""
    hh, mem, communes = generate_survey(200, n_communes=2, seed=11, typed=False)
    out = tmp_path_factory.mktemp("survey")
    write_survey(hh, mem, communes, out)
    return out


# ---------------------------------------------------------------------------------------------------- what it does


def test_an_overlay_raising_the_rural_line_changes_exactly_the_rural_households_between_the_old_and_the_new_line(
        survey):
    hh, mem, communes = survey
    base = tieuchi.classify(hh, mem, on=ON, communes=communes, lang="en")
    local = tieuchi.classify(hh, mem, on=ON, communes=communes, lang="en", rules=OVERLAY)
    assert len(base.rejects) == len(local.rejects)
    b, o = base.households.set_index("household_id"), local.households.set_index("household_id")
    assert list(b.index) == list(o.index)

    # expected, from the inputs alone: rural, income known and above the old line but not above the new one
    inputs = hh.set_index("household_id").loc[b.index]
    income = inputs["income_per_capita_month"].astype("Float64")
    rural = (inputs["area"].astype("string") == "rural").fillna(False)
    between = (income > OLD_RURAL).fillna(False) & (income <= NEW_RURAL).fillna(False)
    expected = set(b.index[(rural & between).to_numpy()])
    assert len(expected) >= 20  # the survey has households in the band: the test tests something

    changed = set(b.index[(b["household_class"].astype(str) != o["household_class"].astype(str)).to_numpy()])
    assert changed == expected
    # above the old line they were average-living; at or below the new one the deprivations decide
    assert set(b.loc[sorted(expected), "household_class"].astype(str)) == {"average_living"}
    for hid in expected:
        known, unknown = int(b.at[hid, "deprivation_count"]), int(b.at[hid, "unknown_count"])
        want = "poor" if known >= 3 else "near_poor" if known + unknown < 3 else "unknown"
        assert o.at[hid, "household_class"] == want, hid
    # the urban line is the national one: no urban household moves, and the deprivations move for nobody
    urban = b.index[(inputs["area"].astype("string") == "urban").fillna(False).to_numpy()]
    assert (b.loc[urban, "household_class"].astype(str) == o.loc[urban, "household_class"].astype(str)).all()
    for col in [c for c in b.columns if c.startswith("deprived_")] + ["deprivation_count", "unknown_count"]:
        assert b[col].astype(str).equals(o[col].astype(str)), col
    assert set(o.loc[rural[rural].index, "income_line"].dropna().astype(int)) == {NEW_RURAL}
    assert set(o.loc[urban, "income_line"].dropna().astype(int)) == {2_000_000}


def test_rules_version_records_the_base_and_the_overlay_with_its_content_hash(survey):
    hh, mem, communes = survey
    base = tieuchi.classify(hh.head(5), mem[mem["household_id"].isin(hh["household_id"].head(5))], on=ON)
    digest = hashlib.sha256(OVERLAY.read_bytes()).hexdigest()[:12]
    rules = load_rules(ON, OVERLAY)
    assert rules.version == f"{base.rules_version}+example_higher_rural_line@{digest}"
    assert rules.regime.overlay.id == "example_higher_rural_line" and rules.regime.base.version == base.rules_version
    assert load_rules(ON).version == base.rules_version  # the cached base regime is unchanged
    assert load_rules(ON).params["income_line"] == {"rural": OLD_RURAL, "urban": 2_000_000}
    result = tieuchi.classify(hh.head(5), mem[mem["household_id"].isin(hh["household_id"].head(5))], on=ON,
                              rules=str(OVERLAY))
    assert set(result.households["rules_version"].astype(str)) == {rules.version}


def test_a_shipped_overlay_may_be_named_by_its_id():
    assert load_rules(ON, "example_higher_rural_line").version == load_rules(ON, OVERLAY).version


def test_values_dated_before_the_first_overlay_date_keep_the_base_values(tmp_path):
    p = overlay(tmp_path, "  income_line:\n"
                          "    - {from: 2025-01-01, value: {rural: 1700000, urban: 2100000}, "
                          "citation: {instrument: nd_07_2021}}\n")
    assert load_rules(dt.date(2024, 12, 31), p).params["income_line"] == {"rural": 1500000, "urban": 2000000}
    assert load_rules(dt.date(2025, 1, 1), p).params["income_line"] == {"rural": 1700000, "urban": 2100000}


def test_an_overlay_may_define_dependants_otherwise_since_each_category_is_a_parameter(survey, tmp_path):
    p = overlay(tmp_path, "  dependants_count_unable_to_work:\n"
                          "    - {from: 2022-01-01, value: false, citation: {instrument: nd_07_2021}}\n")
    hh, mem, communes = survey
    base = tieuchi.classify(hh, mem, on=ON, communes=communes, lang="en").members
    local = tieuchi.classify(hh, mem, on=ON, communes=communes, lang="en", rules=p).members
    before, after = _cells(base["dependant"]), _cells(local["dependant"])
    moved = before != after
    assert moved.sum() >= 20
    # only working-age members who cannot work (or may not), and only away from "a dependant": true to false (or to
    # unknown when their disability is not known), unknown to false
    assert set(_cells(base.loc[moved, "working_age"])) == {"True"}
    assert set(_cells(base.loc[moved, "can_work"])) <= {"False", "unknown"}
    assert set(zip(before[moved], after[moved])) <= {("True", "False"), ("True", "unknown"), ("unknown", "False")}
    assert ("True", "False") in set(zip(before[moved], after[moved]))


def _cells(col: pd.Series) -> pd.Series:
    """A result column as text, with empty cells as 'unknown' (so that two empty cells compare equal)."""
    return col.astype("object").where(col.notna(), "unknown").astype(str)


# ---------------------------------------------------------------------------------------------------- refused


def test_an_unknown_parameter_is_refused_with_exit_3_file_line_and_a_suggestion(tmp_path, survey_dir):
    p = overlay(tmp_path, "  income_lines:\n    - {from: 2022-01-01, value: {rural: 1800000, urban: 2000000}, "
                          "citation: {instrument: nd_07_2021}}\n")
    r = run("classify", survey_dir, "--on", ON, "--out", tmp_path / "out", "--rules", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:6: regime vn_2022_2026 has no parameter 'income_lines'" in r.stderr
    assert "did you mean 'income_line'?" in r.stderr
    assert not (tmp_path / "out").exists()  # refused before the survey is read
    r = run("classify", survey_dir, "--on", ON, "--out", tmp_path / "out", "--rules", p)
    assert r.exit_code == 3 and "không có tham số 'income_lines' — có phải là 'income_line'?" in r.stderr


@pytest.mark.parametrize("param, value, words", [
    ("income_line", "{rural: 1.8 triệu, urban: 2000000}", "is not an amount in VND per person per month"),
    ("income_line", "1800000", "is keyed by area: give a value for each of rural, urban"),
    ("income_line", "{rurall: 1800000, urban: 2000000}", "unknown area 'rurall' — did you mean 'rural'?"),
    ("income_line", "{urban: 2000000}", "no value for area 'rural'"),
    ("dependants_count_unable_to_work", "1", "1 is not true or false"),
    ("min_deprivations_poor", "2.5", "is not a whole number"),
    ("dependant_max_share", "50", "is not a share from 0 to 1"),
    ("safe_water_sources", "[piped, tap]", "'tap' is not a code of the field it is compared with"),
    ("safe_water_sources", "piped", "is not a list of codes"),
])
def test_a_value_that_does_not_fit_the_parameters_unit_or_shape_is_refused_with_exit_3(tmp_path, param, value,
                                                                                        words):
    p = overlay(tmp_path, f"  {param}:\n    - from: 2022-01-01\n      value: {value}\n"
                          f"      citation: {{instrument: nd_07_2021}}\n")
    with pytest.raises(RulesError) as err:
        load_rules(ON, p)
    assert err.value.exit_code == 3
    assert f"{p}:8: parameter '{param}'" in err.value.message and words in err.value.message
    assert err.value.vi and "tham số" in err.value.vi


def test_a_wrong_unit_from_the_command_line_exits_3_naming_the_file_and_line(tmp_path):
    p = overlay(tmp_path, "  income_line:\n    - {from: 2022-01-01, value: {rural: '1800000', urban: 2000000}, "
                          "citation: {instrument: nd_07_2021}}\n")
    r = run("check", POOR_HOUSEHOLD, "--on", ON, "--rules", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:7: parameter 'income_line' (vnd_per_person_month) for area 'rural': '1800000' is not an amount" \
        in r.stderr


@pytest.mark.parametrize("text, words", [
    ("- just a list\n", "an overlay is a YAML mapping"),
    (HEAD.format(name="local", base="vn_2022_2026") + "  income_line:\n    - {from: 2022-01-01, valeu: 1, "
                                                      "citation: {instrument: nd_07_2021}}\n",
     "unknown key 'valeu' — did you mean 'value'?"),
    (HEAD.format(name="local", base="vn_2022_2062") + "  income_line: []\n", "List should have at least 1 item"),
    (HEAD.format(name="local", base="vn_2022_2062") + "  income_line:\n    - {from: 2022-01-01, value: "
                                                      "{rural: 1, urban: 2}, citation: {instrument: nd_07_2021}}\n",
     "base 'vn_2022_2062' is not a regime of the rules — did you mean 'vn_2022_2026'?"),
    (HEAD.format(name="other", base="vn_2022_2026") + "  income_line:\n    - {from: 2022-01-01, value: "
                                                      "{rural: 1, urban: 2}, citation: {instrument: nd_07_2021}}\n",
     "overlay id 'other' differs from the file name 'local'"),
    (HEAD.format(name="local", base="vn_2022_2026") + "  income_line:\n    - {from: 2022-01-01, value: "
                                                      "{rural: 1, urban: 2}, citation: {instrument: qd_1234}}\n",
     "citation names unknown instrument 'qd_1234'"),
    (HEAD.format(name="local", base="vn_2022_2026") + "  income_line:\n    - {from: 2030-01-01, value: "
                                                      "{rural: 1, urban: 2}, citation: {instrument: nd_07_2021}}\n",
     "a value from 2030-01-01 never applies"),
])
def test_an_overlay_of_the_wrong_shape_is_refused_with_exit_3(tmp_path, text, words):
    p = tmp_path / "local.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=words.replace("(", r"\(").replace("?", r"\?")) as err:
        load_rules(ON, p)
    assert str(p) in err.value.message


def test_a_date_outside_the_base_regimes_window_is_a_usage_error_naming_the_window(tmp_path, survey_dir):
    with pytest.raises(UsageError, match=r"applies within its base regime vn_2022_2026, which covers "
                                         r"2022-01-01 → 2026-12-31, not 2027-06-01"):
        load_rules(dt.date(2027, 6, 1), OVERLAY)
    r = run("classify", survey_dir, "--on", "2027-06-01", "--out", tmp_path / "out", "--rules", OVERLAY)
    assert r.exit_code == 2, r.output
    assert "2022-01-01 → 2026-12-31" in r.stderr and "Traceback" not in r.output


def test_rules_that_do_not_exist_are_a_usage_error(tmp_path):
    r = run("check", POOR_HOUSEHOLD, "--on", ON, "--rules", tmp_path / "nothing.yaml", "--lang", "en")
    assert r.exit_code == 2 and "no such file or folder" in r.stderr
    assert "example_higher_rural_line" in r.stderr  # the shipped overlays are listed


# ---------------------------------------------------------------------------------------------------- every command


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_classify_check_eligible_and_report_all_take_rules_file(tmp_path, survey_dir):
    version = load_rules(ON, OVERLAY).version
    out = {}
    for rules in (None, OVERLAY):
        tag = "local" if rules else "base"
        extra = ["--rules", rules] if rules else []
        r = run("classify", survey_dir, "--on", ON, "--out", tmp_path / tag / "c", "--lang", "en", *extra)
        assert r.exit_code in (0, 1), r.output
        hh = _csv(tmp_path / tag / "c" / "households.csv")
        assert (set(hh["rules_version"]) == {version}) == bool(rules)
        r = run("eligible", survey_dir, "--on", ON, "--out", tmp_path / tag / "e", "--lang", "en",
                "--item", "p2_livelihood", *extra)
        assert r.exit_code in (0, 1), r.output
        r = run("report", survey_dir, "--plan", "tan_yen_2024", "--on", ON, "--out", tmp_path / tag / "r", "--lang",
                "en", *extra)
        assert r.exit_code in (0, 1), r.output
        r = run("check", POOR_HOUSEHOLD, "--on", ON, "--format", "json", "--lang", "en", *extra)
        assert r.exit_code == 0, r.output
        assert (json.loads(r.stdout)["rules_version"] == version) == bool(rules)
        out[tag] = hh
    # the households the overlay makes poor or near-poor are listed for support and counted in the report
    moved = (out["base"]["household_class"] == "average_living") & \
        out["local"]["household_class"].isin(["poor", "near_poor"])
    assert moved.any()
    eligible = {tag: len(_csv(tmp_path / tag / "e" / "eligible_p2_livelihood.csv")) for tag in out}
    assert eligible["local"] > eligible["base"]
    rates = {tag: _csv(tmp_path / tag / "r" / "rates.csv").set_index(["scope", "rate_id"]) for tag in out}
    both = {tag: int(rates[tag].at[("all", "poor_or_near_poor"), "numerator"]) for tag in out}
    assert both["local"] - both["base"] == int(moved.sum())


def test_the_durable_backend_with_an_overlay_gives_the_vectorized_results_and_not_the_bases(survey):
    _require_durable()
    hh, mem, _ = survey
    income = hh["income_per_capita_month"].astype("Float64")
    band = hh[((hh["area"].astype("string") == "rural") & (income > OLD_RURAL) & (income <= NEW_RURAL))
              .fillna(False).to_numpy()].head(12)
    rest = hh.drop(band.index).head(12)
    small = pd.concat([band, rest])
    members = mem[mem["household_id"].isin(small["household_id"])]
    base = tieuchi.classify(small, members, on=ON, lang="en", engine="durable")  # compiles and caches the base
    results = {e: tieuchi.classify(small, members, on=ON, lang="en", engine=e, rules=OVERLAY)
               for e in ("vectorized", "durable")}
    cols = ["household_id", "rules_version", "household_class", "income_line", "deprivation_count", "unknown_count",
            "undecided_by"]
    v, d = (results[e].households[cols].astype(str).reset_index(drop=True) for e in ("vectorized", "durable"))
    pd.testing.assert_frame_equal(v, d)
    assert (d["household_class"] != base.households["household_class"].astype(str).reset_index(drop=True)).sum() \
        == len(band)
