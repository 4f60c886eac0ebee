"""The allocator settings for large batches: applied once, and never when the user says no."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "from tieuchi.engine.memory import tune_for_batches as t; print(t(), t())"


def run(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "TIEUCHI_TUNE"))}
    out = subprocess.run([sys.executable, "-c", CODE], env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_allocator_is_tuned_once_on_linux():
    assert run() == "True True"


def test_tieuchi_tune_malloc_0_leaves_the_allocator_alone():
    assert run(TIEUCHI_TUNE_MALLOC="0") == "False False"


def test_glibc_settings_given_by_the_user_win():
    assert run(MALLOC_MMAP_THRESHOLD_="1048576") == "False False"


def test_classify_leaves_no_reference_cycle_holding_a_surveys_arrays(monkeypatch):
    """Arrays of a million households freed only when Python's cycle collector happens to run pile up over
    consecutive calls (measured: +280 MB a call). Every evaluator, subset and array must be freed by reference
    counting alone, on the serial and on the threaded path."""
    import gc

    import numpy as np

    import tieuchi
    from tieuchi.engine import vectorized
    from tieuchi.devtools.synth import generate_survey

    hh, mem, communes = generate_survey(800, n_communes=3, seed=5, missing_rate=0.05, reference_date="2025-06-30")
    for threshold in (10**9, 0):  # serial, then threaded
        monkeypatch.setattr(vectorized, "PARALLEL_FROM", threshold)
        tieuchi.classify(hh, mem, on="2025-06-30", communes=communes)  # warm caches
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            result = tieuchi.classify(hh, mem, on="2025-06-30", communes=communes)
            del result
            gc.collect()
            left = [type(o).__name__ for o in gc.garbage if isinstance(o, (vectorized.Evaluator, np.ndarray))]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        assert left == [], (threshold, left[:5])
