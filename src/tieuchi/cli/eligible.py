"""`tieuchi eligible`: per program item, the eligible households or people, ranked, and their counts."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import (FOR_YEAR, LABELS, NO_BOM, ON, RAW_TEXT, RULES, SURVEY, Context, Progress, app, choice,
                                err_console, guard_out, out_console, print_written, reference_date, rejected, run)
from tieuchi.cli.help import Command, examples
from tieuchi.cli.writing import how_written
from tieuchi.i18n import LANGS, lang_or_default, text


@app.command(cls=Command, epilog=examples(
    "tieuchi eligible datasets/demo --on 2025-06-30 --out lists/",
    "tieuchi eligible survey.xlsx --for-year 2025 --out lists/ --by village"))
def eligible(
    survey: list[Path] = SURVEY,
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the lists / Thư mục ghi danh sách."),
    item: Optional[str] = typer.Option(None, "--item", metavar="ITEM",
                                       help="Only this program item, e.g. p2_livelihood / Chỉ một hạng mục."),
    commune: Optional[str] = typer.Option(None, "--commune", metavar="CODE", help="Only this commune / Chỉ một xã."),
    by: str = typer.Option("commune", "--by", metavar="commune|village",
                           help="Count per commune (default) or per village; with --format xlsx, per village also "
                                "writes niem_yet/: per commune a workbook per item (a sheet per village), an HTML "
                                "and a PDF to print for the village meetings / Đếm theo xã hoặc theo thôn; với "
                                "--format xlsx --by village còn ghi danh sách niêm yết theo thôn (niem_yet/)."),
    fmt: str = typer.Option("csv", "--format", metavar="csv|parquet|xlsx", help="Output format."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and reasons."),
    show_names: bool = typer.Option(False, "--show-names",
                                    help="Write full_name (personal data; left out by default)."),
    pdf: bool = typer.Option(False, "--pdf",
                             help="With --format xlsx --by village: also print each commune's posting lists to PDF "
                                  "with Chromium (about a minute per commune) / In thêm bản PDF bằng Chromium."),
    rules: Optional[Path] = RULES,
    raw_text: bool = RAW_TEXT,
    labels: bool = LABELS,
    no_bom: bool = NO_BOM,
) -> None:
    """List, per program item, the eligible households or people ranked by commune, priority group and id, and
    count them per commune (or village).

    Lập danh sách hộ / người thuộc đối tượng của từng dự án, xếp theo xã, nhóm ưu tiên và mã; đếm theo xã (hoặc
    thôn).
    """
    run(lang_or_default(lang), lambda context: _eligible(context, survey, on, for_year, out, item, commune, by, fmt,
                                                        lang, show_names, rules, raw_text, labels, no_bom, pdf))


def _eligible(context: Context, survey: list[Path], on: Optional[str], for_year: Optional[int], out: Path,
              item_opt: Optional[str], commune: Optional[str], by_opt: str, fmt_opt: str, lang_opt: str,
              show_names: bool, rules: Optional[Path] = None, raw_text: bool = False, labels: bool = False,
              no_bom: bool = False, pdf: bool = False) -> int:
    import tieuchi  # lazy: keeps --help fast
    from tieuchi.contract.write import FORMATS, rejects_path  # lazy: keeps --help fast
    from tieuchi.outputs.eligible import (check_by, check_item, eligibility_counts,  # lazy: keeps --help fast
                                          eligibility_lists, output_names, refuse_outside, render_counts, write_lists)
    from tieuchi.outputs.posting import FOLDER, INDEX, posting_lists, write_posting  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    fmt = choice("--format", fmt_opt, FORMATS)
    day = reference_date(on, for_year)

    by = check_by(by_opt)
    context.reading(rules)
    rules_at = tieuchi.load_rules(day, rules)
    item = check_item(item_opt, rules_at)  # before a long read
    refuse_outside(rules_at, day)  # outside the program's window: exit 2 before a long read
    posting = fmt == "xlsx" and by == "village"  # the posting lists per village (niem_yet/) too
    if pdf and not posting:
        from tieuchi.errors import UsageError  # lazy: keeps --help fast

        raise UsageError("--pdf prints the posting lists per village, which only --format xlsx --by village writes",
                         "add --format xlsx --by village, or leave out --pdf",
                         vi="--pdf in danh sách niêm yết theo thôn, chỉ có khi dùng --format xlsx --by village",
                         vi_hint="thêm --format xlsx --by village, hoặc bỏ --pdf", code="pdf_needs_posting_lists")
    guard_out(out, output_names(item, fmt, rules_at) + ([f"{FOLDER}/{INDEX}"] if posting else []), survey,
              rules=rules)
    how = how_written(lang, rules_at, no_bom=no_bom, labels=labels, raw_text=raw_text, survey=survey,
                      options={"--on": day.isoformat(), "--rules": rules, "--item": item, "--commune": commune,
                               "--by": by, "--show-names": show_names})
    with Progress(lang) as progress:
        context.reading(*survey)
        result = tieuchi.classify_survey(tieuchi.read_survey(survey), on=day, rules=rules_at, lang=lang,
                                         progress=progress, isolate_failures=True)
        context.decided(result.rejects, out, "csv", lang, show_names, raw_text, how)
        lists = eligibility_lists(result, item, commune, by, lang, show_names)
        counts = eligibility_counts(result, item, commune, by)
        progress("write", 0, 1)
        paths = write_lists(lists, counts, result.rejects, out, fmt, lang, show_names, raw_text, how)
        posted = write_posting(posting_lists(result, lists, counts, lang, show_names), out, progress,
                               browser="find" if pdf else None) \
            if posting else None
        progress("write", 1, 1)
    out_console().print(render_counts(counts, lang, rules_at))
    print_written(paths, lang)
    if posted is not None:
        said_posted(posted, lang)
    if len(result.rejects):
        n_h = max(result.n_households_in - len(result.households), 0)
        return rejected(result.rejects, n_h, paths[0] if fmt == "xlsx" else rejects_path(out, fmt), lang, show_names)
    return 0


def said_posted(posted, lang: str) -> None:
    """Where the posting lists are (their index, not each of their files), and what could not be made (a PDF)."""
    from tieuchi.outputs.posting import T  # lazy: keeps --help fast

    out_console().print(text(T, "posted", lang, communes=posted.n_communes, villages=posted.n_villages,
                             index=posted.index), markup=False, soft_wrap=True)
    for note in posted.notes:
        err_console().print(note, style="yellow", markup=False)
