"""Write every output of the bundled demo into a folder, or compare two such folders.

A refactoring must not change what users get. Run this before and after, then compare:

    python scripts/demo_outputs.py write /tmp/before       # on the old commit
    python scripts/demo_outputs.py write /tmp/after        # on the new one
    python scripts/demo_outputs.py compare /tmp/before /tmp/after

CSV, JSON, text and HTML files are compared byte for byte; xlsx workbooks cell by cell (their zip carries a
creation time); Parquet files as tables; a PDF (the posting lists', printed from an HTML that is compared) only for
being there. Exit 0 when identical, 1 with the list of differing files otherwise.
Each command's exit code and screen output are kept too (`<name>.screen.txt`), so a changed message shows.

    python scripts/demo_outputs.py compare /tmp/before /tmp/after --any-rules-version

compares with every rules version (`<regime>@<content hash>`) read as the same: for a change to the rule files that
must not change any result (a new declaration, a note), which changes the content hash and nothing else.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = str(ROOT / "datasets" / "demo")
ONE = str(ROOT / "datasets" / "examples" / "one_poor_household.json")
OVERLAY = str(ROOT / "rules" / "overlays" / "example_higher_rural_line.yaml")

# name -> arguments after `tieuchi`; {out} is the run's own output folder or file.
RUNS: dict[str, list[str]] = {
    "classify_csv": ["classify", DEMO, "--on", "2024-12-01", "--out", "{out}"],
    "classify_xlsx_en": ["classify", DEMO, "--for-year", "2025", "--out", "{out}", "--format", "xlsx", "--lang", "en"],
    "classify_parquet": ["classify", DEMO, "--on", "2024-12-01", "--out", "{out}", "--format", "parquet"],
    "classify_2027": ["classify", DEMO, "--on", "2027-06-30", "--out", "{out}"],
    "classify_overlay": ["classify", DEMO, "--on", "2024-12-01", "--out", "{out}", "--rules", OVERLAY],
    "check_text": ["check", ONE, "--on", "2024-12-01"],
    "check_json_en": ["check", ONE, "--on", "2024-12-01", "--format", "json", "--lang", "en"],
    "check_2027": ["check", ONE, "--on", "2027-06-30"],
    "eligible_csv": ["eligible", DEMO, "--on", "2025-06-30", "--out", "{out}"],
    "eligible_xlsx": ["eligible", DEMO, "--on", "2025-06-30", "--out", "{out}", "--format", "xlsx", "--by", "village"],
    "report": ["report", DEMO, "--plan", "tan_yen_2024", "--on", "2024-12-01", "--out", "{out}"],
    "report_en": ["report", DEMO, "--plan", "tan_yen_2024", "--on", "2024-12-01", "--out", "{out}", "--lang", "en"],
    "diff_regimes": ["diff", DEMO, "--on", "2026-06-30", "--vs-on", "2027-06-30", "--plan", "tan_yen_2024",
                     "--out", "{out}"],
    "diff_overlay": ["diff", DEMO, "--on", "2025-06-30", "--vs-on", "2025-06-30", "--vs-rules", OVERLAY,
                     "--out", "{out}"],
    "template": ["template", "--out", "{out}/phieu.xlsx"],
    "test_cases": ["test", "--format", "json"],
}


def write(folder: Path) -> None:
    exe = Path(sys.executable).with_name("tieuchi")
    folder.mkdir(parents=True, exist_ok=True)
    for name, args in RUNS.items():
        out = folder / name
        out.mkdir(exist_ok=True)
        argv = [str(exe)] + [a.replace("{out}", str(out)) for a in args]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,
                              env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        screen = f"exit {done.returncode}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
        (folder / f"{name}.screen.txt").write_text(screen.replace(str(folder), "<out>"), encoding="utf-8")


VERSION = re.compile(r"@[0-9a-f]{12}\b")  # the content hash of a rules version: vn_2022_2026@89e41f0ff9b8
_versions = False  # --any-rules-version


def _norm(v):
    return VERSION.sub("@<version>", v) if _versions and isinstance(v, str) else v


def _xlsx_cells(path: Path) -> list:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [(ws.title, [[(_norm(c.value), c.data_type, c.number_format) for c in row] for row in ws.iter_rows()])
            for ws in book.worksheets]


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".pdf":  # printed by Chromium from the HTML beside it, which is compared; a PDF holds its print time
        return True
    if a.suffix == ".xlsx":
        return _xlsx_cells(a) == _xlsx_cells(b)
    if a.suffix == ".parquet":
        import pyarrow.parquet as pq

        ta, tb = pq.read_table(a).to_pylist(), pq.read_table(b).to_pylist()
        return [{k: _norm(v) for k, v in r.items()} for r in ta] == [{k: _norm(v) for k, v in r.items()} for r in tb]
    if _versions:
        return _norm(a.read_bytes().decode("utf-8", "replace")) == _norm(b.read_bytes().decode("utf-8", "replace"))
    return a.read_bytes() == b.read_bytes()


def compare(before: Path, after: Path) -> int:
    names_a = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names_b = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    differ = sorted(str(n) + " (only before)" for n in names_a - names_b)
    differ += sorted(str(n) + " (only after)" for n in names_b - names_a)
    differ += sorted(str(n) for n in names_a & names_b if not _same(before / n, after / n))
    for line in differ:
        print("differs:", line)
    print(f"{len(names_a & names_b)} files compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(Path(sys.argv[2]).resolve())
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "compare" and sys.argv[4:] in ([], ["--any-rules-version"]):
        _versions = bool(sys.argv[4:])
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
