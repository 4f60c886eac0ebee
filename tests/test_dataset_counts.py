"""The class counts datasets/README.md gives are what the rules and the generator give today: recomputed here by
scripts/dataset_counts.py (which rewrites them) and compared with the file, so they cannot go stale."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import tieuchi
from tieuchi.devtools import synth
from tests.test_synth import reference_classes, reference_deprivations

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "datasets" / "README.md"


def _script():
    spec = importlib.util.spec_from_file_location("dataset_counts", ROOT / "scripts" / "dataset_counts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def counts():
    return _script()


@pytest.fixture(scope="module")
def computed(counts) -> dict[str, str]:
    return counts.blocks()


def test_every_count_block_of_datasets_readme_is_what_the_rules_and_the_generator_give(counts, computed):
    text = README.read_text(encoding="utf-8")
    written = {m.group("name"): m.group("body") for m in counts.BLOCK.finditer(text)}
    assert set(written) == set(computed) == {"demo", "calibration", "calibration_vi"}
    for name, body in computed.items():
        assert written[name] == body, f"counts:{name} of datasets/README.md is stale: run scripts/dataset_counts.py"


def test_the_script_rewrites_a_stale_figure_and_nothing_else(counts, computed):
    text = README.read_text(encoding="utf-8")
    stale = text.replace(" 2,297 other", " 2,298 other", 1).replace("| 2024 | 2.48 % |", "| 2024 | 9.99 % |", 1)
    stale += "\nA line after the blocks.\n"
    assert stale != text + "\nA line after the blocks.\n"
    assert counts.rewrite(stale, computed) == text + "\nA line after the blocks.\n"


def test_the_demo_sentence_counts_every_classified_household_and_reject_row():
    result = tieuchi.classify_survey(ROOT / "datasets" / "demo", on="2024-12-01")
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert f"({len(result.households):,} classified), with {len(result.rejects):,} reject rows" in text


def test_the_engine_reads_the_calibration_survey_as_the_independent_plain_pandas_reading_does():
    """What datasets/README.md says of its calibration table: the engine gives the class of the reading in
    tests/test_synth.py for every household, and its deprivation wherever it decides one; it leaves open only
    child_schooling, for a few households (at most 0.1 %) that the simpler reading decides."""
    hh, mem, com = synth.generate_survey(50_000, n_communes=20, seed=2024)
    result = tieuchi.classify(hh, mem, on=synth.DEFAULT_REFERENCE_DATE, communes=com)
    got = result.households.set_index("household_id")
    want = reference_classes(hh, mem)
    assert (got["household_class"].astype("string").fillna("unknown").reindex(want.index)
            == want.astype("string").fillna("unknown")).all()
    deprived = reference_deprivations(hh, mem)
    for indicator in deprived.columns:
        mine, plain = got[f"deprived_{indicator}"].astype("boolean").reindex(deprived.index), \
            deprived[indicator].astype("boolean")
        both = mine.notna() & plain.notna()
        assert (mine[both] == plain[both]).all(), indicator
        assert not (plain.isna() & mine.notna()).any(), indicator  # the engine never decides what the reading cannot
        open_ = mine.isna() & plain.notna()
        if indicator != "child_schooling":
            assert not open_.any(), indicator
            continue
        assert open_.sum() <= len(hh) // 1000
