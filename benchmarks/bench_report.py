"""Benchmark: `tieuchi report` at district scale (issue 12: ≤ 10 s at 1M households / 200 communes, end to end).

Each case (households:communes) generates a typed Parquet survey with `tieuchi.devtools.synth` once, cached under
benchmarks/results/ (git-ignored), then runs in a fresh child process:

- the phases of the report in-process: read the survey, classify it, then each table of `report.build`
  (achievement, budget, Alkire–Foster, rates, movements) and each file `report.write` writes (CSV tables,
  report.html, report.xlsx), timed by wrapping those functions;
- the whole command, `python -m tieuchi.cli report SURVEY --plan tan_yen_2024 --on 2024-12-01 --out TMP`, as a user
  runs it (imports, reading, classifying, building and writing included): the "end to end" figure.

    python benchmarks/bench_report.py                          # 100k / 20 and 1M / 200 communes
    python benchmarks/bench_report.py --cases 1000000:200      # one case
    python benchmarks/bench_report.py --no-cli                 # phases only
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results"
PLAN = "tan_yen_2024"
ON = "2024-12-01"


def make_survey(n: int, n_communes: int) -> Path:
    folder = CACHE / f"report_survey_{n}_{n_communes}"
    if (folder / "members.parquet").exists():
        return folder
    from tieuchi.devtools.synth import generate_survey

    folder.mkdir(parents=True, exist_ok=True)
    hh, mem, communes = generate_survey(n, n_communes=n_communes, seed=7, missing_rate=0.002, typed=True,
                                        reference_date=ON)
    hh.to_parquet(folder / "households.parquet")
    mem.to_parquet(folder / "members.parquet")
    communes.to_parquet(folder / "communes.parquet")
    return folder


def child(folder: Path) -> dict:
    import tieuchi
    from tieuchi.outputs import report as rep
    from tieuchi.rulebook.plans import load_plan, plan_path

    times: dict[str, float] = {}

    def timed(name, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    on = dt.date.fromisoformat(ON)
    rules = tieuchi.load_rules(on)
    plan = load_plan(plan_path(PLAN), rules.regime.item_ids)
    t0 = time.perf_counter()
    raw = tieuchi.read_survey(folder)
    times["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = tieuchi.classify_survey(raw, on=on, rules=rules, isolate_failures=True)
    times["classify"] = time.perf_counter() - t0
    for name in ("achievement", "budget", "mpi_tables", "rates", "movements"):
        setattr(rep, name, timed(name, getattr(rep, name)))
    for name in ("write_csv", "write_html", "write_xlsx"):
        setattr(rep, name, timed(name, getattr(rep, name)))
    t0 = time.perf_counter()
    report = rep.build(result, plan, survey_name=str(folder), raw_households=result.households_by_row)
    times["build"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rep.write(report, Path(tmp) / "report", "vi")
        times["write"] = time.perf_counter() - t0
    # rates() is called by build and, inside achievement, once more: its time is inside both
    return {"households": len(result.households), "members": len(result.members),
            "communes": int(result.households["commune_code"].nunique()),
            "seconds": {k: round(v, 3) for k, v in times.items()}}


def cli(folder: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "tieuchi.cli", "report", str(folder), "--plan", PLAN, "--on", ON,
                "--out", str(Path(tmp) / "out")]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ})
        seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):  # 1: some households rejected (the synthetic survey has a few)
        sys.exit(done.stderr)
    return round(seconds, 3)


PHASES = ("read", "classify", "achievement", "budget", "mpi_tables", "rates", "movements", "build", "write_csv",
          "write_html", "write_xlsx", "write")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", default=["100000:20", "1000000:200"], metavar="HOUSEHOLDS:COMMUNES")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end command")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    rows = []
    for case in args.cases:
        n, _, c = case.partition(":")
        folder = make_survey(int(n), int(c or 20))
        out = subprocess.run([sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True,
                             env={**os.environ})
        if out.returncode:
            sys.exit(out.stderr)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        if not args.no_cli:
            row["seconds"]["cli_end_to_end"] = cli(folder)
        rows.append(row)
    names = [p for p in PHASES + ("cli_end_to_end",) if any(p in r["seconds"] for r in rows)]
    head = f"{'phase (s)':<16}" + "".join(f"{r['households']:>11,} hh / {r['communes']:<4}" for r in rows)
    print(head)
    print("-" * len(head))
    for p in names:
        print(f"{p:<16}" + "".join(f"{r['seconds'].get(p, float('nan')):>21.3f}" for r in rows))
    CACHE.mkdir(exist_ok=True)
    (CACHE / "report_latest.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
