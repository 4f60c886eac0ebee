"""`tieuchi test`: the YAML cases beside the rules, against the shipped rules or a candidate change (exit 4 when
a case fails)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from tieuchi.cli.common import CHECK_FORMATS, EXIT_CASES_FAILED, Context, app, choice, run
from tieuchi.cli.help import Command, examples
from tieuchi.i18n import LANGS, lang_or_default


@app.command("test", cls=Command, epilog=examples(
    "tieuchi test",
    "tieuchi test rules/poverty/vn_2022_2026/cases/water.yaml --lang en"))
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
    run(lang_or_default(lang), lambda context: _test(context, paths, rules, lang, fmt))


def _test(context: Context, paths: Optional[list[Path]], rules: Optional[Path], lang_opt: str, fmt_opt: str) -> int:
    from tieuchi.casework import runner  # lazy: keeps --help fast

    lang = choice("--lang", lang_opt, LANGS)
    fmt = choice("--format", fmt_opt, CHECK_FORMATS)
    context.reading(*(paths or []), rules)
    res = runner.run(list(paths) if paths else None, rules)
    if fmt == "json":
        sys.stdout.write(json.dumps(runner.to_json(res), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(runner.render_text(res, lang) + "\n")
    return 0 if res.ok else EXIT_CASES_FAILED
