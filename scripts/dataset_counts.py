"""The class counts datasets/README.md gives, computed rather than typed: the demo survey at its reference date, and
the generator's calibration on 50,000 households (20 communes, four seeds, at its default reference date).

    python scripts/dataset_counts.py            # rewrite them in datasets/README.md (from the repository root)
    python scripts/dataset_counts.py --check    # exit 1, saying what differs, when the file is stale

Each figure sits in datasets/README.md between `<!-- counts:NAME -->` and `<!-- /counts:NAME -->`; everything else
in the file is left alone. tests/test_dataset_counts.py runs the check, so a change to the rules, the generator or
the demo that moves a count fails until this script is rerun.
"""
from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
import tieuchi  # noqa: E402
from tieuchi.devtools import synth  # noqa: E402

README = ROOT / "datasets" / "README.md"
DEMO = ROOT / "datasets" / "demo"
DEMO_DATE = "2024-12-01"  # the demo's reference date (scripts/make_datasets.py), where the top-level README runs it
CALIBRATION = dict(n_households=50_000, n_communes=20)
SEEDS = (2024, 1, 2, 3)
WIDTH = 116  # the file's line length
BLOCK = re.compile(r"(<!-- counts:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /counts:(?P=name) -->)", re.S)


def _int(n: int) -> str:
    return f"{n:,}"


def _pct(share: float) -> str:
    v = share * 100
    return f"{v:.2f} %" if v < 10 else f"{v:.1f} %"


def class_counts(result) -> dict[str, int]:
    """Households per class of the result's rules (unknown last), every class present."""
    counts = result.households["household_class"].astype("string").fillna("unknown").value_counts()
    return {c: int(counts.get(c, 0)) for c in result.rules.regime.class_ids}


def demo_block() -> str:
    result = tieuchi.classify_survey(DEMO, on=DEMO_DATE)
    counts = class_counts(result)
    short = result.rules.regime.class_labels("en", short=True)
    parts = [f"{_int(n)} {short[c]}" for c, n in counts.items()]
    return textwrap.fill(f"The demo survey (5 communes, seed 7, 1 % missing) gives at {DEMO_DATE} "
                         f"{', '.join(parts[:-1])} and {parts[-1]} households ({_int(len(result.households))} "
                         f"classified), with {_int(len(result.rejects))} reject rows.", WIDTH) + "\n"


def calibration() -> list[tuple[int, dict[str, float], dict[str, str]]]:
    """Per seed: the share of each class at the generator's default reference date, and the classes' short
    labels (in the rules' order)."""
    out = []
    for seed in SEEDS:
        hh, mem, com = synth.generate_survey(**CALIBRATION, seed=seed)
        result = tieuchi.classify(hh, mem, on=synth.DEFAULT_REFERENCE_DATE, communes=com)
        assert len(result.rejects) == 0, f"seed {seed}: the generator's survey has rejects at its own date"
        counts = class_counts(result)
        total = sum(counts.values())
        out.append((seed, {c: n / total for c, n in counts.items()}, result.rules.regime.class_labels("en", True)))
    return out


def calibration_blocks() -> dict[str, str]:
    rows = calibration()
    short = rows[0][2]
    ids = list(rows[0][1])
    head = ["seed", *(short[c] for c in ids)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([str(seed), *(_pct(shares[c]) for c in ids)]) + " |" for seed, shares, _ in rows]
    poor, near = ids[0], ids[1]

    def span(cid: str) -> str:
        lo, hi = (f"{f(s[cid] for _, s, _ in rows) * 100:.1f}".replace(".", ",") for f in (min, max))
        return lo if lo == hi else f"{lo}–{hi}"

    vi = textwrap.fill(f"Theo chuẩn nghèo đa chiều 2022–2026 (Nghị định 07/2021/NĐ-CP), dữ liệu giả lập cho "
                       f"{span(poor)} % hộ nghèo và {span(near)} % hộ cận nghèo.", WIDTH) + "\n"
    return {"calibration": "\n".join(lines) + "\n", "calibration_vi": vi}


def blocks() -> dict[str, str]:
    return {"demo": demo_block(), **calibration_blocks()}


def rewrite(text: str, new: dict[str, str]) -> str:
    found = {m.group("name") for m in BLOCK.finditer(text)}
    missing = sorted(set(new) - found)
    if missing:
        raise SystemExit(f"{README}: no <!-- counts:{missing[0]} --> block")
    return BLOCK.sub(lambda m: m.group(1) + new[m.group("name")] + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when datasets/README.md is stale; write nothing")
    args = ap.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = rewrite(text, blocks())
    if args.check:
        if new != text:
            print(f"{README} is stale: run python scripts/dataset_counts.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
