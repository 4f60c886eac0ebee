"""The `tieuchi` command: a thin layer over the public API (read → classify → write → summarise), one module per
command (classify, check, eligible, report, diff, template, test) and `common` for what they share.

No rule logic lives here. Exit codes follow the data contract §3: 0 done, 1 rows rejected or --strict refusal,
2 usage, 3 invalid rules, overlay or plan, 4 `tieuchi test`: some cases failed — and no other: a defect of tieuchi
itself is exit 2 naming the input it could not process (TIEUCHI_DEBUG=1 shows the traceback), with the rejects
already decided written, and households it fails on are found and rejected alone (`tieuchi.engine.isolate`).
"""
from __future__ import annotations

import os

# A command classifies once per process, so first-touch memory dominates: numpy's huge-page advice makes those page
# faults several times slower where the kernel compacts memory on demand (measured: first classify() of 1M households
# 0.99 s with it, 0.61 s without). Set before numpy is imported; an explicit setting by the user wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

# each command module registers its command on the app, in the order `tieuchi --help` lists them
from tieuchi.cli import classify, check, eligible, report, diff, template, test  # noqa: E402, F401, I001
from tieuchi.cli.common import app  # noqa: E402

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="tieuchi")


if __name__ == "__main__":  # pragma: no cover
    main()
