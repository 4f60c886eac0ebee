"""Collects the YAML cases beside the rules (rules/**/cases/*.yaml) as pytest items named by their sentences."""
from __future__ import annotations

import pytest


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".yaml" and file_path.parent.name == "cases" and not file_path.name.startswith("_"):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self):
        from tieuchi.cases import load_case_file

        for case in load_case_file(self.path):
            yield CaseItem.from_parent(self, name=case.name, case=case)


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from tieuchi.cases import run_case

        problems = run_case(self.case)
        if problems:
            raise CaseFailure(problems)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.case.path}:{self.case.line}: {self.case.name}\n  " + "\n  ".join(excinfo.value.args[0])
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line, f"case: {self.case.name}"


class CaseFailure(Exception):
    pass
