"""`tieuchi check`: one household as JSON, classified and explained (the data contract §1.4 document)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import CHECK_FORMATS, FOR_YEAR, ON, RULES, T, Context, app, choice, reference_date, run
from tieuchi.cli.help import Command, examples
from tieuchi.errors import DataError, UsageError, clip
from tieuchi.i18n import LANGS, lang_or_default


@app.command(cls=Command, epilog=examples(
    "tieuchi check datasets/examples/one_poor_household.json --on 2024-12-01",
    "cat household.json | tieuchi check - --for-year 2025 --format json"))
def check(
    household: str = typer.Argument(..., metavar="HOUSEHOLD.json",
                                    help="One household as JSON (data contract §1.4); '-' reads standard input."),
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    fmt: str = typer.Option("text", "--format", metavar="text|json", help="Output: readable text or JSON."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of the explanation and messages."),
    engine: str = typer.Option("vectorized", "--engine", metavar="vectorized|durable",
                               help="Backend: vectorized (default) or durable (durable_rules; optional extra)."),
    show_names: bool = typer.Option(False, "--show-names",
                                    help="Show members' full_name (personal data; left out by default)."),
    rules: Optional[Path] = RULES,
) -> None:
    """Classify one household and explain why: class, rule and citation, income against the line, every indicator
    with the member and value that decided it, and the inputs that would decide anything unknown.

    Phân loại một hộ và giải thích lý do: diện hộ, căn cứ pháp lý, thu nhập so với chuẩn nghèo, từng chỉ số kèm
    thành viên và giá trị quyết định, các thông tin cần bổ sung khi chưa xác định được.
    """
    run(lang_or_default(lang), lambda context: _check(context, household, on, for_year, fmt, lang, engine, show_names,
                                                     rules))


def _check(context: Context, source: str, on: Optional[str], for_year: Optional[int], fmt_opt: str, lang_opt: str,
           engine_opt: str, show_names: bool, rules: Optional[Path] = None) -> int:
    import tieuchi  # lazy: keeps --help fast
    from tieuchi.api import ENGINES, backend  # lazy: keeps --help fast
    from tieuchi.outputs.explanation import explain_text  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    fmt = choice("--format", fmt_opt, CHECK_FORMATS)
    engine = choice("--engine", engine_opt, ENGINES)
    day = reference_date(on, for_year)

    context.reading(rules, source)
    rules_at = tieuchi.load_rules(day, rules)  # a date no regime covers: usage error (exit 2); a bad overlay: exit 3
    backend(engine)  # an engine that is not available: usage error (exit 2)
    # a bad document: exit 1, fields named; a household the survey validation refuses: exit 1, problems listed
    ex = tieuchi.check(read_document(source), on=day, rules=rules_at, lang=lang, engine=engine, show_names=show_names)
    if fmt == "json":
        sys.stdout.write(json.dumps(ex, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(explain_text(ex, rules_at.regime, lang) + "\n")
    return 0


def read_document(source: str):
    """The JSON of a household document from the file `source` ('-': standard input), parsed strictly."""
    from tieuchi.contract.read import VALUE_CAP, loads_strict  # lazy: keeps --help fast

    if source == "-":
        raw = sys.stdin.read()
        where = "stdin"
    else:
        p = Path(source)
        if not p.is_file():
            raise UsageError.from_table(T, "no_file", hint="no_file_hint", code="document_not_found", p=p)
        try:
            raw = p.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataError.from_table(T, "not_utf8", hint="not_utf8_hint", code="document_not_utf8", p=p) from None
        where = str(p)
    try:
        return loads_strict(raw)  # a key given twice, or nesting too deep to parse, is refused here (ValueError)
    except ValueError as exc:
        what = clip(str(exc), VALUE_CAP)
        raise DataError.from_table(T, "bad_json", hint="bad_json_hint", code="document_invalid_json", where=where,
                                   what=what) from None
