"""Collects the YAML cases beside the rules (rules/**/cases/*.yaml) as pytest items named by their sentences.

Each case runs under the vectorized backend and, as a separate item named "<sentence> [durable]", under the
durable_rules backend. The durable items skip when durable-rules is not importable, unless TIEUCHI_REQUIRE_DURABLE=1
(CI on the main interpreter), where they fail instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

DURABLE_SUFFIX = " [durable]"


def durable_available() -> tuple[bool, str]:
    try:
        import durable.engine  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken native module
        return False, f"durable-rules is not importable: {exc}"
    return True, ""


def require_durable() -> None:
    """Skip the calling test when durable-rules is missing; fail instead when TIEUCHI_REQUIRE_DURABLE=1."""
    ok, why = durable_available()
    if not ok:
        if os.environ.get("TIEUCHI_REQUIRE_DURABLE") == "1":
            pytest.fail(f"{why} (TIEUCHI_REQUIRE_DURABLE=1)", pytrace=False)
        pytest.skip(why)


def pytest_sessionstart(session):
    """Said first (with -q too) when the tieuchi that runs is an install whose rules differ from this checkout's
    rules/ (a `pip install .` before a rule edit): the YAML cases still run against the rules beside them, but tests/
    import the installed copy."""
    from tieuchi.rulebook.source import stale_rules

    terminal = session.config.pluginmanager.get_plugin("terminalreporter")  # None in an xdist worker
    stale = stale_rules(Path(str(session.config.rootpath))) if terminal is not None else None
    if stale is not None:
        installed, checkout = stale
        terminal.write_line(f"tieuchi: the installed rules ({installed}) differ from this checkout's {checkout}: the "
                            f"YAML cases run against {checkout}, tests/ against the installed copy; pip install -e . "
                            "tests your edits everywhere", yellow=True)


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".yaml" and file_path.parent.name == "cases" and not file_path.name.startswith("_"):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self):
        from tieuchi.casework.cases import load_case_file

        cases = load_case_file(self.path)
        for case in cases:
            yield CaseItem.from_parent(self, name=case.name, case=case, engine="vectorized")
        for case in cases:
            yield CaseItem.from_parent(self, name=case.name + DURABLE_SUFFIX, case=case, engine="durable")


class CaseItem(pytest.Item):
    def __init__(self, *, case, engine="vectorized", **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.engine = engine

    def runtest(self):
        from tieuchi.casework.cases import run_case

        if self.engine == "durable":
            require_durable()
        problems = run_case(self.case, engine=self.engine)
        if problems:
            raise CaseFailure(problems)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailure):
            return (f"{self.case.path}:{self.case.line}: {self.case.name} ({self.engine})\n  "
                    + "\n  ".join(excinfo.value.args[0]))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line, f"case ({self.engine}): {self.case.name}"


class CaseFailure(Exception):
    pass
