"""tieuchi — Vietnam's multidimensional poverty standard as dated, cited rules."""
from __future__ import annotations

__version__ = "0.1.0"

from tieuchi.errors import DataError, RulesError, TieuchiError, UsageError  # noqa: E402

__all__ = ["classify", "classify_survey", "check", "explain", "read_survey", "Result", "load_rules", "TieuchiError",
           "UsageError", "RulesError", "DataError", "__version__"]


def __getattr__(name):  # lazy: keep `import tieuchi` light for the CLI's --help
    if name in ("classify", "classify_survey", "check", "Result"):
        from tieuchi import api  # lazy: keeps --help fast

        return getattr(api, name)
    if name == "explain":
        from tieuchi.outputs.explanation import explain  # lazy: keeps --help fast

        return explain
    if name == "load_rules":
        from tieuchi.rulebook.load import load_rules  # lazy: keeps --help fast

        return load_rules
    if name == "read_survey":
        from tieuchi.contract.read import read_survey  # lazy: keeps --help fast

        return read_survey
    raise AttributeError(name)
