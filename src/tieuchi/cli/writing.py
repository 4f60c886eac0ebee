"""How a command writes its tables, from its options: the byte-order mark (``--no-bom``), the labelled CSV
(``--labels``), the rules' labels and the lines of a workbook's info sheet (tieuchi's version, the survey, the
options that matter). Light to import: the library is imported when a command runs."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def how_written(lang: str, rules_at: Any = None, *, no_bom: bool = False, labels: bool = False,
                raw_text: bool = False, survey: Any = None, options: dict[str, Any] | None = None):
    """A :class:`tieuchi.contract.write.Written` for this run."""
    from tieuchi import __version__  # lazy: keeps --help fast
    from tieuchi.contract.write import Written  # lazy: keeps --help fast
    from tieuchi.rulebook.labels import rule_labels  # lazy: keeps --help fast

    meta: list[tuple[str, Any]] = [("tieuchi", __version__)]
    if survey is not None:
        given = [survey] if isinstance(survey, (str, Path)) else list(survey)  # SURVEY may be given several times
        meta.append(("survey", "; ".join(str(p) for p in given)))
    meta += [(k, v) for k, v in (options or {}).items() if v is not None and v is not False]
    return Written(escape=not raw_text, bom=not no_bom, labels=labels, lang=lang, rules=rule_labels(rules_at, lang),
                   meta=tuple(meta))
