"""Rule files written carelessly or with hostile intent: overlays, plans, regime files and case files that try to
exhaust the reader (deep nesting, alias bombs), to slip values past validation (days that do not exist, numbers too
large, YAML 1.1 number forms and tags) or to reach files outside the rules. Each is refused with exit 3 (or 2 for a
command-line id) and a message naming the file and line, never an internal error (exit 70) or a hang.

A hostile input that could hang an unfixed reader runs in a subprocess with a timeout, or in-process under an alarm,
so that a regression fails instead of hanging the suite."""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tieuchi.casework.cases import load_case_file
from tieuchi.cli import app
from tieuchi.errors import RulesError, UsageError
from tieuchi.rulebook.load import load_rules
from tieuchi.rulebook.overlays import load_overlay, overlay_path
from tieuchi.rulebook.plans import load_plan, plan_path
from tieuchi.rulebook.source import rules_root
from tieuchi.rulebook.yaml_lines import MAX_DEPTH, read_yaml
from tieuchi.rulebook.vocabulary import MAX_VND

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
OVERLAY = rules_root() / "overlays" / "example_higher_rural_line.yaml"
PLAN = rules_root() / "plans" / "tan_yen_2024.yaml"
REGIME = rules_root() / "poverty" / "vn_2022_2026"
CASES = REGIME / "cases"
ON = "2024-12-01"
LINE = "      value: {rural: 1800000, urban: 2000000}"  # the income line of the shipped overlay (its line 40)
COUNT = "    count: {field: eligibility_class, eq: poor}"  # the first target's count in the shipped plan


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def run_cli(*args, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """The real CLI in a subprocess, killed after `timeout` seconds (a hang fails the test instead of hanging it)."""
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "tieuchi.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout,
                              env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"tieuchi {' '.join(map(str, args))} did not answer within {timeout} s")
    return proc, time.monotonic() - start


@contextlib.contextmanager
def within(seconds: float):
    """Fail (TimeoutError) when the block runs longer than `seconds` (Python-level code only)."""
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def yaml_file(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def shipped_overlay(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped example overlay with one piece of text replaced, under its own file name."""
    text = OVERLAY.read_text("utf-8")
    assert old in text
    folder = tmp_path / "ov"
    folder.mkdir(exist_ok=True)
    return yaml_file(folder, text.replace(old, new, 1), OVERLAY.name)


def shipped_plan(tmp_path: Path, old: str, new: str, before_targets: str = "") -> Path:
    text = PLAN.read_text("utf-8")
    assert old in text
    text = text.replace(old, new, 1).replace("\ntargets:\n", "\n" + before_targets + "targets:\n", 1)
    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    return yaml_file(folder, text, PLAN.name)


def shipped_case_file(tmp_path: Path, old: str, new: str, name: str = "housing_area.yaml") -> Path:
    """A copy of a shipped case file (with its _bases.yaml beside it) with one piece of text replaced."""
    text = (CASES / name).read_text("utf-8")
    assert old in text
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    shutil.copy(CASES / "_bases.yaml", folder / "_bases.yaml")
    return yaml_file(folder, text.replace(old, new, 1), name)


def copy_regime(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(rules_root(), root, ignore=shutil.ignore_patterns("cases"))
    return root / "poverty" / "vn_2022_2026"


def alias_bomb(levels: int, width: int = 9) -> str:
    """A flow mapping of `levels` anchors, each a list of `width` aliases of the one before: width**levels leaves."""
    return "{x0: &a0 [lol], " + ", ".join(f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
                                          for i in range(1, levels + 1)) + "}"


# ------------------------------------------------------------------------------------------------ deep nesting


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "a: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "".join("  " * i + "a:\n" for i in range(3000)) + "  " * 3000 + "b: 1\n",
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)),
])
def test_yaml_nested_thousands_deep_is_refused_with_file_line_and_the_limit_not_a_recursion_error(tmp_path, text):
    p = yaml_file(tmp_path, text)
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.exit_code == 3
    assert f"{p}:" in err.value.message and f"nested too deeply (more than {MAX_DEPTH} levels)" in err.value.message
    assert err.value.vi and "lồng nhau quá sâu" in err.value.vi


def test_yaml_nested_to_the_limit_is_read_and_one_level_more_is_refused(tmp_path):
    assert read_yaml(yaml_file(tmp_path, "[" * MAX_DEPTH + "]" * MAX_DEPTH)) is not None
    with pytest.raises(RulesError, match=r"x.yaml:1: nested too deeply"):
        read_yaml(yaml_file(tmp_path, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)))


def test_the_shipped_rule_files_are_far_from_the_nesting_limit():
    assert MAX_DEPTH >= 3 * 17  # the deepest shipped file (child_schooling) has 17 levels


def _deep_overlay(tmp_path):
    return ["classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules",
            shipped_overlay(tmp_path, "    - from: 2022-01-01\n",
                            "    - from: 2022-01-01\n      provisional: " + "[" * 5000 + "]" * 5000 + "\n")]


def _deep_overlay_test(tmp_path):
    return ["test", "--rules", _deep_overlay(tmp_path)[-1]]


def _deep_plan(tmp_path):
    deep = "{not: " * 3000 + "{field: eligibility_class, eq: poor}" + "}" * 3000
    return ["report", DEMO, "--on", ON, "--out", tmp_path / "out", "--plan",
            shipped_plan(tmp_path, COUNT, "    count: " + deep)]


def _deep_regime(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "indicators" / "water.yaml"
    text = p.read_text("utf-8")
    p.write_text(text + "notes: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    return ["classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules", folder]


def _deep_case(tmp_path):
    return ["test", shipped_case_file(tmp_path, "expect: {deprived_housing_area: false, household_class: near_poor}",
                                      "expect: {deprived_housing_area: " + "[" * 5000 + "]" * 5000 + "}")]


@pytest.mark.parametrize("command", [_deep_overlay, _deep_overlay_test, _deep_plan, _deep_regime, _deep_case],
                         ids=["classify --rules overlay", "test --rules overlay", "report --plan", "classify --rules "
                              "regime folder", "test case file"])
def test_every_command_answers_yaml_nested_thousands_deep_with_exit_3_and_the_file(tmp_path, command):
    args = command(tmp_path)
    with within(60):
        r = run(*args, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert "nested too deeply" in r.stderr and ".yaml:" in r.stderr


# ------------------------------------------------------------------------------------------- aliases and anchors


@pytest.mark.parametrize("text, line, words", [
    ("a: &x 1\nb: 2\n", 1, "YAML anchor '&x' is not allowed"),
    ("a: [1, 2]\nb: *x\n", 2, "YAML alias '*x' is not allowed"),
    ("a:\n  - &first {b: 1}\n  - *first\n", 2, "YAML anchor '&first' is not allowed"),
])
def test_anchors_and_aliases_are_refused_in_rule_files_with_their_line(tmp_path, text, line, words):
    p = yaml_file(tmp_path, text)
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.message.startswith(f"{p}:{line}: {words}")
    assert err.value.vi and "không được dùng" in err.value.vi


def test_an_alias_bomb_is_refused_in_well_under_a_second(tmp_path):
    p = yaml_file(tmp_path, f"value: {alias_bomb(9)}\n")  # 9**9 leaves once expanded
    start = time.monotonic()
    with within(1), pytest.raises(RulesError, match="x.yaml:1: YAML anchor '&a0' is not allowed"):
        read_yaml(p)
    assert time.monotonic() - start < 0.5


def test_an_overlay_with_an_alias_bomb_of_nine_levels_is_refused_by_the_cli_at_once(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: " + alias_bomb(9)[:-1] + ", rural: *a9, urban: 2000000}")
    assert p.stat().st_size < 3500
    proc, took = run_cli("classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules", p, "--lang", "en")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert f"{p}:40: YAML anchor '&a0' is not allowed in rule files" in proc.stderr
    assert len(proc.stderr) < 1000


def test_an_overlay_whose_expanded_value_would_be_echoed_gives_a_short_message(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: " + alias_bomb(5)[:-1] + ", rural: *a5, urban: 2000000}")
    with within(5), pytest.raises(RulesError) as err:
        load_overlay(p)
    assert len(err.value.message) < 1000 and len(err.value.vi) < 1000


def test_a_plan_whose_condition_is_an_alias_tree_of_nine_to_the_seventh_nodes_is_refused_by_the_cli(tmp_path):
    tree = "x_c0: &c0 {field: eligibility_class, eq: poor}\n" + "".join(
        f"x_c{i}: &c{i} {{any: [" + ", ".join([f"*c{i - 1}"] * 9) + "]}\n" for i in range(1, 8))
    p = shipped_plan(tmp_path, COUNT, "    count: *c7", before_targets=tree)
    proc, _ = run_cli("report", DEMO, "--on", ON, "--out", tmp_path / "out", "--plan", p, "--lang", "en")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "YAML anchor '&c0' is not allowed in rule files" in proc.stderr and len(proc.stderr) < 1000


def test_no_shipped_rule_file_uses_anchors_aliases_tags_or_yaml_1_1_numbers():
    files = sorted(rules_root().rglob("*.yaml"))
    assert len(files) > 100
    for f in files:
        read_yaml(f)  # refuses each of them, with file:line


# ------------------------------------------------------------------------------------------------- echoed values


def test_a_long_value_echoed_in_an_overlay_error_is_cut_short(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: '" + "9" * 100_000 + "', urban: 2000000}")
    with pytest.raises(RulesError) as err:
        load_overlay(p)
    assert "is not an amount in VND per person per month" in err.value.message
    assert "9" * 40 + "…" in err.value.message
    assert len(err.value.message) < 600 and len(err.value.vi) < 600


def test_a_long_unknown_key_is_cut_short_in_the_message(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: 1800000, urban: 2000000, " + "k" * 1000 + ": 1}")
    with pytest.raises(RulesError) as err:
        load_overlay(p)
    assert "unknown area 'kkkk" in err.value.message and len(err.value.message) < 600


def test_an_overlay_with_thousands_of_problems_lists_the_first_ones_and_counts_the_others(tmp_path):
    keys = ", ".join(f"k{i}: 1" for i in range(5000))
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: 1800000, urban: 2000000, " + keys + "}")
    with pytest.raises(RulesError) as err:
        load_overlay(p)
    lines = err.value.message.splitlines()
    assert len(lines) <= 21 and "4980 more" in lines[-1]
    assert "4980" in err.value.vi.splitlines()[-1]


def test_a_plan_with_a_long_id_echoes_it_cut_short(tmp_path):
    p = shipped_plan(tmp_path, "id: tan_yen_2024", "id: " + "t" * 50_000)
    with pytest.raises(RulesError) as err:
        load_plan(p)
    assert "differs from the file name" in err.value.message and len(err.value.message) < 600


# --------------------------------------------------------------------------------------------------------- tags


@pytest.mark.parametrize("value, shown", [
    ("!!binary aGVsbG8=", "!!binary"), ("!!str 1800000", "!!str"), ("!!set {a, b}", "!!set"),
    ("!!omap [a: 1]", "!!omap"), ("!!pairs [a: 1]", "!!pairs"), ("!!int '1'", "!!int"), ("!!float 1", "!!float"),
    ("!!timestamp 2024-01-01", "!!timestamp"), ("!!map {a: 1}", "!!map"), ("!!seq [1]", "!!seq"),
    ("!!bool true", "!!bool"), ("!!null ''", "!!null"), ("! text", "!"), ("!local 1", "!local"),
    ("!<tag:example.com,2024:x> 1", "tag:example.com,2024:x"),
])
def test_every_explicit_yaml_tag_is_refused_with_its_line(tmp_path, value, shown):
    p = yaml_file(tmp_path, f"a: 1\nb: {value}\n")
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.message.startswith(f"{p}:2: YAML tag '{shown}' is not allowed in rule files")
    assert "thẻ YAML" in err.value.vi


def test_a_binary_value_in_an_overlay_is_refused_by_the_cli_with_exit_3(tmp_path):
    p = shipped_overlay(tmp_path, "    - from: 2022-01-01\n", "    - from: 2022-01-01\n      provisional: !!binary "
                                                             "aGVsbG8=\n")
    r = run("classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules", p, "--lang", "en")
    assert r.exit_code == 3 and f"{p}:40: YAML tag '!!binary' is not allowed" in r.stderr


# --------------------------------------------------------------------------------------------- numbers and dates


@pytest.mark.parametrize("text, what", [
    ("0x1B7740", "hexadecimal"), ("-0x10", "hexadecimal"), ("0o17", "octal"), ("017", "leading zero"),
    ("08", "leading zero"), ("0b101", "binary"), ("1_800_000", "'_'"), ("1_000.5", "'_'"), ("190:20:30", "base 60"),
    ("1:30.5", "base 60"),
    (".inf", "infinity"), ("-.inf", "infinity"), ("+.INF", "infinity"), (".nan", "not a number"),
    (".NaN", "not a number"),
])
def test_yaml_1_1_number_forms_are_refused_with_their_line(tmp_path, text, what):
    p = yaml_file(tmp_path, f"a: 1\nvalue: {text}\n")
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.message.startswith(f"{p}:2: '{text}' is a YAML 1.1 number form")
    assert what in err.value.message
    assert err.value.vi and "YAML 1.1" in err.value.vi


def test_plain_decimal_numbers_words_and_quoted_text_read_as_before(tmp_path):
    p = yaml_file(tmp_path, "a: 1800000\nb: -3\nc: 0\nd: 0.7\ne: 1.0\nf: 1.0e+3\ng: '0x10'\nh: \"190:20:30\"\n"
                            "i: '08'\nj: 1e5\nk: inf\nl: 2024-02-29\nm: <<\nn: =\no: null\np: ~\nq:\n")
    assert read_yaml(p) == {"a": 1800000, "b": -3, "c": 0, "d": 0.7, "e": 1.0, "f": 1000.0, "g": "0x10",
                            "h": "190:20:30", "i": "08", "j": 100000.0, "k": "inf", "l": dt.date(2024, 2, 29),
                            "m": "<<", "n": "=", "o": None, "p": None, "q": None}
    assert type(read_yaml(p)["a"]) is int


def test_a_merge_key_is_an_ordinary_key_not_a_merge(tmp_path):
    data = read_yaml(yaml_file(tmp_path, "a: 1\n<<: {b: 2}\n"))
    assert data == {"a": 1, "<<": {"b": 2}}


@pytest.mark.parametrize("digits", [19, 400, 5000])
def test_an_integer_too_large_for_a_rule_file_is_refused_with_its_line_not_an_overflow(tmp_path, digits):
    p = yaml_file(tmp_path, "a: 1\nvalue: " + "9" * digits + "\n")
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.message.startswith(f"{p}:2: the number 9999") and "is too large" in err.value.message
    assert len(err.value.message) < 300


def test_an_integer_of_eighteen_digits_is_read(tmp_path):
    assert read_yaml(yaml_file(tmp_path, "a: -" + "9" * 18 + "\n")) == {"a": -int("9" * 18)}


def test_a_decimal_number_beyond_the_floating_point_range_is_refused(tmp_path):
    with pytest.raises(RulesError, match=r"x.yaml:1: the number 1e400 is too large"):
        read_yaml(yaml_file(tmp_path, "a: 1e400\n"))


@pytest.mark.parametrize("text, why", [
    ("2022-02-30", "February 2022 has 28 days"), ("2024-02-30", "February 2024 has 29 days"),
    ("2024-04-31", "April 2024 has 30 days"), ("2024-13-01", "there is no month 13"),
    ("2024-00-10", "there is no month 0"), ("2024-01-00", "there is no day 0"), ("0000-01-01", "there is no year 0"),
])
def test_a_day_that_does_not_exist_is_refused_with_its_line_and_why(tmp_path, text, why):
    p = yaml_file(tmp_path, f"a: 1\nfrom: {text}\n")
    with pytest.raises(RulesError) as err:
        read_yaml(p)
    assert err.value.message == f"{p}:2: '{text}' is not a date: {why}"
    assert err.value.vi.startswith(f"{p}:2: '{text}' không phải là một ngày")


def test_a_date_with_a_time_of_day_is_refused(tmp_path):
    with pytest.raises(RulesError, match=r"x.yaml:1: '2024-12-01 10:00:00' is a date and time"):
        read_yaml(yaml_file(tmp_path, "on: 2024-12-01 10:00:00\n"))


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{[1]: 2}\n", "? {a: 1}\n: 2\n"])
def test_a_list_or_mapping_as_a_key_is_refused_with_its_line(tmp_path, text):
    with pytest.raises(RulesError, match=r"x.yaml:1: a key must be a word, a number or a date"):
        read_yaml(yaml_file(tmp_path, text))


def test_an_overlay_dated_from_the_thirtieth_of_february_is_refused_by_the_cli_with_exit_3(tmp_path):
    p = shipped_overlay(tmp_path, "    - from: 2022-01-01", "    - from: 2022-02-30")
    r = run("classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:39: '2022-02-30' is not a date: February 2022 has 28 days" in r.stderr


def test_a_case_dated_on_the_thirtieth_of_february_is_refused_by_tieuchi_test_with_exit_3(tmp_path):
    p = shipped_case_file(tmp_path, "on: 2024-12-01", "on: 2024-02-30")
    r = run("test", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:2: '2024-02-30' is not a date: February 2024 has 29 days" in r.stderr


# ----------------------------------------------------------------------------------- amounts: whole and bounded


@pytest.mark.parametrize("rural, words", [
    ("1.0e+308", "1e+308 is not an amount in VND per person per month"),
    ("1800000.5", "1800000.5 is not an amount in VND per person per month"),
    ("1800000.0", "1800000.0 is not an amount in VND per person per month"),
    (str(MAX_VND + 1), f"{MAX_VND + 1} is not an amount in VND per person per month"),
    ("-1", "-1 is not an amount in VND per person per month"),
    ("9" * 400, "is too large"),
])
def test_an_overlay_income_line_must_be_a_whole_bounded_number_of_dong(tmp_path, rural, words):
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: " + rural + ", urban: 2000000}")
    with pytest.raises(RulesError) as err:
        load_overlay(p)
    assert err.value.exit_code == 3
    assert f"{p}:40: " in err.value.message and words in err.value.message
    assert "whole number of đồng" in err.value.message or "too large" in err.value.message


def test_an_overlay_income_line_at_the_bound_is_accepted(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: " + str(MAX_VND) + ", urban: 2000000}")
    assert load_overlay(p).parameters["income_line"].values[-1].value["rural"] == MAX_VND


def test_an_income_line_of_1e308_is_refused_by_the_cli_instead_of_written_as_a_negative_number(tmp_path):
    p = shipped_overlay(tmp_path, LINE, "      value: {rural: 1.0e+308, urban: 2000000}")
    r = run("classify", DEMO, "--on", ON, "--out", tmp_path / "out", "--rules", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:40: parameter 'income_line' (vnd_per_person_month) for area 'rural': 1e+308 is not" in r.stderr
    assert not (tmp_path / "out" / "households.csv").exists()


@pytest.mark.parametrize("param, value, words", [
    ("hi_base_salary", "2340000.5", "is not an amount in VND per month"),  # a vnd_per_month parameter
    ("min_floor_area_per_person", "1.0e+300", "is not an area in m² per person"),
    ("min_deprivations_poor", "1000000000", "is not a whole number"),
    ("retirement_age", "{male: 100000, female: 680}", "is not a whole number of months"),
])
def test_every_amount_parameter_is_bounded_by_its_unit_not_by_its_name(tmp_path, param, value, words):
    head = OVERLAY.read_text("utf-8").split("\nparameters:\n")[0]
    p = yaml_file(tmp_path, head + f"\nparameters:\n  {param}:\n    - from: 2022-01-01\n      value: {value}\n"
                                   "      citation: {instrument: nd_07_2021}\n", OVERLAY.name)
    with pytest.raises(RulesError) as err:
        load_overlay(p)
    assert f"parameter '{param}'" in err.value.message and words in err.value.message


@pytest.mark.parametrize("old, new, words", [
    ("value: 8,", "value: 1.0e+308,", "1e+308 is not an area in m² per person"),
    ("value: 8,", "value: -8,", "-8 is not an area in m² per person"),
])
def test_a_regime_parameter_file_with_a_value_outside_its_unit_is_refused(tmp_path, old, new, words):
    folder = copy_regime(tmp_path)
    p = folder / "parameters" / "min_floor_area_per_person.yaml"
    text = p.read_text("utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(dt.date(2024, 12, 1), folder)
    assert f"{p}:" in err.value.message and words in err.value.message


def test_a_regime_income_line_of_1e308_is_refused(tmp_path):
    folder = copy_regime(tmp_path)
    p = folder / "parameters" / "income_line.yaml"
    text = p.read_text("utf-8")
    assert "rural: 1500000" in text
    p.write_text(text.replace("rural: 1500000", "rural: 1.0e+308", 1), encoding="utf-8")
    with pytest.raises(RulesError, match="1e\\+308 is not an amount in VND per person per month"):
        load_rules(dt.date(2024, 12, 1), folder)


@pytest.mark.parametrize("total, words", [
    ("1.0e+308", "budget.total: Input should be less than or equal to"),
    ("9" * 400, "is too large"),
])
def test_a_plan_budget_with_an_absurd_amount_is_refused_not_an_overflow(tmp_path, total, words):
    p = shipped_plan(tmp_path, "  total: 6608\n", f"  total: {total}\n")
    with pytest.raises(RulesError) as err:
        load_plan(p)
    assert f"{p}:331: " in err.value.message and words in err.value.message


def test_a_plan_parameter_outside_its_unit_is_refused(tmp_path):
    p = shipped_plan(tmp_path, "        value: true\n", "        value: 1.5\n")
    with pytest.raises(RulesError, match="1.5 is not true or false"):
        load_plan(p)


# ------------------------------------------------------------------------------------------------------- paths


@pytest.mark.parametrize("given", ["../overlays/example_higher_rural_line", "../../rules/plans/tan_yen_2024",
                                   "plans/../tan_yen_2024", "..", "/etc/tan_yen_2024", "tan_yen_2024/",
                                   "tan_yen_2024.bak", "~tan_yen_2024"])
def test_a_plan_given_by_id_is_an_id_inside_the_shipped_plans_folder(given):
    with pytest.raises(UsageError) as err:
        plan_path(given)
    assert err.value.exit_code == 2 and "tan_yen_2024" in err.value.hint


def test_a_plan_given_by_id_or_as_a_yaml_path_is_found(tmp_path):
    assert plan_path("tan_yen_2024") == PLAN
    mine = yaml_file(tmp_path, PLAN.read_text("utf-8"), "tan_yen_2024.yaml")
    assert plan_path(str(mine)) == mine


def test_report_with_a_plan_id_climbing_out_of_the_plans_folder_is_a_usage_error(tmp_path):
    r = run("report", DEMO, "--on", ON, "--out", tmp_path / "out", "--plan", "../overlays/example_higher_rural_line",
            "--lang", "en")
    assert r.exit_code == 2, r.output
    assert "not a plan id" in r.stderr


@pytest.mark.parametrize("given", ["../overlays/example_higher_rural_line", "..", "overlays/..",
                                   "example_higher_rural_line/"])
def test_an_overlay_given_by_id_is_an_id_inside_the_shipped_overlays_folder(given):
    with pytest.raises(UsageError):
        overlay_path(given)


# -------------------------------------------------------------------------------------------------- case files


@pytest.mark.parametrize("rule, words", [
    ("../../etc/passwd", "rule '../../etc/passwd' is not a rule of the shipped rules"),
    ("housing_aera", "rule 'housing_aera' is not a rule of the shipped rules — did you mean 'housing_area'?"),
    ("[housing_area]", "rule must be the id of a rule"),
])
def test_a_case_file_naming_a_rule_its_regime_does_not_have_is_refused_with_a_suggestion(tmp_path, rule, words):
    p = shipped_case_file(tmp_path, "rule: housing_area", f"rule: {rule}")
    with pytest.raises(RulesError) as err:
        load_case_file(p)
    assert err.value.message.startswith(f"{p}:1: ") and words in err.value.message


def test_a_case_covering_a_rule_its_regime_does_not_have_is_refused_with_a_suggestion(tmp_path):
    p = shipped_case_file(tmp_path, "covers: [min_floor_area_per_person]", "covers: [min_floor_area_per_persn]")
    with pytest.raises(RulesError, match=r"covers 'min_floor_area_per_persn', which is not a rule of the shipped "
                                         r"rules — did you mean 'min_floor_area_per_person'\?"):
        load_case_file(p)


def test_tieuchi_test_refuses_a_case_file_naming_a_path_as_its_rule_with_exit_3(tmp_path):
    p = shipped_case_file(tmp_path, "rule: housing_area", "rule: ../../etc/passwd")
    r = run("test", p, "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"{p}:1: rule '../../etc/passwd' is not a rule of" in r.stderr


def test_the_rule_of_a_case_file_in_a_regime_folder_is_checked_against_that_regime(tmp_path):
    folder = copy_regime(tmp_path)
    (folder / "cases").mkdir()
    shutil.copy(CASES / "_bases.yaml", folder / "cases" / "_bases.yaml")
    p = folder / "cases" / "digital.yaml"
    p.write_text((CASES / "water.yaml").read_text("utf-8").replace("rule: water", "rule: digital_services", 1),
                 encoding="utf-8")
    with pytest.raises(RulesError, match="rule 'digital_services' is not a rule of regime vn_2022_2026"):
        load_case_file(p)  # digital_services is an indicator of vn_2027_2030 only


@pytest.mark.parametrize("old, new, words", [
    ("  - name: A household of four with 32 m²", "  - 5\n  - name: A household of four with 32 m²",
     "a case is a mapping"),
    ("  - name: A household of four with 32 m² (exactly 8 m² per person) is not deprived on housing area",
     "  - name: [not, a, sentence]", "'name' is a sentence"),
    ("expect: {deprived_housing_area: false, household_class: near_poor}", "expect: 5", "'expect' is a mapping"),
    ("household: {floor_area_m2: 32}", "household: [1, 2]", "'household' is a mapping"),
    ("household: {floor_area_m2: 32}", "members: {x: {sex: male}}", "member number 'x'"),
    ("household: {floor_area_m2: 32}", "members: {1: 5}", "changes to member 1 are a mapping"),
    ("household: {floor_area_m2: 32}", "members: 5", "'members' is a list of members or a mapping"),
    ("household: {floor_area_m2: 32}", "household: {members: 5}", "'members' is a list of members"),
    ("household: {floor_area_m2: 32}", "household: {members: [5]}", "a member is a mapping"),
    ("covers: [min_floor_area_per_person]", "covers: 5", "'covers' is a list of rule ids"),
    ("expect: {deprived_housing_area: false, household_class: near_poor}",
     "expect: {undecided_by: 5}", "'undecided_by' is a list"),
    ("expect: {deprived_housing_area: false, household_class: near_poor}",
     "expect: {members: [1]}", "expected members are a mapping"),
    ("expect: {deprived_housing_area: false, household_class: near_poor}",
     "expect: {members: {one: {age: 3}}}", "member number 'one'"),
    ("extends: default", "extends: [default]", "'extends' names a base"),
    ("extends: default", "extends: nowhere", "no base 'nowhere' in"),
    ("on: 2024-12-01", "on: tomorrow", "'on' is a date"),
])
def test_a_case_file_of_the_wrong_shape_is_a_rules_error_with_its_line(tmp_path, old, new, words):
    p = shipped_case_file(tmp_path, old, new)
    with pytest.raises(RulesError) as err:
        load_case_file(p)
    assert f"{p}:" in err.value.message and words in err.value.message


def test_a_case_file_whose_cases_are_not_a_list_is_refused_with_its_line(tmp_path):
    p = yaml_file(tmp_path, "rule: housing_area\non: 2024-12-01\ncases: 5\n", "housing_area.yaml")
    with pytest.raises(RulesError, match=r"housing_area.yaml:3: 'cases' is a list of cases, not 5"):
        load_case_file(p)


def test_a_case_file_whose_bases_file_is_missing_says_which_file_it_needs(tmp_path):
    p = shipped_case_file(tmp_path, "rule: housing_area", "rule: housing_area")
    (p.parent / "_bases.yaml").unlink()
    with pytest.raises(RulesError, match=r"housing_area.yaml:3: extends: default needs .*_bases.yaml"):
        load_case_file(p)


def test_tieuchi_test_answers_a_malformed_case_file_with_exit_3_not_an_internal_error(tmp_path):
    p = shipped_case_file(tmp_path, "expect: {deprived_housing_area: false, household_class: near_poor}",
                          "expect: {members: [1]}")
    r = run("test", p, "--lang", "en")
    assert r.exit_code == 3, r.output
