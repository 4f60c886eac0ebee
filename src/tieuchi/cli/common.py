"""What every command of `tieuchi` shares: the typer app, the options several commands take, the CLI's messages,
the consoles, the rejects table on screen, the progress bar, and the error handling that turns every failure into a
message and an exit code (data contract §3).

Importing this (and every command module) stays light, so that `tieuchi --help` is fast: the library is imported
inside each command's body, each such import marked "# lazy: keeps --help fast".
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tieuchi import __version__
from tieuchi.cli.help import Group, examples
from tieuchi.errors import DataError, TieuchiError, UsageError
from tieuchi.i18n import table, text

RULES_HELP = ("An overlay (a local standard: a file, or the id of a shipped one) or a regime folder, instead of the "
              "shipped rules / Bộ điều chỉnh của địa phương hoặc thư mục bộ tiêu chí.")
CHECK_FORMATS = ("text", "json")
UNITS = ("households", "persons")
EXIT_CASES_FAILED = 4
SCREEN_REJECTS = 20

app = typer.Typer(
    name="tieuchi",
    cls=Group,
    help="Phân loại hộ nghèo đa chiều theo chuẩn nghèo của Việt Nam / Classify Vietnamese households under the "
         "multidimensional poverty standard.\n\n"
         "Mọi lệnh đọc dữ liệu điều tra đều cần ngày tham chiếu: --on NGÀY hoặc --for-year NĂM. / Every command that "
         "reads a survey needs a reference date: --on DATE or --for-year YEAR. 'tieuchi LỆNH --help' shows a "
         "command's options and examples.",
    epilog=examples("tieuchi classify datasets/demo --on 2024-12-01 --out out/", "tieuchi classify --help"),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

T = table(
    vi={
        "error": "Lỗi",
        "internal": "Lỗi: tieuchi không xử lý hết được {inputs} ({what}). Đây là lỗi của chương trình, không phải "
                    "của dữ liệu — vui lòng báo lại kèm lệnh đã chạy và tệp dữ liệu (bỏ họ tên); "
                    "đặt TIEUCHI_DEBUG=1 để xem chi tiết.",
        "internal_kept": "Các dòng bị loại đã xác định được vẫn được ghi: {paths}",
        "interrupted": "Đã dừng.",
        "stale_rules": "Cảnh báo: tieuchi đang dùng bộ quy tắc đã cài đặt ({installed}), khác với thư mục {checkout} "
                       "của mã nguồn đang mở; các thay đổi trong {checkout} chưa được dùng (kể cả bởi tieuchi test). "
                       "Cài ở chế độ sửa được để dùng chúng: pip install -e . (trong thư mục {project}), hoặc cài lại "
                       "bằng pip install . sau mỗi lần sửa.",
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
        "rejects_first": "{k} trong {r} lỗi cần sửa (tất cả {n} dòng lỗi trong {path}):",
        "rejects_file": "Danh sách đầy đủ: {path}",
        "rejects_first_screen": "{k} trong {r} lỗi cần sửa (tất cả {n} dòng lỗi):",
        "consequences": "… và {what}: không liệt kê, các dòng này hết bị loại khi sửa các lỗi cần sửa.",
        "consequence_members": "{n} thành viên bị loại theo hộ của mình",
        "consequence_households": "{n} hộ bị loại vì có thành viên bị lỗi",
        "and": ", ",
        "cell": "Ô",
        "rejects_no_file": "Dùng --out THƯ_MỤC để ghi danh sách đầy đủ (rejects.csv).",
        "rejected_diff": "{n} dòng dữ liệu bị loại ({h} hộ), không được so sánh. Các hộ khác vẫn được so sánh.",
        "strict_written": "Không phân loại hộ nào (--strict). Danh sách lỗi: {path}",
        "row": "Dòng", "household": "Hộ", "column": "Cột", "value": "Giá trị", "problem": "Lỗi",
        "table": "Bảng", "file": "Tệp",
        "read_notes": "Lưu ý khi đọc dữ liệu",
        "template_done": "Đã ghi mẫu nhập liệu: {path}",
        "withheld": "Cột '{c}' có vẻ là họ tên nên không được ghi ra; dùng --show-names để ghi.",
        "stage_read": "đọc dữ liệu", "stage_validate": "kiểm tra", "stage_classify": "phân loại",
        "stage_write": "ghi kết quả",
        # the commands' own usage errors
        "bad_k": "--k {k}: ngưỡng là tỷ lệ của tổng trọng số các chỉ số, trong (0, 1]",
        "bad_k_hint": "ví dụ --k 0.25 (3 trên 12 chỉ số)",
        "bad_weight": "--weights: '{part}' không có dạng MÃ=SỐ",
        "bad_weight_hint": "ví dụ --weights employment=2,dependants=1,...",
        "unknown_weight": "--weights: {regime} không có chỉ số {ids}",
        "unknown_weight_hint": "dùng mã chỉ số của chuẩn nghèo: {known}",
        "need_vs": "cần mốc so sánh thứ hai: --vs-on NGÀY2 hoặc --vs-for-year NĂM2",
        "need_vs_hint": "ví dụ tieuchi diff SURVEY --on 2026-06-30 --vs-on 2027-06-30",
        "no_file": "không tìm thấy tệp '{p}'",
        "no_file_hint": "cho tệp JSON của một hộ, hoặc '-' để đọc từ đầu vào chuẩn",
        "not_utf8": "'{p}' không phải UTF-8",
        "not_utf8_hint": "lưu lại tệp dưới dạng UTF-8",
        "bad_json": "{where}: JSON không hợp lệ: {what}",
        "bad_json_hint": "một hộ là một đối tượng JSON (hợp đồng dữ liệu §1.4)",
    },
    en={
        "error": "Error",
        "internal": "Error: tieuchi could not finish processing {inputs} ({what}). This is a defect of the "
                    "program, not of your data — please report it with the command you ran and the data file (names "
                    "removed); set TIEUCHI_DEBUG=1 to see the details.",
        "internal_kept": "The rejected rows already decided were written: {paths}",
        "interrupted": "Interrupted.",
        "stale_rules": "Warning: tieuchi is using the installed rules ({installed}), which differ from this "
                       "checkout's {checkout}: your edits there are not used (by tieuchi test either). Install in "
                       "editable mode to use them: pip install -e . (in {project}), or reinstall with pip install . "
                       "after each edit.",
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
        "rejects_first": "{k} of {r} problems to fix (all {n} rejected rows in {path}):",
        "rejects_file": "Full list: {path}",
        "rejects_first_screen": "{k} of {r} problems to fix (all {n} rejected rows):",
        "consequences": "… and {what}: not listed; they are no longer rejected once the problems to fix are fixed.",
        "consequence_members": "{n} member(s) rejected with their household",
        "consequence_households": "{n} household(s) rejected because of a member's row",
        "and": ", ",
        "cell": "Cell",
        "rejects_no_file": "Use --out DIR to write the full list (rejects.csv).",
        "rejected_diff": "{n} data row(s) rejected ({h} household(s)), left out of the comparison. The other "
                         "households were compared.",
        "strict_written": "Nothing was classified (--strict). Problems: {path}",
        "row": "Row", "household": "Household", "column": "Column", "value": "Value", "problem": "Problem",
        "table": "Table", "file": "File",
        "read_notes": "Notes from reading",
        "template_done": "Data-entry template written: {path}",
        "withheld": "Column '{c}' looks like a name, so it was not written; use --show-names to write it.",
        "stage_read": "reading", "stage_validate": "checking", "stage_classify": "classifying",
        "stage_write": "writing results",
        "bad_k": "--k {k}: the cutoff is a share of the weighted indicators, in (0, 1]",
        "bad_k_hint": "e.g. --k 0.25 (3 of 12 indicators)",
        "bad_weight": "--weights: '{part}' is not ID=NUMBER",
        "bad_weight_hint": "e.g. --weights employment=2,dependants=1,...",
        "unknown_weight": "--weights: no indicator {ids} in {regime}",
        "unknown_weight_hint": "use the regime's indicator ids: {known}",
        "need_vs": "diff needs the second side: --vs-on DATE2 or --vs-for-year YEAR2",
        "need_vs_hint": "e.g. tieuchi diff SURVEY --on 2026-06-30 --vs-on 2027-06-30",
        "no_file": "file not found: '{p}'",
        "no_file_hint": "give a household JSON file, or '-' to read standard input",
        "not_utf8": "'{p}' is not UTF-8",
        "not_utf8_hint": "save the file as UTF-8",
        "bad_json": "{where}: not valid JSON: {what}",
        "bad_json_hint": "one household as a JSON object (data contract §1.4)",
    },
)

# the API's progress stages -> our labels
STAGES = {"read": "stage_read", "validate": "stage_validate", "classify": "stage_classify",
          "assemble": "stage_classify", "write": "stage_write"}


def out_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=False, highlight=False)


def err_console() -> Console:
    return Console(file=sys.stderr, stderr=True, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------------------------------------------
# the options several commands share, declared once

SURVEY = typer.Argument(..., metavar="SURVEY",
                        help="Survey: a folder with households/members(/communes) .csv or .parquet, an .xlsx "
                             "workbook, or a .jsonl file; several of them, or a folder of them (one per commune), are "
                             "read in order of their paths as one survey / Dữ liệu điều tra: một hoặc nhiều tệp, hoặc "
                             "một thư mục chứa tệp của từng xã.")
ON = typer.Option(None, "--on", metavar="DATE", help="Reference date, YYYY-MM-DD / Ngày tham chiếu.")
FOR_YEAR = typer.Option(None, "--for-year", metavar="YEAR",
                        help="Review for YEAR: the same as --on YEAR-01-01 / Rà soát cho năm.")
RULES = typer.Option(None, "--rules", metavar="FILE|DIR", help=RULES_HELP)
RAW_TEXT = typer.Option(False, "--raw-text",
                        help="CSV: text exactly as in the data (by default a text starting with =, +, -, @ gets a "
                             "leading ' so that a spreadsheet cannot run it) / CSV: ghi nguyên văn (mặc định thêm "
                             "dấu ' trước ô chữ bắt đầu bằng =, +, -, @).")

LABELS = typer.Option(False, "--labels",
                      help="CSV: the labelled view a workbook shows — headers and codes as a person reads them "
                           "(Vietnamese, or English with --lang en); by default CSV and Parquet hold the machine ids "
                           "and codes / CSV: tiêu đề và giá trị bằng chữ như trong tệp Excel.")
NO_BOM = typer.Option(False, "--no-bom",
                      help="CSV: leave out the UTF-8 byte-order mark that makes Excel read Vietnamese text "
                           "correctly (for tools that mind it) / CSV: không ghi dấu BOM đầu tệp.")


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


# --------------------------------------------------------------------------------------------------------------
# error handling: every TieuchiError is a message and an exit code, never a traceback


class Context:
    """What a command has read and decided so far: if tieuchi itself fails (a defect), the message names the input
    and the rejects already decided are still written."""

    def __init__(self):
        self.inputs: list[str] = []
        self.write_rejects: Callable[[], list[Path]] | None = None

    def reading(self, *paths) -> None:
        self.inputs += [str(p) for p in paths if p is not None]

    def decided(self, rejects, out: Optional[Path], fmt: str, lang: str, show_names: bool = False,
                raw_text: bool = False, how=None) -> None:
        if out is None:
            return

        def write() -> list[Path]:
            from tieuchi.contract.write import FORMATS, write_rejects  # lazy: keeps --help fast

            return write_rejects(rejects, out, fmt if fmt in FORMATS else "csv", lang, show_names, raw_text, how)

        self.write_rejects = write


def run(lang: str, body: Callable[[Context], int], reads_rules: bool = True) -> None:
    """Run a command's `body` (given a fresh `Context`) and exit with its code, or with the code of what went
    wrong: a TieuchiError is its message and exit code, an interruption 130, a defect of tieuchi `unexpected`.
    A command that `reads_rules` first warns when the installed rules are not the checkout's it runs in."""
    context = Context()
    if reads_rules:
        warn_stale_rules(lang)
    try:
        code = body(context)
    except TieuchiError as e:
        print_error(e, lang)
        code = e.exit_code
    except KeyboardInterrupt:
        err_console().print(text(T, "interrupted", lang), markup=False)
        code = 130
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - a defect of tieuchi: a contract exit code, what was read, what was kept
        code = unexpected(e, lang, context)
    raise typer.Exit(code)


def warn_stale_rules(lang: str) -> None:
    """Once per run, on stderr: tieuchi runs with the rules an install carries from inside a source checkout whose
    rules/ differ from them (a `pip install .` before a rule edit), naming both folders and the fix."""
    from tieuchi.rulebook.source import stale_rules  # lazy: keeps --help fast

    try:
        stale = stale_rules()
    except OSError:  # an unreadable file: nothing to compare, nothing to say
        return
    if stale is not None:
        installed, checkout = stale
        err_console().print(text(T, "stale_rules", lang, installed=installed, checkout=checkout,
                                 project=checkout.parent), style="yellow", markup=False)


def unexpected(e: Exception, lang: str, context: Context) -> int:
    """A defect, not a data problem: exit 2 (the input could not be processed) naming the input, the rejects
    already decided written; the traceback only with TIEUCHI_DEBUG=1."""
    if os.environ.get("TIEUCHI_DEBUG") == "1":
        traceback.print_exc()
    what = type(e).__name__  # not its text, which may quote the data (names): TIEUCHI_DEBUG=1 shows it all
    inputs = ", ".join(f"'{p}'" for p in context.inputs) or "—"
    err_console().print(text(T, "internal", lang, inputs=inputs, what=what), markup=False)
    if context.write_rejects is not None:
        try:
            paths = context.write_rejects()
            err_console().print(text(T, "internal_kept", lang, paths=", ".join(str(p) for p in paths)), markup=False)
        except Exception:  # noqa: BLE001 - nothing more can be saved
            pass
    return UsageError.exit_code


def print_error(e: TieuchiError, lang: str) -> None:
    """'Lỗi [code]: message' and '  → hint' on stderr, in `lang`."""
    console = err_console()
    code = escape(f" [{e.code}]") if e.code else ""
    console.print(f"[bold red]{text(T, 'error', lang)}{code}:[/] ", end="")
    message, hint = e.in_lang(lang)
    console.print(message, markup=False)
    if hint:
        console.print(f"  → {hint}", markup=False)


# --------------------------------------------------------------------------------------------------------------
# checking options before a long read


def choice(opt: str, value: str, choices: tuple[str, ...]) -> str:
    """The value of option `opt` (any case, spaces around), one of `choices`; else a usage error naming them."""
    v = value.strip().lower()
    if v not in choices:
        raise UsageError.from_table(T, "bad_choice", hint="bad_choice_hint", code="unknown_option_value", opt=opt,
                                    v=value, choices=", ".join(choices))
    return v


def reference_date(on: Optional[str], for_year: Optional[int]) -> dt.date:
    """--on DATE or --for-year YEAR (= YEAR-01-01); exactly one of them."""
    if on is None and for_year is None:
        raise UsageError.from_table(T, "need_date", hint="need_date_hint", code="date_missing")
    if on is not None and for_year is not None:
        raise UsageError.from_table(T, "both_dates", code="date_given_twice")
    if for_year is not None:
        if not 1900 <= for_year <= 2200:
            raise UsageError.from_table(T, "bad_year", hint="need_date_hint", code="year_invalid", v=for_year)
        return dt.date(for_year, 1, 1)
    from tieuchi.contract.ages import parse_day  # lazy: keeps --help fast (the module imports numpy)

    day = parse_day(on)
    if day is not None:
        return day
    raise UsageError.from_table(T, "bad_date", hint="bad_date_hint", code="date_invalid", v=on)


def guard_out(out: Path, names, survey, **inputs: Optional[Path]) -> None:
    """Before a long read: every survey path exists, and the output folder can take the files `names`, none of which
    is an input of this run (`survey`: one path or several; `inputs`: keys of tieuchi.contract.write.INPUT_LABELS)."""
    from tieuchi.contract.write import check_out, survey_inputs  # lazy: keeps --help fast

    check_out(out, names, survey_inputs(survey) + [(p, what) for what, p in inputs.items() if p is not None])


# --------------------------------------------------------------------------------------------------------------
# printing


def print_written(paths, lang: str) -> None:
    out_console().print(f"{text(T, 'written', lang)}: " + ", ".join(str(p) for p in paths), markup=False,
                        soft_wrap=True)


def rejected(rejects, n_households: int, path: Optional[Path], lang: str, show_names: bool = False,
             key: str = "rejected") -> int:
    """After a run with rejects: how many rows and households (message `key`), the first of them as a table and
    where the full list is; the exit code of rejected rows."""
    from tieuchi.contract.write import prepare_rejects  # lazy: keeps --help fast

    shown = prepare_rejects(rejects, lang, show_names)
    err_console().print(text(T, key, lang, n=len(shown), h=n_households), style="yellow", markup=False)
    show_rejects(shown, path, lang)
    return DataError.exit_code


def show_rejects(shown, path: Optional[Path], lang: str) -> None:
    """The rejects (as `prepare_rejects` gave them) on stderr: the first SCREEN_REJECTS root problems — the rows to
    fix, in file order — as a table, the rows rejected only because of another row (members of a rejected household,
    households of a rejected member) counted in one line, and where the full list is (`path`; None: nowhere).
    The table shows each reject's cell when the survey is a workbook; the message names the column as written."""
    import numpy as np  # lazy: keeps --help fast
    import pandas as pd  # lazy: keeps --help fast
    from tieuchi.contract.problems import CONSEQUENCES, table_label  # lazy: keeps --help fast

    def cell(v) -> str:
        return "" if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)) else str(v)

    console = err_console()
    follows = shown["problem"].isin(CONSEQUENCES).to_numpy(dtype=bool) if len(shown) else None
    roots = shown[~follows] if follows is not None and not follows.all() else shown
    k = min(SCREEN_REJECTS, len(roots))
    title = text(T, "rejects_first", lang, k=k, r=len(roots), n=len(shown), path=path) if path is not None else \
        text(T, "rejects_first_screen", lang, k=k, r=len(roots), n=len(shown))
    head = roots.head(SCREEN_REJECTS)
    found = head["cell"].notna().to_numpy(dtype=bool) if "cell" in head.columns else np.zeros(len(head), dtype=bool)
    where = (("row",) if not found.all() or not len(head) else ()) + (("cell",) if found.any() else ())
    rows = Table(title=title, title_justify="left")
    by_file = "file" in shown.columns  # several survey files: a row number is the row in its file
    files = short_names(shown["file"].dropna().unique()) if by_file else {}
    for key in (("file",) if by_file else ()) + ("table", *where, "household", "value", "problem"):
        rows.add_column(text(T, key, lang), overflow="fold")
    for rec in head.itertuples(index=False):
        member = cell(rec.member_no)
        who = cell(rec.household_id) + (f" #{member}" if member else "")
        at = [cell(rec.row) if w == "row" else cell(rec.cell) for w in where]  # a workbook's cell holds its row
        table_name = table_label(cell(rec.table), lang)
        value = cell(rec.value)
        if by_file and rec.problem == "household_id_in_several_files":  # the value names the files: shown short
            value = "; ".join(files.get(f, f) for f in value.split("; "))
        rows.add_row(*([files.get(rec.file, cell(rec.file))] if by_file else []), table_name, *at, who, value,
                     cell(rec.message) or cell(rec.problem))
    console.print(rows)
    if roots is not shown:
        counted = shown["problem"][follows].value_counts()
        what = [text(T, f"consequence_{t}", lang, n=int(counted[p]))
                for t, p in (("members", "household_rejected"), ("households", "member_rejected")) if p in counted]
        console.print(text(T, "consequences", lang, what=text(T, "and", lang).join(what)), markup=False)
    console.print(text(T, "rejects_file", lang, path=path) if path is not None else text(T, "rejects_no_file", lang),
                  markup=False)


def short_names(files) -> dict[str, str]:
    """Each survey file as the screen shows it: its path below the folder all the surveys share ("xa_a.xlsx",
    "xa_b/members.csv"); the rejects file has the path as given."""
    files = [str(f) for f in files]
    tables = {f"{t}.{ext}" for t in ("households", "members", "communes") for ext in ("csv", "parquet")}

    def survey(f: str) -> str:  # a table of a CSV / Parquet folder stands for its folder
        return os.path.dirname(f) if os.path.basename(f) in tables else f

    try:
        base = os.path.commonpath([os.path.dirname(survey(f)) or "." for f in files]) if files else ""
    except ValueError:  # absolute and relative paths mixed
        return {f: f for f in files}
    return {f: os.path.relpath(f, base) if base else f for f in files}


class Progress:
    """Progress on stderr: a rich progress bar on a terminal; elsewhere (a log, a pipe, a scheduled job) one line per
    stage as it starts, so that a long run is never silent. `__call__` is the API's progress callback."""

    def __init__(self, lang: str):
        self.lang = lang
        self.progress = None
        self.task = None
        self.start = time.monotonic()
        self.lines = False  # one line per stage (stderr is not a terminal)
        self.stage: str | None = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # lazy: keeps --help fast

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                     console=err_console(), transient=True)
            self.progress.__enter__()
            self.task = self.progress.add_task(text(T, "stage_read", self.lang), total=4)
        else:
            self.lines = True
            self.line("stage_read")
        return self

    def line(self, key: str) -> None:
        if key != self.stage:
            self.stage = key
            err_console().print(f"tieuchi: {text(T, key, self.lang)}…", markup=False)

    def __call__(self, stage: str, done: int, total: int) -> None:
        key = STAGES.get(stage)
        if key is None:  # "done" and any stage we do not know
            return
        if self.lines:
            self.line(key)
        if self.progress is None:
            return
        order = ["read", "validate", "classify", "write"]
        base = {"stage_read": 0, "stage_validate": 1, "stage_classify": 2, "stage_write": 3}[key]
        frac = done / total if total else 0
        self.progress.update(self.task, description=text(T, key, self.lang), completed=min(base + frac, len(order)))

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False
