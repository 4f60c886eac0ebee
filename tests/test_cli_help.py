"""`tieuchi --help` and each command's help, as a user reads them in an 80-column terminal: real metavars, required
options marked, the --on / --for-year requirement said, no word alone on a line, examples at the end."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

from tieuchi.cli import app
from tieuchi.cli.help import EXAMPLES_HEAD, Command, examples

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["classify", "check", "eligible", "report", "diff", "template", "test"]
WITH_DATE = ["classify", "check", "eligible", "report", "diff"]


def help_at_80(*command: str) -> str:
    """The help as the real entry point prints it in an 80-column terminal."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "80"}
    p = subprocess.run([sys.executable, "-m", "tieuchi.cli", *command, "--help"], capture_output=True, text=True,
                       env=env, check=True)
    return p.stdout


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    return {name: help_at_80(*([name] if name else [])) for name in ["", *COMMANDS]}


def click_command(name: str):
    group = typer.main.get_command(app)
    return group.get_command(None, name)


def test_no_help_shows_a_type_placeholder_or_a_braced_argument(helps):
    for name, text in helps.items():
        assert not re.search(r"<[a-z][\w\[\], ]*>", text), (name, re.findall(r"<[^>]*>", text))
        assert "{" not in text.splitlines()[0], name


def test_every_help_fits_80_columns_with_no_word_alone_on_a_line(helps):
    for name, text in helps.items():
        for line in text.splitlines():
            assert len(line) <= 80, (name, line)
            assert len(line.split()) != 1, (name, line)


def test_each_command_help_ends_with_examples_of_that_command(helps):
    for name in COMMANDS:
        tail = helps[name].rstrip().split(EXAMPLES_HEAD)
        assert len(tail) == 2, name
        lines = [x for x in tail[1].splitlines() if x.strip()]
        assert 1 <= len(lines) <= 2 and all(f"tieuchi {name}" in x for x in lines), (name, lines)
    assert EXAMPLES_HEAD in helps[""]


def test_the_commands_that_need_a_date_say_that_one_of_on_and_for_year_is_required(helps):
    for name in WITH_DATE:
        text = helps[name]
        assert "(--on DATE | --for-year YEAR)" in " ".join(text.split()), name
        assert "exactly one of --on, --for-year is required" in text, name
        assert re.search(r"^  \+ --on DATE ", text, re.M) and re.search(r"^  \+ --for-year YEAR ", text, re.M)
    assert "exactly one of --vs-on, --vs-for-year is required" in helps["diff"]
    assert "--on" in helps[""] and "--for-year" in helps[""]


def test_every_option_shows_its_declared_metavar_and_every_required_one_is_marked(helps):
    for name in COMMANDS:
        text, command = helps[name], click_command(name)
        for param in command.params:
            if param.param_type_name != "option":
                assert re.search(rf"^  [* ] {re.escape(param.metavar or param.name.upper())}", text, re.M), name
                continue
            opt = max(param.opts, key=len)
            if param.is_flag:
                assert re.search(rf"^  [ *+] {re.escape(opt)}(  |$)", text, re.M), (name, opt)
            else:
                assert param.metavar, (name, opt)  # every shipped option declares what the user types
                assert re.search(rf"^  [ *+] {re.escape(opt)} {re.escape(param.metavar)}", text, re.M), (name, opt)
            if param.required:
                line = next(x for x in text.splitlines() if x.startswith(f"  * {opt} "))
                assert line, (name, opt)
        usage = " ".join(text.split("\n\n")[0].split())
        for param in command.params:
            if param.param_type_name == "option" and param.required:
                assert f"{max(param.opts, key=len)} {param.metavar}" in usage, (name, usage)


def test_the_app_help_lists_every_command_by_the_first_paragraph_of_its_help(helps):
    for name in COMMANDS:
        assert re.search(rf"^    {name} ", helps[""], re.M), name
    assert "Phân loại từng hộ" not in helps[""]  # the Vietnamese paragraph stays in the command's own help
    assert "Phân loại từng hộ" in helps["classify"]


def test_options_declared_without_a_metavar_come_out_right_too():
    """Another command's options, as other modules declare them: a flag, a repeatable argument, an option with no
    metavar, a pair of flags."""
    demo = typer.Typer(add_completion=False)
    surveys_arg = typer.Argument(..., help="Survey files.")
    commune_opt = typer.Option(None, "--commune", help="One commune.")
    labels_opt = typer.Option(False, "--labels", help="Labels, not codes.")
    bom_opt = typer.Option(True, "--bom/--no-bom", help="A byte-order mark.")

    @demo.command(cls=Command, epilog=examples("tieuchi demo a.xlsx b.xlsx --commune 07213"))
    def run(surveys: list[Path] = surveys_arg, commune: Optional[str] = commune_opt, labels: bool = labels_opt,
            bom: bool = bom_opt) -> None:
        """Demo."""

    r = CliRunner().invoke(demo, ["--help"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "<" not in out and "{" not in out
    assert re.search(r"^Usage: \S+ SURVEYS\.\.\. \[OPTIONS\]$", out, re.M)
    assert re.search(r"^  \* SURVEYS\.\.\. ", out, re.M)
    assert re.search(r"^    --commune COMMUNE ", out, re.M)
    assert re.search(r"^    --labels  ", out, re.M)
    assert re.search(r"^    --bom / --no-bom  ", out, re.M) and "[mặc định / default: True]" not in out
    assert out.rstrip().endswith("tieuchi demo a.xlsx b.xlsx --commune 07213")


def test_a_usage_error_shows_the_same_usage_line_as_the_help():
    r = CliRunner().invoke(app, ["report", "x"], env={"COLUMNS": "80"})
    assert r.exit_code == 2
    assert "SURVEY... --plan PLAN (--on DATE | --for-year YEAR)" in r.output and "{survey}" not in r.output
