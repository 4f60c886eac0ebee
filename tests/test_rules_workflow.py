"""A rules maintainer's workflow with a non-editable install (`pip install .`, then a rule edited in the checkout):
tieuchi warns that the installed rules are not the checkout's, `tieuchi test PATH` and `python -m pytest rules` test
the checkout's rules, and `tieuchi test` names case files relative to the rules folder, never inside site-packages.

The install is simulated as pip lays it out: a folder on PYTHONPATH holding the package with its rules as
tieuchi/_rules (pyproject.toml's force-include), and a checkout (pyproject.toml, conftest.py, rules/) apart from it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLASSIFICATION_CASES = "rules/poverty/vn_2022_2026/cases/classification.yaml"
INCOME_LINE = "rules/poverty/vn_2022_2026/parameters/income_line.yaml"
HOUSEHOLD = ROOT / "datasets" / "examples" / "one_poor_household.json"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """site/: tieuchi as `pip install .` leaves it, the rules inside the package."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "src" / "tieuchi", site / "tieuchi", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "rules", site / "tieuchi" / "_rules")
    return site


def checkout(where: Path, edited: bool) -> Path:
    """A source checkout (its rules/ as shipped, or with the rural income line raised to 1,600,000)."""
    where.mkdir()
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, where / name)
    shutil.copytree(ROOT / "rules", where / "rules")
    if edited:
        path = where / INCOME_LINE
        text = path.read_text(encoding="utf-8")
        assert "rural: 1500000, urban: 2000000" in text
        path.write_text(text.replace("rural: 1500000, urban: 2000000", "rural: 1600000, urban: 2000000", 1),
                        encoding="utf-8")
    return where


def run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIEUCHI_REQUIRE_DURABLE")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env)


def tieuchi(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run(site, cwd, "-m", "tieuchi.cli", *args)


def test_the_fake_install_reads_its_own_packaged_rules(installed, tmp_path):
    p = run(installed, tmp_path, "-c", "from tieuchi.rulebook.source import rules_root; print(rules_root())")
    assert p.returncode == 0, p.stderr
    assert Path(p.stdout.strip()) == installed / "tieuchi" / "_rules"


def test_a_command_run_in_a_checkout_whose_rules_differ_from_the_installed_ones_warns_once_naming_both_and_the_fix(
        installed, tmp_path):
    repo = checkout(tmp_path / "repo", edited=True)
    vi = tieuchi(installed, repo, "check", str(HOUSEHOLD), "--on", "2024-12-01")
    assert vi.returncode == 0, vi.stderr
    err = " ".join(vi.stderr.split())
    assert err.count("Cảnh báo") == 1
    assert str(installed / "tieuchi" / "_rules") in err and str(repo / "rules") in err
    assert "pip install -e ." in err and "chưa được dùng" in err
    en = tieuchi(installed, repo, "check", str(HOUSEHOLD), "--on", "2024-12-01", "--lang", "en")
    err = " ".join(en.stderr.split())
    assert err.count("Warning") == 1 and "Cảnh báo" not in err
    assert "differ from this checkout's" in err and "pip install -e ." in err
    deeper = tieuchi(installed, repo / "rules" / "poverty", "check", str(HOUSEHOLD), "--on", "2024-12-01")
    assert "Cảnh báo" in deeper.stderr  # anywhere inside the checkout


def test_no_warning_when_the_checkout_holds_the_installed_rules_or_when_run_outside_a_checkout(installed, tmp_path):
    same = checkout(tmp_path / "same", edited=False)
    p = tieuchi(installed, same, "check", str(HOUSEHOLD), "--on", "2024-12-01")
    assert p.returncode == 0 and "Cảnh báo" not in p.stderr, p.stderr
    checkout(tmp_path / "edited", edited=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = tieuchi(installed, elsewhere, "check", str(HOUSEHOLD), "--on", "2024-12-01")
    assert p.returncode == 0 and "Cảnh báo" not in p.stderr, p.stderr


def test_tieuchi_test_of_a_checkout_case_file_runs_it_against_the_checkouts_rules(installed, tmp_path):
    repo = checkout(tmp_path / "repo", edited=True)
    p = tieuchi(installed, repo, "test", CLASSIFICATION_CASES, "--lang", "en")
    assert p.returncode == 4, p.stdout + p.stderr  # the edit is seen: the cases pinning 1,500,000 fail
    assert "income_line: expected 1500000, got 1600000" in p.stdout
    assert f"{CLASSIFICATION_CASES}:5:" in p.stdout  # relative to the folder the user is in
    assert "Rules: rules (" in p.stdout
    same = checkout(tmp_path / "same", edited=False)
    assert tieuchi(installed, same, "test", CLASSIFICATION_CASES).returncode == 0


def test_tieuchi_test_names_the_installed_case_files_by_their_place_in_rules_not_in_site_packages(installed,
                                                                                                  tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = tieuchi(installed, elsewhere, "test", "--rules", "example_higher_rural_line", "--lang", "en")
    assert p.returncode == 4, p.stderr
    assert str(installed) not in p.stdout and "_rules" not in p.stdout
    assert f"  {CLASSIFICATION_CASES}:5: A rural household exactly at the income line" in p.stdout


def test_the_json_report_names_case_files_as_the_text_does(installed, tmp_path, monkeypatch):
    from tieuchi.casework import runner
    from tieuchi.casework.cases import load_case_file

    packaged = installed / "tieuchi" / "_rules"
    monkeypatch.setattr(runner, "packaged_rules", lambda: packaged)
    monkeypatch.chdir(tmp_path)
    case = load_case_file(packaged / CLASSIFICATION_CASES.removeprefix("rules/"))[0]
    res = runner.SuiteResult([case], [(case, [])])
    assert runner.to_json(res)["failures"][0]["file"] == CLASSIFICATION_CASES
    assert f"  {CLASSIFICATION_CASES}:{case.line}: " in runner.render_text(res, "en")
    mine = tmp_path / "myrules"
    shutil.copytree(ROOT / "rules" / "poverty", mine / "poverty", ignore=shutil.ignore_patterns("parameters"))
    shutil.copy(ROOT / "rules" / "instruments.yaml", mine / "instruments.yaml")
    assert runner.shown_path(mine / CLASSIFICATION_CASES.removeprefix("rules/")) == \
        "myrules/" + CLASSIFICATION_CASES.removeprefix("rules/")  # under the current folder: as the user has it
    monkeypatch.chdir(ROOT / "tests")
    assert runner.shown_path(mine / CLASSIFICATION_CASES.removeprefix("rules/")) == \
        "myrules/" + CLASSIFICATION_CASES.removeprefix("rules/")  # elsewhere: by the name of its rules folder


def test_pytest_on_the_checkouts_rules_tests_the_checkouts_rules_not_the_installed_copy(installed, tmp_path):
    repo = checkout(tmp_path / "repo", edited=True)
    p = run(installed, repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not durable",
            CLASSIFICATION_CASES)
    assert p.returncode == 1, p.stdout[-3000:]  # the edited line is what the cases ran against
    assert "income_line: expected 1500000, got 1600000" in p.stdout
    assert "A rural household exactly at the income line with 3 deprivations is poor" in p.stdout
    assert "the installed rules" in p.stdout and str(repo / "rules") in p.stdout  # said in pytest's header
    same = checkout(tmp_path / "same", edited=False)
    p = run(installed, same, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not durable",
            CLASSIFICATION_CASES)
    assert p.returncode == 0, p.stdout[-3000:]
