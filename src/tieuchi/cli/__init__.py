"""The `tieuchi` command: a thin layer over the public API (read → classify → write → summarise).

No rule logic lives here. Exit codes follow the data contract §3: 0 done, 1 rows rejected or --strict refusal,
2 usage, 3 invalid rules, overlay or plan, 4 `tieuchi test`: some cases failed — and no other: a defect of tieuchi
itself is exit 2 naming the input it could not process (TIEUCHI_DEBUG=1 shows the traceback), with the rejects
already decided written, and households it fails on are found and rejected alone (`tieuchi.engine.isolate`).
"""
from __future__ import annotations

import datetime as dt
import os
import sys

# A command classifies once per process, so first-touch memory dominates: numpy's huge-page advice makes those page
# faults several times slower where the kernel compacts memory on demand (measured: first classify() of 1M households
# 0.99 s with it, 0.61 s without). Set before numpy is imported; an explicit setting by the user wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from tieuchi import __version__
from tieuchi.errors import DataError, TieuchiError, UsageError, clip

LANGS = ("vi", "en")
RULES_HELP = ("An overlay file (a local standard changing parameters of a regime), or a regime folder, instead of the "
              "shipped rules / Bộ điều chỉnh của địa phương hoặc thư mục bộ tiêu chí.")
FORMATS = ("csv", "parquet", "xlsx")
CHECK_FORMATS = ("text", "json")
ENGINES = ("vectorized", "durable")
UNITS = ("households", "persons")
EXIT_CASES_FAILED = 4
SCREEN_REJECTS = 20

app = typer.Typer(
    name="tieuchi",
    help="Phân loại hộ nghèo đa chiều theo chuẩn nghèo của Việt Nam / Classify Vietnamese households under the "
         "multidimensional poverty standard.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

T = {
    "vi": {
        "error": "Lỗi",
        "internal": "Lỗi: tieuchi không xử lý hết được {inputs} ({what}). Đây là lỗi của chương trình, không phải "
                    "của dữ liệu — vui lòng báo lại (please report) kèm lệnh đã chạy và tệp dữ liệu (bỏ họ tên); "
                    "đặt TIEUCHI_DEBUG=1 để xem chi tiết.",
        "internal_kept": "Các dòng bị loại đã xác định được vẫn được ghi: {paths}",
        "interrupted": "Đã dừng.",
        "need_date": "cần đúng một trong hai tuỳ chọn --on NGÀY hoặc --for-year NĂM",
        "need_date_hint": "ví dụ: --on 2025-01-01 hoặc --for-year 2025",
        "both_dates": "chỉ dùng một trong hai: --on hoặc --for-year (--for-year 2025 nghĩa là --on 2025-01-01)",
        "bad_date": "--on '{v}' không phải là ngày",
        "bad_date_hint": "viết ngày dạng YYYY-MM-DD (hoặc DD/MM/YYYY), ví dụ 2025-01-01",
        "bad_year": "--for-year {v} không phải là một năm hợp lệ",
        "bad_choice": "{opt} '{v}' không hợp lệ",
        "bad_choice_hint": "dùng một trong: {choices}",
        "written": "Đã ghi",
        "rejected": "{n} dòng dữ liệu bị loại ({h} hộ). Các hộ khác vẫn được phân loại.",
        "rejects_first": "{k} lỗi đầu tiên (tất cả {n} lỗi trong {path}):",
        "rejects_file": "Danh sách đầy đủ: {path}",
        "rejects_first_screen": "{k} lỗi đầu tiên (tất cả {n} lỗi):",
        "rejects_no_file": "Dùng --out THƯ_MỤC để ghi danh sách đầy đủ (rejects.csv).",
        "rejected_diff": "{n} dòng dữ liệu bị loại ({h} hộ), không được so sánh. Các hộ khác vẫn được so sánh.",
        "strict_written": "Không phân loại hộ nào (--strict). Danh sách lỗi: {path}",
        "row": "Dòng", "household": "Hộ", "column": "Cột", "value": "Giá trị", "problem": "Lỗi",
        "table": "Bảng",
        "read_notes": "Lưu ý khi đọc dữ liệu",
        "template_done": "Đã ghi mẫu nhập liệu: {path}",
        "withheld": "Cột '{c}' có vẻ là họ tên nên không được ghi ra; dùng --show-names để ghi.",
        "stage_read": "đọc dữ liệu", "stage_validate": "kiểm tra", "stage_classify": "phân loại",
        "stage_write": "ghi kết quả",
    },
    "en": {
        "error": "Error",
        "internal": "Error: tieuchi could not finish processing {inputs} ({what}). This is a defect of the "
                    "program, not of your data — please report it with the command you ran and the data file (names "
                    "removed); set TIEUCHI_DEBUG=1 to see the details.",
        "internal_kept": "The rejected rows already decided were written: {paths}",
        "interrupted": "Interrupted.",
        "need_date": "give exactly one of --on DATE or --for-year YEAR",
        "need_date_hint": "e.g. --on 2025-01-01 or --for-year 2025",
        "both_dates": "give only one of --on and --for-year (--for-year 2025 means --on 2025-01-01)",
        "bad_date": "--on '{v}' is not a date",
        "bad_date_hint": "write the date as YYYY-MM-DD (or DD/MM/YYYY), e.g. 2025-01-01",
        "bad_year": "--for-year {v} is not a valid year",
        "bad_choice": "{opt} '{v}' is not valid",
        "bad_choice_hint": "use one of: {choices}",
        "written": "Written",
        "rejected": "{n} data row(s) rejected ({h} household(s)). The other households were classified.",
        "rejects_first": "First {k} problems (all {n} in {path}):",
        "rejects_file": "Full list: {path}",
        "rejects_first_screen": "First {k} problems (all {n}):",
        "rejects_no_file": "Use --out DIR to write the full list (rejects.csv).",
        "rejected_diff": "{n} data row(s) rejected ({h} household(s)), left out of the comparison. The other "
                         "households were compared.",
        "strict_written": "Nothing was classified (--strict). Problems: {path}",
        "row": "Row", "household": "Household", "column": "Column", "value": "Value", "problem": "Problem",
        "table": "Table",
        "read_notes": "Notes from reading",
        "template_done": "Data-entry template written: {path}",
        "withheld": "Column '{c}' looks like a name, so it was not written; use --show-names to write it.",
        "stage_read": "reading", "stage_validate": "checking", "stage_classify": "classifying",
        "stage_write": "writing results",
    },
}

# the API's progress stages -> our labels
STAGES = {"read": "stage_read", "validate": "stage_validate", "classify": "stage_classify",
          "assemble": "stage_classify", "write": "stage_write"}


def _t(lang: str, key: str, **kw: Any) -> str:
    return T.get(lang, T["vi"])[key].format(**kw)


def _out():
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, highlight=False)


def _err():
    from rich.console import Console

    return Console(file=sys.stderr, stderr=True, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------------------------------------------
# error handling: every TieuchiError is a message and an exit code, never a traceback


class _Context:
    """What a command has read and decided so far: if tieuchi itself fails (a defect), the message names the input
    and the rejects already decided are still written."""

    def __init__(self):
        self.inputs: list[str] = []
        self.write_rejects: Callable[[], list[Path]] | None = None

    def reading(self, *paths) -> None:
        self.inputs += [str(p) for p in paths if p is not None]

    def decided(self, rejects, out: Optional[Path], fmt: str, lang: str, show_names: bool = False,
                raw_text: bool = False) -> None:
        if out is None:
            return

        def write() -> list[Path]:
            from tieuchi.contract.write import write_rejects

            return write_rejects(rejects, out, fmt if fmt in FORMATS else "csv", lang, show_names, raw_text)

        self.write_rejects = write


_context = _Context()


def _run(lang: str, body: Callable[[], int]) -> None:
    global _context
    _context = _Context()
    try:
        code = body()
    except TieuchiError as e:
        _print_error(e, lang)
        code = e.exit_code
    except KeyboardInterrupt:
        _err().print(_t(lang, "interrupted"), markup=False)
        code = 130
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - a defect of tieuchi: a contract exit code, what was read, what was kept
        code = _unexpected(e, lang)
    raise typer.Exit(code)


def _unexpected(e: Exception, lang: str) -> int:
    """A defect, not a data problem: exit 2 (the input could not be processed) naming the input, the rejects
    already decided written; the traceback only with TIEUCHI_DEBUG=1."""
    if os.environ.get("TIEUCHI_DEBUG") == "1":
        import traceback

        traceback.print_exc()
    what = type(e).__name__  # not its text, which may quote the data (names): TIEUCHI_DEBUG=1 shows it all
    inputs = ", ".join(f"'{p}'" for p in _context.inputs) or "—"
    _err().print(_t(lang, "internal", inputs=inputs, what=what), markup=False)
    if _context.write_rejects is not None:
        try:
            paths = _context.write_rejects()
            _err().print(_t(lang, "internal_kept", paths=", ".join(str(p) for p in paths)), markup=False)
        except Exception:  # noqa: BLE001 - nothing more can be saved
            pass
    return UsageError.exit_code


def _print_error(e: TieuchiError, lang: str) -> None:
    console = _err()
    console.print(f"[bold red]{_t(lang, 'error')}:[/] ", end="")
    message, hint = e.in_lang(lang)
    console.print(message, markup=False)
    if hint:
        console.print(f"  → {hint}", markup=False)


def _choice(lang: str, opt: str, value: str, choices: tuple[str, ...]) -> str:
    v = value.strip().lower()
    if v not in choices:
        raise UsageError(_t(lang, "bad_choice", opt=opt, v=value),
                         _t(lang, "bad_choice_hint", choices=", ".join(choices)))
    return v


def _lang(value: str) -> str:
    v = (value or "vi").strip().lower()
    return v if v in LANGS else "vi"


def reference_date(on: Optional[str], for_year: Optional[int], lang: str = "vi") -> dt.date:
    """--on DATE or --for-year YEAR (= YEAR-01-01); exactly one of them."""
    if on is None and for_year is None:
        raise UsageError(_t(lang, "need_date"), _t(lang, "need_date_hint"))
    if on is not None and for_year is not None:
        raise UsageError(_t(lang, "both_dates"))
    if for_year is not None:
        if not 1900 <= for_year <= 2200:
            raise UsageError(_t(lang, "bad_year", v=for_year), _t(lang, "need_date_hint"))
        return dt.date(for_year, 1, 1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(on.strip(), fmt).date()
        except ValueError:
            pass
    raise UsageError(_t(lang, "bad_date", v=on), _t(lang, "bad_date_hint"))


# --------------------------------------------------------------------------------------------------------------
# commands


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tieuchi {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit / In phiên bản."),
) -> None:
    """Phân loại hộ nghèo đa chiều / multidimensional poverty classification."""


# The arguments several commands share, declared once
SURVEY = typer.Argument(..., help="Survey: a folder with households/members(/communes) .csv or .parquet, an .xlsx "
                                  "workbook, or a .jsonl file / Dữ liệu điều tra.")
ON = typer.Option(None, "--on", metavar="DATE", help="Reference date YYYY-MM-DD / Ngày tham chiếu.")
FOR_YEAR = typer.Option(None, "--for-year", metavar="YEAR",
                        help="Review for YEAR: same as --on YEAR-01-01 / Rà soát cho năm.")
RAW_TEXT = typer.Option(False, "--raw-text",
                        help="CSV: write text exactly as in the data. By default a text cell starting with = + - @, "
                             "a tab or CR gets a leading ' so that a spreadsheet cannot run it as a formula (xlsx "
                             "always holds text cells, parquet the raw value) / CSV: ghi nguyên văn; mặc định thêm "
                             "dấu ' trước ô chữ bắt đầu bằng = + - @ để bảng tính không chạy nó như công thức.")


@app.command()
def classify(
    survey: Path = SURVEY,
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the results / Thư mục kết quả."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and reasons."),
    fmt: str = typer.Option("csv", "--format", metavar="csv|parquet|xlsx", help="Output format."),
    strict: bool = typer.Option(False, "--strict",
                                help="Refuse the whole survey if any row fails: write rejects only, exit 1."),
    show_names: bool = typer.Option(False, "--show-names",
                                    help="Write members' full_name (personal data; left out by default)."),
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE|DIR", help=RULES_HELP),
    engine: str = typer.Option("vectorized", "--engine", metavar="vectorized|durable",
                               help="Backend: vectorized (numpy, default) or durable (durable_rules; optional extra)."),
    raw_text: bool = RAW_TEXT,
) -> None:
    """Classify every household of SURVEY at a reference date and write households, members and rejects.

    Phân loại từng hộ trong SURVEY tại ngày tham chiếu; ghi kết quả hộ, thành viên và các dòng bị loại.
    """
    lg = _lang(lang)
    _run(lg, lambda: _classify(survey, on, for_year, out, lang, fmt, strict, show_names, rules, engine, raw_text))


@app.command()
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
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE|DIR", help=RULES_HELP),
) -> None:
    """Classify one household and explain why: class, rule and citation, income against the line, every indicator
    with the member and value that decided it, and the inputs that would decide anything unknown.

    Phân loại một hộ và giải thích lý do: diện hộ, căn cứ pháp lý, thu nhập so với chuẩn nghèo, từng chỉ số kèm
    thành viên và giá trị quyết định, các thông tin cần bổ sung khi chưa xác định được.
    """
    lg = _lang(lang)
    _run(lg, lambda: _check(household, on, for_year, fmt, lang, engine, show_names, rules))


@app.command()
def eligible(
    survey: Path = SURVEY,
    on: Optional[str] = ON,
    for_year: Optional[int] = FOR_YEAR,
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the lists / Thư mục ghi danh sách."),
    item: Optional[str] = typer.Option(None, "--item", metavar="ITEM",
                                       help="Only this program item, e.g. p2_livelihood / Chỉ một hạng mục."),
    commune: Optional[str] = typer.Option(None, "--commune", metavar="CODE", help="Only this commune / Chỉ một xã."),
    by: str = typer.Option("commune", "--by", metavar="commune|village",
                           help="Count per commune (default) or per village / Đếm theo xã hoặc theo thôn."),
    fmt: str = typer.Option("csv", "--format", metavar="csv|parquet|xlsx", help="Output format."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages and reasons."),
    show_names: bool = typer.Option(False, "--show-names",
                                    help="Write full_name (personal data; left out by default)."),
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE|DIR", help=RULES_HELP),
    raw_text: bool = RAW_TEXT,
) -> None:
    """List, per program item, the eligible households or people ranked by commune, priority group and id, and
    count them per commune (or village).

    Lập danh sách hộ / người thuộc đối tượng của từng dự án, xếp theo xã, nhóm ưu tiên và mã; đếm theo xã (hoặc
    thôn).
    """
    lg = _lang(lang)
    _run(lg, lambda: _eligible(survey, on, for_year, out, item, commune, by, fmt, lang, show_names, rules,
                               raw_text))


@app.command()
def report(
    survey: Path = SURVEY,
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
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE|DIR", help=RULES_HELP),
    raw_text: bool = RAW_TEXT,
) -> None:
    """Measure a plan against the survey: each target's value and gap, poverty rates, movements since the last review,
    Alkire–Foster measures and budget per eligible unit; CSV tables, report.html and report.xlsx.

    Đánh giá kết quả thực hiện kế hoạch: từng chỉ tiêu, tỷ lệ nghèo, biến động, chỉ số nghèo đa chiều và kinh phí
    bình quân mỗi đối tượng; các bảng CSV, report.html và report.xlsx.
    """
    lg = _lang(lang)
    _run(lg, lambda: _report(survey, plan, on, for_year, out, support, program_data, allocation, unit, lang, k,
                             weights, rules, raw_text))


@app.command()
def diff(
    survey: Path = SURVEY,
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
) -> None:
    """Classify one survey twice — two dates, two standards, or the rules and an overlay — and compare: who changes
    class (with reasons before and after), the transition matrix, and every rate, Alkire–Foster measure and target.

    So sánh hai lần phân loại cùng một bộ dữ liệu (hai ngày, hai chuẩn nghèo, hoặc quy tắc và bản điều chỉnh): hộ
    nào đổi phân loại và vì sao, ma trận chuyển đổi, thay đổi của các tỷ lệ, chỉ số và chỉ tiêu.
    """
    lg = _lang(lang)
    _run(lg, lambda: _diff(survey, on, for_year, rules, vs_on, vs_for_year, vs_rules, plan, out, fmt, lang,
                           raw_text))


@app.command()
def template(
    out: Path = typer.Option(..., "--out", metavar="FILE.xlsx", help="Where to write the workbook."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages."),
    force: bool = typer.Option(False, "--force",
                               help="Replace FILE if it exists (it may be a filled-in survey) / Ghi đè tệp đã có."),
) -> None:
    """Write an empty data-entry workbook (Vietnamese headers, drop-down lists) that tieuchi reads back.

    Ghi mẫu nhập liệu Excel (tiêu đề tiếng Việt, danh sách chọn) mà tieuchi đọc lại được.
    """
    lg = _lang(lang)

    def body() -> int:
        _choice(lg, "--lang", lang, LANGS)
        from tieuchi.contract.template import write_template
        from tieuchi.contract.write import check_out_file

        path = write_template(check_out_file(out, force))
        _out().print(_t(lg, "template_done", path=path or out), markup=False)
        return 0

    _run(lg, body)


@app.command("test")
def run_tests(
    paths: Optional[list[Path]] = typer.Argument(None, metavar="PATH",
                                                 help="Case files or folders to run (default: every case of the rules, "
                                                      "or of the --rules candidate's regime and program)."),
    rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE|DIR",
                                         help="A candidate overlay (or regime folder): run the cases against it and "
                                              "report which expected outcomes it changes / Quy tắc đề xuất."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of the report."),
    fmt: str = typer.Option("text", "--format", metavar="text|json", help="Output: readable text or JSON."),
) -> None:
    """Run the YAML cases beside the rules and report passed / failed; with --rules, run them against a candidate
    rule change and list the expected outcomes it alters. Exit 4 when a case fails, so it can gate a change in CI.

    Chạy các trường hợp kiểm thử (YAML) kèm theo quy tắc; với --rules, chạy với quy tắc đề xuất và liệt kê các kết
    quả mong đợi bị thay đổi. Mã thoát 4 khi có trường hợp không đạt.
    """
    lg = _lang(lang)
    _run(lg, lambda: _test(paths, rules, lang, fmt))


def _test(paths: Optional[list[Path]], rules: Optional[Path], lang_opt: str, fmt_opt: str) -> int:
    import json

    lang = _choice("vi", "--lang", lang_opt, LANGS)
    fmt = _choice(lang, "--format", fmt_opt, CHECK_FORMATS)
    from tieuchi.casework import runner as testing

    _context.reading(*(paths or []), rules)
    res = testing.run(list(paths) if paths else None, rules)
    if fmt == "json":
        sys.stdout.write(json.dumps(testing.to_json(res), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(testing.render_text(res, lang) + "\n")
    return 0 if res.ok else EXIT_CASES_FAILED


# --------------------------------------------------------------------------------------------------------------
# classify, step by step


def _guard_out(out: Path, names, survey: Path, **inputs: Optional[Path]) -> None:
    """Before a long read: the output folder can take the files `names`, none of which is an input of this run
    (`inputs`: keys of tieuchi.contract.write.INPUT_LABELS)."""
    from tieuchi.contract.write import check_out, survey_inputs

    check_out(out, names, survey_inputs(survey) + [(p, what) for what, p in inputs.items() if p is not None])


def _classify(survey: Path, on: Optional[str], for_year: Optional[int], out: Path, lang_opt: str, fmt_opt: str,
              strict: bool, show_names: bool, rules: Optional[Path], engine_opt: str = "vectorized",
              raw_text: bool = False) -> int:
    lang = _choice("vi", "--lang", lang_opt, LANGS)
    fmt = _choice(lang, "--format", fmt_opt, FORMATS)
    engine = _choice(lang, "--engine", engine_opt, ENGINES)
    day = reference_date(on, for_year, lang)

    import tieuchi
    from tieuchi.api import StrictRefusal
    from tieuchi.contract.read import read_survey
    from tieuchi.contract.write import (output_paths, prepare_rejects, rejects_path, withheld_columns, write_rejects,
                                  write_results)
    from tieuchi.rulebook.load import load_rules

    _context.reading(rules)
    rules_at = load_rules(day, rules)  # a date no regime covers fails here, before a long read
    from tieuchi.api import backend

    backend(engine)  # an engine that is not installed fails here too (usage error, exit 2)
    _guard_out(out, [p.name for p in output_paths(out, fmt)], survey, rules=rules)

    refusal = None
    with _Progress(lang) as progress:
        progress("read", 0, 1)
        _context.reading(survey)
        raw = read_survey(survey)
        progress("read", 1, 1)
        try:
            result = tieuchi.classify_survey(raw, on=day, rules=rules_at, lang=lang, strict=strict,
                                             progress=progress, engine=engine, isolate_failures=True)
        except StrictRefusal as e:
            refusal = e
        progress("write", 0, 1)
        if refusal is not None:
            paths = write_rejects(refusal.rejects, out, fmt, lang, show_names, raw_text)
        else:
            _context.decided(result.rejects, out, fmt, lang, show_names, raw_text)
            paths = write_results(result, out, fmt, lang, show_names, raw_text)
        progress("write", 1, 1)

    if refusal is not None:
        _show_rejects(prepare_rejects(refusal.rejects, lang, show_names), rejects_path(out, fmt), lang)
        _print_error(refusal, lang)
        return DataError.exit_code

    from tieuchi.outputs.summary import render, summarize

    summary = summarize(result)
    console = _out()
    console.print(render(summary, lang))
    console.print(f"{_t(lang, 'written')}: " + ", ".join(str(p) for p in paths), markup=False, soft_wrap=True)
    for column in withheld_columns(result, show_names):
        _err().print(_t(lang, "withheld", c=column), style="yellow", markup=False)
    if len(result.rejects):
        shown = prepare_rejects(result.rejects, lang, show_names)
        _err().print(_t(lang, "rejected", n=len(shown), h=summary.n_rejected), style="yellow", markup=False)
        _show_rejects(shown, rejects_path(out, fmt), lang)
        return DataError.exit_code
    return 0


def _eligible(survey: Path, on: Optional[str], for_year: Optional[int], out: Path, item_opt: Optional[str],
              commune: Optional[str], by_opt: str, fmt_opt: str, lang_opt: str, show_names: bool,
              rules: Optional[Path] = None, raw_text: bool = False) -> int:
    lang = _choice("vi", "--lang", lang_opt, LANGS)
    fmt = _choice(lang, "--format", fmt_opt, FORMATS)
    day = reference_date(on, for_year, lang)

    import tieuchi
    from tieuchi.outputs.eligible import (check_by, check_item, eligibility_counts, eligibility_lists, output_names,
                                  refuse_outside, render_counts, write_lists)
    from tieuchi.contract.read import read_survey
    from tieuchi.contract.write import prepare_rejects, rejects_path
    from tieuchi.rulebook.load import load_rules

    item, by = check_item(item_opt), check_by(by_opt)  # before a long read
    _context.reading(rules)
    rules_at = load_rules(day, rules)
    refuse_outside(rules_at, day)  # outside the program's window: exit 2 before a long read
    _guard_out(out, output_names(item, fmt), survey, rules=rules)
    with _Progress(lang) as progress:
        _context.reading(survey)
        result = tieuchi.classify_survey(read_survey(survey), on=day, rules=rules_at, lang=lang, progress=progress,
                                         isolate_failures=True)
        _context.decided(result.rejects, out, "csv", lang, show_names, raw_text)
        lists = eligibility_lists(result, item, commune, by, lang, show_names)
        counts = eligibility_counts(result, item, commune, by)
        progress("write", 0, 1)
        paths = write_lists(lists, counts, result.rejects, out, fmt, lang, show_names, raw_text)
        progress("write", 1, 1)
    console = _out()
    console.print(render_counts(counts, lang))
    console.print(f"{_t(lang, 'written')}: " + ", ".join(str(p) for p in paths), markup=False, soft_wrap=True)
    if len(result.rejects):
        shown = prepare_rejects(result.rejects, lang, show_names)
        n_h = max(result.n_households_in - len(result.households), 0)
        _err().print(_t(lang, "rejected", n=len(shown), h=n_h), style="yellow", markup=False)
        _show_rejects(shown, paths[0] if fmt == "xlsx" else rejects_path(out, fmt), lang)
        return DataError.exit_code
    return 0


def _weights(text: Optional[str], k: float, lang: str) -> Optional[dict[str, float]]:
    """--weights employment=1,dependants=1,...  (and --k) checked before a long read: a usage error names the fault."""
    if not 0 < k <= 1:
        raise UsageError(f"--k {k}: the cutoff is a share of the weighted indicators, in (0, 1]",
                         "e.g. --k 0.25 (3 of 12 indicators)",
                         vi=f"--k {k}: ngưỡng là tỷ lệ của tổng trọng số các chỉ số, trong (0, 1]",
                         vi_hint="ví dụ --k 0.25 (3 trên 12 chỉ số)")
    if not text:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--weights: '{part}' is not ID=NUMBER", "e.g. --weights employment=2,dependants=1,...",
                             vi=f"--weights: '{part}' không có dạng MÃ=SỐ",
                             vi_hint="ví dụ --weights employment=2,dependants=1,...") from None
    return out


def _report(survey: Path, plan_opt: str, on: Optional[str], for_year: Optional[int], out: Path,
            support: Optional[Path], program_data: Optional[Path], allocation: Optional[Path], unit_opt: str,
            lang_opt: str, k: float = 0.25, weights_opt: Optional[str] = None, rules: Optional[Path] = None,
            raw_text: bool = False) -> int:
    lang = _choice("vi", "--lang", lang_opt, LANGS)
    unit = _choice(lang, "--unit", unit_opt, UNITS)
    day = reference_date(on, for_year, lang)
    weights = _weights(weights_opt, k, lang)

    import tieuchi
    from tieuchi.outputs import report as rep
    from tieuchi.contract.read import read_survey
    from tieuchi.contract.write import prepare_rejects, rejects_path, write_rejects
    from tieuchi.rulebook.load import load_rules
    from tieuchi.rulebook.plans import load_plan, plan_path

    _context.reading(rules, plan_opt, support, program_data, allocation)
    rules_at = load_rules(day, rules)
    unknown = sorted(set(weights or {}) - set(rules_at.regime.ruleset.indicators))
    if unknown:
        known = ", ".join(rules_at.regime.ruleset.indicators)
        raise UsageError(f"--weights: no indicator {', '.join(unknown)} in {rules_at.regime.id}",
                         f"use the regime's indicator ids: {known}",
                         vi=f"--weights: {rules_at.regime.id} không có chỉ số {', '.join(unknown)}",
                         vi_hint=f"dùng mã chỉ số của chuẩn nghèo: {known}")
    plan_file = plan_path(plan_opt)
    plan = load_plan(plan_file)  # a plan that does not add up: exit 3, before a long read
    rep.plan_fit(plan, rules_at)  # a plan its regime cannot read: exit 3, before a long read
    _guard_out(out, rep.output_names() + ["rejects.csv"], survey, rules=rules, plan=plan_file, support=support,
               program_data=program_data, allocation=allocation)
    tables = {name: rep.read_table(p, opt) for name, p, opt in
              (("support", support, "--support"), ("program_data", program_data, "--program-data"),
               ("allocation", allocation, "--allocation")) if p is not None}
    with _Progress(lang) as progress:
        _context.reading(survey)
        result = tieuchi.classify_survey(read_survey(survey), on=day, rules=rules_at, lang=lang, progress=progress,
                                         isolate_failures=True)
        _context.decided(result.rejects, out, "csv", lang, raw_text=raw_text)
        progress("write", 0, 1)
        report_ = rep.build(result, plan, survey_name=str(survey), raw_households=result.households_by_row, unit=unit,
                            k=k, weights=weights, **tables)
        paths = rep.write(report_, out, lang, raw_text)
        paths += write_rejects(result.rejects, out, "csv", lang, False, raw_text)
        progress("write", 1, 1)
    console = _out()
    console.print(rep.summary_text(report_, lang), markup=False, soft_wrap=True)
    console.print(f"{_t(lang, 'written')}: " + ", ".join(str(p) for p in paths), markup=False, soft_wrap=True)
    if len(result.rejects):
        shown = prepare_rejects(result.rejects, lang, False)
        n_h = max(result.n_households_in - len(result.households), 0)
        _err().print(_t(lang, "rejected", n=len(shown), h=n_h), style="yellow", markup=False)
        _show_rejects(shown, rejects_path(out, "csv"), lang)
        return DataError.exit_code
    return 0


def _diff(survey: Path, on, for_year, rules, vs_on, vs_for_year, vs_rules, plan_opt, out, fmt_opt, lang_opt,
          raw_text: bool = False) -> int:
    import json

    lang = _choice("vi", "--lang", lang_opt, LANGS)
    fmt = _choice(lang, "--format", fmt_opt, CHECK_FORMATS)
    day = reference_date(on, for_year, lang)
    if vs_on is None and vs_for_year is None:
        raise UsageError("diff needs the second side: --vs-on DATE2 or --vs-for-year YEAR2",
                         "e.g. tieuchi diff SURVEY --on 2026-06-30 --vs-on 2027-06-30",
                         vi="cần mốc so sánh thứ hai: --vs-on NGÀY2 hoặc --vs-for-year NĂM2",
                         vi_hint="ví dụ tieuchi diff SURVEY --on 2026-06-30 --vs-on 2027-06-30")
    vs_day = reference_date(vs_on, vs_for_year, lang)

    import tieuchi
    from tieuchi.outputs import diff as df
    from tieuchi.outputs import report as rep
    from tieuchi.contract.read import read_survey
    from tieuchi.contract.write import prepare_rejects, rejects_path, write_rejects
    from tieuchi.rulebook.load import load_rules
    from tieuchi.rulebook.plans import load_plan, plan_path

    _context.reading(rules, vs_rules, plan_opt)
    rules_a, rules_b = load_rules(day, rules), load_rules(vs_day, vs_rules)  # before a long read
    plan = plan_file = None
    if plan_opt:
        plan_file = plan_path(plan_opt)
        plan = load_plan(plan_file)
        rep.plan_fit(plan, rules_a), rep.plan_fit(plan, rules_b)
    if out is not None:
        _guard_out(out, df.OUTPUTS, survey, rules=rules, vs_rules=vs_rules, plan=plan_file)
    with _Progress(lang) as progress:
        _context.reading(survey)
        raw = read_survey(survey)
        before = tieuchi.classify_survey(raw, on=day, rules=rules_a, lang=lang, progress=progress,
                                         isolate_failures=True)
        after = tieuchi.classify_survey(raw, on=vs_day, rules=rules_b, lang=lang, isolate_failures=True)
        d = df.compare(before, after, plan=plan, lang=lang, raw_households=before.households_by_row)
        rejects = df.rejects(before, after)
        _context.decided(rejects, out, "csv", lang, raw_text=raw_text)
        paths = df.write(d, out, raw_text) + write_rejects(rejects, out, "csv", lang, False, raw_text) \
            if out is not None else []
    if fmt == "json":
        sys.stdout.write(json.dumps(d.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        console = _out()
        console.print(df.text(d, lang), markup=False, soft_wrap=True)
        if paths:
            console.print(f"{_t(lang, 'written')}: " + ", ".join(str(p) for p in paths), markup=False, soft_wrap=True)
    if len(rejects):
        shown = prepare_rejects(rejects, lang, False)
        n_h = rejects.loc[rejects["table"] == "households", "row"].nunique()
        _err().print(_t(lang, "rejected_diff", n=len(shown), h=n_h), style="yellow", markup=False)
        _show_rejects(shown, rejects_path(out, "csv") if out is not None else None, lang)
        return DataError.exit_code
    return 0


# --------------------------------------------------------------------------------------------------------------
# check: one household document


def _read_document(source: str, lang: str):
    from tieuchi.contract.read import VALUE_CAP, loads_strict

    if source == "-":
        text = sys.stdin.read()
        where = "stdin"
    else:
        p = Path(source)
        if not p.is_file():
            raise UsageError(f"file not found: '{p}'", "give a household JSON file, or '-' to read standard input",
                             vi=f"không tìm thấy tệp '{p}'", vi_hint="cho tệp JSON của một hộ, hoặc '-' để đọc từ "
                                                                    "đầu vào chuẩn")
        try:
            text = p.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataError(f"'{p}' is not UTF-8", "save the file as UTF-8",
                            vi=f"'{p}' không phải UTF-8", vi_hint="lưu lại tệp dưới dạng UTF-8") from None
        where = str(p)
    try:
        return loads_strict(text)  # a key given twice, or nesting too deep to parse, is refused here (ValueError)
    except ValueError as exc:
        what = clip(str(exc), VALUE_CAP)
        raise DataError(f"{where}: not valid JSON: {what}", "one household as a JSON object (data contract §1.4)",
                        vi=f"{where}: JSON không hợp lệ: {what}",
                        vi_hint="một hộ là một đối tượng JSON (hợp đồng dữ liệu §1.4)") from None


def _rejected(rejects, lang: str) -> DataError:
    """The household was refused by the survey validation (e.g. two members with the same number)."""
    from tieuchi.contract.parse import to_text
    from tieuchi.contract.problems import problem_text

    lines = []
    for r in rejects.itertuples(index=False):
        if r.problem in ("household_rejected", "member_rejected"):
            continue
        who = "" if r.table == "households" else \
            (f"thành viên số {to_text(r.member_no)}" if lang == "vi" else f"member {to_text(r.member_no)}")
        col = to_text(r.column) or ""
        where = ".".join(x for x in (who, col) if x) or ("hộ" if lang == "vi" else "household")
        lines.append(f"  {where}: {problem_text(r.problem, lang)}")
    body = "\n".join(lines)
    return DataError(f"the household was rejected:\n{body}", "fix the fields listed and run again",
                     vi=f"hộ bị loại khi kiểm tra dữ liệu:\n{body}", vi_hint="sửa các trường trên rồi chạy lại")


def _check(source: str, on: Optional[str], for_year: Optional[int], fmt_opt: str, lang_opt: str, engine_opt: str,
           show_names: bool, rules: Optional[Path] = None) -> int:
    import json

    lang = _choice("vi", "--lang", lang_opt, LANGS)
    fmt = _choice(lang, "--format", fmt_opt, CHECK_FORMATS)
    engine = _choice(lang, "--engine", engine_opt, ENGINES)
    day = reference_date(on, for_year, lang)

    import tieuchi
    from tieuchi.casework.cases import tables
    from tieuchi.outputs.explanation import explain_household, explain_text
    from tieuchi.rulebook.load import load_rules
    from tieuchi.contract.household import document, parse_household

    _context.reading(rules, source)
    rules_at = load_rules(day, rules)  # a date no regime covers: usage error (exit 2); a bad overlay: exit 3
    from tieuchi.api import backend

    backend(engine)  # an engine that is not available: usage error (exit 2)
    doc = document(parse_household(_read_document(source, lang), lang))  # a bad document: exit 1, fields named
    households, members = tables([doc])
    result = tieuchi.classify(households, members, on=day, rules=rules_at, lang=lang, engine=engine)
    if len(result.rejects):
        raise _rejected(result.rejects, lang)
    ex = explain_household(result, doc["household_id"], lang=lang, show_names=show_names)
    if fmt == "json":
        sys.stdout.write(json.dumps(ex, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(explain_text(ex, rules_at.regime, lang) + "\n")
    return 0


def _show_rejects(shown, path: Optional[Path], lang: str) -> None:
    from rich.table import Table

    console = _err()
    k = min(SCREEN_REJECTS, len(shown))
    title = _t(lang, "rejects_first", k=k, n=len(shown), path=path) if path is not None else \
        _t(lang, "rejects_first_screen", k=k, n=len(shown))
    table = Table(title=title, title_justify="left")
    for key in ("table", "row", "household", "column", "value", "problem"):
        table.add_column(_t(lang, key), overflow="fold")

    def cell(v) -> str:
        import pandas as pd

        return "" if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)) else str(v)

    for rec in shown.head(SCREEN_REJECTS).itertuples(index=False):
        member = cell(rec.member_no)
        who = cell(rec.household_id) + (f" #{member}" if member else "")
        table.add_row(cell(rec.table), cell(rec.row), who, cell(rec.column), cell(rec.value),
                      cell(rec.message) or cell(rec.problem))
    console.print(table)
    console.print(_t(lang, "rejects_file", path=path) if path is not None else _t(lang, "rejects_no_file"),
                  markup=False)


class _Progress:
    """A rich progress bar on stderr, shown only on a terminal; `__call__` is the API's progress callback."""

    def __init__(self, lang: str):
        self.lang = lang
        self.progress = None
        self.task = None
        self.start = time.monotonic()

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                     console=_err(), transient=True)
            self.progress.__enter__()
            self.task = self.progress.add_task(_t(self.lang, "stage_read"), total=4)
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        order = ["read", "validate", "classify", "write"]
        key = STAGES.get(stage)
        if key is None:  # "done" and any stage we do not know
            return
        base = {"stage_read": 0, "stage_validate": 1, "stage_classify": 2, "stage_write": 3}[key]
        frac = done / total if total else 0
        self.progress.update(self.task, description=_t(self.lang, key), completed=min(base + frac, len(order)))

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False


def main() -> None:
    app(prog_name="tieuchi")


if __name__ == "__main__":  # pragma: no cover
    main()
