"""`tieuchi classify`: every household of a survey at a reference date → households, members and rejects."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import (FOR_YEAR, LABELS, NO_BOM, ON, RAW_TEXT, RULES, SURVEY, T, Context, Progress, app,
                                choice, err_console, guard_out, out_console, print_error, print_written, reference_date,
                                rejected, run, show_rejects)
from tieuchi.cli.help import Command, examples
from tieuchi.cli.writing import how_written
from tieuchi.i18n import LANGS, lang_or_default, text


@app.command(cls=Command, epilog=examples(
    "tieuchi classify datasets/demo --on 2024-12-01 --out out/",
    "tieuchi classify survey.xlsx --for-year 2025 --out out/ --format xlsx"))
def classify(
    survey: list[Path] = SURVEY,
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the results / Thư mục kết quả."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and reasons."),
    fmt: str = typer.Option("csv", "--format", metavar="csv|parquet|xlsx", help="Output format."),
    strict: bool = typer.Option(False, "--strict",
                                help="Refuse the whole survey if any row fails: write rejects only, exit 1."),
    show_names: bool = typer.Option(False, "--show-names",
                                    help="Write members' full_name (personal data; left out by default)."),
    rules: Optional[Path] = RULES,
    engine: str = typer.Option("vectorized", "--engine", metavar="vectorized|durable",
                               help="Backend: vectorized (numpy, default) or durable (durable_rules; optional extra)."),
    raw_text: bool = RAW_TEXT,
    labels: bool = LABELS,
    no_bom: bool = NO_BOM,
) -> None:
    """Classify every household of SURVEY at a reference date and write households, members and rejects.

    Phân loại từng hộ trong SURVEY tại ngày tham chiếu; ghi kết quả hộ, thành viên và các dòng bị loại.
    """
    run(lang_or_default(lang), lambda context: _classify(context, survey, on, for_year, out, lang, fmt, strict,
                                                        show_names, rules, engine, raw_text, labels, no_bom))


def _classify(context: Context, survey: list[Path], on: Optional[str], for_year: Optional[int], out: Path,
              lang_opt: str, fmt_opt: str, strict: bool, show_names: bool, rules: Optional[Path],
              engine_opt: str = "vectorized", raw_text: bool = False, labels: bool = False,
              no_bom: bool = False) -> int:
    import tieuchi  # lazy: keeps --help fast
    from tieuchi.api import ENGINES, StrictRefusal, backend  # lazy: keeps --help fast
    from tieuchi.contract.write import (FORMATS, output_paths, prepare_rejects, rejects_path,  # lazy: keeps --help fast
                                        withheld_columns, write_rejects, write_results)
    from tieuchi.outputs.summary import render, summarize  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    fmt = choice("--format", fmt_opt, FORMATS)
    engine = choice("--engine", engine_opt, ENGINES)
    day = reference_date(on, for_year)

    context.reading(rules)
    rules_at = tieuchi.load_rules(day, rules)  # a date no regime covers fails here, before a long read
    backend(engine)  # an engine that is not installed fails here too (usage error, exit 2)
    guard_out(out, [p.name for p in output_paths(out, fmt)], survey, rules=rules)

    how = how_written(lang, rules_at, no_bom=no_bom, labels=labels, raw_text=raw_text, survey=survey,
                      options={"--on": day.isoformat(), "--rules": rules, "--engine": engine, "--strict": strict,
                               "--show-names": show_names})
    refusal = None
    with Progress(lang) as progress:
        progress("read", 0, 1)
        context.reading(*survey)
        raw = tieuchi.read_survey(survey)
        progress("read", 1, 1)
        try:
            result = tieuchi.classify_survey(raw, on=day, rules=rules_at, lang=lang, strict=strict,
                                             progress=progress, engine=engine, isolate_failures=True)
        except StrictRefusal as e:
            refusal = e
        progress("write", 0, 1)
        if refusal is not None:
            paths = write_rejects(refusal.rejects, out, fmt, lang, show_names, raw_text, how)
        else:
            context.decided(result.rejects, out, fmt, lang, show_names, raw_text, how)
            paths = write_results(result, out, fmt, lang, show_names, raw_text, how)
        progress("write", 1, 1)

    if refusal is not None:
        show_rejects(prepare_rejects(refusal.rejects, lang, show_names), rejects_path(out, fmt), lang)
        print_error(refusal, lang)
        return refusal.exit_code

    summary = summarize(result)
    out_console().print(render(summary, lang))
    print_written(paths, lang)
    for column in withheld_columns(result, show_names):
        err_console().print(text(T, "withheld", lang, c=column), style="yellow", markup=False)
    if len(result.rejects):
        return rejected(result.rejects, summary.n_rejected, rejects_path(out, fmt), lang, show_names)
    return 0
