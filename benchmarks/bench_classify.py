"""Benchmark: households/second and peak memory added by `tieuchi.classify` (issue: ≥ 2,000,000 households/s at 1M
households, ≤ 1 GB peak memory added).

Each size runs in a fresh child process that reads a typed Parquet survey (integer ids, categorical codes, nullable
booleans — what a Parquet survey gives), resets the kernel's peak-RSS mark once the inputs are loaded, then calls
`classify()` (validation included: codes, ranges, required fields, duplicate ids, member–household membership).

    python benchmarks/bench_classify.py                 # 100k and 1M households, 5 calls each
    python benchmarks/bench_classify.py --sizes 100000  # one size
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results"


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def make_survey(n: int) -> Path:
    folder = CACHE / f"survey_{n}"
    if (folder / "members.parquet").exists():
        return folder
    from tieuchi.devtools.synth import generate_survey

    folder.mkdir(parents=True, exist_ok=True)
    hh, mem, communes = generate_survey(n, n_communes=max(20, n // 2500), seed=7, missing_rate=0.002, typed=True,
                                        reference_date="2024-12-01")
    hh.to_parquet(folder / "households.parquet")
    mem.to_parquet(folder / "members.parquet")
    communes.to_parquet(folder / "communes.parquet")
    return folder


def child(folder: Path, repeat: int) -> dict:
    import pandas as pd

    import tieuchi
    from tieuchi.rulebook.load import load_rules

    on = dt.date(2024, 12, 1)
    hh = pd.read_parquet(folder / "households.parquet")
    mem = pd.read_parquet(folder / "members.parquet")
    rules = load_rules(on)
    tieuchi.classify(hh.head(1000), mem[mem["household_id"].isin(hh["household_id"].head(1000))], on=on,
                     rules=rules)  # warm-up: imports and caches outside the measurement
    base = rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (Linux)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = tieuchi.classify(hh, mem, on=on, rules=rules)
        times.append(time.perf_counter() - t0)
        del result
    peak = rss_kb("VmHWM")
    best = min(times)
    median = sorted(times)[len(times) // 2]
    return {"households": len(hh), "members": len(mem), "seconds_best": round(best, 3),
            "seconds_median": round(median, 3), "seconds_first": round(times[0], 3),
            "seconds_all": [round(t, 3) for t in times], "households_per_s": round(len(hh) / best),
            "households_per_s_median": round(len(hh) / median),
            "rss_inputs_mb": round(base / 1024), "peak_added_mb": round((peak - base) / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    rows = []
    for n in args.sizes:
        folder = make_survey(n)
        out = subprocess.run([sys.executable, __file__, "--child", str(folder), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, env={**os.environ})
        if out.returncode:
            sys.exit(out.stderr)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['households']:>9,} households {row['members']:>10,} members  best {row['seconds_best']:.3f} s "
              f"= {row['households_per_s']:>9,} households/s, median {row['seconds_median']:.3f} s "
              f"= {row['households_per_s_median']:>9,}/s, first call {row['seconds_first']:.3f} s;  "
              f"peak added {row['peak_added_mb']:,} MB (inputs {row['rss_inputs_mb']:,} MB)")
    CACHE.mkdir(exist_ok=True)
    (CACHE / "latest.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
