"""Write every output of the bundled demo into a folder, or compare two such folders.

A refactoring must not change what users get. Run this before and after, then compare:

    python scripts/demo_outputs.py write /tmp/before       # on the old commit
    python scripts/demo_outputs.py write /tmp/after        # on the new one
    python scripts/demo_outputs.py compare /tmp/before /tmp/after

CSV, JSON, text and HTML files are compared byte for byte; xlsx workbooks cell by cell (their zip carries a
creation time); Parquet files as tables. Exit 0 when identical, 1 with the list of differing files otherwise.
Each command's exit code and screen output are kept too (`<name>.screen.txt`), so a changed message shows.
"""

from __future__ import annotations

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


def _xlsx_cells(path: Path) -> list:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [(ws.title, [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()])
            for ws in book.worksheets]


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".xlsx":
        return _xlsx_cells(a) == _xlsx_cells(b)
    if a.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(a).equals(pq.read_table(b))
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
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
