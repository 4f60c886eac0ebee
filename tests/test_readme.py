"""What the top-level README claims of the demo and of the generator's survey is what tieuchi gives, and every
folder or file its commands write is git-ignored."""
from __future__ import annotations

import re
from pathlib import Path

import tieuchi
from tieuchi.devtools import synth
from tieuchi.outputs.diff import compare

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEMO = ROOT / "datasets" / "demo"


def readme() -> str:
    return " ".join(README.read_text(encoding="utf-8").split())


def commands(*docs: Path) -> list[str]:
    """The lines of the docs' ```bash blocks, and the commands they quote inline (`python scripts/… …`)."""
    out = []
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            out += [x.split("#")[0].strip() for x in block.splitlines() if x.strip()]
        out += re.findall(r"`((?:python|tieuchi|\.venv/bin/\S+) [^`]+)`", text)
    return out


def ignored(path: str, patterns: list[str]) -> bool:
    """`path` (relative to the repository root) matched by a .gitignore line (the forms this .gitignore uses:
    `/name`, `/folder/`, `folder/`, `a/b/`)."""
    parts = path.strip("/").split("/")
    for p in patterns:
        anchored, folder, name = p.startswith("/"), p.endswith("/"), p.strip("/")
        if "/" in name or anchored:
            if folder and "/".join(parts).startswith(name + "/") or (not folder and "/".join(parts) == name):
                return True
        elif folder and name in parts[:-1] or (folder and len(parts) == 1 and name == parts[0]):
            return True
    return False


def test_every_folder_and_file_the_readmes_commands_write_is_git_ignored():
    patterns = [x.strip() for x in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
                if x.strip() and not x.startswith("#")]
    outputs = set()
    for line in commands(README, ROOT / "CONTRIBUTING.md", ROOT / "datasets" / "README.md"):
        outputs |= set(re.findall(r"(?:--out|--keep)\s+(\S+)", line))
        outputs |= set(re.findall(r"\s(\S+\.png)\b", line))
    written = {o for o in outputs if not o.startswith("/") and o.upper() != o and "SURVEY" not in o}
    assert {"out/", "lists/", "report/", "diff/", "failures/", "phieu-ra-soat.xlsx", "report.png"} <= written
    for path in written:
        folder = path.endswith("/") or "." not in Path(path).name
        assert ignored(path + ("/x" if folder else ""), patterns), f"{path} is not in .gitignore"


def test_the_readmes_figures_of_the_demo_are_what_classify_and_diff_give():
    text = readme()
    raw = tieuchi.read_survey(DEMO)
    result = tieuchi.classify_survey(raw, on="2024-12-01")
    assert f"the other {len(result.households):,} are classified" in text
    before = tieuchi.classify_survey(raw, on="2026-06-30")
    after = tieuchi.classify_survey(raw, on="2027-06-30")
    d = compare(before, after)

    def count(res, cls):
        return int((res.households["household_class"].astype("string") == cls).sum())

    assert (f"raises the poor households from {count(before, 'poor')} to {count(after, 'poor')} and the near-poor "
            f"from {count(before, 'near_poor')} to {count(after, 'near_poor')} ({len(d.changed)} households change "
            f"class): the screen shows the first 20") in text
    assert f"`--out` writes all {len(d.changed)} to `changed.csv`" in text


def test_the_generators_survey_is_classified_without_a_reject_at_the_date_the_readme_gives_it():
    text = readme()
    hh, mem, com = synth.generate_survey(50_000, n_communes=20, seed=2024)
    assert f"--on {synth.DEFAULT_REFERENCE_DATE} --out out/midland_50k/" in text
    at_its_date = tieuchi.classify(hh, mem, on=synth.DEFAULT_REFERENCE_DATE, communes=com)
    assert len(at_its_date.rejects) == 0 and len(at_its_date.households) == 50_000
    earlier = tieuchi.classify(hh, mem, on="2024-12-01", communes=com)
    rejected = 50_000 - len(earlier.households)
    assert f"({rejected:,} of the 50,000 at 2024-12-01)" in text


def test_the_readmes_tieuchi_test_figures_are_what_tieuchi_test_gives():
    from tieuchi.casework import runner

    text = readme()
    assert f"the {len(runner.run().cases)} shipped cases" in text
    overlay = runner.run(rules=ROOT / "rules" / "overlays" / "example_higher_rural_line.yaml")
    assert f"tieuchi test: {len(overlay.cases)} cases" in text
    assert f"Passed {overlay.passed}, failed {len(overlay.failures)}" in text
    values = len(overlay.changed)
    assert f"{values} value(s) in {len({id(c.case) for c in overlay.changed})} case(s)" in text
