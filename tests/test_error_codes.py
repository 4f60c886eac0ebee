"""Rule, usage and data errors carry a machine code beside the text: every construction in src/ names one, the CLI
prints it ("Lỗi [code]: …"), `tieuchi test --format json` gives it where a case could not run, and the API's
errors carry it as `.code`."""
from __future__ import annotations

import ast
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.casework.cases import load_case_file
from tieuchi.cli import app
from tieuchi.errors import DataError, RulesError, TieuchiError, UsageError
from tieuchi.rulebook.overlays import load_overlay
from tieuchi.rulebook.plans import load_plan
from tieuchi.rulebook.source import rules_root

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "tieuchi"
DEMO = ROOT / "datasets" / "demo"
POOR = ROOT / "datasets" / "examples" / "one_poor_household.json"
OVERLAY = rules_root() / "overlays" / "example_higher_rural_line.yaml"
CASES = rules_root() / "poverty" / "vn_2022_2026" / "cases"
ON = "2024-12-01"
BASES = {"TieuchiError", "UsageError", "RulesError", "DataError"}
CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


# ------------------------------------------------------------------------------------------- every raise has one


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text("utf-8")) for p in sorted(SRC.rglob("*.py"))}


def _name(func: ast.expr) -> str | None:
    """X for X(...), a.X(...) and X.from_table(...)."""
    if isinstance(func, ast.Attribute) and func.attr == "from_table":
        func = func.value
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _error_classes(trees) -> tuple[set[str], set[str]]:
    """The tieuchi error classes (the four of tieuchi.errors and their subclasses in src/), and those subclasses
    that fix their own code as a class attribute (a construction of one needs no code)."""
    names, fixed = set(BASES), set()
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        _name(b) in names for b in node.bases):
                    names.add(node.name)
                    grown = True
                    if any(isinstance(s, (ast.Assign, ast.AnnAssign)) and "code" in
                           [t.id for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                            if isinstance(t, ast.Name)] for s in node.body):
                        fixed.add(node.name)
    return names, fixed


def _factories(trees, errors) -> dict[str, str]:
    """Functions that build an error with `code=<one of their parameters>`: {function name: that parameter}."""
    out = {}
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs, *fn.args.posonlyargs]}
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and _name(node.func) in errors:
                    for k in node.keywords:
                        if k.arg == "code" and isinstance(k.value, ast.Name) and k.value.id in params:
                            out[fn.name] = k.value.id
    return out


def _has(call: ast.Call, param: str, fn_args: list[str] | None = None) -> bool:
    if any(k.arg == param for k in call.keywords) or any(k.arg is None for k in call.keywords):
        return True
    return fn_args is not None and param in fn_args[:len(call.args)]


def test_every_construction_of_a_tieuchi_error_in_src_names_its_code():
    trees = _trees()
    errors, fixed = _error_classes(trees)
    factories = _factories(trees, errors)
    signatures = {fn.name: [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]] for tree in trees.values()
                  for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and fn.name in factories}
    missing = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in errors and name not in fixed and not _has(node, "code"):
                missing.append(f"{where}: {name}(...) without code=")
            elif name in factories and not _has(node, factories[name], signatures.get(name)):
                missing.append(f"{where}: {name}(...) without {factories[name]}=")
    assert not missing, "\n".join(missing)
    assert {"StrictRefusal", "DocumentError"} <= fixed


def test_every_code_written_in_src_is_a_short_snake_case_id():
    codes = set()
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
                codes.add(node.value.value)
            if isinstance(node, ast.ClassDef):
                for s in node.body:
                    if isinstance(s, ast.Assign) and [getattr(t, "id", None) for t in s.targets] == ["code"] \
                            and isinstance(s.value, ast.Constant) and s.value.value is not None:
                        codes.add(s.value.value)
    assert len(codes) > 60
    bad = sorted(c for c in codes if not (isinstance(c, str) and CODE.fullmatch(c) and len(c) <= 40))
    assert not bad, bad


def test_an_error_made_from_a_message_table_carries_both_languages_and_its_code():
    from tieuchi.i18n import table

    messages = table(vi={"x": "không có '{p}'", "x_hint": "cho tệp khác"}, en={"x": "no '{p}'", "x_hint": "another"})
    e = UsageError.from_table(messages, "x", hint="x_hint", code="thing_missing", p="a.csv")
    assert (e.code, e.exit_code) == ("thing_missing", 2)
    assert e.in_lang("vi") == ("không có 'a.csv'", "cho tệp khác") and e.in_lang("en") == ("no 'a.csv'", "another")
    assert TieuchiError("plain").code is None


# ---------------------------------------------------------------------------------------------- through the CLI


def _broken_overlay(tmp_path: Path, old: str, new: str) -> Path:
    p = tmp_path / OVERLAY.name
    text = OVERLAY.read_text("utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), "utf-8")
    return p


def _bad_case_file(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(CASES / "_bases.yaml", folder / "_bases.yaml")
    p = folder / "housing_area.yaml"
    p.write_text((CASES / "housing_area.yaml").read_text("utf-8").replace("household: {floor_area_m2: 32}",
                                                                          "household: [1, 2]", 1), "utf-8")
    return p


USAGE = [
    (["classify", DEMO, "--on", "1990-01-01", "--out", "{tmp}/o"], 2, "rules_date_outside_windows"),
    (["classify", DEMO, "--on", "2026-02-30", "--out", "{tmp}/o"], 2, "date_invalid"),
    (["classify", DEMO, "--out", "{tmp}/o"], 2, "date_missing"),
    (["classify", DEMO, "--on", ON, "--for-year", "2025", "--out", "{tmp}/o"], 2, "date_given_twice"),
    (["classify", DEMO, "--for-year", "1066", "--out", "{tmp}/o"], 2, "year_invalid"),
    (["classify", DEMO, "--on", ON, "--out", "{tmp}/o", "--format", "doc"], 2, "unknown_option_value"),
    (["classify", DEMO, "--on", ON, "--out", "{tmp}/o", "--engine", "abacus"], 2, "unknown_option_value"),
    (["classify", "{tmp}/nowhere", "--on", ON, "--out", "{tmp}/o"], 2, "survey_not_found"),
    (["classify", DEMO, "--on", ON, "--out", "{tmp}/o", "--rules", "{tmp}/nowhere"], 2, "rules_not_found"),
    (["classify", DEMO, "--on", "2027-06-30", "--out", "{tmp}/o", "--rules", OVERLAY], 2,
     "overlay_date_outside_window"),
    (["check", "{tmp}/nowhere.json", "--on", ON], 2, "document_not_found"),
    (["eligible", DEMO, "--on", "2026-06-30", "--out", "{tmp}/o"], 2, "program_date_outside_window"),
    (["eligible", DEMO, "--on", "2025-06-30", "--out", "{tmp}/o", "--item", "p9_nothing"], 2, "item_unknown"),
    (["report", DEMO, "--plan", "nowhere", "--on", ON, "--out", "{tmp}/o"], 2, "plan_not_found"),
    (["report", DEMO, "--plan", "tan_yen_2024", "--on", ON, "--out", "{tmp}/o", "--k", "2"], 2, "cutoff_invalid"),
    (["report", DEMO, "--plan", "tan_yen_2024", "--on", ON, "--out", "{tmp}/o", "--weights", "water"], 2,
     "weights_invalid"),
    (["report", DEMO, "--plan", "tan_yen_2024", "--on", ON, "--out", "{tmp}/o", "--weights", "wter=1"], 2,
     "weights_unknown_indicator"),
    (["diff", DEMO, "--on", ON], 2, "diff_second_date_missing"),
    (["test", "{tmp}/nowhere"], 2, "case_path_not_found"),
    (["template", "--out", "{tmp}"], 2, "out_is_folder"),
]


@pytest.mark.parametrize("args, exit_code, code", USAGE, ids=[c for _, _, c in USAGE])
def test_a_usage_error_of_the_cli_prints_its_code_and_exits_2(tmp_path, args, exit_code, code):
    r = run(*[str(a).replace("{tmp}", str(tmp_path)) for a in args])
    assert r.exit_code == exit_code, r.output
    assert f"Lỗi [{code}]: " in r.stderr


RULES = [
    (lambda t: ["classify", DEMO, "--on", ON, "--out", t / "o", "--rules",
                _broken_overlay(t, "base: vn_2022_2026", "base: vn_2022_2062")], "overlay_base_unknown"),
    (lambda t: ["classify", DEMO, "--on", ON, "--out", t / "o", "--rules",
                _broken_overlay(t, "base: vn_2022_2026", "base: [vn_2022_2026")], "rules_yaml_invalid"),
    (lambda t: ["classify", DEMO, "--on", ON, "--out", t / "o", "--rules",
                _broken_overlay(t, "base: vn_2022_2026", "base: vn_2022_2026\nbase: vn_2022_2026")],
     "rules_yaml_refused"),
    (lambda t: ["test", _bad_case_file(t)], "case_file_invalid"),
]


@pytest.mark.parametrize("command, code", RULES, ids=[c for _, c in RULES])
def test_a_rules_error_of_the_cli_prints_its_code_and_exits_3(tmp_path, command, code):
    r = run(*command(tmp_path), "--lang", "en")
    assert r.exit_code == 3, r.output
    assert f"Error [{code}]: " in r.stderr


def test_a_data_error_of_check_prints_its_code_and_exits_1(tmp_path):
    doc = json.loads(POOR.read_text("utf-8"))
    doc["members"][1]["member_no"] = doc["members"][0]["member_no"]
    p = tmp_path / "twice.json"
    p.write_text(json.dumps(doc), "utf-8")
    r = run("check", p, "--on", ON)
    assert r.exit_code == 1, r.output
    assert "Lỗi [household_rejected]: hộ bị loại khi kiểm tra dữ liệu:" in r.stderr
    p.write_text("{not json", "utf-8")
    r = run("check", p, "--on", ON, "--lang", "en")
    assert r.exit_code == 1 and "Error [document_invalid_json]: " in r.stderr


def test_tieuchi_test_as_json_gives_the_code_of_what_kept_a_case_from_running(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(CASES / "_bases.yaml", folder / "_bases.yaml")
    p = folder / "housing_area.yaml"
    p.write_text((CASES / "housing_area.yaml").read_text("utf-8").replace(
        "household: {floor_area_m2: 32}", "household: {floor_area_m2: -32}", 1), "utf-8")
    r = run("test", p, "--format", "json")
    assert r.exit_code == 4, r.output
    rejected = [d for f in json.loads(r.stdout)["failures"] for d in f["differences"] if d["problem"] == "rejected"]
    assert rejected and {d["code"] for d in rejected} == {"household_rejected"}
    others = [d for f in json.loads(r.stdout)["failures"] for d in f["differences"] if d["problem"] != "rejected"]
    assert all("code" not in d for d in others)


# ---------------------------------------------------------------------------------------------- through the API


def _code(call) -> str:
    with pytest.raises(TieuchiError) as err:
        call()
    return err.value.code


def test_the_api_s_errors_carry_their_codes(tmp_path):
    raw = tieuchi.read_survey(DEMO)
    assert _code(lambda: tieuchi.load_rules(dt.date(1990, 1, 1))) == "rules_date_outside_windows"
    assert _code(lambda: tieuchi.classify(raw.households, raw.members, on="someday")) == "date_invalid"
    assert _code(lambda: tieuchi.classify(raw.households, raw.members, on=ON, lang="fr")) == "lang_unknown"
    assert _code(lambda: tieuchi.classify(raw.households, raw.members, on=ON, engine="abacus")) == "engine_unknown"
    assert _code(lambda: tieuchi.read_survey(tmp_path / "nowhere")) == "survey_not_found"
    assert _code(lambda: tieuchi.check(["not", "a", "household"], on=ON)) == "household_document_invalid"
    assert _code(lambda: load_plan(tmp_path / "nowhere.yaml")) == "plan_file_not_found"
    assert _code(lambda: load_overlay(_broken_overlay(tmp_path, "base: vn_2022_2026", "base: vn_2022_2062"))) \
        == "overlay_base_unknown"
    assert _code(lambda: load_case_file(_bad_case_file(tmp_path))) == "case_file_invalid"


def test_a_strict_refusal_and_a_refused_household_are_data_errors_with_their_codes(tmp_path):
    (tmp_path / "s").mkdir()
    for name in ("households.csv", "members.csv"):
        shutil.copy(DEMO / name, tmp_path / "s" / name)
    members = tmp_path / "s" / "members.csv"
    lines = members.read_text("utf-8").splitlines()
    members.write_text("\n".join([*lines, lines[1]]) + "\n", "utf-8")  # a member given twice
    with pytest.raises(DataError) as err:
        tieuchi.classify_survey(tmp_path / "s", on=ON, strict=True)
    assert err.value.code == "strict_refused"
    doc = json.loads(POOR.read_text("utf-8"))
    doc["members"][1]["member_no"] = doc["members"][0]["member_no"]
    with pytest.raises(DataError) as err:
        tieuchi.check(doc, on=ON, lang="en")
    assert err.value.code == "household_rejected" and err.value.in_lang("en")[0].startswith(
        "the household was rejected:")


def test_a_rules_error_and_a_usage_error_keep_their_exit_codes_beside_their_codes():
    with pytest.raises(UsageError) as err:
        tieuchi.load_rules(dt.date(1990, 1, 1))
    assert (err.value.exit_code, err.value.code) == (2, "rules_date_outside_windows")
    with pytest.raises(RulesError) as err:
        load_overlay(OVERLAY.with_name("nowhere.yaml"))
    assert err.value.exit_code == 3 and err.value.code == "rules_file_not_found"
