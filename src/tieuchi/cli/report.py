"""`tieuchi report`: a plan measured against the survey — targets, rates, movements, Alkire–Foster, budget."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import (FOR_YEAR, NO_BOM, ON, RAW_TEXT, RULES, SURVEY, UNITS, T, Context, Progress, app, choice,
                                guard_out, out_console, print_written, reference_date, rejected, run)
from tieuchi.cli.help import Command, examples
from tieuchi.errors import UsageError
from tieuchi.i18n import LANGS, lang_or_default


@app.command(cls=Command, epilog=examples(
    "tieuchi report datasets/demo --plan tan_yen_2024 --on 2024-12-01 --out report/",
    "tieuchi report survey.xlsx --plan my_plan.yaml --for-year 2025 --out report/"))
def report(
    survey: list[Path] = SURVEY,
    plan: str = typer.Option(..., "--plan", metavar="PLAN",
                             help="Plan file (.yaml) or the id of a shipped plan, e.g. tan_yen_2024 / Kế hoạch."),
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the report / Thư mục ghi báo cáo."),
    support: Optional[Path] = typer.Option(None, "--support", metavar="FILE",
                                           help="Need and support records per target (target_id, household_id, "
                                                "member_no, needed, received) / Hồ sơ hỗ trợ."),
    program_data: Optional[Path] = typer.Option(None, "--program-data", metavar="FILE",
                                                help="Program records (target_id, numerator, denominator[, scope]) "
                                                     "/ Số liệu chương trình."),
    allocation: Optional[Path] = typer.Option(None, "--allocation", metavar="FILE",
                                              help="Budget per commune (commune_code, budget_line, "
                                                   "amount_million_vnd) / Phân bổ kinh phí theo xã."),
    unit: str = typer.Option("households", "--unit", metavar="households|persons",
                             help="Unit of the Alkire–Foster measures / Đơn vị tính chỉ số nghèo đa chiều."),
    k: float = typer.Option(0.25, "--k", metavar="SHARE",
                            help="Alkire–Foster poverty cutoff, a share of the weighted indicators (0.25 = 3 of 12)."),
    weights: Optional[str] = typer.Option(None, "--weights", metavar="ID=W,...",
                                          help="Declared indicator weights (normalised to sum 1); default equal."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and the report."),
    commune: Optional[list[str]] = typer.Option(None, "--commune", metavar="CODE",
                                                help="Only this commune's rows beside the whole survey's (repeat it, "
                                                     "or give codes separated by commas) / Báo cáo cho một xã."),
    rules: Optional[Path] = RULES,
    raw_text: bool = RAW_TEXT,
    no_bom: bool = NO_BOM,
) -> None:
    """Measure a plan against the survey: each target's value and gap, poverty rates, movements since the last review,
    Alkire–Foster measures and budget per eligible unit; CSV tables, report.html and report.xlsx.

    Đánh giá kết quả thực hiện kế hoạch: từng chỉ tiêu, tỷ lệ nghèo, biến động, chỉ số nghèo đa chiều và kinh phí
    bình quân mỗi đối tượng; các bảng CSV, report.html và report.xlsx.
    """
    run(lang_or_default(lang), lambda context: _report(context, survey, plan, on, for_year, out, support, program_data,
                                                      allocation, unit, lang, k, weights, rules, raw_text,
                                                      commune, no_bom))


def weights_option(given: Optional[str], k: float) -> Optional[dict[str, float]]:
    """--weights employment=1,dependants=1,...  (and --k) checked before a long read: a usage error names the fault."""
    if not 0 < k <= 1:
        raise UsageError.from_table(T, "bad_k", hint="bad_k_hint", code="cutoff_invalid", k=k)
    if not given:
        return None
    out: dict[str, float] = {}
    for part in given.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError.from_table(T, "bad_weight", hint="bad_weight_hint", code="weights_invalid",
                                        part=part) from None
    return out


def _report(context: Context, survey: list[Path], plan_opt: str, on: Optional[str], for_year: Optional[int], out: Path,
            support: Optional[Path], program_data: Optional[Path], allocation: Optional[Path], unit_opt: str,
            lang_opt: str, k: float = 0.25, weights_opt: Optional[str] = None, rules: Optional[Path] = None,
            raw_text: bool = False, commune: Optional[list[str]] = None, no_bom: bool = False) -> int:
    import tieuchi  # lazy: keeps --help fast
    from tieuchi.contract.write import Written, rejects_path, write_rejects  # lazy: keeps --help fast
    from tieuchi.outputs import report as rep  # lazy: keeps --help fast
    from tieuchi.rulebook.plans import load_plan, plan_path  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    unit = choice("--unit", unit_opt, UNITS)
    day = reference_date(on, for_year)
    weights = weights_option(weights_opt, k)

    context.reading(rules, plan_opt, support, program_data, allocation)
    rules_at = tieuchi.load_rules(day, rules)
    unknown = sorted(set(weights or {}) - set(rules_at.regime.ruleset.indicators))
    if unknown:
        raise UsageError.from_table(T, "unknown_weight", hint="unknown_weight_hint", code="weights_unknown_indicator",
                                    ids=", ".join(unknown), regime=rules_at.regime.id,
                                    known=", ".join(rules_at.regime.ruleset.indicators))
    plan_file = plan_path(plan_opt)
    plan = load_plan(plan_file, rules_at.regime.item_ids)  # a plan that does not add up: exit 3, before a long read
    rep.plan_fit(plan, rules_at)  # a plan its regime cannot read: exit 3, before a long read
    guard_out(out, rep.output_names() + ["rejects.csv"], survey, rules=rules, plan=plan_file, support=support,
              program_data=program_data, allocation=allocation)
    tables = {name: rep.read_table(p, opt) for name, p, opt in
              (("support", support, "--support"), ("program_data", program_data, "--program-data"),
               ("allocation", allocation, "--allocation")) if p is not None}
    with Progress(lang) as progress:
        context.reading(*survey)
        result = tieuchi.classify_survey(tieuchi.read_survey(survey), on=day, rules=rules_at, lang=lang,
                                         progress=progress, isolate_failures=True)
        how = Written(escape=not raw_text, bom=not no_bom, lang=lang)
        context.decided(result.rejects, out, "csv", lang, raw_text=raw_text, how=how)
        progress("write", 0, 1)
        communes = [c.strip() for given in commune or [] for c in given.split(",") if c.strip()]
        report_ = rep.build(result, plan, survey_name=", ".join(map(str, survey)),
                            raw_households=result.households_by_row, unit=unit, k=k, weights=weights,
                            communes=communes, **tables)
        paths = rep.write(report_, out, lang, raw_text, not no_bom, progress=progress)
        paths += write_rejects(result.rejects, out, "csv", lang, False, raw_text, how)
        progress("write", 1, 1)
    out_console().print(rep.summary_text(report_, lang), markup=False, soft_wrap=True)
    print_written(paths, lang)
    if len(result.rejects):
        n_h = max(result.n_households_in - len(result.households), 0)
        return rejected(result.rejects, n_h, rejects_path(out, "csv"), lang)
    return 0
