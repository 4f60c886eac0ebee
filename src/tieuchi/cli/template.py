"""`tieuchi template`: an empty data-entry workbook that tieuchi reads back."""
from __future__ import annotations

from pathlib import Path

import typer

from tieuchi.cli.common import T, app, choice, out_console, run
from tieuchi.cli.help import Command, examples
from tieuchi.i18n import LANGS, lang_or_default, text


@app.command(cls=Command, epilog=examples(
    "tieuchi template --out phieu-ra-soat.xlsx"))
def template(
    out: Path = typer.Option(..., "--out", metavar="FILE.xlsx", help="Where to write the workbook."),
    lang: str = typer.Option("vi", "--lang", metavar="vi|en", help="Language of messages."),
    force: bool = typer.Option(False, "--force",
                               help="Replace FILE if it exists (it may be a filled-in survey) / Ghi đè tệp đã có."),
) -> None:
    """Write an empty data-entry workbook (Vietnamese headers, drop-down lists) that tieuchi reads back.

    Ghi mẫu nhập liệu Excel (tiêu đề tiếng Việt, danh sách chọn) mà tieuchi đọc lại được.
    """
    lg = lang_or_default(lang)

    def body(context) -> int:
        from tieuchi.contract.template import write_template  # lazy: keeps --help fast
        from tieuchi.contract.write import check_out_file  # lazy: keeps --help fast

        choice("--lang", lang, LANGS)
        path = write_template(check_out_file(out, force))
        out_console().print(text(T, "template_done", lg, path=path or out), markup=False)
        return 0

    run(lg, body, reads_rules=False)
