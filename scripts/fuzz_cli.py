"""The longer CLI fuzz run, for before a release: many corrupted surveys (tests/cli_fuzz.py) through the real
command, every failure kept instead of stopping at the first.

    python scripts/fuzz_cli.py --examples 3000 [--seed 7] [--keep failures/]

Prints how many surveys ran (per command and format) and how many failed; with --keep, each failing survey is saved
(its files, the command line and what went wrong) so it can be run again by hand. Exit 0 when none failed, else 1.
Needs the test extra (hypothesis): pip install -e '.[test]'.
"""
from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from tests.cli_fuzz import check_run, surveys  # noqa: E402
from tieuchi.cli import app  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=None, help="default: a new seed each run (printed)")
    ap.add_argument("--keep", type=Path, default=None, help="folder for the failing surveys")
    args = ap.parse_args()
    run_seed = args.seed if args.seed is not None else int(time.time())
    counts: collections.Counter = collections.Counter()
    failures: list[tuple[str, list[str]]] = []
    start = time.monotonic()

    @seed(run_seed)
    @settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(surveys())
    def one(survey):
        counts[(survey.command, survey.fmt)] += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = survey.write(Path(tmp) / "in")
            out = Path(tmp) / "out"
            cmd = survey.args(path, out)
            r = CliRunner().invoke(app, cmd)
            problems = check_run(survey, r.exit_code, r.output, out)
            if problems:
                n = len(failures) + 1
                failures.append((" ".join(cmd), problems))
                print(f"FAIL {n}: tieuchi {' '.join(cmd)}\n  damage: {survey.damage}\n  " + "\n  ".join(problems),
                      flush=True)
                if args.keep:
                    keep = args.keep / f"failure_{n:04d}"
                    shutil.copytree(Path(tmp) / "in", keep / "in", dirs_exist_ok=True)
                    (keep / "what.txt").write_text(
                        f"tieuchi {' '.join(cmd)}\nexit {r.exit_code}\ndamage: {survey.damage}\n"
                        + "\n".join(problems) + "\n\n" + r.output, encoding="utf-8")

    one()
    total = sum(counts.values())
    print(f"seed {run_seed}: {total} surveys in {time.monotonic() - start:.0f} s, {len(failures)} failed")
    for (command, fmt), n in sorted(counts.items()):
        print(f"  {command:9} {fmt:5} {n}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
