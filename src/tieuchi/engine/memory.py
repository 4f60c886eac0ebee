"""Allocator settings for whole-survey batches (glibc only; elsewhere nothing changes).

A batch over a million households makes a few hundred arrays of 1–30 MB, each used briefly. glibc serves blocks above
its mmap threshold (128 KB at start, raised adaptively up to 32 MB as blocks are freed) with fresh mappings, so each
array is paid again in page faults, and freed heap above the trim threshold goes back to the kernel to be faulted in
again by the next array. Measured on 1M households (benchmarks/bench_classify.py, 2-core EPYC): 0.70–0.87 s per
`classify()` with the defaults, 0.56–0.58 s with both thresholds fixed as below. Peak memory is unchanged (652 vs
661 MB added); what changes is that up to `TRIM_MB` of freed heap stays with the process for the next batch.

`TIEUCHI_TUNE_MALLOC=0` leaves the allocator alone; glibc's own MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_
environment settings also win, as they are read at start-up and we do not override them.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_MB = 32  # glibc's largest adaptive mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_MB = 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # from <malloc.h>
ARENAS = 1
_applied: bool | None = None  # None: not tried yet


def tune_for_batches() -> bool:
    """Fix glibc's mmap and trim thresholds once per process; True when they are set."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get("TIEUCHI_TUNE_MALLOC", "1") == "0" or \
            any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_MB << 20) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, TRIM_MB << 20) == 1
    ok &= mallopt(_M_ARENA_MAX, ARENAS) == 1
    return bool(ok)
