"""The CLI fuzz test: corrupted surveys drawn from the demo through the real command (tests/cli_fuzz.py says what is
damaged and what must hold). Seeded and bounded: the same few hundred surveys every run, well under a minute or two;
`python scripts/fuzz_cli.py --examples 3000` runs many more before a release."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from typer.testing import CliRunner

from tests.cli_fuzz import check_run, surveys
from tieuchi.cli import app

EXAMPLES = 200


@seed(20261202)
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(surveys())
def test_a_corrupted_survey_never_crashes_never_loses_a_row_and_exits_as_the_contract_says(survey):
    with tempfile.TemporaryDirectory() as tmp:
        path = survey.write(Path(tmp) / "in")
        out = Path(tmp) / "out"
        r = CliRunner().invoke(app, survey.args(path, out))
        problems = check_run(survey, r.exit_code, r.output, out)
        assert not problems, f"{survey.command} {survey.fmt} --on {survey.on}; damage: {survey.damage}\n" \
                             f"{problems}\n{r.output[-2000:]}"
