"""`tieuchi diff`: one survey classified twice (two dates, two standards, rules and an overlay) and compared."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import (CHECK_FORMATS, NO_BOM, RAW_TEXT, SURVEY, T, Context, Progress, app, choice, guard_out,
                                out_console, print_written, reference_date, rejected, run)
from tieuchi.cli.help import Command, examples
from tieuchi.errors import UsageError
from tieuchi.i18n import LANGS, lang_or_default


@app.command(cls=Command, epilog=examples(
    "tieuchi diff datasets/demo --on 2026-06-30 --vs-on 2027-06-30",
    "tieuchi diff survey/ --for-year 2025 --vs-for-year 2025 --vs-rules tinh.yaml"))
def diff(
    survey: list[Path] = SURVEY,
    on: Optional[str] = typer.Option(None, "--on", metavar="DATE", help="First reference date / Ngày tham chiếu 1."),
    for_year: Optional[int] = typer.Option(None, "--for-year", metavar="YEAR", help="First: review for YEAR."),
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE",
                                         help="First rules: an overlay file or a regime folder / Bộ quy tắc 1."),
    vs_on: Optional[str] = typer.Option(None, "--vs-on", metavar="DATE2", help="Second reference date / Ngày 2."),
    vs_for_year: Optional[int] = typer.Option(None, "--vs-for-year", metavar="YEAR2", help="Second: review for YEAR2."),
    vs_rules: Optional[Path] = typer.Option(None, "--vs-rules", metavar="FILE2",
                                            help="Second rules: an overlay file or a regime folder / Bộ quy tắc 2."),
    plan: Optional[str] = typer.Option(None, "--plan", metavar="PLAN", help="Also compare a plan's targets."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                       help="Write transitions.csv, changed.csv, measures.csv, diff.json."),
    fmt: str = typer.Option("text", "--format", metavar="text|json", help="Output on screen."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and reasons."),
    raw_text: bool = RAW_TEXT,
    no_bom: bool = NO_BOM,
) -> None:
    """Classify one survey twice — two dates, two standards, or the rules and an overlay — and compare: who changes
    class (with reasons before and after), the transition matrix, and every rate, Alkire–Foster measure and target.

    So sánh hai lần phân loại cùng một bộ dữ liệu (hai ngày, hai chuẩn nghèo, hoặc quy tắc và bản điều chỉnh): hộ
    nào đổi phân loại và vì sao, ma trận chuyển đổi, thay đổi của các tỷ lệ, chỉ số và chỉ tiêu.
    """
    run(lang_or_default(lang), lambda context: _diff(context, survey, on, for_year, rules, vs_on, vs_for_year, vs_rules,
                                                    plan, out, fmt, lang, raw_text, no_bom))


def _diff(context: Context, survey: list[Path], on, for_year, rules, vs_on, vs_for_year, vs_rules, plan_opt, out,
          fmt_opt, lang_opt, raw_text: bool = False, no_bom: bool = False) -> int:
    import tieuchi  # lazy: keeps --help fast
    from tieuchi.contract.write import Written, rejects_path, write_rejects  # lazy: keeps --help fast
    from tieuchi.outputs import diff as df  # lazy: keeps --help fast
    from tieuchi.outputs import report as rep  # lazy: keeps --help fast
    from tieuchi.rulebook.plans import load_plan, plan_path  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    fmt = choice("--format", fmt_opt, CHECK_FORMATS)
    day = reference_date(on, for_year)
    if vs_on is None and vs_for_year is None:
        raise UsageError.from_table(T, "need_vs", hint="need_vs_hint", code="diff_second_date_missing")
    vs_day = reference_date(vs_on, vs_for_year)

    context.reading(rules, vs_rules, plan_opt)
    rules_a, rules_b = tieuchi.load_rules(day, rules), tieuchi.load_rules(vs_day, vs_rules)  # before a long read
    plan = plan_file = None
    if plan_opt:
        plan_file = plan_path(plan_opt)
        plan = load_plan(plan_file, [*rules_a.regime.item_ids, *rules_b.regime.item_ids])
        rep.plan_fit(plan, rules_a), rep.plan_fit(plan, rules_b)
    if out is not None:
        guard_out(out, df.OUTPUTS, survey, rules=rules, vs_rules=vs_rules, plan=plan_file)
    with Progress(lang) as progress:
        context.reading(*survey)
        raw = tieuchi.read_survey(survey)
        before = tieuchi.classify_survey(raw, on=day, rules=rules_a, lang=lang, progress=progress,
                                         isolate_failures=True)
        after = tieuchi.classify_survey(raw, on=vs_day, rules=rules_b, lang=lang, isolate_failures=True)
        d = df.compare(before, after, plan=plan, lang=lang, raw_households=before.households_by_row)
        rejects = df.rejects(before, after)
        how = Written(escape=not raw_text, bom=not no_bom, lang=lang)
        context.decided(rejects, out, "csv", lang, raw_text=raw_text, how=how)
        paths = df.write(d, out, raw_text, not no_bom) + write_rejects(rejects, out, "csv", lang, False, raw_text,
                                                                       how) if out is not None else []
    if fmt == "json":
        sys.stdout.write(json.dumps(d.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        out_console().print(df.text(d, lang), markup=False, soft_wrap=True)
        if paths:
            print_written(paths, lang)
    if len(rejects):
        n_h = rejects.loc[rejects["table"] == "households", "row"].nunique()
        return rejected(rejects, n_h, rejects_path(out, "csv") if out is not None else None, lang,
                        key="rejected_diff")
    return 0
