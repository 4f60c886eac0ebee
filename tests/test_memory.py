"""The allocator settings for large batches: applied once, and never when the user says no."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "from tieuchi._memory import tune_for_batches as t; print(t(), t())"


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
